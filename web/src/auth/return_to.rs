//! Where the browser goes after sign-in: `return_to` judged as the browser will read the
//! `Location` it becomes, so it never leaves the portal (open redirect).

use std::sync::LazyLock;

use url::{Position, Url};

/// The origin `safe_return_to` resolves against: one of its own (`.invalid` is never a real
/// host), so "stays on the portal" means "keeps this origin" whatever the portal's host and
/// scheme are.
static RETURN_BASE: LazyLock<Url> =
    LazyLock::new(|| Url::parse("http://portal.invalid/").expect("a valid base URL"));

/// Where to send the browser after sign-in: only a path on this portal, never another host
/// (open redirect), judged as the browser will read the `Location`. Its URL parser (WHATWG,
/// the `url` crate) drops tabs and newlines, reads `\` as `/` and resolves dot segments, so
/// `/\t/evil`, `/\\evil` and `/.//evil` all mean `//evil`; string checks cannot see that.
/// The answer is the parser's own serialisation of path, query and fragment: nothing but
/// visible ASCII, so it is always a valid header value. Anything else is `/`.
pub(super) fn safe_return_to(raw: Option<&str>) -> String {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return "/".to_owned();
    };
    // A path and nothing else: `http:evil`, `javascript:`, `catalog` are not paths even where a
    // parser would make one of them.
    let resolved = Some(raw)
        .filter(|r| r.starts_with('/'))
        .and_then(|r| RETURN_BASE.join(r).ok())
        .filter(|url| url.origin() == RETURN_BASE.origin());
    let path = resolved.map(|url| {
        // The parser leaves a backslash in a query or fragment; encoded it means the same to
        // the page and nothing downstream can take it for a slash.
        url[Position::BeforePath..].replace('\\', "%5C")
    });
    // Read again, the answer must mean the same: dot segments can normalise to a path that
    // starts with `//` (`/.//evil`), which on its own is another host.
    let stays = |path: &String| {
        RETURN_BASE.join(path).is_ok_and(|again| {
            again.origin() == RETURN_BASE.origin() && again[Position::BeforePath..] == **path
        })
    };
    match path.filter(stays) {
        Some(path) => path,
        None => {
            tracing::warn!(return_to = ?raw, "return_to leaves the portal, using /");
            "/".to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    /// Every answer must be a valid header value and, resolved as a browser would, stay on the
    /// portal's own origin whatever its scheme.
    fn assert_stays_home(raw: &str, got: &str) {
        assert!(
            HeaderValue::from_str(got).is_ok(),
            "{raw:?} gave {got:?}, not a valid Location"
        );
        assert!(
            !got.contains(['\t', '\n', '\r', '\\']),
            "{raw:?} gave {got:?} with a raw tab, newline or backslash"
        );
        for base in [
            "https://northwind.example:8443/auth/callback",
            "http://northwind.localhost:8080/auth/callback",
        ] {
            let base = Url::parse(base).unwrap();
            let target = base.join(got).unwrap();
            assert_eq!(
                target.origin(),
                base.origin(),
                "{raw:?} gave {got:?}, which a browser resolves to {target}"
            );
        }
    }

    #[test]
    fn hostile_return_to_values_become_the_portal_root() {
        let hostile = [
            // Browsers drop tabs and newlines inside a URL: `/\t/evil` is `//evil`.
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            "/\t\t/evil.example/path?x=1",
            // Browsers read a backslash as a slash in http(s) URLs.
            "/\\evil.example",
            "\\\\evil",
            "\\/evil.example",
            "/\t\\evil.example",
            // Scheme-relative, with any number of slashes.
            "//evil.example",
            "///evil.example",
            "////evil.example/x",
            // Dot segments that normalise to a scheme-relative path.
            "/.//evil.example",
            "/%2e//evil.example",
            "/x/..//evil.example",
            "/x/%2e%2e//evil.example",
            // Other schemes and absolute URLs.
            "http:evil",
            "https:evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "https://evil.example/",
            "http://evil.example/catalog",
            "https://northwind.example:8443/catalog",
            "http://portal.invalid@evil.example/",
            // Not a path at all.
            "",
            "catalog",
            " /x",
        ];
        for raw in hostile {
            let got = safe_return_to(Some(raw));
            assert_eq!(got, "/", "{raw:?}");
            assert_stays_home(raw, &got);
        }
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn same_origin_paths_are_kept_in_their_normalised_form() {
        let kept = [
            ("/", "/"),
            ("/catalog?page=2#top", "/catalog?page=2#top"),
            ("/graphiql", "/graphiql"),
            ("/a/b/../c?x=1&y=%20", "/a/c?x=1&y=%20"),
            // Percent-encodings stay encoded: a browser never decodes them in a path, so
            // these are paths on the portal, not other hosts.
            ("/%09/evil.example", "/%09/evil.example"),
            ("/%0a/x", "/%0a/x"),
            ("/%0d%0a/x", "/%0d%0a/x"),
            ("/%5cevil.example", "/%5cevil.example"),
            ("/%2f%2fevil.example", "/%2f%2fevil.example"),
            ("/%2F%2Fevil.example", "/%2F%2Fevil.example"),
            // Characters a header may not carry are encoded, never passed through raw.
            ("/caf\u{e9}", "/caf%C3%A9"),
            ("/a b", "/a%20b"),
            ("/a\u{7f}b", "/a%7Fb"),
            ("/a\u{0}b", "/a%00b"),
            ("/search?q=a\\b", "/search?q=a%5Cb"),
            ("/search?q=a b#x\\y", "/search?q=a%20b#x%5Cy"),
            // Tabs and newlines inside a path are dropped, as a browser drops them.
            ("/cata\tlog", "/catalog"),
            ("/cata\r\nlog?page=2", "/catalog?page=2"),
        ];
        for (raw, want) in kept {
            let got = safe_return_to(Some(raw));
            assert_eq!(got, want, "{raw:?}");
            assert_stays_home(raw, &got);
        }
    }
}
