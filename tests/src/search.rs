//! What the search tests (`tests/tests/search_*.rs`) share: the `search` query, run as a user
//! while the portal's index is still being built, and the SKUs and names of its hits.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::TestApp;

pub const SEARCH: &str = "query($q: String!, $first: Int, $after: String, $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, filter: $filter) {
    total
    hits { score product { id sku name } highlights { field text ranges { start end } } }
    facets { field values { value count } }
    suggestion
    pageInfo { hasNextPage endCursor }
  } }";

/// A search as a user, waiting while the portal's index is still being built at start.
pub async fn search(app: &TestApp, email: &str, host: &str, q: &str, filter: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app
            .as_user(
                email,
                host,
                SEARCH,
                json!({ "q": q, "first": 100, "filter": filter }),
            )
            .await;
        if r.first_code() == Some("UNAVAILABLE") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(r.status, 200, "{email} {q:?}: {:?}", r.body);
        assert!(r.body["errors"].is_null(), "{email} {q:?}: {:?}", r.body);
        return r.body["data"]["search"].clone();
    }
}

pub fn skus(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["product"]["sku"].as_str().unwrap().to_owned())
        .collect()
}

pub fn names(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["product"]["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Renames northwind's listing `sku` as its pricing manager (found by searching its SKU, read
/// for its version), failing the test if the write is refused. Returns the product's id and
/// its version after the rename.
pub async fn rename(app: &TestApp, sku: &str, name: &str) -> (String, i64) {
    let found = search(app, "pricing@northwind.test", crate::NW, sku, json!(null)).await;
    let id = found["hits"][0]["product"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {sku}: {found}"))
        .to_owned();
    let r = app
        .as_user(
            "pricing@northwind.test",
            crate::NW,
            "query($id: ID!) { product(id: $id) { version } }",
            json!({ "id": id }),
        )
        .await;
    let version = r.body["data"]["product"]["version"].as_i64().unwrap();
    let renamed = app
        .as_user(
            "pricing@northwind.test",
            crate::NW,
            "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { name version } } }",
            json!({ "input": { "id": id, "expectedVersion": version, "name": name } }),
        )
        .await;
    assert_eq!(
        renamed.body["data"]["updateListing"]["product"]["name"], name,
        "{:?}",
        renamed.body
    );
    let version = renamed.body["data"]["updateListing"]["product"]["version"]
        .as_i64()
        .unwrap();
    (id, version)
}
