//! A customer's settings, the customer's side: `updateCustomerSettings` changes its name and
//! contacts. Its own admin changes them; so does its reseller's admin under an active
//! `SETTINGS_ADMIN` delegation assigned to them, through the same operation with the customer
//! named (`customerId`), audited in the customer's chain and the reseller's, naming the
//! delegation and the scope. Who may act is the policy's (`update` on `settings`); a customer
//! the caller may not see is NOT_FOUND, one it sees but may not change FORBIDDEN.
//!
//! Beside it, `updateCustomer` (`customer_admin.rs`) stays the reseller's own record of its
//! customer (name and region), for its admins without any delegation.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object};
use portico_policies::{Action, Kind, Relation};
use portico_store::model::{self, DelegatedScope};
use portico_store::{CustomerSettingsChange, TenantScope};

use crate::ApiError;
use crate::customer_admin::CustomerPayload;
use crate::ids::decode_id;
use crate::request::{access, audit, caller, delegation_in_use, refusal, store, store_error};
use crate::tenancy::Customer;

#[derive(InputObject)]
pub struct UpdateCustomerSettingsInput {
    /// The customer (a `Customer` or `Tenant` id); default: the caller's own tenant.
    pub customer_id: Option<ID>,
    /// The customer's name (1 to 200 characters); unchanged when not given.
    pub name: Option<String>,
    /// Whom to write to, an email address; `""` clears it; unchanged when not given.
    pub contact_email: Option<String>,
    /// Whom to call: up to 40 digits, spaces and `+ - ( )`, at least 3 digits; `""` clears
    /// it; unchanged when not given.
    pub contact_phone: Option<String>,
    /// The `version` the caller read (`Customer.version`, `Tenant.version`); a customer changed
    /// since is BAD_USER_INPUT naming `expectedVersion`.
    pub expected_version: i64,
}

/// The tenant `customerId` names (or the caller's own), NOT_FOUND when there is none.
fn target(ctx: &Context<'_>, id: Option<&ID>) -> async_graphql::Result<model::Tenant> {
    let caller = caller(ctx)?;
    let access = access(ctx)?;
    match id {
        None => Ok(caller.tenant.clone()),
        Some(id) => decode_id("Customer", id)
            .or_else(|| decode_id("Tenant", id))
            .and_then(|raw| access.directory().tenant(&raw).cloned())
            .filter(|t| t.deleted_at.is_none())
            .ok_or_else(|| ApiError::NotFound("customer").extend()),
    }
}

#[derive(Default)]
pub struct CustomerSettingsMutations;

#[Object]
impl CustomerSettingsMutations {
    /// Changes a customer's settings: its name and contacts. For the customer's own admin
    /// (`customerId` may be left out), and for its reseller's admins under an active
    /// SETTINGS_ADMIN delegation assigned to them (audited in both tenants' logs, naming the
    /// delegation).
    async fn update_customer_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerSettingsInput,
    ) -> async_graphql::Result<CustomerPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let tenant = target(ctx, input.customer_id.as_ref())?;
        let facts = access.facts(Kind::Settings, &tenant);
        let decision = access.decide(Action::Update, &facts);
        if !decision.allowed {
            return Err(refusal(access, &tenant));
        }
        let (scope, delegated) = if facts.relation == Relation::OwnCustomer {
            // Acting in a customer: name the active delegation that allowed it.
            let used = delegation_in_use(ctx, caller, &tenant, DelegatedScope::SettingsAdmin)
                .await?
                .ok_or_else(|| refusal(access, &tenant))?;
            let scope = TenantScope::of([tenant.id.clone(), caller.tenant.id.clone()]);
            (scope, Some(used))
        } else {
            (TenantScope::single(tenant.id.clone()), None)
        };
        let change = CustomerSettingsChange {
            name: input.name,
            contact_email: input.contact_email,
            contact_phone: input.contact_phone,
        };
        let changed = store(ctx)?
            .update_customer_settings(
                &scope,
                &tenant.id,
                input.expected_version,
                &change,
                &audit(caller, &decision.reason),
                delegated.as_ref(),
            )
            .await
            .map_err(store_error)?;
        let customer = Customer::visible(access, &changed)
            .ok_or_else(|| ApiError::NotFound("customer").extend())?;
        Ok(CustomerPayload { customer })
    }
}
