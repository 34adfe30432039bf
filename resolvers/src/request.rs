//! What every resolver takes from the request's data, and the errors it maps, in one place.

use async_graphql::{Context, ErrorExtensions};
use chrono::Utc;
use portico_policies::{Action, Kind};
use portico_store::model::{self, DelegatedScope, NewAuditEntry};
use portico_store::{DelegatedUse, Store, StoreError, TenantScope};

use crate::authz::Access;
use crate::ids::decode_id;
use crate::tenancy::Customer;
use crate::{ApiError, Caller, PortalContext};

fn missing() -> async_graphql::Error {
    ApiError::Internal.extend()
}

pub(crate) fn access<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Access> {
    ctx.data::<Access>().map_err(|_| missing())
}

pub(crate) fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>().map_err(|_| missing())
}

pub(crate) fn portal<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a PortalContext> {
    ctx.data::<PortalContext>().map_err(|_| missing())
}

/// The signed-in caller; mutations need one.
pub(crate) fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data_opt::<Caller>()
        .ok_or_else(|| ApiError::Unauthenticated.extend())
}

/// The audit row's actor for a change the caller makes, with the policy's reason.
pub(crate) fn audit(caller: &Caller, reason: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: caller.user.id.clone(),
        actor_tenant: caller.tenant.id.clone(),
        action: String::new(),
        target: String::new(),
        before_state: None,
        after_state: None,
        reason: Some(reason.to_owned()),
    }
}

/// The field's path without list indices: one mask error per path, not per item.
pub(crate) fn field_path(ctx: &Context<'_>) -> String {
    ctx.path_node
        .map(|p| {
            p.to_string_vec()
                .into_iter()
                .filter(|s| s.parse::<usize>().is_err())
                .collect::<Vec<_>>()
                .join(".")
        })
        .unwrap_or_default()
}

pub(crate) fn store_error(err: StoreError) -> async_graphql::Error {
    ApiError::from(err).extend()
}

/// The refusal that fits a caller who may not act in `tenant`: NOT_FOUND when it may not even
/// see the tenant (as a tenant or as a customer), FORBIDDEN when it may.
pub(crate) fn refusal(access: &Access, tenant: &model::Tenant) -> async_graphql::Error {
    let sees = access.allows(Action::Read, &access.facts(Kind::Tenant, tenant))
        || access.allows(Action::Read, &access.facts(Kind::Customer, tenant));
    if sees {
        ApiError::Forbidden.extend()
    } else {
        ApiError::NotFound("tenant").extend()
    }
}

/// The customer tenant a `Customer` id names, if the caller may read it; NOT_FOUND otherwise,
/// whether it exists elsewhere or not at all.
pub(crate) fn visible_customer(access: &Access, id: &str) -> async_graphql::Result<model::Tenant> {
    decode_id("Customer", id)
        .and_then(|raw| access.directory().tenant(&raw).cloned())
        .filter(|t| Customer::visible(access, t).is_some())
        .ok_or_else(|| ApiError::NotFound("customer").extend())
}

/// The delegation the caller uses to act with `scope` in `customer`, its own reseller's
/// customer: held by the caller's tenant, active, unexpired, assigned to the caller and
/// carrying `scope`; `None` when there is none. What the store needs to audit the use in both
/// chains (`DelegatedUse`).
pub(crate) async fn delegation_in_use(
    ctx: &Context<'_>,
    caller: &Caller,
    customer: &model::Tenant,
    scope: DelegatedScope,
) -> async_graphql::Result<Option<DelegatedUse>> {
    let tenants = TenantScope::of([customer.id.clone(), caller.tenant.id.clone()]);
    let now = Utc::now();
    let delegation = store(ctx)?
        .delegations(&tenants)
        .await
        .map_err(store_error)?
        .into_iter()
        .find(|d| {
            d.customer_id == customer.id
                && d.reseller_id == caller.tenant.id
                && d.usable_by(&caller.user.id, now)
                && d.scopes.contains(&scope)
        });
    Ok(delegation.map(|d| DelegatedUse {
        reseller_id: caller.tenant.id.clone(),
        delegation_id: d.id,
        scope,
    }))
}
