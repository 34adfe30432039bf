//! Authentication: bearer tokens (every way a token can be wrong), the browser sign-in through
//! the demo issuer with server-side sessions, CSRF, logout and session expiry, and `viewer`
//! for every demo user.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_store::TenantScope;
use portico_store::seed::DEMO_ISSUER;
use portico_tests::{TestApp, TestDb, on_both_backends, test_actor};
use reqwest::StatusCode;
use serde_json::{Value, json};

const VIEWER: &str = "{ viewer { user { email } tenant { slug } roles regions } }";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims the demo issuer would put in a valid access token for `subject`.
fn claims(subject: &str) -> Value {
    json!({
        "iss": DEMO_ISSUER,
        "sub": subject,
        "aud": "portico",
        "iat": now(),
        "nbf": now(),
        "exp": now() + 600,
    })
}

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

async fn deactivate(app: &TestApp, email: &str) {
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

fn assert_refused(case: &str, response: &portico_tests::GraphqlResponse) {
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

async fn browser_sign_in_sessions_csrf_and_logout(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let nw = "northwind.localhost";
    let origin = format!("http://{nw}:{}", app.port);

    // The session cookie is HttpOnly and SameSite=Lax (Secure only outside demo mode).
    let login = app.get(nw, "/auth/login").await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("portico_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "demo mode runs on http: {cookie}"
    );
    let location = login.headers()["location"].to_str().unwrap();
    assert!(
        location.contains("code_challenge_method=S256") && location.contains("nonce="),
        "{location}"
    );

    let browser = app.browser();
    let landed = browser
        .sign_in_with_demo_issuer(nw, "buyer@alpine.test")
        .await;
    assert_eq!(landed.status(), StatusCode::OK);
    assert_eq!(landed.url().path(), "/");
    let viewer = browser.viewer(nw).await;
    assert_eq!(
        viewer.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
    assert_eq!(viewer.body["data"]["viewer"]["roles"], json!(["buyer"]));

    // CSRF: a cookie-carried POST needs this portal's Origin or the custom header.
    for (case, origin, header) in [
        ("no Origin, no header", None, false),
        ("another site's Origin", Some("http://evil.test"), false),
        (
            "another site's Origin with the header",
            Some("http://evil.test"),
            true,
        ),
        (
            "another portal's Origin",
            Some("http://contoso.localhost"),
            false,
        ),
    ] {
        let response = browser.graphql(nw, VIEWER, origin, header).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{case}");
        assert_eq!(response.first_code(), Some("FORBIDDEN"), "{case}");
    }
    let with_header = browser.graphql(nw, VIEWER, None, true).await;
    assert_eq!(
        with_header.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
    // GET runs queries only, so it needs no Origin.
    let get = TestApp::read(
        browser
            .client
            .get(browser.url(nw, "/graphql?query=%7Bviewer%7Buser%7Bemail%7D%7D%7D"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        get.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );

    // The cookie belongs to its portal's host only.
    assert_eq!(
        browser.viewer("contoso.localhost").await.body["data"]["viewer"],
        Value::Null
    );

    // Logout is a POST, CSRF-checked; afterwards the old cookie is worth nothing.
    let stolen = browser.cookie(nw).expect("a session cookie");
    let cross_site = browser
        .client
        .post(browser.url(nw, "/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        browser.viewer(nw).await.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test",
        "a refused logout changes nothing"
    );
    let out = browser
        .client
        .post(browser.url(nw, "/auth/logout"))
        .header("origin", &origin)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(browser.viewer(nw).await.body["data"]["viewer"], Value::Null);
    let replay = app.viewer_with_cookie(nw, &stolen).await;
    assert_eq!(
        replay.body["data"]["viewer"],
        Value::Null,
        "the session row is gone"
    );
}

async fn sign_in_is_refused_outside_the_users_tree_and_for_deactivated_users(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let refused = browser
        .sign_in_with_demo_issuer("contoso.localhost", "buyer@alpine.test")
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = refused.text().await.unwrap();
    assert!(page.contains("no access to this portal"), "{page}");
    assert!(
        !page.contains("alpine") && !page.contains("northwind"),
        "no hint of where the user belongs: {page}"
    );
    assert_eq!(
        browser.viewer("contoso.localhost").await.body["data"]["viewer"],
        Value::Null
    );

    deactivate(&app, "admin@fjord.test").await;
    let refused = browser
        .sign_in_with_demo_issuer("northwind.localhost", "admin@fjord.test")
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("deactivated"));

    // Deactivation also ends a session that is already open.
    let signed_in = browser
        .sign_in_with_demo_issuer("northwind.localhost", "viewer@alpine.test")
        .await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(
        browser.viewer("northwind.localhost").await.body["data"]["viewer"]["user"]["email"],
        "viewer@alpine.test"
    );
    deactivate(&app, "viewer@alpine.test").await;
    assert_eq!(
        browser.viewer("northwind.localhost").await.body["data"]["viewer"],
        Value::Null
    );
}

/// How a test user reaches the API: a bearer token, or a signed-in browser's session.
enum Via {
    Bearer(String),
    Session(portico_tests::Browser),
}

impl Via {
    async fn viewer(&self, app: &TestApp) -> portico_tests::GraphqlResponse {
        let nw = "northwind.localhost";
        match self {
            Via::Bearer(token) => app.graphql_as(nw, token, VIEWER).await,
            Via::Session(browser) => browser.graphql(nw, VIEWER, None, true).await,
        }
    }
}

/// Providers and users are cached under the identity version: a change, through the store or
/// by hand in SQL, is seen by the very next request, with the same token or session.
async fn a_cached_user_follows_role_changes_and_deactivation(app: &TestApp, via: Via) {
    for _ in 0..2 {
        let r = via.viewer(app).await;
        assert_eq!(
            r.body["data"]["viewer"]["roles"],
            json!(["buyer"]),
            "{:?}",
            r.body
        );
    }
    let user = app.user("buyer@alpine.test").await;
    app.sql_by_hand(
        "UPDATE role_assignments SET role = 'viewer' WHERE user_id = $1",
        &[&user.id],
    )
    .await;
    let r = via.viewer(app).await;
    assert_eq!(
        r.body["data"]["viewer"]["roles"],
        json!(["viewer"]),
        "{:?}",
        r.body
    );
    deactivate(app, "buyer@alpine.test").await;
    let r = via.viewer(app).await;
    match via {
        Via::Bearer(_) => assert_refused("deactivated after use", &r),
        // The session ends: the browser is signed out, not refused.
        Via::Session(_) => assert_eq!(r.body["data"]["viewer"], Value::Null, "{:?}", r.body),
    }
}

async fn a_cached_caller_follows_role_changes_and_deactivation_on_the_next_request(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = format!("Bearer {}", app.token_for("buyer@alpine.test").await);
    a_cached_user_follows_role_changes_and_deactivation(&app, Via::Bearer(token)).await;
}

async fn a_cached_session_user_follows_role_changes_and_deactivation_on_the_next_request(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    browser
        .sign_in_with_demo_issuer("northwind.localhost", "buyer@alpine.test")
        .await;
    a_cached_user_follows_role_changes_and_deactivation(&app, Via::Session(browser)).await;
}

on_both_backends!(
    a_cached_caller_follows_role_changes_and_deactivation_on_the_next_request,
    a_cached_session_user_follows_role_changes_and_deactivation_on_the_next_request,
    browser_sign_in_sessions_csrf_and_logout,
    sign_in_is_refused_outside_the_users_tree_and_for_deactivated_users,
);

#[tokio::test]
async fn a_session_ends_after_its_idle_time() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.auth.session_idle_seconds = 1;
        c.auth.session_absolute_seconds = 60;
    })
    .await;
    let browser = app.browser();
    browser
        .sign_in_with_demo_issuer("northwind.localhost", "buyer@alpine.test")
        .await;
    let cookie = browser.cookie("northwind.localhost").expect("cookie");
    assert_eq!(
        browser.viewer("northwind.localhost").await.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // Sent by hand: the server must refuse it, whatever the browser would do with its cookie.
    let late = app.viewer_with_cookie("northwind.localhost", &cookie).await;
    assert_eq!(late.body["data"]["viewer"], Value::Null);
}

#[tokio::test]
async fn a_session_ends_at_its_absolute_lifetime_even_when_active() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.auth.session_idle_seconds = 2;
        c.auth.session_absolute_seconds = 2;
    })
    .await;
    // The user's first request computes its policy scopes (slow in a debug build on a busy
    // machine): done before the clock of the session starts.
    app.as_user(
        "buyer@alpine.test",
        "northwind.localhost",
        "{ viewer { user { id } } }",
        Value::Null,
    )
    .await;
    let browser = app.browser();
    browser
        .sign_in_with_demo_issuer("northwind.localhost", "buyer@alpine.test")
        .await;
    let mut seen_signed_in = false;
    let started = std::time::Instant::now();
    // Active all along: a request every 300 ms keeps the idle timer from firing.
    let mut last = Value::Null;
    while started.elapsed() < Duration::from_millis(4500) {
        last = browser.viewer("northwind.localhost").await.body["data"]["viewer"].clone();
        if started.elapsed() < Duration::from_millis(1000) {
            seen_signed_in |= !last.is_null();
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(seen_signed_in, "signed in at first");
    assert_eq!(last, Value::Null, "signed out after the absolute lifetime");
}

#[tokio::test]
async fn the_demo_issuer_serves_discovery_and_jwks_and_refuses_bad_authorize_requests() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let discovery: Value = app
        .get("localhost", "/demo-issuer/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], DEMO_ISSUER);
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    let jwks: Value = app
        .get("localhost", "/demo-issuer/jwks")
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("EC"), Some("ES256"))
    );
    assert!(key.get("d").is_none(), "no private part in the JWKS");

    // A redirect URI that is not a portal's callback never receives a code.
    let evil = app
        .get(
            "northwind.localhost",
            "/demo-issuer/authorize?response_type=code&client_id=portico-demo&scope=openid\
             &redirect_uri=http%3A%2F%2Fevil.test%2Fauth%2Fcallback&state=x\
             &code_challenge=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa&code_challenge_method=S256",
        )
        .await;
    assert_eq!(evil.status(), StatusCode::BAD_REQUEST);

    // Scripts: client credentials for a demo user.
    let token: Value = app
        .client
        .post(format!("{}/demo-issuer/token", app.address))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "rep-eu@northwind.test"),
            ("client_secret", "demo"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().expect("a token");
    let viewer = app
        .graphql_as("northwind.localhost", &format!("Bearer {access}"), VIEWER)
        .await;
    assert_eq!(viewer.body["data"]["viewer"]["regions"], json!(["EU"]));
}

#[tokio::test]
async fn the_demo_issuer_does_not_exist_outside_demo_mode() {
    let db = TestDb::sqlite().await;
    let seeded = db.seeded_store().await;
    seeded.close().await;
    let app = TestApp::spawn_with(db, |c| c.demo = false).await;
    for path in [
        "/demo-issuer/jwks",
        "/demo-issuer/.well-known/openid-configuration",
    ] {
        assert_eq!(
            app.get("northwind.localhost", path).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // Tokens signed with the demo key are refused: nothing vouches for the demo issuer.
    let token = app.token_for("buyer@alpine.test").await;
    assert_refused(
        "demo token outside demo mode",
        &app.graphql_as("northwind.localhost", &format!("Bearer {token}"), VIEWER)
            .await,
    );
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

/// A browser that does not follow redirects, so a test sees each `Location` the portal sends.
fn step_by_step_browser(app: &TestApp) -> reqwest::Client {
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], app.port).into();
    reqwest::Client::builder()
        .cookie_provider(std::sync::Arc::new(reqwest::cookie::Jar::default()))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .resolve("northwind.localhost", addr)
        .build()
        .unwrap()
}

/// Signs `email` in on northwind's portal through the demo issuer, starting at
/// `/auth/login?return_to={return_to}` (`return_to` as it appears in the query string), and
/// answers the portal callback's status and `Location`, or why there was no answer.
async fn callback_after_sign_in(
    app: &TestApp,
    email: &str,
    return_to: &str,
) -> Result<(StatusCode, Option<String>), String> {
    let browser = step_by_step_browser(app);
    let portal = format!("http://northwind.localhost:{}", app.port);
    let location = |r: &reqwest::Response| {
        r.headers()
            .get("location")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let login = browser
        .get(format!("{portal}/auth/login?return_to={return_to}"))
        .send()
        .await
        .map_err(|e| format!("login: {e}"))?;
    if login.status() != StatusCode::SEE_OTHER {
        return Err(format!("login answered {}", login.status()));
    }
    let authorize = location(&login).ok_or("login sent no Location")?;
    let page = browser
        .get(&authorize)
        .send()
        .await
        .map_err(|e| format!("authorize page: {e}"))?;
    assert_eq!(page.status(), StatusCode::OK, "the demo issuer's page");
    let mut form = portico_tests::hidden_inputs(&page.text().await.unwrap());
    form.push(("user".into(), email.into()));
    let picked = browser
        .post(format!("{portal}/demo-issuer/authorize"))
        .form(&form)
        .send()
        .await
        .map_err(|e| format!("authorize: {e}"))?;
    assert_eq!(
        picked.status(),
        StatusCode::SEE_OTHER,
        "a code for the portal"
    );
    let callback = location(&picked).ok_or("the demo issuer sent no Location")?;
    assert!(
        callback.starts_with(&format!("{portal}/auth/callback?code=")),
        "{callback}"
    );
    let landed = browser
        .get(&callback)
        .send()
        .await
        .map_err(|e| format!("callback: {e}"))?;
    Ok((landed.status(), location(&landed)))
}

#[tokio::test]
async fn a_hostile_return_to_lands_on_the_portal_after_sign_in() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = reqwest::Url::parse(&format!("http://northwind.localhost:{}/", app.port)).unwrap();
    // (return_to as sent in the login URL's query, where the callback must send the browser)
    let cases = [
        // Decoded by the query string to a tab, newlines, a backslash: all mean `//evil`.
        ("/%09/evil.example", "/"),
        ("/%0a/evil.example", "/"),
        ("/%0d/evil.example", "/"),
        ("/%0d%0a/evil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("%2F%2Fevil.example", "/"),
        ("%2F%2F%2Fevil.example", "/"),
        ("/%2E//evil.example", "/"),
        ("http:evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("https%3A%2F%2Fevil.example%2F", "/"),
        // Encoded twice: a path on the portal, which a browser never decodes.
        ("/%2509/evil.example", "/%09/evil.example"),
        // A legitimate path, query and fragment survive.
        ("%2Fcatalog%3Fpage%3D2%23top", "/catalog?page=2#top"),
    ];
    for (return_to, want) in cases {
        let answer = callback_after_sign_in(&app, "buyer@alpine.test", return_to).await;
        let (status, location) = answer.unwrap_or_else(|why| panic!("{return_to}: {why}"));
        assert_eq!(status, StatusCode::SEE_OTHER, "{return_to}");
        let location = location.unwrap_or_else(|| panic!("{return_to}: no Location"));
        assert_eq!(location, want, "{return_to}");
        // What a browser makes of it: the portal, always.
        let target = base.join(&location).unwrap();
        assert_eq!(
            target.origin(),
            base.origin(),
            "{return_to} sends the browser to {target}"
        );
    }
}

/// The authorize request of a portal's sign-in with `redirect_uri`, as the portal sends it.
fn authorize_params(redirect_uri: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".into()),
        ("client_id", "portico-demo".into()),
        ("scope", "openid email".into()),
        ("state", "some-state".into()),
        ("code_challenge", "a".repeat(43)),
        ("code_challenge_method", "S256".into()),
        ("redirect_uri", redirect_uri.into()),
    ]
}

#[tokio::test]
async fn the_demo_issuer_sends_codes_only_to_a_portals_own_callback() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let port = app.port;
    let hostile = [
        // User info: everything before `@` is a user name, the host is evil.example.
        format!("http://northwind.localhost:{port}@evil.example/auth/callback"),
        "http://northwind.localhost@evil.example/auth/callback".to_owned(),
        format!("http://user@northwind.localhost:{port}/auth/callback"),
        format!("http://user:pw@northwind.localhost:{port}/auth/callback"),
        format!("http://northwind.localhost:{port}%2e@evil.example/auth/callback"),
        // Tabs and newlines, which a URL parser drops.
        format!("http://northwind.localhost:{port}\t@evil.example/auth/callback"),
        format!("http://northwind.localhost:{port}\n@evil.example/auth/callback"),
        format!("http://northwind.localhost:{port}\r\n@evil.example/auth/callback"),
        format!("http://northwind.localhost:{port}/auth/call\tback"),
        // Backslashes, which a URL parser reads as slashes.
        format!("http://evil.example\\@northwind.localhost:{port}/auth/callback"),
        format!("http://northwind.localhost:{port}\\@evil.example/auth/callback"),
        format!("http://northwind.localhost:{port}\\evil.example/auth/callback"),
        format!("http://northwind.localhost:{port}/auth\\callback"),
        // Encoded dots, in the host or as path segments.
        format!("http://northwind%2elocalhost:{port}/auth/callback"),
        format!("http://northwind.localhost%2e:{port}/auth/callback"),
        format!("http://northwind.localhost:{port}/x/%2e%2e/auth/callback"),
        format!("http://northwind.localhost:{port}/auth/callback/%2e%2e/callback"),
        // Another host, port or scheme than a portal's; another path; a fragment or query.
        "http://evil.example/auth/callback".to_owned(),
        format!("http://northwind.localhost.evil.example:{port}/auth/callback"),
        "http://northwind.localhost:1/auth/callback".to_owned(),
        format!("https://northwind.localhost:{port}/auth/callback"),
        format!("ftp://northwind.localhost:{port}/auth/callback"),
        format!("http://northwind.localhost:{port}/auth/callback/"),
        format!("http://northwind.localhost:{port}/auth/callbackx"),
        format!("http://northwind.localhost:{port}/auth/callback#x"),
        format!("http://northwind.localhost:{port}/auth/callback?next=/"),
        format!("//northwind.localhost:{port}/auth/callback"),
        "not a url".to_owned(),
    ];
    for redirect_uri in &hostile {
        let params = authorize_params(redirect_uri);
        let page = app
            .client
            .get(format!("{}/demo-issuer/authorize", app.address))
            .header("host", "northwind.localhost")
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::BAD_REQUEST, "{redirect_uri:?}");
        let body = page.text().await.unwrap();
        assert!(body.contains("redirect_uri"), "{redirect_uri:?}: {body}");

        // The form's POST checks again: a forged form never gets a code either.
        let mut form = params.clone();
        form.push(("user", "buyer@alpine.test".into()));
        let submitted = app
            .client
            .post(format!("{}/demo-issuer/authorize", app.address))
            .header("host", "northwind.localhost")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            submitted.status(),
            StatusCode::BAD_REQUEST,
            "{redirect_uri:?} got {:?}",
            submitted.headers().get("location")
        );
        assert!(submitted.headers().get("location").is_none());
    }

    // The portals' own callbacks still work: on the port the server listens on, or behind a
    // proxy on the scheme's default port.
    let legitimate = [
        format!("http://northwind.localhost:{port}/auth/callback"),
        format!("http://contoso.localhost:{port}/auth/callback"),
        "http://platform.localhost/auth/callback".to_owned(),
    ];
    for redirect_uri in &legitimate {
        let params = authorize_params(redirect_uri);
        let page = app
            .client
            .get(format!("{}/demo-issuer/authorize", app.address))
            .header("host", "northwind.localhost")
            .query(&params)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{redirect_uri}");
        let mut form = params.clone();
        form.push(("user", "buyer@alpine.test".into()));
        let submitted = app
            .client
            .post(format!("{}/demo-issuer/authorize", app.address))
            .header("host", "northwind.localhost")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(submitted.status(), StatusCode::SEE_OTHER, "{redirect_uri}");
        let location = submitted.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with(&format!("{redirect_uri}?code="))
                && location.ends_with("&state=some-state"),
            "{location}"
        );
    }
}
