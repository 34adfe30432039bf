//! The catalog as portals read it: one page of listings (overrides applied, regions included)
//! in one statement, and the prices of a page in at most two more, whatever the page size.
//!
//! This file holds what a page asks for and what it returns (`CatalogQuery`, `CatalogRow`),
//! what a read of listings by id asks for (`IdsQuery`, search's hits), and the policy's
//! predicates on a catalog (`CatalogVisibility`); `query` reads the rows, `prices` reads their
//! prices, and `page_cache` keeps pages and rows by id under the catalog version.

mod page_cache;
mod prices;
mod query;

use chrono::{DateTime, Utc};

use crate::model::*;
use crate::pricing::ListingPrices;

pub(crate) use page_cache::PageCache;

/// Data versions (`Store::versions`): equal numbers, unchanged data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub identity: i64,
    pub catalog: i64,
    /// Tenants and portal hosts (`@directory`): the in-memory directory is reloaded when it
    /// moves.
    pub directory: i64,
}

/// What a page of the catalog asks for. The `active_only`, `sold_in` and `visible_to`
/// predicates come from the policy (the caller's allowed facts); the rest from the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CatalogQuery {
    pub owner: String,
    /// A category path: the category itself and everything below it.
    pub category: Option<String>,
    pub brand: Option<String>,
    pub region: Option<Region>,
    pub status: Option<ListingStatus>,
    pub active_only: bool,
    pub sold_in: Option<Region>,
    /// Restricted listings only when their assortment names this tenant.
    pub visible_to: Option<TenantId>,
    /// The tenant `granted` is computed for (the caller's).
    pub viewer_tenant: Option<TenantId>,
    /// Keyset: after this (sku, id).
    pub after: Option<(String, String)>,
    pub limit: i64,
    /// The page's prices in the same statement, when the page shows any.
    pub prices: Option<PriceQuery>,
}

/// Listings of one reseller by id (search's hits), with the same columns as a page
/// (`Store::catalog_rows_by_ids`). Only listings of `owner` are read, in SKU order; an id that
/// is not a live listing of `owner` is left out. No policy predicate is applied: the caller
/// checks each row (`Product::visible` in the resolvers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IdsQuery {
    pub owner: String,
    pub ids: Vec<String>,
    /// The tenant `granted` is computed for (the caller's).
    pub viewer_tenant: Option<TenantId>,
    /// The rows' prices in the same statement, when the caller shows any.
    pub prices: Option<PriceQuery>,
}

/// Which prices a page carries: every list's tiers (of `region` only, when given) and the
/// contract prices of `customer`, when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PriceQuery {
    pub customer: Option<TenantId>,
    pub region: Option<Region>,
}

/// A listing and whether its assortment names the viewer's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub listing: Listing,
    pub granted: bool,
    /// Present when the query asked for prices (`CatalogQuery::prices`).
    /// Shared: a cached page hands the same prices to every request that reads it.
    pub prices: Option<std::sync::Arc<ListingPrices>>,
}
/// Values bound in order (in a page, after the scope at `$1`).
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
}

/// Binds `binds` to `query` in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for b in $binds {
            query = match b {
                $crate::catalog::Bind::Text(t) => query.bind(t.clone()),
                $crate::catalog::Bind::Int(i) => query.bind(*i),
                $crate::catalog::Bind::Time(t) => query.bind(*t),
            };
        }
        query
    }};
}
pub(crate) use bind_all;

/// The policy's predicates on one reseller's catalog (`Access::catalog_predicates` in the
/// resolvers): which of its listings a caller may see. The catalog's pages apply them, search
/// applies them to its index, and every other path that names a listing to such a caller
/// (a customer's contract prices) applies them through `predicates`, so the SQL is written
/// once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct CatalogVisibility {
    /// Only ACTIVE listings.
    pub active_only: bool,
    /// Only listings sold in this region.
    pub sold_in: Option<Region>,
    /// RESTRICTED listings only when their assortment names this tenant.
    pub visible_to: Option<TenantId>,
}

impl CatalogVisibility {
    /// SQL predicates on the listing `l` (a live one, not unlisted, and the policy's): each
    /// value is pushed onto `binds`, and is `$n` with `n = binds.len() + offset` once pushed
    /// (`offset`: parameters bound before `binds`).
    pub(crate) fn predicates(&self, binds: &mut Vec<Bind>, offset: usize) -> Vec<String> {
        let mut next = |b: Bind| {
            binds.push(b);
            binds.len() + offset
        };
        let mut predicates = vec!["l.deleted_at IS NULL".to_owned()];
        if self.active_only {
            predicates.push("l.status = 'ACTIVE'".to_owned());
        }
        if let Some(region) = self.sold_in {
            let n = next(Bind::Text(region.as_str().to_owned()));
            predicates.push(sold_in(n));
        }
        if let Some(customer) = &self.visible_to {
            let n = next(Bind::Text(customer.clone()));
            predicates.push(format!(
                "(l.visibility = 'ALL' OR EXISTS (SELECT 1 FROM listing_customers a WHERE a.tenant_id = l.tenant_id \
                 AND a.listing_id = l.id AND a.customer_id = ${n}))"
            ));
        }
        predicates
    }
}

/// The listing `l` is sold in the region bound at `$n`.
fn sold_in(n: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM listing_regions r WHERE r.tenant_id = l.tenant_id AND r.listing_id = l.id AND r.region = ${n})"
    )
}
