//! The demo issuer's authorize endpoint: the pick-a-demo-user page and the code it hands back
//! to the portal's callback.

use std::time::Instant;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_store::Store;
use portico_store::model::User;
use portico_store::seed::DEMO_ISSUER;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use super::{CODE_LIFETIME, DEMO_CLIENT_ID, PendingCode};
use crate::app::AppState;
use crate::html::escape;

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
pub(super) fn portal_callback(state: &AppState, raw: &str) -> Result<Url, &'static str> {
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
pub async fn page(
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
pub(super) async fn demo_user(
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
pub async fn submit(
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
