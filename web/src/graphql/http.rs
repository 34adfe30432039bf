//! The handlers: POST with a JSON body (one operation or a bounded batch), GET for queries
//! only. Both open with the request's `Portal` and `MaybeCaller`; refusals before any GraphQL
//! runs are `WebError`s.

use std::collections::HashMap;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, BatchResponse};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::JSON;
use super::documents::operation_type;
use super::execution::execute;
use super::response::respond;
use crate::app::AppState;
use crate::error::{MaybeCaller, Portal, WebError};

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
