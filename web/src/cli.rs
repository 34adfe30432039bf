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
        /// The demo dataset (tenants, users, grants, catalog, prices). Idempotent.
        #[arg(long, required = true)]
        demo: bool,
    },
    /// Print the GraphQL schema (SDL), as committed in schema/portico.graphql.
    Schema,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
            store.migrate().await?;
            let r = store.readiness().await?;
            println!("migrations applied: {} of {}", r.applied, r.expected);
            Ok(())
        }
        Command::Seed { .. } => {
            let store = crate::app::connect(&config).await?;
            store.migrate().await?;
            match store.seed_demo().await? {
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
        Command::Schema => unreachable!("handled before the runtime starts"),
    }
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
    }
    tracing::info!(port, demo = config.demo, "serving");
    app.run_until_stopped().await?;
    Ok(())
}
