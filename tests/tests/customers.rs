//! Customers administered by their reseller, through the API on both backends: creating a
//! customer, changing its name and region, suspending and resuming it. Every write is read
//! back by each party it affects (the reseller's admin and staff, the customer's own admin and
//! users, the customer list, both audit chains) on the very next request, without a restart;
//! refusals are NOT_FOUND across trees and FORBIDDEN inside, and write nothing. A suspended
//! customer's users are refused by bearer token, by session and at sign-in until it is resumed.

use portico_store::TenantScope;
use portico_tests::{CO, NW, TestApp, TestDb, customer_id, on_both_backends, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PLATFORM: &str = "platform.localhost";
const FIELDS: &str = "id slug name region status suspended suspendedAt suspendedReason version";
const ME: &str = "{ viewer { user { email } tenant { slug name } regions } }";

fn create() -> String {
    format!(
        "mutation($input: CreateCustomerInput!) {{ createCustomer(input: $input) {{ customer {{ {FIELDS} }} }} }}"
    )
}

fn update() -> String {
    format!(
        "mutation($input: UpdateCustomerInput!) {{ updateCustomer(input: $input) {{ customer {{ {FIELDS} }} }} }}"
    )
}

fn suspend() -> String {
    format!(
        "mutation($input: SuspendCustomerInput!) {{ suspendCustomer(input: $input) {{ customer {{ {FIELDS} }} }} }}"
    )
}

fn resume() -> String {
    format!(
        "mutation($input: CustomerIdInput!) {{ resumeCustomer(input: $input) {{ customer {{ {FIELDS} }} }} }}"
    )
}

fn one_customer() -> String {
    format!("query($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}")
}

/// `customer(id)` as `who` on `host`: the customer, or `None` with the error code.
async fn customer_as(app: &TestApp, who: &str, host: &str, id: &str) -> Result<Value, String> {
    let r = app
        .as_user(who, host, &one_customer(), json!({ "id": id }))
        .await;
    match &r.body["data"]["customer"] {
        Value::Null => Err(r.first_code().unwrap_or("none").to_owned()),
        customer => Ok(customer.clone()),
    }
}

/// The customers `who` lists, by slug, with their status.
async fn listed(app: &TestApp, who: &str, host: &str) -> Vec<(String, String)> {
    let r = app
        .as_user(
            who,
            host,
            "{ customers(first: 100) { edges { node { slug name status } } } }",
            json!({}),
        )
        .await;
    r.body["data"]["customers"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|e| {
            (
                e["node"]["slug"].as_str().unwrap().to_owned(),
                e["node"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn audit_of(app: &TestApp, tenant_id: &str) -> Vec<portico_store::model::AuditEntry> {
    app.store
        .audit_entries(&TenantScope::single(tenant_id.to_owned()), tenant_id)
        .await
        .expect("audit entries")
}

/// The audit chain lengths of every demo tenant a refused write might have touched.
async fn chain_lengths(app: &TestApp) -> Vec<usize> {
    let mut out = Vec::new();
    for slug in [
        "platform",
        "northwind",
        "contoso",
        "alpine-dealers",
        "prairie-supply",
        "fjord-outfitters",
        "harbor-tools",
    ] {
        out.push(audit_of(app, &tenant(slug)).await.len());
    }
    out
}

fn raw_id(id: &Value) -> String {
    portico_resolvers::decode_id("Customer", id.as_str().expect("an id")).expect("a Customer id")
}

async fn a_reseller_admin_creates_a_customer_that_its_staff_read_back_on_the_next_request(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let nw_before = audit_of(&app, &tenant("northwind")).await.len();
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &create(),
            json!({ "input": { "slug": "lakeside-tools", "name": "  Lakeside Tools ", "region": "NA" } }),
        )
        .await;
    let created = r.body["data"]["createCustomer"]["customer"].clone();
    assert_eq!(created["slug"], "lakeside-tools", "{:?}", r.body);
    assert_eq!(created["name"], "Lakeside Tools", "the name is trimmed");
    assert_eq!(created["region"], "NA");
    assert_eq!(created["status"], "ACTIVE");
    assert_eq!(created["suspended"], false);
    assert_eq!(created["suspendedReason"], Value::Null);
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().unwrap().to_owned();

    // The very next request knows it: by id, through node, in the lists of the staff who
    // may see it (the NA rep, not the EU one), and not across the tree or to a sibling.
    assert_eq!(
        customer_as(&app, "admin@northwind.test", NW, &id).await,
        Ok(created.clone())
    );
    let node = app
        .as_user(
            "support@northwind.test",
            NW,
            "query($id: ID!) { node(id: $id) { ... on Customer { slug } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        node.body["data"]["node"]["slug"], "lakeside-tools",
        "{:?}",
        node.body
    );
    let lakeside = ("lakeside-tools".to_owned(), "ACTIVE".to_owned());
    assert!(
        listed(&app, "rep-na@northwind.test", NW)
            .await
            .contains(&lakeside)
    );
    assert!(
        !listed(&app, "rep-eu@northwind.test", NW)
            .await
            .contains(&lakeside)
    );
    assert!(
        listed(&app, "ops@platform.test", PLATFORM)
            .await
            .contains(&lakeside)
    );
    assert_eq!(
        customer_as(&app, "admin@contoso.test", CO, &id).await,
        Err("NOT_FOUND".into())
    );
    assert_eq!(
        customer_as(&app, "admin@alpine.test", NW, &id).await,
        Err("NOT_FOUND".into())
    );

    // Audited in the new customer's chain (its first row) and in the reseller's.
    let own = audit_of(&app, &raw_id(&created["id"])).await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].action, "customer.created");
    assert_eq!(own[0].actor_tenant, tenant("northwind"));
    assert!(
        own[0]
            .after_state
            .as_deref()
            .unwrap()
            .contains("lakeside-tools")
    );
    let nw = audit_of(&app, &tenant("northwind")).await;
    assert_eq!(nw.len(), nw_before + 1);
    assert_eq!(nw.last().unwrap().action, "customer.created");
    assert_eq!(nw.last().unwrap().target, own[0].target);

    // In a batch, the operations after the mutation see the new customer too.
    let batch = app
        .post_graphql(
            NW,
            &[(
                "authorization",
                &format!("Bearer {}", app.token_for("admin@northwind.test").await),
            )],
            &json!([
                { "query": create(), "variables": { "input": { "slug": "brook-supply", "name": "Brook Supply", "region": "EU" } } },
                { "query": "{ customers(first: 100) { edges { node { slug } } } }" }
            ]),
        )
        .await;
    let slugs: Vec<&str> = batch.body[1]["data"]["customers"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", batch.body))
        .iter()
        .map(|e| e["node"]["slug"].as_str().unwrap())
        .collect();
    assert!(slugs.contains(&"brook-supply"), "{slugs:?}");
}

async fn a_bad_slug_name_or_region_is_refused_by_name_and_writes_nothing(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = chain_lengths(&app).await;
    let customers_before = listed(&app, "admin@northwind.test", NW).await;
    for (slug, name, field, words) in [
        ("ab", "Short", "slug", "3 to 40"),
        ("Upper-Case", "Upper", "slug", "lower-case"),
        ("with space", "Space", "slug", "lower-case"),
        ("under_score", "Underscore", "slug", "lower-case"),
        ("accentué", "Accent", "slug", "lower-case"),
        (&"x".repeat(41), "Long", "slug", "3 to 40"),
        // Unique among all tenants, another reseller's customers and resellers included.
        ("alpine-dealers", "Twin", "slug", "already taken"),
        ("harbor-tools", "Twin", "slug", "already taken"),
        ("contoso", "Twin", "slug", "already taken"),
        ("fine-slug", "   ", "name", "1 to 200"),
        ("fine-slug", &"n".repeat(201), "name", "1 to 200"),
    ] {
        let r = app
            .as_user(
                "admin@northwind.test",
                NW,
                &create(),
                json!({ "input": { "slug": slug, "name": name, "region": "EU" } }),
            )
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{slug}: {:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field, "{slug}");
        let message = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(words), "{slug}: {message}");
    }
    // A region that is not one: refused before anything runs, naming the field.
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &create(),
            json!({ "input": { "slug": "fine-slug", "name": "Fine", "region": "MARS" } }),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"));
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("region"),
        "{:?}",
        r.body
    );
    // The same rules for a rename; a stale version names `expectedVersion`.
    let alpine = customer_id("alpine-dealers");
    for (input, field) in [
        (json!({ "id": alpine, "name": "" }), "name"),
        (
            json!({ "id": alpine, "name": "Alpine", "expectedVersion": 7 }),
            "expectedVersion",
        ),
    ] {
        let r = app
            .as_user(
                "admin@northwind.test",
                NW,
                &update(),
                json!({ "input": input }),
            )
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{input}: {:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field, "{input}");
    }
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &suspend(),
            json!({ "input": { "id": alpine, "reason": " " } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "reason");

    assert_eq!(chain_lengths(&app).await, before, "nothing audited");
    assert_eq!(
        listed(&app, "admin@northwind.test", NW).await,
        customers_before,
        "no customer created, none changed"
    );
    assert_eq!(
        customer_as(&app, "admin@northwind.test", NW, &alpine)
            .await
            .unwrap()["version"],
        1
    );
}

async fn an_update_is_read_back_by_the_reseller_the_customers_admin_and_users_and_both_chains(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let alpine = customer_id("alpine-dealers");
    let before = (
        audit_of(&app, &tenant("alpine-dealers")).await.len(),
        audit_of(&app, &tenant("northwind")).await.len(),
    );
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &update(),
            json!({ "input": { "id": alpine, "name": "Alpine Dealers AG", "expectedVersion": 1 } }),
        )
        .await;
    let changed = r.body["data"]["updateCustomer"]["customer"].clone();
    assert_eq!(changed["name"], "Alpine Dealers AG", "{:?}", r.body);
    assert_eq!(changed["region"], "EU", "unchanged when not given");
    assert_eq!(changed["version"], 2);

    // The customer's own admin reads the new record; its users see their tenant's new name.
    assert_eq!(
        customer_as(&app, "admin@alpine.test", NW, &alpine).await,
        Ok(changed.clone())
    );
    let me = app.as_user("buyer@alpine.test", NW, ME, json!({})).await;
    assert_eq!(
        me.body["data"]["viewer"]["tenant"]["name"], "Alpine Dealers AG",
        "{:?}",
        me.body
    );

    // A move to NA: the EU rep loses the customer, the NA rep gains it, and the customer's
    // users now act in NA (their regions come from their tenant).
    let alpine_eu = ("alpine-dealers".to_owned(), "ACTIVE".to_owned());
    assert!(
        listed(&app, "rep-eu@northwind.test", NW)
            .await
            .contains(&alpine_eu)
    );
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &update(),
            json!({ "input": { "id": alpine, "region": "NA", "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["updateCustomer"]["customer"]["region"], "NA",
        "{:?}",
        r.body
    );
    assert!(
        !listed(&app, "rep-eu@northwind.test", NW)
            .await
            .contains(&alpine_eu)
    );
    assert!(
        listed(&app, "rep-na@northwind.test", NW)
            .await
            .contains(&alpine_eu)
    );
    assert_eq!(
        customer_as(&app, "rep-eu@northwind.test", NW, &alpine).await,
        Err("NOT_FOUND".into())
    );
    let me = app.as_user("buyer@alpine.test", NW, ME, json!({})).await;
    assert_eq!(me.body["data"]["viewer"]["regions"], json!(["NA"]));

    // A change to nothing writes nothing; an old version is refused.
    let same = app
        .as_user(
            "admin@northwind.test",
            NW,
            &update(),
            json!({ "input": { "id": alpine, "name": "Alpine Dealers AG" } }),
        )
        .await;
    assert_eq!(
        same.body["data"]["updateCustomer"]["customer"]["version"],
        3
    );
    let stale = app
        .as_user(
            "admin@northwind.test",
            NW,
            &update(),
            json!({ "input": { "id": alpine, "name": "Stale", "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(
        stale.body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );

    // Both changes in both chains, with the states before and after.
    let own = audit_of(&app, &tenant("alpine-dealers")).await;
    let nw = audit_of(&app, &tenant("northwind")).await;
    assert_eq!((own.len(), nw.len()), (before.0 + 2, before.1 + 2));
    for log in [&own, &nw] {
        let rename = &log[log.len() - 2];
        assert_eq!(rename.action, "customer.updated");
        assert!(
            rename
                .before_state
                .as_deref()
                .unwrap()
                .contains("\"Alpine Dealers\"")
        );
        assert!(
            rename
                .after_state
                .as_deref()
                .unwrap()
                .contains("Alpine Dealers AG")
        );
        let moved = log.last().unwrap();
        assert!(moved.before_state.as_deref().unwrap().contains("\"EU\""));
        assert!(moved.after_state.as_deref().unwrap().contains("\"NA\""));
    }
}

async fn others_are_refused_not_found_across_trees_and_forbidden_inside_and_nothing_is_written(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let alpine = customer_id("alpine-dealers");
    let seen_before = customer_as(&app, "admin@northwind.test", NW, &alpine)
        .await
        .unwrap();
    let before = chain_lengths(&app).await;
    let rename = json!({ "input": { "id": alpine, "name": "Taken Over" } });
    let stop = json!({ "input": { "id": alpine, "reason": "because" } });
    let back = json!({ "input": { "id": alpine } });
    // (who, portal, what they get): every mutation on alpine answers the same.
    for (who, host, code) in [
        // Another reseller's admin, a sibling customer's admin, another tree's customer.
        ("admin@contoso.test", CO, "NOT_FOUND"),
        ("admin@prairie.test", NW, "NOT_FOUND"),
        ("admin@harbor.test", CO, "NOT_FOUND"),
        // The NA rep does not even see the EU customer; alpine's buyer does not read it.
        ("rep-na@northwind.test", NW, "NOT_FOUND"),
        ("buyer@alpine.test", NW, "NOT_FOUND"),
        // Inside: they see alpine but may not administer it.
        ("rep-eu@northwind.test", NW, "FORBIDDEN"),
        ("pricing@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("admin@alpine.test", NW, "FORBIDDEN"),
        ("ops@platform.test", PLATFORM, "FORBIDDEN"),
    ] {
        for (query, input) in [(update(), &rename), (suspend(), &stop), (resume(), &back)] {
            let r = app.as_user(who, host, &query, input.clone()).await;
            assert_eq!(r.first_code(), Some(code), "{who} {input}: {:?}", r.body);
            assert!(
                !r.body["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("alpine"),
                "no hint of the customer"
            );
        }
    }
    // Creating: reseller admins only, under their own reseller.
    for (who, host) in [
        ("pricing@northwind.test", NW),
        ("rep-eu@northwind.test", NW),
        ("support@northwind.test", NW),
        ("admin@alpine.test", NW),
        ("buyer@alpine.test", NW),
        ("ops@platform.test", PLATFORM),
    ] {
        let r = app
            .as_user(
                who,
                host,
                &create(),
                json!({ "input": { "slug": "not-mine", "name": "Not Mine", "region": "EU" } }),
            )
            .await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{who}: {:?}", r.body);
    }
    assert_eq!(
        chain_lengths(&app).await,
        before,
        "nothing audited anywhere"
    );
    assert_eq!(
        customer_as(&app, "admin@northwind.test", NW, &alpine).await,
        Ok(seen_before),
        "alpine is untouched"
    );
    assert!(
        !listed(&app, "admin@northwind.test", NW)
            .await
            .iter()
            .any(|(slug, _)| slug == "not-mine")
    );
}

async fn a_suspended_customers_users_are_refused_by_token_session_and_sign_in_until_it_is_resumed(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let alpine = customer_id("alpine-dealers");
    let token = format!("Bearer {}", app.token_for("buyer@alpine.test").await);
    let products = "{ products(first: 5) { edges { node { sku } } } }";
    let search = "{ search(query: \"drill\") { total } }";
    let session = app.browser();
    let signed_in = session
        .sign_in_with_demo_issuer(NW, "viewer@alpine.test")
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(
        session.viewer(NW).await.body["data"]["viewer"]["user"]["email"],
        "viewer@alpine.test"
    );
    let catalog_before = app.graphql_as(NW, &token, products).await;
    assert!(
        catalog_before.body["data"]["products"]["edges"][0]["node"]["sku"].is_string(),
        "{:?}",
        catalog_before.body
    );
    let before = (
        audit_of(&app, &tenant("alpine-dealers")).await.len(),
        audit_of(&app, &tenant("northwind")).await.len(),
    );

    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &suspend(),
            json!({ "input": { "id": alpine, "reason": "unpaid invoices" } }),
        )
        .await;
    let suspended = r.body["data"]["suspendCustomer"]["customer"].clone();
    assert_eq!(suspended["status"], "SUSPENDED", "{:?}", r.body);
    assert_eq!(suspended["suspended"], true);
    assert_eq!(suspended["suspendedReason"], "unpaid invoices");
    assert!(suspended["suspendedAt"].is_string());
    assert_eq!(suspended["version"], 2);

    // The very next request of each of alpine's users is refused, whatever it asks.
    let refused = |r: &portico_tests::GraphqlResponse, case: &str| {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{case}: {:?}", r.body);
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{case}");
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("customer account is suspended"),
            "{case}: {:?}",
            r.body
        );
        assert!(r.body.get("data").is_none(), "{case}: nothing of the data");
    };
    refused(&app.graphql_as(NW, &token, ME).await, "bearer viewer");
    refused(
        &app.graphql_as(NW, &token, products).await,
        "bearer catalog",
    );
    refused(&app.graphql_as(NW, &token, search).await, "bearer search");
    refused(
        &app.as_user(
            "admin@alpine.test",
            NW,
            &one_customer(),
            json!({ "id": alpine }),
        )
        .await,
        "the customer's own admin",
    );
    refused(&session.viewer(NW).await, "session");
    refused(
        &session.graphql(NW, products, None, true).await,
        "session catalog",
    );
    let get = app
        .client
        .get(format!(
            "{}/graphql?query={{viewer{{user{{email}}}}}}",
            app.address
        ))
        .header("host", NW)
        .header("authorization", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), StatusCode::FORBIDDEN, "GET too");

    // Signing in is refused with a page that says why.
    let other = app.browser();
    let page = other
        .sign_in_with_demo_issuer(NW, "admin@alpine.test")
        .await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let html = page.text().await.unwrap();
    assert!(html.contains("Organisation suspended"), "{html}");
    assert!(html.contains("organisation is suspended"), "{html}");

    // Other customers are untouched; the reseller's staff still see alpine, as suspended.
    let prairie = app.as_user("buyer@prairie.test", NW, ME, json!({})).await;
    assert_eq!(
        prairie.body["data"]["viewer"]["user"]["email"],
        "buyer@prairie.test"
    );
    let alpine_suspended = ("alpine-dealers".to_owned(), "SUSPENDED".to_owned());
    for who in [
        "admin@northwind.test",
        "support@northwind.test",
        "rep-eu@northwind.test",
    ] {
        assert!(
            listed(&app, who, NW).await.contains(&alpine_suspended),
            "{who}"
        );
    }
    assert_eq!(
        customer_as(&app, "support@northwind.test", NW, &alpine)
            .await
            .unwrap()["suspendedReason"],
        "unpaid invoices"
    );

    // Suspending again changes nothing (the first reason stays, no audit row).
    let again = app
        .as_user(
            "admin@northwind.test",
            NW,
            &suspend(),
            json!({ "input": { "id": alpine, "reason": "another reason" } }),
        )
        .await;
    assert_eq!(
        again.body["data"]["suspendCustomer"]["customer"], suspended,
        "{:?}",
        again.body
    );

    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &resume(),
            json!({ "input": { "id": alpine } }),
        )
        .await;
    let resumed = r.body["data"]["resumeCustomer"]["customer"].clone();
    assert_eq!(resumed["status"], "ACTIVE", "{:?}", r.body);
    assert_eq!(resumed["suspended"], false);
    assert_eq!(resumed["suspendedReason"], Value::Null);
    assert_eq!(resumed["suspendedAt"], Value::Null);
    assert_eq!(resumed["version"], 3);

    // Access works again at once: the same token, the same session, the catalog, sign-in.
    assert_eq!(
        app.graphql_as(NW, &token, ME).await.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
    assert_eq!(
        app.graphql_as(NW, &token, products).await.body,
        catalog_before.body
    );
    assert_eq!(
        session.viewer(NW).await.body["data"]["viewer"]["user"]["email"],
        "viewer@alpine.test"
    );
    assert_eq!(
        other
            .sign_in_with_demo_issuer(NW, "admin@alpine.test")
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        customer_as(&app, "admin@alpine.test", NW, &alpine).await,
        Ok(resumed)
    );

    // Suspension and resumption, each once, in both chains.
    let own = audit_of(&app, &tenant("alpine-dealers")).await;
    let nw = audit_of(&app, &tenant("northwind")).await;
    assert_eq!((own.len(), nw.len()), (before.0 + 2, before.1 + 2));
    for log in [&own, &nw] {
        let stop = &log[log.len() - 2];
        assert_eq!(stop.action, "customer.suspended");
        assert!(
            stop.after_state
                .as_deref()
                .unwrap()
                .contains("unpaid invoices")
        );
        assert_eq!(log.last().unwrap().action, "customer.resumed");
        assert_eq!(log.last().unwrap().actor_tenant, tenant("northwind"));
    }
}

async fn a_customer_suspended_or_renamed_by_hand_in_sql_is_seen_by_the_next_request(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = format!("Bearer {}", app.token_for("buyer@prairie.test").await);
    assert_eq!(
        app.graphql_as(NW, &token, ME).await.body["data"]["viewer"]["user"]["email"],
        "buyer@prairie.test"
    );
    // An operator, below the application: the directory's version moves all the same.
    app.sql_by_hand(
        "UPDATE tenants SET suspended_at = created_at, suspended_reason = $1 WHERE id = $2",
        &["by hand", &tenant("prairie-supply")],
    )
    .await;
    assert_eq!(
        app.graphql_as(NW, &token, ME).await.status,
        StatusCode::FORBIDDEN
    );
    app.sql_by_hand(
        "UPDATE tenants SET suspended_at = NULL, suspended_reason = NULL, name = $1 WHERE id = $2",
        &["Prairie Supply Co", &tenant("prairie-supply")],
    )
    .await;
    let me = app.graphql_as(NW, &token, ME).await;
    assert_eq!(
        me.body["data"]["viewer"]["tenant"]["name"], "Prairie Supply Co",
        "{:?}",
        me.body
    );
}

async fn a_new_customers_first_admin_is_invited_with_it_or_nothing_is_written(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let input = |email: &str| {
        json!({ "input": { "slug": "lakeside-tools", "name": "Lakeside Tools", "region": "NA",
                           "firstAdmin": { "email": email, "name": "Lee Owner" } } })
    };
    // A bad first admin refuses the whole creation.
    let bad = app
        .as_user("admin@northwind.test", NW, &create(), input("not an email"))
        .await;
    assert_eq!(bad.first_code(), Some("BAD_USER_INPUT"), "{:?}", bad.body);
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "email");
    let directory = app.store.load_directory().await.unwrap();
    assert!(
        directory.tenant_by_slug("lakeside-tools").is_none(),
        "no customer"
    );

    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            &create(),
            input("owner@lakeside.test"),
        )
        .await;
    assert_eq!(
        r.body["data"]["createCustomer"]["customer"]["slug"], "lakeside-tools",
        "{:?}",
        r.body
    );
    let owner = app.user("owner@lakeside.test").await;
    assert_eq!(owner.status(), portico_store::model::UserStatus::Invited);
    let directory = app.store.load_directory().await.unwrap();
    let lakeside = directory
        .tenant_by_slug("lakeside-tools")
        .unwrap()
        .id
        .clone();
    assert_eq!(owner.tenant_id, lakeside);
    let roles = app
        .store
        .managed_user(&TenantScope::single(lakeside.clone()), &owner.id)
        .await
        .unwrap()
        .unwrap()
        .roles;
    assert_eq!(
        roles.iter().map(|a| a.role).collect::<Vec<_>>(),
        [portico_store::model::Role::CustomerAdmin]
    );
    let log = app
        .store
        .audit_entries(&TenantScope::single(lakeside.clone()), &lakeside)
        .await
        .unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["customer.created", "user.invited"]);
    assert_eq!(log[1].actor, app.user("admin@northwind.test").await.id);
}

on_both_backends!(
    a_new_customers_first_admin_is_invited_with_it_or_nothing_is_written,
    a_reseller_admin_creates_a_customer_that_its_staff_read_back_on_the_next_request,
    a_bad_slug_name_or_region_is_refused_by_name_and_writes_nothing,
    an_update_is_read_back_by_the_reseller_the_customers_admin_and_users_and_both_chains,
    others_are_refused_not_found_across_trees_and_forbidden_inside_and_nothing_is_written,
    a_suspended_customers_users_are_refused_by_token_session_and_sign_in_until_it_is_resumed,
    a_customer_suspended_or_renamed_by_hand_in_sql_is_seen_by_the_next_request,
);
