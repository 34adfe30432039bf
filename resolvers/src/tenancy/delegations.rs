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
    /// Declined by the customer's admin.
    #[graphql(name = "DECLINED")]
    Declined,
    #[graphql(name = "REVOKED")]
    Revoked,
    /// Approved and past its end, or a request nobody answered within 90 days.
    #[graphql(name = "EXPIRED")]
    Expired,
}

/// A customer's delegation of admin scopes to its reseller: asked for a duration, approved (or
/// declined) by the customer, active until its end unless revoked by either side, and used only
/// by the reseller staff it is assigned to.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Delegation {
    pub id: ID,
    pub scopes: Vec<DelegatedScope>,
    pub status: DelegationStatus,
    /// Its end (while pending: the end it would have if approved now). The same as `endsAt`.
    pub expires_at: DateTime<Utc>,
    pub requested_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    /// When it stopped: declined, revoked, expired or lapsed.
    pub ended_at: Option<DateTime<Utc>>,
    /// The user who declined or revoked it; `null` when it expired or lapsed.
    pub ended_by: Option<ID>,
    /// The reseller's note with the request.
    pub message: Option<String>,
    /// Extended by 180 days at its end instead of expiring.
    pub auto_extend: bool,
    /// The reseller staff it is assigned to (ids of `User`s): only they use its scopes.
    pub assignees: Vec<ID>,
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
        // Past its end or lapsed is EXPIRED at once, before the expiry job writes it.
        let lapsed = d.requested_at + chrono::Duration::days(portico_store::LAPSE_DAYS) <= now;
        let status = match d.status {
            model::DelegationStatus::Active if d.expires_at <= now => DelegationStatus::Expired,
            model::DelegationStatus::Active => DelegationStatus::Active,
            model::DelegationStatus::Pending if lapsed => DelegationStatus::Expired,
            model::DelegationStatus::Pending => DelegationStatus::Pending,
            model::DelegationStatus::Declined => DelegationStatus::Declined,
            model::DelegationStatus::Revoked => DelegationStatus::Revoked,
            model::DelegationStatus::Expired => DelegationStatus::Expired,
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
            requested_at: d.requested_at,
            approved_at: d.approved_at,
            ends_at: d.expires_at,
            ended_at: d.ended_at,
            ended_by: d.ended_by.as_deref().map(|u| encode_id("User", u)),
            message: d.message.clone(),
            auto_extend: d.auto_extend,
            assignees: d.assignees.iter().map(|u| encode_id("User", u)).collect(),
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
