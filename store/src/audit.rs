//! The audit chain: one hash-linked row per change, appended inside the write transaction of
//! the change (`append_audit!`), read back and verified.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::db::scoped;
use crate::model::*;
use crate::{Store, StoreError, TenantScope};

pub(crate) const AUDIT_COLUMNS: &str = "tenant_id, seq, actor, actor_tenant, action, target, before_state, \
     after_state, reason, at, prev_hash, hash";

#[derive(sqlx::FromRow)]
struct AuditRow {
    tenant_id: String,
    seq: i64,
    actor: String,
    actor_tenant: String,
    action: String,
    target: String,
    before_state: Option<String>,
    after_state: Option<String>,
    reason: Option<String>,
    at: DateTime<Utc>,
    prev_hash: String,
    hash: String,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            tenant_id: r.tenant_id,
            seq: r.seq,
            actor: r.actor,
            actor_tenant: r.actor_tenant,
            action: r.action,
            target: r.target,
            before_state: r.before_state,
            after_state: r.after_state,
            reason: r.reason,
            at: r.at,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The hash of the first row of a tenant's chain points to this.
pub const AUDIT_GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain hash of one entry: over every recorded field and the previous hash.
pub fn audit_hash(e: &AuditEntry) -> String {
    let canonical = serde_json::json!([
        e.tenant_id,
        e.seq,
        e.actor,
        e.actor_tenant,
        e.action,
        e.target,
        e.before_state,
        e.after_state,
        e.reason,
        e.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        e.prev_hash,
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Outcome of `verify_audit_chain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub rows: usize,
    /// The sequence number of the first row whose hash or link does not hold.
    pub first_broken: Option<i64>,
}

/// Appends one audit row inside the caller's write transaction (both backends).
macro_rules! append_audit {
    ($conn:ident, $d:ident, $tenant:expr, $entry:expr) => {{
        let tenant: &str = $tenant;
        let entry: &crate::model::NewAuditEntry = $entry;
        if $d == crate::db::Dialect::Postgres {
            // Serializes appenders of one tenant so the chain never forks.
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(tenant)
                .execute(&mut *$conn)
                .await?;
        }
        let last: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(tenant)
        .fetch_optional(&mut *$conn)
        .await?;
        let (seq, prev_hash) = match last {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, crate::audit::AUDIT_GENESIS.to_owned()),
        };
        let mut row = crate::model::AuditEntry {
            tenant_id: tenant.to_owned(),
            seq,
            actor: entry.actor.clone(),
            actor_tenant: entry.actor_tenant.clone(),
            action: entry.action.clone(),
            target: entry.target.clone(),
            before_state: entry.before_state.clone(),
            after_state: entry.after_state.clone(),
            reason: entry.reason.clone(),
            // Microseconds: what PostgreSQL keeps, so the hash survives the round trip.
            at: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6),
            prev_hash,
            hash: String::new(),
        };
        row.hash = crate::audit::audit_hash(&row);
        sqlx::query(&format!(
            "INSERT INTO audit_log ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            crate::audit::AUDIT_COLUMNS
        ))
        .bind(&row.tenant_id)
        .bind(row.seq)
        .bind(&row.actor)
        .bind(&row.actor_tenant)
        .bind(&row.action)
        .bind(&row.target)
        .bind(&row.before_state)
        .bind(&row.after_state)
        .bind(&row.reason)
        .bind(row.at)
        .bind(&row.prev_hash)
        .bind(&row.hash)
        .execute(&mut *$conn)
        .await
        .map_err(crate::StoreError::from_db)?;
        row
    }};
}
pub(crate) use append_audit;

impl Store {
    /// A tenant's audit rows in order.
    pub async fn audit_entries(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if !scope.contains(tenant_id) {
            return Ok(Vec::new());
        }
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE tenant_id = $1 AND {} ORDER BY seq",
                d.in_json("tenant_id", 2)
            );
            let rows: Vec<AuditRow> = sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows.into_iter().map(AuditEntry::from).collect())
        })
    }

    /// Recomputes a tenant's audit chain.
    pub async fn verify_audit_chain(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
    ) -> Result<ChainReport, StoreError> {
        let rows = self.audit_entries(scope, tenant_id).await?;
        let mut prev = AUDIT_GENESIS.to_owned();
        for (i, row) in rows.iter().enumerate() {
            let expected_seq = i64::try_from(i).unwrap_or(i64::MAX) + 1;
            if row.seq != expected_seq || row.prev_hash != prev || audit_hash(row) != row.hash {
                return Ok(ChainReport {
                    rows: rows.len(),
                    first_broken: Some(row.seq),
                });
            }
            prev = row.hash.clone();
        }
        Ok(ChainReport {
            rows: rows.len(),
            first_broken: None,
        })
    }
}
