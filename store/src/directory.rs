//! The directory: every tenant and portal host, read whole before a request has a scope (it
//! is not tenant data, DESIGN section 3), and the identity providers a tenant signs in with.

use chrono::{DateTime, Utc};

use crate::db::scoped;
use crate::model::*;
use crate::{Store, StoreError, TenantScope};

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

/// The columns of a `TenantRow`, in the order it reads them.
pub(crate) const TENANT_COLUMNS: &str = "id, parent_id, kind, slug, name, region, created_at, \
     deleted_at, suspended_at, suspended_reason, contact_email, contact_phone, version";

#[derive(sqlx::FromRow)]
pub(crate) struct TenantRow {
    id: String,
    parent_id: Option<String>,
    kind: String,
    slug: String,
    name: String,
    region: Option<String>,
    created_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
    suspended_at: Option<DateTime<Utc>>,
    suspended_reason: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    version: i64,
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
            suspended_at: r.suspended_at,
            suspended_reason: r.suspended_reason,
            contact_email: r.contact_email,
            contact_phone: r.contact_phone,
            version: r.version,
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

impl Store {
    /// Every tenant (soft-deleted ones included, flagged) and every portal host. The directory
    /// is not tenant data (DESIGN section 3): it is read before a request has a scope.
    pub async fn load_directory(&self) -> Result<Directory, StoreError> {
        scoped!(self, &TenantScope::none(), snapshot, |conn, _d| {
            let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY created_at, slug");
            let tenants: Vec<TenantRow> = sqlx::query_as(&sql).fetch_all(&mut *conn).await?;
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
}
