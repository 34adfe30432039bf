//! `portico-resolvers` owns the GraphQL API: its types, queries, error codes and limits, built by
//! one `schema()` factory that the server, the `portico schema` command and the tests share.
//!
//! Resolvers stay thin: they read the request's context (the portal tenant, later the caller)
//! and call the store. They never build SQL and never decide access on their own.

mod error;
mod ids;
mod types;

use async_graphql::{Context, EmptyMutation, EmptySubscription, ErrorExtensions, Object, Schema};

pub use error::{ApiError, ErrorCode};
pub use ids::{decode_id, encode_id};
pub use types::{Region, Tenant, TenantKind, User, Viewer};

/// The portal a request came in through, resolved from its Host before the schema runs.
#[derive(Debug, Clone)]
pub struct PortalContext {
    pub tenant: portico_store::model::Tenant,
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
    pub regions: Vec<portico_store::model::Region>,
}

/// The limits that are always on, whatever the configuration says about the rest.
#[derive(Debug, Clone)]
pub struct SchemaOptions {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub introspection: bool,
}

impl Default for SchemaOptions {
    fn default() -> Self {
        SchemaOptions {
            max_depth: 12,
            max_complexity: 500,
            introspection: false,
        }
    }
}

pub type PorticoSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Builds the schema with its limits.
pub fn schema(options: &SchemaOptions) -> PorticoSchema {
    let mut builder = Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_depth(options.max_depth)
        .limit_complexity(options.max_complexity)
        // Fragments that spread into each other would otherwise recurse before the depth check.
        .limit_recursive_depth(32);
    if !options.introspection {
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

#[Object]
impl Query {
    /// The portal's tenant, from the request's Host.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Tenant> {
        let portal = ctx
            .data::<PortalContext>()
            .map_err(|_| ApiError::Internal.extend())?;
        Ok(Tenant::from(&portal.tenant))
    }

    /// The signed-in caller; `null` when anonymous.
    async fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        ctx.data_opt::<Caller>().map(Viewer::from)
    }
}
