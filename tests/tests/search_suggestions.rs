//! "Did you mean" offers the catalog's own words, and only words of listings the caller may
//! see: a restricted listing's words never reach a customer outside its assortment, neither as
//! a suggestion nor through what a misspelling finds — on both backends.

use portico_tests::search::search;
use portico_tests::{NW, TestApp, TestDb, on_both_backends};
use serde_json::json;

async fn a_misspelt_query_is_offered_the_catalogs_spelling(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let r = search(&app, "buyer@alpine.test", NW, "exclusiv turbime", json!(null)).await;
    assert_eq!(r["suggestion"], "exclusive turbine", "{r}");
    // Spelt right: nothing to offer.
    let r = search(&app, "buyer@alpine.test", NW, "exclusive turbine", json!(null)).await;
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

on_both_backends!(
    a_misspelt_query_is_offered_the_catalogs_spelling,
    a_suggestion_never_names_a_word_the_caller_cannot_find,
);
