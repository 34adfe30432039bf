//! Integration credentials: `Tenant.serviceAccounts` and the mutations that create, rotate
//! and delete a tenant's service accounts (its ERP connectors). Only the caller's own tenant:
//! an integration's credentials are its owner's business, so no delegation reaches them. The
//! secret is in the payload of `createServiceAccount` and `rotateServiceAccountSecret` and
//! never again; a connector trades it for a short-lived token at `POST /oauth/token`.
//!
//! An account acts as a user of its tenant (its `userId`): the same roles and policy, and
//! `deactivateUser` / `reactivateUser` / `updateUserRoles` on that user work as on anyone's.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use portico_policies::{Action, Kind};
use portico_store::{NewServiceAccount, RoleSet, TenantScope, model};

use crate::ApiError;
use crate::ids::{decode_id, encode_id};
use crate::request::{access, audit, caller, field_path, store, store_error};
use crate::types::{Region, Role};

/// Where a connector trades its client id and secret for a token (OAuth 2.0 client
/// credentials, RFC 6749 §4.4), on the portal's own host.
pub const TOKEN_ENDPOINT: &str = "/oauth/token";

/// A tenant's integration credential: it signs in with its client id and secret, never
/// through a browser.
#[derive(SimpleObject, Debug, Clone)]
pub struct ServiceAccount {
    pub id: ID,
    /// The OAuth `client_id` to send to the token endpoint.
    pub client_id: String,
    pub name: String,
    /// The user it acts as (for `deactivateUser`, `updateUserRoles`, and the audit log's actor).
    pub user_id: ID,
    /// False while its user is deactivated: it gets no token.
    pub active: bool,
    pub roles: Vec<Role>,
    pub regions: Vec<Region>,
    /// The last four characters of its current secret, to tell one secret from another.
    pub secret_hint: String,
    pub created_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    /// When it was last given a token.
    pub last_used_at: Option<DateTime<Utc>>,
    /// For `expectedVersion`.
    pub version: i64,
}

impl From<&portico_store::ServiceAccount> for ServiceAccount {
    fn from(a: &portico_store::ServiceAccount) -> Self {
        let held = RoleSet::of(&a.roles);
        ServiceAccount {
            id: encode_id("ServiceAccount", &a.id),
            client_id: a.id.clone(),
            name: a.name.clone(),
            user_id: encode_id("User", &a.user_id),
            active: a.active,
            roles: held.roles.into_iter().map(Role::from).collect(),
            regions: held.regions.into_iter().map(Region::from).collect(),
            secret_hint: a.secret_hint.clone(),
            created_at: a.created_at,
            rotated_at: a.rotated_at,
            last_used_at: a.last_used_at,
            version: a.version,
        }
    }
}

#[derive(InputObject)]
pub struct CreateServiceAccountInput {
    /// What it is for, e.g. "ERP connector".
    pub name: String,
    pub roles: Vec<Role>,
    /// A sales rep's regions (required with `SALES_REP`, refused without it).
    #[graphql(default)]
    pub regions: Vec<Region>,
}

#[derive(InputObject)]
pub struct RotateServiceAccountSecretInput {
    pub id: ID,
    /// The `version` the caller read.
    pub expected_version: i64,
}

#[derive(InputObject)]
pub struct ServiceAccountIdInput {
    pub id: ID,
}

/// A service account with its secret: shown here once, stored only as a digest.
#[derive(SimpleObject)]
pub struct ServiceAccountSecretPayload {
    pub service_account: ServiceAccount,
    pub client_secret: String,
    /// The path of the token endpoint on this portal's host.
    pub token_endpoint: String,
}

#[derive(SimpleObject)]
pub struct DeleteServiceAccountPayload {
    pub deleted_id: ID,
}

/// The policy's reason for letting the caller manage its own tenant's service accounts, the
/// tenant and the facts decided on; FORBIDDEN otherwise (the tenant is the caller's own:
/// nothing to hide).
fn authorize(
    ctx: &Context<'_>,
) -> async_graphql::Result<(String, model::Tenant, portico_policies::Resource)> {
    let caller = caller(ctx)?;
    let access = access(ctx)?;
    let facts = access.facts(Kind::ServiceAccount, &caller.tenant);
    let decision = access.decide(Action::Manage, &facts);
    if !decision.allowed {
        return Err(ApiError::Forbidden.extend());
    }
    Ok((decision.reason, caller.tenant.clone(), facts))
}

/// The raw id of an account of the caller's own tenant; anything else is NOT_FOUND.
fn account_id(id: &ID) -> async_graphql::Result<String> {
    decode_id("ServiceAccount", id).ok_or_else(|| ApiError::NotFound("service account").extend())
}

fn secret_payload(issued: &portico_store::IssuedSecret) -> ServiceAccountSecretPayload {
    ServiceAccountSecretPayload {
        service_account: ServiceAccount::from(&issued.account),
        client_secret: issued.secret.clone(),
        token_endpoint: TOKEN_ENDPOINT.to_owned(),
    }
}

#[derive(Default)]
pub struct ServiceAccountMutations;

#[Object]
impl ServiceAccountMutations {
    /// Creates a service account in the caller's own tenant with roles of the tenant's kind
    /// that the caller may hand out. The payload holds its secret, shown this once.
    async fn create_service_account(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceAccountInput,
    ) -> async_graphql::Result<ServiceAccountSecretPayload> {
        let (reason, tenant, facts) = authorize(ctx)?;
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let roles = RoleSet {
            roles: input.roles.into_iter().map(model::Role::from).collect(),
            regions: input.regions.into_iter().map(model::Region::from).collect(),
        };
        for role in &roles.roles {
            if !access.may_assign(&facts, *role) {
                return Err(ApiError::RoleCeiling(role.as_str())
                    .extend_with(|_, e| e.set("field", "roles")));
            }
        }
        let account = NewServiceAccount {
            tenant_id: tenant.id.clone(),
            name: input.name,
            roles,
        };
        let issued = store(ctx)?
            .create_service_account(
                &TenantScope::single(tenant.id.clone()),
                &account,
                &audit(caller, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(secret_payload(&issued))
    }

    /// Replaces an account's secret (the payload holds the new one, shown this once); the old
    /// secret gets no token from now on.
    async fn rotate_service_account_secret(
        &self,
        ctx: &Context<'_>,
        input: RotateServiceAccountSecretInput,
    ) -> async_graphql::Result<ServiceAccountSecretPayload> {
        let (reason, tenant, _) = authorize(ctx)?;
        let id = account_id(&input.id)?;
        let issued = store(ctx)?
            .rotate_service_account_secret(
                &TenantScope::single(tenant.id.clone()),
                &id,
                input.expected_version,
                &audit(caller(ctx)?, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(secret_payload(&issued))
    }

    /// Deletes an account: its secret gets no token, and its tokens are refused from the next
    /// request on.
    async fn delete_service_account(
        &self,
        ctx: &Context<'_>,
        input: ServiceAccountIdInput,
    ) -> async_graphql::Result<DeleteServiceAccountPayload> {
        let (reason, tenant, _) = authorize(ctx)?;
        let id = account_id(&input.id)?;
        store(ctx)?
            .delete_service_account(
                &TenantScope::single(tenant.id.clone()),
                &id,
                &audit(caller(ctx)?, &reason),
            )
            .await
            .map_err(store_error)?;
        Ok(DeleteServiceAccountPayload {
            deleted_id: input.id,
        })
    }
}

/// `Tenant.serviceAccounts`: for the tenant's own admins; otherwise `null` with FIELD_MASKED.
pub(crate) async fn tenant_service_accounts(
    ctx: &Context<'_>,
    tenant_id: &ID,
) -> async_graphql::Result<Option<Vec<ServiceAccount>>> {
    let access = access(ctx)?;
    let Some(tenant) =
        decode_id("Tenant", tenant_id).and_then(|raw| access.directory().tenant(&raw).cloned())
    else {
        return Ok(None);
    };
    if !access.allows(Action::Read, &access.facts(Kind::ServiceAccount, &tenant)) {
        access.mask(field_path(ctx));
        return Ok(None);
    }
    let accounts = store(ctx)?
        .service_accounts(&TenantScope::single(tenant.id.clone()), &tenant.id)
        .await
        .map_err(store_error)?;
    Ok(Some(accounts.iter().map(ServiceAccount::from).collect()))
}
