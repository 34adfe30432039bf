//! What the search indexer reads: listings as documents (overrides applied, with their
//! regions and assortment), the outbox after a position, and the listings of a master product.

use crate::db::scoped;
use crate::listings::{LISTING_COLUMNS, LISTING_FROM, ListingRow, listing_from_row};
use crate::model::*;
use crate::{Store, StoreError, TenantScope};

/// A listing as the search index holds it. Prices and costs are never part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexListing {
    pub listing: Listing,
    /// The assortment: customers a restricted listing is shown to.
    pub customers: Vec<TenantId>,
    /// The attributes JSON object (the listing's own, else the master product's).
    pub attributes: Option<String>,
}

/// One outbox message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    pub id: i64,
    pub tenant_id: TenantId,
    pub topic: String,
    pub payload: String,
}

#[derive(sqlx::FromRow)]
struct IndexRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    region_list: Option<String>,
    customer_list: Option<String>,
    attributes: Option<String>,
}

impl Store {
    /// The live listings of `owner` as search documents: all of them, or those of `ids`.
    pub async fn listings_for_index(
        &self,
        scope: &TenantScope,
        owner: &str,
        ids: Option<&[String]>,
    ) -> Result<Vec<IndexListing>, StoreError> {
        let ids = ids.map(|ids| serde_json::to_string(ids).expect("strings serialize"));
        let rows: Vec<IndexRow> = scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT {LISTING_COLUMNS}, {}, (SELECT {} FROM listing_customers c \
                 WHERE c.tenant_id = l.tenant_id AND c.listing_id = l.id) AS customer_list, \
                 COALESCE(l.attributes, m.attributes) AS attributes FROM {LISTING_FROM} \
                 WHERE l.tenant_id = $1 AND l.deleted_at IS NULL AND {}{} ORDER BY l.id",
                d.listing_regions(),
                d.comma_list("c.customer_id"),
                d.in_json("l.tenant_id", 2),
                if ids.is_some() {
                    format!(" AND {}", d.in_json("l.id", 3))
                } else {
                    String::new()
                },
            );
            let query = sqlx::query_as(&sql).bind(owner).bind(scope.json());
            match &ids {
                Some(ids) => query.bind(ids),
                None => query,
            }
            .fetch_all(&mut *conn)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                let regions = parse_list(r.region_list.as_deref().unwrap_or_default())?;
                Ok(IndexListing {
                    listing: listing_from_row(r.listing, regions)?,
                    customers: r
                        .customer_list
                        .as_deref()
                        .unwrap_or_default()
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    attributes: r.attributes,
                })
            })
            .collect()
    }

    /// The newest outbox id of the tenants in scope (0 when none).
    pub async fn outbox_head(&self, scope: &TenantScope) -> Result<i64, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT COALESCE(MAX(id), 0) FROM outbox WHERE {}",
                d.in_json("tenant_id", 1)
            );
            Ok(sqlx::query_scalar::<_, i64>(&sql)
                .bind(scope.json())
                .fetch_one(&mut *conn)
                .await?)
        })
    }

    /// Outbox messages after `after`, oldest first, at most `limit`.
    pub async fn outbox_after(
        &self,
        scope: &TenantScope,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT id, tenant_id, topic, payload FROM outbox WHERE id > $1 AND {} \
                 ORDER BY id LIMIT $3",
                d.in_json("tenant_id", 2)
            );
            Ok(sqlx::query_as(&sql)
                .bind(after)
                .bind(scope.json())
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?)
        })
    }

    /// (owner, listing) of every live listing of a master product, in the tenants of scope.
    pub async fn listings_of_master(
        &self,
        scope: &TenantScope,
        master_product_id: &str,
    ) -> Result<Vec<(TenantId, String)>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT tenant_id, id FROM listings WHERE master_product_id = $1 \
                 AND deleted_at IS NULL AND {} ORDER BY tenant_id, id",
                d.in_json("tenant_id", 2)
            );
            Ok(sqlx::query_as(&sql)
                .bind(master_product_id)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?)
        })
    }
}
