//! Delegations of admin scopes: a reseller asks, the customer approves, either side revokes. Each
//! change writes its audit row and outbox message in the same transaction; a state that does not
//! allow the change is a user error naming `id`.

use chrono::{DateTime, Duration, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// The longest a delegation may run.
pub const MAX_DELEGATION_DAYS: i64 = 2 * 365;

/// A change of a delegation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelegationChange {
    Approve,
    Revoke,
}

const SELECT: &str = "SELECT id, tenant_id, reseller_id, scopes, status, requested_at, approved_at, \
                      expires_at, revoked_at FROM delegations";

impl Store {
    /// A reseller asks its customer for scopes; the delegation waits for the customer's approval.
    pub async fn request_delegation(
        &self,
        scope: &TenantScope,
        customer_id: &str,
        reseller_id: &str,
        scopes: &[DelegatedScope],
        expires_at: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> Result<Delegation, StoreError> {
        if !scope.contains(customer_id) || !scope.contains(reseller_id) {
            return Err(StoreError::NotFound { entity: "customer" });
        }
        if scopes.is_empty() {
            return Err(StoreError::Invalid {
                field: "scopes",
                message: "name at least one scope".into(),
            });
        }
        let now = Utc::now();
        if expires_at <= now || expires_at > now + Duration::days(MAX_DELEGATION_DAYS) {
            return Err(StoreError::Invalid {
                field: "expiresAt",
                message: format!(
                    "must be in the future and at most {MAX_DELEGATION_DAYS} days away"
                ),
            });
        }
        let mut scopes = scopes.to_vec();
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        let id = uuid::Uuid::new_v4().to_string();
        scoped!(self, scope, write, |conn, d| {
            sqlx::query(
                "INSERT INTO delegations (id, tenant_id, reseller_id, scopes, status, requested_at, expires_at) \
                 VALUES ($1, $2, $3, $4, 'PENDING', $5, $6)",
            )
            .bind(&id)
            .bind(customer_id)
            .bind(reseller_id)
            .bind(join_list(&scopes))
            .bind(now)
            .bind(expires_at)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("delegation.requested", format!("delegation:{id}"));
            entry.after_state = Some(
                serde_json::json!({ "reseller": reseller_id, "scopes": join_list(&scopes), "status": "PENDING" })
                    .to_string(),
            );
            record_change!(
                conn,
                d,
                customer_id,
                &entry,
                Topic::Delegation,
                serde_json::json!({ "delegation": id })
            );
            let row: DelegationRow = sqlx::query_as(&format!("{SELECT} WHERE id = $1"))
                .bind(&id)
                .fetch_one(&mut *conn)
                .await?;
            Delegation::try_from(row)
        })
    }

    /// Approves a pending delegation or revokes a pending or active one.
    pub async fn change_delegation(
        &self,
        scope: &TenantScope,
        delegation_id: &str,
        change: DelegationChange,
        audit: &NewAuditEntry,
    ) -> Result<Delegation, StoreError> {
        scoped!(self, scope, write, |conn, d| {
            let sql = format!(
                "{SELECT} WHERE id = $1 AND ({} OR {})",
                d.in_json("tenant_id", 2),
                d.in_json("reseller_id", 2)
            );
            let row: Option<DelegationRow> = sqlx::query_as(&sql)
                .bind(delegation_id)
                .bind(scope.json())
                .fetch_optional(&mut *conn)
                .await?;
            let Some(before) = row.map(Delegation::try_from).transpose()? else {
                return Err(StoreError::NotFound {
                    entity: "delegation",
                });
            };
            let now = Utc::now();
            let (status, action) = match change {
                DelegationChange::Approve if before.status != DelegationStatus::Pending => {
                    return Err(StoreError::Invalid {
                        field: "id",
                        message: format!(
                            "only a pending delegation can be approved; this one is {}",
                            before.status
                        ),
                    });
                }
                DelegationChange::Approve if before.expires_at <= now => {
                    return Err(StoreError::Invalid {
                        field: "id",
                        message: "the delegation expired before it was approved".into(),
                    });
                }
                DelegationChange::Approve => (DelegationStatus::Active, "delegation.approved"),
                DelegationChange::Revoke
                    if !matches!(
                        before.status,
                        DelegationStatus::Pending | DelegationStatus::Active
                    ) =>
                {
                    return Err(StoreError::Invalid {
                        field: "id",
                        message: format!(
                            "only a pending or active delegation can be revoked; this one is {}",
                            before.status
                        ),
                    });
                }
                DelegationChange::Revoke => (DelegationStatus::Revoked, "delegation.revoked"),
            };
            let (approved_at, revoked_at) = match change {
                DelegationChange::Approve => (Some(now), before.revoked_at),
                DelegationChange::Revoke => (before.approved_at, Some(now)),
            };
            sqlx::query(
                "UPDATE delegations SET status = $1, approved_at = $2, revoked_at = $3 WHERE id = $4",
            )
            .bind(status.as_str())
            .bind(approved_at)
            .bind(revoked_at)
            .bind(delegation_id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of(action, format!("delegation:{delegation_id}"));
            entry.before_state =
                Some(serde_json::json!({ "status": before.status.as_str() }).to_string());
            entry.after_state = Some(serde_json::json!({ "status": status.as_str() }).to_string());
            record_change!(
                conn,
                d,
                &before.customer_id,
                &entry,
                Topic::Delegation,
                serde_json::json!({ "delegation": delegation_id })
            );
            Ok(Delegation {
                status,
                approved_at,
                revoked_at,
                ..before
            })
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DelegationRow {
    id: String,
    tenant_id: String,
    reseller_id: String,
    scopes: String,
    status: String,
    requested_at: DateTime<Utc>,
    approved_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<DelegationRow> for Delegation {
    type Error = StoreError;
    fn try_from(r: DelegationRow) -> Result<Self, StoreError> {
        Ok(Delegation {
            id: r.id,
            customer_id: r.tenant_id,
            reseller_id: r.reseller_id,
            scopes: parse_list(&r.scopes)?,
            status: r.status.parse()?,
            requested_at: r.requested_at,
            approved_at: r.approved_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

impl Store {
    /// Delegations given or held by a tenant in scope.
    pub async fn delegations(&self, scope: &TenantScope) -> Result<Vec<Delegation>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT id, tenant_id, reseller_id, scopes, status, requested_at, approved_at, \
                 expires_at, revoked_at FROM delegations WHERE {} OR {} ORDER BY requested_at, id",
                d.in_json("tenant_id", 1),
                d.in_json("reseller_id", 1)
            );
            let rows: Vec<DelegationRow> = sqlx::query_as(&sql)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter().map(Delegation::try_from).collect()
        })
    }
}
