//! The server: `Application::build(config)` → `port()` → `run_until_stopped()`, and the one
//! `router()` factory that `main` and the tests share.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use portico_search::{Indexer, IndexerOptions, SearchOptions, SearchService};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer, SessionStore};

use portico_policies::Policies;
use portico_resolvers::{SchemaOptions, Schemas};
use portico_store::{PgLogin, SeedOutcome, Store, StoreOptions};
use serde_json::json;
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::Auth;
use crate::config::Config;
use crate::demo;
use crate::demo::DemoIssuer;
use crate::portal::SharedDirectory;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub directory: SharedDirectory,
    /// The schema with and without the guard (`portico_resolvers::Schemas`).
    pub schemas: Arc<Schemas>,
    pub auth: Arc<Auth>,
    /// The running policy; SIGHUP loads it again.
    pub policies: Arc<Policies>,
    /// Only in demo mode.
    pub demo_issuer: Option<Arc<DemoIssuer>>,
    /// The tenants' search indexes; the indexer task keeps them current.
    pub search: Arc<SearchService>,
    /// Parsed GraphQL documents by query text (`graphql::Documents`).
    pub documents: Arc<crate::graphql::Documents>,
}

impl AppState {
    /// The search indexer over this state's store, indexes and directory.
    pub fn indexer(&self) -> Indexer {
        let directory = self.directory.clone();
        Indexer::new(
            self.store.clone(),
            self.search.clone(),
            Arc::new(move || directory.current()),
            IndexerOptions {
                poll: std::time::Duration::from_millis(self.config.search.poll_ms.max(10)),
                ..IndexerOptions::default()
            },
        )
    }
}

/// The routes and layers; no listener, so tests can also drive it in-process.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.request_timeout_seconds);
    let mut app = Router::new()
        .merge(crate::graphql::router())
        .merge(crate::auth::router())
        .merge(demo::router(&state))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz));
    if state.config.introspection() {
        app = app.route("/graphiql", get(graphiql));
    }
    let app = app
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(state.config.graphql.max_body_bytes))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let request_id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        request_id = %request_id,
                        tenant = tracing::field::Empty,
                        user = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(
                    |response: &Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = response.status().as_u16(),
                            latency_ms = latency.as_millis() as u64,
                            "request done"
                        );
                    },
                ),
        );
    // Outside the request span: tower-sessions opens a span of its own ("call"), and handlers
    // must see the request span as the current one to record `tenant` and `user` in it.
    with_sessions(app, &state)
        // Outermost: the id exists before the span that records it.
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Server-side sessions on the same database; the cookie is `HttpOnly`, `SameSite=Lax`, and
/// `Secure` outside demo mode; a session ends after the idle time without requests.
fn with_sessions(app: Router<AppState>, state: &AppState) -> Router<AppState> {
    fn layer<S: SessionStore + Clone>(
        app: Router<AppState>,
        store: S,
        config: &Config,
    ) -> Router<AppState> {
        let idle = tower_sessions::cookie::time::Duration::seconds(
            config.auth.session_idle_seconds as i64,
        );
        app.layer(
            SessionManagerLayer::new(store)
                .with_name("portico_session")
                .with_http_only(true)
                .with_same_site(SameSite::Lax)
                .with_secure(config.secure_cookies())
                .with_expiry(Expiry::OnInactivity(idle)),
        )
    }
    match state.store.session_store() {
        portico_store::SessionStore::Sqlite(s) => layer(app, s, &state.config),
        portico_store::SessionStore::Postgres(s) => layer(app, s, &state.config),
    }
}

async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.readiness().await {
        Ok(r) if r.is_ready() => {
            axum::Json(json!({ "status": "ready", "migrations": { "applied": r.applied, "expected": r.expected } }))
                .into_response()
        }
        Ok(r) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "migrations pending", "migrations": { "applied": r.applied, "expected": r.expected } })),
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "database unreachable" }))).into_response()
        }
    }
}

async fn graphiql() -> Html<String> {
    Html(
        async_graphql::http::GraphiQLSource::build()
            .endpoint("/graphql")
            .title("Portico GraphiQL")
            .finish(),
    )
}

async fn not_found() -> crate::error::WebError {
    crate::error::WebError::NotFound("no such route".into())
}

/// What start-up did with the data, for the banner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataState {
    Seeded { statements: usize, millis: u128 },
    Reused { version: String },
    NotDemo,
}

/// A built server bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    data: DataState,
    login: Option<PgLogin>,
}

impl Application {
    /// Connects and migrates the database, seeds the demo data when asked, loads the tenant
    /// directory, builds the schema and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        if config.database_url.is_none() {
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                anyhow::anyhow!("data_dir: cannot create {}: {e}", config.data_dir.display())
            })?;
        }
        let store = connect(&config).await?;
        store.migrate().await?;
        let login = check_login(&store, &config).await?;
        let data = if config.demo {
            let started = Instant::now();
            match store.provide_demo().await? {
                SeedOutcome::Seeded { statements } => DataState::Seeded {
                    statements,
                    millis: started.elapsed().as_millis(),
                },
                SeedOutcome::AlreadySeeded { version } => DataState::Reused { version },
            }
        } else {
            DataState::NotDemo
        };
        // The version first: the directory read after it holds every write it counts.
        let version = store.versions("").await?.directory;
        let directory = SharedDirectory::new(store.load_directory().await?, version);
        let schemas = portico_resolvers::schemas(&SchemaOptions {
            limits: portico_resolvers::limits::Limits {
                max_depth: config.graphql.max_depth,
                max_selections: config.graphql.max_selections,
                max_aliases: config.graphql.max_aliases,
                max_root_fields: config.graphql.max_root_fields,
                introspection: config.introspection(),
            },
            max_complexity: config.graphql.max_complexity,
        });
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("listen: cannot bind {}: {e}", config.listen))?;
        // The demo issuer never runs outside demo mode.
        let demo_issuer = config.demo.then(|| {
            let issuer = DemoIssuer::new(&config.data_dir);
            let mut own = listener.local_addr().unwrap_or(config.listen);
            if own.ip().is_unspecified() {
                own.set_ip(if own.is_ipv4() {
                    std::net::Ipv4Addr::LOCALHOST.into()
                } else {
                    std::net::Ipv6Addr::LOCALHOST.into()
                });
            }
            issuer.set_self_url(format!("http://{own}"));
            issuer
        });
        if let Some(issuer) = &demo_issuer {
            // Creates the signing key on the first start, so `portico token` and the server
            // agree from the beginning.
            issuer.keys.jwks()?;
        }
        let auth = Arc::new(Auth::new(&config, demo_issuer.clone())?);
        let policies = Arc::new(
            Policies::load(config.policy_source())
                .map_err(|e| anyhow::anyhow!("policy_dir: {e}"))?,
        );
        let search = Arc::new(SearchService::new(
            config.data_dir.join("search"),
            SearchOptions {
                open_indexes: config.search.open_indexes,
                writers: config.search.writers,
                result_cache_entries: config.search.result_cache_entries,
                result_cache_bytes: config.search.result_cache_mib << 20,
                ..SearchOptions::default()
            },
        ));
        let state = AppState {
            search,
            documents: Arc::new(crate::graphql::Documents::new(256)),
            config: Arc::new(config),
            store,
            directory,
            schemas: Arc::new(schemas),
            auth,
            policies,
            demo_issuer,
        };
        Ok(Application {
            router: router(state.clone()),
            listener,
            state,
            data,
            login,
        })
    }

    /// On PostgreSQL, who the server logs in as and whether that role could leave row-level
    /// security (checked at start).
    pub fn database_login(&self) -> Option<&PgLogin> {
        self.login.as_ref()
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn data_state(&self) -> &DataState {
        &self.data
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let sweeper = tokio::spawn(sweep_expired_sessions(store.clone()));
        let reloader = tokio::spawn(reload_policy_on_sighup(self.state.policies.clone()));
        let indexer = tokio::spawn(self.state.indexer().run(std::future::pending()));
        let expiry = tokio::spawn(expire_delegations(self.state.clone()));
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await;
        sweeper.abort();
        reloader.abort();
        indexer.abort();
        expiry.abort();
        served?;
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// SIGHUP loads the policy again, atomically; a policy that fails to load leaves the running
/// one in place, and the log says why.
async fn reload_policy_on_sighup(policies: Arc<Policies>) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; policy reload is off");
            return;
        };
        while hangups.recv().await.is_some() {
            match policies.reload() {
                Ok(()) => tracing::info!(target: "portico::authz", "policy reloaded"),
                Err(err) => {
                    tracing::error!(target: "portico::authz", error = %err, "policy reload failed; the running policy stays")
                }
            }
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await;
}

/// How often the delegation expiry job looks for delegations past their end and requests past
/// their 90 days. A delegation past its end grants nothing even before the job writes it
/// (`Delegation::is_active` checks the time); the job makes the end a recorded, audited event.
const DELEGATION_EXPIRY_EVERY: Duration = Duration::from_secs(60);

/// Expires, lapses and auto-extends delegations on time (`Store::expire_delegations`), each
/// transition in its own transaction with its audit row and outbox message.
async fn expire_delegations(state: AppState) {
    let mut every = tokio::time::interval(DELEGATION_EXPIRY_EVERY);
    loop {
        every.tick().await;
        let all = state.directory.current().scope_of_all();
        match state
            .store
            .expire_delegations(&all, chrono::Utc::now())
            .await
        {
            Ok(changed) => {
                for d in changed {
                    tracing::info!(tenant = %d.customer_id, delegation = %d.id, status = %d.status, "delegation reached its end");
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "delegation expiry pass failed; retried on the next")
            }
        }
    }
}

/// Deletes expired session rows now and then; an expired session is refused on read anyway.
async fn sweep_expired_sessions(store: Store) {
    use tower_sessions::ExpiredDeletion;
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        let result = match store.session_store() {
            portico_store::SessionStore::Sqlite(s) => s.delete_expired().await,
            portico_store::SessionStore::Postgres(s) => s.delete_expired().await,
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not delete expired sessions");
        }
    }
}

/// On PostgreSQL, checks the role the server logs in as (DESIGN section 3, fences in depth):
/// its connections switch to the runtime role, but any statement could switch back to the
/// login role. A login that could leave row-level security from there (a superuser, the
/// tables' owner, …) is fine for the demo and the tests, and warned about; with
/// `database.require_dedicated_login` it stops start-up.
async fn check_login(store: &Store, config: &Config) -> anyhow::Result<Option<PgLogin>> {
    let Some(login) = store.pg_login().await? else {
        return Ok(None);
    };
    if !login.reaches_runtime_role {
        anyhow::bail!("database_url: {}", login.not_a_member());
    }
    match &login.escape {
        None => tracing::info!(
            login = %login.user,
            runtime_role = %login.runtime_role,
            mode = "dedicated",
            "PostgreSQL: serving as a dedicated login role; statements cannot leave row-level security"
        ),
        Some(escape) if config.database.require_dedicated_login => anyhow::bail!(
            "database.require_dedicated_login: the server logs in to PostgreSQL as {}, and {escape}; \
             serve with a login role that is a member of {} and nothing else (README, \
             \"Production database roles\")",
            login.user,
            login.runtime_role
        ),
        Some(escape) => tracing::warn!(
            login = %login.user,
            runtime_role = %login.runtime_role,
            mode = "privileged",
            "PostgreSQL: the server logs in as {}, and {escape}: SQL injected into any statement \
             could RESET ROLE and leave row-level security. Fine for the demo and the tests; in \
             production serve with a dedicated login role (README, \"Production database \
             roles\") and set database.require_dedicated_login = true",
            login.user
        ),
    }
    Ok(Some(login))
}

/// The store's settings from the configuration.
pub fn store_options(config: &Config) -> StoreOptions {
    StoreOptions {
        max_connections: config.database.max_connections,
        runtime_role: config.database.runtime_role.clone(),
        page_cache_entries: config.catalog.page_cache_entries,
        page_cache_bytes: config.catalog.page_cache_mib << 20,
    }
}

pub async fn connect(config: &Config) -> anyhow::Result<Store> {
    if config.database_url.is_none() {
        // The embedded database lives in the data dir: `migrate` and `seed` on a fresh
        // checkout create it, as `serve` does.
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!("data_dir: cannot create {}: {e}", config.data_dir.display())
        })?;
    }
    let url = config.database_url();
    Store::connect(&url, &store_options(config))
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "database_url: cannot open {}: {e}",
                portico_store::redact_url(&url)
            )
        })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested, finishing in-flight requests");
}
