//! A customer's settings (name and contacts) through the API on both backends: its own admin
//! changes them, and its reseller's admin under an active SETTINGS_ADMIN delegation assigned to
//! them, through the same `updateCustomerSettings` with the customer named. Every change is
//! read back by each party it affects (the customer's admin, the reseller's staff, masked for
//! the others) and by the audit chains: the customer's always, the reseller's too for a
//! delegated change, naming the delegation and the scope. Refusals are NOT_FOUND across trees
//! and FORBIDDEN inside, for a delegation in every state that is not active and assigned, and
//! write nothing (read back).

use chrono::{Duration, Utc};
use portico_store::model::{AuditEntry, DelegatedScope, NewAuditEntry};
use portico_store::seed::demo_id;
use portico_store::{DelegationChange, DelegationRequest, TenantScope};
use portico_tests::{CO, NW, TestApp, TestDb, customer_id, on_both_backends, tenant, test_actor};
use serde_json::{Value, json};

const PLATFORM: &str = "platform.localhost";
const SETTINGS: &str = "id name contactEmail contactPhone version";

fn update() -> String {
    format!(
        "mutation($input: UpdateCustomerSettingsInput!) {{ updateCustomerSettings(input: $input) {{ customer {{ {SETTINGS} }} }} }}"
    )
}

/// `updateCustomerSettings` as `who`: the customer, or the error code (and field).
async fn change_as(
    app: &TestApp,
    who: &str,
    host: &str,
    input: Value,
) -> Result<Value, (String, Option<String>)> {
    let r = app
        .as_user(who, host, &update(), json!({ "input": input }))
        .await;
    match &r.body["data"]["updateCustomerSettings"]["customer"] {
        Value::Null => Err((
            r.first_code().unwrap_or("none").to_owned(),
            r.body["errors"][0]["extensions"]["field"]
                .as_str()
                .map(str::to_owned),
        )),
        customer => Ok(customer.clone()),
    }
}

fn refused(code: &str) -> Result<Value, (String, Option<String>)> {
    Err((code.to_owned(), None))
}

/// The `extensions.code` of every error of a response, in order.
fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            e["extensions"]["code"]
                .as_str()
                .unwrap_or("none")
                .to_owned()
        })
        .collect()
}

/// `customer(id)` as `who`: its settings fields (masked ones `null`) and the codes of the
/// errors, or the code when the customer itself is refused.
async fn customer_as(app: &TestApp, who: &str, host: &str, slug: &str) -> (Value, Vec<String>) {
    let r = app
        .as_user(
            who,
            host,
            &format!("query($id: ID!) {{ customer(id: $id) {{ {SETTINGS} }} }}"),
            json!({ "id": customer_id(slug) }),
        )
        .await;
    let codes = codes(&r.body);
    (r.body["data"]["customer"].clone(), codes)
}

/// The caller's own tenant with its settings, as a customer's portal reads them.
async fn own_tenant(app: &TestApp, who: &str) -> (Value, Vec<String>) {
    let r = app
        .as_user(
            who,
            NW,
            "{ viewer { tenant { id name contactEmail contactPhone version } } }",
            json!({}),
        )
        .await;
    let codes = codes(&r.body);
    (r.body["data"]["viewer"]["tenant"].clone(), codes)
}

async fn audit_of(app: &TestApp, slug: &str) -> Vec<AuditEntry> {
    let id = tenant(slug);
    app.store
        .audit_entries(&TenantScope::single(id.clone()), &id)
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
        out.push(audit_of(app, slug).await.len());
    }
    out
}

/// A customer's settings as its reseller's admin reads them: (name, email, phone, version).
async fn settings_of(app: &TestApp, slug: &str, reseller: (&str, &str)) -> Value {
    let (customer, codes) = customer_as(app, reseller.0, reseller.1, slug).await;
    assert!(codes.is_empty(), "{codes:?}");
    customer
}

fn version(customer: &Value) -> i64 {
    customer["version"].as_i64().expect("a version")
}

async fn a_customers_admin_changes_its_settings_and_every_party_reads_them_back(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let nw_before = audit_of(&app, "northwind").await.len();
    let (own, codes) = own_tenant(&app, "admin@alpine.test").await;
    assert!(codes.is_empty(), "{codes:?}");
    assert_eq!(own["contactEmail"], Value::Null, "no contacts in the demo");
    let v = version(&own);

    // No `customerId`: the caller's own tenant.
    let changed = change_as(
        &app,
        "admin@alpine.test",
        NW,
        json!({ "name": "  Alpine Dealers AG ", "contactEmail": " office@alpine.test ",
                "contactPhone": "+41 (44) 123-45-67", "expectedVersion": v }),
    )
    .await
    .expect("changed");
    assert_eq!(changed["name"], "Alpine Dealers AG", "trimmed");
    assert_eq!(changed["contactEmail"], "office@alpine.test");
    assert_eq!(changed["contactPhone"], "+41 (44) 123-45-67");
    assert_eq!(version(&changed), v + 1);
    assert_eq!(changed["id"], customer_id("alpine-dealers"));

    // The very next request of every party that may read them sees them.
    let (own, codes) = own_tenant(&app, "admin@alpine.test").await;
    assert!(codes.is_empty(), "{codes:?}");
    assert_eq!(own["name"], "Alpine Dealers AG");
    assert_eq!(own["contactEmail"], "office@alpine.test");
    assert_eq!(own["version"], v + 1);
    assert_eq!(
        customer_as(&app, "admin@alpine.test", NW, "alpine-dealers").await,
        (changed.clone(), vec![])
    );
    for staff in [
        "admin@northwind.test",
        "support@northwind.test",
        "pricing@northwind.test",
        "rep-eu@northwind.test",
    ] {
        assert_eq!(
            customer_as(&app, staff, NW, "alpine-dealers").await,
            (changed.clone(), vec![]),
            "{staff}"
        );
    }
    let listed = app
        .as_user(
            "admin@northwind.test",
            NW,
            "{ customers(first: 100) { edges { node { name contactEmail } } } }",
            json!({}),
        )
        .await;
    assert!(
        listed.body["data"]["customers"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]
                == json!({ "name": "Alpine Dealers AG", "contactEmail": "office@alpine.test" })),
        "the directory reloaded: {:?}",
        listed.body
    );

    // Masked for those who may not read them: alpine's buyer, a platform admin without a
    // support window (who still reads the customer's profile).
    let (buyer, codes) = own_tenant(&app, "buyer@alpine.test").await;
    assert_eq!(buyer["name"], "Alpine Dealers AG");
    assert_eq!(buyer["contactEmail"], Value::Null);
    assert_eq!(buyer["contactPhone"], Value::Null);
    assert_eq!(
        codes, ["FIELD_MASKED"; 3],
        "contactEmail, contactPhone, version"
    );
    let (ops, codes) = customer_as(&app, "ops@platform.test", PLATFORM, "alpine-dealers").await;
    assert_eq!(ops["name"], "Alpine Dealers AG");
    assert_eq!(ops["contactEmail"], Value::Null);
    assert_eq!(codes, ["FIELD_MASKED"; 2], "contactEmail, contactPhone");
    // Nothing at all across the tree.
    let (other, codes) = customer_as(&app, "admin@contoso.test", CO, "alpine-dealers").await;
    assert_eq!((other, codes), (Value::Null, vec!["NOT_FOUND".to_owned()]));

    // Audited in alpine's chain, before and after; its own change, not the reseller's.
    let log = audit_of(&app, "alpine-dealers").await;
    let row = log.last().unwrap();
    assert_eq!(row.action, "customer.settings_updated");
    assert_eq!(row.actor, app.user("admin@alpine.test").await.id);
    assert_eq!(row.actor_tenant, tenant("alpine-dealers"));
    assert_eq!(row.target, format!("customer:{}", tenant("alpine-dealers")));
    let before: Value = serde_json::from_str(row.before_state.as_deref().unwrap()).unwrap();
    let after: Value = serde_json::from_str(row.after_state.as_deref().unwrap()).unwrap();
    assert_eq!(before["contactEmail"], Value::Null);
    assert_eq!(
        after,
        json!({ "name": "Alpine Dealers AG", "contactEmail": "office@alpine.test",
                "contactPhone": "+41 (44) 123-45-67" })
    );
    assert_eq!(audit_of(&app, "northwind").await.len(), nw_before);

    // An empty contact clears it; what is not given stays.
    let cleared = change_as(
        &app,
        "admin@alpine.test",
        NW,
        json!({ "contactPhone": "", "expectedVersion": v + 1 }),
    )
    .await
    .expect("cleared");
    assert_eq!(cleared["contactPhone"], Value::Null);
    assert_eq!(cleared["contactEmail"], "office@alpine.test");
    assert_eq!(cleared["name"], "Alpine Dealers AG");
    assert_eq!(version(&cleared), v + 2);

    // A change to nothing changes nothing: same version, no audit row.
    let rows = audit_of(&app, "alpine-dealers").await.len();
    let same = change_as(
        &app,
        "admin@alpine.test",
        NW,
        json!({ "name": "Alpine Dealers AG", "expectedVersion": v + 2 }),
    )
    .await
    .expect("unchanged");
    assert_eq!(version(&same), v + 2);
    assert_eq!(audit_of(&app, "alpine-dealers").await.len(), rows);
}

async fn a_reseller_admin_under_settings_admin_changes_them_audited_in_both_chains_naming_the_delegation(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let nw_before = audit_of(&app, "northwind").await.len();
    let alpine_before = audit_of(&app, "alpine-dealers").await.len();
    let v = version(&settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await);

    // The customer named, here by its `Tenant` id (as `Delegation.customer` gives it).
    let tenant_id = portico_resolvers::encode_id("Tenant", &tenant("alpine-dealers")).to_string();
    let changed = change_as(
        &app,
        "admin@northwind.test",
        NW,
        json!({ "customerId": tenant_id, "contactEmail": "it@alpine.test",
                "contactPhone": "044 555 01 99", "expectedVersion": v }),
    )
    .await
    .expect("changed under SETTINGS_ADMIN");
    assert_eq!(changed["contactEmail"], "it@alpine.test");
    assert_eq!(changed["name"], "Alpine Dealers", "not given, unchanged");
    assert_eq!(version(&changed), v + 1);

    // The customer's own admin reads what its reseller changed.
    let (own, _) = own_tenant(&app, "admin@alpine.test").await;
    assert_eq!(own["contactEmail"], "it@alpine.test");
    assert_eq!(own["contactPhone"], "044 555 01 99");

    // In alpine's chain: the acting user of northwind, the delegation and the scope.
    let delegation = demo_id("delegation", "alpine-northwind");
    let alpine = audit_of(&app, "alpine-dealers").await;
    assert_eq!(alpine.len(), alpine_before + 1);
    let row = alpine.last().unwrap();
    assert_eq!(row.action, "customer.settings_updated");
    assert_eq!(row.actor, app.user("admin@northwind.test").await.id);
    assert_eq!(row.actor_tenant, tenant("northwind"));
    let reason = row.reason.as_deref().unwrap();
    assert!(
        reason.contains(&format!("delegation {delegation}")),
        "{reason}"
    );
    assert!(reason.contains("SETTINGS_ADMIN"), "{reason}");
    // And the same row in northwind's, its target naming the tenant acted in.
    let nw = audit_of(&app, "northwind").await;
    assert_eq!(nw.len(), nw_before + 1);
    let mirror = nw.last().unwrap();
    assert_eq!(mirror.action, row.action);
    assert_eq!(mirror.actor, row.actor);
    assert_eq!(mirror.reason, row.reason);
    assert_eq!(mirror.after_state, row.after_state);
    assert_eq!(
        mirror.target,
        format!("tenant:{}/{}", tenant("alpine-dealers"), row.target)
    );

    // The customer reads it in its own audit log, as the API serves it.
    let log = app
        .as_user(
            "admin@alpine.test",
            NW,
            "{ auditLog(first: 1) { edges { node { action reason } } } }",
            json!({}),
        )
        .await;
    let newest = &log.body["data"]["auditLog"]["edges"][0]["node"];
    assert_eq!(
        newest["action"], "customer.settings_updated",
        "{:?}",
        log.body
    );
    assert!(
        newest["reason"]
            .as_str()
            .unwrap()
            .contains("SETTINGS_ADMIN"),
        "{newest:?}"
    );
}

fn northwind_admin() -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", "admin@northwind.test"),
        actor_tenant: tenant("northwind"),
        ..test_actor("a test of SETTINGS_ADMIN")
    }
}

fn fjord_admin() -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", "admin@fjord.test"),
        actor_tenant: tenant("fjord-outfitters"),
        ..test_actor("a test of SETTINGS_ADMIN")
    }
}

/// A SETTINGS_ADMIN request of northwind to fjord made at `at`, assigned to northwind's admin.
async fn settings_admin_for_fjord(app: &TestApp, at: chrono::DateTime<Utc>, days: i64) -> String {
    let pair = TenantScope::of([tenant("fjord-outfitters"), tenant("northwind")]);
    let id = app
        .store
        .request_delegation(
            &pair,
            &tenant("fjord-outfitters"),
            &tenant("northwind"),
            &DelegationRequest {
                scopes: vec![DelegatedScope::SettingsAdmin],
                duration_days: days,
                message: None,
                auto_extend: false,
            },
            &northwind_admin(),
            at,
        )
        .await
        .expect("request")
        .id;
    app.store
        .assign_delegation(
            &pair,
            &id,
            &[demo_id("user", "admin@northwind.test")],
            &northwind_admin(),
            at,
        )
        .await
        .expect("assign");
    id
}

async fn change_fjord(
    app: &TestApp,
    id: &str,
    change: DelegationChange,
    at: chrono::DateTime<Utc>,
) {
    let pair = TenantScope::of([tenant("fjord-outfitters"), tenant("northwind")]);
    let by = match change {
        DelegationChange::Revoke => northwind_admin(),
        _ => fjord_admin(),
    };
    app.store
        .change_delegation(&pair, id, change, &by, at)
        .await
        .expect("transition");
}

/// northwind's admin tries to change fjord's contact: refused FORBIDDEN (it sees fjord) and
/// nothing written anywhere.
async fn refused_on_fjord(app: &TestApp, state: &str) {
    let chains = chain_lengths(app).await;
    let before = settings_of(app, "fjord-outfitters", ("admin@northwind.test", NW)).await;
    assert_eq!(
        change_as(
            app,
            "admin@northwind.test",
            NW,
            json!({ "customerId": customer_id("fjord-outfitters"),
                    "contactEmail": "hijack@northwind.test", "expectedVersion": version(&before) }),
        )
        .await,
        refused("FORBIDDEN"),
        "{state}"
    );
    assert_eq!(chain_lengths(app).await, chains, "{state}: no audit row");
    assert_eq!(
        settings_of(app, "fjord-outfitters", ("admin@northwind.test", NW)).await,
        before,
        "{state}: nothing changed"
    );
}

async fn a_reseller_admin_without_an_active_assigned_settings_admin_delegation_is_refused_and_nothing_is_written(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let now = Utc::now();
    // fjord's only delegation is a pending USER_ADMIN.
    refused_on_fjord(&app, "no SETTINGS_ADMIN at all").await;

    let pending = settings_admin_for_fjord(&app, now, 30).await;
    refused_on_fjord(&app, "pending").await;
    change_fjord(&app, &pending, DelegationChange::Decline, now).await;
    refused_on_fjord(&app, "declined").await;

    // Approved and assigned, it acts (so the refusals above are about the state alone) ...
    let active = settings_admin_for_fjord(&app, now, 30).await;
    change_fjord(&app, &active, DelegationChange::Approve, now).await;
    let v = version(&settings_of(&app, "fjord-outfitters", ("admin@northwind.test", NW)).await);
    let acted = change_as(
        &app,
        "admin@northwind.test",
        NW,
        json!({ "customerId": customer_id("fjord-outfitters"),
                "contactEmail": "desk@fjord.test", "expectedVersion": v }),
    )
    .await;
    assert_eq!(
        acted.map(|c| c["contactEmail"].clone()),
        Ok(json!("desk@fjord.test"))
    );
    // ... until it is revoked.
    change_fjord(&app, &active, DelegationChange::Revoke, now).await;
    refused_on_fjord(&app, "revoked").await;

    // Approved ten days ago for one day: past its end, even before the expiry job writes it.
    let expired = settings_admin_for_fjord(&app, now - Duration::days(10), 1).await;
    change_fjord(
        &app,
        &expired,
        DelegationChange::Approve,
        now - Duration::days(10),
    )
    .await;
    refused_on_fjord(&app, "expired").await;

    // Active and carrying SETTINGS_ADMIN, but assigned to someone else: alpine's delegation
    // handed to northwind's support only.
    let alpine =
        portico_resolvers::encode_id("Delegation", &demo_id("delegation", "alpine-northwind"))
            .to_string();
    let support = portico_resolvers::encode_id("User", &demo_id("user", "support@northwind.test"))
        .to_string();
    let reassigned = app
        .as_user(
            "admin@northwind.test",
            NW,
            "mutation($id: ID!, $users: [ID!]!) { assignDelegation(input: { id: $id, userIds: $users }) { delegation { assignees } } }",
            json!({ "id": alpine, "users": [support] }),
        )
        .await;
    assert_eq!(
        reassigned.body["data"]["assignDelegation"]["delegation"]["assignees"],
        json!([support]),
        "{:?}",
        reassigned.body
    );
    let chains = chain_lengths(&app).await;
    let before = settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await;
    assert_eq!(
        change_as(
            &app,
            "admin@northwind.test",
            NW,
            json!({ "customerId": customer_id("alpine-dealers"), "name": "Hijacked",
                    "expectedVersion": version(&before) }),
        )
        .await,
        refused("FORBIDDEN"),
        "unassigned"
    );
    // Nor does the support user it is assigned to act with it: SETTINGS_ADMIN is for admins.
    assert_eq!(
        change_as(
            &app,
            "support@northwind.test",
            NW,
            json!({ "customerId": customer_id("alpine-dealers"), "name": "Hijacked",
                    "expectedVersion": version(&before) }),
        )
        .await,
        refused("FORBIDDEN"),
        "support"
    );
    assert_eq!(chain_lengths(&app).await, chains);
    assert_eq!(
        settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await,
        before
    );
}

async fn others_are_refused_not_found_across_trees_and_forbidden_inside_and_nothing_is_written(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let chains = chain_lengths(&app).await;
    let before = settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await;
    let input = json!({ "customerId": customer_id("alpine-dealers"), "name": "Hijacked",
                        "contactEmail": "hijack@example.com", "expectedVersion": version(&before) });
    for (who, host, code) in [
        // Another reseller's admin, even one holding a delegation of its own customer.
        ("admin@contoso.test", CO, "NOT_FOUND"),
        // Sibling customers' admins, in the tree and across it.
        ("admin@fjord.test", NW, "NOT_FOUND"),
        ("admin@prairie.test", NW, "NOT_FOUND"),
        ("admin@harbor.test", CO, "NOT_FOUND"),
        // The customer's own users without its admin role.
        ("buyer@alpine.test", NW, "FORBIDDEN"),
        ("viewer@alpine.test", NW, "FORBIDDEN"),
        // The reseller's staff who see alpine but hold no delegation's scope for settings.
        ("pricing@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("rep-eu@northwind.test", NW, "FORBIDDEN"),
        // A sales rep of another region does not see alpine (EU).
        ("rep-na@northwind.test", NW, "NOT_FOUND"),
        // Platform admins read the directory; they change no customer's settings.
        ("ops@platform.test", PLATFORM, "FORBIDDEN"),
    ] {
        assert_eq!(
            change_as(&app, who, host, input.clone()).await,
            refused(code),
            "{who}"
        );
    }
    // harbor delegates USER_ADMIN to contoso, not SETTINGS_ADMIN.
    let harbor = settings_of(&app, "harbor-tools", ("admin@contoso.test", CO)).await;
    assert_eq!(
        change_as(
            &app,
            "admin@contoso.test",
            CO,
            json!({ "customerId": customer_id("harbor-tools"), "name": "Hijacked",
                    "expectedVersion": version(&harbor) }),
        )
        .await,
        refused("FORBIDDEN")
    );
    // A reseller's own tenant has no settings this operation changes.
    assert_eq!(
        change_as(
            &app,
            "admin@northwind.test",
            NW,
            json!({ "name": "Northwind Renamed", "expectedVersion": 1 }),
        )
        .await,
        refused("FORBIDDEN")
    );
    // An id that names nothing, or something else, is NOT_FOUND.
    let product = portico_resolvers::encode_id("Product", "x");
    for id in ["garbage", product.as_str()] {
        assert_eq!(
            change_as(
                &app,
                "admin@alpine.test",
                NW,
                json!({ "customerId": id, "name": "X", "expectedVersion": 1 }),
            )
            .await,
            refused("NOT_FOUND"),
            "{id}"
        );
    }
    // Not signed in.
    let anonymous = app
        .graphql_with(
            NW,
            json!({ "query": update(), "variables": { "input": input } }),
        )
        .await;
    assert_eq!(anonymous.first_code(), Some("UNAUTHENTICATED"));

    assert_eq!(chain_lengths(&app).await, chains);
    assert_eq!(
        settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await,
        before
    );
    assert_eq!(
        settings_of(&app, "harbor-tools", ("admin@contoso.test", CO)).await,
        harbor
    );
}

async fn bad_input_is_refused_naming_the_field_and_nothing_is_written(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let chains = chain_lengths(&app).await;
    let before = settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await;
    let v = version(&before);
    let long_name = "n".repeat(201);
    let long_phone = "1".repeat(41);
    for (field, value) in [
        ("name", "   "),
        ("name", long_name.as_str()),
        ("contactEmail", "not-an-email"),
        ("contactEmail", "office@localhost"),
        ("contactEmail", "two words@alpine.test"),
        ("contactEmail", "a@b@alpine.test"),
        ("contactPhone", "12"),
        ("contactPhone", "call me maybe"),
        ("contactPhone", "+41 44 123 45 67 ext. 3"),
        ("contactPhone", long_phone.as_str()),
    ] {
        // As the customer's admin and as the reseller's under SETTINGS_ADMIN: the same rules.
        for (who, customer) in [
            ("admin@alpine.test", Value::Null),
            ("admin@northwind.test", json!(customer_id("alpine-dealers"))),
        ] {
            let mut input = json!({ "customerId": customer, "expectedVersion": v });
            input[field] = json!(value);
            assert_eq!(
                change_as(&app, who, NW, input).await,
                Err(("BAD_USER_INPUT".to_owned(), Some(field.to_owned()))),
                "{who}: {field} = {value:?}"
            );
        }
    }
    assert_eq!(chain_lengths(&app).await, chains);
    assert_eq!(
        settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await,
        before
    );
}

async fn a_stale_expected_version_is_refused_and_nothing_is_written(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let read = settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await;
    let v = version(&read);
    // alpine's admin changes it first ...
    change_as(
        &app,
        "admin@alpine.test",
        NW,
        json!({ "contactEmail": "office@alpine.test", "expectedVersion": v }),
    )
    .await
    .expect("first change");
    let chains = chain_lengths(&app).await;
    let current = settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await;
    // ... so northwind's admin, who read version v, is refused, and so is one from the future.
    for stale in [v, v + 5] {
        assert_eq!(
            change_as(
                &app,
                "admin@northwind.test",
                NW,
                json!({ "customerId": customer_id("alpine-dealers"),
                        "contactEmail": "it@alpine.test", "expectedVersion": stale }),
            )
            .await,
            Err((
                "BAD_USER_INPUT".to_owned(),
                Some("expectedVersion".to_owned())
            )),
            "{stale}"
        );
    }
    assert_eq!(chain_lengths(&app).await, chains);
    assert_eq!(
        settings_of(&app, "alpine-dealers", ("admin@northwind.test", NW)).await,
        current
    );
    assert_eq!(current["contactEmail"], "office@alpine.test");
}

on_both_backends!(
    a_customers_admin_changes_its_settings_and_every_party_reads_them_back,
    a_reseller_admin_under_settings_admin_changes_them_audited_in_both_chains_naming_the_delegation,
    a_reseller_admin_without_an_active_assigned_settings_admin_delegation_is_refused_and_nothing_is_written,
    others_are_refused_not_found_across_trees_and_forbidden_inside_and_nothing_is_written,
    bad_input_is_refused_naming_the_field_and_nothing_is_written,
    a_stale_expected_version_is_refused_and_nothing_is_written,
);
