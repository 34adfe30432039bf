//! List scopes computed ahead: once per actor and kind even when asked for at the same time,
//! and carried over a reload for the actors the running policy has seen.

use std::sync::{Arc, Barrier};

use portico_policies::*;

fn authorizer() -> CachedAuthorizer {
    CachedAuthorizer::new(OsoEngine::new(DEFAULT_POLICY).expect("the policy loads"))
}

fn holds_scopes(authorizer: &CachedAuthorizer, actor: &Actor) -> bool {
    LIST_KINDS
        .iter()
        .all(|&k| authorizer.has_allowed_set(actor, Action::Read, k))
}

/// A policy directory holding the built-in policy.
fn policy_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::write(dir.path().join("portico.polar"), DEFAULT_POLICY).expect("policy");
    dir
}

#[test]
fn threads_asking_for_the_same_cold_scope_at_once_share_one_computation() {
    let authz = authorizer();
    let actor = Actor::new(TenantKind::Reseller, [Role::SalesRep], [Region::Eu]);
    let start = Barrier::new(4);
    let sets: Vec<Arc<AllowedSet>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    authz.allowed_set(&actor, Action::Read, Kind::Tenant)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Computed twice, the sets would be equal but distinct: one computation hands out one set.
    assert!(!sets[0].is_empty());
    for set in &sets[1..] {
        assert!(Arc::ptr_eq(&sets[0], set));
    }
}

#[test]
fn warming_computes_every_list_kind_of_each_actor_once() {
    let authz = authorizer();
    let buyer = Actor::new(TenantKind::Customer, [Role::Buyer], [Region::Na]);
    assert!(!holds_scopes(&authz, &buyer));
    assert_eq!(
        authz.warm(&[buyer.clone(), Actor::anonymous()]),
        2 * LIST_KINDS.len()
    );
    assert!(holds_scopes(&authz, &buyer));
    assert!(holds_scopes(&authz, &Actor::anonymous()));
    assert_eq!(authz.warm(std::slice::from_ref(&buyer)), 0, "already there");
    let mut seen = authz.actors_seen();
    seen.sort_by_key(|a| a.is_signed_in());
    assert_eq!(seen, [Actor::anonymous(), buyer]);
}

#[test]
fn a_reload_holds_the_scopes_of_the_actors_seen_before_it_is_swapped_in() {
    let dir = policy_dir();
    let policies = Policies::load(PolicySource::Directory(dir.path().to_owned())).expect("load");
    let seen = Actor::new(
        TenantKind::Reseller,
        [Role::ResellerAdmin],
        Region::ALL.to_vec(),
    );
    let unseen = Actor::new(TenantKind::Customer, [Role::Viewer], [Region::Eu]);
    let running = policies.current();
    running.warm(std::slice::from_ref(&seen));

    let reloaded = policies.reload().expect("reload");

    assert_eq!(reloaded.actors_warmed, 1);
    let fresh = policies.current();
    assert!(!Arc::ptr_eq(&running, &fresh));
    assert!(holds_scopes(&fresh, &seen));
    assert!(!holds_scopes(&fresh, &unseen));
    // The fresh sets are the fresh policy's, equal to the running one's for the same text.
    let before = running.allowed_set(&seen, Action::Read, Kind::Customer);
    let after = fresh.allowed_set(&seen, Action::Read, Kind::Customer);
    assert!(!Arc::ptr_eq(&before, &after));
    assert_eq!(before.len(), after.len());
}

#[test]
fn a_policy_that_fails_to_load_leaves_the_running_one_with_its_scopes() {
    let dir = policy_dir();
    let policies = Policies::load(PolicySource::Directory(dir.path().to_owned())).expect("load");
    let seen = Actor::new(TenantKind::Customer, [Role::Buyer], [Region::Eu]);
    policies.current().warm(std::slice::from_ref(&seen));
    let running = policies.current();
    std::fs::write(
        dir.path().join("portico.polar"),
        "allow(actor, action, resource) if",
    )
    .expect("write");

    assert!(policies.reload().is_err());

    assert!(Arc::ptr_eq(&running, &policies.current()));
    assert!(holds_scopes(&policies.current(), &seen));
}
