//! Demo mode (`--demo`): the landing page at `/` and the demo OIDC issuer under
//! `/demo-issuer/`: discovery, JWKS (with key rotation), an authorize page to pick a demo user,
//! and a token endpoint (authorization code with PKCE, and client credentials for scripts).
//! `portico token` signs with the same key without a server.
//!
//! Its signing keys live in `<data_dir>/demo-issuer/keys.json` (ES256; the newest key signs, the
//! one before it stays published so tokens survive a rotation). The file is the state: the
//! server and `portico token` both read it, so they always agree.

mod authorize;
mod keys;
mod page;
mod token;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portico_store::model::User;
use portico_store::seed::DEMO_ISSUER;
use serde_json::json;
use url::Url;

use crate::app::AppState;
pub use keys::{DemoIssuerError, DemoKeys};

/// The client id portals use with the demo issuer (the seeded platform provider's).
pub const DEMO_CLIENT_ID: &str = "portico-demo";
/// The audience of the demo issuer's access tokens (the seeded platform provider's).
pub const DEMO_AUDIENCE: &str = "portico";
const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// The demo routes: the landing page in demo mode, the demo issuer when it runs (only in demo
/// mode too).
pub fn router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    if state.config.demo {
        router = router.route("/", get(page::index));
    }
    if state.demo_issuer.is_some() {
        router = router
            .route(
                "/demo-issuer/.well-known/openid-configuration",
                get(discovery),
            )
            .route("/demo-issuer/jwks", get(jwks))
            .route(
                "/demo-issuer/authorize",
                get(authorize::page).post(authorize::submit),
            )
            .route("/demo-issuer/token", post(token::token));
    }
    router
}

/// What the running demo issuer remembers between authorize and token: codes, single use.
pub struct DemoIssuer {
    pub keys: DemoKeys,
    codes: Mutex<HashMap<String, PendingCode>>,
    /// Where this server can reach itself (for the token endpoint), set once it is bound.
    self_url: OnceLock<String>,
}

struct PendingCode {
    user: User,
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    code_challenge: String,
    expires: Instant,
}

impl DemoIssuer {
    pub fn new(data_dir: &Path) -> Arc<Self> {
        Arc::new(DemoIssuer {
            keys: DemoKeys::in_data_dir(data_dir),
            codes: Mutex::new(HashMap::new()),
            self_url: OnceLock::new(),
        })
    }

    pub fn set_self_url(&self, url: String) {
        let _ = self.self_url.set(url);
    }

    /// The port this server listens on, once bound: a portal's callback may name it.
    fn own_port(&self) -> Option<u16> {
        let url = Url::parse(self.self_url.get()?).ok()?;
        url.port_or_known_default()
    }

    /// The token endpoint as the server itself calls it.
    pub fn token_endpoint(&self) -> String {
        format!(
            "{}/demo-issuer/token",
            self.self_url
                .get()
                .map_or("http://127.0.0.1:8080", String::as_str)
        )
    }
}

fn origin_of(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = if state.config.secure_cookies() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The discovery document. Its issuer is the fixed demo identifier, not a URL of this host: the
/// demo users' identities are stored under it, whatever port the server runs on.
pub async fn discovery(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = origin_of(&state, &headers);
    axum::Json(json!({
        "issuer": DEMO_ISSUER,
        "authorization_endpoint": format!("{origin}/demo-issuer/authorize"),
        "token_endpoint": format!("{origin}/demo-issuer/token"),
        "jwks_uri": format!("{origin}/demo-issuer/jwks"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post"],
        "scopes_supported": ["openid", "email", "profile"],
    }))
    .into_response()
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let Some(issuer) = &state.demo_issuer else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match issuer.keys.jwks() {
        Ok(jwks) => axum::Json(jwks).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "demo issuer keys unreadable");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
