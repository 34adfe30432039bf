//! Running a request's operations: the caller's delegations, support windows and list scopes
//! once per request, the portal, caller and access attached to each operation, the schema with
//! or without the guard, and one FIELD_MASKED error per masked field path.

use std::sync::Arc;

use async_graphql::ServerError;
use portico_resolvers::{Access, Caller, ErrorCode, PortalContext};
use portico_store::TenantScope;

use crate::app::AppState;
use crate::error::WebError;

/// A caller's first request computes its list scopes (a few hundred policy queries, tens of
/// milliseconds): on the blocking pool, so no async worker stalls. Later requests find them
/// cached.
async fn warm_scopes(
    authorizer: &Arc<portico_policies::CachedAuthorizer>,
    caller: Option<&Caller>,
) {
    let actor = Access::actor_of(caller);
    let cold: Vec<_> = portico_policies::LIST_KINDS
        .iter()
        .copied()
        .filter(|&k| !authorizer.has_allowed_set(&actor, portico_policies::Action::Read, k))
        .collect();
    if cold.is_empty() {
        return;
    }
    let authorizer = authorizer.clone();
    let _ = tokio::task::spawn_blocking(move || {
        for kind in cold {
            authorizer.allowed_set(&actor, portico_policies::Action::Read, kind);
        }
    })
    .await;
}

/// Runs operations with the request's portal, caller and access, then adds one FIELD_MASKED
/// error per masked field path.
pub(super) async fn execute(
    state: &AppState,
    portal: PortalContext,
    caller: Option<Caller>,
    requests: Vec<async_graphql::Request>,
) -> Result<Vec<async_graphql::Response>, WebError> {
    // The caller's tenant's delegations, once per request: the facts of delegated scopes. Only
    // resellers hold delegations, so customers' and the platform's requests skip the query.
    let delegations = match &caller {
        Some(c) if c.tenant.kind == portico_store::model::TenantKind::Reseller => state
            .store
            .delegations(&TenantScope::single(c.tenant.id.clone()))
            .await
            .map_err(|err| WebError::unavailable("cannot read the caller's delegations", &err))?,
        _ => Vec::new(),
    };
    let now = chrono::Utc::now();
    // The support windows the caller holds open, once per request: the facts of what a
    // platform admin may read inside another tenant. Only platform staff open them.
    let support_windows = match &caller {
        Some(c) if c.tenant.kind == portico_store::model::TenantKind::Platform => state
            .store
            .open_support_windows(&TenantScope::single(c.tenant.id.clone()), &c.user.id, now)
            .await
            .map_err(|err| {
                WebError::unavailable("cannot read the caller's support windows", &err)
            })?,
        _ => Vec::new(),
    };
    let authorizer = state.policies.current();
    let directory = state.directory.current();
    warm_scopes(&authorizer, caller.as_ref()).await;
    let shared = Shared {
        state,
        portal: &portal,
        caller: caller.as_ref(),
        delegations: &delegations,
        support_windows: &support_windows,
        authorizer: &authorizer,
        directory: &directory,
        now,
    };
    // A batch's operations run side by side, unless one is a mutation: then they run in
    // order, each seeing the writes of those before it (GraphQL runs a document's mutation
    // fields in order too). After a mutation, the versions read at the request's start may
    // be older than its writes, so the operations after it read their own.
    let mut after_mutation = false;
    let operations: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let versions_current = !after_mutation;
            let (request, mutation) = state.documents.prepare(request);
            after_mutation |= mutation;
            (request, mutation, versions_current)
        })
        .collect();
    if after_mutation {
        let mut list = Vec::with_capacity(operations.len());
        for (request, mutation, versions_current) in operations {
            list.push(shared.run(request, mutation, versions_current).await);
        }
        Ok(list)
    } else {
        Ok(futures::future::join_all(
            operations
                .into_iter()
                .map(|(request, mutation, current)| shared.run(request, mutation, current)),
        )
        .await)
    }
}

/// What every operation of one HTTP request shares.
struct Shared<'a> {
    state: &'a AppState,
    portal: &'a PortalContext,
    caller: Option<&'a Caller>,
    delegations: &'a [portico_store::model::Delegation],
    support_windows: &'a [portico_store::model::SupportWindow],
    authorizer: &'a Arc<portico_policies::CachedAuthorizer>,
    directory: &'a Arc<portico_store::Directory>,
    now: chrono::DateTime<chrono::Utc>,
}

impl Shared<'_> {
    /// Runs one operation. Mutations run once, on the schema with the guard. Queries are checked
    /// against the limits here and run on the schema without it (every field on async-graphql's
    /// fast path); the rare query whose response holds a field error runs again with the guard,
    /// which nulls field errors as the spec says (see `portico_resolvers::Schemas`).
    async fn run(
        &self,
        mut request: async_graphql::Request,
        mutation: bool,
        versions_current: bool,
    ) -> async_graphql::Response {
        let schemas = &self.state.schemas;
        // After a mutation the directory may have moved too (a customer created or
        // suspended): the operations after it see it as it is now.
        let directory = if versions_current {
            self.directory.clone()
        } else {
            match self.state.directory.fresh(&self.state.store).await {
                Ok(directory) => directory,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot reload the directory after a mutation");
                    self.directory.clone()
                }
            }
        };
        if mutation {
            let (request, masks) = self.attach(request, versions_current, &directory);
            return with_masks(schemas.conforming.execute(request).await, &masks);
        }
        if let Err(refusal) =
            portico_resolvers::limits::check_request(&mut request, &schemas.limits)
        {
            return async_graphql::Response::from_errors(vec![refusal]);
        }
        let again = (
            request.query.clone(),
            request.operation_name.clone(),
            request.variables.clone(),
        );
        let (request, masks) = self.attach(request, versions_current, &directory);
        let response = schemas.fast.execute(request).await;
        if response.errors.iter().all(|e| e.path.is_empty()) {
            return with_masks(response, &masks);
        }
        let (query, operation_name, variables) = again;
        let mut retry = async_graphql::Request::new(query).variables(variables);
        if let Some(name) = operation_name {
            retry = retry.operation_name(name);
        }
        let (retry, _) = self.state.documents.prepare(retry);
        let (retry, masks) = self.attach(retry, versions_current, &directory);
        with_masks(schemas.conforming.execute(retry).await, &masks)
    }

    /// The request with its portal, caller, access, price loader, store and search service;
    /// and the log of the fields the access masks.
    fn attach(
        &self,
        mut request: async_graphql::Request,
        versions_current: bool,
        directory: &Arc<portico_store::Directory>,
    ) -> (async_graphql::Request, portico_resolvers::authz::MaskLog) {
        let portal = PortalContext {
            versions_current,
            ..self.portal.clone()
        };
        let access = Access::new(
            self.authorizer.clone(),
            directory.clone(),
            self.caller,
            self.delegations,
            self.now,
        )
        .with_support_windows(self.support_windows, self.now);
        let masks = access.masks();
        let loader = portico_resolvers::catalog::price_loader(
            &self.state.store,
            &portal.tenant,
            self.caller,
        );
        request = request
            .data(portal)
            .data(access)
            .data(loader)
            .data(self.state.store.clone())
            .data(self.state.search.clone());
        if let Some(caller) = self.caller {
            request = request.data(caller.clone());
        }
        (request, masks)
    }
}

/// Adds one FIELD_MASKED error per masked field path.
fn with_masks(
    mut response: async_graphql::Response,
    masks: &portico_resolvers::authz::MaskLog,
) -> async_graphql::Response {
    for path in masks.paths() {
        let mut error = ServerError::new(format!("{path}: you may not read this field"), None);
        error.path = path
            .split('.')
            .map(|s| async_graphql::PathSegment::Field(s.to_owned()))
            .collect();
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", ErrorCode::FieldMasked.as_str());
        response.errors.push(error);
    }
    response
}
