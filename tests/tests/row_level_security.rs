//! PostgreSQL's own fence (DESIGN section 3): row-level security under a non-owner runtime role,
//! with the scope set per transaction. These run where a PostgreSQL server is configured.

use portico_store::diagnostics::TENANT_TABLES;
use portico_store::seed::demo_id;
use portico_store::{StoreOptions, TenantScope};
use portico_tests::TestDb;

fn scope(slugs: &[&str]) -> TenantScope {
    TenantScope::of(slugs.iter().map(|s| demo_id("tenant", s)))
}

async fn postgres() -> Option<TestDb> {
    let db = TestDb::postgres().await;
    if db.is_none() {
        eprintln!("skipped: PORTICO_TEST_DATABASE_URL is not set");
    }
    db
}

#[tokio::test]
async fn a_query_that_forgets_its_tenant_predicate_sees_only_the_scope() {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    for table in TENANT_TABLES {
        let contoso = store
            .unfenced_tenants(&scope(&["contoso"]), table)
            .await
            .unwrap();
        // A grant belongs to the customer that gave it and is seen by the reseller holding it.
        let allowed = match *table {
            "delegations" => vec![
                demo_id("tenant", "contoso"),
                demo_id("tenant", "harbor-tools"),
            ],
            _ => vec![demo_id("tenant", "contoso")],
        };
        assert!(
            contoso.iter().all(|t| allowed.contains(t)),
            "{table}: contoso's scope saw {contoso:?}"
        );
        assert_eq!(
            store
                .unfenced_count(&TenantScope::none(), table)
                .await
                .unwrap(),
            0,
            "{table}: no scope, no rows"
        );
    }
    assert_eq!(
        store
            .unfenced_count(&scope(&["contoso"]), "delegations")
            .await
            .unwrap(),
        1,
        "harbor's grant only"
    );
    let listings = store
        .unfenced_count(&scope(&["contoso"]), "listings")
        .await
        .unwrap();
    assert!(
        listings >= 250,
        "contoso still sees its own {listings} listings"
    );

    // A customer's scope holds its reseller too, but reseller-owned rows about other customers
    // stay hidden: alpine sees its own contract price and assortment row, not a sibling's.
    let alpine = scope(&["alpine-dealers", "northwind"]);
    assert_eq!(
        store
            .unfenced_count(&alpine, "contract_prices")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .unfenced_count(&alpine, "listing_customers")
            .await
            .unwrap(),
        1
    );
    let fjord = scope(&["fjord-outfitters", "northwind"]);
    assert_eq!(
        store
            .unfenced_count(&fjord, "contract_prices")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .unfenced_count(&fjord, "listing_customers")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_runtime_role_owns_nothing_and_cannot_bypass_row_level_security() {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    let (user, bypass, setting) = store
        .runtime_session()
        .await
        .unwrap()
        .expect("a PostgreSQL store");
    assert_eq!(user, "portico_app");
    assert!(!bypass);
    assert_eq!(setting, None);
}

#[tokio::test]
async fn a_pooled_connection_carries_no_scope_into_the_next_transaction() {
    let Some(db) = postgres().await else { return };
    db.seeded_store().await;
    // One connection for queries (the pool's extra one is the version reader's, which nothing
    // here asks), so the next transaction surely reuses it.
    let store = db
        .store(&StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        })
        .await;
    let seen = store
        .unfenced_count(&scope(&["northwind"]), "listings")
        .await
        .unwrap();
    assert!(seen > 0);
    let (_, _, setting) = store.runtime_session().await.unwrap().unwrap();
    assert_eq!(setting, None, "the scope ended with its transaction");
    assert_eq!(
        store
            .unfenced_count(&TenantScope::none(), "listings")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_write_for_a_tenant_outside_the_scope_is_refused_by_the_database() {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    let err = store
        .unfenced_insert_listing(
            &scope(&["contoso"]),
            "probe-1",
            &demo_id("tenant", "northwind"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    store
        .unfenced_insert_listing(
            &scope(&["contoso"]),
            "probe-2",
            &demo_id("tenant", "contoso"),
        )
        .await
        .expect("inside the scope the same insert works");
}
