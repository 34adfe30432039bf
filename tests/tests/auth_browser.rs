//! The browser sign-in through the demo issuer: server-side sessions, CSRF, logout, refusals
//! outside the user's tree, cached users following role changes, and session expiry.

use std::time::Duration;

use portico_tests::auth::{VIEWER, assert_refused, deactivate};
use portico_tests::{TestApp, TestDb, on_both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
