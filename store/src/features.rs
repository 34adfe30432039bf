//! A tenant's feature flags: turning one on or off, audited, with its outbox message.

use chrono::Utc;

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

impl Store {
    /// Turns a feature flag on or off, with its audit row and outbox message in the same
    /// transaction. A tenant outside the scope is NotFound, whatever exists.
    pub async fn set_feature_flag(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
        key: &str,
        enabled: bool,
        audit: &NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        if !scope.contains(tenant_id) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        if key.is_empty()
            || key.len() > 64
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
        {
            return Err(StoreError::Invalid {
                field: "key",
                message: "must be 1 to 64 lower-case letters, '_' or '-'".into(),
            });
        }
        scoped!(self, scope, write, |conn, d| {
            let before: Option<bool> = sqlx::query_scalar(
                "SELECT enabled FROM feature_flags WHERE tenant_id = $1 AND key = $2",
            )
            .bind(tenant_id)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO feature_flags (tenant_id, key, enabled, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, key) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(key)
            .bind(enabled)
            .bind(Utc::now())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("feature_flag.set", format!("feature_flag:{key}"));
            entry.before_state = before.map(|b| serde_json::json!({ "enabled": b }).to_string());
            entry.after_state = Some(serde_json::json!({ "enabled": enabled }).to_string());
            let row = record_change!(
                conn,
                d,
                tenant_id,
                &entry,
                Topic::FeatureFlag,
                serde_json::json!({ "key": key })
            );
            Ok(row)
        })
    }
}
