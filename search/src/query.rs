//! From a request to a Tantivy query: `Must(user words) ∧ Must(visibility) ∧ Must(user
//! filters)`, run with the page, the total and the facet counts in one pass.

use std::sync::Arc;
use tantivy::collector::{Count, FacetCollector, TopDocs};

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, TermQuery,
    TermSetQuery,
};
use tantivy::schema::{Facet, IndexRecordOption, Value};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{Searcher, TantivyDocument, Term};

use crate::SearchError;
use crate::document::{Fields, brand_facet, category_facet, text_fields, words_analyzer};
use crate::expand::{Expansion, Word};
use crate::filter::VisibleDocs;
use crate::highlight::highlight;
use crate::suggest::suggest;
use crate::synonyms::Synonyms;

/// At most this many words of the user's text are searched.
pub const MAX_WORDS: usize = 8;

/// What the caller may see, from the policy's catalog predicates. Not optional: a search
/// without it cannot be expressed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Visibility {
    /// Only ACTIVE listings.
    pub active_only: bool,
    /// Only listings sold in this region (`EU`, `NA`).
    pub sold_in: Option<String>,
    /// Restricted listings only when their assortment names this tenant.
    pub visible_to: Option<String>,
}

/// What the user asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SearchRequest {
    pub text: String,
    /// A category path: it and everything below it.
    pub category: Option<String>,
    pub brand: Option<String>,
    pub region: Option<String>,
    pub offset: usize,
    pub limit: usize,
    /// The caller does not show facets: they are not counted (the costliest collector).
    pub without_facets: bool,
    /// The caller does not show highlights: no stored text is read for them.
    pub without_highlights: bool,
    /// The reseller's synonyms of the text's words (`Synonyms::of_text`).
    pub synonyms: Synonyms,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Highlight {
    pub field: String,
    pub text: String,
    /// `[start, end)` in UTF-16 code units.
    pub ranges: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub listing_id: String,
    pub score: f32,
    pub highlights: Vec<Highlight>,
}

/// Counts per value over everything that matched (not just the page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCounts {
    pub field: &'static str,
    pub values: Vec<(String, u64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Vec<FacetCounts>,
    /// "Did you mean": the query with its misspelt words replaced by the catalog's closest
    /// words, offered only when it finds something this caller may see (`suggest`).
    pub suggestion: Option<String>,
}

/// The user's words, as the index tokenized the documents.
pub fn words(text: &str) -> Vec<String> {
    let mut analyzer = words_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() && out.len() < MAX_WORDS {
        out.push(stream.token().text.clone());
    }
    out
}

pub(crate) fn term_query(field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// A clause that must hold and adds nothing to the score.
fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn boosted(query: Box<dyn Query>, weight: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(query, weight)))
}

/// Past this many terms a fuzzy or prefix expansion is matched as a set at a constant score:
/// a union of that many scored posting lists would cost more than the ranking it buys.
const SCORED_EXPANSIONS: usize = 16;

/// A word's fuzzy or prefix terms as one clause: each term scored like an exact word (so where
/// it occurs still counts: the field weights are term frequencies), or beyond
/// `SCORED_EXPANSIONS` terms one constant-score set.
fn term_set(
    field: tantivy::schema::Field,
    terms: &[String],
    weight: f32,
) -> (Occur, Box<dyn Query>) {
    if terms.len() > SCORED_EXPANSIONS {
        return boosted(
            Box::new(TermSetQuery::new(
                terms.iter().map(|t| Term::from_field_text(field, t)),
            )),
            weight,
        );
    }
    let scored: Vec<(Occur, Box<dyn Query>)> = terms
        .iter()
        .map(|t| {
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_text(field, t),
                    IndexRecordOption::WithFreqs,
                )) as Box<dyn Query>,
            )
        })
        .collect();
    boosted(Box::new(BooleanQuery::new(scored)), weight)
}

/// One word in any text field: exact (scored, boosted), its synonyms (exact, scored as the
/// word itself would be), the terms within its edit distance, and for the last word those it
/// is a prefix of (`expand`).
fn word_query(f: &Fields, expansion: &Expansion, synonyms: &[String]) -> Box<dyn Query> {
    let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, weight) in text_fields(f) {
        for synonym in synonyms {
            should.push(boosted(
                Box::new(TermQuery::new(
                    Term::from_field_text(field, synonym),
                    IndexRecordOption::WithFreqs,
                )),
                weight * 2.0,
            ));
        }
        let Some((_, terms)) = expansion.fields.iter().find(|(g, _)| *g == field) else {
            continue;
        };
        if terms.exact {
            should.push(boosted(
                Box::new(TermQuery::new(
                    Term::from_field_text(field, &expansion.word.text),
                    IndexRecordOption::WithFreqs,
                )),
                weight * 2.0,
            ));
        }
        if !terms.fuzzy.is_empty() {
            should.push(term_set(field, &terms.fuzzy, weight * 0.5));
        }
        if !terms.prefix.is_empty() {
            should.push(term_set(field, &terms.prefix, weight * 0.75));
        }
    }
    if should.is_empty() {
        // A word the index holds in no form: nothing matches.
        return Box::new(EmptyQuery);
    }
    Box::new(BooleanQuery::new(should))
}

/// The visibility filter: built from the policy, never from user input.
pub(crate) fn visibility_clauses(
    f: &Fields,
    visibility: &Visibility,
) -> Vec<(Occur, Box<dyn Query>)> {
    let mut clauses = Vec::new();
    if visibility.active_only {
        clauses.push(filter(term_query(f.status, "ACTIVE")));
    }
    if let Some(region) = &visibility.sold_in {
        clauses.push(filter(term_query(f.regions, region)));
    }
    if let Some(customer) = &visibility.visible_to {
        clauses.push(filter(Box::new(BooleanQuery::new(vec![
            (Occur::Should, term_query(f.visibility, "ALL")),
            (Occur::Should, term_query(f.customers, customer)),
        ]))));
    }
    clauses
}

pub fn build(
    f: &Fields,
    visible: &Arc<VisibleDocs>,
    request: &SearchRequest,
    words: &[Arc<Expansion>],
) -> BooleanQuery {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if words.is_empty() {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    for word in words {
        let synonyms = request.synonyms.of(&word.word.text);
        clauses.push((Occur::Must, word_query(f, word, synonyms)));
    }
    // A whole SKU typed as it is comes first.
    let sku = request.text.trim().to_lowercase();
    if !sku.is_empty() {
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(f.sku_exact, &sku),
                    IndexRecordOption::Basic,
                )),
                100.0,
            )),
        ));
    }
    // The visibility filter: built from the policy, never from user input (kept per index
    // generation as a bit set, `filter`).
    if let Some(visible) = visible.clause() {
        clauses.push((Occur::Must, Box::new(visible)));
    }
    // The user's own narrowing.
    if let Some(category) = request.category.as_deref().filter(|c| !c.is_empty()) {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_facet(f.category, &category_facet(category)),
            IndexRecordOption::Basic,
        ))));
    }
    if let Some(brand) = request.brand.as_deref().filter(|b| !b.is_empty()) {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_facet(f.brand_facet, &brand_facet(brand)),
            IndexRecordOption::Basic,
        ))));
    }
    if let Some(region) = &request.region {
        clauses.push(filter(term_query(f.regions, region)));
    }
    BooleanQuery::new(clauses)
}

/// A facet as the path users filter by (`Power Tools/Drivers`).
fn path_of(facet: &Facet) -> String {
    facet.to_path().join("/")
}

/// Runs the query: one page of hits with highlights, the total and the facets. `words` are
/// the request's words (`words`) as this searcher's index resolved them (`expand`).
pub fn run(
    searcher: &Searcher,
    f: &Fields,
    visible: &Arc<VisibleDocs>,
    request: &SearchRequest,
    words: &[Arc<Expansion>],
) -> Result<SearchResults, SearchError> {
    let query = build(f, visible, request, words);
    // Category counts one level below the chosen category (or at the top).
    let parent = request
        .category
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(category_facet)
        .unwrap_or_else(Facet::root);
    let facets = (!request.without_facets).then(|| {
        let mut categories = FacetCollector::for_field("category");
        categories.add_facet(parent.clone());
        let mut brands = FacetCollector::for_field("brand_facet");
        brands.add_facet(Facet::root());
        (categories, brands)
    });
    let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
    let (page, total, counted) = searcher.search(&query, &(top, Count, facets))?;
    // A synonym that matched is marked as the word typed would be.
    let synonym_words: Vec<Word> = words
        .iter()
        .flat_map(|e| request.synonyms.of(&e.word.text))
        .map(|s| Word::new(s, false, true))
        .collect();
    let matchers: Vec<&Word> = words
        .iter()
        .map(|e| &e.word)
        .chain(&synonym_words)
        .collect();
    let mut analyzer: TextAnalyzer = words_analyzer();
    let mut hits = Vec::with_capacity(page.len());
    for (score, address) in page.into_iter().take(request.limit) {
        let doc: TantivyDocument = searcher.doc(address)?;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let Some(listing_id) = text(f.id) else {
            continue;
        };
        let highlights = if request.without_highlights {
            Vec::new()
        } else {
            [
                ("name", f.name),
                ("sku", f.sku),
                ("description", f.description),
            ]
            .into_iter()
            .filter_map(|(name, field)| highlight(&mut analyzer, name, &text(field)?, &matchers))
            .collect()
        };
        hits.push(Hit {
            listing_id,
            score,
            highlights,
        });
    }
    let mut facets = Vec::new();
    let Some((category_counts, brand_counts)) = counted else {
        return Ok(SearchResults {
            total,
            hits,
            facets,
            suggestion: suggest(searcher, f, visible, words, &request.synonyms)?,
        });
    };
    let mut category_values: Vec<(String, u64)> = category_counts
        .get(&parent.to_string())
        .map(|(facet, count)| (path_of(facet), count))
        .collect();
    category_values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    facets.push(FacetCounts {
        field: "category",
        values: category_values,
    });
    let mut brand_values: Vec<(String, u64)> = brand_counts
        .get("/")
        .map(|(facet, count)| (path_of(facet), count))
        .collect();
    brand_values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    facets.push(FacetCounts {
        field: "brand",
        values: brand_values,
    });
    Ok(SearchResults {
        total,
        hits,
        facets,
        suggestion: suggest(searcher, f, visible, words, &request.synonyms)?,
    })
}
