//! The identity repositories, the same tests on SQLite and PostgreSQL: identity links and
//! deactivations scoped and audited, and identity providers refusing weak algorithms and
//! inline secrets.

use portico_store::model::NewAuditEntry;
use portico_store::seed::{DEMO_ISSUER, demo_id};
use portico_store::{NewIdentityProvider, StoreError};
use portico_tests::{TestDb, on_both_backends, scope, tenant};

on_both_backends!(
    identity_links_and_deactivations_are_scoped_and_audited,
    identity_providers_refuse_weak_algorithms_and_inline_secrets,
);

fn admin_of(slug: &str, email: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", email),
        actor_tenant: tenant(slug),
        action: String::new(),
        target: String::new(),
        before_state: None,
        after_state: None,
        reason: None,
    }
}

async fn identity_links_and_deactivations_are_scoped_and_audited(db: TestDb) {
    let store = db.seeded_store().await;
    let northwind_tree = scope(&[
        "northwind",
        "alpine-dealers",
        "prairie-supply",
        "fjord-outfitters",
    ]);
    let buyer = demo_id("user", "buyer@alpine.test");
    let actor = admin_of("northwind", "admin@northwind.test");

    let entry = store
        .set_user_identity(
            &northwind_tree,
            &buyer,
            "https://idp.northwind.test",
            "b-42",
            &actor,
        )
        .await
        .unwrap();
    assert_eq!(entry.action, "user.identity_set");
    assert_eq!(
        entry.tenant_id,
        tenant("alpine-dealers"),
        "audited in the user's tenant"
    );
    let found = store
        .user_by_identity(&northwind_tree, "https://idp.northwind.test", "b-42")
        .await
        .unwrap()
        .expect("found under the new identity");
    assert_eq!(found.id, buyer);
    assert!(
        store
            .user_by_identity(&northwind_tree, DEMO_ISSUER, &buyer)
            .await
            .unwrap()
            .is_none(),
        "the old identity no longer signs in"
    );

    // Contoso's admin cannot touch a northwind customer's user: NotFound, nothing written.
    let contoso = scope(&["contoso", "harbor-tools"]);
    let before = store
        .audit_entries(&scope(&["alpine-dealers"]), &tenant("alpine-dealers"))
        .await
        .unwrap()
        .len();
    for result in [
        store
            .set_user_identity(
                &contoso,
                &buyer,
                "https://evil.test",
                "x",
                &admin_of("contoso", "admin@contoso.test"),
            )
            .await,
        store
            .deactivate_user(&contoso, &buyer, &admin_of("contoso", "admin@contoso.test"))
            .await,
    ] {
        assert!(
            matches!(result, Err(StoreError::NotFound { entity: "user" })),
            "{result:?}"
        );
    }
    let bad = store
        .set_user_identity(
            &northwind_tree,
            &buyer,
            "https://idp.northwind.test",
            "",
            &actor,
        )
        .await;
    assert!(
        matches!(
            bad,
            Err(StoreError::Invalid {
                field: "subject",
                ..
            })
        ),
        "{bad:?}"
    );
    let after = store
        .audit_entries(&scope(&["alpine-dealers"]), &tenant("alpine-dealers"))
        .await
        .unwrap()
        .len();
    assert_eq!(before, after);

    let entry = store
        .deactivate_user(&northwind_tree, &buyer, &actor)
        .await
        .unwrap();
    assert_eq!(entry.action, "user.deactivated");
    let user = store
        .user_by_identity(&northwind_tree, "https://idp.northwind.test", "b-42")
        .await
        .unwrap()
        .unwrap();
    assert!(user.deactivated_at.is_some());
    let report = store
        .verify_audit_chain(&scope(&["alpine-dealers"]), &tenant("alpine-dealers"))
        .await
        .unwrap();
    assert_eq!(report.first_broken, None);
}

async fn identity_providers_refuse_weak_algorithms_and_inline_secrets(db: TestDb) {
    let store = db.seeded_store().await;
    let northwind = scope(&["northwind"]);
    let actor = admin_of("northwind", "admin@northwind.test");
    let good = NewIdentityProvider {
        tenant_id: tenant("northwind"),
        issuer_url: "https://login.northwind.test".into(),
        client_id: "portico".into(),
        client_secret_ref: Some("env:NORTHWIND_OIDC_SECRET".into()),
        audience: "portico".into(),
        algorithms: vec!["RS256".into(), "ES256".into()],
    };
    for (field, bad) in [
        (
            "algorithms",
            NewIdentityProvider {
                algorithms: vec!["HS256".into()],
                ..good.clone()
            },
        ),
        (
            "algorithms",
            NewIdentityProvider {
                algorithms: vec!["none".into()],
                ..good.clone()
            },
        ),
        (
            "algorithms",
            NewIdentityProvider {
                algorithms: vec![],
                ..good.clone()
            },
        ),
        (
            "clientSecretRef",
            NewIdentityProvider {
                client_secret_ref: Some("s3cret".into()),
                ..good.clone()
            },
        ),
        (
            "issuerUrl",
            NewIdentityProvider {
                issuer_url: "login.northwind.test".into(),
                ..good.clone()
            },
        ),
        (
            "audience",
            NewIdentityProvider {
                audience: " ".into(),
                ..good.clone()
            },
        ),
    ] {
        let result = store
            .upsert_identity_provider(&northwind, &bad, &actor)
            .await;
        assert!(
            matches!(&result, Err(StoreError::Invalid { field: f, .. }) if *f == field),
            "{field}: {result:?}"
        );
    }
    let outside = store
        .upsert_identity_provider(&scope(&["contoso"]), &good, &actor)
        .await;
    assert!(
        matches!(outside, Err(StoreError::NotFound { .. })),
        "{outside:?}"
    );

    store
        .upsert_identity_provider(&northwind, &good, &actor)
        .await
        .unwrap();
    let chain = [
        tenant("alpine-dealers"),
        tenant("northwind"),
        tenant("platform"),
    ];
    let chain: Vec<&str> = chain.iter().map(String::as_str).collect();
    let providers = store.identity_providers(&chain).await.unwrap();
    assert_eq!(
        providers[0].issuer_url, "https://login.northwind.test",
        "the nearest tenant's first"
    );
    assert_eq!(providers[0].algorithms, vec!["RS256", "ES256"]);
    assert_eq!(providers[1].issuer_url, DEMO_ISSUER);
    // Registering the same issuer again replaces it.
    store
        .upsert_identity_provider(
            &northwind,
            &NewIdentityProvider {
                client_id: "portico-2".into(),
                ..good.clone()
            },
            &actor,
        )
        .await
        .unwrap();
    let providers = store.identity_providers(&chain).await.unwrap();
    assert_eq!(providers.len(), 2);
    assert_eq!(providers[0].client_id, "portico-2");
}
