//! Support windows: `beginSupportAccess` and `endSupportAccess` (platform admins), and
//! `supportWindows` (platform admins; a tenant's own admins see who looked at it, when and
//! why). A window is time-bound and read-only; what it lets its opener read is the policy's to
//! say (fact `support_window`, computed per request from the caller's open windows). Across
//! tenants a tenant or window is NOT_FOUND; inside, an action the policy does not allow is
//! FORBIDDEN. One transaction per mutation, audited in the tenant's chain and the platform's.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind};
use portico_store::model;
use portico_store::{SupportRequest, TenantScope};

use crate::ApiError;
use crate::authz::Access;
use crate::ids::{decode_id, encode_id};
use crate::request::{access, audit, caller, store, store_error};
use crate::types::Tenant;

/// A time-bound, read-only window a platform admin opened on one tenant, with a reason.
#[derive(SimpleObject)]
pub struct SupportWindow {
    pub id: ID,
    /// The tenant looked at.
    pub tenant: Tenant,
    /// The platform admin who opened it (their email when they opened it); only they read
    /// through it.
    pub opened_by: String,
    /// Why, as they gave it.
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    /// When it ends on its own.
    pub ends_at: DateTime<Utc>,
    /// When its opener ended it early; `null` otherwise.
    pub ended_at: Option<DateTime<Utc>>,
    /// Open now: not ended early and not past `endsAt`.
    pub open: bool,
}

impl SupportWindow {
    /// The window if the caller may see it.
    fn visible(access: &Access, w: &model::SupportWindow, now: DateTime<Utc>) -> Option<Self> {
        let facts = access.support_facts(w)?;
        if !access.allows(Action::Read, &facts) {
            return None;
        }
        let tenant = access.directory().tenant(&w.tenant_id)?;
        Some(SupportWindow {
            id: encode_id("SupportWindow", &w.id),
            tenant: Tenant::from(tenant),
            opened_by: w.user_email.clone(),
            reason: w.reason.clone(),
            opened_at: w.opened_at,
            ends_at: w.ends_at,
            ended_at: w.ended_at,
            open: w.is_open(now),
        })
    }
}

#[derive(InputObject)]
pub struct BeginSupportAccessInput {
    /// The tenant to look at: a `Tenant` id, or a `Customer` id.
    pub tenant_id: ID,
    /// Why (1 to 500 characters): written in the tenant's audit log and the platform's.
    pub reason: String,
    /// How long: 1 to 240 minutes from now.
    pub minutes: i32,
}

#[derive(InputObject)]
pub struct EndSupportAccessInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct SupportWindowPayload {
    pub support_window: SupportWindow,
}

/// The tenant a `Tenant` or `Customer` id names, if the caller may see it; NOT_FOUND otherwise
/// (malformed, unknown, deleted and invisible alike).
fn visible_tenant(access: &Access, id: &ID) -> async_graphql::Result<model::Tenant> {
    decode_id("Tenant", id)
        .or_else(|| decode_id("Customer", id))
        .and_then(|raw| access.directory().tenant(&raw).cloned())
        .filter(|t| t.deleted_at.is_none())
        .filter(|t| access.allows(Action::Read, &access.facts(Kind::Tenant, t)))
        .ok_or_else(|| ApiError::NotFound("tenant").extend())
}

/// `supportWindows(tenantId, open)`: the windows the caller may see, newest first; one
/// tenant's when `tenantId` is given (FORBIDDEN when the caller sees the tenant but not its
/// windows).
pub async fn support_windows(
    ctx: &Context<'_>,
    tenant_id: Option<ID>,
    open: Option<bool>,
) -> async_graphql::Result<Vec<SupportWindow>> {
    let access = access(ctx)?;
    let scope = match tenant_id {
        Some(id) => {
            let tenant = visible_tenant(access, &id)?;
            if !access.allows(Action::Read, &access.facts(Kind::Support, &tenant)) {
                return Err(ApiError::Forbidden.extend());
            }
            TenantScope::single(tenant.id)
        }
        None => access.scope(Kind::Support),
    };
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let rows = store(ctx)?
        .support_windows(&scope)
        .await
        .map_err(store_error)?;
    Ok(rows
        .iter()
        .filter(|w| scope.contains(&w.tenant_id))
        .filter(|w| open.is_none_or(|o| w.is_open(now) == o))
        // Post-check: the scope came from the same policy.
        .filter_map(|w| SupportWindow::visible(access, w, now))
        .collect())
}

#[derive(Default)]
pub struct SupportMutations;

#[Object]
impl SupportMutations {
    /// A platform admin opens a time-bound, read-only support window on another tenant, with a
    /// reason: until it ends they read that tenant's users and audit log, a reseller's catalog
    /// and prices, a customer's contract prices. Never a change. Audited in the tenant's log
    /// and the platform's.
    async fn begin_support_access(
        &self,
        ctx: &Context<'_>,
        input: BeginSupportAccessInput,
    ) -> async_graphql::Result<SupportWindowPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let tenant = visible_tenant(access, &input.tenant_id)?;
        let decision = access.decide(Action::Open, &access.facts(Kind::Support, &tenant));
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let now = Utc::now();
        let window = store(ctx)?
            .begin_support_window(
                &TenantScope::of([tenant.id.clone(), caller.tenant.id.clone()]),
                &tenant.id,
                &caller.user.email,
                &SupportRequest {
                    reason: input.reason,
                    minutes: i64::from(input.minutes),
                },
                &audit(caller, &decision.reason),
                now,
            )
            .await
            .map_err(store_error)?;
        let support_window = SupportWindow::visible(access, &window, now)
            .ok_or_else(|| ApiError::NotFound("support window").extend())?;
        Ok(SupportWindowPayload { support_window })
    }

    /// Its opener ends a support window early. Audited like opening it.
    async fn end_support_access(
        &self,
        ctx: &Context<'_>,
        input: EndSupportAccessInput,
    ) -> async_graphql::Result<SupportWindowPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let not_found = || ApiError::NotFound("support window").extend();
        let raw = decode_id("SupportWindow", &input.id).ok_or_else(not_found)?;
        let scope = access.scope(Kind::Support);
        if scope.is_empty() {
            return Err(not_found());
        }
        let store = store(ctx)?;
        let rows = store.support_windows(&scope).await.map_err(store_error)?;
        let row = rows
            .iter()
            .filter(|w| scope.contains(&w.tenant_id))
            .find(|w| w.id == raw)
            .ok_or_else(not_found)?;
        let now = Utc::now();
        SupportWindow::visible(access, row, now).ok_or_else(not_found)?;
        let facts = access.support_facts(row).ok_or_else(not_found)?;
        let decision = access.decide(Action::Revoke, &facts);
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let ended = store
            .end_support_window(
                &TenantScope::of([row.tenant_id.clone(), row.actor_tenant_id.clone()]),
                &raw,
                &audit(caller, &decision.reason),
                now,
            )
            .await
            .map_err(store_error)?;
        let support_window = SupportWindow::visible(access, &ended, now).ok_or_else(not_found)?;
        Ok(SupportWindowPayload { support_window })
    }
}
