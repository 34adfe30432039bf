//! The catalog as portals read it: one page of listings (overrides applied, regions included)
//! in one statement, and the prices of a page in at most two more, whatever the page size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::pricing::{ContractPrice, ListingPrices, PriceListInfo, Tier};
use crate::repo::{LISTING_COLUMNS, LISTING_FROM, ListingRow, listing_from_row};
use crate::{Store, StoreError, TenantScope};

/// Catalog pages as read, under the catalog version they were read at.
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
    query: CatalogQuery,
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
    let q = &key.query;
    let key_bytes = size_of::<PageKey>()
        + key.scope.iter().map(String::len).sum::<usize>()
        + q.owner.len()
        + text(&q.category)
        + text(&q.brand)
        + text(&q.visible_to)
        + text(&q.viewer_tenant)
        + q.after.as_ref().map_or(0, |(sku, id)| sku.len() + id.len());
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

/// Data versions (`Store::versions`): equal numbers, unchanged data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub identity: i64,
    pub catalog: i64,
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

/// Which prices a page carries: every list's tiers (of `region` only, when given) and the
/// contract prices of `customer`, when given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PriceQuery {
    pub customer: Option<TenantId>,
    pub region: Option<Region>,
}

/// The `$n` of a page's price parameters.
#[derive(Clone, Copy)]
struct PriceParams {
    customer: Option<usize>,
    region: Option<usize>,
}

const TIER_COLUMNS: &str = "p.listing_id, p.min_quantity, p.amount, pl.id, pl.name, pl.region, \
     pl.currency, pl.priority, pl.valid_from, pl.valid_to";
const CONTRACT_COLUMNS: &str = "c.listing_id, c.amount, c.currency, c.valid_from, c.valid_to";

/// A listing and whether its assortment names the viewer's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub listing: Listing,
    pub granted: bool,
    /// Present when the query asked for prices (`CatalogQuery::prices`).
    /// Shared: a cached page hands the same prices to every request that reads it.
    pub prices: Option<std::sync::Arc<ListingPrices>>,
}

#[derive(sqlx::FromRow)]
struct CatalogDbRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    granted: bool,
    /// Sorted, comma-separated (`Dialect::listing_regions`).
    region_list: Option<String>,
    /// JSON arrays of `TIER_COLUMNS` and `CONTRACT_COLUMNS` rows, when prices were asked for.
    price_tiers: Option<String>,
    contract_prices: Option<String>,
}

/// listing, amount, currency, valid from, valid to.
type ContractRow = (String, i64, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// One `TIER_COLUMNS` row (a JSON array, read in field order): the listing, the tier, then
/// its price list.
#[derive(serde::Deserialize)]
struct TierRow {
    listing: String,
    min_quantity: i64,
    amount: i64,
    id: String,
    name: String,
    region: String,
    currency: String,
    priority: i64,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
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

/// The effective SKU, kept in the row by a trigger and indexed with the tenant (migration
/// `catalog_order`): pages walk the index instead of sorting.
const SKU: &str = "l.sort_sku";
const CATEGORY: &str = "COALESCE(l.category, m.category)";

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
        let Some(pages) = &self.pages.pages else {
            return self.read_catalog_page(scope, q).await;
        };
        // The version first: rows read after it are at least as new, so a write racing this
        // read can only make the next request miss, never keep a stale page.
        let version = match catalog_version {
            Some(v) => v,
            None => self.versions(&q.owner).await?.catalog,
        };
        let key = PageKey {
            scope: scope.tenants().cloned().collect(),
            query: q.clone(),
        };
        if let Some(hit) = pages.get(&key).filter(|p| p.version == version) {
            return Ok(hit.rows.as_ref().clone());
        }
        let rows = self.read_catalog_page(scope, q).await?;
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

    async fn read_catalog_page(
        &self,
        scope: &TenantScope,
        q: &CatalogQuery,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        let mut binds = vec![
            Bind::Text(q.viewer_tenant.clone().unwrap_or_default()),
            Bind::Text(q.owner.clone()),
        ];
        // The policy's predicates (`$1`, the scope, is bound before `binds`).
        let visibility = CatalogVisibility {
            active_only: q.active_only,
            sold_in: q.sold_in,
            visible_to: q.visible_to.clone(),
        };
        let mut predicates = vec!["l.tenant_id = $3".to_owned()];
        predicates.extend(visibility.predicates(&mut binds, 1));
        let next = |b: Bind, binds: &mut Vec<Bind>| {
            binds.push(b);
            binds.len() + 1
        };
        if let Some(category) = &q.category {
            let n = next(Bind::Text(category.clone()), &mut binds);
            let m = next(Bind::Text(format!("{category}/%")), &mut binds);
            predicates.push(format!("({CATEGORY} = ${n} OR {CATEGORY} LIKE ${m})"));
        }
        if let Some(brand) = &q.brand {
            let n = next(Bind::Text(brand.clone()), &mut binds);
            predicates.push(format!("COALESCE(l.brand, m.brand) = ${n}"));
        }
        if let Some(status) = q.status {
            let n = next(Bind::Text(status.as_str().to_owned()), &mut binds);
            predicates.push(format!("l.status = ${n}"));
        }
        if let Some(region) = q.region {
            let n = next(Bind::Text(region.as_str().to_owned()), &mut binds);
            predicates.push(sold_in(n));
        }
        if let Some((sku, id)) = &q.after {
            let n = next(Bind::Text(sku.clone()), &mut binds);
            let m = next(Bind::Text(id.clone()), &mut binds);
            predicates.push(format!("({SKU} > ${n} OR ({SKU} = ${n} AND l.id > ${m}))"));
        }
        let limit = next(Bind::Int(q.limit.clamp(0, 1000)), &mut binds);
        let prices = q.prices.as_ref().map(|p| PriceParams {
            customer: p
                .customer
                .as_ref()
                .map(|c| next(Bind::Text(c.clone()), &mut binds)),
            region: p
                .region
                .map(|r| next(Bind::Text(r.as_str().to_owned()), &mut binds)),
        });
        self.catalog_rows(scope, predicates, binds, None, Some(limit), prices)
            .await
    }

    /// Listings by id (any page order), with the same columns as a page.
    pub async fn catalog_by_ids(
        &self,
        scope: &TenantScope,
        ids: &[String],
        viewer_tenant: Option<&str>,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(ids).expect("strings serialize");
        let binds = vec![
            Bind::Text(viewer_tenant.unwrap_or_default().to_owned()),
            Bind::Text(ids),
        ];
        self.catalog_rows(
            scope,
            vec!["l.deleted_at IS NULL".to_owned()],
            binds,
            Some(3),
            None,
            None,
        )
        .await
    }

    async fn catalog_rows(
        &self,
        scope: &TenantScope,
        predicates: Vec<String>,
        binds: Vec<Bind>,
        // The parameter holding a JSON array of ids the listing must be one of (the dialect
        // decides how it is expanded), added after `predicates`.
        ids_at: Option<usize>,
        limit: Option<usize>,
        prices: Option<PriceParams>,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let price_columns = match prices {
                None => "NULL AS price_tiers, NULL AS contract_prices".to_owned(),
                Some(p) => format!(
                    "(SELECT {} FROM prices p JOIN price_lists pl ON pl.id = p.price_list_id AND pl.tenant_id = p.tenant_id \
                     WHERE p.tenant_id = l.tenant_id AND p.listing_id = l.id \
                     AND pl.deleted_at IS NULL{}) AS price_tiers, {} AS contract_prices",
                    d.json_rows(TIER_COLUMNS),
                    p.region
                        .map(|n| format!(" AND pl.region = ${n}"))
                        .unwrap_or_default(),
                    match p.customer {
                        Some(n) => format!(
                            "(SELECT {} FROM contract_prices c WHERE c.tenant_id = l.tenant_id \
                             AND c.listing_id = l.id AND c.customer_id = ${n})",
                            d.json_rows(CONTRACT_COLUMNS)
                        ),
                        None => "'[]'".to_owned(),
                    }
                ),
            };
            let mut predicates = predicates;
            if let Some(n) = ids_at {
                predicates.push(d.in_json("l.id", n));
            }
            let sql = format!(
                "SELECT {LISTING_COLUMNS}, EXISTS (SELECT 1 FROM listing_customers g \
                 WHERE g.tenant_id = l.tenant_id AND g.listing_id = l.id AND g.customer_id = $2) \
                 AS granted, {}, {price_columns} FROM {LISTING_FROM} \
                 WHERE {} AND {} ORDER BY {SKU}, l.id{}",
                d.listing_regions(),
                d.in_json("l.tenant_id", 1),
                predicates.join(" AND "),
                limit.map(|n| format!(" LIMIT ${n}")).unwrap_or_default(),
            );
            let query = sqlx::query_as::<_, CatalogDbRow>(&sql).bind(scope.json());
            let rows = bind_all!(query, &binds).fetch_all(&mut *conn).await?;
            rows.into_iter()
                .map(|r| {
                    let regions = parse_list(r.region_list.as_deref().unwrap_or_default())?;
                    let prices = match (&r.price_tiers, &r.contract_prices) {
                        (None, None) => None,
                        (tiers, contracts) => Some(std::sync::Arc::new(
                            prices_from_json(
                                tiers.as_deref().unwrap_or("[]"),
                                contracts.as_deref().unwrap_or("[]"),
                            )?
                            .remove(&r.listing.id)
                            .unwrap_or_default(),
                        )),
                    };
                    Ok(CatalogRow {
                        granted: r.granted,
                        listing: listing_from_row(r.listing, regions)?,
                        prices,
                    })
                })
                .collect()
        })
    }

    /// The prices of some listings of one owner: every tier in every list (of `region` only,
    /// when given), and the contract prices of `customer` when given. Two statements at most.
    pub async fn pricing_for(
        &self,
        scope: &TenantScope,
        owner: &str,
        listing_ids: &[String],
        customer: Option<&str>,
        region: Option<Region>,
    ) -> Result<HashMap<String, ListingPrices>, StoreError> {
        if listing_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(listing_ids).expect("strings serialize");
        // One statement: the tiers and the contract prices, each folded into one JSON text.
        let (tiers, contracts): (String, String) = scoped!(self, scope, read, |conn, d| {
            // $1 owner, $2 listing ids, $3 scope, then $4 the customer and the region, if any.
            let mut next = 3;
            let mut param = || {
                next += 1;
                next
            };
            let region_predicate = match region {
                Some(_) => format!(" AND pl.region = ${}", param()),
                None => String::new(),
            };
            let contracts = match customer {
                Some(_) => format!(
                    "(SELECT {} FROM contract_prices c WHERE c.tenant_id = $1 AND c.customer_id = ${} \
                     AND {} AND {})",
                    d.json_rows(CONTRACT_COLUMNS),
                    param(),
                    d.in_json("c.listing_id", 2),
                    d.in_json("c.tenant_id", 3)
                ),
                None => "'[]'".to_owned(),
            };
            let sql = format!(
                "SELECT (SELECT {} FROM prices p JOIN price_lists pl ON pl.id = p.price_list_id AND pl.tenant_id = p.tenant_id \
                 WHERE p.tenant_id = $1 AND pl.deleted_at IS NULL AND {} AND {}{region_predicate}), \
                 {contracts}",
                d.json_rows(TIER_COLUMNS),
                d.in_json("p.listing_id", 2),
                d.in_json("p.tenant_id", 3),
            );
            let mut query = sqlx::query_as(&sql)
                .bind(owner)
                .bind(&ids)
                .bind(scope.json());
            if let Some(region) = region {
                query = query.bind(region.as_str());
            }
            if let Some(customer) = customer {
                query = query.bind(customer);
            }
            query.fetch_one(&mut *conn).await?
        });
        prices_from_json(&tiers, &contracts)
    }
}

/// Prices by listing from the JSON of `TIER_COLUMNS` and `CONTRACT_COLUMNS` rows.
fn prices_from_json(
    tiers: &str,
    contracts: &str,
) -> Result<HashMap<String, ListingPrices>, StoreError> {
    let unreadable = |e: serde_json::Error| StoreError::Corrupt(format!("prices: {e}"));
    let tiers: Vec<TierRow> = serde_json::from_str(tiers).map_err(unreadable)?;
    let contracts: Vec<ContractRow> = serde_json::from_str(contracts).map_err(unreadable)?;
    let mut out: HashMap<String, ListingPrices> = HashMap::new();
    for t in tiers {
        out.entry(t.listing).or_default().tiers.push(Tier {
            list: PriceListInfo {
                id: t.id,
                name: t.name,
                region: t.region.parse()?,
                currency: t.currency,
                priority: t.priority,
                valid_from: t.valid_from,
                valid_to: t.valid_to,
            },
            min_quantity: t.min_quantity,
            amount_minor: t.amount,
        });
    }
    for (listing, amount, currency, valid_from, valid_to) in contracts {
        out.entry(listing).or_default().contract = Some(ContractPrice {
            amount: Money::new(amount, &currency),
            valid_from,
            valid_to,
        });
    }
    Ok(out)
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
                query: CatalogQuery {
                    owner: "tenant".into(),
                    limit: i as i64,
                    ..CatalogQuery::default()
                },
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
            query: CatalogQuery::default(),
        };
        assert!(approx_bytes(&key, &page(1000)) > approx_bytes(&key, &page(10)) + 19_000);
    }
}
