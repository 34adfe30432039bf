//! `auditLog` through the API, on both backends: a tenant's admins read its chain, with what
//! its reseller did there; the reseller's staff read a customer's only while it delegates
//! SUPPORT_READONLY; inside the tree a refusal is FORBIDDEN, across it NOT_FOUND, whatever the
//! id; filters and pages walk the log newest first.

use portico_resolvers::encode_id;
use portico_store::seed::demo_id;
use portico_store::{AUDIT_GENESIS, TenantScope};
use portico_tests::{
    CO, GraphqlResponse, NW, TestApp, TestDb, customer_id, on_both_backends, tenant, turbine,
};
use serde_json::{Value, json};

const LOG: &str = "query($tenant: ID, $first: Int, $after: String, $filter: AuditFilter) {
  auditLog(tenantId: $tenant, first: $first, after: $after, filter: $filter) {
    edges { cursor node { seq actor actorTenant { slug } action target before after reason at prevHash hash } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";
const REQUEST: &str = "mutation($input: RequestDelegationInput!) { requestDelegation(input: $input) { delegation { id status } } }";
const APPROVE: &str =
    "mutation($id: ID!) { approveDelegation(input: { id: $id }) { delegation { status } } }";
const REVOKE: &str =
    "mutation($id: ID!) { revokeDelegation(input: { id: $id }) { delegation { status } } }";
const UPDATE: &str = "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { version } } }";
const SET_CONTRACT: &str = "mutation($input: SetContractPriceInput!) { setContractPrice(input: $input) { customer { name } } }";

fn tenant_id(slug: &str) -> String {
    encode_id("Tenant", &tenant(slug)).to_string()
}

async fn log(app: &TestApp, email: &str, host: &str, variables: Value) -> GraphqlResponse {
    app.as_user(email, host, LOG, variables).await
}

/// The log's rows of one answer, failing with the answer when there are none to read.
fn rows(r: &GraphqlResponse) -> Vec<Value> {
    r.body["data"]["auditLog"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no log: {:?}", r.body))
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// northwind's admin asks `slug` for `scopes`: the delegation's id.
async fn request(app: &TestApp, slug: &str, scopes: Value) -> String {
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            REQUEST,
            json!({ "input": { "customerId": customer_id(slug), "scopes": scopes } }),
        )
        .await;
    r.body["data"]["requestDelegation"]["delegation"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .to_owned()
}

async fn a_customer_admin_reads_its_own_log_with_what_its_reseller_did_there(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let delegation = request(&app, "alpine-dealers", json!(["SUPPORT_READONLY"])).await;
    let approved = app
        .as_user(
            "admin@alpine.test",
            NW,
            APPROVE,
            json!({ "id": delegation }),
        )
        .await;
    assert_eq!(
        approved.body["data"]["approveDelegation"]["delegation"]["status"], "ACTIVE",
        "{:?}",
        approved.body
    );

    let own = log(&app, "admin@alpine.test", NW, json!({})).await;
    let entries = rows(&own);
    assert_eq!(entries.len(), 2, "{:?}", own.body);
    let (approval, asked) = (&entries[0], &entries[1]);
    // Newest first: the customer's approval, then the reseller's request, written in the
    // customer's chain with the reseller's admin as the actor.
    assert_eq!(approval["seq"], 2);
    assert_eq!(approval["action"], "delegation.approved");
    assert_eq!(approval["actor"], demo_id("user", "admin@alpine.test"));
    assert_eq!(approval["actorTenant"]["slug"], "alpine-dealers");
    let state = |v: &Value| -> Value { serde_json::from_str(v.as_str().unwrap()).unwrap() };
    assert_eq!(state(&approval["before"])["status"], "PENDING");
    assert_eq!(state(&approval["after"])["status"], "ACTIVE");
    assert_eq!(asked["seq"], 1);
    assert_eq!(asked["action"], "delegation.requested");
    assert_eq!(asked["actor"], demo_id("user", "admin@northwind.test"));
    assert_eq!(asked["actorTenant"]["slug"], "northwind");
    assert_eq!(asked["before"], Value::Null);
    assert_eq!(
        asked["reason"],
        "reseller admins ask their own customers for delegations"
    );
    assert_eq!(
        asked["target"],
        format!(
            "delegation:{}",
            portico_resolvers::decode_id("Delegation", &delegation).unwrap()
        )
    );
    // The chain as the store recorded it: linked from the genesis value, verifiable.
    assert_eq!(asked["prevHash"], AUDIT_GENESIS);
    assert_eq!(approval["prevHash"], asked["hash"]);
    let alpine = tenant("alpine-dealers");
    let stored = app
        .store
        .audit_entries(&TenantScope::single(alpine.clone()), &alpine)
        .await
        .unwrap();
    assert_eq!(
        stored
            .iter()
            .rev()
            .map(|e| e.hash.as_str())
            .collect::<Vec<_>>(),
        entries
            .iter()
            .map(|e| e["hash"].as_str().unwrap())
            .collect::<Vec<_>>()
    );

    // Its own tenant named explicitly, by Tenant id or by Customer id, is the same log.
    for id in [tenant_id("alpine-dealers"), customer_id("alpine-dealers")] {
        let named = log(&app, "admin@alpine.test", NW, json!({ "tenant": id })).await;
        assert_eq!(rows(&named), entries, "{id}");
    }
    // northwind's own log holds none of it: those rows are the customer's.
    let reseller = log(&app, "admin@northwind.test", NW, json!({})).await;
    assert_eq!(rows(&reseller), Vec::<Value>::new());
}

async fn a_reseller_admin_reads_its_own_log_of_listing_and_contract_price_changes(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (product, version) = turbine(&app).await;
    let renamed = app
        .as_user(
            "pricing@northwind.test",
            NW,
            UPDATE,
            json!({ "input": { "id": product, "expectedVersion": version, "name": "Northwind Turbine Pro" } }),
        )
        .await;
    assert!(renamed.body["errors"].is_null(), "{:?}", renamed.body);
    let priced = app
        .as_user(
            "admin@northwind.test",
            NW,
            SET_CONTRACT,
            json!({ "input": { "customerId": customer_id("prairie-supply"), "productId": product, "amount": "1234.50", "currency": "USD" } }),
        )
        .await;
    assert!(priced.body["errors"].is_null(), "{:?}", priced.body);

    let r = log(&app, "admin@northwind.test", NW, json!({})).await;
    let entries = rows(&r);
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["contract_price.set", "listing.updated"],
        "{:?}",
        r.body
    );
    assert_eq!(
        entries[1]["actor"],
        demo_id("user", "pricing@northwind.test")
    );
    assert!(
        entries[1]["after"]
            .as_str()
            .unwrap()
            .contains("Northwind Turbine Pro"),
        "{:?}",
        entries[1]
    );
    // The reseller's commercial business is its own: the customer's log does not show it, and
    // its pricing manager (not an admin) may not read the reseller's log.
    let prairie = log(&app, "admin@prairie.test", NW, json!({})).await;
    assert_eq!(rows(&prairie), Vec::<Value>::new());
    let pricing = log(&app, "pricing@northwind.test", NW, json!({})).await;
    assert_eq!(
        pricing.first_code(),
        Some("FORBIDDEN"),
        "{:?}",
        pricing.body
    );
}

async fn a_buyer_of_the_same_customer_is_forbidden_and_anonymous_callers_must_sign_in(db: TestDb) {
    let app = TestApp::spawn(db).await;
    request(&app, "alpine-dealers", json!(["USER_ADMIN"])).await;
    for email in ["buyer@alpine.test", "viewer@alpine.test"] {
        for variables in [json!({}), json!({ "tenant": tenant_id("alpine-dealers") })] {
            let r = log(&app, email, NW, variables).await;
            assert_eq!(r.first_code(), Some("FORBIDDEN"), "{email}: {:?}", r.body);
            assert_eq!(r.body["data"], Value::Null, "the connection is non-null");
        }
    }
    let anonymous = app.graphql(NW, "{ auditLog { edges { cursor } } }").await;
    assert_eq!(
        anonymous.first_code(),
        Some("UNAUTHENTICATED"),
        "{:?}",
        anonymous.body
    );
}

async fn another_resellers_admin_and_a_sibling_customers_admin_get_not_found_for_that_tenant(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    request(&app, "alpine-dealers", json!(["USER_ADMIN"])).await;
    let unknown = encode_id("Tenant", "00000000-0000-0000-0000-000000000000").to_string();
    let mut messages = Vec::new();
    for (email, host, id) in [
        ("admin@contoso.test", CO, tenant_id("alpine-dealers")),
        ("admin@contoso.test", CO, customer_id("alpine-dealers")),
        ("admin@harbor.test", CO, tenant_id("alpine-dealers")),
        ("admin@fjord.test", NW, tenant_id("alpine-dealers")),
        ("admin@fjord.test", NW, customer_id("alpine-dealers")),
        ("admin@prairie.test", NW, tenant_id("northwind-nope")),
        ("admin@alpine.test", NW, tenant_id("contoso")),
        ("admin@northwind.test", NW, tenant_id("harbor-tools")),
        ("admin@northwind.test", NW, tenant_id("platform")),
        // A sales rep sees only the customers of its regions.
        ("rep-eu@northwind.test", NW, tenant_id("prairie-supply")),
        ("admin@alpine.test", NW, unknown.clone()),
        ("admin@alpine.test", NW, "not an id".to_owned()),
        (
            "admin@alpine.test",
            NW,
            encode_id("Product", &tenant("alpine-dealers")).to_string(),
        ),
    ] {
        let r = log(&app, email, host, json!({ "tenant": id })).await;
        assert_eq!(
            r.first_code(),
            Some("NOT_FOUND"),
            "{email} {id}: {:?}",
            r.body
        );
        assert_eq!(r.body["data"], Value::Null);
        messages.push(r.body["errors"][0]["message"].clone());
    }
    messages.dedup();
    assert_eq!(
        messages,
        [json!("tenant not found")],
        "one answer, whether the tenant exists elsewhere or not at all"
    );
    // Seen but not readable is FORBIDDEN: the customer's reseller without SUPPORT_READONLY,
    // a customer asking for its reseller's log, the platform's admins without a support window
    // (tests/tests/support_windows.rs opens one).
    for (email, host, slug) in [
        ("admin@northwind.test", NW, "alpine-dealers"),
        ("admin@alpine.test", NW, "northwind"),
        ("ops@platform.test", "platform.localhost", "alpine-dealers"),
        ("ops@platform.test", "platform.localhost", "northwind"),
    ] {
        let r = log(&app, email, host, json!({ "tenant": tenant_id(slug) })).await;
        assert_eq!(
            r.first_code(),
            Some("FORBIDDEN"),
            "{email} {slug}: {:?}",
            r.body
        );
    }
}

async fn a_resellers_staff_read_a_customers_log_only_while_it_delegates_support_readonly(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    // A row in each customer's chain: northwind's admin asks both.
    request(&app, "prairie-supply", json!(["SETTINGS_ADMIN"])).await;
    request(&app, "alpine-dealers", json!(["SETTINGS_ADMIN"])).await;

    // prairie delegates SUPPORT_READONLY (demo data): its log is open to northwind's admins
    // and support, by Tenant id or by the Customer id from `customers`.
    for email in ["admin@northwind.test", "support@northwind.test"] {
        for id in [tenant_id("prairie-supply"), customer_id("prairie-supply")] {
            let r = log(&app, email, NW, json!({ "tenant": id })).await;
            let entries = rows(&r);
            assert_eq!(entries.len(), 1, "{email}: {:?}", r.body);
            assert_eq!(entries[0]["action"], "delegation.requested");
        }
    }
    // ... not to its other staff, and alpine (USER_ADMIN, SETTINGS_ADMIN only) is closed.
    for (email, slug) in [
        ("pricing@northwind.test", "prairie-supply"),
        ("rep-na@northwind.test", "prairie-supply"),
        ("admin@northwind.test", "alpine-dealers"),
        ("support@northwind.test", "alpine-dealers"),
    ] {
        let r = log(&app, email, NW, json!({ "tenant": tenant_id(slug) })).await;
        assert_eq!(
            r.first_code(),
            Some("FORBIDDEN"),
            "{email} {slug}: {:?}",
            r.body
        );
    }

    // prairie takes SUPPORT_READONLY back: closed at once, and the revocation is in its log.
    let list = app
        .as_user(
            "admin@prairie.test",
            NW,
            "{ delegations { id status scopes } }",
            json!({}),
        )
        .await;
    let support_readonly = list.body["data"]["delegations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["status"] == "ACTIVE" && d["scopes"] == json!(["SUPPORT_READONLY"]))
        .unwrap_or_else(|| panic!("{:?}", list.body))["id"]
        .clone();
    let revoked = app
        .as_user(
            "admin@prairie.test",
            NW,
            REVOKE,
            json!({ "id": support_readonly }),
        )
        .await;
    assert_eq!(
        revoked.body["data"]["revokeDelegation"]["delegation"]["status"],
        "REVOKED"
    );
    for email in ["admin@northwind.test", "support@northwind.test"] {
        let r = log(
            &app,
            email,
            NW,
            json!({ "tenant": tenant_id("prairie-supply") }),
        )
        .await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{email}: {:?}", r.body);
    }
    let own = log(&app, "admin@prairie.test", NW, json!({})).await;
    assert_eq!(rows(&own)[0]["action"], "delegation.revoked");
}

async fn filters_and_pages_walk_the_log_newest_first(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (product, mut version) = turbine(&app).await;
    // Six rows in northwind's chain: four renames by two people, two contract prices.
    for (i, email) in [
        "pricing@northwind.test",
        "admin@northwind.test",
        "pricing@northwind.test",
        "admin@northwind.test",
    ]
    .into_iter()
    .enumerate()
    {
        let r = app
            .as_user(
                email,
                NW,
                UPDATE,
                json!({ "input": { "id": product, "expectedVersion": version, "name": format!("Turbine {i}") } }),
            )
            .await;
        version = r.body["data"]["updateListing"]["product"]["version"]
            .as_i64()
            .unwrap_or_else(|| panic!("{:?}", r.body));
    }
    for slug in ["prairie-supply", "alpine-dealers"] {
        let currency = if slug == "prairie-supply" {
            "USD"
        } else {
            "EUR"
        };
        let r = app
            .as_user(
                "admin@northwind.test",
                NW,
                SET_CONTRACT,
                json!({ "input": { "customerId": customer_id(slug), "productId": product, "amount": "10.00", "currency": currency } }),
            )
            .await;
        assert!(r.body["errors"].is_null(), "{:?}", r.body);
    }
    let admin = |variables| log(&app, "admin@northwind.test", NW, variables);
    let all = rows(&admin(json!({})).await);
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [6, 5, 4, 3, 2, 1]);

    // Pages of two: every row once, newest first, then no next page.
    let mut walked = Vec::new();
    let mut after = Value::Null;
    for page in 0..3 {
        let r = admin(json!({ "first": 2, "after": after })).await;
        let info = &r.body["data"]["auditLog"]["pageInfo"];
        assert_eq!(info["hasNextPage"], page < 2, "page {page}: {:?}", r.body);
        assert_eq!(info["hasPreviousPage"], page > 0);
        walked.extend(rows(&r));
        after = info["endCursor"].clone();
    }
    assert_eq!(walked, all);
    let past_the_end = admin(json!({ "first": 2, "after": after })).await;
    assert_eq!(rows(&past_the_end), Vec::<Value>::new());
    assert_eq!(
        past_the_end.body["data"]["auditLog"]["pageInfo"]["hasNextPage"],
        false
    );

    // Each filter, and all of them together.
    let pricing = demo_id("user", "pricing@northwind.test");
    let by_actor = rows(&admin(json!({ "filter": { "actor": pricing } })).await);
    assert_eq!(
        by_actor.iter().map(|e| &e["seq"]).collect::<Vec<_>>(),
        [3, 1]
    );
    let by_action = rows(&admin(json!({ "filter": { "action": "contract_price.set" } })).await);
    assert_eq!(
        by_action.iter().map(|e| &e["seq"]).collect::<Vec<_>>(),
        [6, 5]
    );
    let target = all[0]["target"].clone();
    let by_target = rows(&admin(json!({ "filter": { "target": target } })).await);
    assert_eq!(by_target.iter().map(|e| &e["seq"]).collect::<Vec<_>>(), [6]);
    let middle = all[2]["at"].clone(); // seq 4
    let since = rows(&admin(json!({ "filter": { "since": middle } })).await);
    assert_eq!(
        since.iter().map(|e| &e["seq"]).collect::<Vec<_>>(),
        [6, 5, 4],
        "since is inclusive"
    );
    let until = rows(&admin(json!({ "filter": { "until": middle } })).await);
    assert_eq!(
        until.iter().map(|e| &e["seq"]).collect::<Vec<_>>(),
        [3, 2, 1],
        "until is exclusive"
    );
    let together = rows(
        &admin(json!({ "first": 1, "filter": { "actor": pricing, "action": "listing.updated", "until": middle, "since": all[5]["at"], "target": "" } }))
            .await,
    );
    assert_eq!(together.iter().map(|e| &e["seq"]).collect::<Vec<_>>(), [3]);

    // Bad arguments name themselves.
    for (variables, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "first": -1 }), "first"),
        (json!({ "after": "bm90IGEgY3Vyc29y" }), "after"),
        (
            json!({ "filter": { "since": middle, "until": middle } }),
            "filter.until",
        ),
    ] {
        let r = admin(variables.clone()).await;
        assert_eq!(r.first_code(), Some("BAD_USER_INPUT"), "{variables}");
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field);
    }
}

async fn a_page_of_the_log_costs_its_size_like_other_connections(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let page = |n: usize| {
        (0..n)
            .map(|i| format!("p{i}: auditLog(first: 100) {{ edges {{ node {{ seq hash }} }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let one = app
        .as_user(
            "admin@northwind.test",
            NW,
            &format!("{{ {} }}", page(1)),
            json!({}),
        )
        .await;
    assert!(one.body["errors"].is_null(), "{:?}", one.body);
    let many = app
        .as_user(
            "admin@northwind.test",
            NW,
            &format!("{{ {} }}", page(13)),
            json!({}),
        )
        .await;
    assert_eq!(
        many.first_code(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        many.body
    );
}

on_both_backends!(
    a_customer_admin_reads_its_own_log_with_what_its_reseller_did_there,
    a_reseller_admin_reads_its_own_log_of_listing_and_contract_price_changes,
    a_buyer_of_the_same_customer_is_forbidden_and_anonymous_callers_must_sign_in,
    another_resellers_admin_and_a_sibling_customers_admin_get_not_found_for_that_tenant,
    a_resellers_staff_read_a_customers_log_only_while_it_delegates_support_readonly,
    filters_and_pages_walk_the_log_newest_first,
    a_page_of_the_log_costs_its_size_like_other_connections,
);
