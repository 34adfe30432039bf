//! The little HTML the server writes itself (demo pages, sign-in pages).

/// Escapes text for an HTML body or a double-quoted attribute.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
