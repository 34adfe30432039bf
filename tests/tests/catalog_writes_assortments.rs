//! Catalog writes that replace rows, made through the API and read back as each party they
//! affect: the customers they remove, the customers they keep, and the reseller's staff.
//! Assortments, regions and price tiers replaced; `product(id)`, the products page and search
//! must agree on what each one sees, and a product's price follows. On PostgreSQL, row-level
//! security hides a customer's assortment rows from a scope without that customer, so a
//! replacement must run under a scope that covers every row it touches (issue 14, finding 2).
//! On both backends.

use portico_store::seed::demo_id;
use portico_store::{ListingChanges, Store, StoreError, TenantScope};
use portico_tests::catalog_writes::*;
use portico_tests::{NW, TestApp, TestDb, customer_id, on_both_backends, test_actor};
use serde_json::{Value, json};

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
);
