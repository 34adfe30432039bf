//! Repositories: every call takes the `TenantScope` of its unit of work and puts it into its SQL
//! (and, on PostgreSQL, into row-level security through `scoped!`).

use crate::db::scoped;
use crate::model::*;
use crate::outbox::{Topic, record_change};
use crate::{Store, StoreError, TenantScope};
use chrono::{DateTime, Utc};

/// Every tenant and portal host, for the in-memory tree that requests are routed and related by.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub tenants: Vec<Tenant>,
    pub domains: Vec<Domain>,
}

impl Directory {
    /// Every tenant, soft-deleted ones included: for operator tools and the demo, which act
    /// across the whole tree.
    pub fn scope_of_all(&self) -> TenantScope {
        TenantScope::of(self.tenants.iter().map(|t| t.id.clone()))
    }

    pub fn tenant(&self, id: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.id == id)
    }

    pub fn tenant_by_slug(&self, slug: &str) -> Option<&Tenant> {
        self.tenants.iter().find(|t| t.slug == slug)
    }

    /// The live tenant served at `host` (lower-case, without port).
    pub fn tenant_for_host(&self, host: &str) -> Option<&Tenant> {
        let domain = self.domains.iter().find(|d| d.host == host)?;
        self.tenant(&domain.tenant_id)
            .filter(|t| t.deleted_at.is_none())
    }

    pub fn hosts_of(&self, tenant_id: &str) -> impl Iterator<Item = &str> {
        self.domains
            .iter()
            .filter(move |d| d.tenant_id == tenant_id)
            .map(|d| d.host.as_str())
    }

    /// The tenant and everything below it.
    pub fn subtree(&self, root: &str) -> Vec<TenantId> {
        let mut out = vec![root.to_owned()];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            out.extend(
                self.tenants
                    .iter()
                    .filter(|t| t.parent_id.as_deref() == Some(parent.as_str()))
                    .map(|t| t.id.clone()),
            );
            i += 1;
        }
        out
    }
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    parent_id: Option<String>,
    kind: String,
    slug: String,
    name: String,
    region: Option<String>,
    created_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;
    fn try_from(r: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: r.id,
            parent_id: r.parent_id,
            kind: r.kind.parse()?,
            slug: r.slug,
            name: r.name,
            region: r.region.as_deref().map(str::parse).transpose()?,
            created_at: r.created_at,
            deleted_at: r.deleted_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct IdpRow {
    id: String,
    tenant_id: String,
    issuer_url: String,
    client_id: String,
    client_secret_ref: Option<String>,
    audience: String,
    algorithms: String,
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
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DelegationRow {
    id: String,
    tenant_id: String,
    reseller_id: String,
    scopes: String,
    status: String,
    requested_at: DateTime<Utc>,
    approved_at: Option<DateTime<Utc>>,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<DelegationRow> for Delegation {
    type Error = StoreError;
    fn try_from(r: DelegationRow) -> Result<Self, StoreError> {
        Ok(Delegation {
            id: r.id,
            customer_id: r.tenant_id,
            reseller_id: r.reseller_id,
            scopes: parse_list(&r.scopes)?,
            status: r.status.parse()?,
            requested_at: r.requested_at,
            approved_at: r.approved_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ListingRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) master_product_id: Option<String>,
    pub(crate) sku: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) brand: Option<String>,
    pub(crate) category: Option<String>,
    pub(crate) supplier: Option<String>,
    pub(crate) status: String,
    pub(crate) visibility: String,
    pub(crate) cost_amount: Option<i64>,
    pub(crate) cost_currency: Option<String>,
    pub(crate) version: i64,
}

/// A listing row and its regions as the model type.
pub(crate) fn listing_from_row(r: ListingRow, regions: Vec<Region>) -> Result<Listing, StoreError> {
    Ok(Listing {
        cost: match (r.cost_amount, r.cost_currency) {
            (Some(amount), Some(currency)) => Some(Money::new(amount, &currency)),
            _ => None,
        },
        id: r.id,
        tenant_id: r.tenant_id,
        master_product_id: r.master_product_id,
        sku: r.sku,
        name: r.name,
        description: r.description,
        brand: r.brand,
        category: r.category,
        supplier: r.supplier,
        status: r.status.parse()?,
        visibility: r.visibility.parse()?,
        regions,
        version: r.version,
    })
}

/// The columns of a listing, with the master product's values filling what the listing does
/// not override: select them (and any others after them) `FROM {LISTING_FROM}`.
pub(crate) const LISTING_COLUMNS: &str = "l.id, l.tenant_id, l.master_product_id, \
     COALESCE(l.sku, m.sku) AS sku, COALESCE(l.name, m.name) AS name, \
     COALESCE(l.description, m.description) AS description, COALESCE(l.brand, m.brand) AS brand, \
     COALESCE(l.category, m.category) AS category, COALESCE(l.supplier, m.supplier) AS supplier, \
     l.status, l.visibility, l.cost_amount, l.cost_currency, l.version";

/// The tables `LISTING_COLUMNS` reads: the listing `l` and its master product `m`.
pub(crate) const LISTING_FROM: &str =
    "listings l LEFT JOIN master_products m ON m.id = l.master_product_id";

impl Store {
    /// Every tenant (soft-deleted ones included, flagged) and every portal host. The directory
    /// is not tenant data (DESIGN section 3): it is read before a request has a scope.
    pub async fn load_directory(&self) -> Result<Directory, StoreError> {
        scoped!(self, &TenantScope::none(), snapshot, |conn, _d| {
            let tenants: Vec<TenantRow> = sqlx::query_as(
                "SELECT id, parent_id, kind, slug, name, region, created_at, deleted_at \
                 FROM tenants ORDER BY created_at, slug",
            )
            .fetch_all(&mut *conn)
            .await?;
            let domains: Vec<(String, String)> =
                sqlx::query_as("SELECT host, tenant_id FROM domains ORDER BY host")
                    .fetch_all(&mut *conn)
                    .await?;
            Ok(Directory {
                tenants: tenants
                    .into_iter()
                    .map(Tenant::try_from)
                    .collect::<Result<_, _>>()?,
                domains: domains
                    .into_iter()
                    .map(|(host, tenant_id)| Domain { host, tenant_id })
                    .collect(),
            })
        })
    }

    /// The identity providers a tenant may sign in with, its own first.
    pub async fn identity_providers(
        &self,
        tenant_ids: &[&str],
    ) -> Result<Vec<IdentityProvider>, StoreError> {
        let ids = serde_json::to_string(tenant_ids).expect("strings serialize");
        let mut rows: Vec<IdpRow> = scoped!(self, &TenantScope::none(), directory, |conn, d| {
            let sql = format!(
                "SELECT id, tenant_id, issuer_url, client_id, client_secret_ref, audience, \
                 algorithms FROM identity_providers WHERE {} ORDER BY issuer_url",
                d.in_json("tenant_id", 1)
            );
            sqlx::query_as(&sql).bind(ids).fetch_all(&mut *conn).await?
        });
        // In the caller's order of preference: the tenant's own provider first.
        rows.sort_by_key(|r| tenant_ids.iter().position(|t| *t == r.tenant_id));
        Ok(rows
            .into_iter()
            .map(|r| IdentityProvider {
                id: r.id,
                tenant_id: r.tenant_id,
                issuer_url: r.issuer_url,
                client_id: r.client_id,
                client_secret_ref: r.client_secret_ref,
                audience: r.audience,
                algorithms: r.algorithms.split(',').map(str::to_owned).collect(),
            })
            .collect())
    }

    /// A user of a tenant in scope by OIDC identity.
    pub async fn user_by_identity(
        &self,
        scope: &TenantScope,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<User>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT id, tenant_id, issuer, subject, email, display_name, deactivated_at \
                 FROM users WHERE issuer = $1 AND subject = $2 AND deleted_at IS NULL AND {}",
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
                 u.deactivated_at, (SELECT {} FROM role_assignments r \
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
                "SELECT id, tenant_id, issuer, subject, email, display_name, deactivated_at \
                 FROM users WHERE tenant_id = $1 AND deleted_at IS NULL AND {} ORDER BY email",
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

    /// Grants given or held by a tenant in scope.
    pub async fn delegations(&self, scope: &TenantScope) -> Result<Vec<Delegation>, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT id, tenant_id, reseller_id, scopes, status, requested_at, approved_at, \
                 expires_at, revoked_at FROM delegations WHERE {} OR {} ORDER BY requested_at, id",
                d.in_json("tenant_id", 1),
                d.in_json("reseller_id", 1)
            );
            let rows: Vec<DelegationRow> = sqlx::query_as(&sql)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            rows.into_iter().map(Delegation::try_from).collect()
        })
    }

    /// A page of a tenant's listings ordered by SKU, overrides applied.
    pub async fn listings(
        &self,
        scope: &TenantScope,
        owner: &str,
        limit: i64,
    ) -> Result<Vec<Listing>, StoreError> {
        scoped!(self, scope, snapshot, |conn, d| {
            let sql = format!(
                "SELECT {LISTING_COLUMNS} FROM {LISTING_FROM} WHERE l.tenant_id = $1 AND l.deleted_at IS NULL AND {} \
                 ORDER BY sku, l.id LIMIT $3",
                d.in_json("l.tenant_id", 2)
            );
            let rows: Vec<ListingRow> = sqlx::query_as(&sql)
                .bind(owner)
                .bind(scope.json())
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            let ids = serde_json::to_string(&ids).expect("strings serialize");
            // One statement for the regions of the whole page.
            let sql = format!(
                "SELECT listing_id, region FROM listing_regions WHERE {} AND {} ORDER BY region",
                d.in_json("listing_id", 1),
                d.in_json("tenant_id", 2)
            );
            let regions: Vec<(String, String)> = sqlx::query_as(&sql)
                .bind(ids)
                .bind(scope.json())
                .fetch_all(&mut *conn)
                .await?;
            let mut by_listing: std::collections::HashMap<String, Vec<Region>> =
                std::collections::HashMap::new();
            for (listing, region) in regions {
                by_listing.entry(listing).or_default().push(region.parse()?);
            }
            rows.into_iter()
                .map(|r| {
                    let listing_regions = by_listing.remove(&r.id).unwrap_or_default();
                    listing_from_row(r, listing_regions)
                })
                .collect()
        })
    }

    /// How many live listings a tenant has.
    pub async fn count_listings(
        &self,
        scope: &TenantScope,
        owner: &str,
    ) -> Result<i64, StoreError> {
        scoped!(self, scope, read, |conn, d| {
            let sql = format!(
                "SELECT count(*) FROM listings WHERE tenant_id = $1 AND deleted_at IS NULL AND {}",
                d.in_json("tenant_id", 2)
            );
            Ok(sqlx::query_scalar(&sql)
                .bind(owner)
                .bind(scope.json())
                .fetch_one(&mut *conn)
                .await?)
        })
    }

    /// Turns a feature flag on or off, with its audit row and outbox message in the same
    /// transaction. A tenant outside the scope is NotFound, whatever exists.
    pub async fn set_feature_flag(
        &self,
        scope: &TenantScope,
        tenant_id: &str,
        key: &str,
        enabled: bool,
        audit: &NewAuditEntry,
    ) -> Result<AuditEntry, StoreError> {
        if !scope.contains(tenant_id) {
            return Err(StoreError::NotFound { entity: "tenant" });
        }
        if key.is_empty()
            || key.len() > 64
            || !key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '-')
        {
            return Err(StoreError::Invalid {
                field: "key",
                message: "must be 1 to 64 lower-case letters, '_' or '-'".into(),
            });
        }
        scoped!(self, scope, write, |conn, d| {
            let before: Option<bool> = sqlx::query_scalar(
                "SELECT enabled FROM feature_flags WHERE tenant_id = $1 AND key = $2",
            )
            .bind(tenant_id)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO feature_flags (tenant_id, key, enabled, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (tenant_id, key) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(key)
            .bind(enabled)
            .bind(Utc::now())
            .execute(&mut *conn)
            .await
            .map_err(StoreError::from_db)?;
            let mut entry = audit.of("feature_flag.set", format!("feature_flag:{key}"));
            entry.before_state = before.map(|b| serde_json::json!({ "enabled": b }).to_string());
            entry.after_state = Some(serde_json::json!({ "enabled": enabled }).to_string());
            let row = record_change!(
                conn,
                d,
                tenant_id,
                &entry,
                Topic::FeatureFlag,
                serde_json::json!({ "key": key })
            );
            Ok(row)
        })
    }
}
