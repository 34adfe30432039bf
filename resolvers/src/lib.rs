//! `portico-resolvers` owns the GraphQL API: its types, queries, error codes and limits, built by
//! one `schema()` factory that the server, the `portico schema` command and the tests share.
//!
//! Resolvers stay thin: they read the request's context (the portal, the caller if signed in,
//! and the caller's `Access`: facts, policy, tenant tree and delegations), ask the policy, and
//! call the store with the scope it derives. They never build SQL and never decide access on
//! their own. Queries and objects live by concern (`catalog`, `catalog_admin`, `search`,
//! `tenancy`, `delegation_mutations`, `user_admin`, `customer_admin`, `customer_settings`,
//! `audit`, `support`); `limits` and `guard` keep documents and field errors in bounds.

mod audit;
pub mod authz;
pub mod cases;
pub mod catalog;
mod catalog_admin;
mod customer_admin;
mod customer_settings;
mod delegation_mutations;
mod error;
mod guard;
mod ids;
pub mod limits;
mod pagination;
mod request;
pub mod search;
mod service_accounts;
mod support;
mod tenancy;
mod types;
mod user_admin;

use async_graphql::{
    Context, EmptySubscription, ErrorExtensions, ID, MergedObject, Object, Schema,
};

pub use authz::Access;
pub use error::{ApiError, ErrorCode};
pub use ids::{decode_id, encode_id};
pub use tenancy::{Customer, CustomerConnection, CustomerStatus, Delegation, Node};
pub use types::{Region, Tenant, TenantKind, User, Viewer};

/// The portal a request came in through, resolved from its Host before the schema runs.
#[derive(Debug, Clone)]
pub struct PortalContext {
    pub tenant: portico_store::model::Tenant,
    /// The portal's data versions as read at the start of the request: the catalog's page
    /// cache is checked against them instead of reading them again.
    pub versions: portico_store::Versions,
    /// False for the operations of a batched request that follow a mutation: the versions
    /// read at the start predate its writes, so the catalog reads its own.
    pub versions_current: bool,
}

impl PortalContext {
    /// The catalog version this operation may use, or `None` to read it afresh.
    pub fn catalog_version(&self) -> Option<i64> {
        self.versions_current.then_some(self.versions.catalog)
    }
}

/// The authenticated caller of a request, put into the request's data by the server once the
/// bearer token or session has been verified and the user read from the database. Absent when
/// the request is anonymous.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: portico_store::model::User,
    /// The user's own tenant (the portal's tenant or one below it).
    pub tenant: portico_store::model::Tenant,
    pub roles: Vec<portico_store::model::Role>,
    /// The regions the caller's roles reach (for the policy's facts).
    pub regions: Vec<portico_store::model::Region>,
    /// The role rows as stored (a sales rep's own regions).
    pub assignments: Vec<portico_store::model::RoleAssignment>,
}

impl Caller {
    /// A caller from the database's rows. A role without regions reaches the tenant's own
    /// region, or every region for a tenant without one (resellers, the platform).
    pub fn new(
        user: portico_store::model::User,
        tenant: portico_store::model::Tenant,
        assignments: &[portico_store::model::RoleAssignment],
    ) -> Caller {
        use portico_store::model::Region;
        let mut roles: Vec<_> = assignments.iter().map(|a| a.role).collect();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        let mut regions: Vec<Region> = Vec::new();
        for a in assignments {
            let reach: Vec<Region> = if !a.regions.is_empty() {
                a.regions.clone()
            } else if let Some(region) = tenant.region {
                vec![region]
            } else {
                Region::ALL.to_vec()
            };
            for r in reach {
                if !regions.contains(&r) {
                    regions.push(r);
                }
            }
        }
        regions.sort_by_key(|r| Region::ALL.iter().position(|x| x == r));
        Caller {
            user,
            tenant,
            roles,
            regions,
            assignments: assignments.to_vec(),
        }
    }
}

/// The limits that are always on, whatever the configuration says about the rest.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    /// Depth, selections, aliases, root fields and introspection: checked on the document
    /// before async-graphql validates it (`limits`).
    pub limits: limits::Limits,
    /// The cost budget of one operation, computed by async-graphql from the costs declared on
    /// the fields (`complexity = …`): pages and lists multiply their items' cost by `first`.
    pub max_complexity: usize,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            limits: limits::Limits::default(),
            max_complexity: DEFAULT_MAX_COMPLEXITY,
        }
    }
}

/// The default cost budget: a page of 100 products with their prices fits; ten such pages in
/// one document do not (`tests/tests/hostile_documents.rs`).
pub const DEFAULT_MAX_COMPLEXITY: usize = 5_000;

pub type PorticoSchema = Schema<Query, Mutation, EmptySubscription>;

/// Builds the schema with its limits and the guard (`guard.rs`): documents over the limits are
/// refused before async-graphql validates them, and field errors are nulled as the spec says.
pub fn schema(options: &SchemaOptions) -> PorticoSchema {
    build(options, true)
}

/// The schema twice, as the server runs it. Any async-graphql extension takes every field of
/// every request off the executor's fast path (about a fifth of a cached catalog page's
/// throughput, measured), and the guard's per-field work is only needed when a field fails. So
/// the server checks the limits itself (`limits::check_request`), runs queries on `fast`, and
/// runs again on `conforming` the rare query whose response holds a field error, and every
/// mutation (which must not run twice).
pub struct Schemas {
    /// With the guard: limits, and field errors as the spec says.
    pub conforming: PorticoSchema,
    /// Without any extension: for queries whose documents passed `limits::check_request`.
    pub fast: PorticoSchema,
    pub limits: limits::Limits,
}

pub fn schemas(options: &SchemaOptions) -> Schemas {
    Schemas {
        conforming: build(options, true),
        fast: build(options, false),
        limits: options.limits.clone(),
    }
}

fn build(options: &SchemaOptions, guarded: bool) -> PorticoSchema {
    let mut builder = Schema::build(Query, Mutation::default(), EmptySubscription)
        // The guard checks data depth and introspection depth apart (introspection nests
        // deeper); async-graphql's own count, which mixes the two, is only a backstop.
        .limit_depth(
            options
                .limits
                .max_depth
                .max(limits::MAX_INTROSPECTION_DEPTH),
        )
        .limit_complexity(options.max_complexity)
        .limit_directives(8)
        // Fragments that spread into each other would otherwise recurse before the depth check.
        .limit_recursive_depth(32);
    if guarded {
        builder = builder.extension(guard::Guard::new(options.limits.clone()));
    }
    if !options.limits.introspection {
        // Field suggestions ("did you mean …") leak the schema as surely as introspection.
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL committed as `schema/portico.graphql`.
pub fn sdl() -> String {
    schema(&SchemaOptions::default()).sdl()
}

pub struct Query;

// The SDL lists the merged fields in the order declared here.
/// Every mutation takes one input object and returns a payload.
#[derive(MergedObject, Default)]
pub struct Mutation(
    delegation_mutations::DelegationMutations,
    user_admin::UserMutations,
    customer_admin::CustomerMutations,
    customer_settings::CustomerSettingsMutations,
    catalog_admin::ListingMutations,
    catalog_admin::ContractPriceMutations,
    catalog_admin::PriceListMutations,
    catalog_admin::ListingLifecycleMutations,
    catalog_admin::SearchSynonymMutations,
    support::SupportMutations,
    service_accounts::ServiceAccountMutations,
);

#[Object]
impl Query {
    /// The portal's tenant, from the request's Host.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let portal = request::portal(ctx)?;
        let access = request::access(ctx)?;
        let facts = access.facts(portico_policies::Kind::Portal, &portal.tenant);
        if !access.allows(portico_policies::Action::Read, &facts) {
            return Err(ApiError::NotFound("tenant").extend());
        }
        Ok(Tenant::from(&portal.tenant))
    }

    /// Anything with an id the caller may see; `null` and NOT_FOUND otherwise.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        tenancy::node(ctx, &id).await.map(Some)
    }

    /// The customers the caller may see: a reseller's staff see their own (sales reps in their
    /// regions), a customer admin its own record, platform admins all.
    #[graphql(complexity = "crate::limits::cost::page(first, child_complexity)")]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        region: Option<Region>,
    ) -> async_graphql::Result<CustomerConnection> {
        tenancy::customers(request::access(ctx)?, first, after, region)
    }

    /// The portal's catalog as the caller may see it: staff their own listings of every status,
    /// customers the active listings sold in their region and visible to them. Ordered by SKU.
    /// `tenantId` (a reseller's `Tenant` id) reads another catalog the caller may see: platform
    /// admins inside a support window on that reseller (empty otherwise).
    #[graphql(complexity = "crate::limits::cost::page(first, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        tenant_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<catalog::ProductFilter>,
    ) -> async_graphql::Result<catalog::ProductConnection> {
        catalog::products(ctx, tenant_id, first, after, filter).await
    }

    /// Full-text search of the portal's catalog: typo-tolerant, prefix-matching on the last
    /// word, with facet counts over what the caller may see. `query` may be empty (browse).
    #[graphql(complexity = "crate::limits::cost::search(first, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<search::SearchFilter>,
    ) -> async_graphql::Result<search::SearchResult> {
        search::search(ctx, query, first, after, filter).await
    }

    /// Type-ahead: names of products the caller may see that `prefix` completes (its last word
    /// as a prefix, typo-tolerant from 5 letters), best first, each once; `first` 1–20
    /// (default 8).
    #[graphql(complexity = "crate::limits::cost::search(first, child_complexity)")]
    async fn search_completions(
        &self,
        ctx: &Context<'_>,
        prefix: String,
        first: Option<i32>,
    ) -> async_graphql::Result<Vec<String>> {
        search::completions(ctx, prefix, first).await
    }

    /// The portal's search synonyms, for the staff who manage its catalog.
    async fn search_synonyms(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<catalog_admin::SearchSynonyms> {
        catalog_admin::search_synonyms(ctx).await
    }

    /// One product; `null` and NOT_FOUND when the caller may not see it.
    async fn product(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<catalog::Product>> {
        catalog::product(ctx, &id).await.map(Some)
    }

    /// The portal's price lists, for the staff who manage them (empty for everyone else).
    async fn price_lists(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<catalog_admin::PriceList>> {
        catalog_admin::price_lists(ctx).await
    }

    /// A customer's net price for a product, for staff who may see that customer's prices.
    #[graphql(complexity = "crate::limits::cost::price(child_complexity)")]
    async fn price_for(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        product_id: ID,
        #[graphql(default = 1)] quantity: i32,
    ) -> async_graphql::Result<Option<catalog::Price>> {
        catalog_admin::price_for(ctx, &customer_id, &product_id, quantity).await
    }

    /// One customer; `null` and NOT_FOUND when the caller may not see it.
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Customer>> {
        tenancy::customer(request::access(ctx)?, &id).map(Some)
    }

    /// Delegations given or held by the caller's tenant.
    async fn delegations(
        &self,
        ctx: &Context<'_>,
        status: Option<tenancy::DelegationStatus>,
    ) -> async_graphql::Result<Vec<Delegation>> {
        tenancy::delegations(ctx, status).await
    }

    /// A tenant's audit log, newest first: every change and every delegated or cross-tenant
    /// operation in that tenant, hash-chained (docs/AUDIT.md). `tenantId` (a `Tenant` or
    /// `Customer` id) defaults to the caller's own tenant. A tenant's admins read its log; a
    /// reseller's admins and support read a customer's while it delegates SUPPORT_READONLY.
    /// FORBIDDEN for a tenant the caller sees but may not read the log of, NOT_FOUND for one it
    /// may not see.
    #[graphql(complexity = "crate::limits::cost::page(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        tenant_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<audit::AuditFilter>,
    ) -> async_graphql::Result<audit::AuditEntryConnection> {
        audit::audit_log(ctx, tenant_id, first, after, filter).await
    }

    /// Support windows, newest first: platform admins see every tenant's, a tenant's admins
    /// the ones opened on their tenant (who looked, when and why). `tenantId` (a `Tenant` or
    /// `Customer` id) narrows to one tenant; `open` to the open (or ended) ones.
    async fn support_windows(
        &self,
        ctx: &Context<'_>,
        tenant_id: Option<ID>,
        open: Option<bool>,
    ) -> async_graphql::Result<Vec<support::SupportWindow>> {
        support::support_windows(ctx, tenant_id, open).await
    }

    /// The signed-in caller; `null` when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        ctx.data_opt::<Caller>().map(Viewer::from)
    }
}
