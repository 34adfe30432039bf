//! The catalog as portals read it: one page of listings (overrides applied) with their regions
//! in two statements, and the prices of a page in at most two more, whatever the page size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::pricing::{ContractPrice, ListingPrices, PriceListInfo, Tier};
use crate::repo::{LISTING_SELECT, ListingRow, listing_from_row};
use crate::{Store, StoreError, TenantScope};

/// What a page of the catalog asks for. The `active_only`, `sold_in` and `visible_to`
/// predicates come from the policy (the caller's allowed facts); the rest from the user.
#[derive(Debug, Clone, Default)]
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
}

/// A listing and whether its assortment names the viewer's tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogRow {
    pub listing: Listing,
    pub granted: bool,
}

#[derive(sqlx::FromRow)]
struct CatalogDbRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    granted: bool,
}

/// listing, amount, currency, valid from, valid to.
type ContractRow = (String, i64, String, DateTime<Utc>, Option<DateTime<Utc>>);

/// Values bound in order after the scope (`$1`).
enum Bind {
    Text(String),
    Int(i64),
}

/// The effective SKU, kept in the row by a trigger and indexed with the tenant (migration
/// `catalog_order`): pages walk the index instead of sorting.
const SKU: &str = "l.sort_sku";
const CATEGORY: &str = "COALESCE(l.category, m.category)";

impl Store {
    /// One page of a reseller's catalog, ordered by SKU then id.
    pub async fn catalog_page(
        &self,
        scope: &TenantScope,
        q: &CatalogQuery,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        let mut binds = vec![
            Bind::Text(q.viewer_tenant.clone().unwrap_or_default()),
            Bind::Text(q.owner.clone()),
        ];
        let mut predicates = vec![
            "l.tenant_id = $3".to_owned(),
            "l.deleted_at IS NULL".to_owned(),
        ];
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
        if q.active_only {
            predicates.push("l.status = 'ACTIVE'".to_owned());
        }
        for region in [q.region, q.sold_in].into_iter().flatten() {
            let n = next(Bind::Text(region.as_str().to_owned()), &mut binds);
            predicates.push(format!(
                "EXISTS (SELECT 1 FROM listing_regions r WHERE r.tenant_id = l.tenant_id AND r.listing_id = l.id AND r.region = ${n})"
            ));
        }
        if let Some(customer) = &q.visible_to {
            let n = next(Bind::Text(customer.clone()), &mut binds);
            predicates.push(format!(
                "(l.visibility = 'ALL' OR EXISTS (SELECT 1 FROM listing_customers c WHERE c.tenant_id = l.tenant_id AND c.listing_id = l.id AND c.customer_id = ${n}))"
            ));
        }
        if let Some((sku, id)) = &q.after {
            let n = next(Bind::Text(sku.clone()), &mut binds);
            let m = next(Bind::Text(id.clone()), &mut binds);
            predicates.push(format!("({SKU} > ${n} OR ({SKU} = ${n} AND l.id > ${m}))"));
        }
        let limit = next(Bind::Int(q.limit.clamp(0, 1000)), &mut binds);
        self.catalog_rows(scope, predicates, binds, Some(limit))
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
        // `$3` is the JSON array of ids; the dialect decides how it is expanded.
        self.catalog_rows(
            scope,
            vec!["l.deleted_at IS NULL".to_owned(), "@IDS@".to_owned()],
            binds,
            None,
        )
        .await
    }

    async fn catalog_rows(
        &self,
        scope: &TenantScope,
        predicates: Vec<String>,
        binds: Vec<Bind>,
        limit: Option<usize>,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let predicates: Vec<String> = predicates
                .iter()
                .map(|p| {
                    if p == "@IDS@" {
                        d.in_json("l.id", 3)
                    } else {
                        p.clone()
                    }
                })
                .collect();
            let sql = format!(
                "{LISTING_SELECT_GRANTED} WHERE {} AND {} ORDER BY {SKU}, l.id{}",
                d.in_json("l.tenant_id", 1),
                predicates.join(" AND "),
                limit.map(|n| format!(" LIMIT ${n}")).unwrap_or_default(),
                LISTING_SELECT_GRANTED = LISTING_SELECT.replacen(
                    " FROM listings l",
                    ", EXISTS (SELECT 1 FROM listing_customers g WHERE g.tenant_id = l.tenant_id \
                     AND g.listing_id = l.id AND g.customer_id = $2) AS granted FROM listings l",
                    1
                ),
            );
            let mut query = sqlx::query_as::<_, CatalogDbRow>(&sql).bind(scope.json());
            for b in &binds {
                query = match b {
                    Bind::Text(t) => query.bind(t.clone()),
                    Bind::Int(i) => query.bind(*i),
                };
            }
            let rows = query.fetch_all(&mut *conn).await?;
            // One statement for the regions of the whole page.
            let ids: Vec<&str> = rows.iter().map(|r| r.listing.id.as_str()).collect();
            let ids = serde_json::to_string(&ids).expect("strings serialize");
            let sql = format!(
                "SELECT listing_id, region FROM listing_regions WHERE {} AND {} ORDER BY region",
                d.in_json("listing_id", 1),
                d.in_json("tenant_id", 2)
            );
            let regions: Vec<(String, String)> = sqlx::query_as(&sql)
                .bind(ids)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            let mut by_listing: HashMap<String, Vec<Region>> = HashMap::new();
            for (listing, region) in regions {
                by_listing.entry(listing).or_default().push(region.parse()?);
            }
            rows.into_iter()
                .map(|r| {
                    let regions = by_listing.remove(&r.listing.id).unwrap_or_default();
                    Ok(CatalogRow {
                        granted: r.granted,
                        listing: listing_from_row(r.listing, regions)?,
                    })
                })
                .collect()
        })
    }

    /// The prices of some listings of one owner: every tier in every list, and the contract
    /// prices of `customer` when given. Two statements at most.
    pub async fn pricing_for(
        &self,
        scope: &TenantScope,
        owner: &str,
        listing_ids: &[String],
        customer: Option<&str>,
    ) -> Result<HashMap<String, ListingPrices>, StoreError> {
        let mut out: HashMap<String, ListingPrices> = HashMap::new();
        if listing_ids.is_empty() {
            return Ok(out);
        }
        let ids = serde_json::to_string(listing_ids).expect("strings serialize");
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT p.listing_id, p.min_quantity, p.amount, pl.id, pl.name, pl.region, pl.currency, \
                 pl.priority, pl.valid_from, pl.valid_to \
                 FROM prices p JOIN price_lists pl ON pl.id = p.price_list_id \
                 WHERE p.tenant_id = $1 AND pl.deleted_at IS NULL AND {} AND {}",
                d.in_json("p.listing_id", 2),
                d.in_json("p.tenant_id", 3)
            );
            #[expect(clippy::type_complexity, reason = "one row of a join")]
            let rows: Vec<(
                String,
                i64,
                i64,
                String,
                String,
                String,
                String,
                i64,
                DateTime<Utc>,
                Option<DateTime<Utc>>,
            )> = sqlx::query_as(&sql)
                .bind(owner)
                .bind(&ids)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            for (
                listing,
                min_quantity,
                amount,
                id,
                name,
                region,
                currency,
                priority,
                valid_from,
                valid_to,
            ) in rows
            {
                out.entry(listing).or_default().tiers.push(Tier {
                    list: PriceListInfo {
                        id,
                        name,
                        region: region.parse()?,
                        currency,
                        priority,
                        valid_from,
                        valid_to,
                    },
                    min_quantity,
                    amount_minor: amount,
                });
            }
            if let Some(customer) = customer {
                let sql = format!(
                    "SELECT listing_id, amount, currency, valid_from, valid_to FROM contract_prices \
                     WHERE tenant_id = $1 AND customer_id = $2 AND {} AND {}",
                    d.in_json("listing_id", 3),
                    d.in_json("tenant_id", 4)
                );
                let rows: Vec<ContractRow> = sqlx::query_as(&sql)
                    .bind(owner)
                    .bind(customer)
                    .bind(&ids)
                    .bind(scope.json())
                    .fetch_all(&mut *conn)
                    .await?;
                for (listing, amount, currency, valid_from, valid_to) in rows {
                    out.entry(listing).or_default().contract = Some(ContractPrice {
                        amount: Money::new(amount, &currency),
                        valid_from,
                        valid_to,
                    });
                }
            }
            Ok(out)
        })
    }
}
