//! `/graphql` per GraphQL-over-HTTP: POST with a JSON body (one operation or a bounded batch),
//! GET for queries only; answers `application/graphql-response+json` unless the client accepts
//! only `application/json`. Every error leaves with an `extensions.code`.

mod documents;
mod execution;
mod http;
mod response;

use axum::{Router, routing};

use crate::app::AppState;
pub use documents::Documents;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The `/graphql` routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/graphql", routing::get(http::get).post(http::post))
}
