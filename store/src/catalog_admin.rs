//! Reseller staff changing their catalog: a listing's overrides, regions, status and visibility
//! (optimistic concurrency on `version`), and customers' contract prices. One transaction per
//! change, with its audit row and outbox message; bad input is `Invalid` naming the field, and
//! nothing is written. Listing and unlisting products are in `listings.rs`.

use chrono::{DateTime, Utc};

use crate::catalog::{Bind, CatalogVisibility, bind_all};
use crate::db::scoped;
use crate::error::check_version;
use crate::listings::{
    LISTING_COLUMNS, LISTING_FROM, ListingRow, listing_from_row, live_listing_version,
};
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// Adds values to one of a listing's sets (`listing_regions.region`,
/// `listing_customers.customer_id`) inside the caller's write transaction; the caller deleted
/// the ones it replaces.
macro_rules! insert_listing_set {
    ($conn:ident, $table:literal, $column:literal, $owner:expr, $listing:expr, $values:expr) => {{
        for value in $values {
            sqlx::query(concat!(
                "INSERT INTO ",
                $table,
                " (tenant_id, listing_id, ",
                $column,
                ") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
            ))
            .bind($owner)
            .bind($listing)
            .bind(value)
            .execute(&mut *$conn)
            .await
            .map_err(StoreError::from_db)?;
        }
    }};
}
pub(crate) use insert_listing_set;

/// Replaces a listing's regions inside the caller's write transaction.
macro_rules! replace_listing_regions {
    ($conn:ident, $owner:expr, $listing:expr, $regions:expr) => {{
        sqlx::query("DELETE FROM listing_regions WHERE tenant_id = $1 AND listing_id = $2")
            .bind($owner)
            .bind($listing)
            .execute(&mut *$conn)
            .await?;
        insert_listing_set!(
            $conn,
            "listing_regions",
            "region",
            $owner,
            $listing,
            $regions.iter().map(|r| r.as_str())
        );
    }};
}
pub(crate) use replace_listing_regions;

/// A listing's assortment as the write's scope sees it (customer ids, sorted): on PostgreSQL
/// row-level security shows only rows about customers in scope, and the same predicate keeps
/// SQLite identical.
macro_rules! assortment_in_scope {
    ($conn:ident, $d:ident, $scope:expr, $owner:expr, $listing:expr) => {{
        let sql = format!(
            "SELECT customer_id FROM listing_customers WHERE tenant_id = $1 AND listing_id = $2 \
             AND {} ORDER BY customer_id",
            $d.in_json("customer_id", 3)
        );
        let customers: Vec<String> = sqlx::query_scalar(&sql)
            .bind($owner)
            .bind($listing)
            .bind($scope.json())
            .fetch_all(&mut *$conn)
            .await?;
        customers
    }};
}

/// What an update changes; `None` leaves a value as it is.
#[derive(Debug, Clone, Default)]
pub struct ListingChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub regions: Option<Vec<Region>>,
    pub status: Option<ListingStatus>,
    pub visibility: Option<Visibility>,
    /// The assortment: the customers a RESTRICTED listing is visible to. Replaced whole
    /// within the write's scope: an assortment row names a customer, and only rows of customers
    /// in the scope are touched (on PostgreSQL, row-level security shows no other; the same
    /// predicate in the SQL keeps SQLite identical). So the scope must hold every customer of
    /// the owner the caller acts for, not just the new ones.
    pub customers: Option<Vec<TenantId>>,
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

impl ListingChanges {
    fn validate(&self) -> Result<(), StoreError> {
        if let Some(name) = &self.name
            && (name.trim().is_empty() || name.chars().count() > 200)
        {
            return Err(invalid("name", "must be 1 to 200 characters"));
        }
        if let Some(d) = &self.description
            && d.chars().count() > 4000
        {
            return Err(invalid("description", "must be at most 4000 characters"));
        }
        if let Some(regions) = &self.regions
            && regions.is_empty()
        {
            return Err(invalid("regions", "name at least one region"));
        }
        Ok(())
    }
}

impl Store {
    /// Changes a listing of `owner` if its version is still `expected_version`.
    pub async fn update_listing(
        &self,
        scope: &TenantScope,
        owner: &str,
        listing_id: &str,
        expected_version: i64,
        changes: &ListingChanges,
        audit: &NewAuditEntry,
    ) -> Result<Listing, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound { entity: "product" });
        }
        changes.validate()?;
        scoped!(self, scope, write, |conn, d| {
            let sql = format!(
                "SELECT {LISTING_COLUMNS} FROM {LISTING_FROM} WHERE l.id = $1 AND l.tenant_id = $2 AND l.deleted_at IS NULL"
            );
            let before: Option<ListingRow> = sqlx::query_as(&sql)
                .bind(listing_id)
                .bind(owner)
                .fetch_optional(&mut *conn)
                .await?;
            let before = before.ok_or(StoreError::NotFound { entity: "product" })?;
            check_version("product", Some(before.version), expected_version)?;
            let mut before_state = serde_json::json!({
                "name": before.name, "status": before.status, "visibility": before.visibility, "version": before.version,
            });
            // An assortment change records the customers before and after.
            if changes.customers.is_some() {
                before_state["customers"] =
                    assortment_in_scope!(conn, d, scope, owner, listing_id).into();
            }
            let now = Utc::now();
            let updated = sqlx::query(
                "UPDATE listings SET name = COALESCE($1, name), description = COALESCE($2, description), \
                 status = COALESCE($3, status), visibility = COALESCE($4, visibility), \
                 version = version + 1, updated_at = $5 WHERE id = $6 AND tenant_id = $7 AND version = $8",
            )
            .bind(changes.name.as_deref().map(str::trim))
            .bind(changes.description.as_deref())
            .bind(changes.status.map(|s| s.as_str()))
            .bind(changes.visibility.map(|v| v.as_str()))
            .bind(now)
            .bind(listing_id)
            .bind(owner)
            .bind(expected_version)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            if updated.rows_affected() != 1 {
                return Err(StoreError::VersionConflict {
                    entity: "product",
                    expected: expected_version,
                });
            }
            if let Some(customers) = &changes.customers {
                if let Some(outside) = customers.iter().find(|c| !scope.contains(c)) {
                    return Err(invalid(
                        "customers",
                        format!("{outside} is not a customer in scope"),
                    ));
                }
                // The rows of the customers in scope, old and new alike.
                let delete = format!(
                    "DELETE FROM listing_customers WHERE tenant_id = $1 AND listing_id = $2 AND {}",
                    d.in_json("customer_id", 3)
                );
                sqlx::query(&delete)
                    .bind(owner)
                    .bind(listing_id)
                    .bind(scope.json())
                    .execute(&mut *conn)
                    .await?;
                insert_listing_set!(
                    conn,
                    "listing_customers",
                    "customer_id",
                    owner,
                    listing_id,
                    customers.iter().map(String::as_str)
                );
            }
            if let Some(regions) = &changes.regions {
                replace_listing_regions!(conn, owner, listing_id, regions);
            }
            let row: ListingRow = sqlx::query_as(&sql)
                .bind(listing_id)
                .bind(owner)
                .fetch_one(&mut *conn)
                .await?;
            let regions: Vec<String> = sqlx::query_scalar(
                "SELECT region FROM listing_regions WHERE tenant_id = $1 AND listing_id = $2 ORDER BY region",
            )
            .bind(owner)
            .bind(listing_id)
            .fetch_all(&mut *conn)
            .await?;
            let regions = regions
                .iter()
                .map(|r| r.parse())
                .collect::<Result<Vec<Region>, _>>()?;
            let after = listing_from_row(row, regions)?;
            let mut entry = audit.of("listing.updated", format!("listing:{listing_id}"));
            entry.before_state = Some(before_state.to_string());
            let mut after_state = serde_json::json!({
                "name": after.name, "status": after.status.as_str(), "visibility": after.visibility.as_str(),
                "regions": join_list(&after.regions), "version": after.version,
            });
            if changes.customers.is_some() {
                after_state["customers"] =
                    assortment_in_scope!(conn, d, scope, owner, listing_id).into();
            }
            entry.after_state = Some(after_state.to_string());
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::Listing,
                serde_json::json!({ "listing": listing_id })
            );
            Ok(after)
        })
    }

    /// Sets (or replaces) a customer's contract price for a listing of `owner`.
    #[expect(
        clippy::too_many_arguments,
        reason = "one contract price and its audit"
    )]
    pub async fn set_contract_price(
        &self,
        scope: &TenantScope,
        owner: &str,
        customer_id: &str,
        listing_id: &str,
        amount: &Money,
        valid_from: DateTime<Utc>,
        valid_to: Option<DateTime<Utc>>,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        if !scope.contains(owner) || !scope.contains(customer_id) {
            return Err(StoreError::NotFound { entity: "customer" });
        }
        if valid_to.is_some_and(|to| to <= valid_from) {
            return Err(invalid("validTo", "must be after validFrom"));
        }
        scoped!(self, scope, write, |conn, d| {
            // The currency of the customer's region's price lists, if it has any.
            let currencies: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT pl.currency FROM price_lists pl JOIN tenants t ON t.id = $2 \
                 WHERE pl.tenant_id = $1 AND pl.region = t.region AND pl.deleted_at IS NULL",
            )
            .bind(owner)
            .bind(customer_id)
            .fetch_all(&mut *conn)
            .await?;
            if !currencies.is_empty() && !currencies.contains(&amount.currency) {
                return Err(invalid(
                    "currency",
                    format!(
                        "must be the customer's price-list currency ({})",
                        currencies.join(", ")
                    ),
                ));
            }
            if live_listing_version!(conn, owner, listing_id).is_none() {
                return Err(StoreError::NotFound { entity: "product" });
            }
            let now = Utc::now();
            sqlx::query(
                "INSERT INTO contract_prices (id, tenant_id, customer_id, listing_id, amount, currency, valid_from, \
                 valid_to, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
                 ON CONFLICT (tenant_id, customer_id, listing_id) DO UPDATE SET amount = excluded.amount, \
                 currency = excluded.currency, valid_from = excluded.valid_from, valid_to = excluded.valid_to, \
                 version = contract_prices.version + 1, updated_at = excluded.updated_at",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(owner)
            .bind(customer_id)
            .bind(listing_id)
            .bind(amount.amount_minor)
            .bind(&amount.currency)
            .bind(valid_from)
            .bind(valid_to)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of(
                "contract_price.set",
                format!("contract_price:{customer_id}/{listing_id}"),
            );
            entry.after_state = Some(
                serde_json::json!({ "amount": amount.decimal(), "currency": amount.currency })
                    .to_string(),
            );
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::ContractPrice,
                serde_json::json!({ "customer": customer_id, "listing": listing_id })
            );
            Ok(())
        })
    }

    /// Ends a customer's contract price now (the row stays as history).
    pub async fn end_contract_price(
        &self,
        scope: &TenantScope,
        owner: &str,
        customer_id: &str,
        listing_id: &str,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        if !scope.contains(owner) || !scope.contains(customer_id) {
            return Err(StoreError::NotFound { entity: "customer" });
        }
        scoped!(self, scope, write, |conn, d| {
            let now = Utc::now();
            let ended = sqlx::query(
                "UPDATE contract_prices SET valid_to = $1, updated_at = $1, version = version + 1 \
                 WHERE tenant_id = $2 AND customer_id = $3 AND listing_id = $4 \
                 AND valid_from < $1 AND (valid_to IS NULL OR valid_to > $1)",
            )
            .bind(now)
            .bind(owner)
            .bind(customer_id)
            .bind(listing_id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            if ended.rows_affected() == 0 {
                return Err(StoreError::NotFound {
                    entity: "contract price",
                });
            }
            let entry = audit.of(
                "contract_price.ended",
                format!("contract_price:{customer_id}/{listing_id}"),
            );
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::ContractPrice,
                serde_json::json!({ "customer": customer_id, "listing": listing_id })
            );
            Ok(())
        })
    }
}

/// A customer's contract price as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractPriceRow {
    pub listing_id: String,
    pub sku: String,
    pub name: String,
    pub amount: Money,
    pub valid_from: DateTime<Utc>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct ContractPriceDbRow {
    listing_id: String,
    sku: String,
    name: String,
    amount: i64,
    currency: String,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
}

impl Store {
    /// A customer's contract prices with `owner`, current and future, by SKU: every one
    /// (`visibility` `None`: the reseller's own record, for its staff), or only those on
    /// listings the catalog shows under `visibility` (for anyone who sees the catalog as a
    /// customer: live listings the policy's predicates let through).
    pub async fn contract_prices_of(
        &self,
        scope: &TenantScope,
        owner: &str,
        customer_id: &str,
        visibility: Option<&CatalogVisibility>,
    ) -> Result<Vec<ContractPriceRow>, StoreError> {
        if !scope.contains(owner) || !scope.contains(customer_id) {
            return Ok(Vec::new());
        }
        let mut binds = vec![
            Bind::Text(owner.to_owned()),
            Bind::Text(customer_id.to_owned()),
            Bind::Time(Utc::now()),
        ];
        let mut predicates = vec![
            "c.tenant_id = $1".to_owned(),
            "c.customer_id = $2".to_owned(),
            "(c.valid_to IS NULL OR c.valid_to > $3)".to_owned(),
        ];
        if let Some(visibility) = visibility {
            predicates.extend(visibility.predicates(&mut binds, 0));
        }
        let sql = format!(
            "SELECT c.listing_id, COALESCE(l.sku, m.sku) AS sku, COALESCE(l.name, m.name) AS name, \
             c.amount, c.currency, \
             c.valid_from, c.valid_to FROM contract_prices c \
             JOIN listings l ON l.id = c.listing_id AND l.tenant_id = c.tenant_id \
             LEFT JOIN master_products m ON m.id = l.master_product_id \
             WHERE {} ORDER BY 2",
            predicates.join(" AND ")
        );
        scoped!(self, scope, read, |conn, _d| {
            let rows: Vec<ContractPriceDbRow> = bind_all!(sqlx::query_as(&sql), &binds)
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows
                .into_iter()
                .map(|r| ContractPriceRow {
                    amount: Money::new(r.amount, &r.currency),
                    listing_id: r.listing_id,
                    sku: r.sku,
                    name: r.name,
                    valid_from: r.valid_from,
                    valid_to: r.valid_to,
                })
                .collect())
        })
    }
}
