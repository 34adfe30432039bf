//! The demo OIDC issuer, served only with `--demo`: discovery, JWKS (with key rotation), an
//! authorize page to pick a demo user, and a token endpoint (authorization code with PKCE, and
//! client credentials for scripts). `portico token` signs with the same key without a server.
//!
//! Its signing keys live in `<data_dir>/demo-issuer/keys.json` (ES256; the newest key signs, the
//! one before it stays published so tokens survive a rotation). The file is the state: the
//! server and `portico token` both read it, so they always agree.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use p256::SecretKey;
use p256::pkcs8::EncodePrivateKey;
use portico_store::Store;
use portico_store::model::User;
use portico_store::seed::DEMO_ISSUER;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::app::AppState;
use crate::html::escape;

/// The client id portals use with the demo issuer (the seeded platform provider's).
pub const DEMO_CLIENT_ID: &str = "portico-demo";
/// The audience of the demo issuer's access tokens (the seeded platform provider's).
pub const DEMO_AUDIENCE: &str = "portico";
/// Published keys: the signing key and the one it replaced.
const PUBLISHED_KEYS: usize = 2;
const CODE_LIFETIME: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum DemoIssuerError {
    #[error("demo issuer keys at {path}: {message}")]
    Keys { path: PathBuf, message: String },
    #[error("signing failed: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredKey {
    kid: String,
    created_at: i64,
    /// The private key as a JWK (kty EC, crv P-256, x, y, d).
    private_jwk: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct KeyFile {
    /// Newest first.
    keys: Vec<StoredKey>,
}

/// The key file of a data directory.
#[derive(Debug, Clone)]
pub struct DemoKeys {
    path: PathBuf,
}

impl DemoKeys {
    pub fn in_data_dir(data_dir: &Path) -> Self {
        DemoKeys {
            path: data_dir.join("demo-issuer").join("keys.json"),
        }
    }

    fn error(&self, message: impl ToString) -> DemoIssuerError {
        DemoIssuerError::Keys {
            path: self.path.clone(),
            message: message.to_string(),
        }
    }

    /// The keys, creating the file with one key if there is none yet.
    fn load(&self) -> Result<KeyFile, DemoIssuerError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => {
                let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| self.error(e))?;
                if file.keys.is_empty() {
                    return Err(self.error("holds no keys; delete it to start over"));
                }
                Ok(file)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let file = KeyFile {
                    keys: vec![new_key()],
                };
                self.write(&file, false)?;
                // Another process may have won the race to create it: read what is there.
                self.load_existing()
            }
            Err(e) => Err(self.error(e)),
        }
    }

    fn load_existing(&self) -> Result<KeyFile, DemoIssuerError> {
        let bytes = std::fs::read(&self.path).map_err(|e| self.error(e))?;
        serde_json::from_slice(&bytes).map_err(|e| self.error(e))
    }

    /// Writes through a temporary file so a reader never sees half a file. With `replace`
    /// false an existing file is kept (first writer wins).
    fn write(&self, file: &KeyFile, replace: bool) -> Result<(), DemoIssuerError> {
        let dir = self.path.parent().expect("the key file has a directory");
        std::fs::create_dir_all(dir).map_err(|e| self.error(e))?;
        let tmp = dir.join(format!(".keys.{}.tmp", uuid::Uuid::new_v4()));
        let body = serde_json::to_vec_pretty(file).expect("keys serialize");
        std::fs::write(&tmp, body).map_err(|e| self.error(e))?;
        let result = if replace {
            std::fs::rename(&tmp, &self.path)
        } else {
            std::fs::hard_link(&tmp, &self.path).or_else(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    Ok(())
                } else {
                    Err(e)
                }
            })
        };
        let _ = std::fs::remove_file(&tmp);
        result.map_err(|e| self.error(e))
    }

    /// Makes a new signing key; the previous one stays published until the next rotation.
    pub fn rotate(&self) -> Result<String, DemoIssuerError> {
        let mut file = self.load()?;
        let key = new_key();
        let kid = key.kid.clone();
        file.keys.insert(0, key);
        file.keys.truncate(PUBLISHED_KEYS);
        self.write(&file, true)?;
        Ok(kid)
    }

    /// The public keys, as a JWKS document.
    pub fn jwks(&self) -> Result<Value, DemoIssuerError> {
        let file = self.load()?;
        let keys = file
            .keys
            .iter()
            .map(|k| {
                let secret = SecretKey::from_jwk_str(&k.private_jwk).map_err(|e| self.error(e))?;
                let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string())
                    .map_err(|e| self.error(e))?;
                jwk["kid"] = json!(k.kid);
                jwk["alg"] = json!("ES256");
                jwk["use"] = json!("sig");
                Ok(jwk)
            })
            .collect::<Result<Vec<_>, DemoIssuerError>>()?;
        Ok(json!({ "keys": keys }))
    }

    /// Signs `claims` with the newest key.
    pub fn sign(&self, claims: &Value) -> Result<String, DemoIssuerError> {
        let file = self.load()?;
        let key = &file.keys[0];
        let secret = SecretKey::from_jwk_str(&key.private_jwk).map_err(|e| self.error(e))?;
        let der = secret.to_pkcs8_der().map_err(|e| self.error(e))?;
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        Ok(jsonwebtoken::encode(
            &header,
            claims,
            &jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
        )?)
    }

    /// A bearer token for a demo user, as the token endpoint and `portico token` issue it.
    pub fn access_token(&self, user: &User, ttl: Duration) -> Result<String, DemoIssuerError> {
        let now = Utc::now().timestamp();
        self.sign(&json!({
            "iss": DEMO_ISSUER,
            "sub": user.subject,
            "aud": DEMO_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + ttl.as_secs() as i64,
            "jti": uuid::Uuid::new_v4().to_string(),
            "email": user.email,
        }))
    }
}

fn new_key() -> StoredKey {
    let secret = SecretKey::random(&mut rand::rngs::OsRng);
    StoredKey {
        kid: format!("demo-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
        created_at: Utc::now().timestamp(),
        private_jwk: secret.to_jwk_string().to_string(),
    }
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

#[derive(Debug, Deserialize, Serialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    state: String,
    nonce: Option<String>,
    #[serde(default)]
    code_challenge: String,
    #[serde(default)]
    code_challenge_method: String,
    /// Set by the pick-a-user form.
    user: Option<String>,
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(format!(
            "<!doctype html><title>Demo sign-in</title><h1>Cannot sign in</h1><p>{}</p>",
            escape(message)
        )),
    )
        .into_response()
}

/// `redirect_uri` as a portal's own callback, or why not: the origin (scheme, host, port) of a
/// portal in the directory, on the scheme the portals are served with and the port this server
/// listens on (or the scheme's default, behind a proxy), path `/auth/callback`, nothing else.
/// Judged on the URL a browser will follow (WHATWG, the `url` crate), never on its text: in
/// `http://portal:8080@evil.example/` the portal is a user name, a backslash is a slash, tabs
/// and newlines vanish. Otherwise the pick-a-user page would send codes to another site.
fn portal_callback(state: &AppState, raw: &str) -> Result<Url, &'static str> {
    let url = Url::parse(raw).map_err(|_| "redirect_uri is not an absolute URL")?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err("redirect_uri must not carry a user name or password");
    }
    if url.fragment().is_some() {
        return Err("redirect_uri must not have a fragment");
    }
    let scheme = if state.config.secure_cookies() {
        "https"
    } else {
        "http"
    };
    let own_port = state.demo_issuer.as_ref().and_then(|i| i.own_port());
    let portal_host = url
        .host_str()
        .is_some_and(|host| state.directory.current().tenant_for_host(host).is_some());
    // `port()` is `None` for the scheme's default port, written or not.
    let port_ok = url.port().is_none() || url.port() == own_port;
    if url.scheme() != scheme || !portal_host || !port_ok {
        return Err("redirect_uri must be on a portal's own origin (scheme, host and port)");
    }
    if url.path() != "/auth/callback" || url.query().is_some() {
        return Err("redirect_uri must be a portal's /auth/callback, without a query");
    }
    // Written as the parser writes it, so the text the token request must repeat is the URL
    // that was checked: a tab, backslash, `%2e` segment or upper-case host means a client
    // that is not a portal, and is refused rather than silently rewritten.
    if url.as_str() != raw {
        return Err(
            "redirect_uri must be written in canonical form (no whitespace, backslashes, dot \
             segments, encoded host characters or upper case)",
        );
    }
    Ok(url)
}

/// Checks what must hold before a user is asked anything; answers the portal callback the
/// code will go to.
fn check_request(state: &AppState, p: &AuthorizeParams) -> Result<Url, &'static str> {
    if p.response_type != "code" {
        return Err("response_type must be \"code\"");
    }
    if p.client_id != DEMO_CLIENT_ID {
        return Err("unknown client_id");
    }
    if !p.scope.split(' ').any(|s| s == "openid") {
        return Err("scope must include openid");
    }
    if p.code_challenge_method != "S256" || p.code_challenge.len() < 43 {
        return Err("PKCE is required: code_challenge with code_challenge_method S256");
    }
    portal_callback(state, &p.redirect_uri).inspect_err(|why| {
        tracing::warn!(redirect_uri = ?p.redirect_uri, reason = why, "demo issuer refused a redirect_uri");
    })
}

/// The pick-a-demo-user page.
pub async fn authorize_page(
    State(state): State<AppState>,
    Query(params): Query<AuthorizeParams>,
) -> Response {
    if let Err(why) = check_request(&state, &params) {
        return bad_request(why);
    }
    let users = match demo_users(&state.store, &state.directory.current()).await {
        Ok(users) => users,
        Err(err) => {
            tracing::error!(error = %err, "demo users unreadable");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let hidden = [
        ("response_type", &params.response_type),
        ("client_id", &params.client_id),
        ("redirect_uri", &params.redirect_uri),
        ("scope", &params.scope),
        ("state", &params.state),
        ("code_challenge", &params.code_challenge),
        ("code_challenge_method", &params.code_challenge_method),
    ]
    .iter()
    .map(|(k, v)| {
        format!(
            "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
            escape(v)
        )
    })
    .chain(params.nonce.iter().map(|n| {
        format!(
            "<input type=\"hidden\" name=\"nonce\" value=\"{}\">",
            escape(n)
        )
    }))
    .collect::<String>();
    let buttons = users
        .iter()
        .map(|(tenant, user)| {
            format!(
                "<li><button name=\"user\" value=\"{email}\">{email}</button> {name} <small>({tenant})</small></li>",
                email = escape(&user.email),
                name = escape(&user.display_name),
                tenant = escape(tenant),
            )
        })
        .collect::<String>();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Demo sign-in</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:44rem;margin:2rem auto}}\
         li{{margin:.3rem 0}}button{{min-width:16rem;text-align:left}}</style></head><body>\
         <h1>Portico demo sign-in</h1><p>Pick a demo user. Users of another reseller's tree are \
         refused by the portal, as they would be in production.</p>\
         <form method=\"post\" action=\"/demo-issuer/authorize\">{hidden}<ul>{buttons}</ul></form>\
         </body></html>"
    ))
    .into_response()
}

/// Every demo user, with their tenant's slug, in tenant order.
async fn demo_users(
    store: &Store,
    directory: &portico_store::Directory,
) -> Result<Vec<(String, User)>, portico_store::StoreError> {
    let mut out = Vec::new();
    let all = directory.scope_of_all();
    for tenant in directory.tenants.iter().filter(|t| t.deleted_at.is_none()) {
        for user in store.users_of_tenant(&all, &tenant.id).await? {
            if user.issuer == DEMO_ISSUER {
                out.push((tenant.slug.clone(), user));
            }
        }
    }
    Ok(out)
}

/// A user who signs in with the demo issuer, by email, from any tenant.
async fn demo_user(
    state: &AppState,
    email: &str,
) -> Result<Option<User>, portico_store::StoreError> {
    let all = state.directory.current().scope_of_all();
    Ok(state
        .store
        .user_by_email(&all, email)
        .await?
        .filter(|u| u.issuer == DEMO_ISSUER))
}

/// The user picked: a code, then back to the portal.
pub async fn authorize_submit(
    State(state): State<AppState>,
    Form(params): Form<AuthorizeParams>,
) -> Response {
    let Some(issuer) = &state.demo_issuer else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let callback = match check_request(&state, &params) {
        Ok(url) => url,
        Err(why) => return bad_request(why),
    };
    let Some(email) = &params.user else {
        return bad_request("pick a user");
    };
    let user = match demo_user(&state, email).await {
        Ok(Some(user)) => user,
        Ok(None) => return bad_request("no such demo user"),
        Err(err) => {
            tracing::error!(error = %err, "demo user lookup failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let code = URL_SAFE_NO_PAD.encode(Sha256::digest(uuid::Uuid::new_v4().as_bytes()));
    {
        let mut codes = issuer.codes.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            PendingCode {
                user,
                client_id: params.client_id.clone(),
                redirect_uri: params.redirect_uri.clone(),
                nonce: params.nonce.clone(),
                code_challenge: params.code_challenge.clone(),
                expires: now + CODE_LIFETIME,
            },
        );
    }
    // Built from the checked URL: the browser goes exactly where the check looked.
    let mut location = callback;
    location
        .query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &params.state);
    Redirect::to(location.as_str()).into_response()
}

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: String,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

/// `authorization_code` (PKCE S256, public client `portico-demo`) or `client_credentials`
/// (client id = a demo user's email, secret `demo`: a script's token for that user).
pub async fn token(State(state): State<AppState>, Form(req): Form<TokenRequest>) -> Response {
    let Some(issuer) = state.demo_issuer.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let issued = match req.grant_type.as_str() {
        "authorization_code" => code_grant(&state, &issuer, &req),
        "client_credentials" => client_credentials(&state, &issuer, &req).await,
        _ => Err(token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "use authorization_code or client_credentials",
        )),
    };
    match issued {
        Ok(body) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response(),
        Err(response) => response,
    }
}

fn code_grant(
    state: &AppState,
    issuer: &DemoIssuer,
    req: &TokenRequest,
) -> Result<Value, Response> {
    let invalid = |why: &str| token_error(StatusCode::BAD_REQUEST, "invalid_grant", why);
    let code = req
        .code
        .as_deref()
        .ok_or_else(|| invalid("code is missing"))?;
    // Single use: taken out whatever happens next.
    let pending = issuer
        .codes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(code)
        .filter(|c| c.expires > Instant::now())
        .ok_or_else(|| invalid("unknown or expired code"))?;
    if req
        .client_id
        .as_deref()
        .is_some_and(|c| c != pending.client_id)
    {
        return Err(invalid("the code was issued to another client"));
    }
    if req.redirect_uri.as_deref() != Some(pending.redirect_uri.as_str()) {
        return Err(invalid(
            "redirect_uri differs from the authorization request",
        ));
    }
    // Checked again: the directory may have changed since the code was issued (a portal
    // removed), and the code must never be honoured for anything but a portal's callback.
    if let Err(why) = portal_callback(state, &pending.redirect_uri) {
        tracing::warn!(redirect_uri = ?pending.redirect_uri, reason = why, "demo issuer refused a code exchange");
        return Err(invalid(why));
    }
    let verifier = req
        .code_verifier
        .as_deref()
        .ok_or_else(|| invalid("code_verifier is missing"))?;
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != pending.code_challenge {
        return Err(invalid("code_verifier does not match the code_challenge"));
    }
    let now = Utc::now().timestamp();
    let mut id_claims = json!({
        "iss": DEMO_ISSUER,
        "sub": pending.user.subject,
        "aud": pending.client_id,
        "iat": now,
        "exp": now + 300,
        "email": pending.user.email,
        "name": pending.user.display_name,
    });
    if let Some(nonce) = &pending.nonce {
        id_claims["nonce"] = json!(nonce);
    }
    let sign_failed = |e: DemoIssuerError| {
        tracing::error!(error = %e, "demo issuer cannot sign");
        token_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "signing failed",
        )
    };
    let id_token = issuer.keys.sign(&id_claims).map_err(sign_failed)?;
    let access_token = issuer
        .keys
        .access_token(&pending.user, Duration::from_secs(3600))
        .map_err(sign_failed)?;
    Ok(json!({
        "access_token": access_token,
        "id_token": id_token,
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
}

async fn client_credentials(
    state: &AppState,
    issuer: &DemoIssuer,
    req: &TokenRequest,
) -> Result<Value, Response> {
    let refuse = || {
        token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id must be a demo user's email and client_secret \"demo\"",
        )
    };
    let (Some(email), Some("demo")) = (req.client_id.as_deref(), req.client_secret.as_deref())
    else {
        return Err(refuse());
    };
    let user = match demo_user(state, email).await {
        Ok(Some(user)) => user,
        Ok(None) => return Err(refuse()),
        Err(err) => {
            tracing::error!(error = %err, "demo user lookup failed");
            return Err(token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "try again",
            ));
        }
    };
    let access_token = issuer
        .keys
        .access_token(&user, Duration::from_secs(3600))
        .map_err(|e| {
            tracing::error!(error = %e, "demo issuer cannot sign");
            token_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "signing failed",
            )
        })?;
    Ok(json!({ "access_token": access_token, "token_type": "Bearer", "expires_in": 3600 }))
}
