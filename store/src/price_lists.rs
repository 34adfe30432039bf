//! Price lists and their tiered prices, managed by reseller staff: a reseller's lists, creating
//! and updating a list, setting a listing's tiers on a list. One transaction per change with its
//! audit row and outbox message; optimistic concurrency on `version`; bad input is `Invalid`
//! naming the field. (Listing and unlisting master products is in `catalog_admin.rs`.)

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::error::check_version;
use crate::listings::live_listing_version;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::pricing::PriceListInfo;
use crate::{Store, StoreError, TenantScope};

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// A price list as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceList {
    pub info: PriceListInfo,
    pub version: i64,
}

/// A new price list, or the changes to one (`None`: unchanged).
#[derive(Debug, Clone, Default)]
pub struct PriceListChanges {
    pub name: Option<String>,
    pub region: Option<Region>,
    pub currency: Option<String>,
    pub priority: Option<i64>,
    pub valid_from: Option<DateTime<Utc>>,
    /// `Some(None)` clears the end date.
    pub valid_to: Option<Option<DateTime<Utc>>>,
}

/// A row of `SELECT`.
#[derive(sqlx::FromRow)]
struct PriceListRow {
    id: String,
    name: String,
    region: String,
    currency: String,
    priority: i64,
    valid_from: DateTime<Utc>,
    valid_to: Option<DateTime<Utc>>,
    version: i64,
}

fn from_row(r: PriceListRow) -> Result<PriceList, StoreError> {
    Ok(PriceList {
        info: PriceListInfo {
            id: r.id,
            name: r.name,
            region: r.region.parse()?,
            currency: r.currency,
            priority: r.priority,
            valid_from: r.valid_from,
            valid_to: r.valid_to,
        },
        version: r.version,
    })
}

const SELECT: &str =
    "SELECT id, name, region, currency, priority, valid_from, valid_to, version FROM price_lists";

fn validate(p: &PriceList) -> Result<(), StoreError> {
    let name = p.info.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(invalid("name", "must be 1 to 100 characters"));
    }
    let c = &p.info.currency;
    if c.len() != 3 || !c.chars().all(|x| x.is_ascii_uppercase()) {
        return Err(invalid(
            "currency",
            "must be three capital letters (ISO 4217), e.g. EUR",
        ));
    }
    if !(-1000..=1000).contains(&p.info.priority) {
        return Err(invalid("priority", "must be -1000 to 1000"));
    }
    if p.info.valid_to.is_some_and(|to| to <= p.info.valid_from) {
        return Err(invalid("validTo", "must be after validFrom"));
    }
    Ok(())
}

/// A live price list of `owner` by id, inside the caller's write transaction; NotFound otherwise.
macro_rules! live_price_list {
    ($conn:ident, $owner:expr, $id:expr) => {{
        let row: Option<PriceListRow> = sqlx::query_as(&format!(
            "{SELECT} WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL"
        ))
        .bind($id)
        .bind($owner)
        .fetch_optional(&mut *$conn)
        .await?;
        match row.map(from_row).transpose()? {
            Some(list) => list,
            None => {
                return Err(StoreError::NotFound {
                    entity: "price list",
                });
            }
        }
    }};
}

/// Binds a list's fields as `$1` to `$6` (name, region, currency, priority, valid from, valid
/// to): the INSERT and the UPDATE write the same columns.
macro_rules! bind_fields {
    ($query:expr, $info:expr $(,)?) => {
        $query
            .bind(&$info.name)
            .bind($info.region.as_str())
            .bind(&$info.currency)
            .bind($info.priority)
            .bind($info.valid_from)
            .bind($info.valid_to)
    };
}

/// Optimistic concurrency: the list must still be at the version the caller read.
fn check_list_version(list: &PriceList, expected_version: i64) -> Result<(), StoreError> {
    check_version("price list", Some(list.version), expected_version)
}

impl Store {
    /// A reseller's live price lists by name.
    pub async fn price_lists(
        &self,
        scope: &TenantScope,
        owner: &str,
    ) -> Result<Vec<PriceList>, StoreError> {
        if !scope.contains(owner) {
            return Ok(Vec::new());
        }
        scoped!(self, scope, read, |conn, _d| {
            let rows: Vec<PriceListRow> = sqlx::query_as(&format!(
                "{SELECT} WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY name"
            ))
            .bind(owner)
            .fetch_all(&mut *conn)
            .await?;
            rows.into_iter().map(from_row).collect()
        })
    }

    /// Creates a price list (every field of `new` except `valid_to` is required).
    pub async fn create_price_list(
        &self,
        scope: &TenantScope,
        owner: &str,
        new: &PriceListChanges,
        audit: &NewAuditEntry,
    ) -> Result<PriceList, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        let list = PriceList {
            info: PriceListInfo {
                id: uuid::Uuid::new_v4().to_string(),
                name: new
                    .name
                    .clone()
                    .ok_or_else(|| invalid("name", "is required"))?
                    .trim()
                    .to_owned(),
                region: new.region.ok_or_else(|| invalid("region", "is required"))?,
                currency: new
                    .currency
                    .clone()
                    .ok_or_else(|| invalid("currency", "is required"))?,
                priority: new.priority.unwrap_or(0),
                valid_from: new.valid_from.unwrap_or_else(Utc::now),
                valid_to: new.valid_to.flatten(),
            },
            version: 1,
        };
        validate(&list)?;
        scoped!(self, scope, write, |conn, d| {
            let now = Utc::now();
            bind_fields!(
                sqlx::query(
                    "INSERT INTO price_lists (name, region, currency, priority, valid_from, valid_to, id, \
                     tenant_id, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $9)",
                ),
                &list.info,
            )
            .bind(&list.info.id)
            .bind(owner)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("price_list.created", format!("price_list:{}", list.info.id));
            entry.after_state = Some(
                serde_json::json!({ "name": list.info.name, "currency": list.info.currency })
                    .to_string(),
            );
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::PriceList,
                serde_json::json!({ "price_list": list.info.id })
            );
            Ok(list)
        })
    }

    /// Changes a price list if its version is still `expected_version`.
    pub async fn update_price_list(
        &self,
        scope: &TenantScope,
        owner: &str,
        id: &str,
        expected_version: i64,
        changes: &PriceListChanges,
        audit: &NewAuditEntry,
    ) -> Result<PriceList, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound {
                entity: "price list",
            });
        }
        scoped!(self, scope, write, |conn, d| {
            let before = live_price_list!(conn, owner, id);
            check_list_version(&before, expected_version)?;
            let mut after = before.clone();
            if let Some(v) = &changes.name {
                after.info.name = v.trim().to_owned();
            }
            if let Some(v) = changes.region {
                after.info.region = v;
            }
            if let Some(v) = &changes.currency {
                after.info.currency = v.clone();
            }
            if let Some(v) = changes.priority {
                after.info.priority = v;
            }
            if let Some(v) = changes.valid_from {
                after.info.valid_from = v;
            }
            if let Some(v) = changes.valid_to {
                after.info.valid_to = v;
            }
            after.version += 1;
            validate(&after)?;
            if after.info.currency != before.info.currency {
                // Its prices are amounts in the old currency.
                let priced: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM prices WHERE tenant_id = $1 AND price_list_id = $2",
                )
                .bind(owner)
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
                if priced > 0 {
                    return Err(invalid(
                        "currency",
                        "cannot change while the list has prices",
                    ));
                }
            }
            bind_fields!(
                sqlx::query(
                    "UPDATE price_lists SET name = $1, region = $2, currency = $3, priority = $4, valid_from = $5, \
                     valid_to = $6, version = $7, updated_at = $8 WHERE id = $9 AND tenant_id = $10 AND version = $11",
                ),
                &after.info,
            )
            .bind(after.version)
            .bind(Utc::now())
            .bind(id)
            .bind(owner)
            .bind(expected_version)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("price_list.updated", format!("price_list:{id}"));
            entry.before_state = Some(
                serde_json::json!({ "name": before.info.name, "priority": before.info.priority })
                    .to_string(),
            );
            entry.after_state = Some(
                serde_json::json!({ "name": after.info.name, "priority": after.info.priority })
                    .to_string(),
            );
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::PriceList,
                serde_json::json!({ "price_list": id })
            );
            Ok(after)
        })
    }

    /// Replaces a listing's tiers in a price list (`tiers` may be empty: no price there). Tiers
    /// are (minimum quantity, decimal amount) and are parsed in the list's currency;
    /// `currency`, when given, must be the list's.
    #[expect(clippy::too_many_arguments, reason = "one price change and its audit")]
    pub async fn set_prices(
        &self,
        scope: &TenantScope,
        owner: &str,
        price_list_id: &str,
        expected_version: i64,
        listing_id: &str,
        currency: Option<&str>,
        tiers: &[(i64, String)],
        audit: &NewAuditEntry,
    ) -> Result<PriceList, StoreError> {
        if !scope.contains(owner) {
            return Err(StoreError::NotFound {
                entity: "price list",
            });
        }
        scoped!(self, scope, write, |conn, d| {
            let mut list = live_price_list!(conn, owner, price_list_id);
            if let Some(currency) = currency
                && currency != list.info.currency
            {
                return Err(invalid(
                    "currency",
                    format!("must be the list's currency, {}", list.info.currency),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            let mut parsed = Vec::with_capacity(tiers.len());
            for (q, amount) in tiers {
                let m = Money::parse(amount, &list.info.currency)
                    .map_err(|e| invalid("tiers", e.message))?;
                if *q < 1 {
                    return Err(invalid("tiers", "every minQuantity must be at least 1"));
                }
                if !seen.insert(*q) {
                    return Err(invalid("tiers", format!("minQuantity {q} appears twice")));
                }
                parsed.push((*q, m));
            }
            check_list_version(&list, expected_version)?;
            if live_listing_version!(conn, owner, listing_id).is_none() {
                return Err(StoreError::NotFound { entity: "product" });
            }
            sqlx::query("DELETE FROM prices WHERE tenant_id = $1 AND price_list_id = $2 AND listing_id = $3")
                .bind(owner)
                .bind(price_list_id)
                .bind(listing_id)
                .execute(&mut *conn)
                .await?;
            for (q, m) in &parsed {
                sqlx::query("INSERT INTO prices (tenant_id, price_list_id, listing_id, min_quantity, amount) VALUES ($1, $2, $3, $4, $5)")
                    .bind(owner)
                    .bind(price_list_id)
                    .bind(listing_id)
                    .bind(q)
                    .bind(m.amount_minor)
                    .execute(&mut *conn)
                    .await
                    .map_err(StoreError::from_db)?;
            }
            sqlx::query("UPDATE price_lists SET version = version + 1, updated_at = $1 WHERE id = $2 AND tenant_id = $3")
                .bind(Utc::now())
                .bind(price_list_id)
                .bind(owner)
                .execute(&mut *conn)
                .await?;
            list.version += 1;
            let mut entry = audit.of(
                "prices.set",
                format!("price_list:{price_list_id}/{listing_id}"),
            );
            entry.after_state = Some(
                serde_json::json!(
                    parsed
                        .iter()
                        .map(|(q, m)| serde_json::json!({ "min": q, "amount": m.decimal() }))
                        .collect::<Vec<_>>()
                )
                .to_string(),
            );
            record_change!(
                conn,
                d,
                owner,
                &entry,
                Topic::PriceList,
                serde_json::json!({ "price_list": price_list_id, "listing": listing_id })
            );
            Ok(list)
        })
    }
}
