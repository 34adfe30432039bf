//! Bracket nesting in the document's text, checked before the parser runs.

use super::{MAX_NESTING, Refusal};

/// Checks how deeply the text nests brackets, outside strings and comments. Runs before the
/// parser, whose recursion it bounds; linear in the text.
pub fn check_nesting(query: &str) -> Result<(), Refusal> {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // A block string ends at the next unescaped `"""`.
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
                if depth > MAX_NESTING {
                    return Err(Refusal::too_complex(
                        format!("the document nests brackets more than {MAX_NESTING} deep"),
                        None,
                    ));
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}
