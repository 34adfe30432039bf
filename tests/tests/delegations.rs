//! Delegation mutations through the API, on both backends: NOT_FOUND across trees, FORBIDDEN
//! inside, state errors naming the field, audit rows written, and the effect of a delegation on
//! what the reseller may read (approved: honoured; revoked: gone at once).

use portico_store::TenantScope;
use portico_store::seed::demo_id;
use portico_tests::{NW, TestApp, TestDb, on_both_backends};
use serde_json::{Value, json};

async fn delegation_id(
    app: &TestApp,
    email: &str,
    host: &str,
    customer: &str,
    status: &str,
) -> String {
    let list = app
        .as_user(
            email,
            host,
            "{ delegations { id status customer { slug } } }",
            json!({}),
        )
        .await;
    list.body["data"]["delegations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["customer"]["slug"] == customer && d["status"] == status)
        .unwrap_or_else(|| {
            panic!(
                "{email} sees no {status} delegation of {customer}: {:?}",
                list.body
            )
        })["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn customer_users(app: &TestApp, email: &str, slug: &str) -> portico_tests::GraphqlResponse {
    let id = portico_resolvers::encode_id("Customer", &demo_id("tenant", slug)).to_string();
    app.as_user(
        email,
        NW,
        "query($id: ID!) { customer(id: $id) { users { email } } }",
        json!({ "id": id }),
    )
    .await
}

const APPROVE: &str =
    "mutation($id: ID!) { approveDelegation(input: { id: $id }) { delegation { status scopes } } }";
const REVOKE: &str =
    "mutation($id: ID!) { revokeDelegation(input: { id: $id }) { delegation { status } } }";

async fn approving_and_revoking_follow_the_policy_and_change_what_the_reseller_reads(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let fjord = delegation_id(&app, "admin@fjord.test", NW, "fjord-outfitters", "PENDING").await;

    // Pending: northwind's admin cannot read fjord's users yet.
    let before = customer_users(&app, "admin@northwind.test", "fjord-outfitters").await;
    assert_eq!(before.body["data"]["customer"]["users"], Value::Null);
    assert_eq!(before.first_code(), Some("FIELD_MASKED"));

    // Inside the tree but not theirs to approve: FORBIDDEN. Across trees: NOT_FOUND.
    for (email, host, code) in [
        ("admin@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("ops@platform.test", "platform.localhost", "FORBIDDEN"),
        ("admin@contoso.test", "contoso.localhost", "NOT_FOUND"),
        ("admin@harbor.test", "contoso.localhost", "NOT_FOUND"),
        ("admin@alpine.test", NW, "NOT_FOUND"),
        ("rep-eu@northwind.test", NW, "NOT_FOUND"),
    ] {
        let r = app
            .as_user(email, host, APPROVE, json!({ "id": fjord }))
            .await;
        assert_eq!(r.first_code(), Some(code), "{email}: {:?}", r.body);
        assert_eq!(r.body["data"], Value::Null, "{email}");
    }
    let anonymous = app
        .graphql_with(
            NW,
            json!({ "query": APPROVE, "variables": { "id": fjord } }),
        )
        .await;
    assert_eq!(anonymous.first_code(), Some("UNAUTHENTICATED"));

    let approved = app
        .as_user("admin@fjord.test", NW, APPROVE, json!({ "id": fjord }))
        .await;
    assert_eq!(
        approved.body["data"]["approveDelegation"]["delegation"]["status"], "ACTIVE",
        "{:?}",
        approved.body
    );
    // Active, but used only by the staff it is assigned to: nobody yet.
    let unassigned = customer_users(&app, "admin@northwind.test", "fjord-outfitters").await;
    assert_eq!(unassigned.body["data"]["customer"]["users"], Value::Null);
    assert_eq!(unassigned.first_code(), Some("FIELD_MASKED"));
    let admin = portico_resolvers::encode_id("User", &app.user("admin@northwind.test").await.id)
        .to_string();
    let assigned = app
        .as_user(
            "admin@northwind.test",
            NW,
            "mutation($id: ID!, $users: [ID!]!) { assignDelegation(input: { id: $id, userIds: $users }) { delegation { assignees } } }",
            json!({ "id": fjord, "users": [admin] }),
        )
        .await;
    assert_eq!(
        assigned.body["data"]["assignDelegation"]["delegation"]["assignees"],
        json!([admin]),
        "{:?}",
        assigned.body
    );
    let after = customer_users(&app, "admin@northwind.test", "fjord-outfitters").await;
    assert_eq!(
        after.body["data"]["customer"]["users"],
        json!([{ "email": "admin@fjord.test" }])
    );
    // Approving twice is a user error naming the field.
    let again = app
        .as_user("admin@fjord.test", NW, APPROVE, json!({ "id": fjord }))
        .await;
    assert_eq!(again.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(again.body["errors"][0]["extensions"]["field"], "id");

    // Revoked: northwind's admin loses alpine's users at once.
    assert!(
        customer_users(&app, "admin@northwind.test", "alpine-dealers")
            .await
            .body["data"]["customer"]["users"]
            .is_array()
    );
    let alpine = delegation_id(&app, "admin@alpine.test", NW, "alpine-dealers", "ACTIVE").await;
    let revoked = app
        .as_user("admin@alpine.test", NW, REVOKE, json!({ "id": alpine }))
        .await;
    assert_eq!(
        revoked.body["data"]["revokeDelegation"]["delegation"]["status"], "REVOKED",
        "{:?}",
        revoked.body
    );
    let gone = customer_users(&app, "admin@northwind.test", "alpine-dealers").await;
    assert_eq!(gone.body["data"]["customer"]["users"], Value::Null);
    assert_eq!(gone.first_code(), Some("FIELD_MASKED"));

    // Both changes are in the customers' audit chains, which still verify.
    for slug in ["fjord-outfitters", "alpine-dealers"] {
        let tenant = demo_id("tenant", slug);
        let scope = TenantScope::single(tenant.clone());
        let entries = app.store.audit_entries(&scope, &tenant).await.unwrap();
        let last = entries.last().expect("an audit row");
        assert!(
            last.action == "delegation.assigned" || last.action == "delegation.revoked",
            "{last:?}"
        );
        assert_eq!(
            app.store
                .verify_audit_chain(&scope, &tenant)
                .await
                .unwrap()
                .first_broken,
            None
        );
    }
}

async fn requesting_a_delegation_is_for_the_resellers_admins_on_their_own_customers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let alpine =
        portico_resolvers::encode_id("Customer", &demo_id("tenant", "alpine-dealers")).to_string();
    let request = "mutation($input: RequestDelegationInput!) { requestDelegation(input: $input) { delegation { status scopes reseller { slug } customer { slug } } } }";
    let input = |scopes: Value, expires: Value| json!({ "input": { "customerId": alpine, "scopes": scopes, "expiresAt": expires } });

    let ok = app
        .as_user(
            "admin@northwind.test",
            NW,
            request,
            input(json!(["SUPPORT_READONLY"]), Value::Null),
        )
        .await;
    let d = &ok.body["data"]["requestDelegation"]["delegation"];
    assert_eq!(d["status"], "PENDING", "{:?}", ok.body);
    assert_eq!(
        (
            d["reseller"]["slug"].as_str(),
            d["customer"]["slug"].as_str()
        ),
        (Some("northwind"), Some("alpine-dealers"))
    );

    for (email, host, code) in [
        ("rep-eu@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("admin@alpine.test", NW, "FORBIDDEN"),
        ("admin@contoso.test", "contoso.localhost", "NOT_FOUND"),
        ("buyer@harbor.test", "contoso.localhost", "NOT_FOUND"),
    ] {
        let r = app
            .as_user(
                email,
                host,
                request,
                input(json!(["USER_ADMIN"]), Value::Null),
            )
            .await;
        assert_eq!(r.first_code(), Some(code), "{email}: {:?}", r.body);
    }
    let empty = app
        .as_user(
            "admin@northwind.test",
            NW,
            request,
            input(json!([]), Value::Null),
        )
        .await;
    assert_eq!(empty.body["errors"][0]["extensions"]["field"], "scopes");
    let past = app
        .as_user(
            "admin@northwind.test",
            NW,
            request,
            input(json!(["USER_ADMIN"]), json!("2020-01-01T00:00:00Z")),
        )
        .await;
    assert_eq!(past.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(past.body["errors"][0]["extensions"]["field"], "expiresAt");
}

on_both_backends!(
    approving_and_revoking_follow_the_policy_and_change_what_the_reseller_reads,
    requesting_a_delegation_is_for_the_resellers_admins_on_their_own_customers,
);
