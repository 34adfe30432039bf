//! Every write that replaces or removes catalog rows, made through the API and read back as
//! each party it affects: the customers it removes, the customers it keeps, and the reseller's
//! staff. `product(id)`, the products page and search must agree on what each one sees, and a
//! product's price follows. On PostgreSQL, row-level security hides a customer's assortment
//! rows from a scope without that customer, so a replacement must run under a scope that
//! covers every row it touches (issue 14, finding 2). And a customer's contract prices name
//! only products that customer may see (finding 5). On both backends.

use std::time::{Duration, Instant};

use portico_resolvers::encode_id;
use portico_store::seed::demo_id;
use portico_store::{ListingChanges, Store, StoreError, TenantScope};
use portico_tests::{NW, TestApp, TestDb, customer_id, on_both_backends, test_actor};
use serde_json::{Value, json};

const STAFF: &str = "pricing@northwind.test";

/// One of northwind's products: its id, and what finds it on a page and in search.
struct Target {
    id: String,
    sku: String,
    name: String,
    /// A `ProductFilter` (brand and category) whose page holds it.
    filter: Value,
}

/// Northwind's listing seeded under `key` (DESIGN section 9), as its staff see it.
async fn target(app: &TestApp, key: &str) -> Target {
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
async fn product_as(app: &TestApp, email: &str, t: &Target) -> Option<Value> {
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
async fn on_page(app: &TestApp, email: &str, t: &Target) -> bool {
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
async fn in_search(app: &TestApp, email: &str, t: &Target) -> bool {
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
async fn sees(app: &TestApp, email: &str, t: &Target) -> bool {
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
async fn price_as(app: &TestApp, email: &str, t: &Target) -> Value {
    product_as(app, email, t)
        .await
        .unwrap_or_else(|| panic!("{email} sees {}", t.sku))["price"]
        .clone()
}

fn price(amount: &str, currency: &str, source: &str, min: i64) -> Value {
    json!({ "amount": { "amount": amount, "currency": currency }, "source": source, "minQuantity": min })
}

async fn version(app: &TestApp, t: &Target) -> i64 {
    product_as(app, STAFF, t)
        .await
        .unwrap_or_else(|| panic!("staff see {}", t.sku))["version"]
        .as_i64()
        .unwrap()
}

/// `updateListing` of `t` with `changes`, as northwind's pricing manager; must succeed.
async fn update(app: &TestApp, t: &Target, changes: Value) {
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
async fn contract_skus(app: &TestApp, email: &str, customer: &str) -> Vec<String> {
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

const ALPINE: [&str; 2] = ["admin@alpine.test", "buyer@alpine.test"];
const FJORD: &str = "admin@fjord.test";
const PRAIRIE: &str = "buyer@prairie.test";

/// Who sees `t`, in order: alpine's admin and buyer, fjord's admin, prairie's buyer, staff.
async fn audience(app: &TestApp, t: &Target) -> [bool; 5] {
    [
        sees(app, ALPINE[0], t).await,
        sees(app, ALPINE[1], t).await,
        sees(app, FJORD, t).await,
        sees(app, PRAIRIE, t).await,
        sees(app, STAFF, t).await,
    ]
}

async fn an_assortment_replaced_reaches_the_customers_removed_kept_and_added(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let special = target(&app, "alpine-special").await;
    let (alpine, fjord) = (
        customer_id("alpine-dealers"),
        customer_id("fjord-outfitters"),
    );
    // Seeded: EU, restricted to alpine.
    assert_eq!(
        audience(&app, &special).await,
        [true, true, false, false, true]
    );

    // Alpine removed, fjord added.
    update(
        &app,
        &special,
        json!({ "visibility": "RESTRICTED", "customers": [fjord] }),
    )
    .await;
    assert_eq!(
        audience(&app, &special).await,
        [false, false, true, false, true],
        "restricted to fjord: alpine's admin and buyer no longer see it"
    );
    assert_eq!(
        price_as(&app, FJORD, &special).await,
        price("300.00", "EUR", "PRICE_LIST", 1)
    );
    // The audit row names the assortment before and after.
    let nw = demo_id("tenant", "northwind");
    let audit = app
        .store
        .audit_entries(&TenantScope::single(nw.clone()), &nw)
        .await
        .unwrap();
    let last = audit.last().unwrap();
    assert_eq!(last.action, "listing.updated");
    let state =
        |s: &Option<String>| -> Value { serde_json::from_str(s.as_deref().unwrap()).unwrap() };
    assert_eq!(
        state(&last.before_state)["customers"],
        json!([demo_id("tenant", "alpine-dealers")])
    );
    assert_eq!(
        state(&last.after_state)["customers"],
        json!([demo_id("tenant", "fjord-outfitters")])
    );

    // Both.
    update(&app, &special, json!({ "customers": [alpine, fjord] })).await;
    assert_eq!(
        audience(&app, &special).await,
        [true, true, true, false, true]
    );
    assert_eq!(
        price_as(&app, ALPINE[1], &special).await,
        price("300.00", "EUR", "PRICE_LIST", 1)
    );

    // Alpine removed again, fjord kept.
    update(&app, &special, json!({ "customers": [fjord] })).await;
    assert_eq!(
        audience(&app, &special).await,
        [false, false, true, false, true],
        "alpine removed, fjord kept"
    );

    // Nobody: only staff.
    update(&app, &special, json!({ "customers": [] })).await;
    assert_eq!(
        audience(&app, &special).await,
        [false, false, false, false, true],
        "an empty assortment: staff only"
    );

    // Open to all again: every EU customer, still not NA's prairie.
    update(&app, &special, json!({ "visibility": "ALL" })).await;
    assert_eq!(
        audience(&app, &special).await,
        [true, true, true, false, true]
    );
    // Restricted once more without naming customers: the (empty) assortment applies.
    update(&app, &special, json!({ "visibility": "RESTRICTED" })).await;
    assert_eq!(
        audience(&app, &special).await,
        [false, false, false, false, true]
    );
}

async fn regions_replaced_reach_every_customer(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let turbine = target(&app, "turbine").await;
    assert_eq!(
        audience(&app, &turbine).await,
        [true, true, true, true, true]
    );

    update(&app, &turbine, json!({ "regions": ["NA"] })).await;
    assert_eq!(
        audience(&app, &turbine).await,
        [false, false, false, true, true],
        "NA only"
    );
    assert_eq!(
        price_as(&app, PRAIRIE, &turbine).await,
        price("1350.00", "USD", "PRICE_LIST", 1)
    );

    update(&app, &turbine, json!({ "regions": ["EU"] })).await;
    assert_eq!(
        audience(&app, &turbine).await,
        [true, true, true, false, true],
        "EU only"
    );
    assert_eq!(
        price_as(&app, ALPINE[1], &turbine).await,
        price("999.00", "EUR", "CONTRACT", 1)
    );
    assert_eq!(
        price_as(&app, FJORD, &turbine).await,
        price("1100.00", "EUR", "PRICE_LIST", 10)
    );
}

/// Northwind's price list named `name`: (id, version).
async fn price_list(app: &TestApp, name: &str) -> (String, i64) {
    let r = app
        .as_user(STAFF, NW, "{ priceLists { id name version } }", json!({}))
        .await;
    let list = r.body["data"]["priceLists"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("{name}: {:?}", r.body))
        .clone();
    (
        list["id"].as_str().unwrap().to_owned(),
        list["version"].as_i64().unwrap(),
    )
}

async fn set_prices(app: &TestApp, list: &str, t: &Target, tiers: Value) {
    let (id, version) = price_list(app, list).await;
    let r = app
        .as_user(
            STAFF,
            NW,
            "mutation($input: SetPricesInput!) { setPrices(input: $input) { priceList { version } } }",
            json!({ "input": { "priceListId": id, "expectedVersion": version, "productId": t.id, "tiers": tiers } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["setPrices"]["priceList"]["version"],
        version + 1,
        "{tiers}: {:?}",
        r.body
    );
}

const PRICE_FOR: &str =
    "query($c: ID!, $p: ID!) { priceFor(customerId: $c, productId: $p, quantity: 10) {
  amount { amount currency } source minQuantity } }";

async fn price_for(app: &TestApp, customer: &str, t: &Target) -> Value {
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

async fn price_tiers_replaced_reach_every_customer(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let turbine = target(&app, "turbine").await;
    assert_eq!(
        price_as(&app, FJORD, &turbine).await,
        price("1100.00", "EUR", "PRICE_LIST", 10)
    );

    // The 10+ tier goes, the base price changes.
    set_prices(
        &app,
        "Northwind EU 2026",
        &turbine,
        json!([{ "minQuantity": 1, "amount": "1150.00" }]),
    )
    .await;
    let eu_list = price("1150.00", "EUR", "PRICE_LIST", 1);
    assert_eq!(price_as(&app, FJORD, &turbine).await, eu_list);
    assert_eq!(
        product_as(&app, FJORD, &turbine).await.unwrap()["listPrice"],
        json!({ "amount": "1150.00", "currency": "EUR" })
    );
    assert_eq!(price_for(&app, "fjord-outfitters", &turbine).await, eu_list);
    // Alpine's contract still wins; prairie's NA list is another list.
    let contract = price("999.00", "EUR", "CONTRACT", 1);
    assert_eq!(price_as(&app, ALPINE[1], &turbine).await, contract);
    let na_list = price("1350.00", "USD", "PRICE_LIST", 1);
    assert_eq!(price_as(&app, PRAIRIE, &turbine).await, na_list);

    // No tiers: no EU price at all, the product still there.
    set_prices(&app, "Northwind EU 2026", &turbine, json!([])).await;
    let fjord = product_as(&app, FJORD, &turbine).await.unwrap();
    assert_eq!(
        (&fjord["price"], &fjord["listPrice"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        price_for(&app, "fjord-outfitters", &turbine).await,
        Value::Null
    );
    assert_eq!(price_as(&app, ALPINE[1], &turbine).await, contract);
    assert_eq!(price_as(&app, PRAIRIE, &turbine).await, na_list);
    assert_eq!(
        audience(&app, &turbine).await,
        [true, true, true, true, true]
    );
}

const SET_CONTRACT: &str = "mutation($input: SetContractPriceInput!) { setContractPrice(input: $input) { customer { name } } }";
const REMOVE_CONTRACT: &str = "mutation($input: RemoveContractPriceInput!) { removeContractPrice(input: $input) { customer { name } } }";

async fn set_contract(app: &TestApp, customer: &str, t: &Target, amount: &str) {
    let r = app
        .as_user(
            STAFF,
            NW,
            SET_CONTRACT,
            json!({ "input": { "customerId": customer_id(customer), "productId": t.id, "amount": amount, "currency": "EUR" } }),
        )
        .await;
    assert!(
        r.body["data"]["setContractPrice"].is_object(),
        "{customer}: {:?}",
        r.body
    );
}

async fn contract_prices_replaced_and_ended_reach_every_party(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let turbine = target(&app, "turbine").await;
    let sku = vec!["NW-TURBINE".to_owned()];

    // Alpine's contract replaced: alpine's price moves, fjord's does not.
    set_contract(&app, "alpine-dealers", &turbine, "950.00").await;
    assert_eq!(
        price_as(&app, ALPINE[1], &turbine).await,
        price("950.00", "EUR", "CONTRACT", 1)
    );
    assert_eq!(
        price_as(&app, FJORD, &turbine).await,
        price("1100.00", "EUR", "PRICE_LIST", 10)
    );
    assert_eq!(contract_skus(&app, ALPINE[0], "alpine-dealers").await, sku);
    assert_eq!(contract_skus(&app, STAFF, "alpine-dealers").await, sku);
    assert!(
        contract_skus(&app, FJORD, "fjord-outfitters")
            .await
            .is_empty()
    );

    // Fjord gets one of its own; alpine's stays.
    set_contract(&app, "fjord-outfitters", &turbine, "1000.00").await;
    assert_eq!(
        price_as(&app, FJORD, &turbine).await,
        price("1000.00", "EUR", "CONTRACT", 1)
    );
    assert_eq!(
        price_as(&app, ALPINE[1], &turbine).await,
        price("950.00", "EUR", "CONTRACT", 1)
    );

    // Alpine's ended: alpine back on the list, fjord keeps its contract.
    let r = app
        .as_user(
            STAFF,
            NW,
            REMOVE_CONTRACT,
            json!({ "input": { "customerId": customer_id("alpine-dealers"), "productId": turbine.id } }),
        )
        .await;
    assert!(
        r.body["data"]["removeContractPrice"].is_object(),
        "{:?}",
        r.body
    );
    let list = price("1100.00", "EUR", "PRICE_LIST", 10);
    assert_eq!(price_as(&app, ALPINE[1], &turbine).await, list);
    assert_eq!(price_for(&app, "alpine-dealers", &turbine).await, list);
    assert!(
        contract_skus(&app, ALPINE[0], "alpine-dealers")
            .await
            .is_empty()
    );
    assert!(
        contract_skus(&app, STAFF, "alpine-dealers")
            .await
            .is_empty()
    );
    assert_eq!(
        price_as(&app, FJORD, &turbine).await,
        price("1000.00", "EUR", "CONTRACT", 1)
    );
    assert_eq!(contract_skus(&app, FJORD, "fjord-outfitters").await, sku);
}

const UNLIST: &str =
    "mutation($input: UnlistProductInput!) { unlistProduct(input: $input) { removedId } }";
const LIST: &str =
    "mutation($input: ListProductInput!) { listProduct(input: $input) { product { id regions } } }";

async fn an_unlisted_product_leaves_everyone_and_a_relisted_one_returns(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let drill = target(&app, "ACM-DRL-18").await;
    assert_eq!(drill.name, "Northwind ProDrill 18V");
    let r = app
        .as_user(
            STAFF,
            NW,
            UNLIST,
            json!({ "input": { "id": drill.id, "expectedVersion": version(&app, &drill).await } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["unlistProduct"]["removedId"],
        drill.id.as_str(),
        "{:?}",
        r.body
    );
    assert_eq!(
        audience(&app, &drill).await,
        [false, false, false, false, false],
        "unlisted: nobody"
    );

    // Listed again, NA only: the same listing, prairie's and staff's again.
    let r = app
        .as_user(
            STAFF,
            NW,
            LIST,
            json!({ "input": { "masterSku": "ACM-DRL-18", "regions": ["NA"], "status": "ACTIVE" } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["listProduct"]["product"],
        json!({ "id": drill.id, "regions": ["NA"] }),
        "{:?}",
        r.body
    );
    assert_eq!(
        audience(&app, &drill).await,
        [false, false, false, true, true],
        "relisted in NA"
    );
}

async fn contract_prices_name_only_products_the_customer_may_see(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let compressor = target(&app, "eu-compressor").await;
    let fjord = customer_id("fjord-outfitters");
    let alpine = customer_id("alpine-dealers");
    set_contract(&app, "alpine-dealers", &compressor, "400.00").await;
    let both = vec!["NW-EU-COMP".to_owned(), "NW-TURBINE".to_owned()];
    let turbine_only = vec!["NW-TURBINE".to_owned()];
    assert_eq!(contract_skus(&app, ALPINE[0], "alpine-dealers").await, both);
    assert_eq!(contract_skus(&app, STAFF, "alpine-dealers").await, both);
    assert_eq!(
        price_as(&app, ALPINE[1], &compressor).await,
        price("400.00", "EUR", "CONTRACT", 1)
    );

    for (change, undo) in [
        (
            json!({ "status": "INACTIVE" }),
            json!({ "status": "ACTIVE" }),
        ),
        (json!({ "status": "DRAFT" }), json!({ "status": "ACTIVE" })),
        (json!({ "regions": ["NA"] }), json!({ "regions": ["EU"] })),
        (
            json!({ "visibility": "RESTRICTED", "customers": [fjord] }),
            json!({ "visibility": "ALL" }),
        ),
    ] {
        update(&app, &compressor, change.clone()).await;
        assert!(
            product_as(&app, ALPINE[0], &compressor).await.is_none(),
            "{change}"
        );
        assert_eq!(
            contract_skus(&app, ALPINE[0], "alpine-dealers").await,
            turbine_only,
            "{change}: alpine's admin must not see the product named"
        );
        for staff in [STAFF, "admin@northwind.test", "rep-eu@northwind.test"] {
            assert_eq!(
                contract_skus(&app, staff, "alpine-dealers").await,
                both,
                "{change}: {staff} keeps every contract price"
            );
        }
        update(&app, &compressor, undo).await;
        assert_eq!(
            contract_skus(&app, ALPINE[0], "alpine-dealers").await,
            both,
            "{change} undone"
        );
    }

    // Restricted to alpine itself: still alpine's to see.
    update(
        &app,
        &compressor,
        json!({ "visibility": "RESTRICTED", "customers": [alpine] }),
    )
    .await;
    assert_eq!(contract_skus(&app, ALPINE[0], "alpine-dealers").await, both);

    // Unlisted: gone for alpine, kept in the reseller's record.
    let r = app
        .as_user(
            STAFF,
            NW,
            UNLIST,
            json!({ "input": { "id": compressor.id, "expectedVersion": version(&app, &compressor).await } }),
        )
        .await;
    assert!(r.body["errors"].is_null(), "{:?}", r.body);
    assert_eq!(
        contract_skus(&app, ALPINE[0], "alpine-dealers").await,
        turbine_only
    );
    assert_eq!(contract_skus(&app, STAFF, "alpine-dealers").await, both);
}

/// Whether `viewer`'s tenant is in the assortment of `listing`, read under its own scope.
async fn in_assortment(store: &Store, listing: &str, viewer: &str) -> bool {
    let nw = demo_id("tenant", "northwind");
    let rows = store
        .catalog_by_ids(
            &TenantScope::of([nw, viewer.to_owned()]),
            &[listing.to_owned()],
            Some(viewer),
        )
        .await
        .unwrap();
    rows[0].granted
}

/// Below the API: an assortment write touches the rows of the customers in its scope and no
/// others, on both backends alike (row-level security on PostgreSQL, the same predicate in the
/// SQL on SQLite). A scope too narrow thus shows on either backend, not only on PostgreSQL; and
/// a new member outside the scope is refused.
async fn an_assortment_write_touches_only_the_customers_in_its_scope(db: TestDb) {
    let store = db.seeded_store().await;
    let nw = demo_id("tenant", "northwind");
    let (alpine, fjord) = (
        demo_id("tenant", "alpine-dealers"),
        demo_id("tenant", "fjord-outfitters"),
    );
    let special = demo_id("listing", "northwind/alpine-special");
    let version = store
        .catalog_by_ids(
            &TenantScope::single(nw.clone()),
            std::slice::from_ref(&special),
            None,
        )
        .await
        .unwrap()[0]
        .listing
        .version;
    let to_fjord = ListingChanges {
        customers: Some(vec![fjord.clone()]),
        ..ListingChanges::default()
    };
    let audit = test_actor("assortment scope test");

    // A scope without alpine: alpine's row is out of reach and stays.
    let narrow = TenantScope::of([nw.clone(), fjord.clone()]);
    let listing = store
        .update_listing(&narrow, &nw, &special, version, &to_fjord, &audit)
        .await
        .unwrap();
    assert!(in_assortment(&store, &special, &alpine).await);
    assert!(in_assortment(&store, &special, &fjord).await);
    let to_alpine = ListingChanges {
        customers: Some(vec![alpine.clone()]),
        ..ListingChanges::default()
    };
    let refused = store
        .update_listing(&narrow, &nw, &special, listing.version, &to_alpine, &audit)
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Invalid {
                field: "customers",
                ..
            })
        ),
        "{refused:?}"
    );

    // A scope with both: alpine's row goes.
    let both = TenantScope::of([nw.clone(), alpine.clone(), fjord.clone()]);
    store
        .update_listing(&both, &nw, &special, listing.version, &to_fjord, &audit)
        .await
        .unwrap();
    assert!(!in_assortment(&store, &special, &alpine).await);
    assert!(in_assortment(&store, &special, &fjord).await);
}

on_both_backends!(
    an_assortment_write_touches_only_the_customers_in_its_scope,
    an_assortment_replaced_reaches_the_customers_removed_kept_and_added,
    regions_replaced_reach_every_customer,
    price_tiers_replaced_reach_every_customer,
    contract_prices_replaced_and_ended_reach_every_party,
    an_unlisted_product_leaves_everyone_and_a_relisted_one_returns,
    contract_prices_name_only_products_the_customer_may_see,
);
