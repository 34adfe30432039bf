//! The README's walk through a reseller admin's console (section "Delegations"), step by step
//! through the API on both backends: invite a colleague, ask a customer for USER_ADMIN, the
//! customer approves, assign it, invite the customer's buyer, and read the customer's audit log
//! as the customer.

use portico_store::seed::demo_id;
use portico_tests::{NW, TestApp, TestDb, customer_id, on_both_backends};
use serde_json::{Value, json};

async fn ok(app: &TestApp, who: &str, query: &str, variables: Value) -> Value {
    let r = app.as_user(who, NW, query, variables).await;
    assert!(r.body["errors"].is_null(), "{who}: {query}: {:?}", r.body);
    r.body["data"].clone()
}

async fn a_reseller_admin_walks_through_the_readme(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let admin = "admin@northwind.test";

    // 1. Invite a colleague.
    let invited = ok(
        &app,
        admin,
        r#"mutation { inviteUser(input: { email: "ana@northwind.test", name: "Ana", roles: [SUPPORT] }) { user { id status } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(invited["inviteUser"]["user"]["status"], "INVITED");

    // 2. Ask fjord-outfitters for USER_ADMIN for 90 days.
    let fjord = customer_id("fjord-outfitters");
    let asked = ok(
        &app,
        admin,
        r#"mutation($c: ID!) { requestDelegation(input: { customerId: $c, scopes: [USER_ADMIN], durationDays: 90, message: "onboarding your buyers" }) { delegation { id status endsAt } } }"#,
        json!({ "c": fjord }),
    )
    .await;
    let delegation = asked["requestDelegation"]["delegation"]["id"].clone();
    assert_eq!(
        asked["requestDelegation"]["delegation"]["status"],
        "PENDING"
    );

    // 3. The customer's admin approves.
    let approved = ok(
        &app,
        "admin@fjord.test",
        r#"mutation($id: ID!) { approveDelegation(input: { id: $id }) { delegation { status approvedAt endsAt } } }"#,
        json!({ "id": delegation }),
    )
    .await;
    assert_eq!(
        approved["approveDelegation"]["delegation"]["status"],
        "ACTIVE"
    );

    // 4. Assign it to yourself, then invite the customer's buyer.
    let me = ok(&app, admin, "{ viewer { user { id } } }", json!({})).await["viewer"]["user"]["id"]
        .clone();
    let assigned = ok(
        &app,
        admin,
        r#"mutation($id: ID!, $me: ID!) { assignDelegation(input: { id: $id, userIds: [$me] }) { delegation { assignees } } }"#,
        json!({ "id": delegation, "me": me }),
    )
    .await;
    assert_eq!(
        assigned["assignDelegation"]["delegation"]["assignees"],
        json!([me])
    );
    let buyer = ok(
        &app,
        admin,
        r#"mutation($c: ID!) { inviteUser(input: { tenantId: $c, email: "buyer@fjord.test", name: "Fjord Buyer", roles: [BUYER] }) { user { id status roles } } }"#,
        json!({ "c": fjord }),
    )
    .await;
    assert_eq!(buyer["inviteUser"]["user"]["roles"], json!(["BUYER"]));

    // 5. The customer reads its own log: what the reseller did there, named.
    let log = ok(
        &app,
        "admin@fjord.test",
        "{ auditLog(first: 10) { edges { node { seq action actor actorTenant { slug } reason } } } }",
        json!({}),
    )
    .await;
    let rows: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .collect();
    let actions: Vec<&str> = rows.iter().map(|n| n["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "user.invited",
            "delegation.assigned",
            "delegation.approved",
            "delegation.requested"
        ],
        "newest first: {rows:?}"
    );
    let invitation = rows[0];
    assert_eq!(invitation["actor"], demo_id("user", admin));
    assert_eq!(invitation["actorTenant"]["slug"], "northwind");
    let reason = invitation["reason"].as_str().unwrap();
    assert!(
        reason.contains("USER_ADMIN") && reason.contains("delegation"),
        "{reason}"
    );
    assert_eq!(rows[2]["actorTenant"]["slug"], "fjord-outfitters");
}

on_both_backends!(a_reseller_admin_walks_through_the_readme);
