//! The costs declared on fields (async-graphql's `complexity`), against
//! `SchemaOptions::max_complexity`. A field costs 1 plus what it selects, except:

use crate::pagination::{DEFAULT_PAGE, MAX_PAGE};

/// A price reads the price loader and works the rules out: `price`, `listPrice`,
/// `margin`, `priceFor`.
pub const PRICE: usize = 5;
/// A search runs a Tantivy query with facets before its page.
pub const SEARCH: usize = 200;

/// A page costs its items' cost times the page size asked for (the default page when
/// none is given; out-of-range sizes are refused by the resolver, counted here at the cap).
pub fn page(first: Option<i32>, items: usize) -> usize {
    let size = first.map_or(DEFAULT_PAGE, |n| n.clamp(1, MAX_PAGE as i32) as usize);
    size.saturating_mul(items).saturating_add(1)
}

/// A search: its own cost, then its page.
pub fn search(first: Option<i32>, items: usize) -> usize {
    page(first, items).saturating_add(SEARCH)
}

/// A price field and what it selects.
pub fn price(items: usize) -> usize {
    PRICE.saturating_add(items)
}
