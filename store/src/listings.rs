//! Writes to which products a catalog holds: listing a master product in a reseller's catalog
//! (or listing it again), unlisting a listing (a soft delete, optimistic concurrency on
//! `version`), and renaming a master product of the platform's catalog. One transaction per
//! change, with its audit row and outbox message; bad input is `Invalid` naming the field.

use chrono::{DateTime, Utc};

use crate::catalog_admin::{insert_listing_set, invalid, replace_listing_regions};
use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

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
            let version: Option<i64> = sqlx::query_scalar(
                "SELECT version FROM listings WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
            )
            .bind(listing_id)
            .bind(owner)
            .fetch_optional(&mut *conn)
            .await?;
            match version {
                None => return Err(StoreError::NotFound { entity: "product" }),
                Some(v) if v != expected_version => {
                    return Err(StoreError::VersionConflict {
                        entity: "product",
                        expected: expected_version,
                    });
                }
                Some(_) => {}
            }
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
