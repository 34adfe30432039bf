//! User administration inside a tenant: a page of its users with their roles, invitations,
//! role changes and (de)activation, and binding an invitation to the person who accepts it at
//! their first sign-in. One transaction per change with its audit row and outbox message; a
//! change made by a reseller under a delegation is audited in the customer's chain and again in
//! the reseller's. Who may do what (and which roles they may hand out) is the policy's
//! business, above; the store keeps what must hold whoever asks: valid input, versions, and
//! a tenant that never loses its last admin.

use chrono::{DateTime, Duration, Utc};

use crate::db::scoped;
use crate::delegations::DelegatedUse;
use crate::error::check_version;
use crate::identity::{LIVE_USERS, UserRow, live_user};
use crate::model::*;
use crate::service_accounts::SERVICE_ACCOUNT_ISSUER;
use crate::{Store, StoreError, TenantScope};

/// An invitation nobody accepted within this many days binds to nobody.
pub const INVITATION_DAYS: i64 = 30;

/// The roles that administer a tenant (one per kind of tenant).
pub const ADMIN_ROLES: [Role; 3] = [
    Role::PlatformAdmin,
    Role::ResellerAdmin,
    Role::CustomerAdmin,
];

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// The roles a user holds in their tenant, and the regions of the region-limited one
/// (`sales_rep`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoleSet {
    pub roles: Vec<Role>,
    pub regions: Vec<Region>,
}

impl RoleSet {
    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        if self.roles.is_empty() {
            return Err(invalid("roles", "name at least one role"));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(twice) = self.roles.iter().find(|r| !seen.insert(**r)) {
            return Err(invalid("roles", format!("{twice} appears twice")));
        }
        let rep = self.roles.contains(&Role::SalesRep);
        if rep && self.regions.is_empty() {
            return Err(invalid("regions", "a sales_rep needs at least one region"));
        }
        if !rep && !self.regions.is_empty() {
            return Err(invalid("regions", "only a sales_rep has regions"));
        }
        Ok(())
    }

    /// The roles and (sorted, distinct) regions of a user's assignments.
    pub fn of(assignments: &[RoleAssignment]) -> RoleSet {
        let mut roles: Vec<Role> = assignments.iter().map(|a| a.role).collect();
        roles.sort();
        let mut regions: Vec<Region> = assignments
            .iter()
            .flat_map(|a| a.regions.iter().copied())
            .collect();
        regions.sort();
        regions.dedup();
        RoleSet { roles, regions }
    }

    pub(crate) fn state(&self) -> serde_json::Value {
        serde_json::json!({ "roles": join_list(&self.roles), "regions": join_list(&self.regions) })
    }
}

/// An invitation: who, and the roles they will hold once they sign in.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub tenant_id: TenantId,
    pub email: String,
    pub name: String,
    pub roles: RoleSet,
}

/// A user with their role assignments in their own tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedUser {
    pub user: User,
    pub roles: Vec<RoleAssignment>,
}

/// The role assignments of one user, inside the caller's transaction.
macro_rules! roles_of {
    ($conn:ident, $tenant:expr, $user:expr) => {{
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT role, regions FROM role_assignments WHERE tenant_id = $1 AND user_id = $2 ORDER BY role",
        )
        .bind($tenant)
        .bind($user)
        .fetch_all(&mut *$conn)
        .await?;
        rows.into_iter()
            .map(|(role, regions)| {
                Ok(crate::model::RoleAssignment {
                    tenant_id: $tenant.to_owned(),
                    user_id: $user.to_owned(),
                    role: role.parse()?,
                    regions: crate::model::parse_list(&regions)?,
                })
            })
            .collect::<Result<Vec<_>, crate::StoreError>>()?
    }};
}
pub(crate) use roles_of;

/// Writes a user's role rows (the caller deleted the old ones); regions go on the
/// region-limited role only.
macro_rules! insert_roles {
    ($conn:ident, $tenant:expr, $user:expr, $set:expr, $now:expr) => {{
        for role in &$set.roles {
            let regions = if *role == crate::model::Role::SalesRep {
                crate::model::join_list(&$set.regions)
            } else {
                String::new()
            };
            sqlx::query(
                "INSERT INTO role_assignments (tenant_id, user_id, role, regions, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind($tenant)
            .bind($user)
            .bind(role.as_str())
            .bind(regions)
            .bind($now)
            .execute(&mut *$conn)
            .await
            .map_err(crate::StoreError::from_db)?;
        }
    }};
}
pub(crate) use insert_roles;

/// The tenant's active admins (signed up, not deactivated), inside the caller's transaction.
/// On PostgreSQL the count is taken under a per-tenant lock, so two admins demoting each other
/// at once cannot both pass the last-admin guard.
macro_rules! active_admins {
    ($conn:ident, $d:ident, $tenant:expr) => {{
        if $d == crate::db::Dialect::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext('admins:' || $1))")
                .bind($tenant)
                .execute(&mut *$conn)
                .await?;
        }
        let admins = serde_json::to_string(&ADMIN_ROLES.map(Role::as_str)).expect("strings");
        let sql = format!(
            "SELECT count(DISTINCT u.id) FROM users u JOIN role_assignments r \
             ON r.user_id = u.id AND r.tenant_id = u.tenant_id \
             WHERE u.tenant_id = $1 AND u.deleted_at IS NULL AND u.deactivated_at IS NULL \
             AND u.invited_at IS NULL AND u.issuer <> '{}' AND {}",
            crate::service_accounts::SERVICE_ACCOUNT_ISSUER,
            $d.in_json("r.role", 2)
        );
        let n: i64 = sqlx::query_scalar(&sql)
            .bind($tenant)
            .bind(admins)
            .fetch_one(&mut *$conn)
            .await?;
        n
    }};
}

/// Audits a change to a user in the user's tenant (with its outbox message) and, for a
/// delegated change, again in the reseller's chain (`record_delegated_change!`).
macro_rules! record_user_change {
    ($conn:ident, $d:ident, $tenant:expr, $entry:expr, $delegated:expr, $user:expr) => {{
        crate::outbox::record_delegated_change!(
            $conn,
            $d,
            $tenant,
            $entry,
            $delegated,
            crate::outbox::Topic::User,
            serde_json::json!({ "user": $user })
        )
    }};
}
pub(crate) use record_user_change;

pub(crate) fn check_email(email: &str) -> Result<String, StoreError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(email.to_owned())
    } else {
        Err(invalid(
            "email",
            "must be an email address like name@example.com",
        ))
    }
}

pub(crate) fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

/// Writes an invitation (checked input) inside the caller's write transaction, audited in the
/// tenant's chain (and the reseller's, for a delegated one); evaluates to the `ManagedUser`.
/// Also used by `create_customer` for a new customer's first admin.
macro_rules! insert_invitation {
    ($conn:ident, $d:ident, $scope:expr, $tenant_id:expr, $email:expr, $name:expr, $roles:expr, $audit:expr, $delegated:expr) => {{
        let tenant_id: &str = $tenant_id;
        let email: String = $email;
        let name: String = $name;
        let roles: &crate::users::RoleSet = &$roles;
        let audit: &crate::model::NewAuditEntry = $audit;
        let taken: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM users WHERE tenant_id = $1 AND lower(email) = lower($2) \
             AND deleted_at IS NULL",
        )
        .bind(tenant_id)
        .bind(&email)
        .fetch_one(&mut *$conn)
        .await?;
        if taken > 0 {
            return Err(crate::StoreError::Invalid {
                field: "email",
                message: "is already used in this tenant".into(),
            });
        }
        let id = uuid::Uuid::new_v4().to_string();
        let now = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6);
        sqlx::query(
            "INSERT INTO users (id, tenant_id, issuer, subject, email, display_name, created_at, \
             invited_at, invited_by, version) VALUES ($1, $2, '', $3, $4, $5, $6, $6, $7, 1)",
        )
        .bind(&id)
        .bind(tenant_id)
        .bind(format!("invitation:{id}"))
        .bind(&email)
        .bind(&name)
        .bind(now)
        .bind(&audit.actor)
        .execute(&mut *$conn)
        .await
        .map_err(crate::StoreError::from_db)?;
        crate::users::insert_roles!($conn, tenant_id, &id, roles, now);
        let mut entry = audit.of("user.invited", format!("user:{id}"));
        let mut after = roles.state();
        after["email"] = email.clone().into();
        after["name"] = name.clone().into();
        entry.after_state = Some(after.to_string());
        crate::users::record_user_change!($conn, $d, tenant_id, entry, $delegated, &id);
        let Some(user) = crate::identity::live_user!($conn, $d, $scope, &id) else {
            return Err(crate::StoreError::NotFound { entity: "user" });
        };
        let roles = crate::users::roles_of!($conn, tenant_id, &id);
        crate::users::ManagedUser { user, roles }
    }};
}
pub(crate) use insert_invitation;

impl Store {
    /// A page of a tenant's live users by email (after `after`, an email), with their roles:
    /// two statements whatever the page size.
    pub async fn users_page(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
        first: i64,
        after: Option<&str>,
    ) -> Result<Vec<ManagedUser>, StoreError> {
        if !scope.contains(tenant_id) {
            return Ok(Vec::new());
        }
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "{LIVE_USERS} AND tenant_id = $1 AND {} AND email > $3 AND issuer <> '{SERVICE_ACCOUNT_ISSUER}' \
                 ORDER BY email LIMIT $4",
                d.in_json("tenant_id", 2)
            );
            let users: Vec<UserRow> = sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(scope.json())
                .bind(after.unwrap_or(""))
                .bind(first)
                .fetch_all(&mut *conn)
                .await?;
            let users: Vec<User> = users.into_iter().map(User::from).collect();
            let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
            let sql = format!(
                "SELECT user_id, role, regions FROM role_assignments WHERE tenant_id = $1 AND {} \
                 ORDER BY role",
                d.in_json("user_id", 2)
            );
            let rows: Vec<(String, String, String)> = sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(serde_json::to_string(&ids).expect("strings serialize"))
                .fetch_all(&mut *conn)
                .await?;
            let mut out: Vec<ManagedUser> = users
                .into_iter()
                .map(|user| ManagedUser {
                    user,
                    roles: Vec::new(),
                })
                .collect();
            for (user_id, role, regions) in rows {
                if let Some(m) = out.iter_mut().find(|m| m.user.id == user_id) {
                    m.roles.push(RoleAssignment {
                        tenant_id: tenant_id.to_owned(),
                        user_id,
                        role: role.parse()?,
                        regions: parse_list(&regions)?,
                    });
                }
            }
            Ok(out)
        })
    }

    /// One live user in scope with their roles.
    pub async fn managed_user(
        &self,
        scope: &TenantScope,
        user_id: &str,
    ) -> Result<Option<ManagedUser>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let Some(user) = live_user!(conn, d, scope, user_id) else {
                return Ok(None);
            };
            let roles = roles_of!(conn, &user.tenant_id, &user.id);
            Ok(Some(ManagedUser { user, roles }))
        })
    }

    /// Invites a person into a tenant: a user row without an identity, holding the roles they
    /// will have once they sign in with this (verified) email.
    pub async fn invite_user(
        &self,
        scope: &TenantScope,
        invitation: &NewInvitation,
        audit: &NewAuditEntry,
        delegated: Option<&DelegatedUse>,
    ) -> Result<ManagedUser, StoreError> {
        let tenant_id = invitation.tenant_id.as_str();
        if !scope.contains(tenant_id) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        let email = check_email(&invitation.email)?;
        let name = check_name(&invitation.name)?;
        invitation.roles.validate()?;
        scoped!(self, scope, write, |conn, d| {
            Ok(insert_invitation!(
                conn,
                d,
                scope,
                tenant_id,
                email,
                name,
                invitation.roles,
                audit,
                delegated
            ))
        })
    }

    /// Replaces a user's roles (and sales-rep regions) if the user is still at
    /// `expected_version`. The tenant's last active admin keeps the admin role.
    pub async fn update_user_roles(
        &self,
        scope: &TenantScope,
        user_id: &str,
        expected_version: i64,
        roles: &RoleSet,
        audit: &NewAuditEntry,
        delegated: Option<&DelegatedUse>,
    ) -> Result<ManagedUser, StoreError> {
        roles.validate()?;
        scoped!(self, scope, write, |conn, d| {
            let user = live_user!(conn, d, scope, user_id);
            check_version("user", user.as_ref().map(|u| u.version), expected_version)?;
            let user = user.ok_or(StoreError::NotFound { entity: "user" })?;
            let tenant = user.tenant_id.as_str();
            let before = RoleSet::of(&roles_of!(conn, tenant, user_id));
            let was_admin = before.roles.iter().any(|r| ADMIN_ROLES.contains(r));
            sqlx::query("DELETE FROM role_assignments WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
            let now = Utc::now();
            insert_roles!(conn, tenant, user_id, roles, now);
            if was_admin
                && user.status() == UserStatus::Active
                && active_admins!(conn, d, tenant) == 0
            {
                return Err(invalid(
                    "roles",
                    "the tenant's last active admin must keep the admin role",
                ));
            }
            sqlx::query("UPDATE users SET version = version + 1 WHERE id = $1 AND tenant_id = $2")
                .bind(user_id)
                .bind(tenant)
                .execute(&mut *conn)
                .await?;
            let mut entry = audit.of("user.roles_changed", format!("user:{user_id}"));
            entry.before_state = Some(before.state().to_string());
            entry.after_state = Some(roles.state().to_string());
            record_user_change!(conn, d, tenant, entry, delegated, user_id);
            let Some(user) = live_user!(conn, d, scope, user_id) else {
                return Err(StoreError::NotFound { entity: "user" });
            };
            let roles = roles_of!(conn, tenant, user_id);
            Ok(ManagedUser { user, roles })
        })
    }

    /// Deactivates (`active` false) or reactivates a user. A user already in that state is
    /// returned unchanged, with no audit row. The tenant's last active admin stays active.
    pub async fn set_user_active(
        &self,
        scope: &TenantScope,
        user_id: &str,
        active: bool,
        audit: &NewAuditEntry,
        delegated: Option<&DelegatedUse>,
    ) -> Result<ManagedUser, StoreError> {
        scoped!(self, scope, write, |conn, d| {
            let Some(user) = live_user!(conn, d, scope, user_id) else {
                return Err(StoreError::NotFound { entity: "user" });
            };
            let tenant = user.tenant_id.clone();
            let roles = roles_of!(conn, &tenant, user_id);
            if user.deactivated_at.is_none() == active {
                return Ok(ManagedUser { user, roles });
            }
            let now = Utc::now();
            sqlx::query(
                "UPDATE users SET deactivated_at = $1, version = version + 1 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(if active { None } else { Some(now) })
            .bind(user_id)
            .bind(&tenant)
            .execute(&mut *conn)
            .await?;
            let is_admin = roles.iter().any(|a| ADMIN_ROLES.contains(&a.role));
            if !active
                && is_admin
                && user.invited_at.is_none()
                && active_admins!(conn, d, &tenant) == 0
            {
                return Err(invalid(
                    "id",
                    "the tenant's last active admin cannot be deactivated",
                ));
            }
            let (action, before, after) = if active {
                ("user.reactivated", false, true)
            } else {
                ("user.deactivated", true, false)
            };
            let mut entry = audit.of(action, format!("user:{user_id}"));
            entry.before_state = Some(serde_json::json!({ "active": before }).to_string());
            entry.after_state = Some(serde_json::json!({ "active": after }).to_string());
            record_user_change!(conn, d, &tenant, entry, delegated, user_id);
            let Some(user) = live_user!(conn, d, scope, user_id) else {
                return Err(StoreError::NotFound { entity: "user" });
            };
            Ok(ManagedUser { user, roles })
        })
    }

    /// Binds the identity `issuer`/`subject` to the one open invitation in scope for `email`
    /// (the provider vouched for it: the caller checked `email_verified`). `None` when there is
    /// no open invitation, or more than one (the person was invited into several tenants of
    /// this portal: which one they meant is not for the store to guess).
    pub async fn accept_invitation(
        &self,
        scope: &TenantScope,
        issuer: &str,
        subject: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        if issuer.is_empty() || subject.is_empty() {
            return Ok(None);
        }
        scoped!(self, scope, write, |conn, d| {
            let sql = format!(
                "{LIVE_USERS} AND invited_at IS NOT NULL AND invited_at > $1 AND deactivated_at IS NULL \
                 AND lower(email) = lower($2) AND {} ORDER BY tenant_id LIMIT 2",
                d.in_json("tenant_id", 3)
            );
            let open: Vec<UserRow> = sqlx::query_as(&sql)
                .bind(now - Duration::days(INVITATION_DAYS))
                .bind(email)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            let mut open = open;
            if open.len() != 1 {
                return Ok(None);
            }
            let invited = User::from(open.remove(0));
            sqlx::query(
                "UPDATE users SET issuer = $1, subject = $2, invited_at = NULL, version = version + 1 \
                 WHERE id = $3 AND tenant_id = $4 AND invited_at IS NOT NULL",
            )
            .bind(issuer)
            .bind(subject)
            .bind(&invited.id)
            .bind(&invited.tenant_id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let entry = NewAuditEntry {
                actor: invited.id.clone(),
                actor_tenant: invited.tenant_id.clone(),
                action: "user.invitation_accepted".into(),
                target: format!("user:{}", invited.id),
                before_state: None,
                after_state: Some(serde_json::json!({ "issuer": issuer }).to_string()),
                reason: Some("first sign-in with the invited, verified email".into()),
            };
            record_user_change!(conn, d, &invited.tenant_id, entry, None, &invited.id);
            Ok(live_user!(conn, d, scope, &invited.id))
        })
    }
}
