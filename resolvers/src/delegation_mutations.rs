//! Delegation mutations: a reseller's admin asks for scopes, the customer's admin approves,
//! either side revokes. Across tenants the delegation is NOT_FOUND; inside, an action the policy
//! does not allow is FORBIDDEN. One transaction per mutation, audited.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use portico_policies::{Action, Kind};
use portico_store::model;
use portico_store::{DelegationChange, TenantScope};

use crate::ApiError;
use crate::authz::Access;
use crate::ids::decode_id;
use crate::request::{access, audit, caller, store, store_error, visible_customer};
use crate::tenancy::{DelegatedScope, Delegation};

#[derive(InputObject)]
pub struct DelegationIdInput {
    pub id: ID,
}

#[derive(InputObject)]
pub struct RequestDelegationInput {
    /// The customer asked (an id from `customers`).
    pub customer_id: ID,
    pub scopes: Vec<DelegatedScope>,
    /// Default: one year from now; at most two.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(SimpleObject)]
pub struct DelegationPayload {
    pub delegation: Delegation,
}

fn scope_model(s: DelegatedScope) -> model::DelegatedScope {
    match s {
        DelegatedScope::UserAdmin => model::DelegatedScope::UserAdmin,
        DelegatedScope::SettingsAdmin => model::DelegatedScope::SettingsAdmin,
        DelegatedScope::SupportReadonly => model::DelegatedScope::SupportReadonly,
    }
}

/// Approve or revoke: NOT_FOUND unless the caller may see the delegation, FORBIDDEN unless it may
/// do this to it.
async fn change(
    ctx: &Context<'_>,
    input: DelegationIdInput,
    change: DelegationChange,
) -> async_graphql::Result<DelegationPayload> {
    let caller = caller(ctx)?;
    let access: &Access = access(ctx)?;
    let store = store(ctx)?;
    let not_found = || ApiError::NotFound("delegation").extend();
    let raw = decode_id("Delegation", &input.id).ok_or_else(not_found)?;
    let scope = access.scope(Kind::Delegation);
    if scope.is_empty() {
        return Err(not_found());
    }
    let rows = store.delegations(&scope).await.map_err(store_error)?;
    let row = rows.iter().find(|d| d.id == raw).ok_or_else(not_found)?;
    let now = Utc::now();
    Delegation::visible(access, row, now).ok_or_else(not_found)?;
    let customer = access
        .directory()
        .tenant(&row.customer_id)
        .ok_or_else(not_found)?;
    let action = match change {
        DelegationChange::Approve => Action::Approve,
        DelegationChange::Revoke => Action::Revoke,
    };
    let decision = access.decide(action, &access.facts(Kind::Delegation, customer));
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    let changed = store
        .change_delegation(&scope, &raw, change, &audit(caller, &decision.reason))
        .await
        .map_err(store_error)?;
    let delegation = Delegation::visible(access, &changed, now).ok_or_else(not_found)?;
    Ok(DelegationPayload { delegation })
}

#[derive(Default)]
pub struct DelegationMutations;

#[Object]
impl DelegationMutations {
    /// A reseller's admin asks one of its customers for delegated scopes (pending until the
    /// customer's admin approves).
    async fn request_delegation(
        &self,
        ctx: &Context<'_>,
        input: RequestDelegationInput,
    ) -> async_graphql::Result<DelegationPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let store = store(ctx)?;
        let tenant = visible_customer(access, &input.customer_id)?;
        let decision = access.decide(Action::Request, &access.facts(Kind::Delegation, &tenant));
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let scopes: Vec<_> = input.scopes.into_iter().map(scope_model).collect();
        let expires_at = input
            .expires_at
            .unwrap_or_else(|| Utc::now() + Duration::days(365));
        let scope = TenantScope::of([tenant.id.clone(), caller.tenant.id.clone()]);
        let created = store
            .request_delegation(
                &scope,
                &tenant.id,
                &caller.tenant.id,
                &scopes,
                expires_at,
                &audit(caller, &decision.reason),
            )
            .await
            .map_err(store_error)?;
        let delegation = Delegation::visible(access, &created, Utc::now())
            .ok_or_else(|| ApiError::NotFound("customer").extend())?;
        Ok(DelegationPayload { delegation })
    }

    /// The customer's admin approves a pending delegation.
    async fn approve_delegation(
        &self,
        ctx: &Context<'_>,
        input: DelegationIdInput,
    ) -> async_graphql::Result<DelegationPayload> {
        change(ctx, input, DelegationChange::Approve).await
    }

    /// The customer's admin takes a delegation back, or the reseller's admin gives it back.
    async fn revoke_delegation(
        &self,
        ctx: &Context<'_>,
        input: DelegationIdInput,
    ) -> async_graphql::Result<DelegationPayload> {
        change(ctx, input, DelegationChange::Revoke).await
    }
}
