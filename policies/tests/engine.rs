//! The engine and its cache on random facts: the cache never changes an answer, and a list
//! scope contains exactly the rows the policy allows.

use portico_policies::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn random_actor(rng: &mut StdRng) -> Actor {
    if rng.gen_bool(0.05) {
        return Actor::anonymous();
    }
    let roles: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|_| rng.gen_bool(0.25))
        .collect();
    let regions: Vec<Region> = Region::ALL
        .iter()
        .copied()
        .filter(|_| rng.gen_bool(0.5))
        .collect();
    Actor::new(*TenantKind::ALL.choose(rng).unwrap(), roles, regions)
}

fn random_resource(rng: &mut StdRng, kind: Kind) -> Resource {
    let all: Vec<Resource> = domain(kind).collect();
    all.choose(rng).unwrap().clone()
}

fn authorizer() -> CachedAuthorizer {
    CachedAuthorizer::new(OsoEngine::new(DEFAULT_POLICY).expect("the policy loads"))
}

#[test]
fn a_cached_decision_is_the_engines_decision_on_random_facts() {
    let cached = authorizer();
    let raw = OsoEngine::new(DEFAULT_POLICY).unwrap();
    let mut rng = StdRng::seed_from_u64(5);
    let mut allowed = 0;
    for i in 0..3000 {
        let actor = random_actor(&mut rng);
        let kind = *Kind::ALL.choose(&mut rng).unwrap();
        let resource = random_resource(&mut rng, kind);
        let action = *Action::ALL.choose(&mut rng).unwrap();
        // Ask twice: the second answer comes from the cache.
        let first = cached.decide(&actor, action, &resource);
        let second = cached.decide(&actor, action, &resource);
        let truth = raw.decide(&actor, action, &resource);
        assert_eq!(first, truth, "case {i}: {actor:?} {action} {resource:?}");
        assert_eq!(second, truth, "case {i} (cached)");
        allowed += usize::from(truth.allowed);
        let field = *["id", "name", "users", "email", "scopes"]
            .choose(&mut rng)
            .unwrap();
        assert_eq!(
            cached.decide_field(&actor, action, &resource, field),
            raw.decide_field(&actor, action, &resource, field)
        );
        assert_eq!(
            *cached.fields(&actor, action, &resource),
            raw.fields(&actor, action, &resource)
        );
    }
    // The random facts must exercise both answers, or the test proves nothing.
    assert!(allowed > 50 && allowed < 2900, "allowed {allowed} of 3000");
}

#[test]
fn a_list_scope_contains_exactly_the_rows_the_policy_allows() {
    let authz = authorizer();
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..10 {
        let actor = random_actor(&mut rng);
        for &kind in Kind::ALL {
            let scope = authz.allowed_set(&actor, Action::Read, kind);
            for _ in 0..50 {
                let row = random_resource(&mut rng, kind);
                assert_eq!(
                    scope.contains(&row),
                    authz.allows(&actor, Action::Read, &row),
                    "{actor:?} {row:?}"
                );
            }
        }
    }
}

#[test]
fn denials_say_why_and_allows_name_their_rule() {
    let authz = authorizer();
    let rep_eu = Actor::new(TenantKind::Reseller, [Role::SalesRep], [Region::Eu]);
    let customer = |region| {
        Resource::new(
            Kind::Customer,
            Relation::OwnCustomer,
            Some(region),
            Visibility::All,
            [],
            TenantKind::Customer,
        )
    };
    let eu = authz.decide(&rep_eu, Action::Read, &customer(Region::Eu));
    assert!(eu.allowed);
    assert!(eu.reason.contains("sales reps"), "{}", eu.reason);
    let na = authz.decide(&rep_eu, Action::Read, &customer(Region::Na));
    assert!(!na.allowed);
    assert_eq!(na.reason, Decision::NO_RULE);
    // A reseller admin without a delegation reads the customer but not its users.
    let admin = Actor::new(TenantKind::Reseller, [Role::ResellerAdmin], []);
    let fields = authz.fields(&admin, Action::Read, &customer(Region::Eu));
    assert!(
        fields.contains("name") && !fields.contains("users"),
        "{fields:?}"
    );
    let granted = Resource::new(
        Kind::Customer,
        Relation::OwnCustomer,
        Some(Region::Eu),
        Visibility::All,
        [DelegatedScope::UserAdmin],
        TenantKind::Customer,
    );
    assert!(
        authz
            .fields(&admin, Action::Read, &granted)
            .contains("users")
    );
}

#[test]
fn an_audit_log_is_read_by_its_tenants_admins_and_by_the_resellers_staff_only_under_support_readonly()
 {
    let authz = authorizer();
    let log = |relation, owner, scopes: &[DelegatedScope]| {
        Resource::new(
            Kind::Audit,
            relation,
            None,
            Visibility::All,
            scopes.iter().copied(),
            owner,
        )
    };
    let reads = |actor: &Actor, resource: &Resource| {
        let d = authz.decide(actor, Action::Read, resource);
        assert!(d.allowed != (d.reason == Decision::NO_RULE), "{d:?}");
        d.allowed
    };
    let own = |owner| log(Relation::Same, owner, &[]);
    let customer_admin = Actor::new(TenantKind::Customer, [Role::CustomerAdmin], [Region::Eu]);
    let buyer = Actor::new(TenantKind::Customer, [Role::Buyer], [Region::Eu]);
    let reseller_admin = Actor::new(TenantKind::Reseller, [Role::ResellerAdmin], []);
    let support = Actor::new(TenantKind::Reseller, [Role::Support], []);
    let pricing = Actor::new(TenantKind::Reseller, [Role::PricingManager], []);
    let platform = Actor::new(TenantKind::Platform, [Role::PlatformAdmin], []);
    assert!(reads(&customer_admin, &own(TenantKind::Customer)));
    assert!(!reads(&buyer, &own(TenantKind::Customer)));
    assert!(reads(&reseller_admin, &own(TenantKind::Reseller)));
    assert!(!reads(&pricing, &own(TenantKind::Reseller)));
    assert!(reads(&platform, &own(TenantKind::Platform)));
    // A customer's log, seen from its reseller: only SUPPORT_READONLY opens it.
    for actor in [&reseller_admin, &support] {
        for scopes in [
            &[][..],
            &[DelegatedScope::UserAdmin, DelegatedScope::SettingsAdmin][..],
        ] {
            assert!(!reads(
                actor,
                &log(Relation::OwnCustomer, TenantKind::Customer, scopes)
            ));
        }
        assert!(reads(
            actor,
            &log(
                Relation::OwnCustomer,
                TenantKind::Customer,
                &[DelegatedScope::SupportReadonly]
            )
        ));
    }
    assert!(!reads(
        &pricing,
        &log(
            Relation::OwnCustomer,
            TenantKind::Customer,
            &[DelegatedScope::SupportReadonly]
        )
    ));
    // Platform admins read no other tenant's log, and nobody reads an unrelated tenant's.
    for owner in [TenantKind::Reseller, TenantKind::Customer] {
        assert!(!reads(&platform, &log(Relation::PlatformScope, owner, &[])));
    }
    for actor in [&customer_admin, &reseller_admin, &platform] {
        assert!(!reads(
            actor,
            &log(
                Relation::Unrelated,
                TenantKind::Customer,
                &[DelegatedScope::SupportReadonly]
            )
        ));
    }
}

#[test]
fn a_policy_that_does_not_load_is_refused_with_its_error() {
    let err = OsoEngine::new("allow(actor, action, resource) if")
        .err()
        .expect("an error");
    assert!(err.to_string().contains("does not load"), "{err}");
}
