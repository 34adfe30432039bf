//! What the catalog write tests (`tests/tests/catalog_writes_*.rs`) share: northwind's seeded
//! products as targets, and whether each party sees one and at what price, read through
//! `product(id)`, the products page, search and `priceFor`.

use std::time::{Duration, Instant};

use portico_resolvers::encode_id;
use portico_store::seed::demo_id;
use serde_json::{Value, json};

use crate::{NW, TestApp, customer_id};

pub const STAFF: &str = "pricing@northwind.test";

/// One of northwind's products: its id, and what finds it on a page and in search.
pub struct Target {
    pub id: String,
    pub sku: String,
    pub name: String,
    /// A `ProductFilter` (brand and category) whose page holds it.
    pub filter: Value,
}

/// Northwind's listing seeded under `key` (DESIGN section 9), as its staff see it.
pub async fn target(app: &TestApp, key: &str) -> Target {
    let id = encode_id("Product", &demo_id("listing", &format!("northwind/{key}"))).to_string();
    let r = app
        .as_user(
            STAFF,
            NW,
            "query($id: ID!) { product(id: $id) { sku name brand category } }",
            json!({ "id": id }),
        )
        .await;
    let p = &r.body["data"]["product"];
    assert!(p.is_object(), "{key}: {:?}", r.body);
    Target {
        id,
        sku: p["sku"].as_str().unwrap().to_owned(),
        name: p["name"].as_str().unwrap().to_owned(),
        filter: json!({ "brand": p["brand"], "category": p["category"] }),
    }
}

/// `product(id)` as `email`: `None` when NOT_FOUND.
pub async fn product_as(app: &TestApp, email: &str, t: &Target) -> Option<Value> {
    let r = app
        .as_user(
            email,
            NW,
            "query($id: ID!) { product(id: $id) { sku name version regions
               price(quantity: 10) { amount { amount currency } source minQuantity }
               listPrice { amount currency } } }",
            json!({ "id": t.id }),
        )
        .await;
    let p = &r.body["data"]["product"];
    if p.is_null() {
        assert_eq!(r.first_code(), Some("NOT_FOUND"), "{email}: {:?}", r.body);
        None
    } else {
        Some(p.clone())
    }
}

/// Whether `t` is on `email`'s page of products of its brand and category.
pub async fn on_page(app: &TestApp, email: &str, t: &Target) -> bool {
    let r = app
        .as_user(
            email,
            NW,
            "query($f: ProductFilter) { products(first: 100, filter: $f) {
               edges { node { id } } pageInfo { hasNextPage } } }",
            json!({ "f": t.filter }),
        )
        .await;
    let products = &r.body["data"]["products"];
    assert_eq!(
        products["pageInfo"]["hasNextPage"], false,
        "{email}: one page holds the filter: {:?}",
        r.body
    );
    products["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{email}: {:?}", r.body))
        .iter()
        .any(|e| e["node"]["id"] == t.id.as_str())
}

/// Whether a search for `t`'s name hits it, as `email` (waiting while the index is built).
pub async fn in_search(app: &TestApp, email: &str, t: &Target) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app
            .as_user(
                email,
                NW,
                "query($q: String!) { search(query: $q, first: 100) { hits { product { id } } } }",
                json!({ "q": t.name }),
            )
            .await;
        if r.first_code() == Some("UNAVAILABLE") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert!(r.body["errors"].is_null(), "{email}: {:?}", r.body);
        return r.body["data"]["search"]["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["product"]["id"] == t.id.as_str());
    }
}

/// Whether `email` sees `t`: `product(id)`, the products page and search must agree. Search
/// hits are checked against the database, so a product leaves them at once; one that appears
/// is found once the indexer has caught up with the outbox.
pub async fn sees(app: &TestApp, email: &str, t: &Target) -> bool {
    let found = product_as(app, email, t).await.is_some();
    assert_eq!(
        on_page(app, email, t).await,
        found,
        "{email} {}: product(id) says {found}, the products page disagrees",
        t.sku
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hit = in_search(app, email, t).await;
        if hit == found {
            break;
        }
        assert!(
            found && Instant::now() < deadline,
            "{email} {}: product(id) says {found}, search says {hit}",
            t.sku
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    found
}

/// `price(quantity: 10)` of `t` as `email` (`null` when none).
pub async fn price_as(app: &TestApp, email: &str, t: &Target) -> Value {
    product_as(app, email, t)
        .await
        .unwrap_or_else(|| panic!("{email} sees {}", t.sku))["price"]
        .clone()
}

pub fn price(amount: &str, currency: &str, source: &str, min: i64) -> Value {
    json!({ "amount": { "amount": amount, "currency": currency }, "source": source, "minQuantity": min })
}

pub async fn version(app: &TestApp, t: &Target) -> i64 {
    product_as(app, STAFF, t)
        .await
        .unwrap_or_else(|| panic!("staff see {}", t.sku))["version"]
        .as_i64()
        .unwrap()
}

/// `updateListing` of `t` with `changes`, as northwind's pricing manager; must succeed.
pub async fn update(app: &TestApp, t: &Target, changes: Value) {
    let mut input = json!({ "id": t.id, "expectedVersion": version(app, t).await });
    for (k, v) in changes.as_object().unwrap() {
        input[k] = v.clone();
    }
    let r = app
        .as_user(
            STAFF,
            NW,
            "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { version } } }",
            json!({ "input": input }),
        )
        .await;
    assert!(
        r.body["data"]["updateListing"]["product"].is_object(),
        "{changes}: {:?}",
        r.body
    );
}

/// The SKUs `customer(id).contractPrices` names, as `email`.
pub async fn contract_skus(app: &TestApp, email: &str, customer: &str) -> Vec<String> {
    let r = app
        .as_user(
            email,
            NW,
            "query($c: ID!) { customer(id: $c) { contractPrices { sku name productId } } }",
            json!({ "c": customer_id(customer) }),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{email}: {:?}", r.body);
    r.body["data"]["customer"]["contractPrices"]
        .as_array()
        .unwrap_or_else(|| panic!("{email}: {:?}", r.body))
        .iter()
        .map(|c| c["sku"].as_str().unwrap().to_owned())
        .collect()
}

pub const ALPINE: [&str; 2] = ["admin@alpine.test", "buyer@alpine.test"];
pub const FJORD: &str = "admin@fjord.test";
pub const PRAIRIE: &str = "buyer@prairie.test";

/// Who sees `t`, in order: alpine's admin and buyer, fjord's admin, prairie's buyer, staff.
pub async fn audience(app: &TestApp, t: &Target) -> [bool; 5] {
    [
        sees(app, ALPINE[0], t).await,
        sees(app, ALPINE[1], t).await,
        sees(app, FJORD, t).await,
        sees(app, PRAIRIE, t).await,
        sees(app, STAFF, t).await,
    ]
}

pub const PRICE_FOR: &str =
    "query($c: ID!, $p: ID!) { priceFor(customerId: $c, productId: $p, quantity: 10) {
  amount { amount currency } source minQuantity } }";

pub async fn price_for(app: &TestApp, customer: &str, t: &Target) -> Value {
    let r = app
        .as_user(
            STAFF,
            NW,
            PRICE_FOR,
            json!({ "c": customer_id(customer), "p": t.id }),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{customer}: {:?}", r.body);
    r.body["data"]["priceFor"].clone()
}
