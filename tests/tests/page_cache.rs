//! The catalog's page cache (`Store::catalog_page`): a cached page is exactly what the database
//! would answer. Dealers of one reseller sharing a page never see each other's prices or
//! assortments, and every write moves the catalog version — the application's and one made by
//! hand in SQL — so the next page shows it. On both backends.

use std::collections::BTreeMap;

use portico_tests::{NW, TestApp, TestDb, on_both_backends};
use serde_json::{Value, json};

/// One query text for everyone: the cache key must still tell them apart.
const PAGE: &str = "query($after: String) { products(first: 100, after: $after) {
  edges { node { id sku name price { amount { amount currency } source }
  listPrice { amount currency } } } pageInfo { hasNextPage endCursor } } }";

/// Every product the user sees on northwind's portal, by SKU.
async fn page(app: &TestApp, email: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let r = app
            .as_user(email, NW, PAGE, json!({ "after": after }))
            .await;
        assert_eq!(r.status, 200, "{email}: {:?}", r.body);
        let products = &r.body["data"]["products"];
        for e in products["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{email}: {:?}", r.body))
        {
            out.insert(
                e["node"]["sku"].as_str().unwrap().to_owned(),
                e["node"].clone(),
            );
        }
        if products["pageInfo"]["hasNextPage"] != true {
            return out;
        }
        after = products["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
}

fn turbine_price(page: &BTreeMap<String, Value>) -> (Value, Value) {
    let turbine = &page["NW-TURBINE"];
    (
        turbine["price"]["amount"].clone(),
        turbine["price"]["source"].clone(),
    )
}

async fn a_cached_page_of_one_dealer_never_serves_another_dealer(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // Twice round: the first round reads the database, the second finds the pages cached.
    for round in 0..2 {
        let alpine = page(&app, "buyer@alpine.test").await;
        assert_eq!(
            turbine_price(&alpine),
            (
                json!({ "amount": "999.00", "currency": "EUR" }),
                json!("CONTRACT")
            ),
            "round {round}"
        );
        assert!(alpine.contains_key("NW-ALP-SE"), "round {round}");

        // fjord: the same reseller, region and query; its own (list) price, not alpine's
        // assortment.
        let fjord = page(&app, "admin@fjord.test").await;
        assert_eq!(
            turbine_price(&fjord),
            (
                json!({ "amount": "1200.00", "currency": "EUR" }),
                json!("PRICE_LIST")
            ),
            "round {round}"
        );
        assert!(!fjord.contains_key("NW-ALP-SE"), "round {round}");

        // alpine's viewer: alpine's rows, no prices.
        let viewer = page(&app, "viewer@alpine.test").await;
        assert_eq!(viewer.len(), alpine.len(), "round {round}");
        assert!(
            viewer.values().all(|p| p["price"].is_null()),
            "round {round}"
        );

        // prairie: another region.
        let prairie = page(&app, "buyer@prairie.test").await;
        assert_eq!(
            prairie["NW-TURBINE"]["listPrice"],
            json!({ "amount": "1350.00", "currency": "USD" }),
            "round {round}"
        );
        assert!(!prairie.contains_key("NW-ALP-SE"), "round {round}");

        // harbor: another reseller's portal is not found at all on northwind's host.
        let harbor = app.as_user("admin@harbor.test", NW, PAGE, json!({})).await;
        assert_eq!(harbor.status, 401, "round {round}: {:?}", harbor.body);
    }
}

const SET: &str = "mutation($input: SetContractPriceInput!) { setContractPrice(input: $input) { customer { name } } }";

async fn the_next_page_after_a_write_shows_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = page(&app, "buyer@alpine.test").await;
    assert_eq!(page(&app, "buyer@alpine.test").await, before, "cached");

    // Through the API.
    let turbine = before["NW-TURBINE"]["id"].as_str().unwrap().to_owned();
    let alpine = portico_store::seed::demo_id("tenant", "alpine-dealers");
    let set = app
        .as_user(
            "pricing@northwind.test",
            NW,
            SET,
            json!({ "input": { "customerId": portico_resolvers::encode_id("Customer", &alpine).to_string(), "productId": turbine, "amount": "950.00", "currency": "EUR" } }),
        )
        .await;
    assert!(set.body["errors"].is_null(), "{:?}", set.body);
    let after = page(&app, "buyer@alpine.test").await;
    assert_eq!(
        turbine_price(&after),
        (
            json!({ "amount": "950.00", "currency": "EUR" }),
            json!("CONTRACT")
        )
    );

    // By hand, below the application: the triggers move the version all the same.
    let northwind = portico_store::seed::demo_id("tenant", "northwind");
    app.sql_by_hand(
        "UPDATE listings SET name = 'Turbine Renamed By Hand' \
         WHERE tenant_id = $1 AND sort_sku = 'NW-TURBINE'",
        &[&northwind],
    )
    .await;
    let renamed = page(&app, "buyer@alpine.test").await;
    assert_eq!(renamed["NW-TURBINE"]["name"], "Turbine Renamed By Hand");
    assert_eq!(
        turbine_price(&renamed),
        (
            json!({ "amount": "950.00", "currency": "EUR" }),
            json!("CONTRACT")
        )
    );

    // Every contract price gone at once (TRUNCATE fires no row trigger on PostgreSQL; its
    // statement trigger moves the shared key): the list price again.
    let wipe = if app.db.url.starts_with("sqlite:") {
        "DELETE FROM contract_prices"
    } else {
        "TRUNCATE contract_prices"
    };
    app.sql_by_hand(wipe, &[]).await;
    assert_eq!(
        turbine_price(&page(&app, "buyer@alpine.test").await),
        (
            json!({ "amount": "1200.00", "currency": "EUR" }),
            json!("PRICE_LIST")
        )
    );
}

const STAFF_PAGE: &str = r#"{ products(first: 100, filter: { brand: "Northwind" }) { edges { node { id sku name version } } } }"#;
const RENAME: &str =
    "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { name } } }";

/// A batched POST that holds a mutation runs its operations in order; the versions read at
/// the request's start predate the mutation, so a page after it must not come from the cache.
async fn a_page_batched_after_a_mutation_shows_its_write(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = app.token_for("pricing@northwind.test").await;
    let post = |body: Value| {
        app.client
            .post(format!("{}/graphql", app.address))
            .header("host", NW)
            .header("authorization", format!("Bearer {token}"))
            .json(&body)
            .send()
    };
    let turbine = |page: &Value| {
        page["data"]["products"]["edges"]
            .as_array()
            .unwrap_or_else(|| panic!("{page:?}"))
            .iter()
            .map(|e| e["node"].clone())
            .find(|n| n["sku"] == "NW-TURBINE")
            .expect("the Turbine")
    };
    let mut before = Value::Null;
    for _ in 0..2 {
        // The second round is served from the cache.
        before = post(json!({ "query": STAFF_PAGE }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    }
    let old = turbine(&before);
    let batch: Value = post(json!([
        { "query": RENAME, "variables": { "input": {
            "id": old["id"], "expectedVersion": old["version"], "name": "Turbine Renamed In A Batch" } } },
        { "query": STAFF_PAGE },
    ]))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert!(batch[0]["errors"].is_null(), "{batch:?}");
    assert_eq!(turbine(&batch[1])["name"], "Turbine Renamed In A Batch");
}

on_both_backends!(
    a_cached_page_of_one_dealer_never_serves_another_dealer,
    the_next_page_after_a_write_shows_it,
    a_page_batched_after_a_mutation_shows_its_write,
);
