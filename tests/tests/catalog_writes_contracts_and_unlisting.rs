//! Contract prices and unlisting, made through the API and read back as each party they
//! affect: contract prices replaced and ended reach every party, an unlisted product leaves
//! everyone and a relisted one returns, and a customer's contract prices name only products
//! that customer may see (issue 14, finding 5). On both backends.

use portico_tests::catalog_writes::*;
use portico_tests::{NW, TestApp, TestDb, customer_id, on_both_backends};
use serde_json::json;

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

on_both_backends!(
    contract_prices_replaced_and_ended_reach_every_party,
    an_unlisted_product_leaves_everyone_and_a_relisted_one_returns,
    contract_prices_name_only_products_the_customer_may_see,
);
