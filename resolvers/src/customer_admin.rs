//! Customer administration, the reseller's side: `createCustomer` (a customer tenant under the
//! caller's own reseller), `updateCustomer` (name and region), `suspendCustomer` and
//! `resumeCustomer`. Who may act is the policy's (`create`, `update`, `suspend` on a customer);
//! a customer the caller may not see is NOT_FOUND, one it sees but may not administer
//! FORBIDDEN. Each change is one transaction, audited in the customer's chain and again in its
//! reseller's. What a suspension does to the customer's users is `web/src/auth`'s: refused at
//! sign-in and on every request.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::Utc;
use portico_policies::{Action, Kind};
use portico_store::model;
use portico_store::{CustomerChange, NewCustomer, TenantScope};

use crate::ApiError;
use crate::request::{access, audit, caller, store, store_error, visible_customer};
use crate::tenancy::Customer;
use crate::types::Region;

#[derive(InputObject)]
pub struct CreateCustomerInput {
    /// Lower-case letters, digits and `-`, 3 to 40 characters, unique among all tenants.
    pub slug: String,
    pub name: String,
    pub region: Region,
    /// The customer's first admin, invited (INVITED, `CUSTOMER_ADMIN`) in the same
    /// transaction; without one nobody manages the customer's users until it delegates
    /// USER_ADMIN, which needs an admin of its own.
    pub first_admin: Option<FirstAdminInput>,
}

#[derive(InputObject)]
pub struct FirstAdminInput {
    pub email: String,
    pub name: String,
}

#[derive(InputObject)]
pub struct UpdateCustomerInput {
    pub id: ID,
    /// The new name; unchanged when not given.
    pub name: Option<String>,
    /// The new region; unchanged when not given.
    pub region: Option<Region>,
    /// The `version` the caller read; a customer changed since is BAD_USER_INPUT naming
    /// `expectedVersion`. Not given: the change applies whatever the version.
    pub expected_version: Option<i64>,
}

#[derive(InputObject)]
pub struct SuspendCustomerInput {
    pub id: ID,
    /// Why (1 to 500 characters): kept with the customer and in the audit log.
    pub reason: String,
}

#[derive(InputObject)]
pub struct CustomerIdInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct CustomerPayload {
    pub customer: Customer,
}

/// The customer a `Customer` id names and the policy's reason for `action` on it: NOT_FOUND
/// when the caller may not see it, FORBIDDEN when it may see but not do this.
fn authorize(
    ctx: &Context<'_>,
    id: &ID,
    action: Action,
) -> async_graphql::Result<(model::Tenant, String, TenantScope)> {
    let access = access(ctx)?;
    let tenant = visible_customer(access, id)?;
    let decision = access.decide(action, &access.facts(Kind::Customer, &tenant));
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    // The write touches the customer's row and chain, and its reseller's chain.
    let scope = TenantScope::of(std::iter::once(tenant.id.clone()).chain(tenant.parent_id.clone()));
    Ok((tenant, decision.reason, scope))
}

/// The customer as the caller now sees it.
fn payload(ctx: &Context<'_>, tenant: &model::Tenant) -> async_graphql::Result<CustomerPayload> {
    let access = access(ctx)?;
    let customer =
        Customer::visible(access, tenant).ok_or_else(|| ApiError::NotFound("customer").extend())?;
    Ok(CustomerPayload { customer })
}

async fn set_suspended(
    ctx: &Context<'_>,
    id: &ID,
    reason: Option<&str>,
) -> async_graphql::Result<CustomerPayload> {
    let caller = caller(ctx)?;
    let (tenant, why, scope) = authorize(ctx, id, Action::Suspend)?;
    let changed = store(ctx)?
        .set_customer_suspended(&scope, &tenant.id, reason, &audit(caller, &why))
        .await
        .map_err(store_error)?;
    payload(ctx, &changed)
}

#[derive(Default)]
pub struct CustomerMutations;

#[Object]
impl CustomerMutations {
    /// Creates a customer under the caller's own reseller (its admins only), served by the
    /// reseller's portal, with its first admin invited when `firstAdmin` is given.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> async_graphql::Result<CustomerPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        // The facts of the customer as it will be: under the caller's tenant, in its region.
        let prospective = model::Tenant {
            id: String::new(),
            parent_id: Some(caller.tenant.id.clone()),
            kind: model::TenantKind::Customer,
            slug: input.slug.clone(),
            name: input.name.clone(),
            region: Some(input.region.into()),
            created_at: Utc::now(),
            deleted_at: None,
            suspended_at: None,
            suspended_reason: None,
            contact_email: None,
            contact_phone: None,
            version: 1,
        };
        let decision = access.decide(Action::Create, &access.facts(Kind::Customer, &prospective));
        if !decision.allowed {
            return Err(ApiError::Forbidden.extend());
        }
        let new = NewCustomer {
            reseller_id: caller.tenant.id.clone(),
            slug: input.slug,
            name: input.name,
            region: input.region.into(),
            first_admin: input.first_admin.map(|a| (a.email, a.name)),
        };
        let created = store(ctx)?
            .create_customer(
                &TenantScope::single(caller.tenant.id.clone()),
                &new,
                &audit(caller, &decision.reason),
            )
            .await
            .map_err(store_error)?;
        payload(ctx, &created)
    }

    /// Changes a customer's name or region (the reseller's admins).
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerInput,
    ) -> async_graphql::Result<CustomerPayload> {
        let caller = caller(ctx)?;
        let (tenant, why, scope) = authorize(ctx, &input.id, Action::Update)?;
        let change = CustomerChange {
            name: input.name,
            region: input.region.map(Into::into),
        };
        let changed = store(ctx)?
            .update_customer(
                &scope,
                &tenant.id,
                input.expected_version,
                &change,
                &audit(caller, &why),
            )
            .await
            .map_err(store_error)?;
        payload(ctx, &changed)
    }

    /// Suspends a customer (the reseller's admins): from the next request on, its users are
    /// refused (HTTP 403, FORBIDDEN) and cannot sign in. Suspending a suspended customer
    /// changes nothing.
    async fn suspend_customer(
        &self,
        ctx: &Context<'_>,
        input: SuspendCustomerInput,
    ) -> async_graphql::Result<CustomerPayload> {
        set_suspended(ctx, &input.id, Some(input.reason.as_str())).await
    }

    /// Resumes a suspended customer: its users' tokens and sessions work again. Resuming an
    /// active customer changes nothing.
    async fn resume_customer(
        &self,
        ctx: &Context<'_>,
        input: CustomerIdInput,
    ) -> async_graphql::Result<CustomerPayload> {
        set_suspended(ctx, &input.id, None).await
    }
}
