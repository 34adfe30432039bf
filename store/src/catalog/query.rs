//! Reading the catalog's rows: a page of listings (overrides applied, regions included, and
//! the page's prices when asked for) in one statement, and listings by id with the same columns.

use crate::db::scoped;
use crate::listings::{LISTING_COLUMNS, LISTING_FROM, ListingRow, listing_from_row};
use crate::model::*;
use crate::{Store, StoreError, TenantScope};

use super::prices::{CONTRACT_COLUMNS, PriceParams, TIER_COLUMNS, prices_from_json};
use super::{Bind, CatalogQuery, CatalogRow, CatalogVisibility, IdsQuery, bind_all, sold_in};

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
/// The effective SKU, kept in the row by a trigger and indexed with the tenant (migration
/// `catalog_order`): pages walk the index instead of sorting.
const SKU: &str = "l.sort_sku";
const CATEGORY: &str = "COALESCE(l.category, m.category)";

impl Store {
    pub(super) async fn read_catalog_page(
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

    /// Live listings of `q.owner` among `q.ids`, in SKU order, with their prices when asked
    /// for: one statement.
    pub(super) async fn read_catalog_ids(
        &self,
        scope: &TenantScope,
        q: &IdsQuery,
    ) -> Result<Vec<CatalogRow>, StoreError> {
        if q.ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&q.ids).expect("strings serialize");
        // $1 the scope, $2 the viewer, $3 the ids, $4 the owner, then the price parameters.
        let mut binds = vec![
            Bind::Text(q.viewer_tenant.clone().unwrap_or_default()),
            Bind::Text(ids),
            Bind::Text(q.owner.clone()),
        ];
        let mut next = |b: Bind| {
            binds.push(b);
            binds.len() + 1
        };
        let prices = q.prices.as_ref().map(|p| PriceParams {
            customer: p.customer.as_ref().map(|c| next(Bind::Text(c.clone()))),
            region: p.region.map(|r| next(Bind::Text(r.as_str().to_owned()))),
        });
        self.catalog_rows(
            scope,
            vec![
                "l.deleted_at IS NULL".to_owned(),
                // Only the owner's: the rows are cached under the owner's catalog version.
                "l.tenant_id = $4".to_owned(),
            ],
            binds,
            Some(3),
            None,
            prices,
        )
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
}
