//! Bearer tokens: every way a token can be wrong, key rotation and the JWKS refetch interval,
//! the verification cache honouring `exp`, and `viewer` for every demo user.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_tests::auth::{VIEWER, assert_refused, claims, deactivate, now};
use portico_tests::{TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Signs with a key the issuer never published.
fn sign_with_foreign_key(claims: &Value, kid: &str) -> String {
    use p256::pkcs8::EncodePrivateKey;
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let der = secret.to_pkcs8_der().unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_ec_der(der.as_bytes()),
    )
    .unwrap()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn every_kind_of_bad_bearer_token_is_refused_alike_and_good_ones_pass() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let nw = "northwind.localhost";
    let buyer = app.user("buyer@alpine.test").await;
    let keys = app.demo_keys();
    let jwks = keys.jwks().unwrap();
    let kid = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let valid = keys.sign(&claims(&buyer.subject)).unwrap();

    // No Authorization header at all: anonymous, not refused.
    let anonymous = app.graphql(nw, VIEWER).await;
    assert_eq!(anonymous.status, StatusCode::OK);
    assert_eq!(anonymous.body["data"]["viewer"], Value::Null);

    let with = |patch: Value| {
        let mut c = claims(&buyer.subject);
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        keys.sign(&c).unwrap()
    };
    let alg_none = format!(
        "{}.{}.",
        b64(&json!({ "alg": "none", "typ": "JWT", "kid": kid })),
        b64(&claims(&buyer.subject))
    );
    let hs256_with_public_key = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims(&buyer.subject),
            &jsonwebtoken::EncodingKey::from_secret(jwks["keys"][0].to_string().as_bytes()),
        )
        .unwrap()
    };
    let tampered = {
        let parts: Vec<&str> = valid.split('.').collect();
        let admin = app.user("admin@northwind.test").await;
        format!("{}.{}.{}", parts[0], b64(&claims(&admin.subject)), parts[2])
    };
    let northwind_admin = app.token_for("admin@northwind.test").await;
    deactivate(&app, "buyer@prairie.test").await;
    let deactivated = app.token_for("buyer@prairie.test").await;

    let refused: Vec<(&str, &str, String)> = vec![
        ("empty bearer", nw, "Bearer ".into()),
        ("not a bearer scheme", nw, format!("Basic {valid}")),
        ("malformed token", nw, "Bearer not.a.jwt".into()),
        ("alg none", nw, format!("Bearer {alg_none}")),
        (
            "HS256 signed with the public key",
            nw,
            format!("Bearer {hs256_with_public_key}"),
        ),
        (
            "wrong issuer",
            nw,
            format!("Bearer {}", with(json!({ "iss": "https://evil.test" }))),
        ),
        (
            "wrong audience",
            nw,
            format!("Bearer {}", with(json!({ "aud": "someone-else" }))),
        ),
        (
            "expired",
            nw,
            format!("Bearer {}", with(json!({ "exp": now() - 3600 }))),
        ),
        (
            "not yet valid",
            nw,
            format!("Bearer {}", with(json!({ "nbf": now() + 3600 }))),
        ),
        (
            "no expiry",
            nw,
            format!("Bearer {}", with(json!({ "exp": null }))),
        ),
        (
            "unknown kid",
            nw,
            format!(
                "Bearer {}",
                sign_with_foreign_key(&claims(&buyer.subject), "not-published")
            ),
        ),
        (
            "foreign key under the published kid",
            nw,
            format!(
                "Bearer {}",
                sign_with_foreign_key(&claims(&buyer.subject), &kid)
            ),
        ),
        ("tampered payload", nw, format!("Bearer {tampered}")),
        (
            "unknown identity",
            nw,
            format!("Bearer {}", with(json!({ "sub": "nobody" }))),
        ),
        ("deactivated user", nw, format!("Bearer {deactivated}")),
        (
            "northwind user on contoso's portal",
            "contoso.localhost",
            format!("Bearer {northwind_admin}"),
        ),
        (
            "alpine buyer on the platform portal",
            "platform.localhost",
            format!("Bearer {valid}"),
        ),
    ];
    for (case, host, authorization) in &refused {
        let response = app.graphql_as(host, authorization, VIEWER).await;
        assert_refused(case, &response);
    }

    let accepted: Vec<(&str, &str, String, &str)> = vec![
        ("valid", nw, format!("Bearer {valid}"), "buyer@alpine.test"),
        (
            "lower-case scheme",
            nw,
            format!("bearer {valid}"),
            "buyer@alpine.test",
        ),
        (
            "exp within the leeway",
            nw,
            format!("Bearer {}", with(json!({ "exp": now() - 5 }))),
            "buyer@alpine.test",
        ),
        (
            "reseller staff on its own portal",
            nw,
            format!("Bearer {northwind_admin}"),
            "admin@northwind.test",
        ),
    ];
    for (case, host, authorization, email) in &accepted {
        let response = app.graphql_as(host, authorization, VIEWER).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{case}: {:?}",
            response.body
        );
        assert_eq!(
            response.body["data"]["viewer"]["user"]["email"], *email,
            "{case}"
        );
    }
}

#[tokio::test]
async fn a_rotated_key_is_fetched_on_its_first_token_and_the_old_key_still_verifies() {
    let app =
        TestApp::spawn_with(TestDb::sqlite().await, |c| c.auth.jwks_refetch_seconds = 0).await;
    let old = app.token_for("buyer@alpine.test").await;
    let first = app
        .graphql_as("northwind.localhost", &format!("Bearer {old}"), VIEWER)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);

    let new_kid = app.demo_keys().rotate().unwrap();
    let new = app.token_for("buyer@alpine.test").await;
    assert!(new.starts_with(
        &URL_SAFE_NO_PAD.encode(format!(
            "{{\"typ\":\"JWT\",\"alg\":\"ES256\",\"kid\":\"{new_kid}\"}}"
        ))[..20]
    ));
    for (case, token) in [("new key", &new), ("previous key", &old)] {
        let response = app
            .graphql_as("northwind.localhost", &format!("Bearer {token}"), VIEWER)
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{case}: {:?}",
            response.body
        );
        assert_eq!(
            response.body["data"]["viewer"]["user"]["email"],
            "buyer@alpine.test"
        );
    }
}

#[tokio::test]
async fn unknown_key_ids_refetch_the_jwks_at_most_once_per_interval() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.auth.jwks_refetch_seconds = 3600
    })
    .await;
    let old = app.token_for("buyer@alpine.test").await;
    let first = app
        .graphql_as("northwind.localhost", &format!("Bearer {old}"), VIEWER)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    app.demo_keys().rotate().unwrap();
    let new = app.token_for("buyer@alpine.test").await;
    // The cached JWKS was fetched moments ago: no refetch yet, so the new key is unknown.
    assert_refused(
        "new key inside the refetch interval",
        &app.graphql_as("northwind.localhost", &format!("Bearer {new}"), VIEWER)
            .await,
    );
    let again = app
        .graphql_as("northwind.localhost", &format!("Bearer {old}"), VIEWER)
        .await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "the cached key still verifies"
    );
}

/// email, portal host, tenant slug, roles, regions.
type DemoRow = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

#[tokio::test]
async fn viewer_answers_per_the_demo_table_for_every_demo_user() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    const ALL: &[&str] = &["EU", "NA", "APAC"];
    let table: &[DemoRow] = &[
        (
            "ops@platform.test",
            "platform.localhost",
            "platform",
            &["platform_admin"],
            ALL,
        ),
        (
            "admin@northwind.test",
            "northwind.localhost",
            "northwind",
            &["reseller_admin"],
            ALL,
        ),
        (
            "pricing@northwind.test",
            "northwind.localhost",
            "northwind",
            &["pricing_manager"],
            ALL,
        ),
        (
            "rep-eu@northwind.test",
            "northwind.localhost",
            "northwind",
            &["sales_rep"],
            &["EU"],
        ),
        (
            "rep-na@northwind.test",
            "northwind.localhost",
            "northwind",
            &["sales_rep"],
            &["NA"],
        ),
        (
            "support@northwind.test",
            "northwind.localhost",
            "northwind",
            &["support"],
            ALL,
        ),
        (
            "admin@contoso.test",
            "contoso.localhost",
            "contoso",
            &["reseller_admin"],
            ALL,
        ),
        (
            "admin@alpine.test",
            "northwind.localhost",
            "alpine-dealers",
            &["customer_admin"],
            &["EU"],
        ),
        (
            "buyer@alpine.test",
            "northwind.localhost",
            "alpine-dealers",
            &["buyer"],
            &["EU"],
        ),
        (
            "viewer@alpine.test",
            "northwind.localhost",
            "alpine-dealers",
            &["viewer"],
            &["EU"],
        ),
        (
            "admin@prairie.test",
            "northwind.localhost",
            "prairie-supply",
            &["customer_admin"],
            &["NA"],
        ),
        (
            "buyer@prairie.test",
            "northwind.localhost",
            "prairie-supply",
            &["buyer"],
            &["NA"],
        ),
        (
            "admin@fjord.test",
            "northwind.localhost",
            "fjord-outfitters",
            &["customer_admin"],
            &["EU"],
        ),
        (
            "admin@harbor.test",
            "contoso.localhost",
            "harbor-tools",
            &["customer_admin"],
            &["EU"],
        ),
        (
            "buyer@harbor.test",
            "contoso.localhost",
            "harbor-tools",
            &["buyer"],
            &["EU"],
        ),
    ];
    for (email, host, tenant, roles, regions) in table {
        let token = app.token_for(email).await;
        let response = app
            .graphql_as(host, &format!("Bearer {token}"), VIEWER)
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{email}: {:?}",
            response.body
        );
        let viewer = &response.body["data"]["viewer"];
        assert_eq!(viewer["user"]["email"], *email);
        assert_eq!(viewer["tenant"]["slug"], *tenant, "{email}");
        assert_eq!(viewer["roles"], json!(roles), "{email}");
        assert_eq!(viewer["regions"], json!(regions), "{email}");
    }
}

#[tokio::test]
async fn a_verified_token_is_still_refused_once_it_expires() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| c.auth.leeway_seconds = 0).await;
    let buyer = app.user("buyer@alpine.test").await;
    // The user's first request computes its policy scopes (seconds in a debug build on a busy
    // machine): done before the two-second token's clock starts.
    app.as_user(
        "buyer@alpine.test",
        "northwind.localhost",
        VIEWER,
        Value::Null,
    )
    .await;
    let mut c = claims(&buyer.subject);
    c["exp"] = json!(now() + 2);
    let token = app.demo_keys().sign(&c).unwrap();
    let bearer = format!("Bearer {token}");
    // Verified once, then served from the verification cache...
    for _ in 0..2 {
        let ok = app.graphql_as("northwind.localhost", &bearer, VIEWER).await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    }
    // ...which still honours `exp`.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_refused(
        "expired after it was cached",
        &app.graphql_as("northwind.localhost", &bearer, VIEWER).await,
    );
    // And a cached token says nothing for another portal's provider or tree.
    let elsewhere = app
        .graphql_as(
            "contoso.localhost",
            &format!("Bearer {}", app.token_for("buyer@alpine.test").await),
            VIEWER,
        )
        .await;
    assert_refused("a cached identity on another tree", &elsewhere);
}
