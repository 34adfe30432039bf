//! Price lists, tiered prices and listing master products, on both backends: who may, what
//! customers then pay, field-level errors that change nothing, NOT_FOUND across tenants.

use std::collections::BTreeSet;

use portico_tests::{CO, NW, TestApp, TestDb, audit_len, on_both_backends, turbine};
use serde_json::{Value, json};

async fn skus(app: &TestApp, email: &str, host: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let r = app.as_user(email, host, "query($a: String) { products(first: 100, after: $a) { edges { node { sku } } pageInfo { hasNextPage endCursor } } }", json!({ "a": after })).await;
        for e in r.body["data"]["products"]["edges"].as_array().unwrap() {
            out.insert(e["node"]["sku"].as_str().unwrap().to_owned());
        }
        let page = &r.body["data"]["products"]["pageInfo"];
        if page["hasNextPage"] != true {
            return out;
        }
        after = page["endCursor"].as_str().map(str::to_owned);
    }
}

const CREATE: &str = "mutation($i: CreatePriceListInput!) { createPriceList(input: $i) { priceList { id name version currency } } }";
const SET: &str =
    "mutation($i: SetPricesInput!) { setPrices(input: $i) { priceList { version } } }";
const UPDATE: &str = "mutation($i: UpdatePriceListInput!) { updatePriceList(input: $i) { priceList { name priority version } } }";
const PRICE: &str = "query($id: ID!, $q: Int) { product(id: $id) { price(quantity: $q) { amount { amount currency } source priceList minQuantity } } }";

async fn price_lists_and_tiers_change_what_customers_pay(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (turbine, _) = turbine(&app).await;
    let before = audit_len(&app).await;
    let good = json!({ "name": "Northwind EU Autumn", "region": "EU", "currency": "EUR", "priority": 30, "validFrom": "2026-01-01T00:00:00Z" });
    let with = |patch: Value| {
        let mut i = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    for (patch, field) in [
        (json!({ "currency": "eu" }), "currency"),
        (json!({ "name": " " }), "name"),
        (json!({ "name": "Northwind EU 2026" }), "name"),
        (json!({ "priority": 5000 }), "priority"),
        (json!({ "validTo": "2025-01-01T00:00:00Z" }), "validTo"),
    ] {
        let r = app
            .as_user("pricing@northwind.test", NW, CREATE, with(patch))
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{field}: {:?}",
            r.body
        );
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{:?}",
            r.body
        );
    }
    for (email, host, code) in [
        ("rep-eu@northwind.test", NW, "FORBIDDEN"),
        ("support@northwind.test", NW, "FORBIDDEN"),
        ("buyer@alpine.test", NW, "FORBIDDEN"),
    ] {
        assert_eq!(
            app.as_user(email, host, CREATE, with(json!({})))
                .await
                .first_code(),
            Some(code),
            "{email}"
        );
    }
    assert_eq!(audit_len(&app).await, before, "refusals write nothing");

    let created = app
        .as_user("pricing@northwind.test", NW, CREATE, with(json!({})))
        .await;
    let list = &created.body["data"]["createPriceList"]["priceList"];
    let list_id = list["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", created.body))
        .to_owned();
    assert_eq!(list["version"], 1);

    let set = |version: i64, tiers: Value, currency: Value| json!({ "i": { "priceListId": list_id, "expectedVersion": version, "productId": turbine, "tiers": tiers, "currency": currency } });
    for (input, field) in [
        (
            set(
                1,
                json!([{ "minQuantity": 1, "amount": "1.001" }]),
                Value::Null,
            ),
            "tiers",
        ),
        (
            set(
                1,
                json!([{ "minQuantity": 0, "amount": "1.00" }]),
                Value::Null,
            ),
            "tiers",
        ),
        (
            set(
                1,
                json!([{ "minQuantity": 2, "amount": "1.00" }, { "minQuantity": 2, "amount": "2.00" }]),
                Value::Null,
            ),
            "tiers",
        ),
        (
            set(
                1,
                json!([{ "minQuantity": 1, "amount": "1.00" }]),
                json!("USD"),
            ),
            "currency",
        ),
        (
            set(
                7,
                json!([{ "minQuantity": 1, "amount": "1.00" }]),
                Value::Null,
            ),
            "expectedVersion",
        ),
    ] {
        let r = app.as_user("pricing@northwind.test", NW, SET, input).await;
        assert_eq!(
            r.body["errors"][0]["extensions"]["field"], field,
            "{:?}",
            r.body
        );
    }
    let ok = app.as_user("pricing@northwind.test", NW, SET, set(1, json!([{ "minQuantity": 1, "amount": "1150.00" }, { "minQuantity": 5, "amount": "1100.00" }]), json!("EUR"))).await;
    assert_eq!(
        ok.body["data"]["setPrices"]["priceList"]["version"], 2,
        "{:?}",
        ok.body
    );

    // fjord (EU, no contract) now pays from the higher-priority list, tiered; alpine keeps its contract.
    let one = app
        .as_user(
            "admin@fjord.test",
            NW,
            PRICE,
            json!({ "id": turbine, "q": 1 }),
        )
        .await;
    assert_eq!(
        one.body["data"]["product"]["price"],
        json!({ "amount": { "amount": "1150.00", "currency": "EUR" }, "source": "PRICE_LIST", "priceList": "Northwind EU Autumn", "minQuantity": 1 })
    );
    let five = app
        .as_user(
            "admin@fjord.test",
            NW,
            PRICE,
            json!({ "id": turbine, "q": 5 }),
        )
        .await;
    assert_eq!(
        five.body["data"]["product"]["price"]["amount"]["amount"],
        "1100.00"
    );
    let alpine = app
        .as_user(
            "buyer@alpine.test",
            NW,
            PRICE,
            json!({ "id": turbine, "q": 1 }),
        )
        .await;
    assert_eq!(
        alpine.body["data"]["product"]["price"]["source"],
        "CONTRACT"
    );

    // Lowering the list's priority below the 2026 list gives the 2026 price back.
    let lowered = app
        .as_user(
            "pricing@northwind.test",
            NW,
            UPDATE,
            json!({ "i": { "id": list_id, "expectedVersion": 2, "priority": 1 } }),
        )
        .await;
    assert_eq!(
        lowered.body["data"]["updatePriceList"]["priceList"]["version"], 3,
        "{:?}",
        lowered.body
    );
    let back = app
        .as_user(
            "admin@fjord.test",
            NW,
            PRICE,
            json!({ "id": turbine, "q": 1 }),
        )
        .await;
    assert_eq!(
        back.body["data"]["product"]["price"]["priceList"],
        "Northwind EU 2026"
    );
    let stale = app
        .as_user(
            "pricing@northwind.test",
            NW,
            UPDATE,
            json!({ "i": { "id": list_id, "expectedVersion": 2, "priority": 50 } }),
        )
        .await;
    assert_eq!(
        stale.body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );

    // Across tenants: NOT_FOUND; customers see no price lists at all.
    let foreign = app
        .as_user(
            "admin@contoso.test",
            CO,
            UPDATE,
            json!({ "i": { "id": list_id, "expectedVersion": 3, "priority": 50 } }),
        )
        .await;
    assert_eq!(
        foreign.first_code(),
        Some("NOT_FOUND"),
        "{:?}",
        foreign.body
    );
    assert_eq!(
        app.as_user("buyer@alpine.test", NW, "{ priceLists { id } }", json!({}))
            .await
            .body["data"]["priceLists"],
        json!([])
    );
    let lists = app
        .as_user(
            "pricing@northwind.test",
            NW,
            "{ priceLists { name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        lists.body["data"]["priceLists"].as_array().unwrap().len(),
        4,
        "the three seeded lists and the new one"
    );
    assert_eq!(audit_len(&app).await, before + 3);
}

const LIST: &str = "mutation($i: ListProductInput!) { listProduct(input: $i) { product { id sku name status version } } }";
const UNLIST: &str = "mutation($i: UnlistProductInput!) { unlistProduct(input: $i) { removedId } }";

async fn master_products_are_listed_and_unlisted_by_catalog_staff(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let northwind = skus(&app, "pricing@northwind.test", NW).await;
    let contoso = skus(&app, "admin@contoso.test", CO).await;
    let sku = contoso
        .iter()
        .find(|s| !northwind.contains(*s) && !s.starts_with("CO-"))
        .expect("a master product northwind does not list")
        .clone();

    let input =
        |sku: &str| json!({ "i": { "masterSku": sku, "regions": ["EU"], "status": "ACTIVE" } });
    for (email, host, code) in [
        ("rep-eu@northwind.test", NW, "FORBIDDEN"),
        ("buyer@alpine.test", NW, "FORBIDDEN"),
    ] {
        assert_eq!(
            app.as_user(email, host, LIST, input(&sku))
                .await
                .first_code(),
            Some(code),
            "{email}"
        );
    }
    let unknown = app
        .as_user("pricing@northwind.test", NW, LIST, input("NO-SUCH-SKU"))
        .await;
    assert_eq!(
        unknown.body["errors"][0]["extensions"]["field"],
        "masterSku"
    );
    let empty = app
        .as_user(
            "pricing@northwind.test",
            NW,
            LIST,
            json!({ "i": { "masterSku": sku, "regions": [] } }),
        )
        .await;
    assert_eq!(empty.body["errors"][0]["extensions"]["field"], "regions");

    let listed = app
        .as_user("pricing@northwind.test", NW, LIST, input(&sku))
        .await;
    let product = listed.body["data"]["listProduct"]["product"].clone();
    assert_eq!(product["sku"], json!(sku), "{:?}", listed.body);
    assert!(
        skus(&app, "buyer@alpine.test", NW).await.contains(&sku),
        "alpine sees it now"
    );
    let again = app
        .as_user("pricing@northwind.test", NW, LIST, input(&sku))
        .await;
    assert_eq!(again.body["errors"][0]["extensions"]["field"], "masterSku");

    // Across tenants the new listing is NOT_FOUND, for reading and unlisting alike.
    let id = product["id"].as_str().unwrap();
    let foreign = app
        .as_user(
            "admin@contoso.test",
            CO,
            UNLIST,
            json!({ "i": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(foreign.first_code(), Some("NOT_FOUND"));
    let stale = app
        .as_user(
            "admin@northwind.test",
            NW,
            UNLIST,
            json!({ "i": { "id": id, "expectedVersion": 9 } }),
        )
        .await;
    assert_eq!(
        stale.body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );
    let gone = app
        .as_user(
            "admin@northwind.test",
            NW,
            UNLIST,
            json!({ "i": { "id": id, "expectedVersion": 1 } }),
        )
        .await;
    assert_eq!(
        gone.body["data"]["unlistProduct"]["removedId"],
        json!(id),
        "{:?}",
        gone.body
    );
    assert!(!skus(&app, "buyer@alpine.test", NW).await.contains(&sku));
    assert!(
        !skus(&app, "pricing@northwind.test", NW)
            .await
            .contains(&sku),
        "unlisted is out of the catalog"
    );
    // Listing it again brings the same listing back.
    let back = app
        .as_user("pricing@northwind.test", NW, LIST, input(&sku))
        .await;
    assert_eq!(
        back.body["data"]["listProduct"]["product"]["id"],
        json!(id),
        "{:?}",
        back.body
    );
}

on_both_backends!(
    price_lists_and_tiers_change_what_customers_pay,
    master_products_are_listed_and_unlisted_by_catalog_staff,
);
