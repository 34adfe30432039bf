//! Portico as the OAuth 2.0 authorization server of service accounts (integration
//! credentials): the client-credentials token endpoint (RFC 6749 §4.4) at `POST /oauth/token`,
//! its keys at `GET /.well-known/jwks.json` and its metadata (RFC 8414) at
//! `GET /.well-known/oauth-authorization-server`, all per portal host.
//!
//! A token's issuer is the portal's origin (`http://northwind.localhost:8080`), so a token is
//! good on the portal that issued it and nowhere else; its subject is the account id, which
//! the bearer check maps to the account's user (`SERVICE_ACCOUNT_ISSUER`). Tokens are ES256,
//! signed with the newest key of `<data_dir>/issuer/keys.json` (replicas share that file).
//! Every token issued is audited with the account as the actor; a refused secret is logged,
//! never audited (a stream of guesses must not grow a customer's chain).

use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::Utc;
use portico_store::{SERVICE_ACCOUNT_ISSUER, ServiceAccount};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Refusal, caller_for, portal_origin, portal_scope};
use crate::app::AppState;
use crate::signing::{KeyRing, KeyRingError};

/// The `aud` of service-account tokens.
pub const SERVICE_AUDIENCE: &str = "portico-api";
/// A key id this issuer made starts `portico-`.
const KID_PREFIX: &str = "portico";
/// An unknown key id reads the key file again at most this often (another process may have
/// rotated it); forged key ids cost nothing more.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The key ring and its public keys, kept in memory for verification.
pub struct ServiceIssuer {
    keys: KeyRing,
    pub token_ttl: Duration,
    public: RwLock<Option<(Instant, jsonwebtoken::jwk::JwkSet)>>,
}

impl ServiceIssuer {
    pub fn new(data_dir: &std::path::Path, token_ttl: Duration) -> Self {
        ServiceIssuer {
            keys: KeyRing::at(data_dir.join("issuer").join("keys.json"), KID_PREFIX),
            token_ttl,
            public: RwLock::new(None),
        }
    }

    /// The ring, for `portico issuer rotate-key` and the tests.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// Whether a token's key id says it is one of ours (its signature still has to verify).
    pub fn made(&self, kid: &str) -> bool {
        self.keys.made(kid)
    }

    /// The published keys as a JWKS document (read from the file off the async threads).
    pub async fn jwks(&self) -> Result<Value, KeyRingError> {
        let keys = self.keys.clone();
        tokio::task::spawn_blocking(move || keys.jwks())
            .await
            .expect("reading the key file does not panic")
    }

    async fn sign(&self, claims: Value) -> Result<String, KeyRingError> {
        let keys = self.keys.clone();
        tokio::task::spawn_blocking(move || keys.sign(&claims))
            .await
            .expect("signing does not panic")
    }

    /// The public key `kid`: from memory, else from the file (at most once per
    /// `RELOAD_EVERY`).
    pub(super) async fn decoding_key(
        &self,
        kid: &str,
    ) -> Result<jsonwebtoken::DecodingKey, Refusal> {
        let find = |set: &jsonwebtoken::jwk::JwkSet| {
            set.find(kid).map(jsonwebtoken::DecodingKey::from_jwk)
        };
        let stale = {
            let public = self.public.read().unwrap_or_else(|e| e.into_inner());
            match public.as_ref() {
                Some((_, set)) if set.find(kid).is_some() => {
                    return find(set)
                        .expect("found above")
                        .map_err(|e| Refusal::Invalid(format!("key {kid}: {e}")));
                }
                Some((at, _)) => at.elapsed() >= RELOAD_EVERY,
                None => true,
            }
        };
        if !stale {
            return Err(Refusal::UnknownKeyId(kid.to_owned()));
        }
        let jwks = self
            .jwks()
            .await
            .map_err(|e| Refusal::Invalid(format!("service keys: {e}")))?;
        let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks)
            .map_err(|e| Refusal::Invalid(format!("service keys: {e}")))?;
        let key = find(&set);
        *self.public.write().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), set));
        key.ok_or_else(|| Refusal::UnknownKeyId(kid.to_owned()))?
            .map_err(|e| Refusal::Invalid(format!("key {kid}: {e}")))
    }
}

/// `POST /oauth/token`, `GET /.well-known/jwks.json`, `GET /.well-known/oauth-authorization-server`.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/oauth/token", post(token))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// An OAuth error answer (RFC 6749 §5.2), never cached.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// The client's id and secret from HTTP Basic (`client_secret_basic`, each part form-encoded
/// as RFC 6749 §2.3.1 says) or from the body (`client_secret_post`); never both. `Ok(None)`:
/// neither. The `bool` says Basic was used (a refusal then carries `WWW-Authenticate`).
fn client_credentials(
    headers: &HeaderMap,
    form: &TokenRequest,
) -> Result<Option<(String, String, bool)>, Response> {
    let invalid = |why: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_request", why);
    let basic = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| invalid("Authorization: not readable text"))?;
            let (scheme, encoded) = value
                .split_once(' ')
                .ok_or_else(|| invalid("Authorization: use Basic with the client id and secret"))?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(invalid(
                    "Authorization: use Basic with the client id and secret",
                ));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| invalid("Authorization: Basic credentials are not base64 text"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| invalid("Authorization: Basic credentials need id:secret"))?;
            Some((form_decoded(id), form_decoded(secret)))
        }
    };
    match (basic, &form.client_id, &form.client_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => Err(invalid(
            "send the client credentials once: in Authorization or in the body, not both",
        )),
        (Some((id, secret)), None, None) => Ok(Some((id, secret, true))),
        (None, Some(id), Some(secret)) => Ok(Some((id.clone(), secret.clone(), false))),
        (None, Some(_), None) => Err(invalid("client_secret is missing")),
        (None, None, Some(_)) => Err(invalid("client_id is missing")),
        (None, None, None) => Ok(None),
    }
}

/// One `application/x-www-form-urlencoded` component, decoded.
fn form_decoded(part: &str) -> String {
    url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// The token endpoint: `grant_type=client_credentials`, the account's id and secret; a bearer
/// token for this portal, valid `auth.service_token_seconds`.
async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<TokenRequest>, FormRejection>,
) -> Response {
    // As of now (one read of the data versions): a customer suspended a moment ago, or a
    // portal just added, is seen by this very request, as every GraphQL request sees it.
    let directory = match state.directory.fresh(&state.store).await {
        Ok(directory) => directory,
        Err(err) => return unavailable(&err),
    };
    let Ok(portal) = crate::portal::resolve(&directory, &headers) else {
        return oauth_error(
            StatusCode::NOT_FOUND,
            "invalid_request",
            "no portal at this host",
        );
    };
    let Ok(Form(form)) = form else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "send an application/x-www-form-urlencoded body with grant_type=client_credentials",
        );
    };
    if form.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type: only client_credentials is supported",
        );
    }
    let (client_id, secret, basic) = match client_credentials(&headers, &form) {
        Ok(Some(credentials)) => credentials,
        Ok(None) => return invalid_client(true),
        Err(response) => return response,
    };
    let scope = portal_scope(&directory, &portal);
    let account = match state
        .store
        .service_account_by_secret(&scope, &client_id, &secret)
        .await
    {
        Ok(Some(account)) => account,
        Ok(None) => {
            tracing::info!(client_id = %client_id.escape_debug(), "service account credentials refused");
            return invalid_client(basic);
        }
        Err(err) => return unavailable(&err),
    };
    // The account's user and tenant as every request sees them: deactivated, or of a
    // suspended customer, gets no token.
    match caller_for(&state, &portal, SERVICE_ACCOUNT_ISSUER, &account.id, None).await {
        Ok(_) => {}
        Err(Refusal::Suspended) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "this customer account is suspended; its reseller can resume it",
            );
        }
        Err(Refusal::Store(err)) => return unavailable(&err),
        Err(refusal) => {
            tracing::info!(client_id = %account.id, reason = %refusal, "service account refused a token");
            return invalid_client(basic);
        }
    }
    let Some(origin) = portal_origin(&state, &headers) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "no Host header");
    };
    match issue(&state, &origin, &account, &portal.slug, &scope).await {
        Ok(body) => (
            [
                (header::CACHE_CONTROL, "no-store"),
                (header::PRAGMA, "no-cache"),
            ],
            axum::Json(body),
        )
            .into_response(),
        Err(response) => response,
    }
}

/// Signs the token, then audits its issue: a token whose issue could not be audited is never
/// handed out.
async fn issue(
    state: &AppState,
    origin: &str,
    account: &ServiceAccount,
    tenant_slug: &str,
    scope: &portico_store::TenantScope,
) -> Result<Value, Response> {
    let service = &state.auth.service;
    let ttl = service.token_ttl.as_secs() as i64;
    let now = Utc::now();
    let expires_at = now + chrono::Duration::seconds(ttl);
    let claims = json!({
        "iss": origin,
        "sub": account.id,
        "aud": SERVICE_AUDIENCE,
        "iat": now.timestamp(),
        "nbf": now.timestamp(),
        "exp": expires_at.timestamp(),
        "jti": uuid::Uuid::new_v4().to_string(),
        "client_id": account.id,
        "tenant": tenant_slug,
    });
    let token = service.sign(claims).await.map_err(|e| {
        tracing::error!(error = %e, "cannot sign a service-account token");
        oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "signing failed",
        )
    })?;
    state
        .store
        .record_service_account_use(scope, account, expires_at)
        .await
        .map_err(|e| unavailable(&e))?;
    tracing::info!(client_id = %account.id, "service account token issued");
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
    }))
}

/// 401 `invalid_client`, the same for an unknown id, a wrong secret and a deactivated account.
fn invalid_client(basic: bool) -> Response {
    let mut response = oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "unknown client or wrong secret",
    );
    if basic {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"portico\""),
        );
    }
    response
}

fn unavailable(err: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %err, "token endpoint: the store failed");
    oauth_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        "try again",
    )
}

/// The portal's origin if the host is a portal's; 404 otherwise.
fn portal_origin_or_404(state: &AppState, headers: &HeaderMap) -> Result<String, Response> {
    let directory = state.directory.current();
    crate::portal::resolve(&directory, headers)
        .ok()
        .and_then(|_| portal_origin(state, headers))
        .ok_or_else(|| {
            crate::error::WebError::NotFound("no portal at this host".into()).into_response()
        })
}

/// The public keys service-account tokens are signed with.
async fn jwks(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = portal_origin_or_404(&state, &headers) {
        return response;
    }
    match state.auth.service.jwks().await {
        Ok(body) => (
            [(header::CACHE_CONTROL, "public, max-age=300")],
            axum::Json(body),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the service-account keys");
            crate::error::WebError::Internal.into_response()
        }
    }
}

/// RFC 8414 metadata: where to get a token and how to check one.
async fn metadata(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = match portal_origin_or_404(&state, &headers) {
        Ok(origin) => origin,
        Err(response) => return response,
    };
    axum::Json(json!({
        "issuer": origin,
        "token_endpoint": format!("{origin}/oauth/token"),
        "jwks_uri": format!("{origin}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": [],
    }))
    .into_response()
}
