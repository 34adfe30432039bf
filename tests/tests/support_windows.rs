//! Support windows through the API, on both backends: platform staff see the directory and
//! nothing inside a tenant until they open a time-bound, read-only window with a reason; the
//! window is theirs alone, ends on time or when they end it, is written in the tenant's audit
//! log and the platform's, and is seen by the tenant's admins. Every write is read back by each
//! party; every refusal is shown to write nothing.

use chrono::{Duration, Utc};
use portico_resolvers::encode_id;
use portico_store::model::{NewAuditEntry, Role, SupportWindow};
use portico_store::{NewInvitation, RoleSet, SupportRequest, TenantScope};
use portico_tests::{NW, TestApp, TestDb, customer_id, on_both_backends, tenant, turbine};
use serde_json::{Value, json};

const PL: &str = "platform.localhost";
const OPS: &str = "ops@platform.test";

const BEGIN: &str = "mutation($input: BeginSupportAccessInput!) { beginSupportAccess(input: $input) { supportWindow { id tenant { slug } openedBy reason openedAt endsAt endedAt open } } }";
const END: &str = "mutation($input: EndSupportAccessInput!) { endSupportAccess(input: $input) { supportWindow { id reason endedAt open } } }";
const WINDOWS: &str =
    "query($t: ID) { supportWindows(tenantId: $t) { id tenant { slug } openedBy reason open } }";
const CATALOG: &str = "query($t: ID) { products(tenantId: $t, first: 100, filter: { brand: \"Northwind\" }) { edges { node { sku status listPrice { amount currency } costPrice { amount currency } } } } }";
const TENANT_USERS: &str = "query($id: ID!) { node(id: $id) { ... on Tenant { slug users(first: 50) { edges { node { email } } } } } }";
const CUSTOMER: &str = "query($id: ID!) { customer(id: $id) { name region users { email } contractPrices { sku amount { amount currency } } } }";
const AUDIT: &str = "query($t: ID) { auditLog(tenantId: $t, first: 50) { edges { node { action actor target reason } } } }";

fn tenant_id(slug: &str) -> String {
    encode_id("Tenant", &tenant(slug)).to_string()
}

fn begin_input(id: &str, reason: &str, minutes: i64) -> Value {
    json!({ "input": { "tenantId": id, "reason": reason, "minutes": minutes } })
}

/// Every support window in the database, whoever opened it.
async fn all_windows(app: &TestApp) -> Vec<SupportWindow> {
    let all = app.store.load_directory().await.unwrap().scope_of_all();
    app.store.support_windows(&all).await.unwrap()
}

async fn chain_len(app: &TestApp, slug: &str) -> usize {
    let id = tenant(slug);
    app.store
        .audit_entries(&TenantScope::single(id.clone()), &id)
        .await
        .unwrap()
        .len()
}

/// The audit rows of northwind, alpine and the platform, and the windows: what a refusal must
/// leave as it was.
async fn written(app: &TestApp) -> (usize, usize, usize, usize) {
    (
        chain_len(app, "northwind").await,
        chain_len(app, "alpine-dealers").await,
        chain_len(app, "platform").await,
        all_windows(app).await.len(),
    )
}

fn skus(r: &Value) -> Vec<String> {
    r["data"]["products"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{r}"))
        .iter()
        .map(|e| e["node"]["sku"].as_str().unwrap().to_owned())
        .collect()
}

fn emails(users: &Value) -> Vec<String> {
    users
        .as_array()
        .unwrap_or_else(|| panic!("{users}"))
        .iter()
        .map(|u| {
            u["node"]
                .get("email")
                .unwrap_or(&u["email"])
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn masked(r: &Value, path: &[&str]) -> bool {
    r["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|e| e["extensions"]["code"] == "FIELD_MASKED" && e["path"] == json!(path))
}

/// Opens a window through the API as `email`; the window's node.
async fn begin(app: &TestApp, email: &str, slug_id: &str, reason: &str) -> Value {
    let r = app
        .as_user(email, PL, BEGIN, begin_input(slug_id, reason, 30))
        .await;
    let w = r.body["data"]["beginSupportAccess"]["supportWindow"].clone();
    assert!(w.is_object(), "{:?}", r.body);
    w
}

/// What the platform admin reads of northwind: (catalog skus, northwind's users, audit code).
async fn northwind_as(app: &TestApp, email: &str) -> (Vec<String>, Value, Option<String>) {
    let catalog = app
        .as_user(email, PL, CATALOG, json!({ "t": tenant_id("northwind") }))
        .await;
    assert!(catalog.body["errors"].is_null(), "{:?}", catalog.body);
    let users = app
        .as_user(
            email,
            PL,
            TENANT_USERS,
            json!({ "id": tenant_id("northwind") }),
        )
        .await;
    let audit = app
        .as_user(email, PL, AUDIT, json!({ "t": tenant_id("northwind") }))
        .await;
    (
        skus(&catalog.body),
        users.body,
        audit.first_code().map(str::to_owned),
    )
}

/// A second platform admin, made through the store: invited, then bound to an identity of the
/// demo issuer as a first sign-in would.
async fn second_platform_admin(app: &TestApp) -> String {
    let platform = tenant("platform");
    let scope = TenantScope::single(platform.clone());
    let ops = app.user(OPS).await;
    app.store
        .invite_user(
            &scope,
            &NewInvitation {
                tenant_id: platform.clone(),
                email: "ops2@platform.test".into(),
                name: "Second Operator".into(),
                roles: RoleSet {
                    roles: vec![Role::PlatformAdmin],
                    regions: vec![],
                },
            },
            &NewAuditEntry {
                actor: ops.id.clone(),
                actor_tenant: platform.clone(),
                action: String::new(),
                target: String::new(),
                before_state: None,
                after_state: None,
                reason: Some("a second operator for the test".into()),
            },
            None,
        )
        .await
        .unwrap();
    app.store
        .accept_invitation(
            &scope,
            &ops.issuer,
            "ops2-subject",
            "ops2@platform.test",
            Utc::now(),
        )
        .await
        .unwrap()
        .expect("the invitation binds");
    "ops2@platform.test".into()
}

on_both_backends!(
    a_platform_admin_sees_the_directory_and_nothing_inside_northwind_without_a_window,
    a_platform_admin_opens_a_window_with_a_reason_and_reads_northwinds_catalog_prices_users_and_log,
    a_window_on_a_customer_shows_its_users_and_contract_prices_and_nothing_of_its_reseller,
    inside_a_window_a_platform_admin_still_cannot_write_and_a_refusal_writes_nothing,
    a_window_ends_on_time_and_access_ends_with_it,
    ending_a_window_early_ends_access_and_both_audit_logs_show_begin_and_end_with_the_reason,
    another_platform_admin_sees_nothing_through_the_first_ones_window_and_cannot_end_it,
    a_user_who_is_not_a_platform_admin_cannot_open_a_window,
    bad_minutes_or_reason_name_the_field_and_write_nothing,
);

async fn a_platform_admin_sees_the_directory_and_nothing_inside_northwind_without_a_window(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let (catalog, users, audit) = northwind_as(&app, OPS).await;
    assert!(catalog.is_empty(), "no catalog: {catalog:?}");
    assert_eq!(
        users["data"]["node"]["slug"], "northwind",
        "the profile is the directory's"
    );
    assert!(users["data"]["node"]["users"].is_null(), "{users}");
    assert!(masked(&users, &["node", "users"]), "{users}");
    assert_eq!(
        audit.as_deref(),
        Some("FORBIDDEN"),
        "a tenant it sees, a log it may not read"
    );

    // The directory: every customer's profile, but not its users or contract prices.
    let r = app
        .as_user(
            OPS,
            PL,
            CUSTOMER,
            json!({ "id": customer_id("alpine-dealers") }),
        )
        .await;
    let c = &r.body["data"]["customer"];
    assert_eq!(c["name"], "Alpine Dealers");
    assert_eq!(c["region"], "EU");
    assert!(
        c["users"].is_null() && c["contractPrices"].is_null(),
        "{:?}",
        r.body
    );
    assert!(masked(&r.body, &["customer", "users"]));
    assert!(masked(&r.body, &["customer", "contractPrices"]));
    let list = app
        .as_user(OPS, PL, "{ customers { totalCount } }", json!({}))
        .await;
    assert_eq!(list.body["data"]["customers"]["totalCount"], 4);

    // A user of northwind by id: NOT_FOUND, as for one that does not exist.
    let admin = app.user("admin@northwind.test").await;
    let node = app
        .as_user(
            OPS,
            PL,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": encode_id("User", &admin.id).to_string() }),
        )
        .await;
    assert!(node.body["data"]["node"].is_null());
    assert_eq!(node.first_code(), Some("NOT_FOUND"));
}

async fn a_platform_admin_opens_a_window_with_a_reason_and_reads_northwinds_catalog_prices_users_and_log(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let before = Utc::now();
    let w = begin(
        &app,
        OPS,
        &tenant_id("northwind"),
        "ticket 4711: prices look wrong",
    )
    .await;
    assert_eq!(w["tenant"]["slug"], "northwind");
    assert_eq!(w["openedBy"], OPS);
    assert_eq!(w["reason"], "ticket 4711: prices look wrong");
    assert_eq!(w["open"], true);
    assert!(w["endedAt"].is_null());
    let ends: chrono::DateTime<Utc> = w["endsAt"].as_str().unwrap().parse().unwrap();
    assert!(ends >= before + Duration::minutes(30) - Duration::seconds(1));
    assert!(ends <= Utc::now() + Duration::minutes(30));

    // The catalog, every status, with list prices and cost.
    let catalog = app
        .as_user(OPS, PL, CATALOG, json!({ "t": tenant_id("northwind") }))
        .await;
    let turbine = catalog.body["data"]["products"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", catalog.body))
        .iter()
        .find(|e| e["node"]["sku"] == "NW-TURBINE")
        .unwrap_or_else(|| panic!("{:?}", catalog.body))["node"]
        .clone();
    assert_eq!(
        turbine["listPrice"],
        json!({ "amount": "1200.00", "currency": "EUR" })
    );
    assert_eq!(
        turbine["costPrice"],
        json!({ "amount": "700.00", "currency": "EUR" })
    );
    assert!(
        skus(&catalog.body).contains(&"NW-ALP-SE".to_owned()),
        "restricted listings too"
    );

    // Its users and its log (which shows the window's opening).
    let (_, users, audit) = northwind_as(&app, OPS).await;
    assert!(
        emails(&users["data"]["node"]["users"]["edges"]).contains(&"admin@northwind.test".into()),
        "{users}"
    );
    assert_eq!(audit, None);
    let log = app
        .as_user(OPS, PL, AUDIT, json!({ "t": tenant_id("northwind") }))
        .await;
    let opened = &log.body["data"]["auditLog"]["edges"][0]["node"];
    assert_eq!(opened["action"], "support.opened");
    assert!(
        opened["reason"]
            .as_str()
            .unwrap()
            .contains("ticket 4711: prices look wrong")
    );

    // Only northwind: its customers' users stay masked, contoso's catalog stays empty.
    let alpine = app
        .as_user(
            OPS,
            PL,
            CUSTOMER,
            json!({ "id": customer_id("alpine-dealers") }),
        )
        .await;
    assert!(alpine.body["data"]["customer"]["users"].is_null());
    let contoso = app
        .as_user(OPS, PL, CATALOG, json!({ "t": tenant_id("contoso") }))
        .await;
    assert!(skus(&contoso.body).is_empty());

    // Northwind's admin sees who looked and why; contoso's admin sees none of it.
    let seen = app
        .as_user("admin@northwind.test", NW, WINDOWS, json!({}))
        .await;
    assert_eq!(
        seen.body["data"]["supportWindows"],
        json!([{ "id": w["id"], "tenant": { "slug": "northwind" }, "openedBy": OPS,
                 "reason": "ticket 4711: prices look wrong", "open": true }])
    );
    let other = app
        .as_user(
            "admin@contoso.test",
            "contoso.localhost",
            WINDOWS,
            json!({}),
        )
        .await;
    assert_eq!(other.body["data"]["supportWindows"], json!([]));
    let asked = app
        .as_user(
            "admin@contoso.test",
            "contoso.localhost",
            WINDOWS,
            json!({ "t": tenant_id("northwind") }),
        )
        .await;
    assert_eq!(asked.first_code(), Some("NOT_FOUND"));
    let staff = app
        .as_user(
            "pricing@northwind.test",
            NW,
            WINDOWS,
            json!({ "t": tenant_id("northwind") }),
        )
        .await;
    assert_eq!(
        staff.first_code(),
        Some("FORBIDDEN"),
        "for its admins, not all its staff"
    );
    let mine = app.as_user(OPS, PL, WINDOWS, json!({})).await;
    assert_eq!(mine.body["data"]["supportWindows"][0]["id"], w["id"]);
}

async fn a_window_on_a_customer_shows_its_users_and_contract_prices_and_nothing_of_its_reseller(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    // A Customer id, as `customers` hands it out, names the tenant too.
    let w = begin(
        &app,
        OPS,
        &customer_id("alpine-dealers"),
        "a buyer cannot sign in",
    )
    .await;
    assert_eq!(w["tenant"]["slug"], "alpine-dealers");
    let r = app
        .as_user(
            OPS,
            PL,
            CUSTOMER,
            json!({ "id": customer_id("alpine-dealers") }),
        )
        .await;
    let c = &r.body["data"]["customer"];
    assert!(
        emails(&c["users"]).contains(&"buyer@alpine.test".into()),
        "{:?}",
        r.body
    );
    assert!(
        c["contractPrices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["sku"] == "NW-TURBINE" && p["amount"]["amount"] == "999.00"),
        "{:?}",
        r.body
    );
    let (catalog, _, audit) = northwind_as(&app, OPS).await;
    assert!(
        catalog.is_empty(),
        "a window on alpine is not one on northwind"
    );
    assert_eq!(audit.as_deref(), Some("FORBIDDEN"));
    // Alpine's admin sees the window on alpine; northwind's admin does not.
    let alpine = app
        .as_user("admin@alpine.test", NW, WINDOWS, json!({}))
        .await;
    assert_eq!(
        alpine.body["data"]["supportWindows"][0]["reason"],
        "a buyer cannot sign in"
    );
    let northwind = app
        .as_user("admin@northwind.test", NW, WINDOWS, json!({}))
        .await;
    assert_eq!(northwind.body["data"]["supportWindows"], json!([]));
}

async fn inside_a_window_a_platform_admin_still_cannot_write_and_a_refusal_writes_nothing(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    begin(&app, OPS, &tenant_id("northwind"), "looking only").await;
    begin(&app, OPS, &customer_id("alpine-dealers"), "looking only").await;
    let (turbine_id, version) = turbine(&app).await;
    let buyer = app.user("buyer@alpine.test").await;
    let before = written(&app).await;
    let attempts = [
        (
            "mutation($input: InviteUserInput!) { inviteUser(input: $input) { user { id } } }",
            json!({ "input": { "tenantId": customer_id("alpine-dealers"), "email": "x@alpine.test",
                               "name": "X", "roles": ["BUYER"] } }),
        ),
        (
            "mutation($input: UserIdInput!) { deactivateUser(input: $input) { user { id } } }",
            json!({ "input": { "id": encode_id("User", &buyer.id).to_string() } }),
        ),
        (
            "mutation($input: SetContractPriceInput!) { setContractPrice(input: $input) { customer { id } } }",
            json!({ "input": { "customerId": customer_id("alpine-dealers"), "productId": turbine_id,
                               "amount": "1.00", "currency": "EUR" } }),
        ),
    ];
    for (mutation, variables) in attempts {
        let r = app.as_user(OPS, PL, mutation, variables).await;
        assert_eq!(
            r.first_code(),
            Some("FORBIDDEN"),
            "{mutation}: {:?}",
            r.body
        );
    }
    // A listing is changed on its reseller's portal, where platform staff do not sign in:
    // through the platform's portal it is not found at all.
    let r = app
        .as_user(
            OPS,
            PL,
            "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { id } } }",
            json!({ "input": { "id": turbine_id, "expectedVersion": version, "name": "Renamed" } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("NOT_FOUND"), "{:?}", r.body);
    assert_eq!(
        written(&app).await,
        before,
        "nothing written by any refusal"
    );
    assert_eq!(app.user("buyer@alpine.test").await.deactivated_at, None);
    let (_, v) = turbine(&app).await;
    assert_eq!(v, version, "the listing is unchanged");
}

async fn a_window_ends_on_time_and_access_ends_with_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let ops = app.user(OPS).await;
    let platform = tenant("platform");
    let nw = tenant("northwind");
    let both = TenantScope::of([nw.clone(), platform.clone()]);
    let audit = NewAuditEntry {
        actor: ops.id.clone(),
        actor_tenant: platform.clone(),
        action: String::new(),
        target: String::new(),
        before_state: None,
        after_state: None,
        reason: Some("platform admins open time-bound, read-only support windows".into()),
    };
    let request = SupportRequest {
        reason: "the clock is ours".into(),
        minutes: 30,
    };
    // Opened 31 minutes ago for 30: over a minute ago.
    let opened = Utc::now() - Duration::minutes(31);
    let past = app
        .store
        .begin_support_window(&both, &nw, OPS, &request, &audit, opened)
        .await
        .unwrap();
    assert_eq!(past.ends_at, past.opened_at + Duration::minutes(30));
    let own = TenantScope::single(platform.clone());
    let at = |t| app.store.open_support_windows(&own, &ops.id, t);
    let last = past.ends_at - Duration::microseconds(1);
    assert_eq!(
        at(last).await.unwrap(),
        vec![past.clone()],
        "open until its end"
    );
    assert!(
        at(past.ends_at).await.unwrap().is_empty(),
        "closed at its end"
    );
    let (catalog, users, code) = northwind_as(&app, OPS).await;
    assert!(catalog.is_empty() && users["data"]["node"]["users"].is_null());
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let listed = app.as_user(OPS, PL, WINDOWS, json!({})).await;
    assert_eq!(listed.body["data"]["supportWindows"][0]["open"], false);
    // Ending it now is too late, and writes nothing.
    let before = written(&app).await;
    let late = app
        .as_user(
            OPS,
            PL,
            END,
            json!({ "input": { "id": encode_id("SupportWindow", &past.id).to_string() } }),
        )
        .await;
    assert_eq!(late.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(late.body["errors"][0]["extensions"]["field"], "id");
    assert_eq!(written(&app).await, before);

    // Opened 25 minutes ago for 30: open for five more, and the same reads succeed.
    app.store
        .begin_support_window(
            &both,
            &nw,
            OPS,
            &request,
            &audit,
            Utc::now() - Duration::minutes(25),
        )
        .await
        .unwrap();
    let (catalog, _, code) = northwind_as(&app, OPS).await;
    assert!(catalog.contains(&"NW-TURBINE".to_owned()));
    assert_eq!(code, None);
}

async fn ending_a_window_early_ends_access_and_both_audit_logs_show_begin_and_end_with_the_reason(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let w = begin(&app, OPS, &tenant_id("northwind"), "INC-42 catalog import").await;
    let id = w["id"].as_str().unwrap().to_owned();
    let r = app
        .as_user(OPS, PL, END, json!({ "input": { "id": id } }))
        .await;
    let ended = &r.body["data"]["endSupportAccess"]["supportWindow"];
    assert_eq!(ended["open"], false, "{:?}", r.body);
    assert!(ended["endedAt"].is_string());
    let (catalog, _, code) = northwind_as(&app, OPS).await;
    assert!(catalog.is_empty(), "access ends with the window");
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let before = written(&app).await;
    let again = app
        .as_user(OPS, PL, END, json!({ "input": { "id": id } }))
        .await;
    assert_eq!(again.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(again.body["errors"][0]["extensions"]["field"], "id");
    assert_eq!(written(&app).await, before, "ending twice writes nothing");

    // Northwind's log, as northwind's admin reads it: opened, then ended, each naming the reason.
    let ops = app.user(OPS).await;
    let raw = portico_resolvers::decode_id("SupportWindow", &id).unwrap();
    let nw_log = app
        .as_user("admin@northwind.test", NW, AUDIT, json!({}))
        .await;
    let rows = nw_log.body["data"]["auditLog"]["edges"].as_array().unwrap();
    let actions: Vec<&str> = rows
        .iter()
        .take(2)
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["support.ended", "support.opened"],
        "{:?}",
        nw_log.body
    );
    for row in rows.iter().take(2) {
        assert_eq!(row["node"]["actor"], ops.id);
        assert_eq!(row["node"]["target"], format!("support_window:{raw}"));
        assert!(
            row["node"]["reason"]
                .as_str()
                .unwrap()
                .contains("INC-42 catalog import")
        );
    }
    // The platform's log, as the platform admin reads it: the same two, naming northwind.
    let pl_log = app.as_user(OPS, PL, AUDIT, json!({})).await;
    let rows = pl_log.body["data"]["auditLog"]["edges"].as_array().unwrap();
    let actions: Vec<&str> = rows
        .iter()
        .take(2)
        .map(|e| e["node"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["support.ended", "support.opened"],
        "{:?}",
        pl_log.body
    );
    for row in rows.iter().take(2) {
        assert_eq!(
            row["node"]["target"],
            format!("tenant:{}/support_window:{raw}", tenant("northwind"))
        );
        assert!(
            row["node"]["reason"]
                .as_str()
                .unwrap()
                .contains("INC-42 catalog import")
        );
    }
    // Both chains still verify.
    for slug in ["northwind", "platform"] {
        let id = tenant(slug);
        let report = app
            .store
            .verify_audit_chain(&TenantScope::single(id.clone()), &id)
            .await
            .unwrap();
        assert_eq!(report.problem, None, "{slug}");
    }
    // Northwind's admin sees the window as ended.
    let seen = app
        .as_user("admin@northwind.test", NW, WINDOWS, json!({}))
        .await;
    assert_eq!(seen.body["data"]["supportWindows"][0]["open"], false);
}

async fn another_platform_admin_sees_nothing_through_the_first_ones_window_and_cannot_end_it(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let ops2 = second_platform_admin(&app).await;
    let w = begin(&app, OPS, &tenant_id("northwind"), "only mine").await;
    let (catalog, users, code) = northwind_as(&app, &ops2).await;
    assert!(catalog.is_empty(), "{catalog:?}");
    assert!(users["data"]["node"]["users"].is_null());
    assert_eq!(code.as_deref(), Some("FORBIDDEN"));
    let (catalog, _, _) = northwind_as(&app, OPS).await;
    assert!(!catalog.is_empty(), "the opener still reads");
    // The other admin sees the window (who looked is no secret among the platform's admins)
    // but may not end it.
    let listed = app.as_user(&ops2, PL, WINDOWS, json!({})).await;
    assert_eq!(listed.body["data"]["supportWindows"][0]["id"], w["id"]);
    let before = written(&app).await;
    let r = app
        .as_user(&ops2, PL, END, json!({ "input": { "id": w["id"] } }))
        .await;
    assert_eq!(r.first_code(), Some("FORBIDDEN"), "{:?}", r.body);
    assert_eq!(written(&app).await, before);
    assert!(all_windows(&app).await[0].ended_at.is_none());
}

async fn a_user_who_is_not_a_platform_admin_cannot_open_a_window(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = written(&app).await;
    for (email, target, code) in [
        ("admin@northwind.test", tenant_id("northwind"), "FORBIDDEN"),
        (
            "admin@northwind.test",
            customer_id("alpine-dealers"),
            "FORBIDDEN",
        ),
        ("admin@northwind.test", tenant_id("contoso"), "NOT_FOUND"),
        ("admin@alpine.test", tenant_id("northwind"), "FORBIDDEN"),
        (
            "buyer@alpine.test",
            customer_id("harbor-tools"),
            "NOT_FOUND",
        ),
    ] {
        let r = app
            .as_user(email, NW, BEGIN, begin_input(&target, "curious", 10))
            .await;
        assert_eq!(
            r.first_code(),
            Some(code),
            "{email} → {target}: {:?}",
            r.body
        );
    }
    // Nor the platform admin on the platform itself: its own data needs no window.
    let r = app
        .as_user(
            OPS,
            PL,
            BEGIN,
            begin_input(&tenant_id("platform"), "curious", 10),
        )
        .await;
    assert_eq!(r.first_code(), Some("FORBIDDEN"));
    assert_eq!(written(&app).await, before, "no refusal writes");
    // Anonymous callers are asked to sign in.
    let anonymous = app
        .graphql_with(
            PL,
            json!({ "query": BEGIN, "variables": begin_input(&tenant_id("northwind"), "x", 1) }),
        )
        .await;
    assert_eq!(anonymous.first_code(), Some("UNAUTHENTICATED"));
}

async fn bad_minutes_or_reason_name_the_field_and_write_nothing(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = written(&app).await;
    let nw = tenant_id("northwind");
    for (reason, minutes, field) in [
        ("a reason".to_owned(), 0, "minutes"),
        ("a reason".to_owned(), 241, "minutes"),
        ("a reason".to_owned(), -5, "minutes"),
        (String::new(), 30, "reason"),
        ("   ".to_owned(), 30, "reason"),
        ("x".repeat(501), 30, "reason"),
    ] {
        let r = app
            .as_user(OPS, PL, BEGIN, begin_input(&nw, &reason, minutes))
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{minutes} {reason:?}: {:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field);
    }
    assert_eq!(written(&app).await, before, "nothing written");
    // The limits themselves are accepted.
    begin(&app, OPS, &nw, &"x".repeat(500)).await;
    let r = app
        .as_user(OPS, PL, BEGIN, begin_input(&nw, "one", 240))
        .await;
    assert_eq!(
        r.body["data"]["beginSupportAccess"]["supportWindow"]["open"],
        true
    );
    let r = app
        .as_user(OPS, PL, BEGIN, begin_input(&nw, "one", 1))
        .await;
    assert_eq!(
        r.body["data"]["beginSupportAccess"]["supportWindow"]["open"],
        true
    );
}
