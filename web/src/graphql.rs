//! `/graphql` per GraphQL-over-HTTP: POST with a JSON body (one operation or a bounded batch),
//! GET for queries only; answers `application/graphql-response+json` unless the client accepts
//! only `application/json`. Every error leaves with an `extensions.code`.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType};
use async_graphql::{BatchRequest, BatchResponse, ServerError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Router, routing};
use portico_resolvers::{Access, Caller, ErrorCode, PortalContext};
use portico_store::TenantScope;

use crate::app::AppState;
use crate::error::{MaybeCaller, Portal, WebError};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The `/graphql` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/graphql", routing::get(get).post(post))
}

pub async fn post(
    State(state): State<AppState>,
    Portal(portal): Portal,
    // Any POST may carry a mutation, so a cookie-carried one must pass the CSRF check.
    MaybeCaller(caller): MaybeCaller<true>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, WebError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != JSON {
        return Err(WebError::UnsupportedMediaType(
            "content-type: POST /graphql takes application/json".into(),
        ));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let limit = state.config.graphql.max_body_bytes;
            WebError::PayloadTooLarge(format!("body: the request is larger than {limit} bytes"))
        } else {
            WebError::Rejected(rejection.status(), rejection.body_text())
        }
    })?;
    let batch: BatchRequest = serde_json::from_slice(&body)
        .map_err(|err| WebError::BadRequest(format!("body: not a GraphQL request ({err})")))?;
    let size = match &batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(list) => list.len(),
    };
    if size == 0 || size > state.config.graphql.max_batch {
        return Err(WebError::BadRequest(format!(
            "body: a batch holds 1 to {} operations, this one {size}",
            state.config.graphql.max_batch
        )));
    }
    let response = match batch {
        BatchRequest::Single(request) => {
            let mut list = execute(&state, portal, caller, vec![request]).await?;
            BatchResponse::Single(list.remove(0))
        }
        BatchRequest::Batch(requests) => {
            BatchResponse::Batch(execute(&state, portal, caller, requests).await?)
        }
    };
    Ok(respond(&headers, response))
}

/// Parsed documents by query text. Portals send the same few operations over and over;
/// parsing one again costs more than the rest of a small query's execution. Validation still
/// runs on every request: it depends on the schema only, but it is the schema's guard.
pub struct Documents {
    cache: quick_cache::sync::Cache<String, ExecutableDocument>,
}

/// Longer query texts are parsed every time rather than kept.
const MAX_CACHED_QUERY_BYTES: usize = 8 * 1024;

impl Documents {
    pub fn new(entries: usize) -> Self {
        Documents {
            cache: quick_cache::sync::Cache::new(entries.max(1)),
        }
    }

    /// Hands the request its parsed document when it is known or parses cleanly, and says
    /// whether it runs a mutation. A query that does not parse (or nests too deep to be parsed)
    /// is left to the executor, which refuses it before it runs: it writes nothing.
    fn prepare(&self, mut request: async_graphql::Request) -> (async_graphql::Request, bool) {
        let Some(document) = self.parsed(&request.query) else {
            return (request, false);
        };
        let mutation = operation_type(&document, request.operation_name.as_deref())
            == Some(OperationType::Mutation);
        request.set_parsed_query(document);
        (request, mutation)
    }

    /// The parsed query, from the cache or parsed now (and kept when it is short enough).
    fn parsed(&self, query: &str) -> Option<ExecutableDocument> {
        if let Some(document) = self.cache.get(query) {
            return Some(document);
        }
        // The parser recurses once per bracket: a document nested too deep is left to the
        // schema, which refuses it without parsing.
        portico_resolvers::limits::check_nesting(query).ok()?;
        let document = async_graphql::parser::parse_query(query).ok()?;
        if query.len() <= MAX_CACHED_QUERY_BYTES {
            self.cache.insert(query.to_owned(), document.clone());
        }
        Some(document)
    }
}

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
async fn execute(
    state: &AppState,
    portal: PortalContext,
    caller: Option<Caller>,
    requests: Vec<async_graphql::Request>,
) -> Result<Vec<async_graphql::Response>, WebError> {
    // The caller's tenant's grants, once per request: the facts of delegated scopes. Only
    // resellers hold grants, so customers' and the platform's requests skip the query.
    let delegations = match &caller {
        Some(c) if c.tenant.kind == portico_store::model::TenantKind::Reseller => state
            .store
            .delegations(&TenantScope::single(c.tenant.id.clone()))
            .await
            .map_err(|err| WebError::unavailable("cannot read the caller's grants", &err))?,
        _ => Vec::new(),
    };
    let authorizer = state.policies.current();
    let directory = state.directory.current();
    let now = chrono::Utc::now();
    warm_scopes(&authorizer, caller.as_ref()).await;
    let shared = Shared {
        state,
        portal: &portal,
        caller: caller.as_ref(),
        delegations: &delegations,
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
        if mutation {
            let (request, masks) = self.attach(request, versions_current);
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
        let (request, masks) = self.attach(request, versions_current);
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
        let (retry, masks) = self.attach(retry, versions_current);
        with_masks(schemas.conforming.execute(retry).await, &masks)
    }

    /// The request with its portal, caller, access, price loader, store and search service;
    /// and the log of the fields the access masks.
    fn attach(
        &self,
        mut request: async_graphql::Request,
        versions_current: bool,
    ) -> (async_graphql::Request, portico_resolvers::authz::MaskLog) {
        let portal = PortalContext {
            versions_current,
            ..self.portal.clone()
        };
        let access = Access::new(
            self.authorizer.clone(),
            self.directory.clone(),
            self.caller,
            self.delegations,
            self.now,
        );
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

/// The type of the operation a request runs: the named one, or the document's first.
fn operation_type(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<OperationType> {
    match &document.operations {
        DocumentOperations::Single(op) => Some(op.node.ty),
        DocumentOperations::Multiple(ops) => match operation_name {
            Some(name) => ops
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, op)| op.node.ty),
            None => ops.values().next().map(|op| op.node.ty),
        },
    }
}

pub async fn get(
    State(state): State<AppState>,
    Portal(portal): Portal,
    // GET runs queries only (checked below), so it needs no CSRF check.
    MaybeCaller(caller): MaybeCaller<false>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let Some(query) = params.get("query") else {
        return Err(WebError::BadRequest(
            "query: the parameter is missing".into(),
        ));
    };
    let operation_name = params.get("operationName").filter(|n| !n.is_empty());
    // GET must never change anything: refuse a mutation before it reaches the schema.
    if let Some(document) = state.documents.parsed(query)
        && matches!(
            operation_type(&document, operation_name.map(String::as_str)),
            Some(OperationType::Mutation | OperationType::Subscription)
        )
    {
        return Err(WebError::MethodNotAllowed(
            "GET runs queries only: send mutations with POST".into(),
        ));
    }
    let mut request = async_graphql::Request::new(query.clone());
    if let Some(name) = operation_name {
        request = request.operation_name(name.clone());
    }
    if let Some(variables) = params.get("variables").filter(|v| !v.is_empty()) {
        let value = serde_json::from_str(variables)
            .map_err(|err| WebError::BadRequest(format!("variables: not a JSON object ({err})")))?;
        request = request.variables(async_graphql::Variables::from_json(value));
    }
    let mut list = execute(&state, portal, caller, vec![request]).await?;
    Ok(respond(&headers, BatchResponse::Single(list.remove(0))))
}

/// Gives every error a code and picks status and media type.
fn respond(headers: &HeaderMap, response: BatchResponse) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let legacy =
        accept.contains(JSON) && !accept.contains(GRAPHQL_RESPONSE) && !accept.contains("*/*");
    // Written straight from the executor's values: fields stay in the order the query asked
    // for them, and no intermediate JSON tree is built and dropped per response.
    let (body, request_failed) = match response {
        BatchResponse::Single(r) => {
            let rendered = Rendered::from(r);
            let failed = !rendered.executed;
            (serde_json::to_vec(&rendered), failed)
        }
        BatchResponse::Batch(list) => {
            let rendered: Vec<Rendered> = list.into_iter().map(Rendered::from).collect();
            let failed = rendered.iter().all(|r| !r.executed);
            (serde_json::to_vec(&rendered), failed)
        }
    };
    let Ok(body) = body else {
        tracing::error!("a response could not be written as JSON");
        return WebError::Internal.into_response();
    };
    // Under application/graphql-response+json a request that never executed is a 4xx; legacy
    // application/json clients always get 200 for a well-formed request.
    let status = if request_failed && !legacy {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = HeaderValue::from_static(if legacy {
        "application/json"
    } else {
        GRAPHQL_RESPONSE
    });
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// One response as it leaves: with every error coded, and without `data` when it is a request
/// error (nothing executed, per GraphQL-over-HTTP).
struct Rendered {
    response: async_graphql::Response,
    executed: bool,
}

impl From<async_graphql::Response> for Rendered {
    fn from(mut response: async_graphql::Response) -> Self {
        for error in &mut response.errors {
            assign_code(error);
        }
        let executed = !(response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty()));
        Rendered { response, executed }
    }
}

impl serde::Serialize for Rendered {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if self.executed {
            map.serialize_entry("data", &self.response.data)?;
        }
        if !self.response.errors.is_empty() {
            map.serialize_entry("errors", &self.response.errors)?;
        }
        if !self.response.extensions.is_empty() {
            map.serialize_entry("extensions", &self.response.extensions)?;
        }
        map.end()
    }
}

/// Errors raised by async-graphql itself (parse, validation, limits) carry no code.
fn assign_code(error: &mut ServerError) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let code = if error.message.contains("too complex")
        || error.message.contains("nested too deep")
        || error.message.contains("recursion")
    {
        ErrorCode::QueryTooComplex
    } else if error.path.is_empty() {
        ErrorCode::BadUserInput
    } else {
        // A resolver failed without saying how: say nothing more than that.
        tracing::error!(message = %error.message, "uncoded resolver error");
        error.message = "internal error".into();
        ErrorCode::Internal
    };
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
}
