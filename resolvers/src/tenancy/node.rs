//! `node(id)`: any object with a global id, each kind through its own visibility rule.

use async_graphql::{Context, ErrorExtensions, ID, Interface};
use chrono::Utc;
use portico_policies::{Action, Kind};

use super::{Customer, Delegation, customer};
use crate::ApiError;
use crate::ids::decode_id;
use crate::request::{access, portal, store, store_error};
use crate::types::{Tenant, User};

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
            .managed_user(
                &scope.union_with(access.actor_tenant().map(|t| t.id.clone())),
                &raw,
            )
            .await
            .map_err(store_error)?;
        return user
            .filter(|m| {
                access
                    .user_facts(&m.user)
                    .is_some_and(|f| access.allows(Action::Read, &f))
            })
            .map(|m| Node::User(User::from(&m)))
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
