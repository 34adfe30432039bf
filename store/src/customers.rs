//! Customers administered by their reseller: a new customer tenant under the reseller, its name
//! and region, suspending and resuming it. One transaction per change with its audit row and
//! outbox message in the customer's chain, and the same row again in the reseller's chain.
//! A customer's settings (its name and contacts) are changed by its own admin, audited in its
//! own chain, or by its reseller's admin under a SETTINGS_ADMIN delegation, audited in both.
//! Who may do what is the policy's business, above; the store keeps what must hold whoever
//! asks: valid input, a unique slug, versions, and a customer that lives under a reseller.
//!
//! The directory every server keeps in memory follows these writes through the `@directory`
//! data version (migration `customers`): the next request reloads it.

use chrono::Utc;

use crate::db::scoped;
use crate::delegations::DelegatedUse;
use crate::directory::{TENANT_COLUMNS, TenantRow};
use crate::error::check_version;
use crate::model::*;
use crate::outbox::{Topic, record_change, record_delegated_change};
use crate::{Store, StoreError, TenantScope};

/// A customer to create under a reseller.
#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub reseller_id: TenantId,
    /// Lower-case letters, digits and `-`, 3 to 40 characters, unique among all tenants.
    pub slug: String,
    pub name: String,
    pub region: Region,
    /// The customer's first admin, invited in the same transaction (email, name): without one
    /// nobody could manage the new customer's users until it delegated USER_ADMIN.
    pub first_admin: Option<(String, String)>,
}

/// A change to a customer's profile: what is `None` stays as it is.
#[derive(Debug, Clone, Default)]
pub struct CustomerChange {
    pub name: Option<String>,
    pub region: Option<Region>,
}

/// A change to a customer's settings: what is `None` stays as it is; an empty (or blank)
/// contact clears it.
#[derive(Debug, Clone, Default)]
pub struct CustomerSettingsChange {
    pub name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        field,
        message: message.into(),
    }
}

/// A slug as the portal's URLs and the CLI use it.
fn check_slug(slug: &str) -> Result<String, StoreError> {
    let valid = (3..=40).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(slug.to_owned())
    } else {
        Err(invalid(
            "slug",
            "must be 3 to 40 lower-case letters, digits or '-'",
        ))
    }
}

fn check_name(name: &str) -> Result<String, StoreError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name", "must be 1 to 200 characters"));
    }
    Ok(name.to_owned())
}

fn check_reason(reason: &str) -> Result<String, StoreError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(invalid("reason", "must be 1 to 500 characters"));
    }
    Ok(reason.to_owned())
}

/// A contact email: blank clears it, anything else must look like an address.
fn check_contact_email(email: &str) -> Result<Option<String>, StoreError> {
    if email.trim().is_empty() {
        return Ok(None);
    }
    crate::users::check_email(email)
        .map(Some)
        .map_err(|e| match e {
            StoreError::Invalid { message, .. } => invalid("contactEmail", message),
            other => other,
        })
}

/// A contact phone number: blank clears it; otherwise 3 to 40 characters of digits, spaces and
/// `+ - ( )`, at least 3 of them digits (`+41 44 123 45 67`, `(555) 010-0199`).
fn check_contact_phone(phone: &str) -> Result<Option<String>, StoreError> {
    let phone = phone.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    let valid = phone.chars().count() <= 40
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')'))
        && phone.chars().filter(char::is_ascii_digit).count() >= 3;
    if valid {
        Ok(Some(phone.to_owned()))
    } else {
        Err(invalid(
            "contactPhone",
            "must be up to 40 digits, spaces and + - ( ), with at least 3 digits",
        ))
    }
}

/// What an audit row records of a customer's settings.
fn settings_state(t: &Tenant) -> serde_json::Value {
    serde_json::json!({
        "name": t.name,
        "contactEmail": t.contact_email,
        "contactPhone": t.contact_phone,
    })
}

/// What an audit row records of a customer.
fn state(t: &Tenant) -> serde_json::Value {
    serde_json::json!({
        "slug": t.slug,
        "name": t.name,
        "region": t.region.map(Region::as_str),
        "suspended": t.is_suspended(),
        "suspendedReason": t.suspended_reason,
    })
}

/// A live customer in scope by id, inside the caller's transaction.
macro_rules! live_customer {
    ($conn:ident, $d:ident, $scope:expr, $id:expr) => {{
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1 AND kind = 'CUSTOMER' \
             AND deleted_at IS NULL AND {}",
            $d.in_json("id", 2)
        );
        let row: Option<TenantRow> = sqlx::query_as(&sql)
            .bind($id)
            .bind($scope.json())
            .fetch_optional(&mut *$conn)
            .await?;
        row.map(Tenant::try_from).transpose()?
    }};
}

/// Audits a change to a customer in the customer's chain (with its outbox message) and again
/// in its reseller's, with the same action, target and states.
macro_rules! record_customer_change {
    ($conn:ident, $d:ident, $customer:expr, $entry:expr) => {{
        let customer: &Tenant = $customer;
        let entry: NewAuditEntry = $entry;
        let row = record_change!(
            $conn,
            $d,
            &customer.id,
            &entry,
            Topic::Customer,
            serde_json::json!({ "customer": customer.id })
        );
        let reseller = customer
            .parent_id
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt(format!("customer {} has no reseller", customer.id)))?;
        crate::audit::append_audit!($conn, $d, reseller, &entry);
        row
    }};
}

impl Store {
    /// One live customer in scope, as the database holds it now.
    pub async fn customer_tenant(
        &self,
        scope: &TenantScope,
        id: &str,
    ) -> Result<Option<Tenant>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            Ok(live_customer!(conn, d, scope, id))
        })
    }

    /// Creates a customer tenant under a live reseller in scope. The new tenant's id joins the
    /// scope of the write: its audit chain starts in the same transaction.
    pub async fn create_customer(
        &self,
        scope: &TenantScope,
        new: &NewCustomer,
        audit: &NewAuditEntry,
    ) -> Result<Tenant, StoreError> {
        let slug = check_slug(&new.slug)?;
        let name = check_name(&new.name)?;
        if !scope.contains(&new.reseller_id) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        let first_admin = match &new.first_admin {
            Some((email, name)) => Some((
                crate::users::check_email(email)?,
                crate::users::check_name(name)?,
            )),
            None => None,
        };
        let id = uuid::Uuid::new_v4().to_string();
        let scope = scope.union_with([id.clone()]);
        scoped!(self, &scope, write, |conn, d| {
            let parent: Option<String> =
                sqlx::query_scalar("SELECT kind FROM tenants WHERE id = $1 AND deleted_at IS NULL")
                    .bind(&new.reseller_id)
                    .fetch_optional(&mut *conn)
                    .await?;
            if parent.as_deref() != Some(TenantKind::Reseller.as_str()) {
                return Err(StoreError::NotFound { entity: "tenant" });
            }
            let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
            sqlx::query(
                "INSERT INTO tenants (id, parent_id, kind, slug, name, region, created_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1)",
            )
            .bind(&id)
            .bind(&new.reseller_id)
            .bind(TenantKind::Customer.as_str())
            .bind(&slug)
            .bind(&name)
            .bind(new.region.as_str())
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let Some(created) = live_customer!(conn, d, &scope, &id) else {
                return Err(StoreError::NotFound { entity: "customer" });
            };
            let mut entry = audit.of("customer.created", format!("customer:{id}"));
            entry.after_state = Some(state(&created).to_string());
            record_customer_change!(conn, d, &created, entry);
            if let Some((email, name)) = first_admin {
                let roles = crate::users::RoleSet {
                    roles: vec![Role::CustomerAdmin],
                    regions: Vec::new(),
                };
                crate::users::insert_invitation!(
                    conn, d, &scope, &id, email, name, roles, audit, None
                );
            }
            Ok(created)
        })
    }

    /// Changes a customer's name and region, if it is still at `expected_version` (when
    /// given). A change to nothing returns the customer unchanged, with no audit row.
    pub async fn update_customer(
        &self,
        scope: &TenantScope,
        id: &str,
        expected_version: Option<i64>,
        change: &CustomerChange,
        audit: &NewAuditEntry,
    ) -> Result<Tenant, StoreError> {
        let name = change.name.as_deref().map(check_name).transpose()?;
        scoped!(self, scope, write, |conn, d| {
            let before = live_customer!(conn, d, scope, id);
            if let Some(expected) = expected_version {
                check_version("customer", before.as_ref().map(|t| t.version), expected)?;
            }
            let before = before.ok_or(StoreError::NotFound { entity: "customer" })?;
            let name = name.unwrap_or_else(|| before.name.clone());
            let region = change.region.or(before.region);
            if name == before.name && region == before.region {
                return Ok(before);
            }
            sqlx::query(
                "UPDATE tenants SET name = $1, region = $2, version = version + 1 WHERE id = $3",
            )
            .bind(&name)
            .bind(region.map(Region::as_str))
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let Some(after) = live_customer!(conn, d, scope, id) else {
                return Err(StoreError::NotFound { entity: "customer" });
            };
            let mut entry = audit.of("customer.updated", format!("customer:{id}"));
            entry.before_state = Some(state(&before).to_string());
            entry.after_state = Some(state(&after).to_string());
            record_customer_change!(conn, d, &after, entry);
            Ok(after)
        })
    }

    /// Changes a customer's settings (name and contacts) if it is still at `expected_version`:
    /// by its own admin (`delegated` is `None`: audited in the customer's chain), or by its
    /// reseller's admin under a SETTINGS_ADMIN delegation (audited in the customer's chain and
    /// the reseller's, naming the delegation and the scope). A change to nothing returns the
    /// customer unchanged, with no audit row.
    pub async fn update_customer_settings(
        &self,
        scope: &TenantScope,
        id: &str,
        expected_version: i64,
        change: &CustomerSettingsChange,
        audit: &NewAuditEntry,
        delegated: Option<&DelegatedUse>,
    ) -> Result<Tenant, StoreError> {
        let name = change.name.as_deref().map(check_name).transpose()?;
        let email = change
            .contact_email
            .as_deref()
            .map(check_contact_email)
            .transpose()?;
        let phone = change
            .contact_phone
            .as_deref()
            .map(check_contact_phone)
            .transpose()?;
        scoped!(self, scope, write, |conn, d| {
            let before = live_customer!(conn, d, scope, id);
            check_version(
                "customer",
                before.as_ref().map(|t| t.version),
                expected_version,
            )?;
            let before = before.ok_or(StoreError::NotFound { entity: "customer" })?;
            let name = name.unwrap_or_else(|| before.name.clone());
            let email = email.unwrap_or_else(|| before.contact_email.clone());
            let phone = phone.unwrap_or_else(|| before.contact_phone.clone());
            if name == before.name && email == before.contact_email && phone == before.contact_phone
            {
                return Ok(before);
            }
            sqlx::query(
                "UPDATE tenants SET name = $1, contact_email = $2, contact_phone = $3, \
                 version = version + 1 WHERE id = $4",
            )
            .bind(&name)
            .bind(&email)
            .bind(&phone)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let Some(after) = live_customer!(conn, d, scope, id) else {
                return Err(StoreError::NotFound { entity: "customer" });
            };
            let mut entry = audit.of("customer.settings_updated", format!("customer:{id}"));
            entry.before_state = Some(settings_state(&before).to_string());
            entry.after_state = Some(settings_state(&after).to_string());
            record_delegated_change!(
                conn,
                d,
                &after.id,
                entry,
                delegated,
                Topic::Customer,
                serde_json::json!({ "customer": after.id })
            );
            Ok(after)
        })
    }

    /// Suspends a customer (`reason` given) or resumes it (`None`). A customer already in that
    /// state is returned unchanged, with no audit row (a second suspension keeps the first
    /// reason).
    pub async fn set_customer_suspended(
        &self,
        scope: &TenantScope,
        id: &str,
        reason: Option<&str>,
        audit: &NewAuditEntry,
    ) -> Result<Tenant, StoreError> {
        let reason = reason.map(check_reason).transpose()?;
        scoped!(self, scope, write, |conn, d| {
            let Some(before) = live_customer!(conn, d, scope, id) else {
                return Err(StoreError::NotFound { entity: "customer" });
            };
            if before.is_suspended() == reason.is_some() {
                return Ok(before);
            }
            let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 6);
            sqlx::query(
                "UPDATE tenants SET suspended_at = $1, suspended_reason = $2, version = version + 1 \
                 WHERE id = $3",
            )
            .bind(reason.as_ref().map(|_| now))
            .bind(reason.as_deref())
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let Some(after) = live_customer!(conn, d, scope, id) else {
                return Err(StoreError::NotFound { entity: "customer" });
            };
            let action = if reason.is_some() {
                "customer.suspended"
            } else {
                "customer.resumed"
            };
            let mut entry = audit.of(action, format!("customer:{id}"));
            entry.before_state = Some(state(&before).to_string());
            entry.after_state = Some(state(&after).to_string());
            record_customer_change!(conn, d, &after, entry);
            Ok(after)
        })
    }
}
