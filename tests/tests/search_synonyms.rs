//! Search synonyms (`setSearchSynonyms`): a reseller's catalog staff declare words equivalent,
//! its portal's searches apply them at once (no reindex, no stale cached result), and they
//! never reach another reseller's portal nor a listing the caller may not see — on both
//! backends, every change read back by each party it affects.

use portico_store::TenantScope;
use portico_tests::search::{names, search};
use portico_tests::{CO, NW, TestApp, TestDb, on_both_backends, tenant};
use serde_json::{Value, json};

const SET: &str = "mutation($groups: [[String!]!]!, $v: Int!) {
  setSearchSynonyms(input: { groups: $groups, expectedVersion: $v }) { synonyms { groups version updatedAt } } }";
const READ: &str = "{ searchSynonyms { groups version updatedAt } }";

async fn set(app: &TestApp, email: &str, host: &str, groups: Value, v: i64) -> Value {
    let r = app
        .as_user(email, host, SET, json!({ "groups": groups, "v": v }))
        .await;
    assert!(r.body["errors"].is_null(), "{email}: {:?}", r.body);
    r.body["data"]["setSearchSynonyms"]["synonyms"].clone()
}

async fn read(app: &TestApp, email: &str, host: &str) -> Value {
    let r = app.as_user(email, host, READ, json!({})).await;
    assert!(r.body["errors"].is_null(), "{email}: {:?}", r.body);
    r.body["data"]["searchSynonyms"].clone()
}

/// The audit rows of a tenant's chain with this action.
async fn audited(app: &TestApp, slug: &str, action: &str) -> Vec<portico_store::model::AuditEntry> {
    let id = tenant(slug);
    app.store
        .audit_entries(&TenantScope::single(id.clone()), &id)
        .await
        .expect("audit entries")
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// "windmill" is in no listing; once northwind says it means "turbine", northwind's customers
/// find the turbine by it, cached searches included, and contoso's portal is untouched.
async fn synonyms_apply_to_the_resellers_portal_at_once(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let before = search(&app, "buyer@alpine.test", NW, "windmill", json!(null)).await;
    assert_eq!(before["total"], 0, "{before}");
    assert_eq!(read(&app, "admin@northwind.test", NW).await["version"], 0);

    let saved = set(
        &app,
        "pricing@northwind.test",
        NW,
        json!([["Windmill", "turbine", "Windrad"]]),
        0,
    )
    .await;
    assert_eq!(saved["groups"], json!([["windmill", "turbine", "windrad"]]));
    assert_eq!(saved["version"], 1);
    // Read back by the other catalog manager, and audited in northwind's chain.
    let stored = read(&app, "admin@northwind.test", NW).await;
    assert_eq!(stored["groups"], saved["groups"]);
    assert_eq!(stored["version"], 1);
    let rows = audited(&app, "northwind", "search_synonyms.set").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0]
            .after_state
            .as_deref()
            .is_some_and(|s| s.contains("windrad")),
        "{rows:?}"
    );

    // The same query as before (a cached result then) finds the turbine now, marked where
    // its synonym stands, and is not "misspelt".
    let after = search(&app, "buyer@alpine.test", NW, "windmill", json!(null)).await;
    assert_eq!(names(&after), ["Northwind Exclusive Turbine"], "{after}");
    assert!(after["suggestion"].is_null(), "{after}");
    let marked = after["hits"][0]["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["field"] == "name" && !h["ranges"].as_array().unwrap().is_empty());
    assert!(marked, "{after}");
    // Each word of the group stands for the others, and the words typed still count.
    let r = search(
        &app,
        "buyer@prairie.test",
        NW,
        "exclusive windrad",
        json!(null),
    )
    .await;
    assert_eq!(names(&r), ["Northwind Exclusive Turbine"], "{r}");

    // Contoso's portal: northwind's synonyms apply to nobody there, and its own to nobody on
    // northwind's.
    let r = search(&app, "buyer@harbor.test", CO, "windmill", json!(null)).await;
    assert_eq!(r["total"], 0, "{r}");
    assert_eq!(read(&app, "admin@contoso.test", CO).await["version"], 0);
    set(
        &app,
        "admin@contoso.test",
        CO,
        json!([["windmill", "winch"]]),
        0,
    )
    .await;
    let r = search(&app, "buyer@harbor.test", CO, "windmill", json!(null)).await;
    assert_eq!(names(&r), ["Contoso Harbor Winch"], "{r}");
    let r = search(&app, "buyer@alpine.test", NW, "windmill", json!(null)).await;
    assert_eq!(names(&r), ["Northwind Exclusive Turbine"], "{r}");
    assert_eq!(read(&app, "admin@northwind.test", NW).await["version"], 1);
    assert_eq!(
        audited(&app, "contoso", "search_synonyms.set").await.len(),
        1
    );
    assert_eq!(
        audited(&app, "northwind", "search_synonyms.set")
            .await
            .len(),
        1
    );

    // Removing them all is a change like any other: the word finds nothing again.
    let cleared = set(&app, "admin@northwind.test", NW, json!([]), 1).await;
    assert_eq!(cleared["groups"], json!([]));
    assert_eq!(cleared["version"], 2);
    let r = search(&app, "buyer@alpine.test", NW, "windmill", json!(null)).await;
    assert_eq!(r["total"], 0, "{r}");
    assert_eq!(
        read(&app, "pricing@northwind.test", NW).await["groups"],
        json!([])
    );
}

/// "limited" made a synonym of "special" (a word of the special edition only, restricted to
/// alpine and sold in the EU) finds it for alpine, and for nobody outside its assortment or
/// region: no hit, no suggestion, no word of it.
async fn a_synonym_never_reaches_a_listing_the_caller_may_not_see(db: TestDb) {
    let app = TestApp::spawn(db).await;
    set(
        &app,
        "admin@northwind.test",
        NW,
        json!([["limited", "special"], ["approved", "certified"]]),
        0,
    )
    .await;
    let alpine = search(&app, "buyer@alpine.test", NW, "limited", json!(null)).await;
    assert_eq!(
        names(&alpine),
        ["Northwind Alpine Special Edition"],
        "{alpine}"
    );
    for email in ["admin@fjord.test", "buyer@prairie.test"] {
        let r = search(&app, email, NW, "limited", json!(null)).await;
        assert_eq!(r["total"], 0, "{email}: {r}");
        assert!(r["suggestion"].is_null(), "{email}: {r}");
        assert!(
            !r.to_string().to_lowercase().contains("special"),
            "{email}: {r}"
        );
    }
    // The EU-only compressor ("certified for the EU market"), by a synonym, for a customer in
    // NA: nothing; for one in the EU: the compressor.
    let r = search(&app, "buyer@prairie.test", NW, "approved", json!(null)).await;
    assert_eq!(r["total"], 0, "{r}");
    assert!(r["suggestion"].is_null(), "{r}");
    let r = search(&app, "buyer@alpine.test", NW, "approved", json!(null)).await;
    assert_eq!(names(&r), ["Northwind EU-Only Compressor"], "{r}");
}

/// Only reseller admins and pricing managers read and set them; every refusal names its
/// reason and writes nothing.
async fn only_catalog_managers_set_synonyms_and_bad_input_names_the_word(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let groups = json!([["windmill", "turbine"]]);
    for (email, host) in [
        ("rep-eu@northwind.test", NW),
        ("support@northwind.test", NW),
        ("buyer@alpine.test", NW),
        ("admin@alpine.test", NW),
        ("buyer@harbor.test", CO),
    ] {
        let r = app
            .as_user(email, host, SET, json!({ "groups": groups, "v": 0 }))
            .await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{email}: {:?}", r.body);
        let r = app.as_user(email, host, READ, json!({})).await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{email}: {:?}", r.body);
        assert!(r.body["data"].is_null(), "{email}: {:?}", r.body);
    }
    let anonymous = app.graphql(NW, READ).await;
    assert_eq!(
        anonymous.first_code(),
        Some("UNAUTHENTICATED"),
        "{:?}",
        anonymous.body
    );

    for (groups, field, says) in [
        (
            json!([["windmill", "cordless drill"]]),
            "groups[0][1]",
            "one word",
        ),
        (
            json!([["ok", "fine"], ["windmill", "---"]]),
            "groups[1][1]",
            "a word",
        ),
        (json!([["windmill", "x".repeat(41)]]), "groups[0][1]", "40"),
        (json!([["windmill"]]), "groups", "2 to 16"),
        (json!([["Säge", "sage"]]), "groups", "already in groups[0]"),
        (
            json!([["saw", "blade"], ["cut", "SAW"]]),
            "groups",
            "already in groups[0]",
        ),
    ] {
        let r = app
            .as_user(
                "admin@northwind.test",
                NW,
                SET,
                json!({ "groups": groups, "v": 0 }),
            )
            .await;
        assert_eq!(
            r.first_code(),
            Some("BAD_USER_INPUT"),
            "{groups}: {:?}",
            r.body
        );
        let error = &r.body["errors"][0];
        assert_eq!(error["extensions"]["field"], field, "{groups}: {error}");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{groups}: {error}"
        );
    }
    assert!(
        audited(&app, "northwind", "search_synonyms.set")
            .await
            .is_empty()
    );
    assert_eq!(read(&app, "admin@northwind.test", NW).await["version"], 0);

    // A stale version: someone else changed them since.
    set(&app, "pricing@northwind.test", NW, groups.clone(), 0).await;
    let stale = app
        .as_user(
            "admin@northwind.test",
            NW,
            SET,
            json!({ "groups": [["a", "b"]], "v": 0 }),
        )
        .await;
    assert_eq!(
        stale.first_code(),
        Some("BAD_USER_INPUT"),
        "{:?}",
        stale.body
    );
    assert_eq!(
        stale.body["errors"][0]["extensions"]["field"],
        "expectedVersion"
    );
    let stored = read(&app, "admin@northwind.test", NW).await;
    assert_eq!(stored["groups"], groups, "the stale write changed nothing");
    assert_eq!(
        audited(&app, "northwind", "search_synonyms.set")
            .await
            .len(),
        1
    );
}

on_both_backends!(
    synonyms_apply_to_the_resellers_portal_at_once,
    a_synonym_never_reaches_a_listing_the_caller_may_not_see,
    only_catalog_managers_set_synonyms_and_bad_input_names_the_word,
);
