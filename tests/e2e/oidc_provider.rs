//! End to end against an independent OpenID Connect provider: the npm package `oidc-provider`
//! (tests/e2e/provider.mjs), registered as northwind's own identity provider. Runs the browser
//! sign-in (an HTTP client with a cookie jar following redirects through the provider's login
//! and consent pages), logout, and the bearer flow with the provider's JWT access tokens.
//!
//! Needs `npm ci --prefix tests/e2e` (`.ci/run` does it); skipped without it, except under
//! `CI=true`, where a missing install fails.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_store::seed::demo_id;
use portico_store::{NewIdentityProvider, TenantScope};
use portico_tests::{Browser, TestApp, TestDb, test_actor};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const VIEWER: &str = "{ viewer { user { email } tenant { slug } roles } }";

/// The provider's process, killed when the test ends however it ends.
struct Provider {
    child: Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn e2e_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("e2e")
}

/// Starts oidc-provider, or `None` when it is not installed (and not in CI).
fn start_provider(redirect_uri: &str, secret: &str) -> Option<Provider> {
    if !e2e_dir().join("node_modules/oidc-provider").exists() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but tests/e2e/node_modules is missing: run `npm ci --prefix tests/e2e`"
            );
        }
        eprintln!("skipped: run `npm ci --prefix tests/e2e` to install oidc-provider");
        return None;
    }
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .arg("--redirect-uri")
        .arg(redirect_uri)
        .current_dir(e2e_dir())
        .env("PORTICO_E2E_CLIENT_SECRET", secret)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start node (is Node.js installed?)");
    let stdout = child.stdout.take().expect("stdout");
    let mut provider = Provider {
        child,
        issuer: String::new(),
    };
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("provider output");
        if let Ok(ready) = serde_json::from_str::<Value>(&line) {
            provider.issuer = ready["issuer"].as_str().expect("issuer").to_owned();
            // Keep reading: a closed pipe would kill the provider at its next log line.
            std::thread::spawn(move || {
                for line in lines.map_while(Result::ok) {
                    eprintln!("oidc-provider: {line}");
                }
            });
            return Some(provider);
        }
    }
    panic!("oidc-provider exited before it was ready");
}

/// The `action` of the page's form, absolute.
fn form_action(page_url: &reqwest::Url, html: &str) -> reqwest::Url {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    let end = html[start..].find('"').expect("closing quote") + start;
    page_url
        .join(&html[start..end].replace("&amp;", "&"))
        .expect("a URL")
}

/// Answers oidc-provider's login page (any password) and then its consent page; returns the
/// response after consent.
async fn login_and_consent(
    client: &reqwest::Client,
    login_page: reqwest::Response,
    login: &str,
) -> reqwest::Response {
    assert_eq!(
        login_page.status(),
        StatusCode::OK,
        "the provider's login page"
    );
    let url = login_page.url().clone();
    let html = login_page.text().await.unwrap();
    assert!(
        html.contains("name=\"login\""),
        "a login form at {url}: {html}"
    );
    let consent = client
        .post(form_action(&url, &html))
        .form(&[("prompt", "login"), ("login", login), ("password", "any")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        consent.status(),
        StatusCode::OK,
        "the provider's consent page"
    );
    let url = consent.url().clone();
    let html = consent.text().await.unwrap();
    assert!(html.contains("value=\"consent\""), "a consent form: {html}");
    client
        .post(form_action(&url, &html))
        .form(&[("prompt", "consent")])
        .send()
        .await
        .unwrap()
}

struct Setup {
    app: TestApp,
    provider: Provider,
    _secret_dir: tempfile::TempDir,
}

/// Portico (demo data) with northwind's portal signing in through oidc-provider, and two
/// northwind-tree users linked to identities there.
async fn setup() -> Option<Setup> {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let secret = format!("e2e-{}", uuid::Uuid::new_v4().simple());
    let secret_dir = tempfile::tempdir().unwrap();
    let secret_file = secret_dir.path().join("northwind-oidc-secret");
    std::fs::write(&secret_file, &secret).unwrap();
    let redirect = format!("http://northwind.localhost:{}/auth/callback", app.port);
    let provider = start_provider(&redirect, &secret)?;
    let northwind = demo_id("tenant", "northwind");
    let scope = TenantScope::of(
        [
            "northwind",
            "alpine-dealers",
            "fjord-outfitters",
            "prairie-supply",
        ]
        .map(|s| demo_id("tenant", s)),
    );
    app.store
        .upsert_identity_provider(
            &scope,
            &NewIdentityProvider {
                tenant_id: northwind,
                issuer_url: provider.issuer.clone(),
                client_id: "portico".into(),
                client_secret_ref: Some(format!("file:{}", secret_file.display())),
                audience: "portico".into(),
                algorithms: vec!["RS256".into()],
            },
            &test_actor("northwind brings its own identity provider"),
        )
        .await
        .expect("register the provider");
    for (email, subject) in [
        ("buyer@alpine.test", "alpine-buyer"),
        ("admin@northwind.test", "northwind-admin"),
    ] {
        let user = app.user(email).await;
        app.store
            .set_user_identity(
                &scope,
                &user.id,
                &provider.issuer,
                subject,
                &test_actor("northwind brings its own identity provider"),
            )
            .await
            .expect("link the identity");
    }
    Some(Setup {
        app,
        provider,
        _secret_dir: secret_dir,
    })
}

#[tokio::test]
async fn the_browser_signs_in_and_out_through_an_independent_provider() {
    let Some(Setup {
        app,
        provider,
        _secret_dir: _keep,
    }) = setup().await
    else {
        return;
    };
    let browser: Browser = app.browser();
    let nw = "northwind.localhost";
    let login_page = browser
        .client
        .get(browser.url(nw, "/auth/login?return_to=/healthz"))
        .send()
        .await
        .unwrap();
    if !login_page.url().as_str().starts_with(&provider.issuer) {
        let (url, status) = (login_page.url().clone(), login_page.status());
        let body = login_page.text().await.unwrap();
        panic!("sent to northwind's own provider, not the demo issuer: {url} {status} {body}");
    }
    let landed = login_and_consent(&browser.client, login_page, "alpine-buyer").await;
    assert_eq!(landed.status(), StatusCode::OK);
    assert_eq!(
        landed.url().path(),
        "/healthz",
        "back where the sign-in started"
    );
    let viewer = browser.viewer(nw).await;
    assert_eq!(
        viewer.body["data"]["viewer"]["user"]["email"],
        "buyer@alpine.test"
    );
    assert_eq!(
        viewer.body["data"]["viewer"]["tenant"]["slug"],
        "alpine-dealers"
    );
    assert_eq!(viewer.body["data"]["viewer"]["roles"], json!(["buyer"]));

    // A CSRF attempt with the session cookie fails.
    let forged = browser
        .graphql(nw, VIEWER, Some("http://evil.test"), false)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let out = browser
        .client
        .post(browser.url(nw, "/auth/logout"))
        .header("origin", format!("http://{nw}:{}", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    assert_eq!(browser.viewer(nw).await.body["data"]["viewer"], Value::Null);

    // An identity of that provider that no northwind user has is refused at the callback (a
    // fresh browser: the provider's own single sign-on would otherwise skip its login page).
    let other = app.browser();
    let login_page = other
        .client
        .get(other.url(nw, "/auth/login"))
        .send()
        .await
        .unwrap();
    let refused = login_and_consent(&other.client, login_page, "stranger").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("no access to this portal")
    );
    assert_eq!(other.viewer(nw).await.body["data"]["viewer"], Value::Null);
}

#[tokio::test]
async fn the_providers_jwt_access_tokens_work_as_bearer_tokens_on_its_portal_only() {
    let Some(Setup {
        app,
        provider,
        _secret_dir: _keep,
    }) = setup().await
    else {
        return;
    };
    // The test plays an API client: authorization code + PKCE for the resource urn:portico:api.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().path() == "/cb" {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap();
    let verifier = URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes().repeat(2));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let mut authorize = reqwest::Url::parse(&format!("{}/auth", provider.issuer)).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", "e2e-cli")
        .append_pair("response_type", "code")
        .append_pair("scope", "openid")
        .append_pair("redirect_uri", "http://127.0.0.1/cb")
        .append_pair("resource", "urn:portico:api")
        .append_pair("state", "e2e")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let login_page = client.get(authorize).send().await.unwrap();
    let redirect = login_and_consent(&client, login_page, "northwind-admin").await;
    assert!(redirect.status().is_redirection(), "{}", redirect.status());
    let location = reqwest::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let tokens: Value = client
        .post(format!("{}/token", provider.issuer))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1/cb"),
            ("code_verifier", &verifier),
            ("client_id", "e2e-cli"),
            ("resource", "urn:portico:api"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().expect("an access token");
    assert_eq!(access.split('.').count(), 3, "a JWT access token: {tokens}");

    let bearer = format!("Bearer {access}");
    let viewer = app.graphql_as("northwind.localhost", &bearer, VIEWER).await;
    assert_eq!(viewer.status, StatusCode::OK, "{:?}", viewer.body);
    assert_eq!(
        viewer.body["data"]["viewer"]["user"]["email"],
        "admin@northwind.test"
    );
    assert_eq!(
        viewer.body["data"]["viewer"]["roles"],
        json!(["reseller_admin"])
    );

    // Contoso's portal trusts the platform's (demo) issuer, not northwind's provider.
    let elsewhere = app.graphql_as("contoso.localhost", &bearer, VIEWER).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
    assert_eq!(elsewhere.first_code(), Some("UNAUTHENTICATED"));
    // And the demo issuer's tokens no longer open northwind's portal.
    let demo = app.token_for("admin@alpine.test").await;
    let demo = app
        .graphql_as("northwind.localhost", &format!("Bearer {demo}"), VIEWER)
        .await;
    assert_eq!(demo.status, StatusCode::UNAUTHORIZED);
}

/// Invites `email` into alpine-dealers as a buyer, as alpine's admin would.
async fn invite(app: &TestApp, email: &str) -> String {
    let admin = app.user("admin@alpine.test").await;
    let invited = app
        .store
        .invite_user(
            &TenantScope::single(demo_id("tenant", "alpine-dealers")),
            &portico_store::NewInvitation {
                tenant_id: demo_id("tenant", "alpine-dealers"),
                email: email.into(),
                name: "New Colleague".into(),
                roles: portico_store::RoleSet {
                    roles: vec![portico_store::model::Role::Buyer],
                    regions: vec![],
                },
            },
            &portico_store::model::NewAuditEntry {
                actor: admin.id.clone(),
                actor_tenant: admin.tenant_id.clone(),
                ..test_actor("a colleague joins")
            },
            None,
        )
        .await
        .expect("invite");
    assert_eq!(
        invited.user.status(),
        portico_store::model::UserStatus::Invited
    );
    invited.user.id
}

#[tokio::test]
async fn an_invited_person_is_bound_to_the_invitation_at_first_sign_in_with_a_verified_email() {
    let Some(Setup {
        app,
        provider,
        _secret_dir: _keep,
    }) = setup().await
    else {
        return;
    };
    let nw = "northwind.localhost";
    let invited_id = invite(&app, "New.Colleague@e2e.test").await;

    // The provider vouches for new.colleague@e2e.test (the email's case differs: still them).
    let browser = app.browser();
    let login_page = browser
        .client
        .get(browser.url(nw, "/auth/login"))
        .send()
        .await
        .unwrap();
    assert!(login_page.url().as_str().starts_with(&provider.issuer));
    let landed = login_and_consent(&browser.client, login_page, "new.colleague").await;
    assert_eq!(landed.status(), StatusCode::OK, "signed in and home");
    let viewer = browser.viewer(nw).await;
    assert_eq!(
        viewer.body["data"]["viewer"]["user"]["email"],
        "New.Colleague@e2e.test"
    );
    assert_eq!(
        viewer.body["data"]["viewer"]["tenant"]["slug"],
        "alpine-dealers"
    );
    assert_eq!(viewer.body["data"]["viewer"]["roles"], json!(["buyer"]));
    let bound = app.user("New.Colleague@e2e.test").await;
    assert_eq!(bound.id, invited_id, "the invitation's own row, now active");
    assert_eq!(bound.status(), portico_store::model::UserStatus::Active);
    assert_eq!(bound.issuer, provider.issuer);
    assert_eq!(bound.subject, "new.colleague");
    let log = app
        .store
        .audit_entries(
            &TenantScope::single(demo_id("tenant", "alpine-dealers")),
            &demo_id("tenant", "alpine-dealers"),
        )
        .await
        .unwrap();
    let accepted = log.last().expect("an audit row");
    assert_eq!(accepted.action, "user.invitation_accepted");
    assert_eq!(accepted.actor, invited_id);

    // An email the provider does not vouch for binds nothing, even with an open invitation.
    let unverified_id = invite(&app, "unverified-guest@e2e.test").await;
    let other = app.browser();
    let login_page = other
        .client
        .get(other.url(nw, "/auth/login"))
        .send()
        .await
        .unwrap();
    let refused = login_and_consent(&other.client, login_page, "unverified-guest").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(other.viewer(nw).await.body["data"]["viewer"], Value::Null);
    let still = app.user("unverified-guest@e2e.test").await;
    assert_eq!(still.id, unverified_id);
    assert_eq!(still.status(), portico_store::model::UserStatus::Invited);
}
