//! Relay-style pages: `first` and `after` checked the same way on every connection, offset
//! cursors, and `PageInfo`.

use async_graphql::{ErrorExtensions, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ApiError;

pub const MAX_PAGE: usize = 100;
pub const DEFAULT_PAGE: usize = 20;

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// The cursor of the item at `offset`.
pub fn cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    text.strip_prefix("offset:")?.parse().ok()
}

/// The cursor after a row keyed by `key` (keyset pages, e.g. users by email).
pub fn key_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("key:{key}"))
}

/// The key of a `key_cursor`; an `after` this connection did not hand out is BAD_USER_INPUT.
pub fn decode_key_cursor(c: &str) -> async_graphql::Result<String> {
    URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| t.strip_prefix("key:").map(str::to_owned))
        .ok_or_else(bad_cursor)
}

/// `first` of a connection: the default page, or 0 to `MAX_PAGE`.
pub fn page_size(first: Option<i32>) -> async_graphql::Result<usize> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::BadUserInput {
            field: "first".into(),
            message: format!("must be 0 to {MAX_PAGE}"),
        }
        .extend()),
    }
}

/// An `after` that this connection did not hand out.
pub fn bad_cursor() -> async_graphql::Error {
    ApiError::BadUserInput {
        field: "after".into(),
        message: "not a cursor from this connection".into(),
    }
    .extend()
}

pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<(usize, usize)> {
    let first = page_size(first)?;
    let start = match after {
        None => 0,
        Some(c) => decode_cursor(&c).map(|o| o + 1).ok_or_else(bad_cursor)?,
    };
    Ok((first, start))
}
