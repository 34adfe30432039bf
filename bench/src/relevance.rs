//! Judged queries for the demo catalog (`bench/relevance/demo.yaml`) and the measures the
//! relevance benchmark computes from them: NDCG@k with graded gains and MRR@k.
//!
//! Judgements name listings by SKU, which the demo seed keeps stable (its ids are derived from
//! names, its rows are built in a fixed order); `tests/relevance_judgements.rs` checks that every
//! judged SKU still exists, so a seed change that breaks the file fails the build's tests.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use portico_store::{IndexListing, Store};
use serde::Deserialize;

/// The judgement file of the demo catalog.
pub fn judgements_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("relevance/demo.yaml")
}

/// The reseller whose catalog the judgements are about.
pub const TENANT: &str = "northwind";

/// What kind of need a query expresses; results are reported per class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// A SKU as typed (any case), with its dashes, without them, or in part.
    Sku,
    /// A brand and a product type.
    BrandType,
    /// A product type without a brand.
    Type,
    /// A word or two with one or two edits.
    Misspelling,
    /// Type-ahead: the last word cut short.
    Prefix,
    /// With or without diacritics where the catalog has the other.
    Accent,
    /// Sizes and ratings: 18V, 18 v, 1/2 inch, 125mm.
    Unit,
    /// A category's words.
    Category,
}

impl Class {
    pub const ALL: [Class; 8] = [
        Class::Sku,
        Class::BrandType,
        Class::Type,
        Class::Misspelling,
        Class::Prefix,
        Class::Accent,
        Class::Unit,
        Class::Category,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Sku => "sku",
            Class::BrandType => "brand+type",
            Class::Type => "type",
            Class::Misspelling => "misspelling",
            Class::Prefix => "prefix",
            Class::Accent => "accent",
            Class::Unit => "unit",
            Class::Category => "category",
        }
    }
}

/// One query and its graded judgements: SKUs that are exactly what was asked (grade 3),
/// relevant (2) or marginal (1); every other listing is 0.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgedQuery {
    pub query: String,
    pub class: Class,
    /// Why the grades are what they are, when it is not obvious.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub exact: Vec<String>,
    #[serde(default)]
    pub relevant: Vec<String>,
    #[serde(default)]
    pub marginal: Vec<String>,
}

impl JudgedQuery {
    /// Every judged SKU with its grade.
    pub fn judged(&self) -> impl Iterator<Item = (&str, u8)> {
        self.exact
            .iter()
            .map(|s| (s.as_str(), 3))
            .chain(self.relevant.iter().map(|s| (s.as_str(), 2)))
            .chain(self.marginal.iter().map(|s| (s.as_str(), 1)))
    }

    pub fn grades(&self) -> HashMap<&str, u8> {
        self.judged().collect()
    }
}

/// Reads and checks a judgement file: every query has something relevant (grade ≥ 2) and no
/// SKU is judged twice in one query.
pub fn load(path: &Path) -> anyhow::Result<Vec<JudgedQuery>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let queries: Vec<JudgedQuery> =
        serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    for q in &queries {
        anyhow::ensure!(!q.query.trim().is_empty(), "an empty query");
        anyhow::ensure!(
            q.judged().any(|(_, g)| g >= 2),
            "{:?}: nothing judged relevant (grade ≥ 2)",
            q.query
        );
        let mut seen = HashMap::new();
        for (sku, grade) in q.judged() {
            if let Some(before) = seen.insert(sku, grade) {
                anyhow::bail!("{:?}: {sku} judged twice ({before} and {grade})", q.query);
            }
        }
    }
    Ok(queries)
}

/// Gain of a grade: 2^g − 1 (exact 7, relevant 3, marginal 1), so one exact hit outweighs
/// two relevant ones.
fn gain(grade: u8) -> f64 {
    f64::from((1u32 << grade) - 1)
}

fn dcg(grades: impl Iterator<Item = u8>) -> f64 {
    // A fold from +0.0: `sum()` of no terms is -0.0, which prints as "-0.000".
    grades
        .enumerate()
        .fold(0.0, |dcg, (i, g)| dcg + gain(g) / ((i + 2) as f64).log2())
}

/// NDCG@k of a ranking (the grades of the results in order) against the ideal ranking of all
/// the query's judgements.
pub fn ndcg_at(k: usize, ranked: &[u8], judged: &[u8]) -> f64 {
    let mut ideal = judged.to_vec();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let best = dcg(ideal.into_iter().take(k));
    if best == 0.0 {
        return 0.0;
    }
    dcg(ranked.iter().copied().take(k)) / best
}

/// 1 / the rank of the first result with grade ≥ 2 within the first k, else 0.
pub fn reciprocal_rank_at(k: usize, ranked: &[u8]) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|&g| g >= 2)
        .map_or(0.0, |i| 1.0 / (i + 1) as f64)
}

/// The demo dataset seeded into a fresh SQLite database under `dir`, and the reseller's
/// listings as the indexer reads them (every listing, overrides applied).
pub async fn demo_catalog(dir: &Path) -> anyhow::Result<(Store, String, Vec<IndexListing>)> {
    let url = format!("sqlite:{}", dir.join("portico.db").display());
    let store = Store::connect(&url, &portico_store::StoreOptions::default()).await?;
    store.migrate().await?;
    store.seed_demo().await?;
    let directory = store.load_directory().await?;
    let tenant = directory
        .tenant_by_slug(TENANT)
        .context("the demo dataset has no northwind")?
        .id
        .clone();
    let listings = store
        .listings_for_index(&directory.scope_of_all(), &tenant, None)
        .await?;
    Ok((store, tenant, listings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ranking_in_ideal_order_scores_one_and_the_reverse_less() {
        let judged = [3, 2, 1];
        assert!((ndcg_at(10, &[3, 2, 1], &judged) - 1.0).abs() < 1e-12);
        let reversed = ndcg_at(10, &[1, 2, 3], &judged);
        assert!(reversed < 1.0 && reversed > 0.0, "{reversed}");
        assert_eq!(ndcg_at(10, &[0, 0], &judged), 0.0);
    }

    #[test]
    fn ndcg_counts_only_the_first_k_results_and_the_best_k_judgements() {
        // Eleven exact judgements; ten exact results in the first ten is perfect.
        let judged = [3; 11];
        assert!((ndcg_at(10, &[3; 10], &judged) - 1.0).abs() < 1e-12);
        let late = ndcg_at(10, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], &judged);
        assert_eq!(late, 0.0);
    }

    #[test]
    fn reciprocal_rank_is_that_of_the_first_result_graded_two_or_more() {
        assert_eq!(reciprocal_rank_at(10, &[1, 0, 2, 3]), 1.0 / 3.0);
        assert_eq!(reciprocal_rank_at(10, &[3]), 1.0);
        assert_eq!(reciprocal_rank_at(2, &[0, 1, 3]), 0.0);
    }
}
