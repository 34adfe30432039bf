//! The audit chain in the store: appends of many tenants at once keep every chain whole, the
//! verifier names the first row changed, re-hashed or removed by hand, and on PostgreSQL an
//! append waits only for appends of its own tenant.

use std::time::Duration;

use portico_store::model::NewAuditEntry;
use portico_store::seed::demo_id;
use portico_store::{ChainProblem, Store, TenantScope, audit_hash};
use portico_tests::{TestDb, on_both_backends, tenant};

fn actor() -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", "admin@northwind.test"),
        actor_tenant: tenant("northwind"),
        reason: Some("audit chain test".into()),
        ..NewAuditEntry::default()
    }
}

/// One audit row in `slug`'s chain, through an ordinary audited write.
async fn append(store: &Store, slug: &str, key: &str) {
    let id = tenant(slug);
    store
        .set_feature_flag(&TenantScope::single(id.clone()), &id, key, true, &actor())
        .await
        .unwrap();
}

async fn appends_of_many_tenants_at_once_keep_every_chain_whole(db: TestDb) {
    let store = db.seeded_store().await;
    let slugs = ["northwind", "alpine-dealers", "contoso", "harbor-tools"];
    let mut writes = Vec::new();
    for key in ["a", "b", "c", "d", "e", "f"] {
        for slug in slugs {
            let store = store.clone();
            writes.push(tokio::spawn(async move {
                append(&store, slug, key).await;
            }));
        }
    }
    for w in writes {
        w.await.unwrap();
    }
    for slug in slugs {
        let id = tenant(slug);
        let scope = TenantScope::single(id.clone());
        let report = store.verify_audit_chain(&scope, &id).await.unwrap();
        assert_eq!(
            (report.rows, report.first_broken, report.problem),
            (6, None, None),
            "{slug}"
        );
        let seqs: Vec<i64> = store
            .audit_entries(&scope, &id)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6], "{slug}");
    }
}

async fn verify_names_the_first_row_changed_rehashed_or_removed_by_hand(db: TestDb) {
    let store = db.seeded_store().await;
    for key in ["a", "b", "c"] {
        append(&store, "northwind", key).await;
    }
    let nw = tenant("northwind");
    let scope = TenantScope::single(nw.clone());
    let clean = store.verify_audit_chain(&scope, &nw).await.unwrap();
    assert_eq!((clean.rows, clean.first_broken), (3, None));
    if db.url.starts_with("sqlite:") {
        // Append-only by trigger; someone with the file can drop them.
        db.sql_by_hand("DROP TRIGGER audit_log_no_update", &[])
            .await;
        db.sql_by_hand("DROP TRIGGER audit_log_no_delete", &[])
            .await;
    }

    // Changed: the row no longer hashes to its hash.
    let forged = r#"{"enabled":false}"#;
    db.sql_by_hand(
        "UPDATE audit_log SET after_state = $1 WHERE tenant_id = $2 AND seq = 2",
        &[forged, &nw],
    )
    .await;
    let report = store.verify_audit_chain(&scope, &nw).await.unwrap();
    assert_eq!(
        (report.rows, report.first_broken, report.problem),
        (3, Some(2), Some(ChainProblem::HashMismatch))
    );

    // Changed and re-hashed: the next row's link gives it away.
    let mut row = store.audit_entries(&scope, &nw).await.unwrap()[1].clone();
    assert_eq!(row.after_state.as_deref(), Some(forged));
    row.hash = audit_hash(&row);
    db.sql_by_hand(
        "UPDATE audit_log SET hash = $1 WHERE tenant_id = $2 AND seq = 2",
        &[&row.hash, &nw],
    )
    .await;
    let report = store.verify_audit_chain(&scope, &nw).await.unwrap();
    assert_eq!(
        (report.first_broken, report.problem),
        (Some(3), Some(ChainProblem::BrokenLink))
    );

    // Removed: the sequence has a gap where the first row was.
    db.sql_by_hand(
        "DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 1",
        &[&nw],
    )
    .await;
    let report = store.verify_audit_chain(&scope, &nw).await.unwrap();
    assert_eq!(
        (report.rows, report.first_broken, report.problem),
        (2, Some(2), Some(ChainProblem::SeqGap { expected: 1 }))
    );
    // Another tenant's chain is not touched by any of it.
    append(&store, "contoso", "x").await;
    let co = tenant("contoso");
    let report = store
        .verify_audit_chain(&TenantScope::single(co.clone()), &co)
        .await
        .unwrap();
    assert_eq!((report.rows, report.first_broken), (1, None));
}

on_both_backends!(
    appends_of_many_tenants_at_once_keep_every_chain_whole,
    verify_names_the_first_row_changed_rehashed_or_removed_by_hand,
);

/// PostgreSQL only: SQLite has one writer at a time by design (DESIGN section 3), so there
/// every write waits for every other, whatever its tenant.
#[tokio::test]
async fn on_postgres_an_append_waits_for_its_own_tenants_chain_and_never_for_anothers() {
    use sqlx::Connection;
    let Some(db) = TestDb::postgres().await else {
        eprintln!("skipped: PORTICO_TEST_DATABASE_URL is not set");
        return;
    };
    let store = db.seeded_store().await;
    // An append to alpine's chain in flight elsewhere: it holds alpine's chain lock (the
    // tenant's row, as `append_audit!` takes it) until it commits.
    let mut other = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let mut in_flight = other.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE")
        .bind(tenant("alpine-dealers"))
        .execute(&mut *in_flight)
        .await
        .unwrap();

    // Other tenants' appends, its reseller's included, go through meanwhile.
    for slug in ["northwind", "fjord-outfitters", "contoso"] {
        tokio::time::timeout(Duration::from_secs(5), append(&store, slug, "meanwhile"))
            .await
            .unwrap_or_else(|_| panic!("{slug}'s append waited for alpine's chain"));
    }
    // alpine's own waits for it, and then follows it.
    let waiting = tokio::spawn({
        let store = store.clone();
        async move { append(&store, "alpine-dealers", "after").await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !waiting.is_finished(),
        "alpine's append does not wait for alpine's chain"
    );
    in_flight.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("alpine's append goes on once the other commits")
        .unwrap();
}
