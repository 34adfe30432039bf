//! Documents written to hurt: fragment fan-out, aliases by the thousand, pages by the hundred,
//! out-of-range integers. Each is refused (or answered) with a code, never by burning a worker.
//! These tests assert what comes back; `bench/src/bin/hostile.rs` reports how fast.

use portico_tests::hostile::fan_out;
use portico_tests::{TestApp, TestDb};
use serde_json::json;

#[tokio::test]
async fn a_fragment_fan_out_is_refused_as_too_complex_before_it_is_expanded() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for on in ["Tenant", "Query"] {
        for levels in [22, 29, 60] {
            let doc = fan_out(on, levels);
            let r = app.graphql("northwind.localhost", &doc).await;
            assert_eq!(r.status, 400, "{levels} levels on {on}: {:?}", r.body);
            assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);
            assert!(r.body.get("data").is_none(), "a request error has no data");
        }
    }
    // The same document through GET.
    let doc = fan_out("Tenant", 29);
    let response = app
        .client
        .get(format!("{}/graphql", app.address))
        .query(&[("query", doc.as_str())])
        .header("host", "northwind.localhost")
        .send()
        .await
        .unwrap();
    let r = TestApp::read(response).await;
    assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);
    // The server still answers.
    let fine = app
        .graphql("northwind.localhost", "{ tenant { slug } }")
        .await;
    assert_eq!(fine.body["data"]["tenant"]["slug"], "northwind");
}

#[tokio::test]
async fn thousands_of_aliases_and_root_fields_are_refused() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let typenames: String = (0..1000).map(|i| format!("a{i}: __typename ")).collect();
    let r = app
        .graphql("northwind.localhost", &format!("{{ {typenames} }}"))
        .await;
    assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("root fields"), "{message}");

    let searches: String = (0..240)
        .map(|i| format!("s{i}: search(query: \"drill\") {{ total }} "))
        .collect();
    let r = app
        .graphql("northwind.localhost", &format!("{{ {searches} }}"))
        .await;
    assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);

    // Aliases hidden below the root are counted too.
    let nested: String = (0..100).map(|i| format!("n{i}: slug ")).collect();
    let r = app
        .graphql(
            "northwind.localhost",
            &format!("{{ tenant {{ {nested} }} }}"),
        )
        .await;
    assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("aliases"), "{message}");
}

#[tokio::test]
async fn pages_cost_their_size_and_many_big_pages_are_refused() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let page = "products(first: 100) { edges { node { id sku name price { amount { amount currency } } } } }";
    // One big page with prices is an ordinary request...
    let one = app
        .as_user(
            "buyer@alpine.test",
            "northwind.localhost",
            &format!("{{ {page} }}"),
            json!({}),
        )
        .await;
    assert_eq!(one.status, 200, "{:?}", one.body);
    assert!(one.body["errors"].is_null(), "{:?}", one.body);
    assert_eq!(
        one.body["data"]["products"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        100
    );
    // ...ten of them are not: the budget, not the alias count, refuses it.
    let many: String = (0..10).map(|i| format!("p{i}: {page} ")).collect();
    let r = app
        .as_user(
            "buyer@alpine.test",
            "northwind.localhost",
            &format!("{{ {many} }}"),
            json!({}),
        )
        .await;
    assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("too complex"), "{message}");
}

#[tokio::test]
async fn integers_beyond_32_bits_are_bad_user_input_naming_the_argument() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let cases = [
        (
            "{ customers(first: 2147483648) { totalCount } }",
            json!({}),
            "first",
        ),
        (
            "{ products(first: -2147483649) { pageInfo { hasNextPage } } }",
            json!({}),
            "first",
        ),
        (
            "{ search(query: \"drill\", first: 99999999999) { total } }",
            json!({}),
            "first",
        ),
        (
            "query($n: Int) { products(first: $n) { pageInfo { hasNextPage } } }",
            json!({ "n": 2147483648i64 }),
            "$n",
        ),
        (
            "query($q: Int!) { products(first: 1) { edges { node { price(quantity: $q) { source } } } } }",
            json!({ "q": 4294967296i64 }),
            "$q",
        ),
        (
            "{ priceFor(customerId: \"x\", productId: \"y\", quantity: 2147483648) { source } }",
            json!({}),
            "quantity",
        ),
    ];
    for (query, variables, field) in cases {
        let r = app
            .as_user(
                "pricing@northwind.test",
                "northwind.localhost",
                query,
                variables,
            )
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{query}: {:?}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{query}: {:?}",
            r.body
        );
        assert_ne!(r.status, 500);
    }
}

#[tokio::test]
async fn brackets_nested_past_the_parsers_reach_are_refused_without_parsing() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let deep = "{a".repeat(20_000);
    let r = app.graphql("northwind.localhost", &deep).await;
    assert_eq!(r.first_code(), Some("QUERY_TOO_COMPLEX"), "{:?}", r.body);
    let fine = app
        .graphql("northwind.localhost", "{ tenant { slug } }")
        .await;
    assert_eq!(fine.body["data"]["tenant"]["slug"], "northwind");
}

#[tokio::test]
async fn the_standard_introspection_query_works_where_introspection_is_on() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let r = app
        .graphql("northwind.localhost", INTROSPECTION_QUERY)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["errors"].is_null(), "{:?}", r.body);
    assert_eq!(r.body["data"]["__schema"]["queryType"]["name"], "Query");
    assert!(
        r.body["data"]["__schema"]["types"]
            .as_array()
            .unwrap()
            .len()
            > 20
    );
}

#[tokio::test]
async fn introspection_where_it_is_off_is_a_clear_error_not_null() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.graphql.introspection = Some(false);
    })
    .await;
    for query in [
        INTROSPECTION_QUERY,
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Product\") { name } }",
        "{ tenant { slug } ...I } fragment I on Query { __schema { types { name } } }",
    ] {
        let r = app.graphql("northwind.localhost", query).await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{query}: {:?}", r.body);
        let message = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("introspection is disabled"), "{message}");
        assert!(r.body.get("data").is_none(), "{:?}", r.body);
    }
    // `__typename` is not introspection.
    let r = app
        .graphql(
            "northwind.localhost",
            "{ __typename tenant { __typename slug } }",
        )
        .await;
    assert_eq!(r.body["data"]["tenant"]["__typename"], "Tenant");
}

/// graphql-js 16's `getIntrospectionQuery()` with its defaults (nine `ofType` levels).
const INTROSPECTION_QUERY: &str = include_str!("../../bench/introspection.graphql");
