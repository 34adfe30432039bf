//! The PostgreSQL login role of a store, inspected: who its connections log in as, whether it
//! may apply migrations and write the demo dataset, and whether a statement on its connections
//! could leave row-level security (`PgLogin`, `Store::pg_login`).

use sqlx::Connection;

use super::{Pools, Readiness};
use crate::{Store, StoreError};

/// Who a PostgreSQL store's connections log in as, and whether a statement run on one of them
/// could leave row-level security (`Store::pg_login`).
///
/// The server's connections switch to the runtime role (`SET ROLE`); any statement may switch
/// back (`RESET ROLE`) to the login role, and from there to any role the login is a member of.
/// So the fence holds against injected SQL only when the login role itself can do no more than
/// the runtime role: the runtime role, or a member of it that is no superuser, has no
/// BYPASSRLS, is a member of no such role and does not own the tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgLogin {
    /// The login role (`session_user`).
    pub user: String,
    /// The role the server's transactions run as (`database.runtime_role`).
    pub runtime_role: String,
    /// The login is the runtime role or a member of it (it may `SET ROLE` to it).
    pub reaches_runtime_role: bool,
    /// The login may apply migrations and write the demo dataset: a superuser, a member of the
    /// tables' owner, or, on a database not yet migrated, a role that may create tables in its
    /// schema (it would own them).
    pub migrates: bool,
    /// How a statement on these connections could leave row-level security (e.g. "it is a
    /// superuser"); `None` for a dedicated login role, which cannot.
    pub escape: Option<String>,
}

impl PgLogin {
    /// A login role that cannot leave row-level security: the production setup.
    pub fn is_dedicated(&self) -> bool {
        self.escape.is_none()
    }

    /// What to do when the login may not become the runtime role.
    pub fn not_a_member(&self) -> String {
        format!(
            "the login role {} may not SET ROLE {}: as a superuser (or a role with ADMIN on \
             {}), run `GRANT {} TO {}`",
            self.user, self.runtime_role, self.runtime_role, self.runtime_role, self.user
        )
    }
}
impl Store {
    /// For a login that may not migrate: every migration of this build is applied.
    pub(super) async fn check_migrated_as(&self, login: &PgLogin) -> Result<Readiness, StoreError> {
        let refuse = |message: String| StoreError::Invalid {
            field: "database_url",
            message,
        };
        if !login.reaches_runtime_role {
            return Err(refuse(login.not_a_member()));
        }
        let applied: Vec<i64> = match self.pools() {
            Pools::Postgres { app, .. } => {
                // The runtime role reads the migrations table; without it nothing is applied.
                let exists: bool =
                    sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
                        .fetch_one(app)
                        .await?;
                if exists {
                    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                        .fetch_all(app)
                        .await?
                } else {
                    Vec::new()
                }
            }
            Pools::Sqlite { .. } => Vec::new(),
        };
        let readiness = self.readiness_of(&applied);
        if readiness.is_ready() {
            return Ok(readiness);
        }
        Err(refuse(format!(
            "{} of {} migrations are not applied, and the login role {} may not apply them \
             (it serves, it does not own the tables): run `portico migrate` with the owner's \
             database URL first",
            readiness.expected - readiness.applied,
            readiness.expected,
            login.user
        )))
    }

    /// Who the PostgreSQL connections log in as and whether they could leave row-level
    /// security; `None` on SQLite. Asked on a connection of its own, as the URL's user.
    pub async fn pg_login(&self) -> Result<Option<PgLogin>, StoreError> {
        match self.pools() {
            Pools::Sqlite { .. } => Ok(None),
            Pools::Postgres {
                owner,
                runtime_role,
                ..
            } => {
                let mut conn = sqlx::PgConnection::connect_with(owner.as_ref()).await?;
                let login = read_pg_login(&mut conn, runtime_role).await?;
                conn.close().await?;
                Ok(Some(login))
            }
        }
    }
}

/// The facts of `PgLogin`, asked on a connection that logged in and switched nothing.
pub(super) async fn read_pg_login(
    conn: &mut sqlx::PgConnection,
    runtime_role: &str,
) -> Result<PgLogin, StoreError> {
    // `pg_has_role(…, 'MEMBER')` holds for a superuser on every role, and for any membership,
    // whether or not it inherits: a member may `SET ROLE`.
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, \
           (SELECT string_agg(p.rolname::text, ', ' ORDER BY p.rolname) FROM pg_roles p \
             WHERE (p.rolsuper OR p.rolbypassrls) AND p.oid <> r.oid \
               AND pg_has_role(r.oid, p.oid, 'MEMBER')), \
           (SELECT pg_get_userbyid(c.relowner)::text FROM pg_class c \
             WHERE c.oid = to_regclass('_sqlx_migrations') \
               AND pg_has_role(r.oid, c.relowner, 'MEMBER')), \
           to_regclass('_sqlx_migrations') IS NOT NULL, \
           COALESCE(has_schema_privilege(r.oid, current_schema(), 'CREATE'), false), \
           (SELECT pg_has_role(r.oid, a.oid, 'MEMBER') FROM pg_roles a WHERE a.rolname = $1) \
         FROM pg_roles r WHERE r.rolname = session_user",
    )
    .bind(runtime_role)
    .fetch_one(conn)
    .await?;
    let user: String = row.try_get(0)?;
    let (superuser, bypass_rls): (bool, bool) = (row.try_get(1)?, row.try_get(2)?);
    let privileged: Option<String> = row.try_get(3)?;
    let owner: Option<String> = row.try_get(4)?;
    let (migrated, creates): (bool, bool) = (row.try_get(5)?, row.try_get(6)?);
    let reaches: Option<bool> = row.try_get(7)?;
    let escape = if superuser {
        Some("it is a superuser".to_owned())
    } else if bypass_rls {
        Some("it has BYPASSRLS".to_owned())
    } else if let Some(roles) = privileged {
        Some(format!(
            "it may SET ROLE to {roles} (superuser or BYPASSRLS)"
        ))
    } else if let Some(owner) = &owner {
        Some(format!(
            "it may act as the tables' owner {owner} (who may turn row-level security off)"
        ))
    } else if !migrated && creates {
        Some("it may create tables (it would own them)".to_owned())
    } else {
        None
    };
    Ok(PgLogin {
        migrates: superuser || owner.is_some() || (!migrated && creates),
        reaches_runtime_role: reaches.unwrap_or(false),
        runtime_role: runtime_role.to_owned(),
        user,
        escape,
    })
}
