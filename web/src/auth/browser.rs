//! The browser sign-in (BFF pattern): `/auth/login` sends the browser to the portal's identity
//! provider (authorization code + PKCE + state + nonce), `/auth/callback` verifies the ID token
//! and stores the identity in a server-side session, `/auth/logout` ends it. The browser only
//! ever holds the session cookie; no token reaches a page script.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm};
use openidconnect::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use portico_resolvers::Caller;
use portico_store::model::{IdentityProvider, Tenant};
use portico_store::seed::DEMO_ISSUER;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use super::return_to::safe_return_to;
use super::{Refusal, caller_for, portal_origin, provider_for, same_site_request};
use crate::app::AppState;
use crate::html::escape;
use crate::portal;

const IDENTITY_KEY: &str = "portico.identity";
const PENDING_KEY: &str = "portico.pending_login";
/// A sign-in left at the provider longer than this must start again.
const PENDING_LIFETIME_SECONDS: i64 = 10 * 60;

/// What a signed-in session holds: who, on which portal, since when. Roles are re-read on every
/// request, so a change of role or a deactivation takes effect at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SessionIdentity {
    user_id: String,
    portal_tenant_id: String,
    issuer: String,
    subject: String,
    signed_in_at: i64,
    /// When the session's expiry was last pushed forward (see `session_caller`).
    last_seen: i64,
}

/// A sign-in between `/auth/login` and `/auth/callback`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingLogin {
    state: String,
    nonce: String,
    pkce_verifier: String,
    issuer: String,
    portal_tenant_id: String,
    return_to: String,
    started_at: i64,
}

/// A small page for the person in front of the browser.
fn page(status: StatusCode, title: &str, message: &str) -> Response {
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
             <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto\">\
             <h1>{t}</h1><p>{m}</p><p><a href=\"/auth/login\">Sign in again</a></p></body></html>",
            t = escape(title),
            m = escape(message)
        )),
    )
        .into_response()
}

fn unavailable(what: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %what, "sign-in unavailable");
    page(
        StatusCode::SERVICE_UNAVAILABLE,
        "Sign-in unavailable",
        "The identity provider cannot be reached right now. Try again in a moment.",
    )
}

/// The caller of a signed-in session on this portal, if any. A session that no longer
/// qualifies (too old, user gone or deactivated, another portal's) is ended or ignored. The
/// session of a suspended customer's user is kept but refused (`Refusal::Suspended`): it
/// works again once the customer is resumed. `Err` is only `Suspended` or `Store`.
pub async fn session_caller(
    state: &AppState,
    session: &Session,
    portal: &Tenant,
    identity_version: Option<i64>,
) -> Result<Option<Caller>, Refusal> {
    let identity = match session.get::<SessionIdentity>(IDENTITY_KEY).await {
        Ok(Some(identity)) => identity,
        Ok(None) => return Ok(None),
        Err(err) => {
            tracing::warn!(error = %err, "session unreadable, treated as signed out");
            return Ok(None);
        }
    };
    // Cookies are per host, so this only trips when a domain moves to another tenant.
    if identity.portal_tenant_id != portal.id {
        return Ok(None);
    }
    let absolute = state.config.auth.session_absolute_seconds as i64;
    if Utc::now().timestamp() - identity.signed_in_at > absolute {
        tracing::info!(user = %identity.user_id, "session reached its absolute lifetime");
        end(session).await;
        return Ok(None);
    }
    match caller_for(
        state,
        portal,
        &identity.issuer,
        &identity.subject,
        identity_version,
    )
    .await
    {
        Ok(caller) if caller.user.id == identity.user_id => {
            // The idle expiry moves only when the session is saved; saving on every request
            // would make every read a write. Saving once a quarter of the idle time keeps an
            // active session alive at the cost of a write every few minutes.
            let now = Utc::now().timestamp();
            let step = (state.config.auth.session_idle_seconds as i64 / 4).max(1);
            if now - identity.last_seen >= step {
                let mut identity = identity;
                identity.last_seen = now;
                if let Err(err) = session.insert(IDENTITY_KEY, identity).await {
                    tracing::warn!(error = %err, "could not extend a session");
                }
            }
            Ok(Some(caller))
        }
        Ok(_) | Err(Refusal::UnknownIdentity | Refusal::Deactivated) => {
            tracing::info!(user = %identity.user_id, "session of a user who may no longer sign in ended");
            end(session).await;
            Ok(None)
        }
        Err(Refusal::Suspended) => {
            tracing::info!(user = %identity.user_id, "session of a suspended customer's user refused");
            Err(Refusal::Suspended)
        }
        Err(Refusal::Store(err)) => Err(Refusal::Store(err)),
        Err(other) => {
            tracing::warn!(reason = %other, "session refused");
            Ok(None)
        }
    }
}

async fn end(session: &Session) {
    if let Err(err) = session.flush().await {
        tracing::warn!(error = %err, "could not delete a session");
    }
}

/// Resolves `env:NAME` or `file:PATH`; the secret itself is never stored or logged.
async fn client_secret(provider: &IdentityProvider) -> Result<Option<ClientSecret>, String> {
    let Some(reference) = provider.client_secret_ref.as_deref() else {
        return Ok(None);
    };
    let secret = if let Some(name) = reference.strip_prefix("env:") {
        std::env::var(name)
            .map_err(|_| format!("client secret: environment variable {name} is not set"))?
    } else if let Some(path) = reference.strip_prefix("file:") {
        tokio::fs::read_to_string(path)
            .await
            .map_err(|e| format!("client secret: cannot read {path}: {e}"))?
    } else {
        return Err("client secret: the reference must start with env: or file:".into());
    };
    Ok(Some(ClientSecret::new(secret.trim().to_owned())))
}

/// A client built from discovery: authorization endpoint set, token endpoint maybe.
type ProviderClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The OIDC client for a portal's provider, its redirect URI on this portal's own origin.
async fn client_for(
    state: &AppState,
    headers: &HeaderMap,
    provider: &IdentityProvider,
) -> Result<(ProviderClient, Vec<CoreJwsSigningAlgorithm>), Response> {
    let keys = state
        .auth
        .keys
        .get(&provider.issuer_url)
        .await
        .map_err(|e| unavailable(&e))?;
    let origin = portal_origin(state, headers).ok_or_else(|| unavailable(&"no Host header"))?;
    let mut metadata = keys.metadata.clone();
    if provider.issuer_url == DEMO_ISSUER {
        // The browser reaches the demo issuer through the portal's own origin.
        let url =
            AuthUrl::new(format!("{origin}/demo-issuer/authorize")).map_err(|e| unavailable(&e))?;
        metadata = metadata.set_authorization_endpoint(url);
    }
    let secret = client_secret(provider).await.map_err(|e| unavailable(&e))?;
    let redirect =
        RedirectUrl::new(format!("{origin}/auth/callback")).map_err(|e| unavailable(&e))?;
    let algorithms = provider
        .algorithms
        .iter()
        .filter_map(|a| serde_json::from_value(serde_json::Value::String(a.clone())).ok())
        .collect();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        secret,
    )
    .set_redirect_uri(redirect);
    Ok((client, algorithms))
}

/// The request's portal, recorded in its span; for a browser, a page when there is none.
fn portal_or_page(state: &AppState, headers: &HeaderMap) -> Result<Tenant, Response> {
    let portal = portal::resolve(&state.directory.current(), headers)
        .map_err(|e| page(StatusCode::NOT_FOUND, "No portal here", &e.to_string()))?;
    tracing::Span::current().record("tenant", portal.slug.as_str());
    Ok(portal)
}

#[derive(Debug, Deserialize)]
pub struct LoginParams {
    return_to: Option<String>,
}

/// A 303 to a `safe_return_to` answer. `Redirect::to` panics on a value a header cannot carry
/// (a 500 for `return_to=/%0a/x` before answers were serialised URLs); this never does.
fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => {
            tracing::error!(location = ?location, "return_to is no valid Location, using /");
            Redirect::to("/").into_response()
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Query(params): Query<LoginParams>,
) -> Result<Response, Response> {
    let portal = portal_or_page(&state, &headers)?;
    let provider = provider_for(&state, &portal, None)
        .await
        .map_err(|err| unavailable(&err))?;
    let (client, _) = client_for(&state, &headers, &provider).await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = PendingLogin {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        issuer: provider.issuer_url.clone(),
        portal_tenant_id: portal.id.clone(),
        return_to: safe_return_to(params.return_to.as_deref()),
        started_at: Utc::now().timestamp(),
    };
    session
        .insert(PENDING_KEY, pending)
        .await
        .map_err(|err| unavailable(&err))?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Query(params): Query<CallbackParams>,
) -> Result<Response, Response> {
    let portal = portal_or_page(&state, &headers)?;
    let expired = || {
        page(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This sign-in was not started here, or took too long. Please sign in again.",
        )
    };
    // Taken out whatever happens: a code and state are good for one attempt.
    let pending = session
        .remove::<PendingLogin>(PENDING_KEY)
        .await
        .map_err(|err| unavailable(&err))?
        .ok_or_else(expired)?;
    if Utc::now().timestamp() - pending.started_at > PENDING_LIFETIME_SECONDS
        || pending.portal_tenant_id != portal.id
    {
        return Err(expired());
    }
    if let Some(error) = params.error {
        tracing::info!(error = %error, "identity provider refused the sign-in");
        return Err(page(
            StatusCode::UNAUTHORIZED,
            "Sign-in refused",
            "The identity provider did not sign you in.",
        ));
    }
    let (Some(code), Some(returned_state)) = (params.code, params.state) else {
        return Err(expired());
    };
    if returned_state != pending.state {
        tracing::warn!("sign-in callback with a state that does not match the session");
        return Err(expired());
    }
    let provider = provider_for(&state, &portal, None)
        .await
        .map_err(|err| unavailable(&err))?;
    if provider.issuer_url != pending.issuer {
        return Err(expired());
    }
    let (client, algorithms) = client_for(&state, &headers, &provider).await?;
    let request = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|err| unavailable(&err))?;
    let tokens = request
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(&state.auth.http)
        .await
        .map_err(|err| {
            tracing::warn!(error = %err, "code exchange failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Sign-in failed",
                "The identity provider did not confirm the sign-in. Please try again.",
            )
        })?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| unavailable(&"the token response has no ID token"))?;
    let verifier = client.id_token_verifier().set_allowed_algs(algorithms);
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce))
        .map_err(|err| {
            tracing::warn!(error = %err, "ID token refused");
            page(
                StatusCode::UNAUTHORIZED,
                "Sign-in failed",
                "The identity provider's answer could not be verified.",
            )
        })?;
    let issuer = claims.issuer().to_string();
    let subject = claims.subject().to_string();
    // The directory as of now: a customer suspended (or created) a moment ago counts.
    state
        .directory
        .fresh(&state.store)
        .await
        .map_err(|err| unavailable(&err))?;
    // Only an email the provider vouches for may bind an invitation.
    let verified_email = claims
        .email()
        .filter(|_| claims.email_verified() == Some(true))
        .map(|e| e.as_str().to_owned());
    let found = super::caller_at_sign_in(
        &state,
        &portal,
        &issuer,
        &subject,
        verified_email.as_deref(),
    )
    .await;
    let caller = found.map_err(|refusal| match refusal {
        Refusal::Deactivated => page(
            StatusCode::FORBIDDEN,
            "Account deactivated",
            "This account is deactivated. Ask your administrator to reactivate it.",
        ),
        Refusal::Suspended => page(
            StatusCode::FORBIDDEN,
            "Organisation suspended",
            "Your account's organisation is suspended on this portal. Ask your reseller to resume it.",
        ),
        Refusal::Store(err) => unavailable(&err),
        refusal => {
            tracing::info!(reason = %refusal, "signed-in identity has no access to this portal");
            page(
                StatusCode::FORBIDDEN,
                "No access to this portal",
                "You signed in, but this account has no access to this portal.",
            )
        }
    })?;
    // A fresh id for the signed-in session: one fixed before sign-in is worth nothing after.
    session.cycle_id().await.map_err(|err| unavailable(&err))?;
    let identity = SessionIdentity {
        user_id: caller.user.id.clone(),
        portal_tenant_id: portal.id.clone(),
        issuer,
        subject,
        signed_in_at: Utc::now().timestamp(),
        last_seen: Utc::now().timestamp(),
    };
    session
        .insert(IDENTITY_KEY, identity)
        .await
        .map_err(|err| unavailable(&err))?;
    tracing::info!(user = %caller.user.id, "signed in");
    // Judged again: a sign-in started before this check existed keeps its raw return_to in the
    // session.
    Ok(see_other(&safe_return_to(Some(&pending.return_to))))
}

/// A confirmation form: signing out changes state, so it is a POST.
pub async fn logout_page() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign out</title></head>\
         <body style=\"font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto\">\
         <form method=\"post\" action=\"/auth/logout\"><button>Sign out</button></form></body></html>",
    )
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
) -> Response {
    if !same_site_request(&state, &headers) {
        return super::cross_site().into_response();
    }
    end(&session).await;
    Redirect::to("/").into_response()
}
