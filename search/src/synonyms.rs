//! A reseller's search synonyms (`setSearchSynonyms`): groups of words its admins declared
//! equivalent, e.g. `akku, battery, accu`. Applied when a query is built, never indexed: a
//! query word that is in a group also matches the group's other words, exactly, so a change
//! takes effect on the next search without rewriting any index.
//!
//! They widen only the words a caller's query matches; what the caller may see is the same
//! visibility filter as always, so a synonym can never reach a listing the caller could not
//! find by typing that listing's own words.

use std::collections::BTreeMap;

use portico_store::SynonymTable;

use crate::query::words;

/// The longest word the index keeps (longer tokens are dropped when documents are indexed).
pub const MAX_SYNONYM_CHARS: usize = 40;

/// A synonym as the index spells words (lower case, accents folded), or why it cannot be one.
/// A synonym is one word: a space, a hyphen or punctuation splits words in the index, so
/// "1/2 inch" could never match as one.
pub fn synonym_word(text: &str) -> Result<String, String> {
    if text.chars().count() > MAX_SYNONYM_CHARS {
        return Err(format!("must be at most {MAX_SYNONYM_CHARS} characters"));
    }
    let mut found = words(text);
    match found.len() {
        0 => Err("must hold a word (letters or digits)".to_owned()),
        1 => Ok(found.remove(0)),
        _ => Err(format!(
            "must be one word: the index splits {text:?} into {}",
            found.join(", ")
        )),
    }
}

/// The synonyms that apply to one request: for each of its words that has any, the other words
/// of its group. Part of the request (and so of the result cache's key): a cached result is
/// never one computed with other synonyms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Synonyms(BTreeMap<String, Vec<String>>);

impl Synonyms {
    /// The synonyms of `text`'s words in `table`.
    pub fn of_text(table: &SynonymTable, text: &str) -> Synonyms {
        if table.is_empty() {
            return Synonyms::default();
        }
        Synonyms(
            words(text)
                .into_iter()
                .filter_map(|w| Some((w.clone(), table.get(&w)?.clone())))
                .collect(),
        )
    }

    /// The words `word` also matches.
    pub fn of(&self, word: &str) -> &[String] {
        self.0.get(word).map_or(&[], Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_synonym_is_spelt_as_the_index_spells_words() {
        assert_eq!(synonym_word("  Akku ").unwrap(), "akku");
        assert_eq!(synonym_word("Säge").unwrap(), "sage");
        assert!(
            synonym_word("cordless drill")
                .unwrap_err()
                .contains("one word")
        );
        assert!(synonym_word("1/2").unwrap_err().contains("one word"));
        assert!(
            synonym_word("--")
                .unwrap_err()
                .contains("letters or digits")
        );
        assert!(synonym_word(&"x".repeat(41)).unwrap_err().contains("40"));
    }

    #[test]
    fn only_the_requests_own_words_carry_synonyms() {
        let table = portico_store::SynonymSet {
            groups: vec![
                vec!["akku".into(), "battery".into(), "accu".into()],
                vec!["saw".into(), "sage".into()],
            ],
            ..Default::default()
        }
        .table();
        let s = Synonyms::of_text(&table, "Battery pack");
        assert_eq!(s.of("battery"), ["akku".to_owned(), "accu".to_owned()]);
        assert!(s.of("pack").is_empty());
        assert!(s.of("saw").is_empty(), "only the request's own words");
        assert!(Synonyms::of_text(&SynonymTable::new(), "battery").is_empty());
    }
}
