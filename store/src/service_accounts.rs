//! Integration credentials: a tenant's service accounts (its ERP connectors). An account is a
//! user row of its tenant under `SERVICE_ACCOUNT_ISSUER` (subject = the account id, which is
//! also its OAuth `client_id`), so its roles, its deactivation and the audit rows of what it
//! does are those of any user; the `service_accounts` row adds its secret. The secret is made
//! here, returned once and stored only as its SHA-256 digest: it is 256 random bits, so a slow
//! password hash would add nothing against guessing it, and checking one stays cheap.
//!
//! One transaction per change with its audit row and outbox message, like every write. Who may
//! create, rotate or delete an account, and which roles it may hold, is the policy's business.

use chrono::{DateTime, Utc};
use rand::RngCore as _;
use sha2::Digest as _;

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::users::{RoleSet, check_name, insert_roles, roles_of};
use crate::{Store, StoreError, TenantScope};

/// The issuer of service accounts' user rows (never a token issuer's URL: those are `http…`).
pub const SERVICE_ACCOUNT_ISSUER: &str = "portico:service-account";
/// Service accounts one tenant may hold at once.
pub const MAX_SERVICE_ACCOUNTS: i64 = 100;
/// What every secret starts with, so secret scanners (and people) recognise one.
pub const SECRET_PREFIX: &str = "pcs_";

/// A service account with its roles. `secret_hint` is the end of the current secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub id: String,
    pub tenant_id: TenantId,
    pub user_id: String,
    pub name: String,
    pub secret_hint: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub rotated_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub version: i64,
    /// False once an admin deactivated its user (`deactivateUser`); it gets no token then.
    pub active: bool,
    pub roles: Vec<RoleAssignment>,
}

/// A secret as made: shown to the admin once, never stored.
#[derive(Debug, Clone)]
pub struct IssuedSecret {
    pub account: ServiceAccount,
    pub secret: String,
}

/// What an admin asks for.
#[derive(Debug, Clone)]
pub struct NewServiceAccount {
    pub tenant_id: TenantId,
    pub name: String,
    pub roles: RoleSet,
}

const COLUMNS: &str = "s.id, s.tenant_id, s.user_id, s.name, s.secret_hint, s.created_at, \
                       s.created_by, s.rotated_at, s.last_used_at, s.version, \
                       (u.deactivated_at IS NULL) AS active";
const FROM: &str = "FROM service_accounts s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id \
                    WHERE s.deleted_at IS NULL AND u.deleted_at IS NULL";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    tenant_id: String,
    user_id: String,
    name: String,
    secret_hint: String,
    created_at: DateTime<Utc>,
    created_by: String,
    rotated_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    version: i64,
    active: bool,
}

impl Row {
    fn with_roles(self, roles: Vec<RoleAssignment>) -> ServiceAccount {
        ServiceAccount {
            id: self.id,
            tenant_id: self.tenant_id,
            user_id: self.user_id,
            name: self.name,
            secret_hint: self.secret_hint,
            created_at: self.created_at,
            created_by: self.created_by,
            rotated_at: self.rotated_at,
            last_used_at: self.last_used_at,
            version: self.version,
            active: self.active,
            roles,
        }
    }
}

/// A new secret and what is stored of it: (secret, SHA-256 hex digest, hint).
fn new_secret() -> (String, String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{SECRET_PREFIX}{}", hex(&bytes));
    let hint = secret[secret.len() - 4..].to_owned();
    (secret.clone(), digest(&secret), hint)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest(secret: &str) -> String {
    hex(&sha2::Sha256::digest(secret.as_bytes()))
}

/// Equal digests, compared in time that does not depend on where they differ.
fn same_digest(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The live account `id` in scope, with its roles, inside the caller's transaction.
macro_rules! live_account {
    ($conn:ident, $d:ident, $scope:expr, $id:expr) => {{
        let sql = format!(
            "SELECT {COLUMNS} {FROM} AND s.id = $1 AND {}",
            $d.in_json("s.tenant_id", 2)
        );
        let row: Option<Row> = sqlx::query_as(&sql)
            .bind($id)
            .bind($scope.json())
            .fetch_optional(&mut *$conn)
            .await?;
        match row {
            Some(row) => {
                let roles = roles_of!($conn, &row.tenant_id, &row.user_id);
                Some(row.with_roles(roles))
            }
            None => None,
        }
    }};
}

impl Store {
    /// A tenant's live service accounts with their roles, oldest first.
    pub async fn service_accounts(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
    ) -> Result<Vec<ServiceAccount>, StoreError> {
        if !scope.contains(tenant_id) {
            return Ok(Vec::new());
        }
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT {COLUMNS} {FROM} AND s.tenant_id = $1 AND {} ORDER BY s.created_at, s.id",
                d.in_json("s.tenant_id", 2)
            );
            let rows: Vec<Row> = sqlx::query_as(&sql)
                .bind(tenant_id)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            let mut accounts = Vec::with_capacity(rows.len());
            for row in rows {
                let roles = roles_of!(conn, tenant_id, &row.user_id);
                accounts.push(row.with_roles(roles));
            }
            Ok(accounts)
        })
    }

    /// One live service account in scope.
    pub async fn service_account(
        &self,
        scope: &TenantScope,
        id: &str,
    ) -> Result<Option<ServiceAccount>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            Ok(live_account!(conn, d, scope, id))
        })
    }

    /// Creates an account (its user row, roles and secret) in `account.tenant_id`; the secret
    /// is in the answer and nowhere else.
    pub async fn create_service_account(
        &self,
        scope: &TenantScope,
        account: &NewServiceAccount,
        audit: &NewAuditEntry,
    ) -> Result<IssuedSecret, StoreError> {
        let tenant_id = account.tenant_id.as_str();
        if !scope.contains(tenant_id) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        let name = check_name(&account.name)?;
        account.roles.validate()?;
        scoped!(self, scope, write, |conn, d| {
            let held: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM service_accounts WHERE tenant_id = $1 AND deleted_at IS NULL",
            )
            .bind(tenant_id)
            .fetch_one(&mut *conn)
            .await?;
            if held >= MAX_SERVICE_ACCOUNTS {
                return Err(StoreError::Invalid {
                    field: "tenant",
                    message: format!(
                        "holds {MAX_SERVICE_ACCOUNTS} service accounts already; delete one first"
                    ),
                });
            }
            let id = uuid::Uuid::new_v4().to_string();
            let user_id = uuid::Uuid::new_v4().to_string();
            let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
            sqlx::query(
                "INSERT INTO users (id, tenant_id, issuer, subject, email, display_name, created_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
            )
            .bind(&user_id)
            .bind(tenant_id)
            .bind(SERVICE_ACCOUNT_ISSUER)
            .bind(&id)
            .bind(format!("{id}@service-accounts.invalid"))
            .bind(&name)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            insert_roles!(conn, tenant_id, &user_id, account.roles, now);
            let (secret, hash, hint) = new_secret();
            sqlx::query(
                "INSERT INTO service_accounts (id, tenant_id, user_id, name, secret_hash, secret_hint, \
                 created_at, created_by, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
            )
            .bind(&id)
            .bind(tenant_id)
            .bind(&user_id)
            .bind(&name)
            .bind(hash)
            .bind(&hint)
            .bind(now)
            .bind(&audit.actor)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("service_account.created", format!("service_account:{id}"));
            let mut after = account.roles.state();
            after["name"] = name.into();
            after["secret_hint"] = hint.into();
            entry.after_state = Some(after.to_string());
            record_change!(
                conn,
                d,
                tenant_id,
                &entry,
                Topic::User,
                serde_json::json!({ "user": user_id })
            );
            let account = live_account!(conn, d, scope, &id).ok_or(StoreError::NotFound {
                entity: "service account",
            })?;
            Ok(IssuedSecret { account, secret })
        })
    }

    /// Replaces an account's secret if the account is still at `expected_version`: the old
    /// secret gets no token from now on (tokens already issued live out their few minutes).
    pub async fn rotate_service_account_secret(
        &self,
        scope: &TenantScope,
        id: &str,
        expected_version: i64,
        audit: &NewAuditEntry,
    ) -> Result<IssuedSecret, StoreError> {
        scoped!(self, scope, write, |conn, d| {
            let found = live_account!(conn, d, scope, id);
            crate::error::check_version(
                "service account",
                found.as_ref().map(|a| a.version),
                expected_version,
            )?;
            let before = found.ok_or(StoreError::NotFound {
                entity: "service account",
            })?;
            let (secret, hash, hint) = new_secret();
            let now = Utc::now();
            sqlx::query(
                "UPDATE service_accounts SET secret_hash = $1, secret_hint = $2, rotated_at = $3, \
                 version = version + 1 WHERE id = $4 AND tenant_id = $5 AND version = $6",
            )
            .bind(hash)
            .bind(&hint)
            .bind(now)
            .bind(id)
            .bind(&before.tenant_id)
            .bind(expected_version)
            .execute(&mut *conn)
            .await?;
            let mut entry = audit.of(
                "service_account.secret_rotated",
                format!("service_account:{id}"),
            );
            entry.before_state =
                Some(serde_json::json!({ "secret_hint": before.secret_hint }).to_string());
            entry.after_state = Some(serde_json::json!({ "secret_hint": hint }).to_string());
            record_change!(
                conn,
                d,
                &before.tenant_id,
                &entry,
                Topic::User,
                serde_json::json!({ "user": before.user_id })
            );
            let account = live_account!(conn, d, scope, id).ok_or(StoreError::NotFound {
                entity: "service account",
            })?;
            Ok(IssuedSecret { account, secret })
        })
    }

    /// Deletes an account and its user: its secret gets no token, and tokens already issued
    /// are refused on their next request (the user is gone).
    pub async fn delete_service_account(
        &self,
        scope: &TenantScope,
        id: &str,
        audit: &NewAuditEntry,
    ) -> Result<ServiceAccount, StoreError> {
        scoped!(self, scope, write, |conn, d| {
            let account = live_account!(conn, d, scope, id).ok_or(StoreError::NotFound {
                entity: "service account",
            })?;
            let now = Utc::now();
            sqlx::query(
                "UPDATE service_accounts SET deleted_at = $1, version = version + 1 \
                 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(now)
            .bind(id)
            .bind(&account.tenant_id)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE users SET deleted_at = $1, version = version + 1 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(now)
            .bind(&account.user_id)
            .bind(&account.tenant_id)
            .execute(&mut *conn)
            .await?;
            let mut entry = audit.of("service_account.deleted", format!("service_account:{id}"));
            let mut before = RoleSet::of(&account.roles).state();
            before["name"] = account.name.clone().into();
            entry.before_state = Some(before.to_string());
            record_change!(
                conn,
                d,
                &account.tenant_id,
                &entry,
                Topic::User,
                serde_json::json!({ "user": account.user_id })
            );
            Ok(account)
        })
    }

    /// The live account `client_id` in scope whose secret is `secret`; `None` for an unknown
    /// account or a wrong secret alike (the caller says the same to both). Writes nothing:
    /// `record_service_account_use` does, once the caller has also checked the account's user
    /// and tenant.
    pub async fn service_account_by_secret(
        &self,
        scope: &TenantScope,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<ServiceAccount>, StoreError> {
        if !secret.starts_with(SECRET_PREFIX) || client_id.len() > 64 {
            return Ok(None);
        }
        let offered = digest(secret);
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT s.secret_hash {FROM} AND s.id = $1 AND {}",
                d.in_json("s.tenant_id", 2)
            );
            let stored: Option<String> = sqlx::query_scalar(&sql)
                .bind(client_id)
                .bind(scope.json())
                .fetch_optional(&mut *conn)
                .await?;
            if !stored.is_some_and(|stored| same_digest(&stored, &offered)) {
                return Ok(None);
            }
            Ok(live_account!(conn, d, scope, client_id))
        })
    }

    /// A token issued to `account`: its `last_used_at`, and an audit row with the account as
    /// the actor (`service_account.token_issued`).
    pub async fn record_service_account_use(
        &self,
        scope: &TenantScope,
        account: &ServiceAccount,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        scoped!(self, scope, write, |conn, d| {
            let now = Utc::now();
            sqlx::query(
                "UPDATE service_accounts SET last_used_at = $1 WHERE id = $2 AND tenant_id = $3",
            )
            .bind(now)
            .bind(&account.id)
            .bind(&account.tenant_id)
            .execute(&mut *conn)
            .await?;
            let entry = NewAuditEntry {
                actor: account.user_id.clone(),
                actor_tenant: account.tenant_id.clone(),
                action: "service_account.token_issued".into(),
                target: format!("service_account:{}", account.id),
                before_state: None,
                after_state: Some(
                    serde_json::json!({ "expires_at": expires_at.to_rfc3339() }).to_string(),
                ),
                reason: Some("client credentials".into()),
            };
            crate::audit::append_audit!(conn, d, &account.tenant_id, &entry);
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_prefixed_random_and_only_its_digest_and_hint_are_kept() {
        let (a, hash_a, hint_a) = new_secret();
        let (b, _, _) = new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(a.len(), SECRET_PREFIX.len() + 64);
        assert_eq!(hash_a, digest(&a));
        assert!(!hash_a.contains(&a[SECRET_PREFIX.len()..]));
        assert!(a.ends_with(&hint_a));
        assert_eq!(hint_a.len(), 4);
    }

    #[test]
    fn digests_compare_equal_only_when_equal() {
        let d = digest("pcs_x");
        assert!(same_digest(&d, &digest("pcs_x")));
        assert!(!same_digest(&d, &digest("pcs_y")));
        assert!(!same_digest(&d, &d[..10]));
    }
}
