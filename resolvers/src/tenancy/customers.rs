//! A reseller's customers: `customers`, `customer(id)` and the `Customer` object, whose fields
//! the policy may mask one by one.

use async_graphql::{Context, Enum, ErrorExtensions, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind};
use portico_store::model;

use crate::ApiError;
use crate::authz::Access;
use crate::ids::encode_id;
use crate::pagination::{PageInfo, cursor, page_args};
use crate::request::{access, field_path, store, store_error, visible_customer};
use crate::types::{Region, User};

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

/// Where a customer stands with its reseller.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerStatus {
    Active,
    /// Its users are refused at sign-in and on every request (HTTP 403, FORBIDDEN) until its
    /// reseller resumes it; its reseller's staff still see it.
    Suspended,
}

/// A reseller's customer, as its console sees it.
pub struct Customer {
    id: ID,
    tenant: model::Tenant,
    facts: portico_policies::Resource,
}

#[Object]
impl Customer {
    pub(crate) async fn id(&self) -> &ID {
        &self.id
    }

    /// Unique among all tenants: lower-case letters, digits and `-`.
    async fn slug(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "slug").map(|_| self.tenant.slug.clone()))
    }

    async fn name(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "name").map(|_| self.tenant.name.clone()))
    }

    async fn region(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Region>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "region").and(self.tenant.region.map(Region::from)))
    }

    /// ACTIVE or SUSPENDED; read with the customer itself, never masked.
    async fn status(&self) -> CustomerStatus {
        if self.tenant.is_suspended() {
            CustomerStatus::Suspended
        } else {
            CustomerStatus::Active
        }
    }

    /// `status` is SUSPENDED.
    async fn suspended(&self) -> bool {
        self.tenant.is_suspended()
    }

    /// Since when the customer is suspended; `null` while it is active.
    async fn suspended_at(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DateTime<Utc>>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "suspendedAt").and(self.tenant.suspended_at))
    }

    /// Why, as the reseller's admin gave it; `null` while the customer is active.
    async fn suspended_reason(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "suspendedReason")
            .and(self.tenant.suspended_reason.clone()))
    }

    /// A setting: whom to write to. For the customer's own admins, the reseller's staff who
    /// read the customer, and platform admins inside a support window; otherwise FIELD_MASKED.
    async fn contact_email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let access = access(ctx)?;
        let settings = access.facts(Kind::Settings, &self.tenant);
        Ok(readable(ctx, access, &settings, "contactEmail").and(self.tenant.contact_email.clone()))
    }

    /// A setting: whom to call. Readable as `contactEmail` is.
    async fn contact_phone(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let access = access(ctx)?;
        let settings = access.facts(Kind::Settings, &self.tenant);
        Ok(readable(ctx, access, &settings, "contactPhone").and(self.tenant.contact_phone.clone()))
    }

    /// For `updateCustomer(expectedVersion:)` and `updateCustomerSettings(expectedVersion:)`:
    /// bumped by every change to the customer.
    async fn version(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        let access = access(ctx)?;
        Ok(readable(ctx, access, &self.facts, "version").map(|_| self.tenant.version))
    }

    /// The customer's users: its own admins, and the reseller's admins or support while the
    /// customer delegates USER_ADMIN or SUPPORT_READONLY; otherwise `null` with FIELD_MASKED.
    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Vec<User>>> {
        let access = access(ctx)?;
        if readable(ctx, access, &self.facts, "users").is_none() {
            return Ok(None);
        }
        let scope = portico_store::TenantScope::single(self.tenant.id.clone());
        let users = store(ctx)?
            .users_page(&scope, &self.tenant.id, i64::MAX, None)
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

/// `customer(id)`: NOT_FOUND unless the caller may read it.
pub fn customer(access: &Access, id: &str) -> async_graphql::Result<Customer> {
    let tenant = visible_customer(access, id)?;
    Customer::visible(access, &tenant).ok_or_else(|| ApiError::NotFound("customer").extend())
}
