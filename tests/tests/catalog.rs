//! The catalog per demo user (DESIGN section 9's marker rows), prices and masks, and
//! NOT_FOUND for another tenant's products — on both backends.

use std::collections::BTreeMap;

use portico_tests::{CO, NW, TestApp, TestDb, on_both_backends};
use serde_json::{Value, json};

const FIELDS: &str = "id sku name brand category regions
  price { amount { amount currency } source priceList minQuantity }
  listPrice { amount currency } costPrice { amount currency } margin supplier";

/// Every product the user sees on the portal, by SKU, paging 100 at a time.
async fn catalog(app: &TestApp, email: &str, host: &str) -> (BTreeMap<String, Value>, Vec<Value>) {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let r = app.as_user(email,
            host,
            &format!("query($after: String) {{ products(first: 100, after: $after) {{ edges {{ node {{ {FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"),
            json!({ "after": after }),
        )
        .await;
        assert_eq!(r.status, 200, "{email}: {:?}", r.body);
        for e in r.body["data"]["products"]["edges"].as_array().unwrap() {
            out.insert(
                e["node"]["sku"].as_str().unwrap().to_owned(),
                e["node"].clone(),
            );
        }
        errors.extend(r.body["errors"].as_array().cloned().unwrap_or_default());
        let page = &r.body["data"]["products"]["pageInfo"];
        if page["hasNextPage"] != true {
            return (out, errors);
        }
        after = page["endCursor"].as_str().map(str::to_owned);
    }
}

fn masked(errors: &[Value], field: &str) -> bool {
    errors.iter().any(|e| {
        e["extensions"]["code"] == "FIELD_MASKED"
            && e["path"] == json!(["products", "edges", "node", field])
    })
}

async fn every_demo_user_sees_the_marker_rows_as_design_section_9_says(db: TestDb) {
    let app = TestApp::spawn(db).await;

    // alpine's buyer: the white label, the contract price, the list price, never the cost.
    let (alpine, errors) = catalog(&app, "buyer@alpine.test", NW).await;
    assert_eq!(alpine["ACM-DRL-18"]["name"], "Northwind ProDrill 18V");
    let turbine = &alpine["NW-TURBINE"];
    assert_eq!(
        turbine["price"]["amount"],
        json!({ "amount": "999.00", "currency": "EUR" })
    );
    assert_eq!(turbine["price"]["source"], "CONTRACT");
    assert_eq!(
        turbine["listPrice"],
        json!({ "amount": "1200.00", "currency": "EUR" })
    );
    assert_eq!(turbine["costPrice"], Value::Null);
    assert_eq!(turbine["margin"], Value::Null);
    assert_eq!(turbine["supplier"], Value::Null);
    for field in ["costPrice", "margin", "supplier"] {
        assert!(masked(&errors, field), "{field} masked once");
    }
    assert_eq!(
        errors.len() % 3,
        0,
        "one error per path per page, not per product: {}",
        errors.len()
    );
    assert!(
        alpine.contains_key("NW-ALP-SE"),
        "the Alpine Special Edition is in alpine's assortment"
    );
    assert!(
        alpine
            .keys()
            .any(|k| k.starts_with("NW-") && alpine[k]["name"] == "Northwind EU-Only Compressor")
    );
    assert!(!alpine.values().any(|p| p["name"] == "Contoso Harbor Winch"));
    assert!(
        alpine
            .values()
            .all(|p| p["regions"].as_array().unwrap().contains(&json!("EU"))),
        "EU listings only"
    );

    // Quantity tiers apply to list prices, never above a contract.
    let id = turbine["id"].as_str().unwrap();
    let tiered = app.as_user("buyer@alpine.test",
        NW,
        "query($id: ID!) { product(id: $id) { price(quantity: 10) { amount { amount } source } } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        tiered.body["data"]["product"]["price"],
        json!({ "amount": { "amount": "999.00" }, "source": "CONTRACT" })
    );

    // alpine's viewer: the catalog without any price.
    let (viewer, errors) = catalog(&app, "viewer@alpine.test", NW).await;
    assert_eq!(viewer.len(), alpine.len());
    assert!(
        viewer
            .values()
            .all(|p| p["price"].is_null() && p["listPrice"].is_null())
    );
    assert!(masked(&errors, "price") && masked(&errors, "listPrice"));

    // prairie's buyer (NA): the Turbine in USD from the NA list; no EU-only or alpine-only rows.
    let (prairie, _) = catalog(&app, "buyer@prairie.test", NW).await;
    let turbine = &prairie["NW-TURBINE"];
    assert_eq!(
        turbine["price"]["amount"],
        json!({ "amount": "1350.00", "currency": "USD" })
    );
    assert_eq!(turbine["price"]["source"], "PRICE_LIST");
    assert_eq!(turbine["price"]["priceList"], "Northwind NA 2026");
    assert!(!prairie.contains_key("NW-ALP-SE"));
    assert!(
        !prairie
            .values()
            .any(|p| p["name"] == "Northwind EU-Only Compressor")
    );
    assert!(
        prairie
            .values()
            .all(|p| p["regions"].as_array().unwrap().contains(&json!("NA")))
    );

    // harbor's buyer on contoso's portal: the master name, the Winch, nothing of northwind.
    let (harbor, _) = catalog(&app, "buyer@harbor.test", CO).await;
    assert_eq!(harbor["ACM-DRL-18"]["name"], "Acme Cordless Drill 18V");
    assert!(harbor.values().any(|p| p["name"] == "Contoso Harbor Winch"));
    assert!(!harbor.keys().any(|k| k.starts_with("NW-")));

    // northwind's pricing manager: every own listing with cost and margin.
    let (pricing, errors) = catalog(&app, "pricing@northwind.test", NW).await;
    let turbine = &pricing["NW-TURBINE"];
    assert_eq!(
        turbine["costPrice"],
        json!({ "amount": "700.00", "currency": "EUR" })
    );
    assert_eq!(
        turbine["listPrice"],
        json!({ "amount": "1200.00", "currency": "EUR" })
    );
    assert_eq!(turbine["margin"], json!(0.4167));
    assert!(errors.is_empty(), "{errors:?}");
    assert!(pricing.len() >= alpine.len() && pricing.contains_key("NW-ALP-SE"));
    assert!(
        !pricing
            .values()
            .any(|p| p["name"] == "Contoso Harbor Winch")
    );

    // A sales rep sees list prices but never the cost.
    let (rep, errors) = catalog(&app, "rep-na@northwind.test", NW).await;
    assert!(rep["NW-TURBINE"]["costPrice"].is_null() && masked(&errors, "costPrice"));
    assert!(rep["NW-TURBINE"]["listPrice"].is_object());
}

async fn another_tenants_product_is_not_found_everywhere(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (contoso, _) = catalog(&app, "admin@contoso.test", CO).await;
    let winch = contoso
        .values()
        .find(|p| p["name"] == "Contoso Harbor Winch")
        .unwrap()["id"]
        .clone();
    let (northwind, _) = catalog(&app, "admin@northwind.test", NW).await;
    let turbine = northwind["NW-TURBINE"]["id"].clone();
    let special = northwind["NW-ALP-SE"]["id"].clone();
    let compressor = northwind
        .values()
        .find(|p| p["name"] == "Northwind EU-Only Compressor")
        .unwrap()["id"]
        .clone();

    let cases = [
        ("admin@northwind.test", NW, &winch),
        ("buyer@alpine.test", NW, &winch),
        ("buyer@harbor.test", CO, &turbine),
        ("admin@contoso.test", CO, &special),
        ("buyer@prairie.test", NW, &special),
        ("buyer@prairie.test", NW, &compressor),
        ("admin@fjord.test", NW, &special),
    ];
    for (email, host, id) in cases {
        let r = app
            .as_user(
                email,
                host,
                "query($id: ID!) { product(id: $id) { name } node(id: $id) { id } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(
            r.body["data"]["product"],
            Value::Null,
            "{email}: {:?}",
            r.body
        );
        assert_eq!(r.body["data"]["node"], Value::Null, "{email}");
        let codes: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["extensions"]["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["NOT_FOUND", "NOT_FOUND"], "{email}: {:?}", r.body);
    }
    // The same ids work for those who may see them.
    let ok = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "query($id: ID!) { product(id: $id) { name } node(id: $id) { id } }",
            json!({ "id": special }),
        )
        .await;
    assert_eq!(
        ok.body["data"]["product"]["name"],
        "Northwind Alpine Special Edition"
    );
    assert_eq!(ok.body["data"]["node"]["id"], special);

    // Filters narrow and never widen: a customer asking for drafts gets none.
    let drafts = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "{ products(filter: { status: DRAFT }) { edges { node { sku } } } }",
            json!({}),
        )
        .await;
    assert_eq!(drafts.body["data"]["products"]["edges"], json!([]));
    let na = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "{ products(filter: { region: NA }, first: 100) { edges { node { regions } } } }",
            json!({}),
        )
        .await;
    assert!(
        na.body["data"]["products"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["regions"] == json!(["EU", "NA"]))
    );
    let category = app.as_user("buyer@alpine.test", NW, "{ products(filter: { category: \"Workshop/Compressors\" }, first: 100) { edges { node { category } } } }", json!({})).await;
    let edges = category.body["data"]["products"]["edges"]
        .as_array()
        .unwrap();
    assert!(
        !edges.is_empty()
            && edges
                .iter()
                .all(|e| e["node"]["category"] == "Workshop/Compressors")
    );
    let bad = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "{ products(first: 101) { edges { node { sku } } } }",
            json!({}),
        )
        .await;
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "first");
    let anonymous = app
        .graphql(NW, "{ products { edges { node { sku } } } }")
        .await;
    assert_eq!(anonymous.body["data"]["products"]["edges"], json!([]));
}

on_both_backends!(
    every_demo_user_sees_the_marker_rows_as_design_section_9_says,
    another_tenants_product_is_not_found_everywhere,
);
