//! The relevance benchmark's judgements stay true to the demo seed: the file parses and every
//! SKU it judges is one of northwind's ACTIVE listings. A seed change that renames or drops a
//! judged listing fails here rather than silently lowering the scores. Scores are not asserted.
//!
//! The seed is the same rows on both backends (`store/src/seed`), and SKUs are read as the
//! search indexer reads them, so one SQLite database is enough.

use std::collections::HashSet;

use portico_bench::relevance::{Class, demo_catalog, judgements_path, load};
use portico_store::model::ListingStatus;

#[tokio::test]
async fn every_judged_sku_is_an_active_listing_of_northwind_in_the_demo_seed() {
    let queries = load(&judgements_path()).expect("the judgement file parses");
    let dir = tempfile::tempdir().unwrap();
    let (_store, _tenant, listings) = demo_catalog(dir.path()).await.unwrap();
    let active: HashSet<&str> = listings
        .iter()
        .filter(|l| l.listing.status == ListingStatus::Active)
        .map(|l| l.listing.sku.as_str())
        .collect();
    let missing: Vec<String> = queries
        .iter()
        .flat_map(|q| {
            q.judged()
                .filter(|(sku, _)| !active.contains(sku))
                .map(|(sku, _)| format!("{:?}: {sku}", q.query))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "judged SKUs that are not ACTIVE northwind listings: {missing:?}"
    );
}

#[test]
fn the_judgements_cover_every_query_class_with_at_least_sixty_queries() {
    let queries = load(&judgements_path()).expect("the judgement file parses");
    assert!(queries.len() >= 60, "{} queries", queries.len());
    for class in Class::ALL {
        assert!(
            queries.iter().any(|q| q.class == class),
            "no {} query",
            class.name()
        );
    }
    let distinct: HashSet<&str> = queries.iter().map(|q| q.query.as_str()).collect();
    assert_eq!(distinct.len(), queries.len(), "a query is judged twice");
}
