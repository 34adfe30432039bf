//! Catalog search per demo user: what each finds and never finds, typos, type-ahead, queries
//! that try to widen the filter, facet counts against the catalog's SQL, anonymous callers and
//! other portals, and pages of hits — on both backends.

use std::collections::BTreeMap;

use portico_tests::search::{SEARCH, names, search, skus};
use portico_tests::{CO, NW, TestApp, TestDb, on_both_backends};
use serde_json::{Value, json};

async fn each_demo_user_finds_what_design_section_9_says_and_nothing_else(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let alpine = search(&app, "buyer@alpine.test", NW, "turbine", json!(null)).await;
    assert_eq!(
        skus(&alpine).first().map(String::as_str),
        Some("NW-TURBINE")
    );
    let special = search(
        &app,
        "buyer@alpine.test",
        NW,
        "special edition",
        json!(null),
    )
    .await;
    assert!(
        skus(&special).contains(&"NW-ALP-SE".to_owned()),
        "{special}"
    );

    for q in ["special edition", "alpine", "NW-ALP-SE"] {
        let prairie = search(&app, "buyer@prairie.test", NW, q, json!(null)).await;
        assert!(
            !skus(&prairie).contains(&"NW-ALP-SE".to_owned()),
            "{q}: {prairie}"
        );
    }
    for q in ["compressor", "EU-only", "NW-EU-COMP"] {
        let prairie = search(&app, "buyer@prairie.test", NW, q, json!(null)).await;
        assert!(
            !skus(&prairie).contains(&"NW-EU-COMP".to_owned()),
            "{q}: {prairie}"
        );
    }
    let prairie = search(&app, "buyer@prairie.test", NW, "turbine", json!(null)).await;
    assert!(
        skus(&prairie).contains(&"NW-TURBINE".to_owned()),
        "NA sells the turbine"
    );

    for q in ["Turbine", "ProDrill", "Northwind"] {
        let harbor = search(&app, "buyer@harbor.test", CO, q, json!(null)).await;
        assert_eq!(harbor["total"], 0, "{q}: {harbor}");
        assert_eq!(harbor["hits"], json!([]), "{q}");
    }
    let harbor = search(
        &app,
        "buyer@harbor.test",
        CO,
        "Acme Cordless Drill",
        json!(null),
    )
    .await;
    assert_eq!(
        names(&harbor).first().map(String::as_str),
        Some("Acme Cordless Drill 18V"),
        "{harbor}"
    );
    let winch = search(&app, "buyer@harbor.test", CO, "winch", json!(null)).await;
    assert_eq!(skus(&winch), vec!["CT-WINCH"]);

    for email in [
        "admin@northwind.test",
        "pricing@northwind.test",
        "rep-eu@northwind.test",
        "buyer@alpine.test",
        "buyer@prairie.test",
    ] {
        for q in ["winch", "harbor", "CT-WINCH", "Contoso"] {
            let r = search(&app, email, NW, q, json!(null)).await;
            assert!(
                !skus(&r).contains(&"CT-WINCH".to_owned()),
                "{email} {q}: {r}"
            );
            assert!(
                !r.to_string().to_lowercase().contains("winch"),
                "{email} {q}: no hint in hits, highlights or facets: {r}"
            );
        }
    }
}

async fn misspelled_and_half_typed_words_find_the_turbine(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for q in [
        "turbin",
        "trubine",
        "turb",
        "Turbine",
        "NORTHWIND turb",
        "exclusiv turbine",
    ] {
        let r = search(&app, "buyer@alpine.test", NW, q, json!(null)).await;
        assert_eq!(
            skus(&r).first().map(String::as_str),
            Some("NW-TURBINE"),
            "{q}: {r}"
        );
        let name = r["hits"][0]["highlights"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["field"] == "name")
            .unwrap_or_else(|| panic!("{q}: a highlight of the name: {r}"));
        let text = name["text"].as_str().unwrap();
        let marked: Vec<&str> = name["ranges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                &text[r["start"].as_u64().unwrap() as usize..r["end"].as_u64().unwrap() as usize]
            })
            .collect();
        assert!(marked.contains(&"Turbine"), "{q}: {marked:?}");
    }
    // The exact SKU ranks first.
    let r = search(&app, "buyer@alpine.test", NW, "ACM-DRL-18", json!(null)).await;
    assert_eq!(
        skus(&r).first().map(String::as_str),
        Some("ACM-DRL-18"),
        "{r}"
    );
}

async fn query_syntax_cannot_widen_what_a_user_sees(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let baseline = search(&app, "buyer@prairie.test", NW, "", json!(null)).await["total"]
        .as_u64()
        .unwrap();
    for q in [
        "region:NA",
        "region:EU",
        "visibility:*",
        "visibility:RESTRICTED",
        "tenant:contoso",
        "customers:*",
        "status:DRAFT",
        "* OR 1=1",
        "\" OR \"",
        "NW-ALP-SE OR NW-EU-COMP",
        "compressor -region",
    ] {
        let r = search(&app, "buyer@prairie.test", NW, q, json!(null)).await;
        assert!(
            r["total"].as_u64().unwrap() <= baseline,
            "{q} widened the results: {r}"
        );
        for sku in ["NW-ALP-SE", "NW-EU-COMP", "CT-WINCH"] {
            assert!(!skus(&r).contains(&sku.to_owned()), "{q} found {sku}: {r}");
        }
    }
}

/// Every product the user's catalog shows for a filter, counted by category prefix and brand.
async fn catalog_counts(
    app: &TestApp,
    email: &str,
    filter: &Value,
    parent: Option<&str>,
) -> (u64, BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let (mut total, mut categories, mut brands) = (0, BTreeMap::new(), BTreeMap::new());
    let mut after: Option<String> = None;
    loop {
        let r = app
            .as_user(email, NW, "query($after: String, $filter: ProductFilter) { products(first: 100, after: $after, filter: $filter) { edges { node { brand category } } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after, "filter": filter }))
            .await;
        for e in r.body["data"]["products"]["edges"].as_array().unwrap() {
            total += 1;
            if let Some(b) = e["node"]["brand"].as_str() {
                *brands.entry(b.to_owned()).or_insert(0) += 1;
            }
            if let Some(c) = e["node"]["category"].as_str() {
                let depth = parent.map_or(0, |p| p.split('/').count());
                let key: Vec<&str> = c.split('/').take(depth + 1).collect();
                if key.len() == depth + 1 {
                    *categories.entry(key.join("/")).or_insert(0) += 1;
                }
            }
        }
        let page = &r.body["data"]["products"]["pageInfo"];
        if page["hasNextPage"] != true {
            return (total, categories, brands);
        }
        after = page["endCursor"].as_str().map(str::to_owned);
    }
}

fn facet(result: &Value, field: &str) -> BTreeMap<String, u64> {
    result["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == field)
        .unwrap()["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["value"].as_str().unwrap().to_owned(),
                v["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn facet_counts_equal_the_visible_listings_per_value(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // Filters drawn from a fixed-seed generator over the users, the catalog's own top
    // categories and brands, and the regions.
    let users = [
        "buyer@alpine.test",
        "buyer@prairie.test",
        "pricing@northwind.test",
        "rep-na@northwind.test",
        "viewer@alpine.test",
    ];
    let all = search(&app, "pricing@northwind.test", NW, "", json!(null)).await;
    let categories: Vec<String> = facet(&all, "category").into_keys().collect();
    let brands: Vec<String> = facet(&all, "brand").into_keys().collect();
    let mut seed: u64 = 0x5EED_CAFE;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    for round in 0..12 {
        let email = users[next(users.len())];
        let mut filter = serde_json::Map::new();
        if next(2) == 0 {
            filter.insert("category".into(), json!(categories[next(categories.len())]));
        }
        if next(3) == 0 {
            filter.insert("brand".into(), json!(brands[next(brands.len())]));
        }
        if next(3) == 0 {
            filter.insert("region".into(), json!(["EU", "NA"][next(2)]));
        }
        let filter = Value::Object(filter);
        let parent = filter["category"].as_str();
        let found = search(&app, email, NW, "", filter.clone()).await;
        let (total, by_category, by_brand) = catalog_counts(&app, email, &filter, parent).await;
        assert_eq!(
            found["total"].as_u64().unwrap(),
            total,
            "round {round} {email} {filter}"
        );
        assert_eq!(
            facet(&found, "brand"),
            by_brand,
            "round {round} {email} {filter}"
        );
        assert_eq!(
            facet(&found, "category"),
            by_category,
            "round {round} {email} {filter}"
        );
    }
}

async fn anonymous_callers_and_other_portals_find_only_what_their_catalog_shows(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // Signed in on another reseller's portal: refused before any search.
    let token = app.token_for("buyer@harbor.test").await;
    let r = app
        .graphql_as(
            NW,
            &format!("Bearer {token}"),
            "{ search(query: \"turbine\") { total } }",
        )
        .await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    // Anonymous: exactly what the anonymous catalog shows (the policy decides, not search).
    let anon_catalog = app
        .graphql(NW, "{ products(first: 100) { edges { node { sku } } } }")
        .await;
    let anon = app
        .graphql(
            NW,
            "{ search(query: \"\", first: 100) { total hits { product { sku } } } }",
        )
        .await;
    let catalog_count = anon_catalog.body["data"]["products"]["edges"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        anon.body["data"]["search"]["total"].as_u64().unwrap_or(0) as usize,
        catalog_count,
        "{:?}",
        anon.body
    );
    // Bad input names the field.
    let long = "x".repeat(201);
    let r = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "query($q: String!) { search(query: $q) { total } }",
            json!({ "q": long }),
        )
        .await;
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "query");
    let r = app
        .as_user(
            "buyer@alpine.test",
            NW,
            "{ search(query: \"drill\", after: \"bogus\") { total } }",
            json!({}),
        )
        .await;
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "after");
}

async fn pages_of_hits_follow_one_another_without_repeats(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let total = search(&app, "buyer@alpine.test", NW, "", json!(null)).await["total"]
        .as_u64()
        .unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let r = app
            .as_user(
                "buyer@alpine.test",
                NW,
                SEARCH,
                json!({ "q": "", "first": 40, "after": after }),
            )
            .await;
        let page = &r.body["data"]["search"];
        for sku in skus(page) {
            assert!(seen.insert(sku.clone()), "{sku} twice");
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen.len() as u64, total);
}

on_both_backends!(
    each_demo_user_finds_what_design_section_9_says_and_nothing_else,
    misspelled_and_half_typed_words_find_the_turbine,
    query_syntax_cannot_widen_what_a_user_sees,
    facet_counts_equal_the_visible_listings_per_value,
    anonymous_callers_and_other_portals_find_only_what_their_catalog_shows,
    pages_of_hits_follow_one_another_without_repeats,
);
