//! Search indexes kept current: live updates through the outbox (a renamed listing, a master
//! product's change reaching every listing of it) on both backends, and indexes rebuilt at
//! start when corrupt or outdated.

use std::time::{Duration, Instant};

use portico_search::{
    IndexState, Indexer, IndexerOptions, SearchOptions, SearchRequest, SearchService, Visibility,
};
use portico_tests::search::{names, rename, search, skus};
use portico_tests::{CO, NW, TestApp, TestDb, on_both_backends, test_actor};
use serde_json::json;

/// Polls until `check` holds, at most `bound`; the time it took.
async fn within(bound: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < bound {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn a_renamed_listing_is_found_under_its_new_name_and_not_its_old(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (id, version) = rename(&app, "NW-TURBINE", "Northwind Gale Blower").await;
    let took = within(Duration::from_secs(10), async || {
        skus(&search(&app, "buyer@alpine.test", NW, "gale blower", json!(null)).await)
            .contains(&"NW-TURBINE".to_owned())
    })
    .await
    .expect("found under the new name");
    eprintln!("renamed listing searchable after {took:?}");
    // Still found by its SKU and description, but the old name is gone from hits and
    // highlights.
    let old = search(
        &app,
        "buyer@alpine.test",
        NW,
        "exclusive turbine",
        json!(null),
    )
    .await;
    assert!(
        !old.to_string().contains("Northwind Exclusive Turbine"),
        "{old}"
    );
    let old = search(
        &app,
        "buyer@alpine.test",
        NW,
        "Northwind Exclusive Turbine",
        json!(null),
    )
    .await;
    assert!(
        !names(&old).contains(&"Northwind Exclusive Turbine".to_owned()),
        "{old}"
    );

    // Unlisted: gone from search.
    let unlisted = app
        .as_user(
            "pricing@northwind.test",
            NW,
            "mutation($input: UnlistProductInput!) { unlistProduct(input: $input) { removedId } }",
            json!({ "input": { "id": id, "expectedVersion": version } }),
        )
        .await;
    assert!(unlisted.body["errors"].is_null(), "{:?}", unlisted.body);
    within(Duration::from_secs(10), async || {
        !skus(
            &search(
                &app,
                "pricing@northwind.test",
                NW,
                "gale blower",
                json!(null),
            )
            .await,
        )
        .contains(&"NW-TURBINE".to_owned())
    })
    .await
    .expect("gone once unlisted");
}

async fn a_master_product_change_reaches_every_listing_of_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // contoso lists the drill unchanged; northwind overrides its name.
    let drill = search(&app, "buyer@harbor.test", CO, "ACM-DRL-18", json!(null)).await;
    assert_eq!(
        names(&drill).first().map(String::as_str),
        Some("Acme Cordless Drill 18V")
    );
    let master: (String, String) = sqlx_master(&app).await;
    let directory = app.store.load_directory().await.unwrap();
    app.store
        .rename_master_product(
            &directory.scope_of_all(),
            &test_actor("test: master rename"),
            &master.0,
            "Acme Brushless Drill 18V",
        )
        .await
        .unwrap();
    within(Duration::from_secs(10), async || {
        names(&search(&app, "buyer@harbor.test", CO, "brushless", json!(null)).await)
            .contains(&"Acme Brushless Drill 18V".to_owned())
    })
    .await
    .expect("contoso's unchanged listing follows its master");
    let northwind = search(&app, "buyer@alpine.test", NW, "ACM-DRL-18", json!(null)).await;
    assert_eq!(
        names(&northwind).first().map(String::as_str),
        Some("Northwind ProDrill 18V"),
        "the override stays"
    );
    assert_eq!(master.1, "ACM-DRL-18");
}

/// The master product behind ACM-DRL-18: (id, sku).
async fn sqlx_master(app: &TestApp) -> (String, String) {
    let directory = app.store.load_directory().await.unwrap();
    let contoso = directory.tenant_by_slug("contoso").unwrap().id.clone();
    let listings = app
        .store
        .listings_for_index(&directory.scope_of_all(), &contoso, None)
        .await
        .unwrap();
    let drill = listings
        .iter()
        .find(|l| l.listing.sku == "ACM-DRL-18")
        .unwrap();
    (
        drill.listing.master_product_id.clone().unwrap(),
        drill.listing.sku.clone(),
    )
}

on_both_backends!(
    a_renamed_listing_is_found_under_its_new_name_and_not_its_old,
    a_master_product_change_reaches_every_listing_of_it,
);

#[tokio::test]
async fn a_corrupt_or_outdated_index_is_rebuilt_at_start_and_a_ready_one_answers_while_rebuilt() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let directory = std::sync::Arc::new(app.store.load_directory().await.unwrap());
    let northwind = directory.tenant_by_slug("northwind").unwrap().id.clone();
    let contoso = directory.tenant_by_slug("contoso").unwrap().id.clone();
    // Indexes of our own beside the server's, started the way the server starts them.
    let root = tempfile::tempdir().unwrap();
    let start = || {
        let service =
            std::sync::Arc::new(SearchService::new(root.path(), SearchOptions::default()));
        let source = directory.clone();
        let indexer = Indexer::new(
            app.store.clone(),
            service.clone(),
            std::sync::Arc::new(move || source.clone()),
            IndexerOptions::default(),
        );
        (service, indexer)
    };
    let visibility = Visibility {
        active_only: true,
        sold_in: Some("EU".into()),
        visible_to: None,
    };
    let turbine = SearchRequest {
        text: "turbine".into(),
        limit: 5,
        ..SearchRequest::default()
    };
    let (service, mut indexer) = start();
    indexer.prepare().await.unwrap();
    assert_eq!(service.state(&northwind), IndexState::Ready);
    let found = service
        .search(&northwind, visibility.clone(), turbine.clone())
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    drop((service, indexer));

    // northwind's index is garbage, contoso's was written by "another schema version".
    std::fs::write(
        root.path().join(&northwind).join("meta.json"),
        b"{ not json",
    )
    .unwrap();
    let meta = root.path().join(&contoso).join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let older = text.replace(
        &format!(r#"\"schema\":{}"#, portico_search::SCHEMA_VERSION),
        r#"\"schema\":0"#,
    );
    assert_ne!(
        older, text,
        "the schema version is in the commit payload: {text}"
    );
    std::fs::write(&meta, older).unwrap();

    let (service, mut indexer) = start();
    assert_eq!(service.state(&northwind), IndexState::Corrupt);
    assert_eq!(service.state(&contoso), IndexState::Outdated);
    indexer.prepare().await.unwrap();
    assert_eq!(service.state(&northwind), IndexState::Ready);
    assert_eq!(service.state(&contoso), IndexState::Ready);
    let found = service
        .search(&northwind, visibility.clone(), turbine.clone())
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    let winch = SearchRequest {
        text: "winch".into(),
        limit: 5,
        ..SearchRequest::default()
    };
    assert_eq!(
        service
            .search(&contoso, visibility.clone(), winch)
            .await
            .unwrap()
            .total,
        1
    );
    drop((service, indexer));

    // The outbox position is lost: every index is rebuilt at start, and a ready one keeps
    // answering from its last commit meanwhile (never `Building`).
    std::fs::remove_file(root.path().join("outbox-cursor")).unwrap();
    let (service, mut indexer) = start();
    assert_eq!(service.state(&northwind), IndexState::Ready);
    let searching = tokio::spawn({
        let (service, northwind, visibility) = (service.clone(), northwind.clone(), visibility);
        async move {
            let mut answered = 0;
            loop {
                match service
                    .search(&northwind, visibility.clone(), turbine.clone())
                    .await
                {
                    Ok(found) => assert_eq!(found.total, 1),
                    Err(err) => panic!("after {answered} answers: {err}"),
                }
                answered += 1;
                tokio::task::yield_now().await;
            }
        }
    });
    indexer.prepare().await.unwrap();
    assert!(!searching.is_finished(), "{:?}", searching.await);
    searching.abort();
    assert!(root.path().join("outbox-cursor").exists());
    assert_eq!(service.state(&northwind), IndexState::Ready);
}
