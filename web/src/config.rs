//! Configuration: demo defaults, then `portico.toml`, then `PORTICO_*` environment variables
//! (nested keys with `__`, e.g. `PORTICO_GRAPHQL__MAX_DEPTH=8`), then command-line flags.
//! A bad value stops start-up with a message naming the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// `Debug` is written by hand: `database_url` may hold a password, printed as `***`.
#[derive(Clone, Serialize, Deserialize)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Where the embedded database and the search indexes live.
    pub data_dir: PathBuf,
    /// `sqlite:PATH` or `postgres://…`; default: SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// Demo mode: seed the demo dataset and serve the demo pages.
    pub demo: bool,
    /// Seconds in-flight requests get to finish after SIGTERM or Ctrl-C, and the longest any one
    /// request may take.
    pub request_timeout_seconds: u64,
    pub log: LogConfig,
    pub database: DatabaseConfig,
    pub graphql: GraphqlConfig,
    pub auth: AuthConfig,
    /// A directory of `*.polar` files to run instead of the built-in policy (reloaded on SIGHUP).
    pub policy_dir: Option<PathBuf>,
    pub search: SearchConfig,
    pub catalog: CatalogConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured, so a new field cannot be left out of the output unnoticed.
        let Config {
            listen,
            data_dir,
            database_url,
            demo,
            request_timeout_seconds,
            log,
            database,
            graphql,
            auth,
            policy_dir,
            search,
            catalog,
        } = self;
        f.debug_struct("Config")
            .field("listen", listen)
            .field("data_dir", data_dir)
            .field("database_url", &redacted(database_url.as_deref()))
            .field("demo", demo)
            .field("request_timeout_seconds", request_timeout_seconds)
            .field("log", log)
            .field("database", database)
            .field("graphql", graphql)
            .field("auth", auth)
            .field("policy_dir", policy_dir)
            .field("search", search)
            .field("catalog", catalog)
            .finish()
    }
}

/// A database URL as `Debug` shows it: the password replaced.
fn redacted(url: Option<&str>) -> Option<String> {
    url.map(portico_store::redact_url)
}

/// The catalog's page cache (`Store::catalog_page`, and search's rows by id:
/// `Store::catalog_rows_by_ids`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogConfig {
    /// Catalog pages and search rows kept in memory under the catalog version they were read
    /// at; every request still checks the version. 0 turns the cache off.
    pub page_cache_entries: usize,
    /// What those pages may hold in memory in all, in MiB (about: their rows and text); a
    /// page of long descriptions counts for more than a short one.
    pub page_cache_mib: u64,
}

/// The search indexes under `<data_dir>/search/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SearchConfig {
    /// Tenant indexes kept open at once; others are opened on their next search.
    pub open_indexes: usize,
    /// Index writers at once (each takes 15 MB while it writes).
    pub writers: usize,
    /// How often the indexer reads the outbox when it found nothing, in milliseconds (this
    /// process's own writes wake it at once; the poll is for other processes' writes).
    pub poll_ms: u64,
    /// Search results kept per (index generation, visibility, request); 0 = off.
    pub result_cache_entries: usize,
    /// ... and what they may hold in memory in all, about.
    pub result_cache_mib: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthConfig {
    /// A signed-in browser session ends after this many seconds without a request...
    pub session_idle_seconds: u64,
    /// ...and this many seconds after sign-in in any case.
    pub session_absolute_seconds: u64,
    /// `Secure` session cookies and `https` callback URLs; default: on outside demo mode.
    pub secure_cookies: Option<bool>,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// A token with an unknown key id refetches the issuer's JWKS at most this often.
    pub jwks_refetch_seconds: u64,
    /// How long a fetched JWKS or discovery document is trusted without an unknown key id.
    pub jwks_ttl_seconds: u64,
    /// Lifetime of the tokens service accounts get at `POST /oauth/token` (60 to 3600).
    pub service_token_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter, e.g. `info,portico::authz=debug`; `RUST_LOG` wins when set.
    pub filter: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseConfig {
    /// Connections for queries (SQLite: readers; the one writer is extra). The data version
    /// reader keeps one more of its own.
    pub max_connections: u32,
    /// PostgreSQL role the server runs as (no BYPASSRLS, owns no table).
    pub runtime_role: String,
    /// PostgreSQL: refuse to serve when the URL's login role could leave row-level security
    /// (a superuser, BYPASSRLS, the tables' owner, or a member of one of them). Off by
    /// default, for the demo and the tests, which log in as a superuser; on in production.
    pub require_dedicated_login: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphqlConfig {
    /// Nesting of data fields (introspection has its own, fixed limit).
    pub max_depth: usize,
    /// The cost budget of one operation (declared costs: pages multiply by `first`).
    pub max_complexity: usize,
    /// Selections of one document once its fragments are expanded.
    pub max_selections: usize,
    /// Aliased fields of one document once its fragments are expanded.
    pub max_aliases: usize,
    /// Root fields of one operation.
    pub max_root_fields: usize,
    /// Operations in one batched POST.
    pub max_batch: usize,
    pub max_body_bytes: usize,
    /// Introspection and field suggestions; default: on in demo mode only.
    pub introspection: Option<bool>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            demo: false,
            request_timeout_seconds: 30,
            log: LogConfig {
                format: LogFormat::Text,
                filter: "info,sqlx=warn".into(),
            },
            database: DatabaseConfig {
                max_connections: 8,
                runtime_role: "portico_app".into(),
                require_dedicated_login: false,
            },
            graphql: GraphqlConfig {
                max_depth: 12,
                max_complexity: portico_resolvers::DEFAULT_MAX_COMPLEXITY,
                max_selections: 2000,
                max_aliases: 30,
                max_root_fields: 20,
                max_batch: 10,
                max_body_bytes: 64 * 1024,
                introspection: None,
            },
            auth: AuthConfig {
                session_idle_seconds: 30 * 60,
                session_absolute_seconds: 12 * 60 * 60,
                secure_cookies: None,
                leeway_seconds: 30,
                jwks_refetch_seconds: 5,
                jwks_ttl_seconds: 3600,
                service_token_seconds: 900,
            },
            policy_dir: None,
            search: SearchConfig {
                open_indexes: 64,
                writers: 2,
                poll_ms: 200,
                result_cache_entries: 4096,
                result_cache_mib: 32,
            },
            catalog: CatalogConfig {
                page_cache_entries: 1024,
                page_cache_mib: 64,
            },
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Values given on the command line; they win over everything else. `Debug` prints
/// `database_url` with its password as `***`.
#[derive(Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demo: Option<bool>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Overrides {
            listen,
            data_dir,
            database_url,
            demo,
        } = self;
        f.debug_struct("Overrides")
            .field("listen", listen)
            .field("data_dir", data_dir)
            .field("database_url", &redacted(database_url.as_deref()))
            .field("demo", demo)
            .finish()
    }
}

impl Config {
    /// Loads the layers. `file`, when given, must exist; otherwise `./portico.toml` is read if
    /// present.
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
        Self::load_from(file, overrides, Env::prefixed("PORTICO_").split("__"))
    }

    fn load_from(
        file: Option<&Path>,
        overrides: &Overrides,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) if !path.exists() => return Err(ConfigError::MissingFile(path.to_owned())),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new("portico.toml").exists() => {
                figment = figment.merge(Toml::file_exact("portico.toml"));
            }
            None => {}
        }
        // Test harness variables share the prefix but are not configuration.
        let env = env.ignore(&["TEST_DATABASE_URL"]);
        let config: Config = figment
            .merge(env)
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(&e)))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError::Invalid(format!("{key}: {why}")));
        if self.graphql.max_depth == 0 {
            return bad("graphql.max_depth", "must be at least 1");
        }
        if self.graphql.max_complexity == 0 {
            return bad("graphql.max_complexity", "must be at least 1");
        }
        if self.graphql.max_selections == 0 {
            return bad("graphql.max_selections", "must be at least 1");
        }
        if self.graphql.max_root_fields == 0 {
            return bad("graphql.max_root_fields", "must be at least 1");
        }
        if self.graphql.max_batch == 0 {
            return bad("graphql.max_batch", "must be at least 1");
        }
        if self.graphql.max_body_bytes < 1024 {
            return bad("graphql.max_body_bytes", "must be at least 1024");
        }
        if self.catalog.page_cache_mib == 0 || self.catalog.page_cache_mib > 1 << 20 {
            return bad(
                "catalog.page_cache_mib",
                "must be between 1 and 1048576 (turn the cache off with catalog.page_cache_entries = 0)",
            );
        }
        if self.search.result_cache_mib == 0 || self.search.result_cache_mib > 1 << 20 {
            return bad(
                "search.result_cache_mib",
                "must be between 1 and 1048576 (turn the cache off with search.result_cache_entries = 0)",
            );
        }
        if !(60..=3600).contains(&self.auth.service_token_seconds) {
            return bad(
                "auth.service_token_seconds",
                "must be between 60 and 3600 (service tokens are short-lived)",
            );
        }
        if self.database.max_connections == 0 {
            return bad("database.max_connections", "must be at least 1");
        }
        if self.request_timeout_seconds == 0 {
            return bad("request_timeout_seconds", "must be at least 1");
        }
        if self.auth.session_idle_seconds == 0 {
            return bad("auth.session_idle_seconds", "must be at least 1");
        }
        if self.auth.session_absolute_seconds < self.auth.session_idle_seconds {
            return bad(
                "auth.session_absolute_seconds",
                "must be at least auth.session_idle_seconds",
            );
        }
        if self.auth.leeway_seconds > 300 {
            return bad("auth.leeway_seconds", "must be at most 300");
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres:")
                || url.starts_with("postgresql:"))
        {
            return bad("database_url", "must start with sqlite: or postgres://");
        }
        Ok(())
    }

    /// The database to use: the configured URL, else SQLite under the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite:{}", self.data_dir.join("portico.db").display()),
        }
    }

    /// Cookies marked `Secure`, callback URLs on `https`.
    pub fn secure_cookies(&self) -> bool {
        self.auth.secure_cookies.unwrap_or(!self.demo)
    }

    pub fn policy_source(&self) -> portico_policies::PolicySource {
        match &self.policy_dir {
            Some(dir) => portico_policies::PolicySource::Directory(dir.clone()),
            None => portico_policies::PolicySource::Builtin,
        }
    }

    pub fn introspection(&self) -> bool {
        self.graphql.introspection.unwrap_or(self.demo)
    }
}

/// figment's message, with the key it failed on and where the value came from.
fn describe(err: &figment::Error) -> String {
    err.clone()
        .into_iter()
        .map(|e| {
            let key = e.path.join(".");
            let source = e
                .metadata
                .as_ref()
                .map(|m| m.name.to_string())
                .unwrap_or_default();
            let kind = e.kind.to_string();
            match (key.is_empty(), source.is_empty()) {
                (true, _) => kind,
                (false, true) => format!("{key}: {kind}"),
                (false, false) => format!("{key}: {kind} (from {source})"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_database_password() {
        let url = "postgres://u:secret@h/db";
        let config = Config {
            database_url: Some(url.into()),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("postgres://u:***@h/db"), "{printed}");
        let overrides = Overrides {
            database_url: Some(url.into()),
            ..Overrides::default()
        };
        let printed = format!("{overrides:?}");
        assert!(!printed.contains("secret"), "{printed}");
    }

    #[test]
    fn defaults_need_no_file_and_no_environment() {
        // In a jail of its own: the jailed tests move the process's working directory (where
        // `portico.toml` is looked for) into a directory with such a file, and only jails wait
        // for each other. Outside one, this test read their file now and then.
        figment::Jail::expect_with(|_jail| {
            let figment_env = Env::prefixed("PORTICO_NO_SUCH_PREFIX_");
            let config = Config::load_from(None, &Overrides::default(), figment_env).unwrap();
            assert_eq!(config.listen.port(), 8080);
            assert!(config.database_url().starts_with("sqlite:"));
            assert!(!config.introspection());
            Ok(())
        });
    }

    #[test]
    fn a_bad_value_names_its_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PORTICO_GRAPHQL__MAX_DEPTH", "deep");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("graphql.max_depth"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_page_cache_without_a_memory_budget_is_refused_by_name() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PORTICO_CATALOG__PAGE_CACHE_MIB", "0");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("catalog.page_cache_mib"), "{err}");
            jail.set_env("PORTICO_CATALOG__PAGE_CACHE_MIB", "16");
            let config = Config::load(None, &Overrides::default()).unwrap();
            assert_eq!(config.catalog.page_cache_mib, 16);
            Ok(())
        });
    }

    #[test]
    fn the_file_then_the_environment_then_flags_win() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "portico.toml",
                "listen = \"127.0.0.1:9000\"\ndemo = true\n[graphql]\nmax_depth = 7\nmax_complexity = 99\n",
            )?;
            jail.set_env("PORTICO_GRAPHQL__MAX_DEPTH", "9");
            let overrides = Overrides {
                listen: Some("127.0.0.1:9100".parse().unwrap()),
                ..Default::default()
            };
            let config = Config::load(None, &overrides).unwrap();
            assert_eq!(config.graphql.max_complexity, 99, "from the file");
            assert_eq!(
                config.graphql.max_depth, 9,
                "the environment beats the file"
            );
            assert_eq!(config.listen.port(), 9100, "a flag beats both");
            assert!(config.introspection(), "demo mode turns introspection on");
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error_when_named() {
        let err = Config::load(
            Some(Path::new("/no/such/portico.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/no/such/portico.toml"));
    }

    #[test]
    fn an_unknown_database_scheme_is_refused_by_key() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("PORTICO_DATABASE_URL", "mysql://x");
            let err = Config::load(None, &Overrides::default())
                .unwrap_err()
                .to_string();
            assert!(err.contains("database_url"), "{err}");
            Ok(())
        });
    }
}
