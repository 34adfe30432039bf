//! List scopes computed ahead, on both backends: at start for every kind of caller in the
//! database (readiness waits for it), at a policy reload for the callers the running policy has
//! seen (before the fresh one serves), after a role change for the user's new kind of caller.
//! Each actor is built the way a request builds it (`Caller::new` → `Access::actor_of`), so a
//! second derivation that drifted would fail here.

use std::sync::Arc;
use std::time::Duration;

use portico_policies::{Action, Actor, CachedAuthorizer, LIST_KINDS, Policies};
use portico_resolvers::{Access, Caller};
use portico_store::TenantScope;
use portico_tests::{NW, TestApp, TestDb, on_both_backends, tenant};
use serde_json::json;

on_both_backends!(
    after_start_every_demo_users_kind_of_caller_has_its_list_scopes_before_any_request,
    the_kinds_of_caller_are_one_row_per_tenant_and_role_set_of_active_users,
    a_reload_computes_the_scopes_of_the_callers_seen_before_the_fresh_policy_serves,
    a_policy_that_fails_to_load_keeps_the_running_one_and_its_scopes,
    a_role_change_computes_the_users_new_scopes_without_a_request_of_theirs,
);

const DEMO_USERS: &[&str] = &[
    "ops@platform.test",
    "admin@northwind.test",
    "pricing@northwind.test",
    "rep-eu@northwind.test",
    "rep-na@northwind.test",
    "support@northwind.test",
    "admin@contoso.test",
    "admin@alpine.test",
    "buyer@alpine.test",
    "viewer@alpine.test",
    "admin@prairie.test",
    "buyer@prairie.test",
    "admin@fjord.test",
    "admin@harbor.test",
    "buyer@harbor.test",
];

/// A demo user's actor as the server builds it for their request: the user and roles read by
/// identity (`user_with_roles`), the tenant from the directory, `Caller::new`, `actor_of`.
async fn actor_of(app: &TestApp, email: &str) -> Actor {
    let user = app.user(email).await;
    let directory = app.store.load_directory().await.expect("directory");
    let (user, assignments) = app
        .store
        .user_with_roles(&directory.scope_of_all(), &user.issuer, &user.subject)
        .await
        .expect("user lookup")
        .expect("the user");
    let tenant = directory
        .tenant(&user.tenant_id)
        .cloned()
        .expect("the user's tenant");
    Access::actor_of(Some(&Caller::new(user, tenant, &assignments)))
}

fn holds_scopes(authorizer: &CachedAuthorizer, actor: &Actor) -> bool {
    LIST_KINDS
        .iter()
        .all(|&k| authorizer.has_allowed_set(actor, Action::Read, k))
}

/// Polls `/readyz` until it answers 200; the warming runs in the background.
async fn wait_until_ready(app: &TestApp) {
    for _ in 0..1200 {
        if app.get("anything", "/readyz").await.status() == 200 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never ready");
}

/// A policy directory holding the built-in policy, for a server that can reload it.
fn policy_dir(app_dir: &std::path::Path) -> std::path::PathBuf {
    let dir = app_dir.join("policy");
    std::fs::create_dir_all(&dir).expect("policy dir");
    std::fs::write(dir.join("portico.polar"), portico_policies::DEFAULT_POLICY).expect("policy");
    dir
}

async fn after_start_every_demo_users_kind_of_caller_has_its_list_scopes_before_any_request(
    db: TestDb,
) {
    let app = TestApp::spawn_with(db, |c| c.warm_scopes_at_start = true).await;
    wait_until_ready(&app).await;
    assert!(app.state.warming.is_done());
    // No GraphQL request has been made: whatever is cached, the start computed.
    let authorizer = app.state.policies.current();
    assert!(holds_scopes(&authorizer, &Actor::anonymous()), "anonymous");
    for email in DEMO_USERS {
        let actor = actor_of(&app, email).await;
        assert!(holds_scopes(&authorizer, &actor), "{email}: {actor:?}");
    }
    // Eleven kinds of caller among fifteen users (admins of several customers in one region
    // share one), and the anonymous one.
    assert_eq!(authorizer.actors_seen().len(), 12);
}

async fn the_kinds_of_caller_are_one_row_per_tenant_and_role_set_of_active_users(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let directory = app.store.load_directory().await.expect("directory");
    let all = directory.scope_of_all();
    let before = app.store.role_sets_in_use(&all).await.expect("role sets");
    assert_eq!(before.len(), DEMO_USERS.len(), "{before:?}");
    assert!(before.iter().all(|s| s.users == 1), "{before:?}");
    // Another buyer at alpine joins buyer@alpine's row; a deactivated viewer leaves none.
    app.sql_by_hand(
        "INSERT INTO users (id, tenant_id, issuer, subject, email, display_name, created_at) \
         VALUES ('u-second-buyer', $1, 'urn:test', 'second-buyer', 'second@alpine.test', 'Second', '2026-01-01T00:00:00Z')",
        &[&tenant("alpine-dealers")],
    )
    .await;
    app.sql_by_hand(
        "INSERT INTO role_assignments (tenant_id, user_id, role, regions, created_at) \
         VALUES ($1, 'u-second-buyer', 'buyer', '', '2026-01-01T00:00:00Z')",
        &[&tenant("alpine-dealers")],
    )
    .await;
    let viewer = app.user("viewer@alpine.test").await;
    app.sql_by_hand(
        "UPDATE users SET deactivated_at = '2026-01-01T00:00:00Z' WHERE id = $1",
        &[&viewer.id],
    )
    .await;
    let after = app.store.role_sets_in_use(&all).await.expect("role sets");
    assert_eq!(after.len(), DEMO_USERS.len() - 1, "{after:?}");
    assert_eq!(after[0].users, 2, "the most held first: {after:?}");
    assert_eq!(after[0].tenant_id, tenant("alpine-dealers"));
    let roles: Vec<_> = after[0].assignments.iter().map(|a| a.role).collect();
    assert_eq!(roles, [portico_store::model::Role::Buyer]);
    // Read under one tenant's scope, only that tenant's kinds of caller.
    let alpine = app
        .store
        .role_sets_in_use(&TenantScope::single(tenant("alpine-dealers")))
        .await
        .expect("role sets");
    assert_eq!(alpine.len(), 2, "admin and buyers: {alpine:?}");
}

async fn a_reload_computes_the_scopes_of_the_callers_seen_before_the_fresh_policy_serves(
    db: TestDb,
) {
    let dir = policy_dir(db.dir.path());
    let app = TestApp::spawn_with(db, |c| c.policy_dir = Some(dir)).await;
    let seen = ["buyer@alpine.test", "rep-eu@northwind.test"];
    for email in seen {
        let r = app
            .as_user(email, NW, "{ viewer { user { email } } }", json!({}))
            .await;
        assert_eq!(r.body["data"]["viewer"]["user"]["email"], email);
    }
    let running = app.state.policies.current();
    let unseen = actor_of(&app, "viewer@alpine.test").await;
    assert!(!holds_scopes(&running, &unseen), "nobody asked as a viewer");

    portico::warm::reload(app.state.policies.clone()).await;

    let fresh = app.state.policies.current();
    assert!(!Arc::ptr_eq(&running, &fresh), "the policy was swapped");
    for email in seen {
        let actor = actor_of(&app, email).await;
        assert!(holds_scopes(&fresh, &actor), "{email}");
    }
    assert!(
        !holds_scopes(&fresh, &unseen),
        "only the callers seen are computed"
    );
    // And the fresh policy answers as the old one did.
    let r = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "{ viewer { user { email } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
}

async fn a_policy_that_fails_to_load_keeps_the_running_one_and_its_scopes(db: TestDb) {
    let dir = policy_dir(db.dir.path());
    let app = TestApp::spawn_with(db, |c| c.policy_dir = Some(dir.clone())).await;
    let r = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "{ viewer { user { email } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
    let running = app.state.policies.current();
    std::fs::write(
        dir.join("portico.polar"),
        "allow(actor, action, resource) if",
    )
    .expect("write");

    let policies: Arc<Policies> = app.state.policies.clone();
    let failed = tokio::task::spawn_blocking(move || policies.reload())
        .await
        .expect("reload task");
    assert!(failed.is_err(), "a broken policy does not load");
    assert!(Arc::ptr_eq(&running, &app.state.policies.current()));
    let buyer = actor_of(&app, "buyer@alpine.test").await;
    assert!(holds_scopes(&app.state.policies.current(), &buyer));
}

async fn a_role_change_computes_the_users_new_scopes_without_a_request_of_theirs(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let users = app
        .as_user(
            "admin@alpine.test",
            NW,
            "{ viewer { tenant { users(first: 50) { edges { node { id email version } } } } } }",
            json!({}),
        )
        .await;
    let viewer = users.body["data"]["viewer"]["tenant"]["users"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", users.body))
        .iter()
        .map(|e| e["node"].clone())
        .find(|n| n["email"] == "viewer@alpine.test")
        .expect("alpine's viewer");
    let changed = app
        .as_user(
            "admin@alpine.test",
            NW,
            "mutation($input: UpdateUserRolesInput!) { updateUserRoles(input: $input) { user { roles } } }",
            json!({ "input": { "id": viewer["id"], "roles": ["BUYER", "VIEWER"], "expectedVersion": viewer["version"] } }),
        )
        .await;
    assert_eq!(
        changed.body["data"]["updateUserRoles"]["user"]["roles"],
        json!(["BUYER", "VIEWER"]),
        "{:?}",
        changed.body
    );
    // The new kind of caller (a buyer and viewer in the EU) exists nowhere else in the demo;
    // its scopes are computed in the background, without the viewer asking anything.
    let actor = actor_of(&app, "viewer@alpine.test").await;
    for _ in 0..1200 {
        if holds_scopes(&app.state.policies.current(), &actor) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the new kind of caller's scopes were never computed: {actor:?}");
}
