//! User administration: `Tenant.users` (a page, for whoever may read the tenant's users) and the
//! mutations that invite, change the roles of, deactivate and reactivate users — in the
//! caller's own tenant, or in a customer of the caller's reseller under an active `USER_ADMIN`
//! delegation (then audited in both tenants, naming the delegation). Who may act, and which
//! roles they may hand out, is the policy's (`manage`, `assign`); a tenant the caller may not
//! see is NOT_FOUND, one it sees but may not administer FORBIDDEN.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Object, SimpleObject};
use portico_policies::{Action, Kind, Relation, Resource};
use portico_store::model::{self, DelegatedScope};
use portico_store::{DelegatedUse, ManagedUser, NewInvitation, RoleSet, TenantScope};

use crate::ApiError;
use crate::Caller;
use crate::ids::decode_id;
use crate::pagination::{PageInfo, decode_key_cursor, key_cursor, page_size};
use crate::request::{
    access, audit, caller, delegation_in_use, field_path, refusal, store, store_error,
};
use crate::types::{Region, Role, User};

#[derive(InputObject)]
pub struct InviteUserInput {
    /// The tenant to invite into (a `Tenant` or `Customer` id); default: the caller's own.
    pub tenant_id: Option<ID>,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// A sales rep's regions (required with `SALES_REP`, refused without it).
    #[graphql(default)]
    pub regions: Vec<Region>,
}

#[derive(InputObject)]
pub struct UpdateUserRolesInput {
    pub id: ID,
    /// The user's roles from now on (replacing all of them).
    pub roles: Vec<Role>,
    #[graphql(default)]
    pub regions: Vec<Region>,
    /// The `version` the caller read; a user changed since is BAD_USER_INPUT naming `expectedVersion`.
    pub expected_version: i64,
}

#[derive(InputObject)]
pub struct UserIdInput {
    pub id: ID,
}

#[derive(SimpleObject)]
pub struct UserPayload {
    pub user: User,
}

/// A page of users.
#[derive(SimpleObject)]
pub struct UserConnection {
    pub edges: Vec<UserEdge>,
    pub page_info: PageInfo,
}

#[derive(SimpleObject)]
pub struct UserEdge {
    pub cursor: String,
    pub node: User,
}

/// The policy's answer to "may the caller manage users with these facts", the write's scope,
/// and, for a reseller acting in its customer, the delegation it acts under.
async fn authorize(
    ctx: &Context<'_>,
    caller: &Caller,
    tenant: &model::Tenant,
    facts: &Resource,
    roles: Option<&RoleSet>,
) -> async_graphql::Result<(String, TenantScope, Option<DelegatedUse>)> {
    let access = access(ctx)?;
    let decision = access.decide(Action::Manage, facts);
    if !decision.allowed {
        return Err(refusal(access, tenant));
    }
    for role in roles.map(|r| r.roles.as_slice()).unwrap_or_default() {
        if !access.may_assign(facts, *role) {
            return Err(
                ApiError::RoleCeiling(role.as_str()).extend_with(|_, e| e.set("field", "roles"))
            );
        }
    }
    if facts.relation != Relation::OwnCustomer {
        return Ok((
            decision.reason,
            TenantScope::single(tenant.id.clone()),
            None,
        ));
    }
    // Acting in a customer: name the active delegation that allowed it.
    let scope = TenantScope::of([tenant.id.clone(), caller.tenant.id.clone()]);
    let used = delegation_in_use(ctx, caller, tenant, DelegatedScope::UserAdmin)
        .await?
        .ok_or_else(|| refusal(access, tenant))?;
    Ok((decision.reason, scope, Some(used)))
}

fn role_set(roles: Vec<Role>, regions: Vec<Region>) -> RoleSet {
    RoleSet {
        roles: roles.into_iter().map(model::Role::from).collect(),
        regions: regions.into_iter().map(model::Region::from).collect(),
    }
}

/// The user a `User` id names, with the facts of that user, if the caller may see it;
/// NOT_FOUND otherwise.
async fn visible_user(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<(ManagedUser, model::Tenant, Resource)> {
    let access = access(ctx)?;
    let not_found = || ApiError::NotFound("user").extend();
    let raw = decode_id("User", id).ok_or_else(not_found)?;
    let scope = access
        .scope(Kind::User)
        .union_with(access.actor_tenant().map(|t| t.id.clone()));
    let user = store(ctx)?
        .managed_user(&scope, &raw)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    let facts = access.user_facts(&user.user).ok_or_else(not_found)?;
    if !access.allows(Action::Read, &facts) {
        return Err(not_found());
    }
    let tenant = access
        .directory()
        .tenant(&user.user.tenant_id)
        .cloned()
        .ok_or_else(not_found)?;
    Ok((user, tenant, facts))
}

/// Deactivate or reactivate.
async fn set_active(
    ctx: &Context<'_>,
    input: UserIdInput,
    active: bool,
) -> async_graphql::Result<UserPayload> {
    let caller = caller(ctx)?;
    let (target, tenant, facts) = visible_user(ctx, &input.id).await?;
    let (reason, scope, delegated) = authorize(ctx, caller, &tenant, &facts, None).await?;
    let changed = store(ctx)?
        .set_user_active(
            &scope,
            &target.user.id,
            active,
            &audit(caller, &reason),
            delegated.as_ref(),
        )
        .await
        .map_err(store_error)?;
    Ok(UserPayload {
        user: User::from(&changed),
    })
}

#[derive(Default)]
pub struct UserMutations;

#[Object]
impl UserMutations {
    /// Invites a person into the caller's tenant (or, under `USER_ADMIN`, into a customer's):
    /// the user is INVITED until they first sign in through the portal's identity provider with
    /// this email, verified by the provider. Only roles of the tenant's kind that the caller
    /// may hand out.
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        input: InviteUserInput,
    ) -> async_graphql::Result<UserPayload> {
        let caller = caller(ctx)?;
        let access = access(ctx)?;
        let tenant = match &input.tenant_id {
            None => caller.tenant.clone(),
            Some(id) => decode_id("Tenant", id)
                .or_else(|| decode_id("Customer", id))
                .and_then(|raw| access.directory().tenant(&raw).cloned())
                .filter(|t| t.deleted_at.is_none())
                .ok_or_else(|| ApiError::NotFound("tenant").extend())?,
        };
        let facts = access.facts(Kind::User, &tenant);
        let roles = role_set(input.roles, input.regions);
        let (reason, scope, delegated) =
            authorize(ctx, caller, &tenant, &facts, Some(&roles)).await?;
        let invitation = NewInvitation {
            tenant_id: tenant.id.clone(),
            email: input.email,
            name: input.name,
            roles,
        };
        let invited = store(ctx)?
            .invite_user(
                &scope,
                &invitation,
                &audit(caller, &reason),
                delegated.as_ref(),
            )
            .await
            .map_err(store_error)?;
        Ok(UserPayload {
            user: User::from(&invited),
        })
    }

    /// Replaces a user's roles (and a sales rep's regions). Nobody changes their own roles, and
    /// a tenant's last active admin keeps the admin role.
    async fn update_user_roles(
        &self,
        ctx: &Context<'_>,
        input: UpdateUserRolesInput,
    ) -> async_graphql::Result<UserPayload> {
        let caller = caller(ctx)?;
        let (target, tenant, facts) = visible_user(ctx, &input.id).await?;
        let roles = role_set(input.roles, input.regions);
        let (reason, scope, delegated) =
            authorize(ctx, caller, &tenant, &facts, Some(&roles)).await?;
        let changed = store(ctx)?
            .update_user_roles(
                &scope,
                &target.user.id,
                input.expected_version,
                &roles,
                &audit(caller, &reason),
                delegated.as_ref(),
            )
            .await
            .map_err(store_error)?;
        Ok(UserPayload {
            user: User::from(&changed),
        })
    }

    /// Stops a user from signing in (their sessions end on their next request). A tenant's
    /// last active admin stays active.
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> async_graphql::Result<UserPayload> {
        set_active(ctx, input, false).await
    }

    /// Lets a deactivated user sign in again.
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> async_graphql::Result<UserPayload> {
        set_active(ctx, input, true).await
    }
}

/// `Tenant.users`: a page of the tenant's users by email, for whoever may read them (its
/// admins; the reseller's admins or support under USER_ADMIN or SUPPORT_READONLY); otherwise
/// `null` with FIELD_MASKED.
pub(crate) async fn tenant_users(
    ctx: &Context<'_>,
    tenant_id: &ID,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<Option<UserConnection>> {
    let access = access(ctx)?;
    let Some(tenant) =
        decode_id("Tenant", tenant_id).and_then(|raw| access.directory().tenant(&raw).cloned())
    else {
        return Ok(None);
    };
    if !access.allows(Action::Read, &access.facts(Kind::User, &tenant)) {
        access.mask(field_path(ctx));
        return Ok(None);
    }
    let size = page_size(first)?;
    let after = after.as_deref().map(decode_key_cursor).transpose()?;
    let scope = TenantScope::single(tenant.id.clone());
    let mut users = store(ctx)?
        .users_page(&scope, &tenant.id, size as i64 + 1, after.as_deref())
        .await
        .map_err(store_error)?;
    let has_next_page = users.len() > size;
    users.truncate(size);
    let edges: Vec<UserEdge> = users
        .iter()
        .map(|m| UserEdge {
            cursor: key_cursor(&m.user.email),
            node: User::from(m),
        })
        .collect();
    Ok(Some(UserConnection {
        page_info: PageInfo {
            has_next_page,
            has_previous_page: after.is_some(),
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    }))
}
