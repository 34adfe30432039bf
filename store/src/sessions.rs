//! The browser-session table, handed to `tower-sessions` through its sqlx stores. The table is
//! created by our migrations (the PostgreSQL runtime role may create nothing), so the stores'
//! own `migrate()` is never called.

use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use crate::Store;
use crate::db::Pools;

const TABLE: &str = "portico_sessions";

/// A session store on the same database as everything else.
#[derive(Debug, Clone)]
pub enum SessionStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    pub fn session_store(&self) -> SessionStore {
        match self.pools() {
            Pools::Sqlite { write, .. } => SessionStore::Sqlite(
                SqliteStore::new(write.clone())
                    .with_table_name(TABLE)
                    .expect("a valid table name"),
            ),
            Pools::Postgres { app, .. } => SessionStore::Postgres(
                PostgresStore::new(app.clone())
                    .with_schema_name("public")
                    .and_then(|s| s.with_table_name(TABLE))
                    .expect("a valid table name"),
            ),
        }
    }
}
