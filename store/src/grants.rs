//! Delegated-admin grants: a reseller asks, the customer approves, either side revokes. Each
//! change writes its audit row and outbox message in the same transaction; a state that does not
//! allow the change is a user error naming `id`.

use chrono::{DateTime, Duration, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::repo::DelegationRow;
use crate::{Store, StoreError, TenantScope};

/// The longest a grant may run.
pub const MAX_GRANT_DAYS: i64 = 2 * 365;

/// A grant change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantChange {
    Approve,
    Revoke,
}

const SELECT: &str = "SELECT id, tenant_id, reseller_id, scopes, status, requested_at, approved_at, \
                      expires_at, revoked_at FROM delegations";

impl Store {
    /// A reseller asks its customer for scopes; the grant waits for the customer's approval.
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
        if expires_at <= now || expires_at > now + Duration::days(MAX_GRANT_DAYS) {
            return Err(StoreError::Invalid {
                field: "expiresAt",
                message: format!("must be in the future and at most {MAX_GRANT_DAYS} days away"),
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

    /// Approves a pending grant or revokes a pending or active one.
    pub async fn change_delegation(
        &self,
        scope: &TenantScope,
        delegation_id: &str,
        change: GrantChange,
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
                GrantChange::Approve if before.status != DelegationStatus::Pending => {
                    return Err(StoreError::Invalid {
                        field: "id",
                        message: format!(
                            "only a pending grant can be approved; this one is {}",
                            before.status
                        ),
                    });
                }
                GrantChange::Approve if before.expires_at <= now => {
                    return Err(StoreError::Invalid {
                        field: "id",
                        message: "the grant expired before it was approved".into(),
                    });
                }
                GrantChange::Approve => (DelegationStatus::Active, "delegation.approved"),
                GrantChange::Revoke
                    if !matches!(
                        before.status,
                        DelegationStatus::Pending | DelegationStatus::Active
                    ) =>
                {
                    return Err(StoreError::Invalid {
                        field: "id",
                        message: format!(
                            "only a pending or active grant can be revoked; this one is {}",
                            before.status
                        ),
                    });
                }
                GrantChange::Revoke => (DelegationStatus::Revoked, "delegation.revoked"),
            };
            let (approved_at, revoked_at) = match change {
                GrantChange::Approve => (Some(now), before.revoked_at),
                GrantChange::Revoke => (before.approved_at, Some(now)),
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
