//! The audit chain: one hash-linked row per change, appended inside the write transaction of
//! the change (`append_audit!`), read back a page at a time (`audit_page`: the `auditLog`
//! query, `portico audit export`) and verified (`verify_audit_chain`: `portico audit verify`).
//! Each tenant has its own chain; appenders of one tenant wait for each other, never for
//! another tenant's.

use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::catalog::{Bind, bind_all};
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

/// `at` as the hash covers it (and `portico audit export` prints it): RFC 3339 in UTC with
/// exactly six fraction digits and `Z`, e.g. `2026-03-01T09:30:00.250000Z`.
pub fn audit_time(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The chain hash of one entry: over every recorded field and the previous hash
/// (`docs/AUDIT.md` spells it out for verifiers outside Portico).
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
        audit_time(&e.at),
        e.prev_hash,
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Outcome of `verify_audit_chain`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// Every row of the chain, the broken ones included.
    pub rows: usize,
    /// The sequence number of the first row whose hash or link does not hold.
    pub first_broken: Option<i64>,
    /// What is wrong with that row.
    pub problem: Option<ChainProblem>,
}

/// Why a row breaks its chain, in the order the verifier checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// The row's sequence number is not the one after the previous row's (rows were removed
    /// before it, or the chain does not start at 1).
    SeqGap { expected: i64 },
    /// The row's `prev_hash` is not the previous row's `hash` (nor the genesis value for the
    /// first row): a row before it was changed and re-hashed, or removed.
    BrokenLink,
    /// The row's fields do not hash to its recorded `hash`: the row was changed.
    HashMismatch,
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::SeqGap { expected } => {
                write!(f, "sequence gap (expected seq {expected}: rows are missing)")
            }
            ChainProblem::BrokenLink => f.write_str(
                "prev_hash link broken (it is not the previous row's hash: a row before it was changed or removed)",
            ),
            ChainProblem::HashMismatch => {
                f.write_str("hash mismatch (the row's fields do not hash to its recorded hash)")
            }
        }
    }
}

/// The order of an audit page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditOrder {
    /// Highest `seq` first: what a reader of the log wants.
    #[default]
    NewestFirst,
    /// From `seq` 1 on: how the chain is verified and exported.
    OldestFirst,
}

/// One page of one tenant's audit chain: its filters (all optional, all must hold), its order
/// and its keyset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub tenant_id: TenantId,
    /// The recorded actor, exactly.
    pub actor: Option<String>,
    /// The action, exactly (`delegation.requested`).
    pub action: Option<String>,
    /// The target, exactly (`delegation:<id>`).
    pub target: Option<String>,
    /// Rows at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Rows before this time.
    pub until: Option<DateTime<Utc>>,
    pub order: AuditOrder,
    /// Keyset: only rows past this `seq` in `order`.
    pub after_seq: Option<i64>,
    /// At most this many rows (capped at `AUDIT_PAGE_MAX`).
    pub limit: i64,
}

/// The most rows one audit page reads.
pub const AUDIT_PAGE_MAX: i64 = 1000;

/// Set only by `set_audit_for_benchmarks(false)`: every `append_audit!` skips its append.
static AUDIT_OFF: AtomicBool = AtomicBool::new(false);

/// Benchmarks only; the server never calls it. `false` makes every audit append of this process
/// a no-op (no tenant row lock, no read of the chain's last row, no insert), so a benchmark can
/// measure a write's cost with and without its audit row (`bench/src/bin/admin.rs`); the outbox
/// message is still written. `true` (the default) restores it. A process switch rather than a
/// cargo feature, which `cargo test --workspace` would unify into every test. The chains of the
/// tenants written meanwhile stay intact but are missing those changes.
#[doc(hidden)]
pub fn set_audit_for_benchmarks(on: bool) {
    AUDIT_OFF.store(!on, Ordering::SeqCst);
}

/// Whether audit appends happen (always, outside a benchmark that switched them off).
pub(crate) fn audit_on() -> bool {
    !AUDIT_OFF.load(Ordering::Relaxed)
}

/// The entry as it will be written, before its place in the chain (`seq`, `prev_hash`, `hash`)
/// is known; as it stays when audit is switched off for a benchmark: `seq` 0, no hashes. `at`
/// has microseconds, what PostgreSQL keeps, so the hash survives the round trip.
pub(crate) fn unwritten(tenant: &str, entry: &NewAuditEntry) -> AuditEntry {
    AuditEntry {
        tenant_id: tenant.to_owned(),
        seq: 0,
        actor: entry.actor.clone(),
        actor_tenant: entry.actor_tenant.clone(),
        action: entry.action.clone(),
        target: entry.target.clone(),
        before_state: entry.before_state.clone(),
        after_state: entry.after_state.clone(),
        reason: entry.reason.clone(),
        at: chrono::SubsecRound::trunc_subsecs(Utc::now(), 6),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Appends one audit row inside the caller's write transaction (both backends). Evaluates to
/// the row written (unless a benchmark switched audit off: `set_audit_for_benchmarks`).
macro_rules! append_audit {
    ($conn:ident, $d:ident, $tenant:expr, $entry:expr) => {{
        let tenant: &str = $tenant;
        let entry: &crate::model::NewAuditEntry = $entry;
        if !crate::audit::audit_on() {
            crate::audit::unwritten(tenant, entry)
        } else {
            if $d == crate::db::Dialect::Postgres {
                // Serializes appenders of one tenant so the chain never forks, and only them: the
                // lock is the tenant's own row, held to COMMIT. (An advisory lock on
                // `hashtext(tenant)` keyed 4 billion tenants' chains into 32 bits, so two tenants
                // could share one, and with it the demo seed's key.) `FOR NO KEY UPDATE` does not
                // conflict with the `FOR KEY SHARE` that foreign-key checks take on the row, so
                // writes of the tenant's other rows never wait for it. SQLite has one writer
                // anyway (`db::Pools`). A transaction that appends to two chains (a reseller acting
                // in its customer: `record_delegated_change!`, `assign_delegation`) appends to the
                // customer's first and the reseller's second, always: one order, so two such
                // transactions cannot wait for each other in a cycle.
                // No row: the tenant is outside the transaction's scope (row-level security), so
                // the chain may not grow there.
                let locked: Option<i32> =
                    sqlx::query_scalar("SELECT 1 FROM tenants WHERE id = $1 FOR NO KEY UPDATE")
                        .bind(tenant)
                        .fetch_optional(&mut *$conn)
                        .await?;
                if locked.is_none() {
                    return Err(crate::StoreError::NotFound { entity: "tenant" }.into());
                }
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
                seq,
                prev_hash,
                ..crate::audit::unwritten(tenant, entry)
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
        }
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

    /// One page of a tenant's audit chain: one statement, walking the `(tenant_id, seq)`
    /// index from the keyset on. A tenant outside the scope has no rows.
    pub async fn audit_page(
        &self,
        scope: &TenantScope,
        query: &AuditQuery,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        if !scope.contains(&query.tenant_id) || query.limit <= 0 {
            return Ok(Vec::new());
        }
        scoped!(self, scope, read, |conn, d| {
            // $1 the tenant, $2 the scope (in SQL as well as in row-level security), then the
            // filters in order.
            let mut binds: Vec<Bind> = Vec::new();
            let mut next = |b: Bind| {
                binds.push(b);
                binds.len() + 2
            };
            let mut predicates = vec!["tenant_id = $1".to_owned(), d.in_json("tenant_id", 2)];
            for (column, value) in [
                ("actor", &query.actor),
                ("action", &query.action),
                ("target", &query.target),
            ] {
                if let Some(value) = value {
                    let n = next(Bind::Text(value.clone()));
                    predicates.push(format!("{column} = ${n}"));
                }
            }
            // Whole microseconds, as the rows are kept, so both backends draw the line in the
            // same place. On SQLite `at` is RFC 3339 text in UTC as sqlx writes it (0, 3 or 6
            // fraction digits, then `+00:00`); such texts sort in time order, since `+` sorts
            // before `.` and the digits.
            let micros = |t: DateTime<Utc>| chrono::SubsecRound::trunc_subsecs(t, 6);
            if let Some(since) = query.since {
                let n = next(Bind::Time(micros(since)));
                predicates.push(format!("at >= ${n}"));
            }
            if let Some(until) = query.until {
                let n = next(Bind::Time(micros(until)));
                predicates.push(format!("at < ${n}"));
            }
            let (keyset, direction) = match query.order {
                AuditOrder::NewestFirst => ("<", "DESC"),
                AuditOrder::OldestFirst => (">", "ASC"),
            };
            if let Some(after) = query.after_seq {
                let n = next(Bind::Int(after));
                predicates.push(format!("seq {keyset} ${n}"));
            }
            let limit = next(Bind::Int(query.limit.min(AUDIT_PAGE_MAX)));
            let sql = format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {} ORDER BY seq {direction} LIMIT ${limit}",
                predicates.join(" AND ")
            );
            let rows: Vec<AuditRow> = bind_all!(
                sqlx::query_as(&sql)
                    .bind(&query.tenant_id)
                    .bind(scope.json()),
                &binds
            )
            .fetch_all(&mut *conn)
            .await?;
            Ok(rows.into_iter().map(AuditEntry::from).collect())
        })
    }

    /// Recomputes a tenant's audit chain from `seq` 1 on, a page at a time: every row's hash,
    /// its link to the row before and the sequence without gaps. The report names the first
    /// row that does not hold and counts every row.
    pub async fn verify_audit_chain(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
    ) -> Result<ChainReport, StoreError> {
        let mut report = ChainReport {
            rows: 0,
            first_broken: None,
            problem: None,
        };
        let mut prev: Option<AuditEntry> = None;
        loop {
            let page = self
                .audit_page(
                    scope,
                    &AuditQuery {
                        tenant_id: tenant_id.to_owned(),
                        order: AuditOrder::OldestFirst,
                        after_seq: prev.as_ref().map(|p| p.seq),
                        limit: AUDIT_PAGE_MAX,
                        ..AuditQuery::default()
                    },
                )
                .await?;
            let full = page.len() as i64 == AUDIT_PAGE_MAX;
            for row in page {
                report.rows += 1;
                if report.problem.is_none()
                    && let Some(problem) = chain_problem(prev.as_ref(), &row)
                {
                    report.first_broken = Some(row.seq);
                    report.problem = Some(problem);
                }
                prev = Some(row);
            }
            if !full {
                return Ok(report);
            }
        }
    }
}

/// What is wrong with `row` as the successor of `prev` (`None`: the first row), if anything.
pub fn chain_problem(prev: Option<&AuditEntry>, row: &AuditEntry) -> Option<ChainProblem> {
    let expected = prev.map_or(1, |p| p.seq + 1);
    let prev_hash = prev.map_or(AUDIT_GENESIS, |p| p.hash.as_str());
    if row.seq != expected {
        Some(ChainProblem::SeqGap { expected })
    } else if row.prev_hash != prev_hash {
        Some(ChainProblem::BrokenLink)
    } else if audit_hash(row) != row.hash {
        Some(ChainProblem::HashMismatch)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use crate::model::NewAuditEntry;
    use crate::seed::demo_id;
    use crate::{Store, StoreOptions, TenantScope};

    /// Audit is on unless a benchmark switched it off: an audited write leaves its row. (No test
    /// switches it off: the switch is process-wide and tests share the process.)
    #[tokio::test]
    async fn an_audited_write_leaves_its_row_by_default() {
        assert!(super::audit_on());
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("portico.db").display());
        let store = Store::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store.seed_demo().await.unwrap();
        let id = demo_id("tenant", "northwind");
        let scope = TenantScope::single(id.clone());
        let before = store.audit_entries(&scope, &id).await.unwrap().len();
        let actor = NewAuditEntry {
            actor: demo_id("user", "admin@northwind.test"),
            actor_tenant: id.clone(),
            ..NewAuditEntry::default()
        };
        let row = store
            .set_feature_flag(&scope, &id, "audit_default", true, &actor)
            .await
            .unwrap();
        let after = store.audit_entries(&scope, &id).await.unwrap();
        assert_eq!(after.len(), before + 1);
        assert_eq!(
            after.last().map(|e| (e.seq, &e.hash)),
            Some((row.seq, &row.hash))
        );
        assert!(row.seq > 0 && !row.hash.is_empty());
        store.close().await;
    }
}
