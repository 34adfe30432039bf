//! "Did you mean": each misspelt word (one the index does not hold as typed) replaced by the
//! closest word of the tenant's index — fewest edits, then the most documents — and offered
//! only when the corrected query finds a listing the caller may see. The index holds the words
//! of every listing of the tenant, restricted and unpublished ones too, so that last check is
//! what keeps a suggestion from naming a word the caller could not find: every suggested word
//! is in a listing that passes the caller's `Visibility`.

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::sync::Arc;

use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, Occur, Query, TermSetQuery};
use tantivy::{Searcher, Term};

use crate::SearchError;
use crate::document::{Fields, text_fields};
use crate::expand::Expansion;
use crate::filter::VisibleDocs;
use crate::query::term_query;
use crate::synonyms::Synonyms;

pub fn suggest(
    searcher: &Searcher,
    f: &Fields,
    visible: &Arc<VisibleDocs>,
    words: &[Arc<Expansion>],
    synonyms: &Synonyms,
) -> Result<Option<String>, SearchError> {
    // A word the reseller declared synonyms for is a word of its catalog's language, not a
    // misspelling, whether or not a listing holds it as typed.
    let known = |e: &Expansion| e.word.exact_found || !synonyms.of(&e.word.text).is_empty();
    if words.iter().all(|e| known(e)) {
        return Ok(None);
    }
    let mut corrected: Vec<String> = Vec::with_capacity(words.len());
    for e in words {
        if known(e) {
            corrected.push(e.word.text.clone());
            continue;
        }
        // A last word that starts words of listings the caller may see is being typed, not
        // misspelt (the words of listings it may not see count for nothing, either way).
        // Only words that start with it as typed (the prefix expansion also allows a typo).
        let typed = |p: &&String| p.starts_with(e.word.text.as_str());
        if e.fields
            .iter()
            .any(|(_, t)| t.prefix.iter().any(|p| typed(&p)))
        {
            let starts: Vec<(Occur, Box<dyn Query>)> = e
                .fields
                .iter()
                .filter(|(_, t)| t.prefix.iter().any(|p| typed(&p)))
                .map(|(field, t)| {
                    let terms = t
                        .prefix
                        .iter()
                        .filter(typed)
                        .map(|p| Term::from_field_text(*field, p));
                    (
                        Occur::Should,
                        Box::new(TermSetQuery::new(terms)) as Box<dyn Query>,
                    )
                })
                .collect();
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, Box::new(BooleanQuery::new(starts)))];
            if let Some(filter) = visible.clause() {
                clauses.push((Occur::Must, Box::new(filter)));
            }
            if searcher.search(&BooleanQuery::new(clauses), &Count)? > 0 {
                return Ok(None);
            }
        }
        // Terms within the word's edit distance: its fuzzy terms, and those of its prefix terms
        // that are whole words within it (a term reached both ways is kept as a prefix term).
        let candidates: BTreeSet<&str> = e
            .fields
            .iter()
            .flat_map(|(_, t)| {
                t.fuzzy.iter().map(String::as_str).chain(
                    t.prefix
                        .iter()
                        .map(String::as_str)
                        .filter(|p| e.word.within_distance(p)),
                )
            })
            .collect();
        let best = candidates
            .into_iter()
            .map(|term| {
                let documents: u64 = text_fields(f)
                    .iter()
                    .map(|(field, _)| {
                        searcher
                            .doc_freq(&Term::from_field_text(*field, term))
                            .unwrap_or(0)
                    })
                    .sum();
                (e.word.distance(term), Reverse(documents), term)
            })
            .min();
        match best {
            Some((_, _, term)) => corrected.push(term.to_owned()),
            None => return Ok(None),
        }
    }
    // Every corrected word, as it is or as one of its synonyms, in a listing the caller may
    // see.
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = corrected
        .iter()
        .map(|word| {
            let any_field: Vec<(Occur, Box<dyn Query>)> = text_fields(f)
                .iter()
                .flat_map(|(field, _)| {
                    std::iter::once(word)
                        .chain(synonyms.of(word))
                        .map(|w| (Occur::Should, term_query(*field, w)))
                })
                .collect();
            (
                Occur::Must,
                Box::new(BooleanQuery::new(any_field)) as Box<dyn Query>,
            )
        })
        .collect();
    if let Some(filter) = visible.clause() {
        clauses.push((Occur::Must, Box::new(filter)));
    }
    let found = searcher.search(&BooleanQuery::new(clauses), &Count)?;
    Ok((found > 0).then(|| corrected.join(" ")))
}
