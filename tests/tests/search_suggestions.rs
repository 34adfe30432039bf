//! "Did you mean" offers the catalog's own words, and only words of listings the caller may
//! see: a restricted listing's words never reach a customer outside its assortment, neither as
//! a suggestion nor through what a misspelling finds — on both backends.

use portico_tests::search::search;
use portico_tests::{CO, NW, TestApp, TestDb, on_both_backends};
use serde_json::json;

async fn a_misspelt_query_is_offered_the_catalogs_spelling(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let r = search(
        &app,
        "buyer@alpine.test",
        NW,
        "exclusiv turbime",
        json!(null),
    )
    .await;
    assert_eq!(r["suggestion"], "exclusive turbine", "{r}");
    // Spelt right: nothing to offer.
    let r = search(
        &app,
        "buyer@alpine.test",
        NW,
        "exclusive turbine",
        json!(null),
    )
    .await;
    assert!(r["suggestion"].is_null(), "{r}");
    // Half typed: the user is still typing, not misspelling.
    let r = search(&app, "buyer@alpine.test", NW, "exclusive turb", json!(null)).await;
    assert!(r["suggestion"].is_null(), "{r}");
}

/// "special" and "edition" are words of the special edition only, restricted to alpine.
async fn a_suggestion_never_names_a_word_the_caller_cannot_find(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let alpine = search(&app, "buyer@alpine.test", NW, "speciel editon", json!(null)).await;
    assert_eq!(alpine["suggestion"], "special edition", "{alpine}");
    for email in ["admin@fjord.test", "buyer@prairie.test"] {
        for q in ["speciel editon", "speciel", "editon", "specia"] {
            let r = search(&app, email, NW, q, json!(null)).await;
            assert!(r["suggestion"].is_null(), "{email} {q}: {r}");
            let text = r.to_string().to_lowercase();
            assert!(!text.contains("special"), "{email} {q}: {r}");
            assert!(!text.contains("edition"), "{email} {q}: {r}");
        }
    }
}

const COMPLETIONS: &str =
    "query($p: String!, $first: Int) { searchCompletions(prefix: $p, first: $first) }";

async fn completions(app: &TestApp, email: &str, host: &str, prefix: &str) -> Vec<String> {
    // The index is built at start: wait for it as `search` does.
    search(app, email, host, "", json!(null)).await;
    let r = app
        .as_user(email, host, COMPLETIONS, json!({ "p": prefix }))
        .await;
    assert!(r.body["errors"].is_null(), "{email} {prefix}: {:?}", r.body);
    serde_json::from_value(r.body["data"]["searchCompletions"].clone()).unwrap()
}

/// Completions are names of products the caller may see, as it is shown them.
async fn completions_name_only_products_the_caller_may_see(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let turbine = completions(&app, "buyer@alpine.test", NW, "exclusive turb").await;
    assert_eq!(
        turbine.first().map(String::as_str),
        Some("Northwind Exclusive Turbine")
    );
    let special = completions(&app, "buyer@alpine.test", NW, "special ed").await;
    assert!(
        special.contains(&"Northwind Alpine Special Edition".to_owned()),
        "{special:?}"
    );
    for email in ["admin@fjord.test", "buyer@prairie.test"] {
        for prefix in ["special ed", "alpine spec", "spec"] {
            let names = completions(&app, email, NW, prefix).await;
            assert!(
                !names.iter().any(|n| n.contains("Special")),
                "{email} {prefix}: {names:?}"
            );
        }
    }
    // Another portal's catalog is another index: nothing of northwind's.
    let harbor = completions(&app, "buyer@harbor.test", CO, "exclusive turb").await;
    assert!(
        !harbor.iter().any(|n| n.contains("Northwind")),
        "{harbor:?}"
    );
    // Bad input names the argument.
    let r = app
        .as_user(
            "buyer@alpine.test",
            NW,
            COMPLETIONS,
            json!({ "p": "tur", "first": 0 }),
        )
        .await;
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    assert!(r.body.to_string().contains("first"), "{:?}", r.body);
}

on_both_backends!(
    a_misspelt_query_is_offered_the_catalogs_spelling,
    a_suggestion_never_names_a_word_the_caller_cannot_find,
    completions_name_only_products_the_caller_may_see,
);
