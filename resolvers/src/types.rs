use async_graphql::{ComplexObject, Context, Enum, ID, SimpleObject};
use portico_store::model;

use crate::ids::encode_id;

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TenantKind {
    Platform,
    Reseller,
    Customer,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    #[graphql(name = "EU")]
    Eu,
    #[graphql(name = "NA")]
    Na,
    #[graphql(name = "APAC")]
    Apac,
}

impl From<model::Region> for Region {
    fn from(r: model::Region) -> Self {
        match r {
            model::Region::Eu => Region::Eu,
            model::Region::Na => Region::Na,
            model::Region::Apac => Region::Apac,
        }
    }
}

impl From<Region> for model::Region {
    fn from(r: Region) -> Self {
        match r {
            Region::Eu => model::Region::Eu,
            Region::Na => model::Region::Na,
            Region::Apac => model::Region::Apac,
        }
    }
}

/// A tenant: the platform, a reseller or a customer.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Tenant {
    pub id: ID,
    pub slug: String,
    pub name: String,
    pub kind: TenantKind,
    /// A customer's region; resellers and the platform have none.
    pub region: Option<Region>,
}

#[ComplexObject]
impl Tenant {
    /// The tenant's users by email, invitations included: for its admins, and for the
    /// reseller's admins or support while the customer delegates USER_ADMIN or
    /// SUPPORT_READONLY; otherwise `null` with FIELD_MASKED.
    #[graphql(complexity = "crate::limits::cost::page(first, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Option<crate::user_admin::UserConnection>> {
        crate::user_admin::tenant_users(ctx, &self.id, first, after).await
    }

    /// The tenant's service accounts (integration credentials), oldest first: for its own
    /// admins; otherwise `null` with FIELD_MASKED.
    async fn service_accounts(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::service_accounts::ServiceAccount>>> {
        crate::service_accounts::tenant_service_accounts(ctx, &self.id).await
    }

    /// A setting: whom to write to (customers; `updateCustomerSettings`). For the tenant's own
    /// admins, its reseller's staff who read it, and platform admins inside a support window;
    /// otherwise `null` with FIELD_MASKED.
    async fn contact_email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(settings_field(ctx, &self.id, "contactEmail")?.and_then(|t| t.contact_email))
    }

    /// A setting: whom to call. Readable as `contactEmail` is.
    async fn contact_phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(settings_field(ctx, &self.id, "contactPhone")?.and_then(|t| t.contact_phone))
    }

    /// For `updateCustomerSettings(expectedVersion:)`: bumped by every change to the tenant.
    /// Readable as the settings are.
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(settings_field(ctx, &self.id, "version")?.map(|t| t.version))
    }
}

/// The tenant a `Tenant` id names with the facts of its settings, if the caller may read
/// `field` of them; otherwise the mask is recorded and `None` given.
fn settings_field(
    ctx: &Context<'_>,
    id: &ID,
    field: &str,
) -> async_graphql::Result<Option<model::Tenant>> {
    let access = crate::request::access(ctx)?;
    let Some(tenant) = crate::ids::decode_id("Tenant", id)
        .and_then(|raw| access.directory().tenant(&raw).cloned())
    else {
        return Ok(None);
    };
    let facts = access.facts(portico_policies::Kind::Settings, &tenant);
    if access.field_allowed(&facts, field) {
        Ok(Some(tenant))
    } else {
        access.mask(crate::request::field_path(ctx));
        Ok(None)
    }
}

impl From<&model::Tenant> for Tenant {
    fn from(t: &model::Tenant) -> Self {
        Tenant {
            id: encode_id("Tenant", &t.id),
            slug: t.slug.clone(),
            name: t.name.clone(),
            kind: match t.kind {
                model::TenantKind::Platform => TenantKind::Platform,
                model::TenantKind::Reseller => TenantKind::Reseller,
                model::TenantKind::Customer => TenantKind::Customer,
            },
            region: t.region.map(Region::from),
        }
    }
}

/// A person who signs in to a portal (or has been invited to).
#[derive(SimpleObject, Debug, Clone)]
pub struct User {
    pub id: ID,
    pub email: String,
    pub name: String,
    pub status: UserStatus,
    /// The roles the user holds in their own tenant.
    pub roles: Vec<Role>,
    /// A sales rep's regions (empty for every other role).
    pub regions: Vec<Region>,
    /// For `expectedVersion`: bumped by every change to the user or its roles.
    pub version: i64,
}

impl User {
    /// The user and the roles they hold.
    pub fn of(u: &model::User, roles: &[model::Role], regions: &[model::Region]) -> Self {
        User {
            id: encode_id("User", &u.id),
            email: u.email.clone(),
            name: u.display_name.clone(),
            status: u.status().into(),
            roles: roles.iter().copied().map(Role::from).collect(),
            regions: regions.iter().copied().map(Region::from).collect(),
            version: u.version,
        }
    }
}

impl From<&portico_store::ManagedUser> for User {
    fn from(m: &portico_store::ManagedUser) -> Self {
        let roles: Vec<model::Role> = m.roles.iter().map(|a| a.role).collect();
        let mut regions: Vec<model::Region> = m
            .roles
            .iter()
            .flat_map(|a| a.regions.iter().copied())
            .collect();
        regions.sort();
        regions.dedup();
        User::of(&m.user, &roles, &regions)
    }
}

/// Where a user stands.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    /// Invited; binds to the person at their first sign-in with the invited, verified email.
    Invited,
    Active,
    /// May not sign in; rows and history stay.
    Deactivated,
}

impl From<model::UserStatus> for UserStatus {
    fn from(s: model::UserStatus) -> Self {
        match s {
            model::UserStatus::Invited => UserStatus::Invited,
            model::UserStatus::Active => UserStatus::Active,
            model::UserStatus::Deactivated => UserStatus::Deactivated,
        }
    }
}

/// A role in a tenant. Each kind of tenant has its own: the platform `PLATFORM_ADMIN`; a
/// reseller `RESELLER_ADMIN`, `PRICING_MANAGER`, `SALES_REP` (with regions), `SUPPORT`; a
/// customer `CUSTOMER_ADMIN`, `BUYER`, `VIEWER`.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    PlatformAdmin,
    ResellerAdmin,
    PricingManager,
    SalesRep,
    Support,
    CustomerAdmin,
    Buyer,
    Viewer,
}

impl From<model::Role> for Role {
    fn from(r: model::Role) -> Self {
        match r {
            model::Role::PlatformAdmin => Role::PlatformAdmin,
            model::Role::ResellerAdmin => Role::ResellerAdmin,
            model::Role::PricingManager => Role::PricingManager,
            model::Role::SalesRep => Role::SalesRep,
            model::Role::Support => Role::Support,
            model::Role::CustomerAdmin => Role::CustomerAdmin,
            model::Role::Buyer => Role::Buyer,
            model::Role::Viewer => Role::Viewer,
        }
    }
}

impl From<Role> for model::Role {
    fn from(r: Role) -> Self {
        match r {
            Role::PlatformAdmin => model::Role::PlatformAdmin,
            Role::ResellerAdmin => model::Role::ResellerAdmin,
            Role::PricingManager => model::Role::PricingManager,
            Role::SalesRep => model::Role::SalesRep,
            Role::Support => model::Role::Support,
            Role::CustomerAdmin => model::Role::CustomerAdmin,
            Role::Buyer => model::Role::Buyer,
            Role::Viewer => model::Role::Viewer,
        }
    }
}

/// The signed-in caller: who they are, their own tenant, and what Portico's database (never the
/// token) says they may do.
#[derive(SimpleObject, Debug, Clone)]
pub struct Viewer {
    pub user: User,
    pub tenant: Tenant,
    /// Role names, e.g. `buyer`, `sales_rep`.
    pub roles: Vec<String>,
    /// The regions the roles reach.
    pub regions: Vec<Region>,
}

impl From<&crate::Caller> for Viewer {
    fn from(c: &crate::Caller) -> Self {
        Viewer {
            user: User::from(&portico_store::ManagedUser {
                user: c.user.clone(),
                roles: c.assignments.clone(),
            }),
            tenant: Tenant::from(&c.tenant),
            roles: c.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            regions: c.regions.iter().copied().map(Region::from).collect(),
        }
    }
}
