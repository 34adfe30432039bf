//! What the authentication tests share: the `viewer` query, the demo issuer's claims, a
//! deactivation by hand, and how a refused bearer token looks.

use portico_store::TenantScope;
use portico_store::seed::DEMO_ISSUER;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{GraphqlResponse, TestApp, test_actor};

pub const VIEWER: &str = "{ viewer { user { email } tenant { slug } roles regions } }";

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims the demo issuer would put in a valid access token for `subject`.
pub fn claims(subject: &str) -> Value {
    json!({
        "iss": DEMO_ISSUER,
        "sub": subject,
        "aud": "portico",
        "iat": now(),
        "nbf": now(),
        "exp": now() + 600,
    })
}

pub async fn deactivate(app: &TestApp, email: &str) {
    let user = app.user(email).await;
    app.store
        .deactivate_user(
            &TenantScope::single(user.tenant_id.clone()),
            &user.id,
            &test_actor("deactivated by a test"),
        )
        .await
        .expect("deactivate");
}

pub fn assert_refused(case: &str, response: &GraphqlResponse) {
    assert_eq!(
        response.status,
        StatusCode::UNAUTHORIZED,
        "{case}: {:?}",
        response.body
    );
    assert_eq!(response.first_code(), Some("UNAUTHENTICATED"), "{case}");
    assert_eq!(
        response
            .headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer error=\"invalid_token\""),
        "{case}"
    );
    // The same words whatever went wrong: nothing that tells an attacker which check failed.
    assert_eq!(
        response.body["errors"][0]["message"], "the bearer token is invalid or expired",
        "{case}"
    );
    assert!(response.body.get("data").is_none(), "{case}");
}
