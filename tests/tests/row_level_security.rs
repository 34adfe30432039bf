//! PostgreSQL's own fence (DESIGN section 3): row-level security under a non-owner runtime role,
//! with the scope set per transaction. These run where a PostgreSQL server is configured.

use portico_store::diagnostics::TENANT_TABLES;
use portico_store::seed::demo_id;
use portico_store::{Store, StoreOptions, TenantScope};
use portico_tests::{TestApp, TestDb, scope};
use sqlx::Connection;

async fn postgres() -> Option<TestDb> {
    let db = TestDb::postgres().await;
    if db.is_none() {
        eprintln!("skipped: PORTICO_TEST_DATABASE_URL is not set");
    }
    db
}

#[tokio::test]
async fn a_query_that_forgets_its_tenant_predicate_sees_only_the_scope() {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    for table in TENANT_TABLES {
        let contoso = store
            .unfenced_tenants(&scope(&["contoso"]), table)
            .await
            .unwrap();
        // A delegation belongs to the customer that gave it and is seen by the reseller holding it.
        let allowed = match *table {
            "delegations" => vec![
                demo_id("tenant", "contoso"),
                demo_id("tenant", "harbor-tools"),
            ],
            _ => vec![demo_id("tenant", "contoso")],
        };
        assert!(
            contoso.iter().all(|t| allowed.contains(t)),
            "{table}: contoso's scope saw {contoso:?}"
        );
        assert_eq!(
            store
                .unfenced_count(&TenantScope::none(), table)
                .await
                .unwrap(),
            0,
            "{table}: no scope, no rows"
        );
    }
    assert_eq!(
        store
            .unfenced_count(&scope(&["contoso"]), "delegations")
            .await
            .unwrap(),
        1,
        "harbor's delegation only"
    );
    let listings = store
        .unfenced_count(&scope(&["contoso"]), "listings")
        .await
        .unwrap();
    assert!(
        listings >= 250,
        "contoso still sees its own {listings} listings"
    );

    // A customer's scope holds its reseller too, but reseller-owned rows about other customers
    // stay hidden: alpine sees its own contract price and assortment row, not a sibling's.
    let alpine = scope(&["alpine-dealers", "northwind"]);
    assert_eq!(
        store
            .unfenced_count(&alpine, "contract_prices")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .unfenced_count(&alpine, "listing_customers")
            .await
            .unwrap(),
        1
    );
    let fjord = scope(&["fjord-outfitters", "northwind"]);
    assert_eq!(
        store
            .unfenced_count(&fjord, "contract_prices")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .unfenced_count(&fjord, "listing_customers")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_runtime_role_owns_nothing_and_cannot_bypass_row_level_security() {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    let (user, bypass, setting) = store
        .runtime_session()
        .await
        .unwrap()
        .expect("a PostgreSQL store");
    assert_eq!(user, "portico_app");
    assert!(!bypass);
    assert_eq!(setting, None);
}

#[tokio::test]
async fn a_pooled_connection_carries_no_scope_into_the_next_transaction() {
    let Some(db) = postgres().await else { return };
    db.seeded_store().await;
    // One connection for queries (the pool's extra one is the version reader's, which nothing
    // here asks), so the next transaction surely reuses it.
    let store = db
        .store(&StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        })
        .await;
    let seen = store
        .unfenced_count(&scope(&["northwind"]), "listings")
        .await
        .unwrap();
    assert!(seen > 0);
    let (_, _, setting) = store.runtime_session().await.unwrap().unwrap();
    assert_eq!(setting, None, "the scope ended with its transaction");
    assert_eq!(
        store
            .unfenced_count(&TenantScope::none(), "listings")
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_write_for_a_tenant_outside_the_scope_is_refused_by_the_database() {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    let err = store
        .unfenced_insert_listing(
            &scope(&["contoso"]),
            "probe-1",
            &demo_id("tenant", "northwind"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    store
        .unfenced_insert_listing(
            &scope(&["contoso"]),
            "probe-2",
            &demo_id("tenant", "contoso"),
        )
        .await
        .expect("inside the scope the same insert works");
}

/// A login role for serving, made the way the README's "Production database roles" says, under
/// a name of its own (roles are cluster-wide); dropped when the test ends.
struct LoginRole {
    name: String,
    /// A superuser's URL on the same server, to drop the role with.
    admin_url: String,
}

impl LoginRole {
    /// `CREATE ROLE … LOGIN NOINHERIT IN ROLE portico_app`, as a superuser. The runtime role
    /// exists once any database of the cluster is migrated.
    async fn create(db: &TestDb) -> LoginRole {
        Self::create_with(db, "IN ROLE portico_app").await
    }

    async fn create_with(db: &TestDb, membership: &str) -> LoginRole {
        let name = format!(
            "portico_login_{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        db.sql_by_hand(
            &format!("CREATE ROLE {name} LOGIN NOINHERIT {membership}"),
            &[],
        )
        .await;
        LoginRole {
            name,
            admin_url: db.url.clone(),
        }
    }

    /// `db`'s URL, logging in as this role.
    fn url(&self, db: &TestDb) -> String {
        let mut url = reqwest::Url::parse(&db.url).expect("a URL");
        url.set_username(&self.name).expect("a user name");
        url.set_password(None).expect("no password (trust)");
        url.to_string()
    }
}

impl Drop for LoginRole {
    fn drop(&mut self) {
        let (name, url) = (self.name.clone(), self.admin_url.clone());
        // Inside the test's runtime: a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {name}"))
                        .execute(&mut conn)
                        .await;
                }
            });
        })
        .join();
    }
}

/// `sql` run on one of `store`'s server connections as injected SQL would run, in contoso's
/// scope; the text of its last row's first column.
async fn injected(store: &Store, sql: &str) -> Result<Option<String>, String> {
    store
        .unfenced_sql(&scope(&["contoso"]), sql)
        .await
        .map_err(|e| e.to_string())
}

fn northwind_listings() -> String {
    format!(
        "SELECT count(*)::text FROM listings WHERE tenant_id = '{}'",
        demo_id("tenant", "northwind")
    )
}

#[tokio::test]
async fn a_dedicated_login_role_serves_and_its_statements_cannot_leave_the_fence() {
    let Some(db) = postgres().await else { return };
    // The owner (here a superuser) migrates and seeds; the server logs in as the login role.
    db.seeded_store().await.close().await;
    let role = LoginRole::create(&db).await;
    let login_url = role.url(&db);
    let app = TestApp::spawn_with(db, |config| {
        config.database_url = Some(login_url.clone());
        config.database.require_dedicated_login = true;
    })
    .await;

    let login = app.store.pg_login().await.unwrap().expect("PostgreSQL");
    assert_eq!(login.user, role.name);
    assert_eq!(login.escape, None, "{login:?}");
    assert!(login.is_dedicated() && login.reaches_runtime_role && !login.migrates);

    // It serves, fenced as ever.
    let answer = app
        .as_user(
            "admin@northwind.test",
            "northwind.localhost",
            "{ customers { totalCount } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(
        answer.body["data"]["customers"]["totalCount"], 3,
        "{:?}",
        answer.body
    );
    let own: i64 = injected(&app.store, "SELECT count(*)::text FROM listings")
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(own > 0, "contoso sees its listings");
    assert_eq!(
        injected(&app.store, &northwind_listings()).await.unwrap(),
        Some("0".to_owned())
    );

    // Injected SQL that switches back to the login role finds a role that may read nothing.
    let back = format!("RESET ROLE; {}", northwind_listings());
    let err = injected(&app.store, &back).await.unwrap_err();
    assert!(
        err.contains("permission denied for table listings"),
        "{err}"
    );
    assert_eq!(
        injected(&app.store, "RESET ROLE; SELECT current_user::text")
            .await
            .unwrap(),
        Some(role.name.clone())
    );
    // …nor can it become the owner (or any other role), or turn the fence off.
    let owner = injected(
        &app.store,
        "SELECT tableowner::text FROM pg_tables WHERE tablename = 'listings'",
    )
    .await
    .unwrap()
    .expect("an owner");
    for sql in [
        format!("SET ROLE {owner}"),
        format!("RESET ROLE; SET ROLE {owner}"),
        "SET ROLE postgres".to_owned(),
    ] {
        let err = injected(&app.store, &sql).await.unwrap_err();
        assert!(
            err.contains("permission denied to set role"),
            "{sql}: {err}"
        );
    }
    for sql in [
        format!("SET SESSION AUTHORIZATION {owner}"),
        format!("RESET ROLE; SET SESSION AUTHORIZATION {owner}"),
    ] {
        let err = injected(&app.store, &sql).await.unwrap_err();
        assert!(
            err.contains("permission denied to set session authorization"),
            "{sql}: {err}"
        );
    }
    for sql in [
        "ALTER TABLE listings NO FORCE ROW LEVEL SECURITY",
        "RESET ROLE; ALTER TABLE listings DISABLE ROW LEVEL SECURITY",
    ] {
        let err = injected(&app.store, sql).await.unwrap_err();
        assert!(err.contains("must be owner"), "{sql}: {err}");
    }
    app.store.close().await;
}

#[tokio::test]
async fn a_superuser_login_leaves_the_fence_with_reset_role_which_is_why_production_uses_a_dedicated_one()
 {
    let Some(db) = postgres().await else { return };
    let store = db.seeded_store().await;
    let login = store.pg_login().await.unwrap().expect("PostgreSQL");
    assert!(login.migrates);
    assert_eq!(login.escape.as_deref(), Some("it is a superuser"));
    assert_eq!(
        injected(&store, &northwind_listings()).await.unwrap(),
        Some("0".to_owned()),
        "fenced as the runtime role"
    );
    let escaped: i64 = injected(&store, &format!("RESET ROLE; {}", northwind_listings()))
        .await
        .unwrap()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        escaped > 0,
        "RESET ROLE sees another tenant's {escaped} listings"
    );
    store.close().await;

    // Where production asks for the dedicated login, such a server does not start.
    let config = portico::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: db.dir.path().to_owned(),
        database_url: Some(db.url.clone()),
        demo: true,
        database: portico::config::DatabaseConfig {
            require_dedicated_login: true,
            ..portico::Config::default().database
        },
        ..portico::Config::default()
    };
    let err = portico::Application::build(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("database.require_dedicated_login") && err.contains("superuser"),
        "{err}"
    );
}

#[tokio::test]
async fn a_dedicated_login_role_applies_no_migration_and_writes_no_seed_but_says_who_must() {
    let Some(db) = postgres().await else { return };
    db.store(&StoreOptions::default()).await.close().await; // migrated, not seeded
    let role = LoginRole::create(&db).await;
    let login = Store::connect(&role.url(&db), &StoreOptions::default())
        .await
        .unwrap();
    login.migrate().await.expect("nothing to apply: fine");
    let err = login.provide_demo().await.unwrap_err().to_string();
    assert!(err.contains("portico seed --demo"), "{err}");
    login.close().await;

    let Some(fresh) = postgres().await else {
        return;
    };
    let login = Store::connect(&role.url(&fresh), &StoreOptions::default())
        .await
        .unwrap();
    let err = login.migrate().await.unwrap_err().to_string();
    assert!(
        err.contains("migrations are not applied") && err.contains("portico migrate"),
        "{err}"
    );
    login.close().await;

    // A login role that is not a member of the runtime role is told what to grant.
    let stranger = LoginRole::create_with(&db, "").await;
    let store = Store::connect(&stranger.url(&db), &StoreOptions::default())
        .await
        .unwrap();
    let err = store.migrate().await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("GRANT portico_app TO {}", stranger.name)),
        "{err}"
    );
    store.close().await;
}
