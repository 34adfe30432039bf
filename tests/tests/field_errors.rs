//! Field errors as the GraphQL spec says (§6.4.4): an error in a nullable field makes it `null`
//! and keeps its key and its siblings; an error in a non-null field nulls the nearest nullable
//! parent, up to `data`. Typed clients with normalised caches rely on every selected key being
//! there. (async-graphql on its own drops the key, or nulls a non-null parent.)

use portico_tests::{TestApp, TestDb};
use serde_json::json;

const BUYER: &str = "buyer@alpine.test";
const HOST: &str = "northwind.localhost";

#[tokio::test]
async fn a_bad_price_argument_nulls_the_price_not_the_product() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let r = app
        .as_user(
            BUYER,
            HOST,
            "{ products(first: 1) { edges { node { price(quantity: 0) { source } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["data"]["products"]["edges"],
        json!([{ "node": { "price": null } }]),
        "{:?}",
        r.body
    );
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        r.body["errors"][0]["path"],
        json!(["products", "edges", 0, "node", "price"])
    );

    // With a sibling selected, both keys are there.
    let r = app
        .as_user(
            BUYER,
            HOST,
            "{ products(first: 1) { edges { node { sku price(quantity: 0) { source } } } } }",
            json!({}),
        )
        .await;
    let node = &r.body["data"]["products"]["edges"][0]["node"];
    assert!(node["sku"].is_string(), "{:?}", r.body);
    assert!(
        node.as_object().unwrap().contains_key("price") && node["price"].is_null(),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn a_product_not_found_is_null_beside_its_siblings() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let r = app
        .as_user(BUYER, HOST, "{ product(id: \"x\") { id } }", json!({}))
        .await;
    assert_eq!(r.body["data"], json!({ "product": null }), "{:?}", r.body);
    assert_eq!(r.first_code(), Some("NOT_FOUND"));
    assert_eq!(r.body["errors"][0]["path"], json!(["product"]));

    let r = app
        .as_user(
            BUYER,
            HOST,
            "{ tenant { slug } product(id: \"x\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.body["data"],
        json!({ "tenant": { "slug": "northwind" }, "product": null }),
        "{:?}",
        r.body
    );
}

#[tokio::test]
async fn a_failing_non_null_root_field_nulls_data_and_says_why() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    // `products` is `ProductConnection!`: its error cannot stop at the field.
    let r = app
        .as_user(
            BUYER,
            HOST,
            "{ tenant { slug } products(first: 1000) { pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(
        r.body.as_object().unwrap().contains_key("data") && r.body["data"].is_null(),
        "{:?}",
        r.body
    );
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "first");
    assert_eq!(r.body["errors"][0]["path"], json!(["products"]));
}
