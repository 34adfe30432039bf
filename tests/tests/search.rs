//! Catalog search per demo user: what each finds and never finds, typos, type-ahead, queries
//! that try to widen the filter, facet counts against the catalog's SQL, live updates through
//! the outbox, and indexes rebuilt at start — on both backends.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use portico_search::{
    IndexState, Indexer, IndexerOptions, SearchOptions, SearchRequest, SearchService, Visibility,
};
use portico_tests::{CO, NW, TestApp, TestDb, on_both_backends, test_actor};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $first: Int, $after: String, $filter: SearchFilter) {
  search(query: $q, first: $first, after: $after, filter: $filter) {
    total
    hits { score product { id sku name } highlights { field text ranges { start end } } }
    facets { field values { value count } }
    pageInfo { hasNextPage endCursor }
  } }";

/// A search as a user, waiting while the portal's index is still being built at start.
async fn search(app: &TestApp, email: &str, host: &str, q: &str, filter: Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = app
            .as_user(
                email,
                host,
                SEARCH,
                json!({ "q": q, "first": 100, "filter": filter }),
            )
            .await;
        if r.first_code() == Some("UNAVAILABLE") && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(r.status, 200, "{email} {q:?}: {:?}", r.body);
        assert!(r.body["errors"].is_null(), "{email} {q:?}: {:?}", r.body);
        return r.body["data"]["search"].clone();
    }
}

fn skus(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["product"]["sku"].as_str().unwrap().to_owned())
        .collect()
}

fn names(result: &Value) -> Vec<String> {
    result["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["product"]["name"].as_str().unwrap().to_owned())
        .collect()
}

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

/// Polls until `check` holds, at most `bound`; the time it took.
async fn within(bound: Duration, mut check: impl AsyncFnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < bound {
        if check().await {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

async fn a_renamed_listing_is_found_under_its_new_name_and_not_its_old(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = search(
        &app,
        "pricing@northwind.test",
        NW,
        "NW-TURBINE",
        json!(null),
    )
    .await;
    let id = before["hits"][0]["product"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .as_user(
            "pricing@northwind.test",
            NW,
            "{ product(id: $id) { version } }"
                .replace("$id", &format!("\"{id}\""))
                .as_str(),
            json!({}),
        )
        .await;
    let version = r.body["data"]["product"]["version"].as_i64().unwrap();
    let renamed = app
        .as_user(
            "pricing@northwind.test",
            NW,
            "mutation($input: UpdateListingInput!) { updateListing(input: $input) { product { name } } }",
            json!({ "input": { "id": id, "expectedVersion": version, "name": "Northwind Gale Blower" } }),
        )
        .await;
    assert_eq!(
        renamed.body["data"]["updateListing"]["product"]["name"], "Northwind Gale Blower",
        "{:?}",
        renamed.body
    );
    let took = within(Duration::from_secs(10), async || {
        skus(&search(&app, "buyer@alpine.test", NW, "gale blower", json!(null)).await)
            .contains(&"NW-TURBINE".to_owned())
    })
    .await
    .expect("found under the new name");
    eprintln!("renamed listing searchable after {took:?}");
    // Still found by its SKU and description, but the old name is gone from hits and
    // highlights.
    let old = search(
        &app,
        "buyer@alpine.test",
        NW,
        "exclusive turbine",
        json!(null),
    )
    .await;
    assert!(
        !old.to_string().contains("Northwind Exclusive Turbine"),
        "{old}"
    );
    let old = search(
        &app,
        "buyer@alpine.test",
        NW,
        "Northwind Exclusive Turbine",
        json!(null),
    )
    .await;
    assert!(
        !names(&old).contains(&"Northwind Exclusive Turbine".to_owned()),
        "{old}"
    );

    // Unlisted: gone from search.
    let unlisted = app
        .as_user(
            "pricing@northwind.test",
            NW,
            "mutation($input: UnlistProductInput!) { unlistProduct(input: $input) { removedId } }",
            json!({ "input": { "id": id, "expectedVersion": version + 1 } }),
        )
        .await;
    assert!(unlisted.body["errors"].is_null(), "{:?}", unlisted.body);
    within(Duration::from_secs(10), async || {
        !skus(
            &search(
                &app,
                "pricing@northwind.test",
                NW,
                "gale blower",
                json!(null),
            )
            .await,
        )
        .contains(&"NW-TURBINE".to_owned())
    })
    .await
    .expect("gone once unlisted");
}

async fn a_master_product_change_reaches_every_listing_of_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // contoso lists the drill unchanged; northwind overrides its name.
    let drill = search(&app, "buyer@harbor.test", CO, "ACM-DRL-18", json!(null)).await;
    assert_eq!(
        names(&drill).first().map(String::as_str),
        Some("Acme Cordless Drill 18V")
    );
    let master: (String, String) = sqlx_master(&app).await;
    let directory = app.store.load_directory().await.unwrap();
    app.store
        .rename_master_product(
            &directory.scope_of_all(),
            &test_actor("test: master rename"),
            &master.0,
            "Acme Brushless Drill 18V",
        )
        .await
        .unwrap();
    within(Duration::from_secs(10), async || {
        names(&search(&app, "buyer@harbor.test", CO, "brushless", json!(null)).await)
            .contains(&"Acme Brushless Drill 18V".to_owned())
    })
    .await
    .expect("contoso's unchanged listing follows its master");
    let northwind = search(&app, "buyer@alpine.test", NW, "ACM-DRL-18", json!(null)).await;
    assert_eq!(
        names(&northwind).first().map(String::as_str),
        Some("Northwind ProDrill 18V"),
        "the override stays"
    );
    assert_eq!(master.1, "ACM-DRL-18");
}

/// The master product behind ACM-DRL-18: (id, sku).
async fn sqlx_master(app: &TestApp) -> (String, String) {
    let directory = app.store.load_directory().await.unwrap();
    let contoso = directory.tenant_by_slug("contoso").unwrap().id.clone();
    let listings = app
        .store
        .listings_for_index(&directory.scope_of_all(), &contoso, None)
        .await
        .unwrap();
    let drill = listings
        .iter()
        .find(|l| l.listing.sku == "ACM-DRL-18")
        .unwrap();
    (
        drill.listing.master_product_id.clone().unwrap(),
        drill.listing.sku.clone(),
    )
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
    a_renamed_listing_is_found_under_its_new_name_and_not_its_old,
    a_master_product_change_reaches_every_listing_of_it,
    anonymous_callers_and_other_portals_find_only_what_their_catalog_shows,
    pages_of_hits_follow_one_another_without_repeats,
);

#[tokio::test]
async fn a_corrupt_or_outdated_index_is_rebuilt_at_start() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let directory = std::sync::Arc::new(app.store.load_directory().await.unwrap());
    let northwind = directory.tenant_by_slug("northwind").unwrap().id.clone();
    let contoso = directory.tenant_by_slug("contoso").unwrap().id.clone();
    // Indexes of our own beside the server's, started the way the server starts them.
    let root = tempfile::tempdir().unwrap();
    let start = || {
        let service =
            std::sync::Arc::new(SearchService::new(root.path(), SearchOptions::default()));
        let source = directory.clone();
        let indexer = Indexer::new(
            app.store.clone(),
            service.clone(),
            std::sync::Arc::new(move || source.clone()),
            IndexerOptions::default(),
        );
        (service, indexer)
    };
    let visibility = Visibility {
        active_only: true,
        sold_in: Some("EU".into()),
        visible_to: None,
    };
    let turbine = SearchRequest {
        text: "turbine".into(),
        limit: 5,
        ..SearchRequest::default()
    };
    let (service, mut indexer) = start();
    indexer.prepare().await.unwrap();
    assert_eq!(service.state(&northwind), IndexState::Ready);
    let found = service
        .search(&northwind, visibility.clone(), turbine.clone())
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    drop((service, indexer));

    // northwind's index is garbage, contoso's was written by "another schema version".
    std::fs::write(
        root.path().join(&northwind).join("meta.json"),
        b"{ not json",
    )
    .unwrap();
    let meta = root.path().join(&contoso).join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    let older = text.replace(r#"\"schema\":1"#, r#"\"schema\":0"#);
    assert_ne!(
        older, text,
        "the schema version is in the commit payload: {text}"
    );
    std::fs::write(&meta, older).unwrap();

    let (service, mut indexer) = start();
    assert_eq!(service.state(&northwind), IndexState::Corrupt);
    assert_eq!(service.state(&contoso), IndexState::Outdated);
    indexer.prepare().await.unwrap();
    assert_eq!(service.state(&northwind), IndexState::Ready);
    assert_eq!(service.state(&contoso), IndexState::Ready);
    let found = service
        .search(&northwind, visibility.clone(), turbine)
        .await
        .unwrap();
    assert_eq!(found.total, 1);
    let winch = SearchRequest {
        text: "winch".into(),
        limit: 5,
        ..SearchRequest::default()
    };
    assert_eq!(
        service
            .search(&contoso, visibility, winch)
            .await
            .unwrap()
            .total,
        1
    );
}
