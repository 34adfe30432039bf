//! Connecting, migrating and running scoped transactions on either backend.
//!
//! Both backends run the same SQL text (both accept `$1` placeholders); `scoped!` expands a
//! repository body once per backend so each gets its own connection type, and on PostgreSQL it
//! opens every transaction by handing the scope to row-level security.
//!
//! The PostgreSQL login role's inspection (`PgLogin`: may it migrate, could it leave row-level
//! security) is in `login.rs`.

mod login;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Executor};

use crate::StoreError;

pub use login::PgLogin;
use login::read_pg_login;

/// Resellers whose search synonyms are kept in memory at once (a few KiB each).
const SYNONYM_TABLES: usize = 1024;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Read connections (SQLite) or all connections (PostgreSQL) for queries. The pool holds
    /// one more, which the data version reader keeps (`versions.rs`).
    pub max_connections: u32,
    /// The PostgreSQL role the application runs as: no BYPASSRLS, owns no table.
    pub runtime_role: String,
    /// Catalog pages and search rows kept in memory under their catalog version (0: none).
    pub page_cache_entries: usize,
    /// What those pages may hold in memory in all, about (their structs and text).
    pub page_cache_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 8,
            runtime_role: "portico_app".to_owned(),
            page_cache_entries: 1024,
            page_cache_bytes: 64 << 20,
        }
    }
}

/// The handle every repository call goes through. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Pools>,
    pub(crate) pages: Arc<crate::catalog::PageCache>,
    pub(crate) version_reader: Arc<crate::versions::VersionReader>,
    /// Resellers' search synonyms under the catalog version they were read at
    /// (`Store::search_synonym_table`).
    pub(crate) synonyms: Arc<crate::synonyms::SynonymCache>,
    /// Woken after every committed write transaction, so the search indexer in this process
    /// reads the outbox at once instead of at its next poll (`Store::written`).
    wrote: Arc<tokio::sync::Notify>,
}

pub(crate) enum Pools {
    /// SQLite allows one writer at a time; a single-connection write pool queues writers in the
    /// process instead of letting them fail with SQLITE_BUSY, while readers use WAL snapshots.
    Sqlite { read: SqlitePool, write: SqlitePool },
    /// `app` connections run as the runtime role; `owner` (migrations, seed) connects as given.
    Postgres {
        app: PgPool,
        owner: Box<PgConnectOptions>,
        runtime_role: String,
    },
}

/// What a database holds, for commands that need data (`Store::contents`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    /// Not migrated: Portico's tables are not there.
    Empty,
    /// Migrated, without the demo dataset.
    NoDemo,
    /// The demo dataset, at this seed version.
    Demo(String),
}

/// What `/readyz` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    pub applied: usize,
    pub expected: usize,
}

impl Readiness {
    pub fn is_ready(&self) -> bool {
        self.applied == self.expected
    }
}

impl Store {
    /// Connects to `sqlite:PATH` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        let pools = if url.starts_with("sqlite:") {
            let base = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5));
            // The writer first: it creates the file and switches it to WAL.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(base.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(options.max_connections.max(1) + 1)
                .connect_with(base.read_only(true))
                .await?;
            Pools::Sqlite { read, write }
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let role = options.runtime_role.clone();
            if role.is_empty() || !role.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(StoreError::Invalid {
                    field: "database.runtime_role",
                    message: "must be a plain role name (letters, digits, underscore)".into(),
                });
            }
            let owner = PgConnectOptions::from_str(url)?;
            let app = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1) + 1)
                .acquire_timeout(Duration::from_secs(5))
                .after_connect(move |conn, _meta| {
                    let sql = format!("SET ROLE {role}");
                    Box::pin(async move {
                        conn.execute(sql.as_str()).await?;
                        Ok(())
                    })
                })
                // Lazy: the runtime role may not exist before the first migration.
                .connect_lazy_with(owner.clone());
            Pools::Postgres {
                app,
                owner: Box::new(owner),
                runtime_role: options.runtime_role.clone(),
            }
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        Ok(Store {
            version_reader: Arc::new(crate::versions::VersionReader::spawn(&pools)),
            inner: Arc::new(pools),
            wrote: Arc::new(tokio::sync::Notify::new()),
            synonyms: Arc::new(crate::synonyms::SynonymCache::new(SYNONYM_TABLES)),
            pages: Arc::new(crate::catalog::PageCache::new(
                options.page_cache_entries,
                options.page_cache_bytes,
            )),
        })
    }

    /// As `connect`, but an SQLite database that does not exist yet is not created: `None`.
    /// For commands that only read (a typo in a path must not leave an empty database behind).
    pub async fn connect_existing(
        url: &str,
        options: &StoreOptions,
    ) -> Result<Option<Store>, StoreError> {
        if url.starts_with("sqlite:") {
            let path = SqliteConnectOptions::from_str(url)?
                .get_filename()
                .to_owned();
            if !path.is_file() {
                return Ok(None);
            }
        }
        Store::connect(url, options).await.map(Some)
    }

    pub fn backend(&self) -> Backend {
        match &*self.inner {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres { .. } => Backend::Postgres,
        }
    }

    pub(crate) fn pools(&self) -> &Pools {
        &self.inner
    }

    /// A write transaction of this process committed (`scoped!`).
    pub(crate) fn wrote(&self) {
        self.wrote.notify_one();
    }

    /// Resolves after a write transaction of this process (of any clone of this store) has
    /// committed since the last call returned; several commits in between wake it once.
    /// Writes of other processes are not seen here: their readers still poll.
    pub async fn written(&self) {
        self.wrote.notified().await;
    }

    /// Applies pending migrations (as the owner on PostgreSQL) and says how many of this
    /// build's are applied now. Safe to run repeatedly.
    ///
    /// A PostgreSQL login that may not migrate (a dedicated login role, `PgLogin`) applies
    /// nothing: it succeeds when every migration of this build is applied already, and
    /// otherwise says to run `portico migrate` with the owner's URL.
    pub async fn migrate(&self) -> Result<Readiness, StoreError> {
        const APPLIED: &str = "SELECT version FROM _sqlx_migrations WHERE success";
        let applied: Vec<i64> = match self.pools() {
            Pools::Sqlite { write, .. } => {
                SQLITE_MIGRATOR.run(write).await?;
                sqlx::query_scalar(APPLIED).fetch_all(write).await?
            }
            Pools::Postgres {
                owner,
                runtime_role,
                ..
            } => {
                let mut conn = sqlx::PgConnection::connect_with(owner.as_ref()).await?;
                let login = read_pg_login(&mut conn, runtime_role).await?;
                if login.migrates {
                    // Counted on the owner's connection: the owner need not be a member of
                    // the runtime role.
                    POSTGRES_MIGRATOR.run(&mut conn).await?;
                    let applied = sqlx::query_scalar(APPLIED).fetch_all(&mut conn).await?;
                    conn.close().await?;
                    applied
                } else {
                    conn.close().await?;
                    return self.check_migrated_as(&login).await;
                }
            }
        };
        Ok(self.readiness_of(&applied))
    }

    /// How many of this build's migrations are among `applied`.
    fn readiness_of(&self, applied: &[i64]) -> Readiness {
        let migrator = match self.backend() {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        };
        let expected: Vec<i64> = migrator
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .map(|m| m.version)
            .collect();
        Readiness {
            applied: expected.iter().filter(|v| applied.contains(v)).count(),
            expected: expected.len(),
        }
    }

    /// Writes the demo dataset (`seed_demo`), except on a PostgreSQL login that may not: there
    /// the dataset must be present already (written by the owner), and is reported as such.
    pub async fn provide_demo(&self) -> Result<crate::SeedOutcome, StoreError> {
        if let Some(login) = self.pg_login().await?
            && !login.migrates
        {
            return match self.contents().await? {
                Contents::Demo(version) => Ok(crate::SeedOutcome::AlreadySeeded { version }),
                _ => Err(StoreError::Invalid {
                    field: "database_url",
                    message: format!(
                        "the demo dataset is not in this database, and the login role {} may \
                         not write it: run `portico seed --demo` with the owner's database URL \
                         first",
                        login.user
                    ),
                }),
            };
        }
        self.seed_demo().await
    }

    /// Whether the database is migrated and holds the demo dataset. Creates nothing.
    pub async fn contents(&self) -> Result<Contents, StoreError> {
        const MARKER: &str = "SELECT value FROM portico_meta WHERE key = 'demo_seed_version'";
        let marker: Option<String> = match self.pools() {
            Pools::Sqlite { read, .. } => {
                let migrated: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'portico_meta')",
                )
                .fetch_one(read)
                .await?;
                if !migrated {
                    return Ok(Contents::Empty);
                }
                sqlx::query_scalar(MARKER).fetch_optional(read).await?
            }
            Pools::Postgres { app, owner, .. } => {
                // Asked as the login first: before the first migration the runtime role, which
                // the app pool switches to, may not exist.
                let mut conn = sqlx::PgConnection::connect_with(owner.as_ref()).await?;
                let migrated: bool =
                    sqlx::query_scalar("SELECT to_regclass('portico_meta') IS NOT NULL")
                        .fetch_one(&mut conn)
                        .await?;
                conn.close().await?;
                if !migrated {
                    return Ok(Contents::Empty);
                }
                sqlx::query_scalar(MARKER).fetch_optional(app).await?
            }
        };
        Ok(match marker {
            Some(version) => Contents::Demo(version),
            None => Contents::NoDemo,
        })
    }

    /// The database answers and every migration of this build is applied.
    pub async fn readiness(&self) -> Result<Readiness, StoreError> {
        const SQL: &str = "SELECT count(*) FROM _sqlx_migrations WHERE success";
        let (applied, expected) = match self.pools() {
            Pools::Sqlite { read, .. } => {
                let n: i64 = sqlx::query_scalar(SQL).fetch_one(read).await?;
                (n, SQLITE_MIGRATOR.iter().count())
            }
            Pools::Postgres { app, .. } => {
                let n: i64 = sqlx::query_scalar(SQL).fetch_one(app).await?;
                (n, POSTGRES_MIGRATOR.iter().count())
            }
        };
        Ok(Readiness {
            applied: usize::try_from(applied).unwrap_or(0),
            expected,
        })
    }

    pub async fn close(&self) {
        // The version reader keeps a connection; a pool closes only once all are back.
        self.version_reader.close().await;
        match self.pools() {
            Pools::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres { app, .. } => app.close().await,
        }
    }

    /// A probe for the fence tests, not for application code: runs `sql` (one statement or
    /// several separated by `;`, as SQL injected into a repository statement could) on a
    /// server connection inside a transaction of `scope`, rolls it back, and returns the first
    /// column of the last row it produced, as text. On SQLite it runs without a transaction.
    pub async fn unfenced_sql(
        &self,
        scope: &crate::TenantScope,
        sql: &str,
    ) -> Result<Option<String>, StoreError> {
        use sqlx::Row;
        match self.pools() {
            Pools::Sqlite { write, .. } => {
                let rows = sqlx::raw_sql(sql).fetch_all(write).await?;
                Ok(match rows.last() {
                    Some(row) => row.try_get(0)?,
                    None => None,
                })
            }
            Pools::Postgres { app, .. } => {
                let mut tx = app.begin_with(pg_begin(scope)).await?;
                let rows = sqlx::raw_sql(sql).fetch_all(&mut *tx).await?;
                let last = match rows.last() {
                    Some(row) => row.try_get(0)?,
                    None => None,
                };
                // Rolled back: a role switched by the probe goes back with it.
                tx.rollback().await?;
                Ok(last)
            }
        }
    }
}

/// The SQL that differs between backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// `column` is one of the strings of the JSON array bound at `$n`. The same binding (a JSON
    /// text) works on both backends; on PostgreSQL the array is expanded once (an InitPlan) so
    /// the index on `column` is still used.
    pub(crate) fn in_json(self, column: &str, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => {
                format!("{column} = ANY (ARRAY(SELECT jsonb_array_elements_text(${n}::jsonb)))")
            }
        }
    }

    /// The listing `l`'s regions as one comma-separated, sorted text (NULL when none): a page
    /// carries its regions in its own rows, so no second statement (and, on SQLite, no extra
    /// row hand-overs from the database thread) is needed.
    pub(crate) fn listing_regions(self) -> &'static str {
        match self {
            Dialect::Sqlite => {
                "(SELECT group_concat(region, ',') FROM (SELECT r.region FROM listing_regions r \
                 WHERE r.tenant_id = l.tenant_id AND r.listing_id = l.id ORDER BY r.region)) AS region_list"
            }
            Dialect::Postgres => {
                "(SELECT string_agg(r.region, ',' ORDER BY r.region) FROM listing_regions r \
                 WHERE r.tenant_id = l.tenant_id AND r.listing_id = l.id) AS region_list"
            }
        }
    }

    /// `column` of the rows `FROM …` as one comma-separated text (NULL when none); the
    /// caller supplies the rest of the subquery after the returned text.
    pub(crate) fn comma_list(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({column}, ',')"),
            Dialect::Postgres => format!("string_agg({column}, ',')"),
        }
    }

    /// An aggregate turning the selected rows into ONE JSON text, an array of arrays of
    /// `columns` (`[]` when none). Where a statement returns many small rows this costs one
    /// hand-over from the database instead of one per row: on SQLite every row crosses from
    /// the connection's thread to the async side on its own.
    pub(crate) fn json_rows(self, columns: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_group_array(json_array({columns}))"),
            Dialect::Postgres => {
                format!("COALESCE(json_agg(json_build_array({columns})), '[]'::json)::text")
            }
        }
    }
}

/// Hands the scope to row-level security for the rest of this transaction only.
pub(crate) async fn set_pg_scope(
    conn: &mut sqlx::PgConnection,
    scope: &crate::TenantScope,
) -> Result<(), StoreError> {
    sqlx::query("SELECT set_config('app.tenant_ids', $1, true)")
        .bind(scope.rls_setting())
        .execute(conn)
        .await?;
    Ok(())
}

/// BEGIN, then the scope handed to row-level security for this transaction only, sent as one
/// simple-protocol message (one round trip instead of two). The setting is a literal here, so
/// it is quoted: ids are UUIDs, and a quote in one could not end the literal anyway.
pub(crate) fn pg_begin(scope: &crate::TenantScope) -> String {
    format!(
        "BEGIN; SELECT set_config('app.tenant_ids', '{}', true)",
        scope.rls_setting().replace('\'', "''")
    )
}

/// Runs `$body` on the pool of `$mode`, with `$conn` bound to the backend's connection and
/// `$d` to its `Dialect`. `?` inside the body returns from the caller (rolling a transaction
/// back).
///
/// Modes: `write` (a transaction on the write pool); `snapshot` (a read-only transaction: every
/// statement of the body sees the same data); `read` (the body's statements each read a
/// consistent state, not necessarily the same one); `directory` (reads of tables every scope
/// may read: no transaction on either backend). On PostgreSQL the others are transactions,
/// because the scope is handed to row-level security with a transaction-local setting. On
/// SQLite a `read` skips BEGIN and COMMIT: every command crosses to the connection's own
/// thread and back, and a single statement is atomic on its own. Hot reads are one statement.
macro_rules! scoped {
    // A write that committed wakes what waits for writes (`Store::written`); one that failed
    // returned from the caller before this.
    ($store:expr, $scope:expr, write, |$conn:ident, $d:ident| $body:block) => {{
        let result = scoped!(@any $store, $scope, write, |$conn, $d| $body);
        $store.wrote();
        result
    }};
    ($store:expr, $scope:expr, $mode:ident, |$conn:ident, $d:ident| $body:block) => {
        scoped!(@any $store, $scope, $mode, |$conn, $d| $body)
    };
    (@any $store:expr, $scope:expr, $mode:ident, |$conn:ident, $d:ident| $body:block) => {{
        let scope: &$crate::TenantScope = $scope;
        match $store.pools() {
            $crate::db::Pools::Sqlite { read, write } => {
                let _ = (read, write);
                let $d = $crate::db::Dialect::Sqlite;
                let _ = scope;
                scoped!(@sqlite $mode, read, write, |$conn| $body)
            }
            $crate::db::Pools::Postgres { app, .. } => {
                let $d = $crate::db::Dialect::Postgres;
                scoped!(@postgres $mode, app, scope, |$conn| $body)
            }
        }
    }};
    // The directory (tenants, domains, identity providers, the master catalog) is readable
    // by any scope (DESIGN section 3): one statement, no transaction, no scope to hand over.
    (@postgres directory, $app:ident, $scope:ident, |$conn:ident| $body:block) => {{
        let _ = $scope;
        let mut connection = $app.acquire().await?;
        let $conn: &mut sqlx::PgConnection = &mut *connection;
        $body
    }};
    (@postgres $mode:ident, $app:ident, $scope:ident, |$conn:ident| $body:block) => {{
        // BEGIN and the scope in one round trip.
        let mut tx = $app.begin_with($crate::db::pg_begin($scope)).await?;
        let result = {
            let $conn: &mut sqlx::PgConnection = &mut *tx;
            $body
        };
        tx.commit().await.map_err($crate::StoreError::from_db)?;
        result
    }};
    (@sqlite directory, $r:ident, $w:ident, |$conn:ident| $body:block) => {
        scoped!(@sqlite read, $r, $w, |$conn| $body)
    };
    (@sqlite read, $r:ident, $w:ident, |$conn:ident| $body:block) => {{
        let mut connection = $r.acquire().await?;
        let $conn: &mut sqlx::SqliteConnection = &mut *connection;
        $body
    }};
    (@sqlite snapshot, $r:ident, $w:ident, |$conn:ident| $body:block) => {
        scoped!(@sqlite_tx $r, |$conn| $body)
    };
    (@sqlite write, $r:ident, $w:ident, |$conn:ident| $body:block) => {
        scoped!(@sqlite_tx $w, |$conn| $body)
    };
    (@sqlite_tx $pool:ident, |$conn:ident| $body:block) => {{
        let mut tx = $pool.begin().await?;
        let result = {
            let $conn: &mut sqlx::SqliteConnection = &mut *tx;
            $body
        };
        tx.commit().await.map_err($crate::StoreError::from_db)?;
        result
    }};
}
pub(crate) use scoped;

/// A URL safe to print: the password replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}://{}:***{}",
                    &url[..scheme_end],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_printed_urls() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/portico"),
            "postgres://app:***@db:5432/portico"
        );
        assert_eq!(redact_url("postgres://db/portico"), "postgres://db/portico");
        assert_eq!(
            redact_url("sqlite:data/portico.db"),
            "sqlite:data/portico.db"
        );
    }
}
