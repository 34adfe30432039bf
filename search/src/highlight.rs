//! Highlights computed from the stored text with the same rules the query matched by (exact,
//! prefix for the last word, edit distance by word length unless the word is in the index as
//! typed: `expand::Word`), so a fuzzy match is highlighted too. Offsets are in UTF-16 code units, as JavaScript strings index.

use std::sync::OnceLock;

use levenshtein_automata::LevenshteinAutomatonBuilder;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::expand::Word;
use crate::query::Highlight;

/// The edit distance a word of this many characters tolerates.
pub fn distance_for(word: &str) -> u8 {
    match word.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    }
}

/// Builders are costly to make (a few ms for distance 2) and immutable: one per distance.
pub(crate) fn builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static BUILDERS: [OnceLock<LevenshteinAutomatonBuilder>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let d = usize::from(distance.min(2));
    BUILDERS[d].get_or_init(|| LevenshteinAutomatonBuilder::new(d as u8, true))
}

/// Type-ahead: short prefixes must be typed right; longer ones may carry one typo.
pub fn prefix_distance(word: &str) -> u8 {
    if word.chars().count() >= 5 { 1 } else { 0 }
}

fn utf16_offset(text: &str, byte: usize) -> usize {
    text[..byte].encode_utf16().count()
}

/// The matched words of `text`, or `None` when nothing in it matches.
pub fn highlight(
    analyzer: &mut TextAnalyzer,
    field: &str,
    text: &str,
    words: &[&Word],
) -> Option<Highlight> {
    if words.is_empty() {
        return None;
    }
    let mut ranges = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let token = stream.token();
        if words.iter().any(|w| w.matches(&token.text)) {
            ranges.push((
                utf16_offset(text, token.offset_from),
                utf16_offset(text, token.offset_to),
            ));
        }
    }
    (!ranges.is_empty()).then(|| Highlight {
        field: field.to_owned(),
        text: text.to_owned(),
        ranges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::words_analyzer;

    #[test]
    fn a_misspelled_word_is_highlighted_where_it_matched() {
        let w = Word::new("trubine", true, false);
        let words = [&w];
        let h = highlight(
            &mut words_analyzer(),
            "name",
            "Northwind Exclusive Turbine",
            &words,
        )
        .unwrap();
        assert_eq!(h.ranges, vec![(20, 27)]);
    }

    #[test]
    fn a_prefix_of_the_last_word_is_highlighted() {
        let w = Word::new("turb", true, false);
        let words = [&w];
        let h = highlight(&mut words_analyzer(), "name", "Turbine", &words).unwrap();
        assert_eq!(h.ranges, vec![(0, 7)]);
        let e = Word::new("turb", false, false);
        let earlier = [&e];
        assert!(highlight(&mut words_analyzer(), "name", "Turbine", &earlier).is_none());
    }

    #[test]
    fn offsets_count_utf16_units() {
        let w = Word::new("bohrer", false, true);
        let words = [&w];
        let h = highlight(
            &mut words_analyzer(),
            "name",
            "Schlagbohrer 𝔸 Bohrer",
            &words,
        )
        .unwrap();
        // "Schlagbohrer " is 13 units, "𝔸" is 2, the space 1.
        assert_eq!(h.ranges, vec![(16, 22)]);
    }
}
