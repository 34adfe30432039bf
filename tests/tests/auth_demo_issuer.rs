//! The demo issuer and sign-in redirects: discovery and JWKS, no demo issuer outside demo
//! mode, codes only for a portal's own callback (`redirect_uri`), and a hostile `return_to`
//! landing on the portal after sign-in.

use std::time::Duration;

use portico_store::seed::DEMO_ISSUER;
use portico_tests::auth::{VIEWER, assert_refused};
use portico_tests::{TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

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
