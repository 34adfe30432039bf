//! User administration through the API, on both backends: invitations, role changes,
//! deactivation and reactivation in the caller's own tenant and under a reseller's USER_ADMIN
//! delegation; role ceilings, nobody changing their own roles, the last-admin guard; and every
//! refusal leaving nothing written (read back by each party the write would have touched).

use portico_store::TenantScope;
use portico_tests::{CO, NW, TestApp, TestDb, customer_id, on_both_backends, tenant};
use serde_json::{Value, json};

const INVITE: &str = "mutation($input: InviteUserInput!) { inviteUser(input: $input) { user { id email status roles regions version } } }";
const ROLES: &str = "mutation($input: UpdateUserRolesInput!) { updateUserRoles(input: $input) { user { id status roles regions version } } }";
const DEACTIVATE: &str = "mutation($input: UserIdInput!) { deactivateUser(input: $input) { user { id status version } } }";
const REACTIVATE: &str = "mutation($input: UserIdInput!) { reactivateUser(input: $input) { user { id status version } } }";
const OWN_USERS: &str = "{ viewer { tenant { users(first: 50) { edges { node { id email status roles regions version } } pageInfo { hasNextPage endCursor } } } } }";
const CUSTOMER_USERS: &str =
    "query($id: ID!) { customer(id: $id) { users { id email status roles } } }";

/// A user's node (id, status, roles, version) as alpine's own admin lists them.
async fn alpine_user(app: &TestApp, email: &str) -> Option<Value> {
    let r = app
        .as_user("admin@alpine.test", NW, OWN_USERS, json!({}))
        .await;
    r.body["data"]["viewer"]["tenant"]["users"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["email"] == email)
}

/// The same user as northwind's admin sees them through `customer(id).users` (USER_ADMIN).
async fn alpine_user_as_reseller(app: &TestApp, email: &str) -> Option<Value> {
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            CUSTOMER_USERS,
            json!({ "id": customer_id("alpine-dealers") }),
        )
        .await;
    r.body["data"]["customer"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .find(|n| n["email"] == email)
        .cloned()
}

async fn audit_of(app: &TestApp, slug: &str) -> Vec<portico_store::model::AuditEntry> {
    let id = tenant(slug);
    app.store
        .audit_entries(&TenantScope::single(id.clone()), &id)
        .await
        .expect("audit entries")
}

fn invite_input(email: &str, roles: &[&str]) -> Value {
    json!({ "input": { "email": email, "name": "A Colleague", "roles": roles } })
}

async fn a_customer_admin_invites_a_colleague_who_is_listed_as_invited_by_everyone_who_may_see(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let before = audit_of(&app, "alpine-dealers").await.len();
    let r = app
        .as_user(
            "admin@alpine.test",
            NW,
            INVITE,
            invite_input("colleague@alpine.test", &["BUYER"]),
        )
        .await;
    let user = &r.body["data"]["inviteUser"]["user"];
    assert_eq!(user["status"], "INVITED", "{:?}", r.body);
    assert_eq!(user["roles"], json!(["BUYER"]));
    assert_eq!(user["version"], 1);

    // Read back by alpine's admin, by northwind's admin (USER_ADMIN), and in the audit log.
    let listed = alpine_user(&app, "colleague@alpine.test")
        .await
        .expect("listed");
    assert_eq!(listed["status"], "INVITED");
    assert_eq!(listed["id"], user["id"]);
    let seen = alpine_user_as_reseller(&app, "colleague@alpine.test")
        .await
        .expect("seen by the reseller's admin");
    assert_eq!(seen["roles"], json!(["BUYER"]));
    let log = audit_of(&app, "alpine-dealers").await;
    assert_eq!(log.len(), before + 1);
    let row = log.last().unwrap();
    assert_eq!(row.action, "user.invited");
    assert!(row.after_state.as_deref().unwrap().contains("buyer"));

    // The same email again is refused by name, and nothing more is written.
    let again = app
        .as_user(
            "admin@alpine.test",
            NW,
            INVITE,
            invite_input("COLLEAGUE@alpine.test", &["VIEWER"]),
        )
        .await;
    assert_eq!(again.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(again.body["errors"][0]["extensions"]["field"], "email");
    assert_eq!(audit_of(&app, "alpine-dealers").await.len(), before + 1);
}

async fn bad_invitations_name_the_field_and_write_nothing(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = audit_of(&app, "northwind").await.len();
    for (input, field) in [
        (invite_input("not-an-email", &["SUPPORT"]), "email"),
        (invite_input("x@northwind.test", &[]), "roles"),
        (
            invite_input("x@northwind.test", &["SUPPORT", "SUPPORT"]),
            "roles",
        ),
        (invite_input("x@northwind.test", &["SALES_REP"]), "regions"),
        (
            json!({ "input": { "email": "x@northwind.test", "name": "X", "roles": ["SUPPORT"], "regions": ["EU"] } }),
            "regions",
        ),
        (
            json!({ "input": { "email": "x@northwind.test", "name": " ", "roles": ["SUPPORT"] } }),
            "name",
        ),
    ] {
        let r = app
            .as_user("admin@northwind.test", NW, INVITE, input.clone())
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{input}: {:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["extensions"]["field"], field, "{input}");
    }
    assert_eq!(audit_of(&app, "northwind").await.len(), before);

    // A sales rep with regions is fine.
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            INVITE,
            json!({ "input": { "email": "rep-apac@northwind.test", "name": "Rep", "roles": ["SALES_REP"], "regions": ["APAC"] } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["inviteUser"]["user"]["regions"],
        json!(["APAC"]),
        "{:?}",
        r.body
    );
}

async fn role_ceilings_hold_for_every_kind_of_admin(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let alpine = customer_id("alpine-dealers");
    let before = (
        audit_of(&app, "alpine-dealers").await.len(),
        audit_of(&app, "northwind").await.len(),
    );
    // (who, tenant to invite into, role): every one above the caller's ceiling.
    for (who, into, role) in [
        ("admin@alpine.test", None, "RESELLER_ADMIN"),
        ("admin@alpine.test", None, "PLATFORM_ADMIN"),
        ("admin@northwind.test", None, "CUSTOMER_ADMIN"),
        ("admin@northwind.test", None, "PLATFORM_ADMIN"),
        (
            "admin@northwind.test",
            Some(alpine.clone()),
            "RESELLER_ADMIN",
        ),
        ("admin@northwind.test", Some(alpine.clone()), "SUPPORT"),
    ] {
        let mut input = invite_input("ceiling@example.com", &[role]);
        if let Some(into) = &into {
            input["input"]["tenantId"] = json!(into);
        }
        let r = app.as_user(who, NW, INVITE, input).await;
        assert_eq!(
            r.first_code(),
            Some("FORBIDDEN"),
            "{who} {role}: {:?}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["extensions"]["field"], "roles");
        assert!(
            r.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(&role.to_lowercase())
        );
    }
    // Under USER_ADMIN the reseller's admin may go up to customer_admin.
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            INVITE,
            json!({ "input": { "tenantId": alpine, "email": "second-admin@alpine.test", "name": "Second", "roles": ["CUSTOMER_ADMIN"] } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["inviteUser"]["user"]["roles"],
        json!(["CUSTOMER_ADMIN"]),
        "{:?}",
        r.body
    );
    assert_eq!(
        (
            audit_of(&app, "alpine-dealers").await.len(),
            audit_of(&app, "northwind").await.len()
        ),
        (before.0 + 1, before.1 + 1),
        "only the allowed invitation, in both chains"
    );
    assert!(alpine_user(&app, "ceiling@example.com").await.is_none());
}

async fn staff_without_admin_rights_or_delegation_are_refused_and_other_tenants_see_nothing(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let buyer = alpine_user(&app, "buyer@alpine.test").await.unwrap();
    let cases: [(&str, &str, &str, Value, &str); 8] = [
        // Inside the tree, not allowed: FORBIDDEN.
        (
            "buyer@alpine.test",
            NW,
            INVITE,
            invite_input("a@alpine.test", &["VIEWER"]),
            "FORBIDDEN",
        ),
        (
            "pricing@northwind.test",
            NW,
            INVITE,
            invite_input("a@northwind.test", &["SUPPORT"]),
            "FORBIDDEN",
        ),
        (
            "support@northwind.test",
            NW,
            INVITE,
            json!({ "input": { "tenantId": customer_id("prairie-supply"), "email": "a@prairie.test", "name": "A", "roles": ["BUYER"] } }),
            "FORBIDDEN",
        ),
        // SUPPORT_READONLY reads, never acts; an expired USER_ADMIN counts for nothing.
        (
            "admin@northwind.test",
            NW,
            INVITE,
            json!({ "input": { "tenantId": customer_id("prairie-supply"), "email": "a@prairie.test", "name": "A", "roles": ["BUYER"] } }),
            "FORBIDDEN",
        ),
        // A pending USER_ADMIN gives nothing yet.
        (
            "admin@northwind.test",
            NW,
            INVITE,
            json!({ "input": { "tenantId": customer_id("fjord-outfitters"), "email": "a@fjord.test", "name": "A", "roles": ["BUYER"] } }),
            "FORBIDDEN",
        ),
        // Across tenants: NOT_FOUND, whatever exists.
        (
            "admin@contoso.test",
            CO,
            INVITE,
            json!({ "input": { "tenantId": customer_id("alpine-dealers"), "email": "a@alpine.test", "name": "A", "roles": ["BUYER"] } }),
            "NOT_FOUND",
        ),
        (
            "rep-na@northwind.test",
            NW,
            DEACTIVATE,
            json!({ "input": { "id": buyer["id"] } }),
            "NOT_FOUND",
        ),
        (
            "admin@harbor.test",
            CO,
            ROLES,
            json!({ "input": { "id": buyer["id"], "roles": ["VIEWER"], "expectedVersion": buyer["version"] } }),
            "NOT_FOUND",
        ),
    ];
    let before: Vec<usize> = chain_lengths(&app).await;
    for (who, host, query, input, code) in cases {
        let r = app.as_user(who, host, query, input.clone()).await;
        assert_eq!(r.first_code(), Some(code), "{who} {input}: {:?}", r.body);
        assert!(
            !r.body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("alpine"),
            "no hint of the other tenant"
        );
    }
    assert_eq!(chain_lengths(&app).await, before, "nothing written");
    let after = alpine_user(&app, "buyer@alpine.test").await.unwrap();
    assert_eq!(after, buyer, "the buyer is untouched");
}

/// The audit chain lengths of every tenant a refused write might have touched.
async fn chain_lengths(app: &TestApp) -> Vec<usize> {
    let mut out = Vec::new();
    for slug in [
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

async fn nobody_changes_their_own_roles_and_the_last_admin_stays(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let admin = alpine_user(&app, "admin@alpine.test").await.unwrap();
    let own = app
        .as_user(
            "admin@alpine.test",
            NW,
            ROLES,
            json!({ "input": { "id": admin["id"], "roles": ["CUSTOMER_ADMIN", "BUYER"], "expectedVersion": admin["version"] } }),
        )
        .await;
    assert_eq!(own.first_code(), Some("FORBIDDEN"), "{:?}", own.body);
    let own = app
        .as_user(
            "admin@alpine.test",
            NW,
            DEACTIVATE,
            json!({ "input": { "id": admin["id"] } }),
        )
        .await;
    assert_eq!(own.first_code(), Some("FORBIDDEN"), "{:?}", own.body);

    // Alpine's only admin, demoted or deactivated by the reseller under USER_ADMIN: refused.
    let demote = app
        .as_user(
            "admin@northwind.test",
            NW,
            ROLES,
            json!({ "input": { "id": admin["id"], "roles": ["BUYER"], "expectedVersion": admin["version"] } }),
        )
        .await;
    assert_eq!(
        demote.first_code(),
        Some("BAD_USER_INPUT"),
        "{:?}",
        demote.body
    );
    assert_eq!(demote.body["errors"][0]["extensions"]["field"], "roles");
    let off = app
        .as_user(
            "admin@northwind.test",
            NW,
            DEACTIVATE,
            json!({ "input": { "id": admin["id"] } }),
        )
        .await;
    assert_eq!(off.first_code(), Some("BAD_USER_INPUT"), "{:?}", off.body);
    assert_eq!(off.body["errors"][0]["extensions"]["field"], "id");
    assert_eq!(
        alpine_user(&app, "admin@alpine.test").await.unwrap(),
        admin,
        "still the active admin, unchanged"
    );

    // With a second active admin (promoted from buyer), the first may step down.
    let buyer = alpine_user(&app, "buyer@alpine.test").await.unwrap();
    let promoted = app
        .as_user(
            "admin@alpine.test",
            NW,
            ROLES,
            json!({ "input": { "id": buyer["id"], "roles": ["CUSTOMER_ADMIN"], "expectedVersion": buyer["version"] } }),
        )
        .await;
    assert_eq!(
        promoted.body["data"]["updateUserRoles"]["user"]["roles"],
        json!(["CUSTOMER_ADMIN"]),
        "{:?}",
        promoted.body
    );
    let stale = app
        .as_user(
            "admin@alpine.test",
            NW,
            ROLES,
            json!({ "input": { "id": buyer["id"], "roles": ["VIEWER"], "expectedVersion": buyer["version"] } }),
        )
        .await;
    assert_eq!(stale.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        stale.body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );
    let stepped_down = app
        .as_user(
            "buyer@alpine.test",
            NW,
            ROLES,
            json!({ "input": { "id": admin["id"], "roles": ["BUYER"], "expectedVersion": admin["version"] } }),
        )
        .await;
    assert_eq!(
        stepped_down.body["data"]["updateUserRoles"]["user"]["roles"],
        json!(["BUYER"]),
        "{:?}",
        stepped_down.body
    );
    let row = audit_of(&app, "alpine-dealers").await.pop().unwrap();
    assert_eq!(row.action, "user.roles_changed");
    assert!(row.before_state.unwrap().contains("customer_admin"));
    assert!(row.after_state.unwrap().contains("buyer"));
}

async fn a_deactivated_user_is_refused_until_reactivated_and_the_reseller_sees_both_in_its_log(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let viewer = alpine_user(&app, "viewer@alpine.test").await.unwrap();
    let token = format!("Bearer {}", app.token_for("viewer@alpine.test").await);
    let me = "{ viewer { user { email } } }";
    assert_eq!(
        app.graphql_as(NW, &token, me).await.body["data"]["viewer"]["user"]["email"],
        "viewer@alpine.test"
    );
    let nw_before = audit_of(&app, "northwind").await.len();
    let off = app
        .as_user(
            "admin@northwind.test",
            NW,
            DEACTIVATE,
            json!({ "input": { "id": viewer["id"] } }),
        )
        .await;
    assert_eq!(
        off.body["data"]["deactivateUser"]["user"]["status"], "DEACTIVATED",
        "{:?}",
        off.body
    );
    let refused = app.graphql_as(NW, &token, me).await;
    assert_eq!(refused.first_code(), Some("UNAUTHENTICATED"));
    assert_eq!(
        alpine_user(&app, "viewer@alpine.test").await.unwrap()["status"],
        "DEACTIVATED",
        "alpine's admin sees it too"
    );
    let on = app
        .as_user(
            "admin@alpine.test",
            NW,
            REACTIVATE,
            json!({ "input": { "id": viewer["id"] } }),
        )
        .await;
    assert_eq!(
        on.body["data"]["reactivateUser"]["user"]["status"], "ACTIVE",
        "{:?}",
        on.body
    );
    assert_eq!(
        app.graphql_as(NW, &token, me).await.body["data"]["viewer"]["user"]["email"],
        "viewer@alpine.test"
    );
    // The delegated deactivation is in alpine's chain naming the delegation and in northwind's.
    let alpine_log = audit_of(&app, "alpine-dealers").await;
    let delegated = alpine_log
        .iter()
        .find(|r| r.action == "user.deactivated")
        .expect("deactivation audited in alpine");
    assert_eq!(delegated.actor_tenant, tenant("northwind"));
    assert!(delegated.reason.as_deref().unwrap().contains("USER_ADMIN"));
    let nw_log = audit_of(&app, "northwind").await;
    assert_eq!(
        nw_log.len(),
        nw_before + 1,
        "mirrored once; the reactivation was alpine's own"
    );
    assert_eq!(nw_log.last().unwrap().action, "user.deactivated");
    assert!(nw_log.last().unwrap().target.starts_with("tenant:"));
}

async fn tenant_users_is_masked_for_those_who_may_not_read_them_and_pages_by_email(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let buyer = app
        .as_user("buyer@alpine.test", NW, OWN_USERS, json!({}))
        .await;
    assert_eq!(buyer.body["data"]["viewer"]["tenant"]["users"], Value::Null);
    assert_eq!(buyer.first_code(), Some("FIELD_MASKED"));
    let portal = app
        .as_user(
            "admin@alpine.test",
            NW,
            "{ tenant { users { edges { node { email } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        portal.body["data"]["tenant"]["users"],
        Value::Null,
        "northwind's users are not alpine's admin's business"
    );
    let page = "query($after: String) { viewer { tenant { users(first: 2, after: $after) { edges { node { email } } pageInfo { hasNextPage endCursor } } } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = app
            .as_user("admin@northwind.test", NW, page, json!({ "after": after }))
            .await;
        let users = &r.body["data"]["viewer"]["tenant"]["users"];
        for e in users["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{:?}", r.body))
        {
            seen.push(e["node"]["email"].as_str().unwrap().to_owned());
        }
        if users["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = users["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen,
        [
            "admin@northwind.test",
            "pricing@northwind.test",
            "rep-eu@northwind.test",
            "rep-na@northwind.test",
            "support@northwind.test"
        ]
    );
    let forged = app
        .as_user(
            "admin@northwind.test",
            NW,
            page,
            json!({ "after": "b2Zmc2V0OjM" }),
        )
        .await;
    assert_eq!(forged.first_code(), Some("BAD_USER_INPUT"));
}

on_both_backends!(
    a_customer_admin_invites_a_colleague_who_is_listed_as_invited_by_everyone_who_may_see,
    bad_invitations_name_the_field_and_write_nothing,
    role_ceilings_hold_for_every_kind_of_admin,
    staff_without_admin_rights_or_delegation_are_refused_and_other_tenants_see_nothing,
    nobody_changes_their_own_roles_and_the_last_admin_stays,
    a_deactivated_user_is_refused_until_reactivated_and_the_reseller_sees_both_in_its_log,
    tenant_users_is_masked_for_those_who_may_not_read_them_and_pages_by_email,
);
