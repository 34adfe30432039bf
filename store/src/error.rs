use thiserror::Error;

/// Everything a repository call can fail with. The resolvers map it once to GraphQL codes.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    /// A uniqueness or check constraint refused the input; `field` names what the user sent.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{entity} was changed by someone else (expected version {expected})")]
    VersionConflict { entity: &'static str, expected: i64 },
    /// A delegated write found, inside its own transaction, that the delegation it acts under
    /// has ended (revoked, expired), no longer holds the scope or is no longer assigned to the
    /// actor: nothing was written.
    #[error("the delegation this change acts under is no longer in force for its actor")]
    DelegationEnded,
    #[error("the database holds a value this build does not understand: {0}")]
    Corrupt(String),
    #[error("unsupported database url {0:?}: use sqlite:PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not answer a read shared by several requests (`versions`): each
    /// gets the same description, as one `sqlx::Error` cannot be handed to many.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Unique constraints whose violation is the user's mistake, each once: its name on PostgreSQL,
/// the columns SQLite names for it, and the input field and message it maps to.
const CONSTRAINT_FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "tenants_slug_key",
        "tenants.slug",
        "slug",
        "is already taken",
    ),
    (
        "users_tenant_email",
        "users.tenant_id, users.email",
        "email",
        "is already used in this tenant",
    ),
    (
        "price_lists_tenant_id_name_key",
        "price_lists.tenant_id, price_lists.name",
        "name",
        "is already used by another price list",
    ),
    (
        "domains_pkey",
        "domains.host",
        "host",
        "is already served by a portal",
    ),
];

/// SQLite names no constraint: its message lists the columns of the unique index instead.
const SQLITE_UNIQUE: &str = "UNIQUE constraint failed: ";

impl StoreError {
    /// Turns a constraint violation the user caused into `Invalid`; anything else passes through.
    pub fn from_db(err: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &err {
            let constraint = db.constraint();
            let columns = db.message().strip_prefix(SQLITE_UNIQUE);
            for (name, sqlite_columns, field, message) in CONSTRAINT_FIELDS {
                if constraint == Some(*name) || columns == Some(*sqlite_columns) {
                    return StoreError::Invalid {
                        field,
                        message: (*message).to_owned(),
                    };
                }
            }
        }
        StoreError::Database(err)
    }
}

/// Optimistic concurrency, the same for every versioned write: `found` is the live row's
/// version (`None`: no live row in scope, so `NotFound`); it must still be `expected`.
pub(crate) fn check_version(
    entity: &'static str,
    found: Option<i64>,
    expected: i64,
) -> Result<(), StoreError> {
    match found {
        None => Err(StoreError::NotFound { entity }),
        Some(v) if v != expected => Err(StoreError::VersionConflict { entity, expected }),
        Some(_) => Ok(()),
    }
}
