//! Delegations of admin scopes, modelled on granular delegated admin privileges: a reseller asks
//! for scopes, for a duration, with a message; the customer approves or declines; either side
//! revokes; an approved delegation ends on time (or is extended by 180 days when it asks to be),
//! and a request nobody answered lapses after 90 days. The reseller assigns a delegation to
//! named staff, and only they use its scopes. Each change writes its audit row and outbox
//! message in the same transaction (assignments also in the reseller's chain); a state that does
//! not allow the change is a user error naming `id`. Each transition is a conditional UPDATE on
//! the state it was read in, so of two changes racing on one delegation exactly one wins.

use chrono::{DateTime, Duration, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// A reseller acting in its customer under a delegation: the change is audited in the
/// customer's chain and mirrored into the reseller's, naming the delegation and the scope
/// (`record_delegated_change!`).
#[derive(Debug, Clone)]
pub struct DelegatedUse {
    pub reseller_id: TenantId,
    pub delegation_id: String,
    pub scope: DelegatedScope,
}

/// The longest a delegation may run.
pub const MAX_DELEGATION_DAYS: i64 = 2 * 365;
/// A request nobody approved or declined within this many days lapses.
pub const LAPSE_DAYS: i64 = 90;
/// How far an auto-extending delegation is extended at its end.
pub const EXTEND_DAYS: i64 = 180;

/// A change of a delegation's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelegationChange {
    Approve,
    Decline,
    Revoke,
}

/// What a reseller asks its customer for.
#[derive(Debug, Clone)]
pub struct DelegationRequest {
    pub scopes: Vec<DelegatedScope>,
    /// 1 to `MAX_DELEGATION_DAYS`, counted from the approval.
    pub duration_days: i64,
    pub message: Option<String>,
    pub auto_extend: bool,
}

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

const SELECT: &str = "SELECT d.id, d.tenant_id, d.reseller_id, d.scopes, d.status, d.requested_at, \
                      d.approved_at, d.expires_at, d.revoked_at, d.message, d.duration_days, \
                      d.auto_extend, d.ended_at, d.ended_by";

/// The delegations matching `where` (over `delegations d`), each with its assignees: one
/// statement.
macro_rules! select_delegations {
    ($conn:ident, $d:ident, $where:expr, $($bind:expr),*) => {{
        let sql = format!(
            "{SELECT}, (SELECT {} FROM delegation_assignments a WHERE a.delegation_id = d.id) AS assignees \
             FROM delegations d WHERE {} ORDER BY d.requested_at, d.id",
            $d.json_rows("a.user_id"),
            $where
        );
        let rows: Vec<DelegationRow> = sqlx::query_as(&sql)
            $(.bind($bind))*
            .fetch_all(&mut *$conn)
            .await?;
        rows.into_iter()
            .map(Delegation::try_from)
            .collect::<Result<Vec<_>, StoreError>>()?
    }};
}

/// Moves a delegation from the state it was read in to `after` (with `set`, more assignments
/// from `$4` on): `false` when another change got there first.
macro_rules! transition {
    ($conn:ident, $before:expr, $after:expr, $set:literal, $($bind:expr),*) => {{
        let done = sqlx::query(concat!(
            "UPDATE delegations SET status = $1, ",
            $set,
            " WHERE id = $2 AND status = $3"
        ))
        .bind($after.as_str())
        .bind(&$before.id)
        .bind($before.status.as_str())
        $(.bind($bind))*
        .execute(&mut *$conn)
        .await
        .map_err(StoreError::from_db)?;
        done.rows_affected() == 1
    }};
}

/// Audits a delegation's change in the customer's chain, with its outbox message.
macro_rules! record_delegation {
    ($conn:ident, $d:ident, $delegation:expr, $entry:expr) => {{
        let delegation: &Delegation = $delegation;
        record_change!(
            $conn,
            $d,
            &delegation.customer_id,
            $entry,
            Topic::Delegation,
            serde_json::json!({ "delegation": delegation.id })
        )
    }};
}

fn state(d: &Delegation) -> serde_json::Value {
    serde_json::json!({
        "status": d.status.as_str(),
        "scopes": join_list(&d.scopes),
        "expires_at": d.expires_at.to_rfc3339(),
    })
}

fn changed_meanwhile() -> StoreError {
    invalid(
        "id",
        "the delegation changed while this change was made; read it again",
    )
}

/// Inside a delegated write's own transaction, before its audit rows: the delegation it acts
/// under is still active and unexpired, holds the scope and is assigned to the actor. The
/// resolver checked the same when the request began; this closes the window in between. On
/// PostgreSQL the delegation's row is read `FOR SHARE`: a revocation racing the write either
/// waits for it to commit (and is audited after it) or has committed and is seen here, so no
/// delegated write lands after the end. SQLite has one writer: the read sees the last commit.
macro_rules! check_in_force {
    ($conn:ident, $d:ident, $tenant:expr, $used:expr, $actor:expr) => {{
        let used: &crate::delegations::DelegatedUse = $used;
        let lock = if $d == crate::db::Dialect::Postgres {
            " FOR SHARE OF d"
        } else {
            ""
        };
        let sql = format!(
            "SELECT d.scopes FROM delegations d WHERE d.id = $1 AND d.tenant_id = $2 \
             AND d.reseller_id = $3 AND d.status = 'ACTIVE' AND d.expires_at > $4 \
             AND EXISTS (SELECT 1 FROM delegation_assignments a \
                         WHERE a.delegation_id = d.id AND a.user_id = $5){lock}"
        );
        let scopes: Option<String> = sqlx::query_scalar(&sql)
            .bind(&used.delegation_id)
            .bind($tenant)
            .bind(&used.reseller_id)
            .bind(chrono::Utc::now())
            .bind($actor)
            .fetch_optional(&mut *$conn)
            .await?;
        let in_force =
            scopes.is_some_and(|scopes| scopes.split(',').any(|s| s.trim() == used.scope.as_str()));
        if !in_force {
            return Err(crate::StoreError::DelegationEnded.into());
        }
    }};
}
pub(crate) use check_in_force;

impl Store {
    /// A reseller asks its customer for scopes; the delegation waits for the customer's approval.
    pub async fn request_delegation(
        &self,
        scope: &TenantScope,
        customer_id: &str,
        reseller_id: &str,
        request: &DelegationRequest,
        audit: &NewAuditEntry,
        now: DateTime<Utc>,
    ) -> Result<Delegation, StoreError> {
        if !scope.contains(customer_id) || !scope.contains(reseller_id) {
            return Err(StoreError::NotFound { entity: "customer" });
        }
        if request.scopes.is_empty() {
            return Err(invalid("scopes", "name at least one scope"));
        }
        if !(1..=MAX_DELEGATION_DAYS).contains(&request.duration_days) {
            return Err(invalid(
                "durationDays",
                format!("must be 1 to {MAX_DELEGATION_DAYS} days"),
            ));
        }
        let message = request.message.as_deref().map(str::trim);
        if message.is_some_and(|m| m.chars().count() > 500) {
            return Err(invalid("message", "must be at most 500 characters"));
        }
        let mut scopes = request.scopes.clone();
        scopes.sort_by_key(|s| s.as_str());
        scopes.dedup();
        let id = uuid::Uuid::new_v4().to_string();
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        scoped!(self, scope, write, |conn, d| {
            sqlx::query(
                "INSERT INTO delegations (id, tenant_id, reseller_id, scopes, status, requested_at, expires_at, \
                 message, duration_days, auto_extend) VALUES ($1, $2, $3, $4, 'PENDING', $5, $6, $7, $8, $9)",
            )
            .bind(&id)
            .bind(customer_id)
            .bind(reseller_id)
            .bind(join_list(&scopes))
            .bind(now)
            .bind(now + Duration::days(request.duration_days))
            .bind(message.filter(|m| !m.is_empty()))
            .bind(request.duration_days)
            .bind(request.auto_extend)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let created = select_delegations!(conn, d, "d.id = $1", &id).pop().ok_or(
                StoreError::NotFound {
                    entity: "delegation",
                },
            )?;
            let mut entry = audit.of("delegation.requested", format!("delegation:{id}"));
            let mut after = state(&created);
            after["reseller"] = reseller_id.into();
            after["duration_days"] = request.duration_days.into();
            after["auto_extend"] = request.auto_extend.into();
            entry.after_state = Some(after.to_string());
            record_delegation!(conn, d, &created, &entry);
            Ok(created)
        })
    }

    /// Approves or declines a pending delegation, or revokes a pending or active one, as of
    /// `now`. `audit.actor` is recorded as the one who ended it.
    pub async fn change_delegation(
        &self,
        scope: &TenantScope,
        delegation_id: &str,
        change: DelegationChange,
        audit: &NewAuditEntry,
        now: DateTime<Utc>,
    ) -> Result<Delegation, StoreError> {
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        scoped!(self, scope, write, |conn, d| {
            let before = select_delegations!(
                conn,
                d,
                format!(
                    "d.id = $1 AND ({} OR {})",
                    d.in_json("d.tenant_id", 2),
                    d.in_json("d.reseller_id", 2)
                ),
                delegation_id,
                scope.json()
            )
            .pop()
            .ok_or(StoreError::NotFound {
                entity: "delegation",
            })?;
            let pending = before.status == DelegationStatus::Pending;
            let lapsed = pending && before.requested_at + Duration::days(LAPSE_DAYS) <= now;
            let ended = before.status == DelegationStatus::Active && before.expires_at <= now;
            let won = match change {
                DelegationChange::Approve | DelegationChange::Decline if !pending => {
                    return Err(invalid(
                        "id",
                        format!(
                            "only a pending delegation can be approved or declined; this one is {}",
                            before.status
                        ),
                    ));
                }
                DelegationChange::Approve | DelegationChange::Decline if lapsed => {
                    return Err(invalid(
                        "id",
                        format!("the request lapsed: nobody answered it within {LAPSE_DAYS} days"),
                    ));
                }
                DelegationChange::Revoke
                    if !pending && before.status != DelegationStatus::Active =>
                {
                    return Err(invalid(
                        "id",
                        format!(
                            "only a pending or active delegation can be revoked; this one is {}",
                            before.status
                        ),
                    ));
                }
                DelegationChange::Revoke if ended || lapsed => {
                    return Err(invalid("id", "the delegation already ended"));
                }
                DelegationChange::Approve => {
                    let days = before.duration_days.map(Duration::days);
                    let ends = days.map_or(before.expires_at, |days| now + days);
                    transition!(
                        conn,
                        before,
                        DelegationStatus::Active,
                        "approved_at = $4, expires_at = $5",
                        now,
                        ends
                    )
                }
                DelegationChange::Decline => transition!(
                    conn,
                    before,
                    DelegationStatus::Declined,
                    "ended_at = $4, ended_by = $5",
                    now,
                    &audit.actor
                ),
                DelegationChange::Revoke => transition!(
                    conn,
                    before,
                    DelegationStatus::Revoked,
                    "revoked_at = $4, ended_at = $4, ended_by = $5",
                    now,
                    &audit.actor
                ),
            };
            if !won {
                return Err(changed_meanwhile());
            }
            let after = select_delegations!(conn, d, "d.id = $1", delegation_id)
                .pop()
                .ok_or(StoreError::NotFound {
                    entity: "delegation",
                })?;
            let action = match change {
                DelegationChange::Approve => "delegation.approved",
                DelegationChange::Decline => "delegation.declined",
                DelegationChange::Revoke => "delegation.revoked",
            };
            let mut entry = audit.of(action, format!("delegation:{delegation_id}"));
            entry.before_state = Some(state(&before).to_string());
            entry.after_state = Some(state(&after).to_string());
            record_delegation!(conn, d, &after, &entry);
            Ok(after)
        })
    }

    /// Replaces the reseller staff a pending or active delegation is assigned to. `staff` must
    /// be live users of the reseller; audited in the customer's chain (every use of its
    /// delegation is the customer's to see) and the reseller's.
    pub async fn assign_delegation(
        &self,
        scope: &TenantScope,
        delegation_id: &str,
        staff: &[String],
        audit: &NewAuditEntry,
        now: DateTime<Utc>,
    ) -> Result<Delegation, StoreError> {
        scoped!(self, scope, write, |conn, d| {
            let before = select_delegations!(
                conn,
                d,
                format!("d.id = $1 AND {}", d.in_json("d.reseller_id", 2)),
                delegation_id,
                scope.json()
            )
            .pop()
            .ok_or(StoreError::NotFound {
                entity: "delegation",
            })?;
            let open = before.status == DelegationStatus::Pending || before.is_active(now);
            if !open {
                return Err(invalid(
                    "id",
                    format!(
                        "only a pending or active delegation can be assigned; this one is {}",
                        before.status
                    ),
                ));
            }
            let mut staff = staff.to_vec();
            staff.sort();
            staff.dedup();
            let ids = serde_json::to_string(&staff).expect("strings serialize");
            let sql = format!(
                "SELECT count(*) FROM users WHERE tenant_id = $1 AND deleted_at IS NULL \
                 AND deactivated_at IS NULL AND invited_at IS NULL AND {}",
                d.in_json("id", 2)
            );
            let found: i64 = sqlx::query_scalar(&sql)
                .bind(&before.reseller_id)
                .bind(&ids)
                .fetch_one(&mut *conn)
                .await?;
            if found != staff.len() as i64 {
                return Err(invalid(
                    "userIds",
                    "must name active users of the reseller holding the delegation",
                ));
            }
            sqlx::query("DELETE FROM delegation_assignments WHERE delegation_id = $1")
                .bind(delegation_id)
                .execute(&mut *conn)
                .await?;
            for user in &staff {
                sqlx::query(
                    "INSERT INTO delegation_assignments (delegation_id, tenant_id, reseller_id, user_id, \
                     assigned_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(delegation_id)
                .bind(&before.customer_id)
                .bind(&before.reseller_id)
                .bind(user)
                .bind(now)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::from_db)?;
            }
            let after = select_delegations!(conn, d, "d.id = $1", delegation_id)
                .pop()
                .ok_or(StoreError::NotFound {
                    entity: "delegation",
                })?;
            let mut entry = audit.of("delegation.assigned", format!("delegation:{delegation_id}"));
            entry.before_state =
                Some(serde_json::json!({ "assignees": before.assignees }).to_string());
            entry.after_state =
                Some(serde_json::json!({ "assignees": after.assignees }).to_string());
            record_delegation!(conn, d, &after, &entry);
            crate::audit::append_audit!(conn, d, &after.reseller_id, &entry);
            Ok(after)
        })
    }

    /// The expiry job's pass, as of `now`: every approved delegation in scope past its end
    /// expires (or, when it asks to, is extended by 180 days), and every request older than 90
    /// days lapses. One transaction per delegation, each audited (`system` as the actor) with
    /// its outbox message in the customer's chain. Returns the delegations it changed.
    pub async fn expire_delegations(
        &self,
        scope: &TenantScope,
        now: DateTime<Utc>,
    ) -> Result<Vec<Delegation>, StoreError> {
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        let due: Vec<Delegation> = scoped!(self, scope, read, |conn, d| {
            select_delegations!(
                conn,
                d,
                format!(
                    "((d.status = 'ACTIVE' AND d.expires_at <= $1) OR (d.status = 'PENDING' AND d.requested_at <= $2)) \
                     AND {}",
                    d.in_json("d.tenant_id", 3)
                ),
                now,
                now - Duration::days(LAPSE_DAYS),
                scope.json()
            )
        });
        let mut changed = Vec::with_capacity(due.len());
        for before in due {
            let customer =
                TenantScope::of([before.customer_id.clone(), before.reseller_id.clone()]);
            let system = NewAuditEntry {
                actor: "system".into(),
                actor_tenant: before.customer_id.clone(),
                action: String::new(),
                target: String::new(),
                before_state: None,
                after_state: None,
                reason: Some("the delegation expiry job".into()),
            };
            let done = scoped!(self, &customer, write, |conn, d| {
                let (won, action) = if before.status == DelegationStatus::Pending {
                    let won = transition!(
                        conn,
                        before,
                        DelegationStatus::Expired,
                        "ended_at = $4",
                        now
                    );
                    (won, "delegation.lapsed")
                } else if before.auto_extend {
                    let won = transition!(
                        conn,
                        before,
                        DelegationStatus::Active,
                        "expires_at = $4",
                        before.expires_at + Duration::days(EXTEND_DAYS)
                    );
                    (won, "delegation.extended")
                } else {
                    let won = transition!(
                        conn,
                        before,
                        DelegationStatus::Expired,
                        "ended_at = $4",
                        before.expires_at
                    );
                    (won, "delegation.expired")
                };
                if !won {
                    // Changed by a person meanwhile (approved, revoked): their change stands.
                    None
                } else {
                    let after = select_delegations!(conn, d, "d.id = $1", &before.id)
                        .pop()
                        .ok_or(StoreError::NotFound {
                            entity: "delegation",
                        })?;
                    let mut entry = system.of(action, format!("delegation:{}", before.id));
                    entry.before_state = Some(state(&before).to_string());
                    entry.after_state = Some(state(&after).to_string());
                    record_delegation!(conn, d, &after, &entry);
                    Some(after)
                }
            });
            changed.extend(done);
        }
        Ok(changed)
    }

    /// Delegations given or held by a tenant in scope, with their assignees.
    pub async fn delegations(&self, scope: &TenantScope) -> Result<Vec<Delegation>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            Ok(select_delegations!(
                conn,
                d,
                format!(
                    "{} OR {}",
                    d.in_json("d.tenant_id", 1),
                    d.in_json("d.reseller_id", 1)
                ),
                scope.json()
            ))
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
    message: Option<String>,
    duration_days: Option<i64>,
    auto_extend: bool,
    ended_at: Option<DateTime<Utc>>,
    ended_by: Option<String>,
    /// A JSON array of one-element arrays (`json_rows`), or NULL.
    assignees: Option<String>,
}

impl TryFrom<DelegationRow> for Delegation {
    type Error = StoreError;
    fn try_from(r: DelegationRow) -> Result<Self, StoreError> {
        let rows: Vec<(String,)> = match r.assignees.as_deref() {
            None | Some("") => Vec::new(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| StoreError::Corrupt(format!("delegation assignees: {e}")))?,
        };
        let mut assignees: Vec<String> = rows.into_iter().map(|(u,)| u).collect();
        assignees.sort();
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
            message: r.message,
            duration_days: r.duration_days,
            auto_extend: r.auto_extend,
            ended_at: r.ended_at,
            ended_by: r.ended_by,
            assignees,
        })
    }
}
