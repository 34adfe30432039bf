//! Delegation mutations: a reseller's admin asks for scopes, the customer's admin approves or
//! declines, either side revokes, and the reseller's admin assigns a delegation to named staff.
//! Across tenants the delegation is NOT_FOUND; inside, an action the policy does not allow is
//! FORBIDDEN. One transaction per mutation, audited.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use portico_policies::{Action, Kind};
use portico_store::model;
use portico_store::{DelegationChange, DelegationRequest, TenantScope};

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
    /// How long it runs once approved: 1 to 730 days (default 365).
    pub duration_days: Option<i32>,
    /// The older way to say how long: an end at most two years away (its days from now are
    /// the duration). Give this or `durationDays`, not both.
    pub expires_at: Option<DateTime<Utc>>,
    /// A note to the customer's admin (at most 500 characters).
    pub message: Option<String>,
    /// Extend by 180 days at its end instead of expiring.
    #[graphql(default)]
    pub auto_extend: bool,
}

#[derive(InputObject)]
pub struct AssignDelegationInput {
    pub id: ID,
    /// The reseller's staff who may use it from now on (ids of active `User`s of the reseller);
    /// replaces the previous assignment.
    pub user_ids: Vec<ID>,
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

/// The delegation an id names, with its customer and the caller's delegation scope, if the
/// caller may see it; NOT_FOUND otherwise, whether it exists elsewhere or not at all.
async fn visible_delegation(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<(model::Delegation, model::Tenant, TenantScope)> {
    let access: &Access = access(ctx)?;
    let not_found = || ApiError::NotFound("delegation").extend();
    let raw = decode_id("Delegation", id).ok_or_else(not_found)?;
    let scope = access.scope(Kind::Delegation);
    if scope.is_empty() {
        return Err(not_found());
    }
    let rows = store(ctx)?.delegations(&scope).await.map_err(store_error)?;
    let row = rows
        .into_iter()
        .find(|d| d.id == raw)
        .ok_or_else(not_found)?;
    Delegation::visible(access, &row, Utc::now()).ok_or_else(not_found)?;
    let customer = access
        .directory()
        .tenant(&row.customer_id)
        .cloned()
        .ok_or_else(not_found)?;
    Ok((row, customer, scope))
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
    let (row, customer, scope) = visible_delegation(ctx, &input.id).await?;
    let raw = row.id.clone();
    let now = Utc::now();
    let not_found = || ApiError::NotFound("delegation").extend();
    let action = match change {
        DelegationChange::Approve => Action::Approve,
        DelegationChange::Decline => Action::Decline,
        DelegationChange::Revoke => Action::Revoke,
    };
    let decision = access.decide(action, &access.facts(Kind::Delegation, &customer));
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    let changed = store
        .change_delegation(
            &scope,
            &raw,
            change,
            &audit(caller, &decision.reason),
            Utc::now(),
        )
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
        let now = Utc::now();
        let duration_days = match (input.duration_days, input.expires_at) {
            (Some(_), Some(_)) => {
                return Err(ApiError::BadUserInput {
                    field: "expiresAt".into(),
                    message: "give durationDays or expiresAt, not both".into(),
                }
                .extend());
            }
            (Some(days), None) => i64::from(days),
            // Whole days, rounded up: an end at least as late as the one asked for.
            (None, Some(end)) if end > now => {
                (end - now + Duration::days(1) - Duration::seconds(1)).num_days()
            }
            (None, Some(_)) => {
                return Err(ApiError::BadUserInput {
                    field: "expiresAt".into(),
                    message: "must be in the future and at most 730 days away".into(),
                }
                .extend());
            }
            (None, None) => 365,
        };
        let request = DelegationRequest {
            scopes: input.scopes.into_iter().map(scope_model).collect(),
            duration_days,
            message: input.message,
            auto_extend: input.auto_extend,
        };
        let scope = TenantScope::of([tenant.id.clone(), caller.tenant.id.clone()]);
        let created = store
            .request_delegation(
                &scope,
                &tenant.id,
                &caller.tenant.id,
                &request,
                &audit(caller, &decision.reason),
                now,
            )
            .await
            .map_err(|err| match input.expires_at {
                // The duration came from expiresAt: say so in its name.
                Some(_)
                    if matches!(
                        &err,
                        portico_store::StoreError::Invalid {
                            field: "durationDays",
                            ..
                        }
                    ) =>
                {
                    ApiError::BadUserInput {
                        field: "expiresAt".into(),
                        message: "must be in the future and at most 730 days away".into(),
                    }
                    .extend()
                }
                _ => store_error(err),
            })?;
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

    /// The customer's admin declines a pending request.
    async fn decline_delegation(
        &self,
        ctx: &Context<'_>,
        input: DelegationIdInput,
    ) -> async_graphql::Result<DelegationPayload> {
        change(ctx, input, DelegationChange::Decline).await
    }

    /// The reseller's admin assigns a pending or active delegation to named staff: only they
    /// use its scopes. Audited in the customer's log and the reseller's.
    async fn assign_delegation(
        &self,
        ctx: &Context<'_>,
        input: AssignDelegationInput,
    ) -> async_graphql::Result<DelegationPayload> {
        let caller = caller(ctx)?;
        let access: &Access = access(ctx)?;
        let store = store(ctx)?;
        let (row, customer, _) = visible_delegation(ctx, &input.id).await?;
        let raw = row.id.clone();
        let now = Utc::now();
        let not_found = || ApiError::NotFound("delegation").extend();
        let decision = access.decide(Action::Manage, &access.facts(Kind::Delegation, &customer));
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let staff = input
            .user_ids
            .iter()
            .map(|id| {
                decode_id("User", id).ok_or_else(|| {
                    ApiError::BadUserInput {
                        field: "userIds".into(),
                        message: "must name active users of the reseller holding the delegation"
                            .into(),
                    }
                    .extend()
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let write = TenantScope::of([row.customer_id.clone(), row.reseller_id.clone()]);
        let assigned = store
            .assign_delegation(&write, &raw, &staff, &audit(caller, &decision.reason), now)
            .await
            .map_err(store_error)?;
        let delegation = Delegation::visible(access, &assigned, now).ok_or_else(not_found)?;
        Ok(DelegationPayload { delegation })
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
