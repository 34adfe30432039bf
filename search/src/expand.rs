//! The user's words resolved to the index's own terms, once per word and index generation.
//!
//! Why not Tantivy's `FuzzyTermQuery`: it builds its Levenshtein automaton again for every
//! field it runs on (six text fields, twice for the last word) and walks the term dictionary
//! each time, and it expands a word that the index holds exactly as well, so an ordinary
//! word costs three posting lists per field instead of one. Here a word's automata are built
//! once, a word found exactly in the term dictionary is not expanded by edit distance (the
//! user typed a word the catalog uses), and the terms a word stands for are kept per index
//! generation, so the next search with the same word reads no dictionary at all.

use std::collections::BTreeSet;

use levenshtein_automata::{DFA, Distance, SINK_STATE};
use tantivy::Searcher;
use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::schema::Field;
use tantivy_fst::Automaton;

use crate::SearchError;
use crate::document::{Fields, text_fields};
use crate::highlight::{builder, distance_for, prefix_distance};
use crate::query::{Visibility, term_query, visibility_clauses};

/// Terms a word may expand to, per field and kind: a bound on the work of one word (a prefix of
/// one letter on a large vocabulary). High on purpose: the terms past it are dropped in
/// dictionary order, whoever's listings hold them, so a low bound would let words a caller may
/// not see push out words it may.
pub const MAX_EXPANSIONS: usize = 4096;

/// One query word: its text and the automata it matches by (a prefix one for the last,
/// type-ahead word), decided once from the index.
pub struct Word {
    pub text: String,
    /// Found as typed in a listing the caller may see: no edit-distance expansion, and a prefix
    /// only as typed. Decided on visible listings only, or whether a restricted listing holds
    /// a word would show in what its neighbours find.
    pub exact_found: bool,
    fuzzy: Option<DFA>,
    prefix: Option<DFA>,
}

impl Word {
    pub(crate) fn new(text: &str, last: bool, exact_found: bool) -> Word {
        let d = distance_for(text);
        let fuzzy = (!exact_found && d > 0).then(|| builder(d).build_dfa(text));
        let prefix = last.then(|| {
            let pd = if exact_found {
                0
            } else {
                prefix_distance(text)
            };
            builder(pd).build_prefix_dfa(text)
        });
        Word {
            text: text.to_owned(),
            exact_found,
            fuzzy,
            prefix,
        }
    }

    /// Edits from this word to `term` (as far as its automaton counts: past its distance, more).
    pub fn distance(&self, term: &str) -> u8 {
        if term == self.text {
            return 0;
        }
        match self.fuzzy.as_ref().map(|dfa| dfa.eval(term)) {
            Some(Distance::Exact(d)) => d,
            Some(Distance::AtLeast(d)) => d.max(1),
            None => u8::MAX,
        }
    }

    /// Whether `term` is within this word's edit distance, as a whole word (a term reached as a
    /// prefix may be one too: `turbine` for a last word `turbime`).
    pub fn within_distance(&self, term: &str) -> bool {
        self.fuzzy
            .as_ref()
            .is_some_and(|dfa| matches!(dfa.eval(term), Distance::Exact(_)))
    }

    /// Whether a token of a document matches this word the way the query matched it
    /// (highlights use the same rules as the search).
    pub fn matches(&self, token: &str) -> bool {
        token == self.text
            || [&self.fuzzy, &self.prefix]
                .into_iter()
                .flatten()
                .any(|dfa| matches!(dfa.eval(token), Distance::Exact(_)))
    }
}

/// A DFA as an FST automaton, to stream a term dictionary through it.
struct Dfa<'a>(&'a DFA);

impl Automaton for Dfa<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// What one word stands for in one field.
#[derive(Debug, Default, Clone)]
pub struct FieldTerms {
    pub exact: bool,
    pub fuzzy: Vec<String>,
    pub prefix: Vec<String>,
}

/// What one word stands for in every text field of one index generation.
pub struct Expansion {
    pub word: Word,
    pub fields: Vec<(Field, FieldTerms)>,
}

/// Words kept per index generation (`GenerationCache`), per visibility: whether a word is
/// found as typed depends on what the caller may see.
pub const CACHED_WORDS: usize = 4096;

/// A word's expansion is kept under the caller's visibility, the word and whether it is last.
pub type ExpansionKey = (Visibility, String, bool);

/// Resolves `word` against every segment's dictionary of the text fields, for a caller who
/// may see `visibility`.
pub fn expand(
    searcher: &Searcher,
    f: &Fields,
    visibility: &Visibility,
    text: &str,
    last: bool,
) -> Result<Expansion, SearchError> {
    let fields: Vec<Field> = text_fields(f).iter().map(|(field, _)| *field).collect();
    // Each field's dictionary in each segment, opened once for both passes below.
    let mut dictionaries = Vec::with_capacity(fields.len());
    for field in &fields {
        let of_field: Vec<_> = searcher
            .segment_readers()
            .iter()
            .map(|segment| segment.inverted_index(*field))
            .collect::<Result<_, _>>()?;
        dictionaries.push(of_field);
    }
    let mut exact: Vec<bool> = vec![false; fields.len()];
    for (i, of_field) in dictionaries.iter().enumerate() {
        for index in of_field {
            if !exact[i] && index.terms().get(text)?.is_some() {
                exact[i] = true;
            }
        }
    }
    let exact_found = exact.iter().any(|e| *e) && {
        let any_field: Vec<(Occur, Box<dyn Query>)> = fields
            .iter()
            .zip(&exact)
            .filter(|(_, e)| **e)
            .map(|(field, _)| (Occur::Should, term_query(*field, text)))
            .collect();
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(any_field)))];
        clauses.extend(visibility_clauses(f, visibility));
        searcher.search(&BooleanQuery::new(clauses), &Count)? > 0
    };
    let word = Word::new(text, last, exact_found);
    let mut out: Vec<(Field, FieldTerms)> = Vec::with_capacity(fields.len());
    for ((field, exact), of_field) in fields.iter().zip(exact).zip(&dictionaries) {
        let mut fuzzy = BTreeSet::new();
        let mut prefix = BTreeSet::new();
        for index in of_field {
            let terms = index.terms();
            for (dfa, into) in [(&word.fuzzy, &mut fuzzy), (&word.prefix, &mut prefix)] {
                let Some(dfa) = dfa else { continue };
                let mut stream = terms.search(Dfa(dfa)).into_stream()?;
                while into.len() < MAX_EXPANSIONS && stream.advance() {
                    if let Ok(term) = std::str::from_utf8(stream.key())
                        && term != text
                    {
                        into.insert(term.to_owned());
                    }
                }
            }
        }
        // A term reached both ways is scored once, as the closer kind (prefix: the user is
        // typing it).
        let fuzzy: Vec<String> = fuzzy.difference(&prefix).cloned().collect();
        out.push((
            *field,
            FieldTerms {
                exact,
                fuzzy,
                prefix: prefix.into_iter().collect(),
            },
        ));
    }
    Ok(Expansion { word, fields: out })
}
