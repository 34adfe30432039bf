//! The demo issuer's token endpoint: `authorization_code` with PKCE, and `client_credentials`
//! for scripts.

use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use portico_store::seed::DEMO_ISSUER;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::authorize::{demo_user, portal_callback};
use super::{DemoIssuer, DemoIssuerError};
use crate::app::AppState;

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
