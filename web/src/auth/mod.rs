//! Who is calling: bearer JWTs (API clients) and server-side browser sessions (portals), both
//! ending in a `Caller` read from Portico's database.
//!
//! The portal (from `Host`) picks the identity provider: the portal tenant's own, else its
//! reseller's, else the platform's. Roles and regions always come from the database, never from
//! token claims, and the user must belong to the portal's tree. Every refusal is the same short
//! answer to the client; the reason goes to the log only.

pub mod browser;
mod keys;
mod return_to;
pub mod service;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use portico_resolvers::Caller;
use portico_store::model::{IdentityProvider, Tenant, TenantKind};
use portico_store::{Directory, StoreError, TenantScope};
use serde::Deserialize;
use sha2::Digest as _;
use tower_sessions::Session;

use crate::app::AppState;
use crate::demo::DemoIssuer;
use crate::error::WebError;
pub use keys::{KeyCache, KeysError};
pub use service::{SERVICE_AUDIENCE, ServiceIssuer};

/// The browser sign-in routes (`/auth/login`, `/auth/callback`, `/auth/logout`) and the
/// service accounts' token endpoint with its keys and metadata.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::get;
    service::router()
        .route("/auth/login", get(browser::login))
        .route("/auth/callback", get(browser::callback))
        .route(
            "/auth/logout",
            get(browser::logout_page).post(browser::logout),
        )
}

/// The header a script-free client sends instead of a same-site `Origin` (CSRF).
pub const CSRF_HEADER: &str = "x-portico-csrf";

/// Why a credential was refused. Logged, never sent: the client only learns "UNAUTHENTICATED".
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("malformed authorization: {0}")]
    Malformed(String),
    #[error("algorithm {0} is not accepted from this portal's identity provider")]
    Algorithm(String),
    #[error("token header has no key id")]
    NoKeyId,
    #[error("no key {0} in the issuer's JWKS, even after refetching")]
    UnknownKeyId(String),
    #[error("token rejected: {0}")]
    Invalid(String),
    #[error("this portal has no identity provider")]
    NoProvider,
    #[error("identity provider unavailable: {0}")]
    ProviderUnavailable(#[from] KeysError),
    #[error("no user of this portal has this identity")]
    UnknownIdentity,
    #[error("the user is deactivated")]
    Deactivated,
    /// The user's tenant (a customer) is suspended by its reseller. Unlike the other
    /// refusals, the client is told: the credential is good, the organisation is not (403).
    #[error("the user's customer account is suspended")]
    Suspended,
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// What bearer verification and sign-in share.
pub struct Auth {
    pub keys: KeyCache,
    /// Redirects off: a provider's answer is never followed somewhere else.
    pub http: reqwest::Client,
    pub demo: Option<Arc<DemoIssuer>>,
    /// Portico's own issuer, of service-account tokens.
    pub service: ServiceIssuer,
    leeway: u64,
    /// Tokens whose signature and claims were verified, by SHA-256 of the token and the
    /// provider they were verified against: a client sends the same token for its lifetime,
    /// and a signature check costs more than the rest of a small request. Only the
    /// cryptography is skipped: the user, its roles and its tree are checked on every request
    /// (against the identity version and the current directory).
    verified: quick_cache::sync::Cache<(String, String), Verified>,
    /// Identity providers by the portal's tenant chain, and users with their roles by portal
    /// and identity, each under the identity version it was read at (`Store::versions`, read
    /// once per request). Any write to users, roles or providers moves that version, so a
    /// deactivation or a role change is seen by the very next request.
    providers: quick_cache::sync::Cache<String, (i64, IdentityProvider)>,
    users: quick_cache::sync::Cache<(String, String, String), CachedUser>,
}

#[derive(Clone)]
struct CachedUser {
    version: i64,
    user: portico_store::model::User,
    assignments: Vec<portico_store::model::RoleAssignment>,
}

/// A verified token's identity and validity window.
#[derive(Debug, Clone)]
struct Verified {
    iss: String,
    sub: String,
    exp: i64,
    nbf: Option<i64>,
    at: std::time::Instant,
}

/// How long a verified token is trusted without verifying it again (within its own `exp`).
const REVERIFY_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    nbf: Option<i64>,
}

impl Auth {
    pub fn new(config: &crate::Config, demo: Option<Arc<DemoIssuer>>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Auth {
            keys: KeyCache::new(
                http.clone(),
                demo.clone(),
                Duration::from_secs(config.auth.jwks_ttl_seconds),
                Duration::from_secs(config.auth.jwks_refetch_seconds),
            ),
            http,
            demo,
            service: ServiceIssuer::new(
                &config.data_dir,
                Duration::from_secs(config.auth.service_token_seconds),
            ),
            leeway: config.auth.leeway_seconds,
            verified: quick_cache::sync::Cache::new(10_000),
            providers: quick_cache::sync::Cache::new(1_000),
            users: quick_cache::sync::Cache::new(10_000),
        })
    }

    /// Verifies a bearer JWT and finds its user: a service account's token against Portico's
    /// own keys and this portal's origin (`origin`), any other against the portal's identity
    /// provider. With the request's identity version, provider and user may come from the
    /// caches under it.
    pub async fn verify_bearer(
        &self,
        state: &AppState,
        portal: &Tenant,
        origin: &str,
        token: &str,
        identity_version: Option<i64>,
    ) -> Result<Caller, Refusal> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| Refusal::Malformed(e.to_string()))?;
        if let Some(kid) = header.kid.as_deref().filter(|k| self.service.made(k)) {
            if header.alg != jsonwebtoken::Algorithm::ES256 {
                return Err(Refusal::Algorithm(format!("{:?}", header.alg)));
            }
            let cache_key = (token_digest(token), format!("service|{origin}"));
            if let Some(v) = self.still_verified(&cache_key) {
                return caller_for(state, portal, &v.iss, &v.sub, identity_version).await;
            }
            let key = self.service.decoding_key(kid).await?;
            let claims = self.check(token, &key, header.alg, origin, SERVICE_AUDIENCE)?;
            // The user rows of service accounts are under their own issuer, not the origin.
            let claims = Claims {
                iss: portico_store::SERVICE_ACCOUNT_ISSUER.to_owned(),
                ..claims
            };
            self.remember(cache_key, &claims);
            return caller_for(state, portal, &claims.iss, &claims.sub, identity_version).await;
        }
        let provider = provider_for(state, portal, identity_version).await?;
        // Pinned: the header's algorithm must be one the provider is registered with (never
        // `none`, never HMAC, which a published public key could forge).
        let alg = format!("{:?}", header.alg);
        if !provider.algorithms.contains(&alg) {
            return Err(Refusal::Algorithm(alg));
        }
        let cache_key = (
            token_digest(token),
            format!(
                "{}|{}|{}",
                provider.id, provider.issuer_url, provider.audience
            ),
        );
        if let Some(v) = self.still_verified(&cache_key) {
            return caller_for(state, portal, &v.iss, &v.sub, identity_version).await;
        }
        let kid = header.kid.ok_or(Refusal::NoKeyId)?;
        let keys = self.keys.get_with_kid(&provider.issuer_url, &kid).await?;
        let jwk = keys
            .jwks
            .find(&kid)
            .ok_or_else(|| Refusal::UnknownKeyId(kid.clone()))?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk)
            .map_err(|e| Refusal::Invalid(format!("key {kid}: {e}")))?;
        let claims = self.check(
            token,
            &key,
            header.alg,
            &provider.issuer_url,
            &provider.audience,
        )?;
        self.remember(cache_key, &claims);
        caller_for(state, portal, &claims.iss, &claims.sub, identity_version).await
    }

    /// Signature, issuer, audience and validity window of a token.
    fn check(
        &self,
        token: &str,
        key: &jsonwebtoken::DecodingKey,
        alg: jsonwebtoken::Algorithm,
        issuer: &str,
        audience: &str,
    ) -> Result<Claims, Refusal> {
        let mut validation = jsonwebtoken::Validation::new(alg);
        validation.algorithms = vec![alg];
        validation.leeway = self.leeway;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|e| Refusal::Invalid(e.to_string()))?
            .claims)
    }

    /// A token verified under this key less than `REVERIFY_AFTER` ago and still within its
    /// own validity window.
    fn still_verified(&self, key: &(String, String)) -> Option<Verified> {
        let v = self.verified.get(key)?;
        let now = chrono::Utc::now().timestamp();
        let leeway = self.leeway as i64;
        if v.at.elapsed() < REVERIFY_AFTER
            && v.exp + leeway > now
            && v.nbf.is_none_or(|nbf| nbf - leeway <= now)
        {
            return Some(v);
        }
        self.verified.remove(key);
        None
    }

    fn remember(&self, key: (String, String), claims: &Claims) {
        self.verified.insert(
            key,
            Verified {
                iss: claims.iss.clone(),
                sub: claims.sub.clone(),
                exp: claims.exp,
                nbf: claims.nbf,
                at: std::time::Instant::now(),
            },
        );
    }
}

fn token_digest(token: &str) -> String {
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The tenants whose users may sign in on a portal: a reseller's portal serves its own staff
/// and its customers; the platform's serves platform staff only.
pub fn portal_scope(directory: &Directory, portal: &Tenant) -> TenantScope {
    match portal.kind {
        TenantKind::Platform | TenantKind::Customer => TenantScope::single(portal.id.clone()),
        TenantKind::Reseller => TenantScope::of(directory.subtree(&portal.id)),
    }
}

/// The portal's identity provider: its own, else the nearest ancestor's. With an identity
/// version, from the cache when it was read under the same version.
pub async fn provider_for(
    state: &AppState,
    portal: &Tenant,
    identity_version: Option<i64>,
) -> Result<IdentityProvider, Refusal> {
    let directory = state.directory.current();
    let mut chain = vec![portal.id.as_str()];
    let mut current = portal;
    while let Some(parent) = current
        .parent_id
        .as_deref()
        .and_then(|p| directory.tenant(p))
    {
        chain.push(parent.id.as_str());
        current = parent;
    }
    // The chain is the key: a portal moved in the tree looks its provider up again.
    let key = chain.join(",");
    if let Some(version) = identity_version
        && let Some((_, provider)) = state.auth.providers.get(&key).filter(|p| p.0 == version)
    {
        return Ok(provider);
    }
    let providers = state.store.identity_providers(&chain).await?;
    let provider = providers.into_iter().next().ok_or(Refusal::NoProvider)?;
    if let Some(version) = identity_version {
        state
            .auth
            .providers
            .insert(key, (version, provider.clone()));
    }
    Ok(provider)
}

/// The user with this identity in the portal's tree, with roles and regions from the database
/// (or, with an identity version, from the cache when read under the same version). The tree
/// and the user's tenant always come from the current directory.
pub async fn caller_for(
    state: &AppState,
    portal: &Tenant,
    issuer: &str,
    subject: &str,
    identity_version: Option<i64>,
) -> Result<Caller, Refusal> {
    let directory = state.directory.current();
    let scope = portal_scope(&directory, portal);
    let key = (portal.id.clone(), issuer.to_owned(), subject.to_owned());
    let cached = identity_version.and_then(|version| {
        state
            .auth
            .users
            .get(&key)
            .filter(|c| c.version == version && scope.contains(&c.user.tenant_id))
    });
    let (user, assignments) = match cached {
        Some(c) => (c.user, c.assignments),
        None => {
            let (user, assignments) = state
                .store
                .user_with_roles(&scope, issuer, subject)
                .await?
                .ok_or(Refusal::UnknownIdentity)?;
            if let Some(version) = identity_version {
                state.auth.users.insert(
                    key,
                    CachedUser {
                        version,
                        user: user.clone(),
                        assignments: assignments.clone(),
                    },
                );
            }
            (user, assignments)
        }
    };
    if user.deactivated_at.is_some() {
        return Err(Refusal::Deactivated);
    }
    let tenant = directory
        .tenant(&user.tenant_id)
        .filter(|t| t.deleted_at.is_none())
        .cloned()
        .ok_or(Refusal::UnknownIdentity)?;
    if tenant.is_suspended() {
        return Err(Refusal::Suspended);
    }
    Ok(Caller::new(user, tenant, &assignments))
}

/// `caller_for` at a browser sign-in: an identity no user has yet, signing in with an email
/// its provider verified, becomes the user of the one open invitation for that email in the
/// portal's tree (`Store::accept_invitation`).
pub async fn caller_at_sign_in(
    state: &AppState,
    portal: &Tenant,
    issuer: &str,
    subject: &str,
    verified_email: Option<&str>,
) -> Result<Caller, Refusal> {
    let found = caller_for(state, portal, issuer, subject, None).await;
    let (Err(Refusal::UnknownIdentity), Some(email)) = (&found, verified_email) else {
        return found;
    };
    let scope = portal_scope(&state.directory.current(), portal);
    let accepted = state
        .store
        .accept_invitation(&scope, issuer, subject, email, chrono::Utc::now())
        .await?;
    let Some(user) = accepted else {
        return found;
    };
    tracing::info!(user = %user.id, "invitation accepted at first sign-in");
    caller_for(state, portal, issuer, subject, None).await
}

/// The `Origin` a same-site request from this portal carries.
pub fn portal_origin(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let scheme = if state.config.secure_cookies() {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// CSRF: a cookie-carried write must come from the portal's own origin, or carry the custom
/// header (which a cross-site form cannot set and a cross-site script may not without CORS).
pub fn same_site_request(state: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => portal_origin(state, headers)
            .is_some_and(|own| own == origin.trim_end_matches('/').to_ascii_lowercase()),
        None => headers.contains_key(CSRF_HEADER),
    }
}

/// 401 for a refused credential: the same body and header whatever the reason.
pub fn unauthenticated(refusal: &Refusal) -> WebError {
    tracing::info!(reason = %refusal, "bearer token refused");
    WebError::Unauthenticated
}

/// 403 `FORBIDDEN` for a signed-in user of a suspended customer: the credential is valid, so
/// saying why is no help to an attacker and all the help the person needs.
pub fn suspended() -> WebError {
    WebError::Forbidden(
        "this user's customer account is suspended; its reseller can resume it".into(),
    )
}

/// The answer for a cross-site request that carries a session cookie.
pub(crate) fn cross_site() -> WebError {
    WebError::Forbidden(
        "cross-site request refused: send this portal's Origin or the X-Portico-CSRF header".into(),
    )
}

/// The request's caller: from the bearer token when there is an `Authorization` header (which
/// then must verify), else from the browser session. `Err` is the response to send instead.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    portal: &Tenant,
    identity_version: Option<i64>,
    writes: bool,
) -> Result<Option<Caller>, WebError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(unauthenticated(&Refusal::Malformed(
                "not a Bearer authorization".into(),
            )));
        };
        let Some(origin) = portal_origin(state, headers) else {
            return Err(unauthenticated(&Refusal::Malformed(
                "no Host header".into(),
            )));
        };
        return match state
            .auth
            .verify_bearer(state, portal, &origin, token, identity_version)
            .await
        {
            Ok(caller) => Ok(Some(caller)),
            Err(Refusal::Store(err)) => Err(unavailable(&err)),
            Err(Refusal::Suspended) => {
                tracing::info!("bearer token of a suspended customer's user refused");
                Err(suspended())
            }
            Err(refusal) => Err(unauthenticated(&refusal)),
        };
    }
    match browser::session_caller(state, session, portal, identity_version).await {
        Ok(Some(caller)) => {
            if writes && !same_site_request(state, headers) {
                tracing::warn!(user = %caller.user.id, "cross-site request with a session cookie refused");
                return Err(cross_site());
            }
            Ok(Some(caller))
        }
        Ok(None) => Ok(None),
        Err(Refusal::Suspended) => Err(suspended()),
        Err(Refusal::Store(err)) => Err(unavailable(&err)),
        Err(other) => {
            tracing::warn!(reason = %other, "session refused");
            Ok(None)
        }
    }
}

fn unavailable(err: &StoreError) -> WebError {
    WebError::unavailable("cannot read the caller", err)
}

/// Lets `Refusal` leave a handler that returns responses.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        unauthenticated(&self).into_response()
    }
}
