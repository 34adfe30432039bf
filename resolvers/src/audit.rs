//! `auditLog`: a tenant's audit chain, newest first, as its own admins (and the reseller's
//! staff under SUPPORT_READONLY) may read it. The policy decides who reads which log (kind
//! `audit`); a tenant the caller may not even see is NOT_FOUND, one it sees but may not read
//! the log of is FORBIDDEN, so existence never leaks across tenants.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind};
use portico_store::model::{self, TenantId};
use portico_store::{AuditOrder, AuditQuery, TenantScope};

use crate::ApiError;
use crate::authz::Access;
use crate::ids::decode_id;
use crate::pagination::{PageInfo, bad_cursor, page_size};
use crate::request::{access, caller, store, store_error};
use crate::types::Tenant;

/// Which rows of the log: every given condition must hold.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// The acting user's id, as recorded in `AuditEntry.actor`.
    pub actor: Option<String>,
    /// The action, exactly, e.g. `delegation.requested`.
    pub action: Option<String>,
    /// The target, exactly, e.g. `delegation:<id>` as recorded in `AuditEntry.target`.
    pub target: Option<String>,
    /// Rows recorded at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Rows recorded before this time.
    pub until: Option<DateTime<Utc>>,
}

/// One row of a tenant's audit chain, as recorded. `hash` is SHA-256 over the row's fields
/// and `prevHash` (docs/AUDIT.md); `prevHash` is the previous row's `hash`.
#[derive(SimpleObject)]
pub struct AuditEntry {
    /// Position in the tenant's chain, from 1, without gaps.
    pub seq: i64,
    /// Who acted: a user id as recorded.
    pub actor: String,
    /// The tenant the actor acted from (a reseller acting in its customer: the reseller);
    /// `null` when the recorded tenant is no longer in the directory.
    pub actor_tenant: Option<Tenant>,
    /// What was done, e.g. `delegation.approved`, `listing.updated`.
    pub action: String,
    /// What it was done to, `kind:id`.
    pub target: String,
    /// The state before the change as JSON text; `null` when there was none.
    pub before: Option<String>,
    /// The state after the change as JSON text; `null` when there is none.
    pub after: Option<String>,
    /// Why it was allowed: the policy rule's reason, or the operator's.
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(SimpleObject)]
pub struct AuditEntryEdge {
    pub cursor: String,
    pub node: AuditEntry,
}

#[derive(SimpleObject)]
pub struct AuditEntryConnection {
    pub edges: Vec<AuditEntryEdge>,
    pub page_info: PageInfo,
}

fn cursor(seq: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

fn decode_cursor(c: &str) -> Option<i64> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    text.strip_prefix("seq:")?.parse().ok().filter(|s| *s > 0)
}

fn entry(access: &Access, row: model::AuditEntry) -> AuditEntry {
    AuditEntry {
        seq: row.seq,
        actor_tenant: access
            .directory()
            .tenant(&row.actor_tenant)
            .map(Tenant::from),
        actor: row.actor,
        action: row.action,
        target: row.target,
        before: row.before_state,
        after: row.after_state,
        reason: row.reason,
        at: row.at,
        prev_hash: row.prev_hash,
        hash: row.hash,
    }
}

/// The tenant `tenantId` names: a `Tenant` id, or a `Customer` id (what `customers` hands a
/// reseller's staff). Malformed, unknown and deleted all answer alike.
fn named_tenant(access: &Access, id: &ID) -> Option<model::Tenant> {
    let raw = decode_id("Tenant", id).or_else(|| decode_id("Customer", id))?;
    access
        .directory()
        .tenant(&raw)
        .filter(|t| t.deleted_at.is_none())
        .cloned()
}

/// The tenant whose log the caller asked for, if it may read it: NOT_FOUND for a tenant it
/// may not see at all (whether it exists or not), FORBIDDEN for one it sees but whose log it
/// may not read.
fn readable_log(access: &Access, tenant_id: Option<&ID>) -> async_graphql::Result<TenantId> {
    let not_found = || ApiError::NotFound("tenant").extend();
    let tenant = match tenant_id {
        Some(id) => named_tenant(access, id).ok_or_else(not_found)?,
        None => access.actor_tenant().cloned().ok_or_else(not_found)?,
    };
    if !access.allows(Action::Read, &access.facts(Kind::Tenant, &tenant)) {
        return Err(not_found());
    }
    if !access.allows(Action::Read, &access.facts(Kind::Audit, &tenant)) {
        return Err(ApiError::Forbidden.extend());
    }
    Ok(tenant.id)
}

/// A filter text: empty means no condition, like the catalog's filters.
fn condition(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

pub async fn audit_log(
    ctx: &Context<'_>,
    tenant_id: Option<ID>,
    first: Option<i32>,
    after: Option<String>,
    filter: Option<AuditFilter>,
) -> async_graphql::Result<AuditEntryConnection> {
    // The arguments first: their errors say nothing about any tenant.
    let first = page_size(first)?;
    let after_seq = match after {
        None => None,
        Some(c) => Some(decode_cursor(&c).ok_or_else(bad_cursor)?),
    };
    let filter = filter.unwrap_or_default();
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && until <= since
    {
        return Err(ApiError::BadUserInput {
            field: "filter.until".into(),
            message: "must be after filter.since".into(),
        }
        .extend());
    }
    // Logs are for signed-in callers only.
    caller(ctx)?;
    let access = access(ctx)?;
    let tenant = readable_log(access, tenant_id.as_ref())?;
    let query = AuditQuery {
        tenant_id: tenant.clone(),
        actor: condition(filter.actor),
        action: condition(filter.action),
        target: condition(filter.target),
        since: filter.since,
        until: filter.until,
        order: AuditOrder::NewestFirst,
        after_seq,
        // One more than the page: whether there is a next one.
        limit: first as i64 + 1,
    };
    // The one tenant the policy allowed: the store puts it in SQL and, on PostgreSQL, in
    // row-level security.
    let rows = store(ctx)?
        .audit_page(&TenantScope::single(tenant), &query)
        .await
        .map_err(store_error)?;
    let has_next_page = rows.len() > first;
    let edges: Vec<AuditEntryEdge> = rows
        .into_iter()
        .take(first)
        .map(|row| AuditEntryEdge {
            cursor: cursor(row.seq),
            node: entry(access, row),
        })
        .collect();
    Ok(AuditEntryConnection {
        page_info: PageInfo {
            has_next_page,
            has_previous_page: after_seq.is_some(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_is_a_sequence_number_and_nothing_else_decodes() {
        assert_eq!(decode_cursor(&cursor(42)), Some(42));
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("offset:3")), None);
        assert_eq!(decode_cursor(&URL_SAFE_NO_PAD.encode("seq:-1")), None);
        assert_eq!(decode_cursor("not a cursor"), None);
    }
}
