//! Writes to which products a catalog holds: listing a master product in a reseller's catalog
//! (or listing it again), unlisting a listing (a soft delete, optimistic concurrency on
//! `version`), and renaming a master product of the platform's catalog. One transaction per
//! change, with its audit row and outbox message; bad input is `Invalid` naming the field.

use chrono::{DateTime, Utc};

use crate::catalog_admin::{insert_listing_set, invalid, replace_listing_regions};
use crate::db::scoped;
use crate::error::check_version;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// The version of a live listing of `owner`, inside the caller's write transaction (`None`: no
/// live listing by that id in the write's scope).
macro_rules! live_listing_version {
    ($conn:ident, $owner:expr, $listing:expr) => {{
        let version: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM listings WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
        )
        .bind($listing)
        .bind($owner)
        .fetch_optional(&mut *$conn)
        .await?;
        version
    }};
}
pub(crate) use live_listing_version;

impl Store {
    /// Lists a master product in `owner`'s catalog (again, if it was unlisted). Returns the
    /// listing id.
    pub async fn list_master_product(
        &self,
        scope: &TenantScope,
        owner: &str,
        master_sku: &str,
        regions: &[Region],
        status: ListingStatus,
        audit: &NewAuditEntry,
    ) -> Result<String, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        if regions.is_empty() {
            return Err(invalid("regions", "name at least one region"));
        }
        scoped!(self, scope, write, |conn, d| {
            let master: Option<String> = sqlx::query_scalar(
                "SELECT id FROM master_products WHERE sku = $1 AND deleted_at IS NULL",
            )
            .bind(master_sku)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(master) = master else {
                return Err(invalid("masterSku", "no master product has this SKU"));
            };
            let existing: Option<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT id, deleted_at FROM listings WHERE tenant_id = $1 AND master_product_id = $2",
            )
            .bind(owner)
            .bind(&master)
            .fetch_optional(&mut *conn)
            .await?;
            let now = Utc::now();
            let id = match existing {
                Some((_, None)) => return Err(invalid("masterSku", "is already listed")),
                Some((id, Some(_))) => {
                    sqlx::query(
                        "UPDATE listings SET deleted_at = NULL, status = $1, version = version + 1, updated_at = $2 \
                         WHERE id = $3 AND tenant_id = $4",
                    )
                    .bind(status.as_str())
                    .bind(now)
                    .bind(&id)
                    .bind(owner)
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::from_db)?;
                    id
                }
                None => {
                    let id = uuid::Uuid::new_v4().to_string();
                    sqlx::query(
                        "INSERT INTO listings (id, tenant_id, master_product_id, status, visibility, version, \
                         created_at, updated_at) VALUES ($1, $2, $3, $4, 'ALL', 1, $5, $5)",
                    )
                    .bind(&id)
                    .bind(owner)
                    .bind(&master)
                    .bind(status.as_str())
                    .bind(now)
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::from_db)?;
                    id
                }
            };
            replace_listing_regions!(conn, owner, id.as_str(), regions);
            let mut entry = audit.of("listing.listed", format!("listing:{id}"));
            entry.after_state = Some(
                serde_json::json!({ "master": master_sku, "regions": join_list(regions) })
                    .to_string(),
            );
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::Listing,
                serde_json::json!({ "listing": id })
            );
            Ok(id)
        })
    }

    /// Takes a listing out of the catalog (soft delete) if its version is still `expected_version`.
    pub async fn unlist(
        &self,
        scope: &TenantScope,
        owner: &str,
        listing_id: &str,
        expected_version: i64,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound { entity: "product" });
        }
        scoped!(self, scope, write, |conn, d| {
            let version = live_listing_version!(conn, owner, listing_id);
            check_version("product", version, expected_version)?;
            sqlx::query(
                "UPDATE listings SET deleted_at = $1, version = version + 1, updated_at = $1 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(Utc::now())
            .bind(listing_id)
            .bind(owner)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let entry = audit.of("listing.unlisted", format!("listing:{listing_id}"));
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::Listing,
                serde_json::json!({ "listing": listing_id })
            );
            Ok(())
        })
    }

    /// Renames a master product of the platform's catalog (every listing that does not
    /// override the name follows), with its audit row and outbox message.
    pub async fn rename_master_product(
        &self,
        scope: &TenantScope,
        audit: &NewAuditEntry,
        product_id: &str,
        name: &str,
    ) -> Result<(), StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(StoreError::Invalid {
                field: "name",
                message: "must be 1 to 200 characters".into(),
            });
        }
        scoped!(self, scope, write, |conn, d| {
            let owner: Option<(String, String)> = sqlx::query_as(&format!(
                "SELECT tenant_id, name FROM master_products WHERE id = $1 AND deleted_at IS NULL AND {}",
                d.in_json("tenant_id", 2)
            ))
            .bind(product_id)
            .bind(scope.json())
            .fetch_optional(&mut *conn)
            .await?;
            let Some((owner, before)) = owner else {
                return Err(StoreError::NotFound {
                    entity: "master product",
                });
            };
            sqlx::query("UPDATE master_products SET name = $1, updated_at = $2 WHERE id = $3")
                .bind(name)
                .bind(Utc::now())
                .bind(product_id)
                .execute(&mut *conn)
                .await?;
            let mut entry = audit.of(
                "master_product.renamed",
                format!("master_product:{product_id}"),
            );
            entry.before_state = Some(serde_json::json!({ "name": before }).to_string());
            entry.after_state = Some(serde_json::json!({ "name": name }).to_string());
            record_change!(
                conn,
                d,
                &owner,
                &entry,
                Topic::MasterProduct,
                serde_json::json!({ "product": product_id })
            );
            Ok(())
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ListingRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) master_product_id: Option<String>,
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) brand: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) supplier: Option<String>,
    pub(crate) status: String,
    pub(crate) visibility: String,
    pub(crate) cost_amount: Option<i64>,
    pub(crate) cost_currency: Option<String>,
    pub(crate) version: i64,
}

/// A listing row and its regions as the model type.
pub(crate) fn listing_from_row(r: ListingRow, regions: Vec<Region>) -> Result<Listing, StoreError> {
    Ok(Listing {
        cost: match (r.cost_amount, r.cost_currency) {
            (Some(amount), Some(currency)) => Some(Money::new(amount, &currency)),
            _ => None,
        },
        id: r.id,
        tenant_id: r.tenant_id,
        master_product_id: r.master_product_id,
        sku: r.sku,
        name: r.name,
        description: r.description,
        brand: r.brand,
        category: r.category,
        supplier: r.supplier,
        status: r.status.parse()?,
        visibility: r.visibility.parse()?,
        regions,
        version: r.version,
    })
}

/// The columns of a listing, with the master product's values filling what the listing does
/// not override: select them (and any others after them) `FROM {LISTING_FROM}`.
pub(crate) const LISTING_COLUMNS: &str = "l.id, l.tenant_id, l.master_product_id, \
     COALESCE(l.sku, m.sku) AS sku, COALESCE(l.name, m.name) AS name, \
     COALESCE(l.description, m.description) AS description, COALESCE(l.brand, m.brand) AS brand, \
     COALESCE(l.category, m.category) AS category, COALESCE(l.supplier, m.supplier) AS supplier, \
     l.status, l.visibility, l.cost_amount, l.cost_currency, l.version";

/// The tables `LISTING_COLUMNS` reads: the listing `l` and its master product `m`.
pub(crate) const LISTING_FROM: &str =
    "listings l LEFT JOIN master_products m ON m.id = l.master_product_id";

impl Store {
    /// A page of a tenant's listings ordered by SKU, overrides applied.
    pub async fn listings(
        &self,
        scope: &TenantScope,
        owner: &str,
        limit: i64,
    ) -> Result<Vec<Listing>, StoreError> {
        scoped!(self, scope, snapshot, |conn, d| {
            let sql = format!(
                "SELECT {LISTING_COLUMNS} FROM {LISTING_FROM} WHERE l.tenant_id = $1 AND l.deleted_at IS NULL AND {} \
                 ORDER BY sku, l.id LIMIT $3",
                d.in_json("l.tenant_id", 2)
            );
            let rows: Vec<ListingRow> = sqlx::query_as(&sql)
                .bind(owner)
                .bind(scope.json())
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let ids = serde_json::to_string(&ids).expect("strings serialize");
            // One statement for the regions of the whole page.
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
            let mut by_listing: std::collections::HashMap<String, Vec<Region>> =
                std::collections::HashMap::new();
            for (listing, region) in regions {
                by_listing.entry(listing).or_default().push(region.parse()?);
            }
            rows.into_iter()
                .map(|r| {
                    let listing_regions = by_listing.remove(&r.id).unwrap_or_default();
                    listing_from_row(r, listing_regions)
                })
                .collect()
        })
    }

    /// How many live listings a tenant has.
    pub async fn count_listings(
        &self,
        scope: &TenantScope,
        owner: &str,
    ) -> Result<i64, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT count(*) FROM listings WHERE tenant_id = $1 AND deleted_at IS NULL AND {}",
                d.in_json("tenant_id", 2)
            );
            Ok(sqlx::query_scalar(&sql)
                .bind(owner)
                .bind(scope.json())
                .fetch_one(&mut *conn)
                .await?)
        })
    }
}
