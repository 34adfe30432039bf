//! Who may sign in: linking users to OIDC identities, deactivating them, registering a tenant's
//! identity provider. Each change writes its audit row in the same transaction.

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};

/// Live (not deleted) users, before the caller's predicates.
pub(crate) const LIVE_USERS: &str = "SELECT id, tenant_id, issuer, subject, email, display_name, deactivated_at, \
                          version, invited_at \
                          FROM users WHERE deleted_at IS NULL";

/// A live user in the scope by id, inside the caller's transaction.
macro_rules! live_user {
    ($conn:ident, $d:ident, $scope:expr, $user_id:expr) => {{
        let sql = format!(
            "{} AND id = $1 AND {}",
            crate::identity::LIVE_USERS,
            $d.in_json("tenant_id", 2)
        );
        let row: Option<crate::identity::UserRow> = sqlx::query_as(&sql)
            .bind($user_id)
            .bind($scope.json())
            .fetch_optional(&mut *$conn)
            .await?;
        row.map(crate::model::User::from)
    }};
}
pub(crate) use live_user;

/// A tenant's OIDC provider, as an administrator registers it.
#[derive(Debug, Clone)]
pub struct NewIdentityProvider {
    pub tenant_id: TenantId,
    pub issuer_url: String,
    pub client_id: String,
    /// `env:NAME` or `file:PATH`; the secret itself never enters the database.
    pub client_secret_ref: Option<String>,
    pub audience: String,
    /// JWS algorithms accepted from this provider, e.g. `["RS256", "ES256"]`.
    pub algorithms: Vec<String>,
}

/// Asymmetric algorithms only: `none` and HMAC (which a public key could forge) never pass.
pub const ALLOWED_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

impl NewIdentityProvider {
    fn validate(&self) -> Result<(), StoreError> {
        let issuer = self.issuer_url.trim();
        if !(issuer.starts_with("https://")
            || issuer.starts_with("http://")
            || issuer.starts_with("urn:"))
            || issuer.len() > 512
        {
            return Err(invalid(
                "issuerUrl",
                "must be an http(s) URL of at most 512 characters",
            ));
        }
        if self.client_id.trim().is_empty() || self.client_id.len() > 256 {
            return Err(invalid("clientId", "must be 1 to 256 characters"));
        }
        if let Some(secret) = &self.client_secret_ref
            && !(secret.starts_with("env:") || secret.starts_with("file:"))
        {
            return Err(invalid(
                "clientSecretRef",
                "must be a reference (env:NAME or file:PATH), never the secret itself",
            ));
        }
        if self.audience.trim().is_empty() {
            return Err(invalid("audience", "must not be empty"));
        }
        if self.algorithms.is_empty() {
            return Err(invalid("algorithms", "must name at least one algorithm"));
        }
        if let Some(bad) = self
            .algorithms
            .iter()
            .find(|a| !ALLOWED_ALGORITHMS.contains(&a.as_str()))
        {
            return Err(invalid(
                "algorithms",
                format!(
                    "{bad:?} is not accepted; use one of {}",
                    ALLOWED_ALGORITHMS.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// A value for `change_user`'s UPDATE, typed so each backend gets its own column type.
enum Bind {
    Text(String),
    Time(chrono::DateTime<Utc>),
}

impl Store {
    /// Registers (or replaces) a tenant's identity provider for an issuer.
    pub async fn upsert_identity_provider(
        &self,
        scope: &TenantScope,
        provider: &NewIdentityProvider,
        audit: &NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        if !scope.contains(&provider.tenant_id) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        provider.validate()?;
        let tenant_id = provider.tenant_id.as_str();
        let id = uuid::Uuid::new_v4().to_string();
        scoped!(self, scope, write, |conn, d| {
            sqlx::query(
                "INSERT INTO identity_providers (id, tenant_id, issuer_url, client_id, \
                 client_secret_ref, audience, algorithms, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (tenant_id, issuer_url) DO UPDATE SET client_id = excluded.client_id, \
                 client_secret_ref = excluded.client_secret_ref, audience = excluded.audience, \
                 algorithms = excluded.algorithms",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(provider.issuer_url.trim())
            .bind(&provider.client_id)
            .bind(&provider.client_secret_ref)
            .bind(&provider.audience)
            .bind(provider.algorithms.join(","))
            .bind(Utc::now())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of(
                "identity_provider.set",
                format!("identity_provider:{}", provider.issuer_url.trim()),
            );
            entry.after_state = Some(
                serde_json::json!({
                    "client_id": provider.client_id,
                    "audience": provider.audience,
                    "algorithms": provider.algorithms,
                })
                .to_string(),
            );
            let row = record_change!(
                conn,
                d,
                tenant_id,
                &entry,
                Topic::IdentityProvider,
                serde_json::json!({ "issuer": provider.issuer_url.trim() })
            );
            Ok(row)
        })
    }

    /// Links a user to the identity its tenant's provider knows it by.
    pub async fn set_user_identity(
        &self,
        scope: &TenantScope,
        user_id: &str,
        issuer: &str,
        subject: &str,
        audit: &NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        if issuer.trim().is_empty() {
            return Err(invalid("issuer", "must not be empty"));
        }
        if subject.is_empty() || subject.len() > 255 {
            return Err(invalid("subject", "must be 1 to 255 characters"));
        }
        self.change_user(scope, user_id, audit, "user.identity_set", |before| {
            (
                "UPDATE users SET issuer = $1, subject = $2, version = version + 1 WHERE id = $3 AND deleted_at IS NULL",
                vec![
                    Bind::Text(issuer.to_owned()),
                    Bind::Text(subject.to_owned()),
                ],
                serde_json::json!({ "issuer": before.issuer, "subject": before.subject }),
                serde_json::json!({ "issuer": issuer, "subject": subject }),
            )
        })
        .await
    }

    /// Stops a user from signing in; their rows stay.
    pub async fn deactivate_user(
        &self,
        scope: &TenantScope,
        user_id: &str,
        audit: &NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        let now = Utc::now();
        self.change_user(scope, user_id, audit, "user.deactivated", |_| {
            (
                "UPDATE users SET deactivated_at = $1, version = version + 1 WHERE id = $2 AND deleted_at IS NULL",
                vec![Bind::Time(now)],
                serde_json::json!({ "active": true }),
                serde_json::json!({ "active": false }),
            )
        })
        .await
    }

    /// One live user in scope by email (emails are unique per tenant, so the first by tenant).
    pub async fn user_by_email(
        &self,
        scope: &TenantScope,
        email: &str,
    ) -> Result<Option<User>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "{LIVE_USERS} AND lower(email) = lower($1) AND {} ORDER BY tenant_id LIMIT 1",
                d.in_json("tenant_id", 2)
            );
            let row: Option<UserRow> = sqlx::query_as(&sql)
                .bind(email)
                .bind(scope.json())
                .fetch_optional(&mut *conn)
                .await?;
            Ok(row.map(User::from))
        })
    }

    /// One live user in scope by id.
    pub async fn user_by_id(
        &self,
        scope: &TenantScope,
        user_id: &str,
    ) -> Result<Option<User>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            Ok(live_user!(conn, d, scope, user_id))
        })
    }

    /// Reads a user in scope, applies one UPDATE built from it and audits it, in one transaction.
    async fn change_user<F>(
        &self,
        scope: &TenantScope,
        user_id: &str,
        audit: &NewAuditEntry,
        action: &str,
        change: F,
    ) -> Result<AuditEntry, StoreError>
    where
        F: Fn(
            &User,
        ) -> (
            &'static str,
            Vec<Bind>,
            serde_json::Value,
            serde_json::Value,
        ),
    {
        scoped!(self, scope, write, |conn, d| {
            let Some(user) = live_user!(conn, d, scope, user_id) else {
                return Err(StoreError::NotFound { entity: "user" });
            };
            let (update, values, before, after) = change(&user);
            let mut query = sqlx::query(update);
            for value in values {
                query = match value {
                    Bind::Text(text) => query.bind(text),
                    Bind::Time(time) => query.bind(time),
                };
            }
            query
                .bind(user_id)
                .execute(&mut *conn)
                .await
                .map_err(StoreError::from_db)?;
            let mut entry = audit.of(action, format!("user:{user_id}"));
            entry.before_state = Some(before.to_string());
            entry.after_state = Some(after.to_string());
            let row = record_change!(
                conn,
                d,
                &user.tenant_id,
                &entry,
                Topic::User,
                serde_json::json!({ "user": user_id })
            );
            Ok(row)
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: String,
    tenant_id: String,
    issuer: String,
    subject: String,
    email: String,
    display_name: String,
    deactivated_at: Option<DateTime<Utc>>,
    version: i64,
    invited_at: Option<DateTime<Utc>>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            tenant_id: r.tenant_id,
            issuer: r.issuer,
            subject: r.subject,
            email: r.email,
            display_name: r.display_name,
            deactivated_at: r.deactivated_at,
            version: r.version,
            invited_at: r.invited_at,
        }
    }
}

impl Store {
    /// A user of a tenant in scope by OIDC identity.
    pub async fn user_by_identity(
        &self,
        scope: &TenantScope,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<User>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "{LIVE_USERS} AND issuer = $1 AND subject = $2 AND {}",
                d.in_json("tenant_id", 3)
            );
            let row: Option<UserRow> = sqlx::query_as(&sql)
                .bind(issuer)
                .bind(subject)
                .bind(scope.json())
                .fetch_optional(&mut *conn)
                .await?;
            Ok(row.map(User::from))
        })
    }

    /// A user of a tenant in scope by OIDC identity, with the user's role assignments in
    /// the user's own tenant: one statement, for the request path.
    pub async fn user_with_roles(
        &self,
        scope: &TenantScope,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<(User, Vec<RoleAssignment>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            user: UserRow,
            roles: String,
        }
        let row: Option<Row> = scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT u.id, u.tenant_id, u.issuer, u.subject, u.email, u.display_name, \
                 u.deactivated_at, u.version, u.invited_at, (SELECT {} FROM role_assignments r \
                 WHERE r.user_id = u.id AND r.tenant_id = u.tenant_id) AS roles \
                 FROM users u WHERE u.issuer = $1 AND u.subject = $2 AND u.deleted_at IS NULL AND {}",
                d.json_rows("r.role, r.regions"),
                d.in_json("u.tenant_id", 3)
            );
            sqlx::query_as(&sql)
                .bind(issuer)
                .bind(subject)
                .bind(scope.json())
                .fetch_optional(&mut *conn)
                .await?
        });
        let Some(row) = row else {
            return Ok(None);
        };
        let pairs: Vec<(String, String)> = serde_json::from_str(&row.roles)
            .map_err(|e| StoreError::Corrupt(format!("role assignments: {e}")))?;
        let user = User::from(row.user);
        let mut roles = pairs
            .into_iter()
            .map(|(role, regions)| {
                Ok(RoleAssignment {
                    tenant_id: user.tenant_id.clone(),
                    user_id: user.id.clone(),
                    role: role.parse()?,
                    regions: parse_list(&regions)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        roles.sort_by(|a, b| a.role.as_str().cmp(b.role.as_str()));
        Ok(Some((user, roles)))
    }

    /// The live users of one tenant, by email.
    pub async fn users_of_tenant(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
    ) -> Result<Vec<User>, StoreError> {
        if !scope.contains(tenant_id) {
            return Ok(Vec::new());
        }
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "{LIVE_USERS} AND tenant_id = $1 AND {} ORDER BY email",
                d.in_json("tenant_id", 2)
            );
            let rows: Vec<UserRow> = sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            Ok(rows.into_iter().map(User::from).collect())
        })
    }

    /// A user's role assignments in the tenants of the scope.
    pub async fn role_assignments(
        &self,
        scope: &TenantScope,
        user_id: &str,
    ) -> Result<Vec<RoleAssignment>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT tenant_id, user_id, role, regions FROM role_assignments \
                 WHERE user_id = $1 AND {} ORDER BY role",
                d.in_json("tenant_id", 2)
            );
            let rows: Vec<(String, String, String, String)> = sqlx::query_as(&sql)
                .bind(user_id)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter()
                .map(|(tenant_id, user_id, role, regions)| {
                    Ok(RoleAssignment {
                        tenant_id,
                        user_id,
                        role: role.parse()?,
                        regions: parse_list(&regions)?,
                    })
                })
                .collect()
        })
    }
}
