//! The repositories, the same tests on SQLite and PostgreSQL: the demo seed, the directory,
//! users and roles, delegations, listings, and changes with their audit and outbox rows. Identity
//! links and providers are in `repository_identity.rs`.

use portico_store::model::{
    DelegatedScope, DelegationStatus, NewAuditEntry, Region, Role, TenantKind,
};
use portico_store::seed::{DEMO_ISSUER, demo_id};
use portico_store::{SeedOutcome, StoreError, TenantScope, audit_hash};
use portico_tests::{TestDb, on_both_backends, scope, tenant};

on_both_backends!(
    the_demo_seed_is_complete_and_a_second_run_changes_nothing,
    the_directory_knows_every_portal_and_the_tenant_tree,
    users_and_roles_are_read_only_inside_the_scope,
    delegations_are_seen_by_the_customer_and_the_reseller_only,
    listings_apply_white_label_overrides_and_stay_in_their_tenant,
    a_change_writes_its_audit_and_outbox_rows_in_the_same_transaction,
    a_change_outside_the_scope_or_with_bad_input_writes_nothing,
);

async fn the_demo_seed_is_complete_and_a_second_run_changes_nothing(db: TestDb) {
    let store = db.seeded_store().await;
    assert_eq!(
        store.seed_demo().await.unwrap(),
        SeedOutcome::AlreadySeeded {
            version: "1".into()
        }
    );
    let nw = store
        .count_listings(&scope(&["northwind"]), &tenant("northwind"))
        .await
        .unwrap();
    let co = store
        .count_listings(&scope(&["contoso"]), &tenant("contoso"))
        .await
        .unwrap();
    assert!(nw >= 300, "northwind lists {nw}");
    assert!(co >= 250, "contoso lists {co}");
    let users = store
        .users_of_tenant(&scope(&["alpine-dealers"]), &tenant("alpine-dealers"))
        .await
        .unwrap();
    let emails: Vec<_> = users.iter().map(|u| u.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "admin@alpine.test",
            "buyer@alpine.test",
            "viewer@alpine.test"
        ]
    );
}

async fn the_directory_knows_every_portal_and_the_tenant_tree(db: TestDb) {
    let store = db.seeded_store().await;
    let dir = store.load_directory().await.unwrap();
    assert_eq!(dir.tenants.len(), 7);
    for (host, slug) in [
        ("northwind.localhost", "northwind"),
        ("contoso.localhost", "contoso"),
        ("platform.localhost", "platform"),
    ] {
        assert_eq!(dir.tenant_for_host(host).unwrap().slug, slug);
    }
    assert!(dir.tenant_for_host("alpine-dealers.localhost").is_none());
    let mut below_northwind: Vec<_> = dir
        .subtree(&tenant("northwind"))
        .iter()
        .map(|id| dir.tenant(id).unwrap().slug.clone())
        .collect();
    below_northwind.sort();
    assert_eq!(
        below_northwind,
        [
            "alpine-dealers",
            "fjord-outfitters",
            "northwind",
            "prairie-supply"
        ]
    );
    let alpine = dir.tenant_by_slug("alpine-dealers").unwrap();
    assert_eq!(alpine.kind, TenantKind::Customer);
    assert_eq!(alpine.region, Some(Region::Eu));
    assert_eq!(
        dir.tenant_by_slug("prairie-supply").unwrap().region,
        Some(Region::Na)
    );
    let idps = store
        .identity_providers(&[&tenant("northwind"), &tenant("platform")])
        .await
        .unwrap();
    assert_eq!(
        idps.len(),
        1,
        "northwind has none of its own; the platform's is the default"
    );
    assert_eq!(idps[0].tenant_id, tenant("platform"));
}

async fn users_and_roles_are_read_only_inside_the_scope(db: TestDb) {
    let store = db.seeded_store().await;
    let northwind = scope(&["northwind"]);
    let staff = store
        .users_of_tenant(&northwind, &tenant("northwind"))
        .await
        .unwrap();
    assert_eq!(staff.len(), 5);
    assert!(
        store
            .users_of_tenant(&scope(&["contoso"]), &tenant("northwind"))
            .await
            .unwrap()
            .is_empty(),
        "contoso's scope sees no northwind user"
    );
    let rep = staff
        .iter()
        .find(|u| u.email == "rep-eu@northwind.test")
        .unwrap();
    let roles = store.role_assignments(&northwind, &rep.id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role, Role::SalesRep);
    assert_eq!(roles[0].regions, [Region::Eu]);
    assert!(
        store
            .role_assignments(&scope(&["contoso"]), &rep.id)
            .await
            .unwrap()
            .is_empty()
    );

    let found = store
        .user_by_identity(&northwind, DEMO_ISSUER, &rep.subject)
        .await
        .unwrap();
    assert_eq!(
        found.as_ref().map(|u| u.email.as_str()),
        Some("rep-eu@northwind.test")
    );
    let across = store
        .user_by_identity(&scope(&["contoso"]), DEMO_ISSUER, &rep.subject)
        .await
        .unwrap();
    assert!(
        across.is_none(),
        "the same identity is invisible from another tenant's scope"
    );
    assert!(
        store
            .user_by_identity(&TenantScope::none(), DEMO_ISSUER, &rep.subject)
            .await
            .unwrap()
            .is_none()
    );
}

async fn delegations_are_seen_by_the_customer_and_the_reseller_only(db: TestDb) {
    let store = db.seeded_store().await;
    let now = chrono::Utc::now();
    let northwind = store.delegations(&scope(&["northwind"])).await.unwrap();
    assert_eq!(northwind.len(), 4);
    let contoso = store.delegations(&scope(&["contoso"])).await.unwrap();
    assert_eq!(contoso.len(), 1);
    assert_eq!(contoso[0].customer_id, tenant("harbor-tools"));
    assert!(contoso[0].is_active(now));

    let prairie = store
        .delegations(&scope(&["prairie-supply"]))
        .await
        .unwrap();
    assert_eq!(prairie.len(), 2);
    let active: Vec<_> = prairie
        .iter()
        .filter(|d| d.is_active(now))
        .flat_map(|d| d.scopes.clone())
        .collect();
    assert_eq!(
        active,
        [DelegatedScope::SupportReadonly],
        "USER_ADMIN has expired"
    );

    let fjord = store
        .delegations(&scope(&["fjord-outfitters"]))
        .await
        .unwrap();
    assert_eq!(fjord.len(), 1);
    assert_eq!(fjord[0].status, DelegationStatus::Pending);
    assert!(!fjord[0].is_active(now));

    let alpine = store
        .delegations(&scope(&["alpine-dealers"]))
        .await
        .unwrap();
    assert_eq!(
        alpine[0].scopes,
        [DelegatedScope::UserAdmin, DelegatedScope::SettingsAdmin]
    );
    assert!(
        store
            .delegations(&scope(&["harbor-tools"]))
            .await
            .unwrap()
            .iter()
            .all(|d| d.reseller_id == tenant("contoso"))
    );
}

async fn listings_apply_white_label_overrides_and_stay_in_their_tenant(db: TestDb) {
    let store = db.seeded_store().await;
    let nw = store
        .listings(&scope(&["northwind"]), &tenant("northwind"), 1000)
        .await
        .unwrap();
    let drill = nw.iter().find(|l| l.sku == "ACM-DRL-18").unwrap();
    assert_eq!(drill.name, "Northwind ProDrill 18V", "the override wins");
    assert_eq!(
        drill.brand.as_deref(),
        Some("Acme"),
        "the master fills the rest"
    );
    let turbine = nw
        .iter()
        .find(|l| l.name == "Northwind Exclusive Turbine")
        .unwrap();
    assert_eq!(turbine.regions, [Region::Eu, Region::Na]);
    assert_eq!(
        turbine.cost.as_ref().map(|c| c.decimal()),
        Some("700.00".into())
    );
    assert!(nw.iter().all(|l| l.tenant_id == tenant("northwind")));
    assert!(nw.iter().all(|l| l.name != "Contoso Harbor Winch"));

    let co = store
        .listings(&scope(&["contoso"]), &tenant("contoso"), 1000)
        .await
        .unwrap();
    assert_eq!(
        co.iter().find(|l| l.sku == "ACM-DRL-18").unwrap().name,
        "Acme Cordless Drill 18V"
    );
    assert!(co.iter().any(|l| l.name == "Contoso Harbor Winch"));

    let across = store
        .listings(&scope(&["contoso"]), &tenant("northwind"), 1000)
        .await
        .unwrap();
    assert!(
        across.is_empty(),
        "asking for another tenant's listings from contoso's scope returns nothing"
    );
}

async fn a_change_writes_its_audit_and_outbox_rows_in_the_same_transaction(db: TestDb) {
    let store = db.seeded_store().await;
    let northwind = scope(&["northwind"]);
    let actor = NewAuditEntry {
        actor: demo_id("user", "admin@northwind.test"),
        actor_tenant: tenant("northwind"),
        reason: Some("pilot".into()),
        ..NewAuditEntry::default()
    };
    store
        .set_feature_flag(
            &northwind,
            &tenant("northwind"),
            "bulk_upload",
            true,
            &actor,
        )
        .await
        .unwrap();
    store
        .set_feature_flag(
            &northwind,
            &tenant("northwind"),
            "bulk_upload",
            false,
            &actor,
        )
        .await
        .unwrap();
    let rows = store
        .audit_entries(&northwind, &tenant("northwind"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].before_state.as_deref(), Some(r#"{"enabled":true}"#));
    assert_eq!(
        rows[1].prev_hash, rows[0].hash,
        "each row chains to the previous one"
    );
    let report = store
        .verify_audit_chain(&northwind, &tenant("northwind"))
        .await
        .unwrap();
    assert_eq!((report.rows, report.first_broken), (2, None));
    let mut forged = rows[1].clone();
    forged.after_state = Some(r#"{"enabled":true}"#.into());
    assert_ne!(
        audit_hash(&forged),
        forged.hash,
        "a changed row no longer matches its hash"
    );

    let outbox = store.pending_outbox(&northwind).await.unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(
        outbox
            .iter()
            .all(|(_, t, topic, _)| *t == tenant("northwind") && topic == "feature_flag.changed")
    );
    assert!(
        store
            .pending_outbox(&scope(&["contoso"]))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .audit_entries(&scope(&["contoso"]), &tenant("northwind"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_change_outside_the_scope_or_with_bad_input_writes_nothing(db: TestDb) {
    let store = db.seeded_store().await;
    let actor = NewAuditEntry {
        actor: demo_id("user", "admin@contoso.test"),
        actor_tenant: tenant("contoso"),
        ..NewAuditEntry::default()
    };
    let err = store
        .set_feature_flag(
            &scope(&["contoso"]),
            &tenant("northwind"),
            "x",
            true,
            &actor,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound { entity: "tenant" }),
        "{err}"
    );
    let err = store
        .set_feature_flag(
            &scope(&["contoso"]),
            &tenant("contoso"),
            "Bad Key!",
            true,
            &actor,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid { field: "key", .. }),
        "{err}"
    );
    let everything = scope(&["northwind", "contoso"]);
    assert!(
        store
            .audit_entries(&everything, &tenant("northwind"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .audit_entries(&everything, &tenant("contoso"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.pending_outbox(&everything).await.unwrap().is_empty());
}
