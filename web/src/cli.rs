//! The `portico` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::app::{Application, DataState};
use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(
    name = "portico",
    version,
    about = "GraphQL backend-for-frontend for white-label partner portals"
)]
pub struct Cli {
    /// Configuration file (default: ./portico.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Database: sqlite:PATH or postgres://… (default: SQLite under the data dir).
    /// Also PORTICO_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Where the embedded database and search indexes live (default: ./data).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the portals' GraphQL API (migrates the database first).
    Serve {
        /// Seed and serve the demo tenants, users and catalog.
        #[arg(long)]
        demo: bool,
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Apply pending database migrations.
    Migrate,
    /// Write a dataset into the database.
    Seed {
        /// The demo dataset (tenants, users, delegations, catalog, prices). Idempotent.
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Rebuild search indexes from the database (all catalog owners, or one). Safe while a
    /// server runs: it writes under the index's writer lock and the server sees the result
    /// within a second.
    Reindex {
        /// Only this tenant (its slug, e.g. northwind).
        #[arg(long, value_name = "SLUG")]
        tenant: Option<String>,
    },
    /// Print the GraphQL schema (SDL), as committed in schema/portico.graphql.
    Schema,
    /// Check, test and explain the authorization policy.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Verify or export the tenants' audit chains (docs/AUDIT.md).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print a bearer token for a demo user, signed with the demo issuer's key (no server
    /// needed): curl -H "Authorization: Bearer $(portico token --user buyer@alpine.test)" …
    Token {
        /// The demo user's email, e.g. buyer@alpine.test.
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// Lifetime in minutes.
        #[arg(long, value_name = "MINUTES", default_value_t = 60)]
        ttl: u64,
        /// Start a new signing key first (the previous one stays published).
        #[arg(long)]
        rotate_key: bool,
    },
    /// Start a new key for signing service-account tokens (`<data_dir>/issuer/keys.json`). The
    /// previous key stays published, so tokens already issued keep working; servers sharing
    /// the data dir sign with the new key from their next token on.
    RotateServiceKey,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Recompute every tenant's chain (or one's): a line per tenant with its rows and OK, or
    /// the first broken row and what is wrong with it. Exits non-zero when a chain is broken.
    Verify {
        /// Only this tenant (its slug, e.g. alpine-dealers).
        #[arg(long, value_name = "SLUG")]
        tenant: Option<String>,
    },
    /// Write one tenant's chain to stdout as JSON lines, oldest first: every field the hash
    /// covers, and the hash, to verify offline (docs/AUDIT.md).
    Export {
        /// The tenant's slug, e.g. alpine-dealers.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Check that a policy file or directory loads (run it before sending SIGHUP).
    Check {
        /// A .polar file or a directory of them.
        path: PathBuf,
    },
    /// Run the policy test cases against the database's demo data.
    Test {
        /// Directory of *.yaml case files.
        #[arg(long, value_name = "DIR", default_value = "policies/cases")]
        cases: PathBuf,
    },
    /// Say whether a user may do something, and which rule decided.
    Explain {
        /// The user's email, e.g. rep-eu@northwind.test.
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// read, request, approve or revoke.
        #[arg(long, value_name = "ACTION")]
        action: String,
        /// KIND:NAME: tenant:SLUG, customer:SLUG, user:EMAIL, delegation:CUSTOMER>RESELLER,
        /// product:RESELLER/SKU, portal:SLUG, audit:SLUG.
        #[arg(long, value_name = "KIND:NAME")]
        resource: String,
        /// A field of the resource, e.g. users.
        #[arg(long, value_name = "FIELD")]
        field: Option<String>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Policy {
        command: PolicyCommand::Check { path },
    } = &cli.command
    {
        return match portico_policies::check(path) {
            Ok(()) => {
                println!("{}: the policy loads", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("portico: {}: {e}", path.display());
                ExitCode::FAILURE
            }
        };
    }
    if let Command::Schema = cli.command {
        print!("{}", portico_resolvers::sdl());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("portico: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portico: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut overrides = Overrides {
        data_dir: cli.data_dir.clone(),
        database_url: cli.database_url.clone(),
        ..Overrides::default()
    };
    if let Command::Serve { demo, listen } = &cli.command {
        overrides.listen = *listen;
        overrides.demo = demo.then_some(true);
    }
    let config = Config::load(cli.config.as_deref(), &overrides)?;
    crate::telemetry::init(&config.log);
    match cli.command {
        Command::Serve { .. } => serve(config).await,
        Command::Migrate => {
            let store = crate::app::connect(&config).await?;
            let r = store.migrate().await?;
            println!("migrations applied: {} of {}", r.applied, r.expected);
            Ok(())
        }
        Command::Seed { .. } => {
            let store = crate::app::connect(&config).await?;
            store.migrate().await?;
            match store.provide_demo().await? {
                portico_store::SeedOutcome::Seeded { statements } => {
                    println!("demo dataset written ({statements} rows)");
                }
                portico_store::SeedOutcome::AlreadySeeded { version } => {
                    println!(
                        "demo dataset already present (seed version {version}); nothing changed"
                    );
                }
            }
            Ok(())
        }
        Command::Reindex { tenant } => reindex(&config, tenant.as_deref()).await,
        Command::Policy { command } => policy(&config, command).await,
        Command::Audit { command } => crate::audit::run(&config, command).await,
        Command::Token {
            user,
            ttl,
            rotate_key,
        } => {
            let token = demo_token(&config, &user, ttl, rotate_key).await?;
            println!("{token}");
            Ok(())
        }
        Command::RotateServiceKey => {
            let issuer = crate::auth::ServiceIssuer::new(
                &config.data_dir,
                std::time::Duration::from_secs(config.auth.service_token_seconds),
            );
            let kid = issuer.keys().rotate()?;
            println!("new service-token signing key {kid} (the previous one stays published)");
            Ok(())
        }
        Command::Schema => unreachable!("handled before the runtime starts"),
    }
}

async fn policy(config: &Config, command: PolicyCommand) -> anyhow::Result<()> {
    use portico_policies::{CaseFile, Policies, ResourceRef};
    use portico_resolvers::cases::CaseWorld;
    let policies = Policies::load(config.policy_source())?;
    let authorizer = policies.current();
    // The cases are written against the demo dataset; `explain` may ask about any data.
    let needs_demo = matches!(command, PolicyCommand::Test { .. });
    let (store, temporary) = policy_store(config, needs_demo).await?;
    let world = CaseWorld::load(&store)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let result = match command {
        PolicyCommand::Check { .. } => unreachable!("handled before the runtime starts"),
        PolicyCommand::Test { cases } => {
            let files = CaseFile::load_dir(&cases)?;
            let report = world
                .run(&authorizer, &files)
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            for failure in &report.failures {
                println!("FAIL {failure}");
            }
            println!(
                "policy cases: {} run, {} passed, {} failed ({} files in {})",
                report.total,
                report.total - report.failures.len(),
                report.failures.len(),
                files.len(),
                cases.display()
            );
            if report.failures.is_empty() {
                Ok(())
            } else {
                Err(anyhow::anyhow!(
                    "{} policy cases fail",
                    report.failures.len()
                ))
            }
        }
        PolicyCommand::Explain {
            user,
            action,
            resource,
            field,
        } => {
            let resource_ref = ResourceRef::parse(&resource)
                .ok_or_else(|| anyhow::anyhow!("--resource: {resource:?} is not KIND:NAME"))?;
            let e = world
                .explain(&authorizer, &user, &action, &resource_ref, field.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!(e))?;
            let target = match &field {
                Some(f) => format!("{resource}.{f}"),
                None => resource.clone(),
            };
            println!(
                "{}: {user} {action} {target}",
                if e.decision.allowed { "ALLOW" } else { "DENY" }
            );
            println!("  reason:   {}", e.decision.reason);
            println!("  actor:    {}", e.actor);
            println!("  resource: {:?}", e.resource);
            for d in &e.delegations {
                println!("  delegation: {d}");
            }
            Ok(())
        }
    };
    store.close().await;
    drop(temporary);
    result
}

/// A directory of one command's own, removed when the command ends.
struct TemporaryDir(PathBuf);

impl Drop for TemporaryDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The database the `policy` commands read: the configured one when it holds what the command
/// needs (`test`: the demo dataset; `explain`: migrated data), else a demo database seeded for
/// this run in a temporary directory (the dataset is deterministic, so the answers are the
/// same). Nothing is created where the configured database would be.
async fn policy_store(
    config: &Config,
    needs_demo: bool,
) -> anyhow::Result<(portico_store::Store, Option<TemporaryDir>)> {
    use portico_store::{Contents, Store};
    let url = config.database_url();
    let options = crate::app::store_options(config);
    let opened = Store::connect_existing(&url, &options).await.map_err(|e| {
        anyhow::anyhow!(
            "database_url: cannot open {}: {e}",
            portico_store::redact_url(&url)
        )
    })?;
    let missing = match opened {
        None => "does not exist",
        Some(store) => {
            let missing = match store.contents().await? {
                Contents::Demo(_) => return Ok((store, None)),
                Contents::NoDemo if !needs_demo => return Ok((store, None)),
                Contents::NoDemo => "holds no demo dataset",
                Contents::Empty => "is not migrated",
            };
            store.close().await;
            missing
        }
    };
    let dir = TemporaryDir(
        std::env::temp_dir().join(format!("portico-policy-{}", uuid::Uuid::new_v4().simple())),
    );
    std::fs::create_dir_all(&dir.0)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.0.display()))?;
    let store = Store::connect(
        &format!("sqlite:{}", dir.0.join("portico.db").display()),
        &options,
    )
    .await?;
    store.migrate().await?;
    store.seed_demo().await?;
    eprintln!(
        "portico: the database {} {missing}: using a demo database seeded for this run in a \
         temporary directory (`portico seed --demo` writes one that stays)",
        portico_store::redact_url(&url)
    );
    Ok((store, Some(dir)))
}

/// A demo user's bearer token, as the demo issuer would issue it.
async fn demo_token(
    config: &Config,
    email: &str,
    ttl_minutes: u64,
    rotate_key: bool,
) -> anyhow::Result<String> {
    use portico_store::seed::DEMO_ISSUER;
    if ttl_minutes == 0 || ttl_minutes > 24 * 60 {
        anyhow::bail!("--ttl: must be 1 to 1440 minutes");
    }
    if config.database_url.is_none() && !config.data_dir.join("portico.db").exists() {
        anyhow::bail!(
            "no demo data in {}: run `portico serve --demo` (or `portico seed --demo`) first",
            config.data_dir.display()
        );
    }
    let store = crate::app::connect(config).await?;
    let directory = store.load_directory().await?;
    let all = directory.scope_of_all();
    let user = store
        .user_by_email(&all, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("--user: no user {email:?} in this database"))?;
    store.close().await;
    if user.issuer != DEMO_ISSUER {
        anyhow::bail!(
            "--user: {email} signs in with {}, not the demo issuer; get a token there",
            user.issuer
        );
    }
    if user.deactivated_at.is_some() {
        anyhow::bail!("--user: {email} is deactivated");
    }
    let keys = crate::demo::DemoKeys::in_data_dir(&config.data_dir);
    if rotate_key {
        let kid = keys.rotate()?;
        eprintln!("portico: new demo signing key {kid}");
    }
    Ok(keys.access_token(&user, std::time::Duration::from_secs(ttl_minutes * 60))?)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let where_ = match &config.database_url {
        Some(url) => portico_store::redact_url(url),
        None => config.data_dir.display().to_string(),
    };
    let app = Application::build(config.clone()).await?;
    let port = app.port();
    match app.data_state() {
        DataState::Seeded { statements, millis } => {
            println!(
                "portico: seeded the demo dataset in {where_} ({statements} rows, {millis} ms)"
            );
        }
        DataState::Reused { version } => {
            println!("portico: reusing the demo dataset in {where_} (seed version {version})");
        }
        DataState::NotDemo => {}
    }
    let host = config.listen.ip();
    println!("portico: listening on http://{host}:{port}");
    if config.demo {
        let directory = app.state().directory.current();
        println!("portico: demo portals (send the Host header, or open in a browser):");
        for domain in &directory.domains {
            println!("  http://{}:{port}/graphiql", domain.host);
        }
        println!("portico: demo users and examples at http://localhost:{port}/");
        println!(
            "portico: sign in at http://northwind.localhost:{port}/auth/login (pick a demo user)"
        );
        println!(
            "portico: a token for curl: portico token --user buyer@alpine.test --data-dir {}",
            config.data_dir.display()
        );
    }
    tracing::info!(port, demo = config.demo, "serving");
    app.run_until_stopped().await?;
    Ok(())
}

/// `portico reindex [--tenant SLUG]`: one line per tenant with what was indexed.
async fn reindex(config: &Config, only: Option<&str>) -> anyhow::Result<()> {
    let store = crate::app::connect(config).await?;
    store.migrate().await?;
    let directory = std::sync::Arc::new(store.load_directory().await?);
    let owners: Vec<(String, String)> = portico_search::Indexer::catalog_owners(&directory)
        .into_iter()
        .filter(|(_, slug)| only.is_none_or(|only| slug == only))
        .collect();
    if let Some(slug) = only
        && owners.is_empty()
    {
        anyhow::bail!("tenant: no catalog-owning tenant has the slug {slug:?}");
    }
    let search = std::sync::Arc::new(portico_search::SearchService::new(
        config.data_dir.join("search"),
        portico_search::SearchOptions::default(),
    ));
    let source = directory.clone();
    let indexer = portico_search::Indexer::new(
        store.clone(),
        search,
        std::sync::Arc::new(move || source.clone()),
        portico_search::IndexerOptions::default(),
    );
    for (id, slug) in owners {
        let started = std::time::Instant::now();
        let count = indexer
            .rebuild(&id)
            .await
            .map_err(|e| anyhow::anyhow!("{slug}: {e}"))?;
        println!(
            "{slug}: {count} listings indexed in {:.2} s",
            started.elapsed().as_secs_f64()
        );
    }
    store.close().await;
    Ok(())
}
