//! Admin mutations benchmark (reports, never asserts): mutations per second with the audit chain
//! and without it, four tenants in parallel.
//!
//! The server is the real `portico` application in this process (demo mode, default settings)
//! over a fresh database with the demo dataset: on PostgreSQL when `PORTICO_BENCH_PG` names a
//! server (a database of its own, dropped at the end), and on SQLite in a temporary directory.
//! Four admins, each in their own tenant (so four audit chains: northwind's and contoso's
//! reseller admins, alpine's and harbor's customer admins), each drive `ADMIN_BENCH_CLIENTS`
//! concurrent clients over HTTP with bearer tokens. A client repeats invite a user → change
//! their roles (with `expectedVersion`) → deactivate → reactivate → change the roles back, so
//! one mutation in five inserts a user and the others update one; every one is one transaction
//! with its audit row and its outbox message.
//!
//! Phases of the same load, by default audit on, off, on again (A-B-A, so drift on a noisy
//! machine shows as a difference between the two "on" phases; `ADMIN_BENCH_ORDER=off,on,off`
//! turns it round), each `ADMIN_BENCH_WARMUP_SECS` of warm-up and then `ADMIN_BENCH_SECS`
//! measured, after one unmeasured second that warms the callers' policy scopes and caches. "Off" is `set_audit_for_benchmarks(false)`:
//! the appends are skipped (no tenant row lock, no read of the chain's last row, no insert);
//! the outbox messages stay. Every answer must carry no error: errors are counted and the first
//! ones printed, since a refusal would be a bug of the benchmark. On PostgreSQL a sampler reads
//! `pg_stat_activity` every 20 ms: the server's backends waiting on a lock, and in which
//! statements.
//!
//!   PORTICO_BENCH_PG=postgres://postgres@127.0.0.1:5432 cargo run --release -p portico-bench --bin admin
//!   ADMIN_BENCH_SECS=10 ADMIN_BENCH_WARMUP_SECS=2 ADMIN_BENCH_CLIENTS=4 (per tenant) \
//!   ADMIN_BENCH_ORDER=on,off,on ADMIN_BENCH_SQLITE=0 (skips SQLite) …

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portico::{Application, Config};
use portico_bench::{env_u64, percentile};
use portico_store::seed::demo_id;
use portico_store::{Store, TenantScope, set_audit_for_benchmarks};
use serde_json::{Value, json};
use sqlx::Connection;

const INVITE: &str =
    "mutation($input: InviteUserInput!) { inviteUser(input: $input) { user { id version } } }";
const ROLES: &str = "mutation($input: UpdateUserRolesInput!) { updateUserRoles(input: $input) { user { id version } } }";
const DEACTIVATE: &str =
    "mutation($input: UserIdInput!) { deactivateUser(input: $input) { user { id version } } }";
const REACTIVATE: &str =
    "mutation($input: UserIdInput!) { reactivateUser(input: $input) { user { id version } } }";

/// One tenant's admin: who, on which portal, the tenant, the two roles their clients toggle.
struct Admin {
    email: &'static str,
    host: &'static str,
    tenant: &'static str,
    roles: [&'static str; 2],
}

const ADMINS: [Admin; 4] = [
    Admin {
        email: "admin@northwind.test",
        host: "northwind.localhost",
        tenant: "northwind",
        roles: ["SUPPORT", "PRICING_MANAGER"],
    },
    Admin {
        email: "admin@contoso.test",
        host: "contoso.localhost",
        tenant: "contoso",
        roles: ["SUPPORT", "PRICING_MANAGER"],
    },
    Admin {
        email: "admin@alpine.test",
        host: "northwind.localhost",
        tenant: "alpine-dealers",
        roles: ["BUYER", "VIEWER"],
    },
    Admin {
        email: "admin@harbor.test",
        host: "contoso.localhost",
        tenant: "harbor-tools",
        roles: ["BUYER", "VIEWER"],
    },
];

struct Settings {
    warmup: Duration,
    measured: Duration,
    clients: usize,
    /// Audit on (true) or off in each phase, in order.
    order: Vec<bool>,
}

/// What one client saw in the measured window.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: usize,
    first_errors: Vec<String>,
}

/// One phase's figures.
struct Phase {
    name: String,
    audit: bool,
    mutations: usize,
    per_second: f64,
    per_tenant: Vec<f64>,
    p50: Duration,
    p99: Duration,
    max: Duration,
    errors: usize,
    first_errors: Vec<String>,
    audit_rows: usize,
    /// PostgreSQL only.
    waits: Option<Waits>,
}

/// The running server: where to POST, its store, tokens for the four admins, how to stop it.
struct Server {
    url: String,
    store: Store,
    tokens: Vec<String>,
    client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
    pool: u32,
}

async fn start(database_url: Option<String>, data_dir: &std::path::Path) -> anyhow::Result<Server> {
    let config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.to_owned(),
        database_url,
        demo: true,
        ..Config::default()
    };
    let pool = config.database.max_connections;
    let app = Application::build(config).await?;
    let url = format!("http://127.0.0.1:{}/graphql", app.port());
    let store = app.state().store.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        stopped.await.ok();
    }));
    let keys = portico::demo_issuer::DemoKeys::in_data_dir(data_dir);
    let all = store.load_directory().await?.scope_of_all();
    let mut tokens = Vec::new();
    for admin in &ADMINS {
        let user = store
            .user_by_email(&all, admin.email)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no demo user {}", admin.email))?;
        // Long enough for any run; the benchmark ends before.
        tokens.push(format!(
            "Bearer {}",
            keys.access_token(&user, Duration::from_secs(24 * 3600))?
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    Ok(Server {
        url,
        store,
        tokens,
        client,
        stop,
        served,
        pool,
    })
}

/// One mutation: Ok(the user's id and version) or Err(what went wrong).
async fn mutate(
    server: &Server,
    admin: usize,
    query: &str,
    input: Value,
) -> Result<(Value, i64), String> {
    let response = server
        .client
        .post(&server.url)
        .header("host", ADMINS[admin].host)
        .header("authorization", &server.tokens[admin])
        .json(&json!({ "query": query, "variables": { "input": input } }))
        .send()
        .await
        .map_err(|e| format!("request: {e}"))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| format!("body: {e}"))?;
    if !status.is_success() || !body["errors"].is_null() {
        return Err(format!("{status} {}", body));
    }
    let user = body["data"]
        .as_object()
        .and_then(|d| d.values().next())
        .map(|payload| payload["user"].clone())
        .unwrap_or_default();
    match (user.get("id"), user["version"].as_i64()) {
        (Some(id), Some(version)) => Ok((id.clone(), version)),
        _ => Err(format!("no user in {body}")),
    }
}

/// One client's loop until `end`; what it measured from `from` on.
async fn client(
    server: Arc<Server>,
    admin: usize,
    client: usize,
    phase: String,
    from: Instant,
    end: Instant,
) -> Tally {
    let a = &ADMINS[admin];
    let mut tally = Tally::default();
    let mut user: Option<(Value, i64)> = None;
    let mut i = 0usize;
    loop {
        let started = Instant::now();
        if started >= end {
            return tally;
        }
        let step = if user.is_none() { 0 } else { i % 5 };
        let (query, input) = match (step, &user) {
            (1 | 4, Some((id, version))) => (
                ROLES,
                json!({ "id": id, "roles": [a.roles[usize::from(step == 1)]], "expectedVersion": version }),
            ),
            (2, Some((id, _))) => (DEACTIVATE, json!({ "id": id })),
            (3, Some((id, _))) => (REACTIVATE, json!({ "id": id })),
            _ => {
                i = 0;
                (
                    INVITE,
                    json!({ "email": format!("{}-{phase}-{client}-{}@bench.test", a.tenant, next_number()),
                            "name": "Bench User", "roles": [a.roles[0]] }),
                )
            }
        };
        let result = mutate(&server, admin, query, input).await;
        let took = started.elapsed();
        let counted = started >= from;
        match result {
            Ok(next) => {
                user = Some(next);
                if counted {
                    tally.latencies.push(took);
                }
            }
            Err(e) => {
                user = None;
                if counted {
                    tally.errors += 1;
                    if tally.first_errors.len() < 3 {
                        tally.first_errors.push(format!("{}: {e}", a.email));
                    }
                }
            }
        }
        i += 1;
    }
}

/// A number that keeps invitation emails unique in the process.
fn next_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Audit rows of the four tenants' chains.
async fn audit_rows(store: &Store) -> anyhow::Result<usize> {
    let mut rows = 0;
    for a in &ADMINS {
        let id = demo_id("tenant", a.tenant);
        rows += store
            .audit_entries(&TenantScope::single(id.clone()), &id)
            .await?
            .len();
    }
    Ok(rows)
}

/// Means over the samples of `pg_stat_activity` during a phase.
#[derive(Clone)]
struct Waits {
    /// Backends waiting on a lock.
    waiting: f64,
    /// Backends running a statement (waiting or not).
    active: f64,
    /// The statements waiting on a lock (their first words), with their mean count.
    statements: Vec<(String, f64)>,
}

/// One backend in `pg_stat_activity`: state, wait event type, the statement's first words.
type Activity = (Option<String>, Option<String>, Option<String>);

/// Samples the server's backends in `database` every 20 ms until `done`.
async fn sample_waits(url: String, database: String, done: Arc<AtomicBool>) -> Option<Waits> {
    let mut conn = sqlx::PgConnection::connect(&url).await.ok()?;
    let (mut waiting, mut active, mut samples) = (0i64, 0i64, 0i64);
    let mut statements: HashMap<String, i64> = HashMap::new();
    while !done.load(Ordering::Relaxed) {
        let rows: Result<Vec<Activity>, _> = sqlx::query_as(
            "SELECT state, wait_event_type, left(regexp_replace(query, '\\s+', ' ', 'g'), 40) \
                 FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&database)
        .fetch_all(&mut conn)
        .await;
        if let Ok(rows) = rows {
            samples += 1;
            for (state, wait, query) in rows {
                active += i64::from(state.as_deref() == Some("active"));
                if wait.as_deref() == Some("Lock") {
                    waiting += 1;
                    *statements.entry(query.unwrap_or_default()).or_default() += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    conn.close().await.ok();
    let n = samples.max(1) as f64;
    let mut statements: Vec<(String, f64)> = statements
        .into_iter()
        .map(|(q, c)| (q, c as f64 / n))
        .collect();
    statements.sort_by(|x, y| y.1.total_cmp(&x.1));
    Some(Waits {
        waiting: waiting as f64 / n,
        active: active as f64 / n,
        statements,
    })
}

async fn phase(
    server: &Arc<Server>,
    settings: &Settings,
    name: String,
    audit: bool,
    pg: Option<(&str, &str)>,
) -> anyhow::Result<Phase> {
    set_audit_for_benchmarks(audit);
    let rows_before = audit_rows(&server.store).await?;
    let start = Instant::now();
    let from = start + settings.warmup;
    let end = from + settings.measured;
    let done = Arc::new(AtomicBool::new(false));
    let sampler = pg.map(|(url, database)| {
        let (url, database, done) = (url.to_owned(), database.to_owned(), done.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(from.into()).await;
            sample_waits(url, database, done).await
        })
    });
    let mut clients = Vec::new();
    for admin in 0..ADMINS.len() {
        for c in 0..settings.clients {
            clients.push((
                admin,
                tokio::spawn(client(server.clone(), admin, c, name.clone(), from, end)),
            ));
        }
    }
    let mut latencies = Vec::new();
    let mut per_tenant = vec![0usize; ADMINS.len()];
    let (mut errors, mut first_errors) = (0, Vec::new());
    for (admin, handle) in clients {
        let tally = handle.await?;
        per_tenant[admin] += tally.latencies.len();
        latencies.extend(tally.latencies);
        errors += tally.errors;
        first_errors.extend(tally.first_errors);
    }
    done.store(true, Ordering::Relaxed);
    let waits = match sampler {
        Some(s) => s.await?,
        None => None,
    };
    set_audit_for_benchmarks(true);
    let audit_rows = audit_rows(&server.store).await? - rows_before;
    latencies.sort();
    let secs = settings.measured.as_secs_f64();
    Ok(Phase {
        name,
        audit,
        mutations: latencies.len(),
        per_second: latencies.len() as f64 / secs,
        per_tenant: per_tenant.iter().map(|n| *n as f64 / secs).collect(),
        p50: percentile(&latencies, 50.0),
        p99: percentile(&latencies, 99.0),
        max: latencies.last().copied().unwrap_or_default(),
        errors,
        first_errors,
        audit_rows,
        waits,
    })
}

async fn backend(
    title: &str,
    database_url: Option<String>,
    pg: Option<(&str, &str)>,
    settings: &Settings,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = start(database_url, dir.path()).await?;
    let pool = server.pool;
    let server = Arc::new(server);
    // The first requests of each caller compute its policy scopes and fill the caches: one
    // second of the same load first, not counted.
    let prime = Settings {
        warmup: Duration::ZERO,
        measured: Duration::from_secs(1),
        clients: settings.clients,
        order: Vec::new(),
    };
    let primed = phase(&server, &prime, "prime".into(), true, None).await?;
    let mut phases = Vec::new();
    let (mut ons, mut offs) = (0, 0);
    for &audit in &settings.order {
        let name = if audit {
            ons += 1;
            format!("A{ons}")
        } else {
            offs += 1;
            format!("B{offs}")
        };
        phases.push(phase(&server, settings, name, audit, pg).await?);
    }
    let Ok(server) = Arc::try_unwrap(server) else {
        anyhow::bail!("a client outlived its phase");
    };
    server.stop.send(()).ok();
    server.served.await??;

    println!("## {title}");
    println!();
    println!(
        "4 tenants × {} clients, database pool {pool} (the default), {} s warm-up then {} s measured per phase.",
        settings.clients,
        settings.warmup.as_secs(),
        settings.measured.as_secs()
    );
    println!();
    println!(
        "Priming (the same load for 1 s with audit on, not counted, so that every caller's \
         policy scopes and caches are warm): {} mutations, {} errors, slowest {:.0} ms.",
        primed.mutations,
        primed.errors,
        primed.max.as_secs_f64() * 1e3
    );
    println!();
    let lock_column = pg.is_some();
    let mut header =
        "| phase | audit | mutations | mutations/s | per tenant (nw / co / alpine / harbor) \
         | p50 | p99 | errors | audit rows added (warm-up included) |"
            .to_owned();
    let mut rule = "|---|---|---:|---:|---|---:|---:|---:|---:|".to_owned();
    if lock_column {
        header.push_str(" backends waiting on a lock / active (mean) |");
        rule.push_str("---|");
    }
    println!("{header}");
    println!("{rule}");
    for p in &phases {
        let tenants: Vec<String> = p.per_tenant.iter().map(|t| format!("{t:.0}")).collect();
        let mut line = format!(
            "| {} | {} | {} | {:.0} | {} | {:.1} ms | {:.1} ms | {} | {} |",
            p.name,
            if p.audit { "on" } else { "off" },
            p.mutations,
            p.per_second,
            tenants.join(" / "),
            p.p50.as_secs_f64() * 1e3,
            p.p99.as_secs_f64() * 1e3,
            p.errors,
            p.audit_rows,
        );
        if let Some(w) = &p.waits {
            line.push_str(&format!(" {:.1} / {:.1} |", w.waiting, w.active));
        } else if lock_column {
            line.push_str(" - |");
        }
        println!("{line}");
    }
    println!();
    let mean = |audit: bool, f: &dyn Fn(&Phase) -> f64| {
        let chosen: Vec<f64> = phases.iter().filter(|p| p.audit == audit).map(f).collect();
        chosen.iter().sum::<f64>() / chosen.len().max(1) as f64
    };
    let on = mean(true, &|p| p.per_second);
    let off = mean(false, &|p| p.per_second);
    let p50_on = mean(true, &|p| p.p50.as_secs_f64());
    let p50_off = mean(false, &|p| p.p50.as_secs_f64());
    // Drift: the last phase of a kind against the first of the same kind.
    let drift = |audit: bool| {
        let same: Vec<&Phase> = phases.iter().filter(|p| p.audit == audit).collect();
        match (same.first(), same.last()) {
            (Some(first), Some(last)) if same.len() > 1 => Some(format!(
                "{} differs from {} by {:+.1} %",
                last.name,
                first.name,
                (last.per_second - first.per_second) / first.per_second * 100.0
            )),
            _ => None,
        }
    };
    let drifts: Vec<String> = [drift(true), drift(false)].into_iter().flatten().collect();
    println!(
        "Off ÷ on: **{:.2}** ({off:.0} against {on:.0} mutations/s, the means of the phases of each kind{}). \
         p50 on ÷ off: {:.2}.",
        off / on,
        if drifts.is_empty() {
            String::new()
        } else {
            format!("; drift: {}", drifts.join(", "))
        },
        p50_on / p50_off,
    );
    println!();
    if lock_column {
        println!(
            "Statements waiting on a lock (mean backends, the three most frequent per phase):"
        );
        println!();
        for p in &phases {
            if let Some(w) = &p.waits {
                let top: Vec<String> = w
                    .statements
                    .iter()
                    .take(3)
                    .map(|(q, n)| format!("`{q}…` {n:.1}"))
                    .collect();
                println!("- {}: {}", p.name, top.join(", "));
            }
        }
        println!();
    }
    let errors: Vec<&String> = std::iter::once(&primed)
        .chain(&phases)
        .flat_map(|p| &p.first_errors)
        .collect();
    if !errors.is_empty() {
        println!("First errors (a bug of the benchmark):");
        println!();
        for e in errors.iter().take(6) {
            println!("- `{e}`");
        }
        println!();
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let settings = Settings {
        warmup: Duration::from_secs(env_u64("ADMIN_BENCH_WARMUP_SECS", 2)),
        measured: Duration::from_secs(env_u64("ADMIN_BENCH_SECS", 10).max(1)),
        clients: env_u64("ADMIN_BENCH_CLIENTS", 4).max(1) as usize,
        order: std::env::var("ADMIN_BENCH_ORDER")
            .unwrap_or_else(|_| "on,off,on".into())
            .split(',')
            .map(|p| match p.trim() {
                "on" => Ok(true),
                "off" => Ok(false),
                other => Err(anyhow::anyhow!(
                    "ADMIN_BENCH_ORDER: {other:?} is neither on nor off"
                )),
            })
            .collect::<anyhow::Result<_>>()?,
    };
    println!("# Admin mutations with and without audit");
    println!();
    println!(
        "The real server in this process (demo mode, default settings) over a fresh database with \
         the demo dataset; four admins, each in their own tenant (northwind, contoso, alpine-dealers, \
         harbor-tools: four audit chains), each with {} concurrent clients over loopback HTTP \
         (bearer tokens). A client repeats inviteUser → updateUserRoles (expectedVersion) → \
         deactivateUser → reactivateUser → updateUserRoles: one insert and four updates of a user \
         in five mutations, each one transaction with its audit row (on) or without it (off) and \
         its outbox message. Phases in this order: {}. Latencies are the client's round trips.",
        settings.clients,
        settings
            .order
            .iter()
            .map(|&on| if on { "on" } else { "off" })
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!();

    match std::env::var("PORTICO_BENCH_PG") {
        Ok(server_url) => {
            let name = format!("portico_bench_admin_{}", std::process::id());
            let mut admin = sqlx::PgConnection::connect(&server_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
                .execute(&mut admin)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await?;
            let mut url = reqwest::Url::parse(&server_url)?;
            url.set_path(&name);
            let url = url.to_string();
            let result = backend(
                "PostgreSQL",
                Some(url.clone()),
                Some((&url, &name)),
                &settings,
            )
            .await;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            admin.close().await.ok();
            result?;
        }
        Err(_) => {
            println!("## PostgreSQL");
            println!();
            println!("Skipped: set PORTICO_BENCH_PG (e.g. postgres://postgres@127.0.0.1:5432).");
            println!();
        }
    }
    if env_u64("ADMIN_BENCH_SQLITE", 1) != 0 {
        backend("SQLite", None, None, &settings).await?;
    }
    Ok(())
}
