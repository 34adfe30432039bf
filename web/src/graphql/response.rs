//! The response as it leaves: a code on every error, the status and the media type.

use async_graphql::{BatchResponse, ServerError};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_resolvers::ErrorCode;

use super::{GRAPHQL_RESPONSE, JSON};
use crate::error::WebError;

/// Gives every error a code and picks status and media type.
pub(super) fn respond(headers: &HeaderMap, response: BatchResponse) -> Response {
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
