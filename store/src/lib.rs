//! `portico-store` owns Portico's data: the domain model types, the repositories for SQLite
//! (embedded default) and PostgreSQL, the migrations of both, the deterministic demo seed, the
//! audit chain and the outbox.
//!
//! It enforces a `TenantScope` on every call (in SQL, and through row-level security on
//! PostgreSQL) but never decides what a scope should be: that is the policy's job, above it.
//! It knows nothing of GraphQL or HTTP.

mod audit;
mod catalog;
mod catalog_admin;
mod customers;
mod db;
mod delegations;
mod directory;
mod error;
mod features;
mod identity;
mod listings;
pub mod model;
mod outbox;
mod price_lists;
pub mod pricing;
mod scope;
mod search_feed;
pub mod seed;
mod service_accounts;
mod sessions;
mod support;
mod synonyms;
mod users;
mod versions;

pub use audit::{
    AUDIT_GENESIS, AUDIT_PAGE_MAX, AuditOrder, AuditQuery, ChainProblem, ChainReport, audit_hash,
    audit_time, chain_problem, set_audit_for_benchmarks,
};
pub use catalog::{CatalogQuery, CatalogRow, CatalogVisibility, IdsQuery, PriceQuery, Versions};
pub use catalog_admin::{ContractPriceRow, ListingChanges};
pub use customers::{CustomerChange, CustomerSettingsChange, NewCustomer};
pub use db::{Backend, Contents, PgLogin, Readiness, Store, StoreOptions, redact_url};
pub use delegations::{
    DelegatedUse, DelegationChange, DelegationRequest, EXTEND_DAYS, LAPSE_DAYS, MAX_DELEGATION_DAYS,
};
pub use directory::Directory;
pub use error::StoreError;
pub use identity::{ALLOWED_ALGORITHMS, NewIdentityProvider};
pub use outbox::Topic;
pub use price_lists::{PriceList, PriceListChanges};
pub use scope::TenantScope;
pub use search_feed::{IndexListing, OutboxMessage};
pub use seed::SeedOutcome;
pub use service_accounts::{
    IssuedSecret, MAX_SERVICE_ACCOUNTS, NewServiceAccount, SECRET_PREFIX, SERVICE_ACCOUNT_ISSUER,
    ServiceAccount,
};
pub use sessions::SessionStore;
pub use support::{MAX_SUPPORT_MINUTES, MAX_SUPPORT_REASON, SupportRequest};
pub use synonyms::{MAX_GROUP_WORDS, MAX_SYNONYM_GROUPS, SynonymSet, SynonymTable};
pub use users::{ADMIN_ROLES, INVITATION_DAYS, ManagedUser, NewInvitation, RoleSet};

pub mod diagnostics {
    //! Probes for the fence tests: they show what the database itself enforces, below the
    //! repositories' own predicates. Not for application code.

    use crate::db::{Pools, scoped};
    use crate::{Store, StoreError, TenantScope};

    /// Tables a probe may count.
    pub const TENANT_TABLES: &[&str] = &[
        "users",
        "role_assignments",
        "delegations",
        "listings",
        "listing_regions",
        "listing_customers",
        "price_lists",
        "prices",
        "contract_prices",
        "themes",
        "feature_flags",
        "audit_log",
        "outbox",
        "support_windows",
        "search_synonyms",
    ];

    fn check_table(table: &str) -> Result<(), StoreError> {
        if TENANT_TABLES.contains(&table) {
            Ok(())
        } else {
            Err(StoreError::Invalid {
                field: "table",
                message: "is not a tenant table".into(),
            })
        }
    }

    impl Store {
        /// Counts a table's rows WITHOUT any tenant predicate, inside a transaction of `scope`:
        /// on PostgreSQL the answer is what row-level security lets through.
        pub async fn unfenced_count(
            &self,
            scope: &TenantScope,
            table: &str,
        ) -> Result<i64, StoreError> {
            check_table(table)?;
            let sql = format!("SELECT count(*) FROM {table}");
            scoped!(self, scope, read, |conn, _d| {
                Ok(sqlx::query_scalar(&sql).fetch_one(&mut *conn).await?)
            })
        }

        /// Distinct `tenant_id`s a table shows WITHOUT any predicate, inside `scope`.
        pub async fn unfenced_tenants(
            &self,
            scope: &TenantScope,
            table: &str,
        ) -> Result<Vec<String>, StoreError> {
            check_table(table)?;
            let sql = format!("SELECT DISTINCT tenant_id FROM {table} ORDER BY tenant_id");
            scoped!(self, scope, read, |conn, _d| {
                Ok(sqlx::query_scalar(&sql).fetch_all(&mut *conn).await?)
            })
        }

        /// On PostgreSQL, what a fresh transaction of the runtime pool sees outside any scope:
        /// (current_user, whether that role bypasses RLS, the `app.tenant_ids` setting).
        pub async fn runtime_session(
            &self,
        ) -> Result<Option<(String, bool, Option<String>)>, StoreError> {
            match self.pools() {
                Pools::Sqlite { .. } => Ok(None),
                Pools::Postgres { app, .. } => {
                    let row: (String, bool, Option<String>) = sqlx::query_as(
                        "SELECT current_user::text, (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user), \
                         nullif(current_setting('app.tenant_ids', true), '')",
                    )
                    .fetch_one(app)
                    .await?;
                    Ok(Some(row))
                }
            }
        }

        /// Inserts a listing row directly (no scope predicate of ours), inside `scope`: the
        /// fence test shows PostgreSQL refuses a row for a tenant outside the scope.
        pub async fn unfenced_insert_listing(
            &self,
            scope: &TenantScope,
            id: &str,
            tenant_id: &str,
        ) -> Result<(), StoreError> {
            scoped!(self, scope, write, |conn, _d| {
                sqlx::query(
                    "INSERT INTO listings (id, tenant_id, sku, name, status, visibility, created_at, updated_at) \
                     VALUES ($1, $2, 'PROBE', 'Probe', 'DRAFT', 'ALL', $3, $3)",
                )
                .bind(id)
                .bind(tenant_id)
                .bind(chrono::Utc::now())
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        }
    }
}
