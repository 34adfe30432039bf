//! A page of 100 products costs the same SQL statements as a page of 1: listings and regions
//! in one transaction, prices through one batched loader. A search showing prices costs what
//! a page costs, and a repeated one only the data versions. Counted from sqlx's own statement
//! log (`sqlx::query` events), on SQLite and then PostgreSQL (one test, so no other test's
//! statements are counted).

use std::sync::atomic::{AtomicUsize, Ordering};

use portico_tests::{TestApp, TestDb};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, filter};

static STATEMENTS: AtomicUsize = AtomicUsize::new(0);
static LOG: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct Summary(String);
impl tracing::field::Visit for Summary {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            self.0 = value.to_owned();
        }
    }
}

struct CountStatements;

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            let mut summary = Summary(String::new());
            event.record(&mut summary);
            // A new pooled connection's set-up is the pool's, not the page's.
            if summary.0.starts_with("PRAGMA") || summary.0.starts_with("SET ROLE") {
                return;
            }
            STATEMENTS.fetch_add(1, Ordering::SeqCst);
            LOG.lock().unwrap().push(summary.0);
        }
    }
}

const PAGE: &str = "query($first: Int) { products(first: $first) { edges { node {
  id sku name price { amount { amount currency } source } listPrice { amount } } } } }";

async fn statements_per_page(app: &TestApp, token: &str, first: usize) -> (usize, usize) {
    LOG.lock().unwrap().clear();
    let before = STATEMENTS.load(Ordering::SeqCst);
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("host", "northwind.localhost")
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({ "query": PAGE, "variables": { "first": first } }))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    let count = STATEMENTS.load(Ordering::SeqCst) - before;
    if count > 0 && first == 100 {
        eprintln!("the statements of a page: {:#?}", LOG.lock().unwrap());
    }
    let edges = body["data"]["products"]["edges"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(
        body["data"]["products"]["edges"][0]["node"]["price"].is_object(),
        "{body}"
    );
    (count, edges)
}

const SEARCH: &str = "query($q: String!) { search(query: $q, first: 20) { total hits { product {
  id sku name price { amount { amount currency } source } listPrice { amount } } } } }";

/// (statements, hits) of a search for `q`, waiting while the index is still being built.
async fn statements_per_search(app: &TestApp, token: &str, q: &str) -> (usize, usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        LOG.lock().unwrap().clear();
        let before = STATEMENTS.load(Ordering::SeqCst);
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .header("host", "northwind.localhost")
            .header("authorization", format!("Bearer {token}"))
            .json(&json!({ "query": SEARCH, "variables": { "q": q } }))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = response.json().await.unwrap();
        let count = STATEMENTS.load(Ordering::SeqCst) - before;
        if body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            continue;
        }
        let hits = body["data"]["search"]["hits"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(hits > 0, "{body}");
        assert!(
            body["data"]["search"]["hits"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["product"]["price"].is_object()),
            "{body}"
        );
        eprintln!("the statements of a search: {:#?}", LOG.lock().unwrap());
        return (count, hits);
    }
}

/// (statements, products) of a page at 1, 20 and 100 products: read from the database, then,
/// with the page cache on, the same pages again (served from the cache).
async fn measure(db: TestDb, cache: bool) -> (Vec<(usize, usize)>, Vec<(usize, usize)>) {
    // The search indexer reads the outbox on its own schedule: put it to sleep, its statements
    // are not the page's.
    let app = TestApp::spawn_with(db, |c| {
        c.search.poll_ms = 3_600_000;
        c.catalog.page_cache_entries = if cache { 64 } else { 0 };
    })
    .await;
    let token = app.token_for("buyer@alpine.test").await;
    // Warm-up: start-up work (session sweep, policy scopes) is not the page's. Another page
    // size than the measured ones, so none of them is cached yet.
    statements_per_page(&app, &token, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mut read = Vec::new();
    for first in [1, 20, 100] {
        read.push(statements_per_page(&app, &token, first).await);
    }
    let mut cached = Vec::new();
    if cache {
        for first in [1, 20, 100] {
            cached.push(statements_per_page(&app, &token, first).await);
        }
    }
    (read, cached)
}

/// (statements of a search, of the same search again): a warm-up search first (start-up
/// work, the index being built), then two others.
async fn measure_search(db: TestDb) -> (usize, usize) {
    let app = TestApp::spawn_with(db, |c| c.search.poll_ms = 3_600_000).await;
    let token = app.token_for("buyer@alpine.test").await;
    statements_per_search(&app, &token, "turbine").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (first, hits) = statements_per_search(&app, &token, "drill").await;
    let (again, hits_again) = statements_per_search(&app, &token, "drill").await;
    assert_eq!(hits, hits_again);
    (first, again)
}

/// The statements of every page, checked to be one small constant.
fn assert_constant(name: &str, counts: &[(usize, usize)]) -> usize {
    assert_eq!(
        counts.iter().map(|c| c.1).collect::<Vec<_>>(),
        [1, 20, 100],
        "{name}: page sizes"
    );
    let statements: Vec<usize> = counts.iter().map(|c| c.0).collect();
    assert!(
        statements.iter().all(|&s| s == statements[0]),
        "{name}: {statements:?}"
    );
    assert!(
        statements[0] > 0 && statements[0] <= 20,
        "{name}: a small constant, got {}",
        statements[0]
    );
    statements[0]
}

/// A fresh SQLite database, and a PostgreSQL one when there is a server.
async fn backends() -> Vec<(&'static str, TestDb)> {
    let mut backends = vec![("sqlite", TestDb::sqlite().await)];
    if let Some(pg) = TestDb::postgres().await {
        backends.push(("postgres", pg));
    }
    backends
}

#[tokio::test]
async fn a_page_costs_the_same_statements_at_1_20_and_100_products_and_a_repeated_search_only_the_versions()
 {
    tracing_subscriber::registry()
        .with(CountStatements.with_filter(filter::filter_fn(|m| m.target() == "sqlx::query")))
        .init();
    for (name, db) in backends().await {
        let (read, _) = measure(db, false).await;
        eprintln!("{name}: (statements, products) per page, no page cache = {read:?}");
        assert_constant(name, &read);
    }
    // With the page cache: a page read from the database costs what it costs without (the
    // data versions are read once per request either way), the same page again only the
    // versions, at every size.
    for (name, db) in backends().await {
        let (read, cached) = measure(db, true).await;
        eprintln!("{name}: with the page cache, read = {read:?}, cached = {cached:?}");
        let read = assert_constant(name, &read);
        let cached = assert_constant(name, &cached);
        assert!(
            cached < read,
            "{name}: a cached page skips the page's statements"
        );
        // A search showing prices: its rows and their prices in one statement, as a page's
        // (so it costs what a page costs), and cached as a page is.
        let (first, again) = measure_search(db_for(name).await).await;
        eprintln!("{name}: a search = {first} statements, the same search again = {again}");
        assert_eq!(first, read, "{name}: a search costs what a page costs");
        assert_eq!(
            again, cached,
            "{name}: a repeated search reads only the versions"
        );
    }
}

async fn db_for(name: &str) -> TestDb {
    match name {
        "sqlite" => TestDb::sqlite().await,
        _ => TestDb::postgres().await.expect("a PostgreSQL server"),
    }
}
