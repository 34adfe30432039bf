//! Support windows: a platform admin opens a time-bound, read-only window on one tenant, with a
//! reason, and may end it early. Opening and ending are each one transaction with the audit row
//! in the tenant's chain (and its outbox message), mirrored into the platform's chain: the
//! tenant's first, then the actor's, the order `append_audit!` asks for. What a window allows
//! is the policy's to say; the store keeps the rows and what holds whoever asks (a reason, at
//! most four hours, ending only an open window).

use chrono::{DateTime, Duration, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// The longest a support window may run, in minutes.
pub const MAX_SUPPORT_MINUTES: i64 = 240;
/// The longest reason, in characters.
pub const MAX_SUPPORT_REASON: usize = 500;

/// What a platform admin asks for.
#[derive(Debug, Clone)]
pub struct SupportRequest {
    /// Why: 1 to `MAX_SUPPORT_REASON` characters once trimmed.
    pub reason: String,
    /// 1 to `MAX_SUPPORT_MINUTES`, from now.
    pub minutes: i64,
}

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

const COLUMNS: &str = "id, tenant_id, actor_tenant_id, user_id, user_email, reason, opened_at, \
                       ends_at, ended_at, ended_by";

#[derive(sqlx::FromRow)]
struct SupportRow {
    id: String,
    tenant_id: String,
    actor_tenant_id: String,
    user_id: String,
    user_email: String,
    reason: String,
    opened_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    ended_by: Option<String>,
}

impl From<SupportRow> for SupportWindow {
    fn from(r: SupportRow) -> Self {
        SupportWindow {
            id: r.id,
            tenant_id: r.tenant_id,
            actor_tenant_id: r.actor_tenant_id,
            user_id: r.user_id,
            user_email: r.user_email,
            reason: r.reason,
            opened_at: r.opened_at,
            ends_at: r.ends_at,
            ended_at: r.ended_at,
            ended_by: r.ended_by,
        }
    }
}

fn state(w: &SupportWindow) -> serde_json::Value {
    serde_json::json!({
        "tenant": w.tenant_id,
        "opened_by": w.user_email,
        "reason": w.reason,
        "opened_at": w.opened_at.to_rfc3339(),
        "ends_at": w.ends_at.to_rfc3339(),
        "ended_at": w.ended_at.map(|t| t.to_rfc3339()),
    })
}

/// The policy's reason and the one the admin gave, for the audit row's `reason`.
fn reasons(policy: Option<&str>, given: &str) -> String {
    match policy {
        Some(p) if !p.is_empty() => format!("{p}; reason given: {given}"),
        _ => format!("reason given: {given}"),
    }
}

/// Audits a window's change in the tenant's chain (with its outbox message), then in the
/// platform's.
macro_rules! record_support_change {
    ($conn:ident, $d:ident, $window:expr, $entry:expr) => {{
        let window: &SupportWindow = $window;
        let entry: &NewAuditEntry = $entry;
        record_change!(
            $conn,
            $d,
            &window.tenant_id,
            entry,
            Topic::SupportWindow,
            serde_json::json!({ "support_window": window.id })
        );
        let mut mirror = entry.clone();
        mirror.target = format!("tenant:{}/{}", window.tenant_id, entry.target);
        crate::audit::append_audit!($conn, $d, &window.actor_tenant_id, &mirror);
    }};
}

impl Store {
    /// Opens a window on `tenant_id` for the admin `audit.actor` (of `audit.actor_tenant`) from
    /// `now` for `request.minutes`. `scope` must hold both tenants: both chains grow.
    pub async fn begin_support_window(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
        opener_email: &str,
        request: &SupportRequest,
        audit: &NewAuditEntry,
        now: DateTime<Utc>,
    ) -> Result<SupportWindow, StoreError> {
        if !scope.contains(tenant_id) || !scope.contains(&audit.actor_tenant) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        let reason = request.reason.trim();
        if reason.is_empty() {
            return Err(invalid("reason", "say why you open the window"));
        }
        if reason.chars().count() > MAX_SUPPORT_REASON {
            return Err(invalid(
                "reason",
                format!("must be at most {MAX_SUPPORT_REASON} characters"),
            ));
        }
        if !(1..=MAX_SUPPORT_MINUTES).contains(&request.minutes) {
            return Err(invalid(
                "minutes",
                format!("must be 1 to {MAX_SUPPORT_MINUTES} minutes"),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        let window = SupportWindow {
            id: id.clone(),
            tenant_id: tenant_id.to_owned(),
            actor_tenant_id: audit.actor_tenant.clone(),
            user_id: audit.actor.clone(),
            user_email: opener_email.to_owned(),
            reason: reason.to_owned(),
            opened_at: now,
            ends_at: now + Duration::minutes(request.minutes),
            ended_at: None,
            ended_by: None,
        };
        scoped!(self, scope, write, |conn, d| {
            sqlx::query(&format!(
                "INSERT INTO support_windows ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)"
            ))
            .bind(&window.id)
            .bind(&window.tenant_id)
            .bind(&window.actor_tenant_id)
            .bind(&window.user_id)
            .bind(&window.user_email)
            .bind(&window.reason)
            .bind(window.opened_at)
            .bind(window.ends_at)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("support.opened", format!("support_window:{id}"));
            let mut after = state(&window);
            after["minutes"] = request.minutes.into();
            entry.after_state = Some(after.to_string());
            entry.reason = Some(reasons(audit.reason.as_deref(), &window.reason));
            record_support_change!(conn, d, &window, &entry);
            Ok(window)
        })
    }

    /// Ends an open window before its time, as of `now`; `audit.actor` is recorded as the one
    /// who ended it. A window already ended (early or on time) is a user error naming `id`.
    pub async fn end_support_window(
        &self,
        scope: &TenantScope,
        window_id: &str,
        audit: &NewAuditEntry,
        now: DateTime<Utc>,
    ) -> Result<SupportWindow, StoreError> {
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        scoped!(self, scope, write, |conn, d| {
            let sql = format!(
                "SELECT {COLUMNS} FROM support_windows WHERE id = $1 AND ({} OR {})",
                d.in_json("tenant_id", 2),
                d.in_json("actor_tenant_id", 2)
            );
            let before: SupportWindow = sqlx::query_as::<_, SupportRow>(&sql)
                .bind(window_id)
                .bind(scope.json())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound {
                    entity: "support window",
                })?
                .into();
            let ended = |w: &SupportWindow| {
                invalid(
                    "id",
                    format!(
                        "the support window has already ended (at {})",
                        w.ended_at.unwrap_or(w.ends_at).to_rfc3339()
                    ),
                )
            };
            if !before.is_open(now) {
                return Err(ended(&before));
            }
            // Conditional on being open: of two ends racing, one wins.
            let done = sqlx::query(
                "UPDATE support_windows SET ended_at = $1, ended_by = $2 \
                 WHERE id = $3 AND ended_at IS NULL AND ends_at > $1",
            )
            .bind(now)
            .bind(&audit.actor)
            .bind(window_id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            if done.rows_affected() != 1 {
                return Err(ended(&before));
            }
            let after = SupportWindow {
                ended_at: Some(now),
                ended_by: Some(audit.actor.clone()),
                ..before.clone()
            };
            let mut entry = audit.of("support.ended", format!("support_window:{window_id}"));
            entry.before_state = Some(state(&before).to_string());
            entry.after_state = Some(state(&after).to_string());
            entry.reason = Some(reasons(audit.reason.as_deref(), &after.reason));
            record_support_change!(conn, d, &after, &entry);
            Ok(after)
        })
    }

    /// The windows on the tenants in scope, and those opened from them, newest first.
    pub async fn support_windows(
        &self,
        scope: &TenantScope,
    ) -> Result<Vec<SupportWindow>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT {COLUMNS} FROM support_windows WHERE {} OR {} ORDER BY opened_at DESC, id",
                d.in_json("tenant_id", 1),
                d.in_json("actor_tenant_id", 1)
            );
            let rows: Vec<SupportRow> = sqlx::query_as(&sql)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows.into_iter().map(SupportWindow::from).collect())
        })
    }

    /// The windows `user_id` (of a platform tenant in scope) holds open at `now`: what a
    /// request of theirs may read through.
    pub async fn open_support_windows(
        &self,
        scope: &TenantScope,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<SupportWindow>, StoreError> {
        let now = chrono::SubsecRound::trunc_subsecs(now, 6);
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT {COLUMNS} FROM support_windows WHERE user_id = $1 AND {} \
                 AND ended_at IS NULL AND ends_at > $3 ORDER BY opened_at",
                d.in_json("actor_tenant_id", 2)
            );
            let rows: Vec<SupportRow> = sqlx::query_as(&sql)
                .bind(user_id)
                .bind(scope.json())
                .bind(now)
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows.into_iter().map(SupportWindow::from).collect())
        })
    }
}
