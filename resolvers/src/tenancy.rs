//! Customers, users and delegations: what exists so far to apply the policy to. Every object is
//! looked up inside the scope the policy derives, post-checked against the policy, and another
//! tenant's object is NOT_FOUND (never FORBIDDEN: existence does not leak).

use async_graphql::{
    ComplexObject, Context, Enum, ErrorExtensions, ID, Interface, Object, SimpleObject,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind};
use portico_store::model;

use crate::ApiError;
use crate::authz::Access;
use crate::ids::{decode_id, encode_id};
use crate::request::{access, portal, store, store_error, visible_customer};
use crate::types::{Region, Tenant, User};

pub const MAX_PAGE: usize = 100;
pub const DEFAULT_PAGE: usize = 20;

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

/// `Some(())` when the field may be read; otherwise records the mask and gives `None`.
fn readable(
    ctx: &Context<'_>,
    access: &Access,
    facts: &portico_policies::Resource,
    field: &str,
) -> Option<()> {
    if access.field_allowed(facts, field) {
        Some(())
    } else {
        access.mask(field_path(ctx));
        None
    }
}

/// A reseller's customer, as its console sees it.
pub struct Customer {
    id: ID,
    tenant: model::Tenant,
    facts: portico_policies::Resource,
}

#[Object]
impl Customer {
    async fn id(&self) -> &ID {
        &self.id
    }

    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "name").map(|_| self.tenant.name.clone()))
    }

    async fn region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Region>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "region").and(self.tenant.region.map(Region::from)))
    }

    /// The customer's users: its own admins, and the reseller's admins or support while the
    /// customer grants them USER_ADMIN or SUPPORT_READONLY; otherwise `null` with FIELD_MASKED.
    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<User>>> {
        let access = access(ctx)?;
        if readable(ctx, access, &self.facts, "users").is_none() {
            return Ok(None);
        }
        let scope = portico_store::TenantScope::single(self.tenant.id.clone());
        let users = store(ctx)?
            .users_of_tenant(&scope, &self.tenant.id)
            .await
            .map_err(store_error)?;
        Ok(Some(users.iter().map(User::from).collect()))
    }

    /// The customer's contract prices with its reseller: for the reseller's pricing staff (sales
    /// reps in their regions) and the customer's own admins; otherwise FIELD_MASKED.
    async fn contract_prices(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::catalog_admin::ContractPrice>>> {
        let access = access(ctx)?;
        if readable(ctx, access, &self.facts, "contractPrices").is_none() {
            return Ok(None);
        }
        crate::catalog_admin::contract_prices(ctx, &self.tenant)
            .await
            .map(Some)
    }
}

impl Customer {
    /// The customer if the caller may read it.
    pub fn visible(access: &Access, tenant: &model::Tenant) -> Option<Customer> {
        if tenant.kind != model::TenantKind::Customer || tenant.deleted_at.is_some() {
            return None;
        }
        let facts = access.facts(Kind::Customer, tenant);
        access.allows(Action::Read, &facts).then(|| Customer {
            id: encode_id("Customer", &tenant.id),
            tenant: tenant.clone(),
            facts,
        })
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct CustomerEdge {
    pub cursor: String,
    pub node: Customer,
}

#[derive(SimpleObject)]
pub struct CustomerConnection {
    pub edges: Vec<CustomerEdge>,
    pub page_info: PageInfo,
    /// Customers the caller may see (with the region filter applied).
    pub total_count: usize,
}

fn cursor(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_cursor(c: &str) -> Option<usize> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()?;
    text.strip_prefix("offset:")?.parse().ok()
}

/// `first` of a connection: the default page, or 0 to `MAX_PAGE`.
pub fn page_size(first: Option<i32>) -> async_graphql::Result<usize> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => Ok(n as usize),
        Some(_) => Err(ApiError::BadUserInput {
            field: "first".into(),
            message: format!("must be 0 to {MAX_PAGE}"),
        }
        .extend()),
    }
}

/// An `after` that this connection did not hand out.
pub fn bad_cursor() -> async_graphql::Error {
    ApiError::BadUserInput {
        field: "after".into(),
        message: "not a cursor from this connection".into(),
    }
    .extend()
}

pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<(usize, usize)> {
    let first = page_size(first)?;
    let start = match after {
        None => 0,
        Some(c) => decode_cursor(&c).map(|o| o + 1).ok_or_else(bad_cursor)?,
    };
    Ok((first, start))
}

/// The customers in the caller's scope, by name.
pub fn customers(
    access: &Access,
    first: Option<i32>,
    after: Option<String>,
    region: Option<Region>,
) -> async_graphql::Result<CustomerConnection> {
    let (first, start) = page_args(first, after)?;
    let scope = access.scope(Kind::Customer);
    let mut all: Vec<Customer> = access
        .directory()
        .tenants
        .iter()
        .filter(|t| scope.contains(&t.id))
        .filter(|t| region.is_none_or(|r| t.region.map(Region::from) == Some(r)))
        // Post-check: the scope came from the same policy; this is the belt to its braces.
        .filter_map(|t| Customer::visible(access, t))
        .collect();
    all.sort_by(|a, b| {
        a.tenant
            .name
            .cmp(&b.tenant.name)
            .then(a.tenant.id.cmp(&b.tenant.id))
    });
    let total_count = all.len();
    let edges: Vec<CustomerEdge> = all
        .into_iter()
        .enumerate()
        .skip(start)
        .take(first)
        .map(|(i, node)| CustomerEdge {
            cursor: cursor(i),
            node,
        })
        .collect();
    Ok(CustomerConnection {
        page_info: PageInfo {
            has_next_page: start + edges.len() < total_count,
            has_previous_page: start > 0,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
        total_count,
    })
}

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

/// A customer's grant of delegated admin scopes to its reseller.
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

/// The grants the caller may see: its tenant's own (given or held), or all for platform admins.
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

/// Anything with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "&ID"))]
pub enum Node {
    Product(crate::catalog::Product),
    Tenant(Tenant),
    Customer(Customer),
    User(User),
    Delegation(Delegation),
}

fn not_found(what: &'static str) -> async_graphql::Error {
    ApiError::NotFound(what).extend()
}

/// `customer(id)`: NOT_FOUND unless the caller may read it.
pub fn customer(access: &Access, id: &str) -> async_graphql::Result<Customer> {
    let tenant = visible_customer(access, id)?;
    Customer::visible(access, &tenant).ok_or_else(|| not_found("customer"))
}

/// `node(id)`: any kind, each through its own visibility rule.
pub async fn node(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Node> {
    let access = access(ctx)?;
    if let Some(raw) = decode_id("Tenant", id) {
        let tenant = access
            .directory()
            .tenant(&raw)
            .filter(|t| t.deleted_at.is_none());
        // The portal's own profile is public; any other tenant needs a read rule.
        let portal = portal(ctx).ok().map(|p| p.tenant.id.as_str());
        return tenant
            .filter(|t| {
                Some(t.id.as_str()) == portal
                    || access.allows(Action::Read, &access.facts(Kind::Tenant, t))
            })
            .map(|t| Node::Tenant(Tenant::from(t)))
            .ok_or_else(|| not_found("node"));
    }
    if decode_id("Product", id).is_some() {
        return crate::catalog::product(ctx, id)
            .await
            .map(Node::Product)
            .map_err(|_| not_found("node"));
    }
    if decode_id("Customer", id).is_some() {
        return customer(access, id)
            .map(Node::Customer)
            .map_err(|_| not_found("node"));
    }
    if let Some(raw) = decode_id("User", id) {
        let scope = access.scope(Kind::User);
        let user = store(ctx)?
            .user_by_id(
                &scope.union_with(access.actor_tenant().map(|t| t.id.clone())),
                &raw,
            )
            .await
            .map_err(store_error)?;
        return user
            .filter(|u| {
                access
                    .user_facts(u)
                    .is_some_and(|f| access.allows(Action::Read, &f))
            })
            .map(|u| Node::User(User::from(&u)))
            .ok_or_else(|| not_found("node"));
    }
    if let Some(raw) = decode_id("Delegation", id) {
        let scope = access.scope(Kind::Delegation);
        if scope.is_empty() {
            return Err(not_found("node"));
        }
        let rows = store(ctx)?.delegations(&scope).await.map_err(store_error)?;
        let now = Utc::now();
        return rows
            .iter()
            .find(|d| d.id == raw)
            .and_then(|d| Delegation::visible(access, d, now))
            .map(Node::Delegation)
            .ok_or_else(|| not_found("node"));
    }
    Err(not_found("node"))
}
