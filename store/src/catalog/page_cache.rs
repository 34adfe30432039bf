//! The catalog's page cache: pages (`Store::catalog_page`) and listings by id
//! (`Store::catalog_rows_by_ids`, search's hits) as read, under the catalog version they were
//! read at, and the versions a request's caches are checked against.

use crate::model::*;
use crate::pricing::{ListingPrices, Tier};
use crate::{Store, StoreError, TenantScope};

use super::{CatalogQuery, CatalogRow, IdsQuery, Versions};

/// Catalog pages and rows by id as read, under the catalog version they were read at. Both
/// kinds share one cache and its bounds (`StoreOptions::page_cache_entries` and
/// `page_cache_bytes`).
///
/// A page's rows depend only on the catalog tables (kept in step with `data_versions` by
/// triggers, so every write moves the version: the application's, the seed's, an operator's)
/// and on the query, which holds every policy-derived predicate and the scope. So a cached
/// page is exactly what the statement would return as long as the version has not moved, and
/// every request still reads the version: one indexed statement instead of the page's.
/// Prices are cached as rows (lists, tiers, validity windows), never as a computed price: the
/// viewer's price is worked out per request at the request's time.
pub(crate) struct PageCache {
    pages: Option<quick_cache::sync::Cache<PageKey, CachedPage, PageWeight>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    scope: Vec<TenantId>,
    query: Query,
}

/// What was read: a page, or listings by id. Either holds every input of its statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Query {
    Page(CatalogQuery),
    Ids(IdsQuery),
}

impl Query {
    fn owner(&self) -> &str {
        match self {
            Query::Page(q) => &q.owner,
            Query::Ids(q) => &q.owner,
        }
    }
}

#[derive(Clone)]
struct CachedPage {
    version: i64,
    rows: std::sync::Arc<Vec<CatalogRow>>,
    /// What the page holds in memory, about (`approx_bytes`), worked out once.
    bytes: u64,
}

/// Pages weigh their bytes, but never less than the budget's share of one entry: both
/// bounds hold, at most `entries` pages and at most `bytes` in all (a page with long
/// descriptions weighs more than a short one).
#[derive(Clone)]
struct PageWeight {
    floor: u64,
}

impl quick_cache::Weighter<PageKey, CachedPage> for PageWeight {
    fn weight(&self, _key: &PageKey, page: &CachedPage) -> u64 {
        page.bytes.max(self.floor)
    }
}

impl PageCache {
    pub(crate) fn new(entries: usize, bytes: u64) -> Self {
        PageCache {
            pages: (entries > 0 && bytes > 0).then(|| {
                let floor = (bytes / entries as u64).max(1);
                quick_cache::sync::Cache::with_weighter(entries, bytes, PageWeight { floor })
            }),
        }
    }
}

/// About what a page's key and rows hold in memory: the structs and their text.
fn approx_bytes(key: &PageKey, rows: &[CatalogRow]) -> u64 {
    use std::mem::size_of;
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    let query_bytes = match &key.query {
        Query::Page(q) => {
            q.owner.len()
                + text(&q.category)
                + text(&q.brand)
                + text(&q.visible_to)
                + text(&q.viewer_tenant)
                + q.after.as_ref().map_or(0, |(sku, id)| sku.len() + id.len())
        }
        Query::Ids(q) => {
            q.owner.len()
                + text(&q.viewer_tenant)
                + q.ids
                    .iter()
                    .map(|id| size_of::<String>() + id.len())
                    .sum::<usize>()
        }
    };
    let key_bytes =
        size_of::<PageKey>() + key.scope.iter().map(String::len).sum::<usize>() + query_bytes;
    let row_bytes = rows.iter().map(|row| {
        let l = &row.listing;
        let prices = row.prices.as_deref().map_or(0, |p| {
            size_of::<ListingPrices>()
                + p.tiers
                    .iter()
                    .map(|t| {
                        size_of::<Tier>()
                            + t.list.id.len()
                            + t.list.name.len()
                            + t.list.currency.len()
                    })
                    .sum::<usize>()
                + p.contract.as_ref().map_or(0, |c| c.amount.currency.len())
        });
        l.id.len()
            + l.tenant_id.len()
            + l.sku.len()
            + l.name.len()
            + text(&l.master_product_id)
            + text(&l.description)
            + text(&l.brand)
            + text(&l.category)
            + text(&l.supplier)
            + l.cost.as_ref().map_or(0, |c| c.currency.len())
            + l.regions.len() * size_of::<Region>()
            + prices
    });
    (key_bytes + std::mem::size_of_val(rows) + row_bytes.sum::<usize>()) as u64
}
impl Store {
    /// One page of a reseller's catalog, ordered by SKU then id.
    ///
    /// `catalog_version` is the owner's (`Store::versions`) when the caller read it already, at
    /// the start of its request, which saves a statement; `None` reads it here.
    pub async fn catalog_page(
        &self,
        scope: &TenantScope,
        q: &CatalogQuery,
        catalog_version: Option<i64>,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        self.cached(scope, Query::Page(q.clone()), catalog_version)
            .await
    }

    /// Live listings of `q.owner` among `q.ids` (search's hits), in SKU order, with their
    /// prices in the same statement when `q.prices` asks for them; cached as pages are, under
    /// the owner's catalog version (`catalog_version` as for `catalog_page`). No policy
    /// predicate is applied: the caller checks every row.
    pub async fn catalog_rows_by_ids(
        &self,
        scope: &TenantScope,
        q: &IdsQuery,
        catalog_version: Option<i64>,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        if q.ids.is_empty() {
            return Ok(Vec::new());
        }
        self.cached(scope, Query::Ids(q.clone()), catalog_version)
            .await
    }

    async fn read_query(
        &self,
        scope: &TenantScope,
        query: &Query,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        match query {
            Query::Page(q) => self.read_catalog_page(scope, q).await,
            Query::Ids(q) => self.read_catalog_ids(scope, q).await,
        }
    }

    async fn cached(
        &self,
        scope: &TenantScope,
        query: Query,
        catalog_version: Option<i64>,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        let Some(pages) = &self.pages.pages else {
            return self.read_query(scope, &query).await;
        };
        // The version first: rows read after it are at least as new, so a write racing this
        // read can only make the next request miss, never keep a stale page.
        let version = match catalog_version {
            Some(v) => v,
            None => self.versions(query.owner()).await?.catalog,
        };
        let key = PageKey {
            scope: scope.tenants().cloned().collect(),
            query,
        };
        if let Some(hit) = pages.get(&key).filter(|p| p.version == version) {
            return Ok(hit.rows.as_ref().clone());
        }
        let rows = self.read_query(scope, &key.query).await?;
        let bytes = approx_bytes(&key, &rows);
        pages.insert(
            key,
            CachedPage {
                version,
                rows: std::sync::Arc::new(rows.clone()),
                bytes,
            },
        );
        Ok(rows)
    }

    /// The versions a request's caches are checked against: users, roles and identity
    /// providers everywhere, and the catalog of `owner` with the master catalog (migration
    /// `data_versions`). One statement, shared with the requests asking at the same time
    /// (`versions.rs`).
    pub async fn versions(&self, owner: &str) -> Result<Versions, StoreError> {
        self.version_reader.read(owner).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(description_bytes: usize) -> Vec<CatalogRow> {
        (0..20)
            .map(|i| CatalogRow {
                listing: Listing {
                    id: format!("listing-{i}"),
                    tenant_id: "tenant".into(),
                    master_product_id: None,
                    sku: format!("SKU-{i}"),
                    name: "A product".into(),
                    description: Some("x".repeat(description_bytes)),
                    brand: None,
                    category: None,
                    supplier: None,
                    status: ListingStatus::Active,
                    visibility: Visibility::All,
                    cost: None,
                    regions: vec![Region::Eu],
                    version: 1,
                },
                granted: false,
                prices: None,
            })
            .collect()
    }

    fn cache_pages(cache: &PageCache, rows: &[CatalogRow], n: usize) -> usize {
        let pages = cache.pages.as_ref().unwrap();
        for i in 0..n {
            let key = PageKey {
                scope: vec!["tenant".into()],
                query: Query::Page(CatalogQuery {
                    owner: "tenant".into(),
                    limit: i as i64,
                    ..CatalogQuery::default()
                }),
            };
            let bytes = approx_bytes(&key, rows);
            pages.insert(
                key,
                CachedPage {
                    version: 1,
                    rows: std::sync::Arc::new(rows.to_vec()),
                    bytes,
                },
            );
        }
        pages.len()
    }

    #[test]
    fn the_page_cache_holds_at_most_its_entries_and_its_bytes() {
        // Short pages: the entry bound holds.
        let cache = PageCache::new(64, 64 << 20);
        let short = cache_pages(&cache, &page(10), 500);
        assert!(short <= 64, "{short} pages of 64 entries");
        assert!(short >= 32, "{short}: short pages should fill the entries");

        // Pages of 20 descriptions of 64 KiB (1.3 MB each) in 16 MiB: the byte bound holds.
        let cache = PageCache::new(64, 16 << 20);
        let long = cache_pages(&cache, &page(64 << 10), 100);
        assert!(long <= 12, "{long} pages of 1.3 MB in 16 MiB");
        assert!(long >= 1, "a page within the budget is kept");
    }

    #[test]
    fn a_longer_page_weighs_more() {
        let key = PageKey {
            scope: vec![],
            query: Query::Page(CatalogQuery::default()),
        };
        assert!(approx_bytes(&key, &page(1000)) > approx_bytes(&key, &page(10)) + 19_000);
    }
}
