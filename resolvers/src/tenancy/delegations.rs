//! Delegations: the admin scopes a customer delegates to its reseller, as `delegations` and
//! `node` show it (the mutations are in `delegation_mutations.rs`).

use async_graphql::{ComplexObject, Context, Enum, ErrorExtensions, ID, SimpleObject};
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind};
use portico_store::model;

use crate::ApiError;
use crate::authz::Access;
use crate::ids::encode_id;
use crate::request::{access, store, store_error};
use crate::types::Tenant;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelegatedScope {
    #[graphql(name = "USER_ADMIN")]
    UserAdmin,
    #[graphql(name = "SETTINGS_ADMIN")]
    SettingsAdmin,
    #[graphql(name = "SUPPORT_READONLY")]
    SupportReadonly,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DelegationStatus {
    #[graphql(name = "PENDING")]
    Pending,
    #[graphql(name = "ACTIVE")]
    Active,
    #[graphql(name = "REJECTED")]
    Rejected,
    #[graphql(name = "REVOKED")]
    Revoked,
    /// Approved, but past its expiry.
    #[graphql(name = "EXPIRED")]
    Expired,
}

/// A customer's delegation of admin scopes to its reseller.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Delegation {
    pub id: ID,
    pub scopes: Vec<DelegatedScope>,
    pub status: DelegationStatus,
    pub expires_at: DateTime<Utc>,
    #[graphql(skip)]
    pub reseller_id: String,
    #[graphql(skip)]
    pub customer_id: String,
}

#[ComplexObject]
impl Delegation {
    async fn reseller(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        tenant_ref(ctx, &self.reseller_id)
    }

    async fn customer(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        tenant_ref(ctx, &self.customer_id)
    }
}

/// A tenant named by an object the caller may read: its public profile comes with it.
fn tenant_ref(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Tenant> {
    access(ctx)?
        .directory()
        .tenant(id)
        .map(Tenant::from)
        .ok_or_else(|| ApiError::Internal.extend())
}

impl Delegation {
    pub fn visible(
        access: &Access,
        d: &model::Delegation,
        now: DateTime<Utc>,
    ) -> Option<Delegation> {
        let customer = access.directory().tenant(&d.customer_id)?;
        let facts = access.facts(Kind::Delegation, customer);
        if !access.allows(Action::Read, &facts) {
            return None;
        }
        let status = match d.status {
            model::DelegationStatus::Active if d.expires_at <= now => DelegationStatus::Expired,
            model::DelegationStatus::Active => DelegationStatus::Active,
            model::DelegationStatus::Pending => DelegationStatus::Pending,
            model::DelegationStatus::Rejected => DelegationStatus::Rejected,
            model::DelegationStatus::Revoked => DelegationStatus::Revoked,
        };
        Some(Delegation {
            id: encode_id("Delegation", &d.id),
            scopes: d
                .scopes
                .iter()
                .map(|s| match s {
                    model::DelegatedScope::UserAdmin => DelegatedScope::UserAdmin,
                    model::DelegatedScope::SettingsAdmin => DelegatedScope::SettingsAdmin,
                    model::DelegatedScope::SupportReadonly => DelegatedScope::SupportReadonly,
                })
                .collect(),
            status,
            expires_at: d.expires_at,
            reseller_id: d.reseller_id.clone(),
            customer_id: d.customer_id.clone(),
        })
    }
}

/// The delegations the caller may see: its tenant's own (given or held), or all for platform admins.
pub async fn delegations(
    ctx: &Context<'_>,
    status: Option<DelegationStatus>,
) -> async_graphql::Result<Vec<Delegation>> {
    let access = access(ctx)?;
    let scope = access.scope(Kind::Delegation);
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let rows = store(ctx)?.delegations(&scope).await.map_err(store_error)?;
    let now = Utc::now();
    Ok(rows
        .iter()
        .filter_map(|d| Delegation::visible(access, d, now))
        .filter(|d| status.is_none_or(|s| s == d.status))
        .collect())
}
