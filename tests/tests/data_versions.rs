//! The data versions every request reads first (`Store::versions`), read by one task for all
//! the requests asking at the same time: each still gets its own reseller's numbers, and sees
//! every write committed before it asked, while other requests keep the reader busy. On both
//! backends; on PostgreSQL, also after the server closed the reader's connection.

use portico_store::{Store, Versions};
use portico_tests::{TestDb, on_both_backends, tenant};

on_both_backends!(
    reads_asked_together_each_get_their_own_resellers_versions,
    a_read_sees_every_write_committed_before_it_asked_while_others_keep_the_reader_busy,
    closing_the_store_while_reads_run_returns_and_refuses_later_reads,
);

async fn reads_asked_together_each_get_their_own_resellers_versions(db: TestDb) {
    let store = db.seeded_store().await;
    // Give the resellers different catalog versions.
    for _ in 0..3 {
        db.sql_by_hand(
            "UPDATE listings SET updated_at = updated_at WHERE tenant_id = $1",
            &[&tenant("contoso")],
        )
        .await;
    }
    let northwind = store.versions(&tenant("northwind")).await.unwrap();
    let contoso = store.versions(&tenant("contoso")).await.unwrap();
    let nobody = store.versions("no-such-tenant").await.unwrap();
    assert_ne!(northwind.catalog, contoso.catalog);
    assert_eq!(northwind.identity, contoso.identity);
    assert!(
        nobody.catalog < northwind.catalog,
        "{nobody:?} {northwind:?}"
    );

    // 300 reads at once, mixed owners: more than one statement's worth, all answered.
    let reads = (0..300).map(|i| {
        let store = store.clone();
        let owner = match i % 3 {
            0 => tenant("northwind"),
            1 => tenant("contoso"),
            _ => "no-such-tenant".to_owned(),
        };
        tokio::spawn(async move { (i % 3, store.versions(&owner).await.unwrap()) })
    });
    let reads: Vec<_> = reads.collect();
    for read in reads {
        let (which, versions) = read.await.unwrap();
        let expected = [northwind, contoso, nobody][which];
        assert_eq!(versions, expected, "read of owner {which}");
    }
}

async fn a_read_sees_every_write_committed_before_it_asked_while_others_keep_the_reader_busy(
    db: TestDb,
) {
    let store = db.seeded_store().await;
    let northwind = tenant("northwind");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Background readers: the reader always has a statement in flight and a queue behind it.
    let busy: Vec<_> = (0..8)
        .map(|_| {
            let (store, stop, owner) = (store.clone(), stop.clone(), tenant("contoso"));
            tokio::spawn(async move {
                let mut reads = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    store.versions(&owner).await.unwrap();
                    reads += 1;
                }
                reads
            })
        })
        .collect();

    let mut last = store.versions(&northwind).await.unwrap();
    for round in 0..20 {
        let (sql, moved): (&str, fn(&Versions, &Versions) -> bool) = if round % 2 == 0 {
            (
                "UPDATE listings SET updated_at = updated_at WHERE tenant_id = $1 AND sort_sku = 'NW-TURBINE'",
                |before, after| after.catalog > before.catalog && after.identity == before.identity,
            )
        } else {
            (
                "UPDATE users SET email = email WHERE tenant_id = $1 AND email = 'pricing@northwind.test'",
                |before, after| after.identity > before.identity && after.catalog == before.catalog,
            )
        };
        db.sql_by_hand(sql, &[&northwind]).await;
        let now = store.versions(&northwind).await.unwrap();
        assert!(moved(&last, &now), "round {round}: {last:?} then {now:?}");
        last = now;
    }

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for task in busy {
        assert!(task.await.unwrap() > 0);
    }
    close_returns(store).await;
}

/// `Store::close` waits for every pooled connection, the reader's kept one included. A hang
/// guard, not a timing: the reader gives an idle connection back after 10 s on its own, so
/// the guard is shorter, or a reader that kept its connection through `close` would pass.
async fn close_returns(store: Store) {
    tokio::time::timeout(std::time::Duration::from_secs(5), store.close())
        .await
        .expect("the store closes although its version reader kept a connection");
}

async fn closing_the_store_while_reads_run_returns_and_refuses_later_reads(db: TestDb) {
    let store = db.seeded_store().await;
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (store, owner) = (store.clone(), tenant("northwind"));
            tokio::spawn(async move {
                let mut answered = 0u32;
                // Until the store refuses: every read before that is answered.
                while store.versions(&owner).await.is_ok() {
                    answered += 1;
                    tokio::task::yield_now().await;
                }
                answered
            })
        })
        .collect();
    // Let the readers get going: from here on a read is always queued or in flight.
    for _ in 0..20 {
        store.versions(&tenant("contoso")).await.unwrap();
    }
    close_returns(store.clone()).await;
    for reader in readers {
        reader.await.unwrap();
    }
    let refused = store.versions(&tenant("northwind")).await.unwrap_err();
    assert!(
        matches!(refused, portico_store::StoreError::Unavailable(_)),
        "{refused:?}"
    );
}

/// The reader keeps its connection between reads; a server that closed it (a restart, an
/// idle timeout) costs no request an error.
#[tokio::test]
async fn postgres_a_read_after_the_server_closed_the_readers_connection_still_succeeds() {
    let Some(db) = TestDb::postgres().await else {
        eprintln!("skipped: PORTICO_TEST_DATABASE_URL is not set");
        return;
    };
    let store = db.seeded_store().await;
    let northwind = tenant("northwind");
    let before = store.versions(&northwind).await.unwrap();
    db.sql_by_hand(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
        &[],
    )
    .await;
    assert_eq!(store.versions(&northwind).await.unwrap(), before);
    // And the next one keeps the new connection.
    assert_eq!(store.versions(&northwind).await.unwrap(), before);
    close_returns(store).await;
}
