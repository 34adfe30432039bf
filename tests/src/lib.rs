//! `portico-tests`: the harness for end-to-end and repository tests.
//!
//! `TestDb` is a fresh database per test: a temporary SQLite file, or a new PostgreSQL database on
//! the server that `PORTICO_TEST_DATABASE_URL` (or `DATABASE_URL`) points at. `TestApp` starts
//! the real server on port 0 over such a database and talks HTTP to it.

pub mod auth;
pub mod catalog_writes;
pub mod hostile;
pub mod search;

use std::time::Duration;

use portico::{Application, Config};
use portico_store::{Store, StoreOptions, TenantScope};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Connection;

/// Where the PostgreSQL half of the suite runs; `None` skips it (but not under CI).
pub fn postgres_server_url() -> Option<String> {
    let url = std::env::var("PORTICO_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok()
        .filter(|u| u.starts_with("postgres"));
    if url.is_none() && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "CI=true but neither PORTICO_TEST_DATABASE_URL nor DATABASE_URL names a PostgreSQL server"
        );
    }
    url
}

/// A fresh, empty database of one backend.
pub struct TestDb {
    pub url: String,
    pub name: String,
    /// Keeps the SQLite file (and the data dir) alive for the test's duration.
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite:{}", dir.path().join("portico.db").display());
        TestDb {
            url,
            name: "sqlite".into(),
            dir,
        }
    }

    /// A new database on the test server, or `None` when there is no server to use.
    pub async fn postgres() -> Option<TestDb> {
        let server = postgres_server_url()?;
        let name = format!("portico_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&server)
            .await
            .expect("connect to the test PostgreSQL server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.ok();
        let mut url = reqwest::Url::parse(&server).expect("PORTICO_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        let url = url.to_string();
        Some(TestDb {
            url,
            name,
            dir: tempfile::tempdir().expect("temporary directory"),
        })
    }

    /// A connected, migrated store over this database.
    pub async fn store(&self, options: &StoreOptions) -> Store {
        let store = Store::connect(&self.url, options).await.expect("connect");
        store.migrate().await.expect("migrate");
        store
    }

    /// As `store`, with the demo dataset.
    pub async fn seeded_store(&self) -> Store {
        let store = self.store(&StoreOptions::default()).await;
        store.seed_demo().await.expect("seed");
        store
    }

    /// Runs one statement with text parameters on the test's database directly, as an
    /// operator would by hand: below the application, its caches and its audit.
    pub async fn sql_by_hand(&self, sql: &str, params: &[&str]) {
        if self.url.starts_with("sqlite:") {
            let mut conn = sqlx::SqliteConnection::connect(&self.url)
                .await
                .expect("connect");
            let mut query = sqlx::query(sql);
            for p in params {
                query = query.bind(*p);
            }
            query.execute(&mut conn).await.expect("statement");
        } else {
            let mut conn = sqlx::PgConnection::connect(&self.url)
                .await
                .expect("connect");
            let mut query = sqlx::query(sql);
            for p in params {
                query = query.bind(*p);
            }
            query.execute(&mut conn).await.expect("statement");
        }
    }
}

/// Runs each named test once per backend: `sqlite::NAME` always, `postgres::NAME` where a server
/// is configured. Each test is `async fn NAME(db: TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = $crate::TestDb::postgres().await else {
                        eprintln!("skipped: PORTICO_TEST_DATABASE_URL is not set");
                        return;
                    };
                    super::$name(db).await;
                }
            )*
        }
    };
}

/// The real server on port 0 over a fresh database with the demo dataset.
pub struct TestApp {
    pub port: u16,
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub db: TestDb,
}

/// A GraphQL answer: HTTP status, content type and the JSON body.
#[derive(Debug)]
pub struct GraphqlResponse {
    pub status: StatusCode,
    pub content_type: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl GraphqlResponse {
    /// The `extensions.code` of the first error.
    pub fn first_code(&self) -> Option<&str> {
        self.body["errors"][0]["extensions"]["code"].as_str()
    }
}

impl TestApp {
    pub async fn spawn(db: TestDb) -> TestApp {
        Self::spawn_with(db, |_| {}).await
    }

    /// Starts the server with the test's own tweaks to the configuration.
    pub async fn spawn_with(db: TestDb, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: db.dir.path().to_owned(),
            database_url: Some(db.url.clone()),
            demo: true,
            // As `HUNG`: under a CI machine's load a debug build's first request of a kind of
            // caller has taken over 30 s (its list scopes); the server's own limit answers
            // before the client gives up.
            request_timeout_seconds: HUNG.as_secs() - 10,
            ..Config::default()
        };
        tweak(&mut config);
        // PORTICO_TEST_LOG=debug shows the servers' logs (on stderr, not captured by libtest).
        if let Ok(filter) = std::env::var("PORTICO_TEST_LOG") {
            config.log.filter = filter;
            portico::telemetry::init(&config.log);
        }
        let app = Application::build(config)
            .await
            .expect("the application builds");
        let port = app.port();
        let store = app.state().store.clone();
        tokio::spawn(app.run_until(std::future::pending()));
        // A guard against a hung server, not a time limit (tests never assert wall-clock
        // times): a caller's first request computes its list scopes, which on a CI machine
        // running six servers of a debug build on two cores took over 30 s once.
        let client = reqwest::Client::builder()
            .timeout(HUNG)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        TestApp {
            port,
            address: format!("http://127.0.0.1:{port}"),
            client,
            store,
            db,
        }
    }

    /// POSTs one operation to `/graphql` on the portal `host`.
    pub async fn graphql(&self, host: &str, query: &str) -> GraphqlResponse {
        self.graphql_with(host, json!({ "query": query })).await
    }

    /// A GraphQL POST of `body` as it is (batches, variables, extensions).
    pub async fn graphql_with(&self, host: &str, body: Value) -> GraphqlResponse {
        self.post_graphql(host, &[], &body).await
    }

    /// A GraphQL POST with `Authorization: <authorization>`.
    pub async fn graphql_as(
        &self,
        host: &str,
        authorization: &str,
        query: &str,
    ) -> GraphqlResponse {
        self.post_graphql(
            host,
            &[("authorization", authorization)],
            &json!({ "query": query }),
        )
        .await
    }

    /// `{ viewer { user { email } } }` sent by hand with a `Cookie` header (no browser that
    /// might drop an expired cookie itself), from the portal's own origin.
    pub async fn viewer_with_cookie(&self, host: &str, cookie: &str) -> GraphqlResponse {
        let origin = format!("http://{host}:{}", self.port);
        self.post_graphql(
            host,
            &[("origin", &origin), ("cookie", cookie)],
            &json!({ "query": "{ viewer { user { email } } }" }),
        )
        .await
    }

    /// A GraphQL POST with variables, as a demo user (a bearer token from the demo issuer).
    pub async fn as_user(
        &self,
        email: &str,
        host: &str,
        query: &str,
        variables: Value,
    ) -> GraphqlResponse {
        let bearer = format!("Bearer {}", self.token_for(email).await);
        self.post_graphql(
            host,
            &[("authorization", &bearer)],
            &json!({ "query": query, "variables": variables }),
        )
        .await
    }

    /// A POST of `body` to `/graphql` on the portal `host` with extra `headers`.
    pub async fn post_graphql(
        &self,
        host: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> GraphqlResponse {
        let url = format!("{}/graphql", self.address);
        let mut all = vec![("host", host)];
        all.extend_from_slice(headers);
        post_graphql(&self.client, &url, &all, body).await
    }

    /// The demo issuer's key file of this server.
    pub fn demo_keys(&self) -> portico::demo_issuer::DemoKeys {
        portico::demo_issuer::DemoKeys::in_data_dir(self.db.dir.path())
    }

    /// A demo user, read the way the server reads them.
    pub async fn user(&self, email: &str) -> portico_store::model::User {
        let directory = self.store.load_directory().await.expect("directory");
        let all = directory.scope_of_all();
        self.store
            .user_by_email(&all, email)
            .await
            .expect("user lookup")
            .unwrap_or_else(|| panic!("no demo user {email}"))
    }

    /// A bearer token for a demo user, as `portico token --user EMAIL` prints it.
    pub async fn token_for(&self, email: &str) -> String {
        let user = self.user(email).await;
        self.demo_keys()
            .access_token(&user, Duration::from_secs(600))
            .expect("sign")
    }

    /// A browser: a cookie jar, redirects followed, and the demo portal hosts resolving here.
    pub fn browser(&self) -> Browser {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let addr: std::net::SocketAddr = ([127, 0, 0, 1], self.port).into();
        let mut builder = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .timeout(HUNG)
            .redirect(reqwest::redirect::Policy::limited(10));
        for host in [
            "platform.localhost",
            "northwind.localhost",
            "contoso.localhost",
        ] {
            builder = builder.resolve(host, addr);
        }
        Browser {
            client: builder.build().expect("http client"),
            jar,
            port: self.port,
        }
    }

    pub async fn get(&self, host: &str, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path_and_query}", self.address))
            .header("host", host)
            .send()
            .await
            .expect("request")
    }

    /// Runs one statement with text parameters on the test's database directly, as an
    /// operator would by hand: below the application, its caches and its audit.
    pub async fn sql_by_hand(&self, sql: &str, params: &[&str]) {
        self.db.sql_by_hand(sql, params).await;
    }

    pub async fn read(response: reqwest::Response) -> GraphqlResponse {
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        GraphqlResponse {
            status,
            content_type,
            headers,
            body,
        }
    }
}

/// The one place a test's GraphQL POST is built and sent: `body` as JSON to `url` with
/// `headers`, the answer read as a `GraphqlResponse`.
pub async fn post_graphql(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> GraphqlResponse {
    let mut request = client.post(url).json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    TestApp::read(request.send().await.expect("request")).await
}

/// How long a test's request may go unanswered before the test fails as hung.
const HUNG: Duration = Duration::from_secs(120);

/// The demo portals the API tests talk to.
pub const NW: &str = "northwind.localhost";
pub const CO: &str = "contoso.localhost";

/// A demo tenant's id by slug.
pub fn tenant(slug: &str) -> String {
    portico_store::seed::demo_id("tenant", slug)
}

/// The scope of the demo tenants named by slug.
pub fn scope(slugs: &[&str]) -> TenantScope {
    TenantScope::of(slugs.iter().map(|s| tenant(s)))
}

/// A demo customer's GraphQL id by slug.
pub fn customer_id(slug: &str) -> String {
    portico_resolvers::encode_id("Customer", &tenant(slug)).to_string()
}

/// The Turbine (NW-TURBINE) as northwind's pricing manager sees it: (id, version).
pub async fn turbine(app: &TestApp) -> (String, i64) {
    let r = app
        .as_user(
            "pricing@northwind.test",
            NW,
            "{ products(first: 100, filter: { brand: \"Northwind\" }) { edges { node { id sku version } } } }",
            json!({}),
        )
        .await;
    let node = r.body["data"]["products"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .find(|e| e["node"]["sku"] == "NW-TURBINE")
        .unwrap_or_else(|| panic!("{:?}", r.body))["node"]
        .clone();
    (
        node["id"].as_str().expect("id").to_owned(),
        node["version"].as_i64().expect("version"),
    )
}

/// How many audit rows northwind has.
pub async fn audit_len(app: &TestApp) -> usize {
    let nw = tenant("northwind");
    app.store
        .audit_entries(&TenantScope::single(nw.clone()), &nw)
        .await
        .expect("audit entries")
        .len()
}

/// An audit actor for changes a test makes as an administrator would.
pub fn test_actor(reason: &str) -> portico_store::model::NewAuditEntry {
    portico_store::model::NewAuditEntry {
        actor: "test".into(),
        actor_tenant: portico_store::seed::demo_id("tenant", "platform"),
        action: String::new(),
        target: String::new(),
        before_state: None,
        after_state: None,
        reason: Some(reason.into()),
    }
}

/// An HTTP client that behaves like a browser towards the portals: it keeps cookies, follows
/// redirects and sends `Origin` on POSTs when asked to.
pub struct Browser {
    pub client: reqwest::Client,
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
    pub port: u16,
}

impl Browser {
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}:{}{path}", self.port)
    }

    /// Signs in on a portal through the demo issuer's pick-a-user page; returns the last
    /// response (the page the portal sent the browser back to, or an error page).
    pub async fn sign_in_with_demo_issuer(&self, host: &str, email: &str) -> reqwest::Response {
        let page = self
            .client
            .get(self.url(host, "/auth/login"))
            .send()
            .await
            .expect("login");
        assert_eq!(page.status(), StatusCode::OK, "the demo issuer's page");
        let base = page.url().clone();
        let html = page.text().await.expect("page");
        let mut form = hidden_inputs(&html);
        form.push(("user".into(), email.into()));
        let action = base.join("/demo-issuer/authorize").expect("url");
        self.client
            .post(action)
            .form(&form)
            .send()
            .await
            .expect("authorize")
    }

    /// `{ viewer { … } }` over the session cookie, from the portal's own origin.
    pub async fn viewer(&self, host: &str) -> GraphqlResponse {
        self.graphql(
            host,
            "{ viewer { user { email } tenant { slug } roles } }",
            Some(&format!("http://{host}:{}", self.port)),
            false,
        )
        .await
    }

    /// A POST to `/graphql` with the session cookie, an optional `Origin` and optionally the
    /// CSRF header.
    pub async fn graphql(
        &self,
        host: &str,
        query: &str,
        origin: Option<&str>,
        csrf_header: bool,
    ) -> GraphqlResponse {
        let mut headers = Vec::new();
        if let Some(origin) = origin {
            headers.push(("origin", origin));
        }
        if csrf_header {
            headers.push(("x-portico-csrf", "1"));
        }
        let url = self.url(host, "/graphql");
        post_graphql(&self.client, &url, &headers, &json!({ "query": query })).await
    }

    /// The session cookie for a portal, as a `Cookie` header value.
    pub fn cookie(&self, host: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&self.url(host, "/")).expect("url");
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
    }
}

/// The `name`/`value` pairs of a page's hidden inputs (the demo issuer's form).
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
    };
    html.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            if attr(tag, "type").as_deref() != Some("hidden") {
                return None;
            }
            Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
        })
        .collect()
}
