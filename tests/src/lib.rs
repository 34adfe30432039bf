//! `portico-tests`: the harness for end-to-end and repository tests.
//!
//! `TestDb` is a fresh database per test: a temporary SQLite file, or a new PostgreSQL database on
//! the server that `PORTICO_TEST_DATABASE_URL` (or `DATABASE_URL`) points at. `TestApp` starts
//! the real server on port 0 over such a database and talks HTTP to it.

use std::time::Duration;

use portico::{Application, Config};
use portico_store::{Store, StoreOptions};
use reqwest::StatusCode;
use serde_json::Value;
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
            ..Config::default()
        };
        tweak(&mut config);
        let app = Application::build(config)
            .await
            .expect("the application builds");
        let port = app.port();
        let store = app.state().store.clone();
        tokio::spawn(app.run_until(std::future::pending()));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
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
        self.graphql_with(host, serde_json::json!({ "query": query }))
            .await
    }

    pub async fn graphql_with(&self, host: &str, body: Value) -> GraphqlResponse {
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .header("host", host)
            .json(&body)
            .send()
            .await
            .expect("request");
        Self::read(response).await
    }

    pub async fn get(&self, host: &str, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path_and_query}", self.address))
            .header("host", host)
            .send()
            .await
            .expect("request")
    }

    pub async fn read(response: reqwest::Response) -> GraphqlResponse {
        let status = response.status();
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
            body,
        }
    }
}
