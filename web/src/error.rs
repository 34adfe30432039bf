//! The errors a handler answers before any GraphQL runs, in the same shape as a GraphQL error
//! (`request_error`), and the extractors that open every GraphQL request: its `Portal` (with
//! the data versions) and its `MaybeCaller`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_resolvers::{Caller, ErrorCode, PortalContext};
use portico_store::StoreError;
use serde_json::json;
use tower_sessions::Session;

use crate::app::AppState;
use crate::{auth, portal};

/// An error before any GraphQL runs, in the same shape as a GraphQL error.
pub fn request_error(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    response
}

/// What a handler answers instead of running GraphQL. Each variant is one status and code;
/// its message is the body's.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404 `NOT_FOUND`: no portal at this host, or no such route.
    #[error("{0}")]
    NotFound(String),
    /// 503 `UNAVAILABLE`: the database (or another dependency) failed; the log says why.
    #[error("the service is unavailable, try again")]
    Unavailable,
    /// 400 `BAD_USER_INPUT`, the message naming the field at fault.
    #[error("{0}")]
    BadRequest(String),
    /// 415 `BAD_USER_INPUT`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 413 `BAD_USER_INPUT`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 405 `BAD_USER_INPUT` with `Allow: POST`.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// Any other status of a refused body, `BAD_USER_INPUT`.
    #[error("{1}")]
    Rejected(StatusCode, String),
    /// 401 `UNAUTHENTICATED` with `WWW-Authenticate`: the same answer whatever the reason.
    #[error("the bearer token is invalid or expired")]
    Unauthenticated,
    /// 403 `FORBIDDEN`.
    #[error("{0}")]
    Forbidden(String),
    /// 500 `INTERNAL`, saying nothing more.
    #[error("internal error")]
    Internal,
    /// An answer made elsewhere: the session layer's own refusal.
    #[error("the request is refused")]
    Refused(Response),
}

impl WebError {
    /// 503, after logging what failed.
    pub fn unavailable(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{context}");
        WebError::Unavailable
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, code) = match self {
            WebError::NotFound(_) => (StatusCode::NOT_FOUND, ErrorCode::NotFound),
            WebError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable),
            WebError::BadRequest(_) => (StatusCode::BAD_REQUEST, ErrorCode::BadUserInput),
            WebError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, ErrorCode::BadUserInput)
            }
            WebError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::BadUserInput)
            }
            WebError::MethodNotAllowed(_) => {
                (StatusCode::METHOD_NOT_ALLOWED, ErrorCode::BadUserInput)
            }
            WebError::Rejected(status, _) => (status, ErrorCode::BadUserInput),
            WebError::Unauthenticated => {
                let mut response = request_error(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::Unauthenticated,
                    &message,
                );
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
                return response;
            }
            WebError::Forbidden(_) => (StatusCode::FORBIDDEN, ErrorCode::Forbidden),
            WebError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::Internal),
            WebError::Refused(response) => return response,
        };
        request_error(status, code, &message)
    }
}

/// The request's portal, recorded in its span, with its data versions: one statement that
/// tells every cache of the request (the directory, provider, caller, catalog pages) whether
/// it is current. A host no portal serves costs that statement too: the host may be new.
pub struct Portal(pub PortalContext);

impl FromRequestParts<AppState> for Portal {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if let Some(portal) = parts.extensions.get::<PortalContext>() {
            return Ok(Portal(portal.clone()));
        }
        let (held, directory) = state.directory.snapshot();
        let resolved = portal::resolve(&directory, &parts.headers);
        let owner = resolved.as_ref().map(|t| t.id.clone()).unwrap_or_default();
        let unavailable =
            |err: StoreError| WebError::unavailable("cannot read the data versions", &err);
        let mut versions = state.store.versions(&owner).await.map_err(unavailable)?;
        // The directory moved since it was loaded (a tenant created, changed or suspended, a
        // host added): reload it and resolve the portal again before anything relies on it.
        let resolved = if versions.directory > held {
            let directory = state
                .directory
                .at_least(&state.store, versions.directory)
                .await
                .map_err(|err| WebError::unavailable("cannot reload the directory", &err))?;
            let resolved = portal::resolve(&directory, &parts.headers);
            if let Ok(tenant) = &resolved
                && tenant.id != owner
            {
                versions = state
                    .store
                    .versions(&tenant.id)
                    .await
                    .map_err(unavailable)?;
            }
            resolved
        } else {
            resolved
        };
        let tenant = resolved.map_err(|err| {
            tracing::info!(error = %err, "request for no portal");
            WebError::NotFound(err.to_string())
        })?;
        tracing::Span::current().record("tenant", tenant.slug.as_str());
        let portal = PortalContext {
            tenant,
            versions,
            versions_current: true,
        };
        parts.extensions.insert(portal.clone());
        Ok(Portal(portal))
    }
}

/// The request's caller, if any, recorded in its span: from the bearer token or the session.
/// With `WRITES`, a cookie-carried caller must pass the CSRF check (any POST may carry a
/// mutation); without, it need not (GET runs queries only).
pub struct MaybeCaller<const WRITES: bool>(pub Option<Caller>);

impl<const WRITES: bool> FromRequestParts<AppState> for MaybeCaller<WRITES> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let Portal(portal) = Portal::from_request_parts(parts, state).await?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|rejection| WebError::Refused(rejection.into_response()))?;
        let caller = auth::authenticate(
            state,
            &parts.headers,
            &session,
            &portal.tenant,
            Some(portal.versions.identity),
            WRITES,
        )
        .await?;
        if let Some(caller) = &caller {
            tracing::Span::current().record("user", caller.user.id.as_str());
        }
        Ok(MaybeCaller(caller))
    }
}
