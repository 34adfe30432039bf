//! The `portico` binary as a newcomer uses it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portico");

fn portico(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("PORTICO_DATABASE_URL")
        .output()
        .expect("run portico");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A running server, killed if the test ends without stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve`, returns the server, its port and what it printed up to "listening on".
fn serve(args: &[&str]) -> (Server, u16, String) {
    serve_env(args, &[])
}

/// `serve` with extra environment variables.
fn serve_env(args: &[&str], envs: &[(&str, &std::path::Path)]) -> (Server, u16, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(args)
        .envs(envs.iter().copied())
        .env("PORTICO_LOG__FILTER", "warn")
        .env_remove("PORTICO_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn portico serve");
    let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
    let child = Server(child);
    let mut banner = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).expect("read stdout") > 0,
            "portico exited early: {banner}"
        );
        banner.push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("portico: listening on http://") {
            let port = rest.rsplit(':').next().unwrap().parse().expect("a port");
            // Keep draining stdout so the server never blocks on a full pipe.
            std::thread::spawn(move || reader.lines().for_each(drop));
            return (child, port, banner);
        }
        assert!(
            Instant::now() < deadline,
            "no 'listening on' line: {banner}"
        );
    }
}

/// Sends SIGTERM and reports whether the server exited cleanly.
fn stop(server: &mut Server) -> bool {
    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    server.0.wait().expect("wait").success()
}

async fn tenant_slug(port: u16, host: &str) -> String {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("host", host)
        .json(&serde_json::json!({ "query": "{ tenant { slug } }" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["data"]["tenant"]["slug"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn serve_demo_works_on_an_empty_dir_and_a_second_start_reuses_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fresh");
    let data = data.to_str().unwrap();
    let args = ["--demo", "--listen", "127.0.0.1:0", "--data-dir", data];
    let (mut first, port, banner) = serve(&args);
    assert!(banner.contains("seeded the demo dataset"), "{banner}");
    for slug in ["northwind", "contoso", "platform"] {
        assert_eq!(tenant_slug(port, &format!("{slug}.localhost")).await, slug);
    }
    assert!(stop(&mut first), "SIGTERM ends the server cleanly");

    let (mut second, port, banner) = serve(&args);
    assert!(banner.contains("reusing the demo dataset"), "{banner}");
    assert_eq!(tenant_slug(port, "contoso.localhost").await, "contoso");
    assert!(stop(&mut second));
}

#[test]
fn rotate_service_key_starts_a_new_key_and_keeps_the_previous_one_published() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let (ok, first) = portico(&["rotate-service-key", "--data-dir", data_dir]);
    assert!(ok, "{first}");
    let (ok, second) = portico(&["rotate-service-key", "--data-dir", data_dir]);
    assert!(ok, "{second}");
    let kid = |out: &str| {
        out.split_whitespace()
            .find(|w| w.starts_with("portico-"))
            .unwrap_or_else(|| panic!("no key id in {out:?}"))
            .to_owned()
    };
    assert_ne!(kid(&first), kid(&second));
    let file: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("issuer").join("keys.json")).unwrap(),
    )
    .unwrap();
    let kids: Vec<&str> = file["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    // The newest signs; the one before it stays published; older ones are dropped.
    assert_eq!(kids.len(), 2, "{kids:?}");
    assert_eq!(kids[0], kid(&second));
    assert_eq!(kids[1], kid(&first));
}

#[test]
fn schema_prints_the_committed_sdl() {
    let (ok, out) = portico(&["schema"]);
    assert!(ok);
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/portico.graphql"
    ))
    .unwrap();
    assert_eq!(out, committed);
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_key() {
    let out = Command::new(BIN)
        .args(["serve", "--demo"])
        .env("PORTICO_GRAPHQL__MAX_COMPLEXITY", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("graphql.max_complexity"), "{err}");
}

#[test]
fn help_explains_the_commands() {
    let (ok, out) = portico(&["--help"]);
    assert!(ok);
    for word in [
        "serve",
        "migrate",
        "seed",
        "schema",
        "--database-url",
        "--data-dir",
    ] {
        assert!(out.contains(word), "--help lacks {word}: {out}");
    }
}

#[tokio::test]
async fn migrate_and_seed_against_postgres_succeed_twice_in_a_row() {
    let server = std::env::var("PORTICO_TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .ok();
    let Some(server) = server.filter(|u| u.starts_with("postgres")) else {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI needs PORTICO_TEST_DATABASE_URL"
        );
        eprintln!("skipped: PORTICO_TEST_DATABASE_URL is not set");
        return;
    };
    use sqlx::Connection;
    let name = format!("portico_test_cli_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let mut url = reqwest::Url::parse(&server).unwrap();
    url.set_path(&name);
    let url = url.to_string();
    // Every migration the build embeds: the files of store/migrations/postgres.
    let migrations = std::fs::read_dir(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../store/migrations/postgres"),
    )
    .unwrap()
    .filter(|f| {
        f.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|e| e == "sql")
    })
    .count();
    let applied = format!("migrations applied: {migrations} of {migrations}");
    for round in 0..2 {
        let (ok, out) = portico(&["migrate", "--database-url", &url]);
        assert!(ok, "migrate, round {round}: {out}");
        assert!(out.contains(&applied), "{out}");
    }
    let (ok, out) = portico(&["seed", "--demo", "--database-url", &url]);
    assert!(ok && out.contains("demo dataset written"), "{out}");
    let (ok, out) = portico(&["seed", "--demo", "--database-url", &url]);
    assert!(ok && out.contains("already present"), "{out}");
    sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn customers_seen_by(port: u16, token: &str) -> Option<u64> {
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/graphql"))
        .header("host", "northwind.localhost")
        .header("authorization", format!("Bearer {token}"))
        .json(&serde_json::json!({ "query": "{ customers { totalCount } }" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["data"]["customers"]["totalCount"].as_u64()
}

/// Polls until `want` or a bounded wait runs out (a reload takes effect asynchronously).
async fn eventually_customers(port: u16, token: &str, want: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = customers_seen_by(port, token).await.unwrap_or(u64::MAX);
        if got == want || Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn policy_commands_and_sighup_reload_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let policy_dir = dir.path().join("policy");
    std::fs::create_dir_all(&policy_dir).unwrap();
    let shipped = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../policies/portico.polar"
    ))
    .unwrap();
    std::fs::write(policy_dir.join("portico.polar"), &shipped).unwrap();

    // `policy check` before a reload: a broken file is refused with where and why.
    let broken = dir.path().join("broken.polar");
    std::fs::write(&broken, "allow(actor, action, resource) if").unwrap();
    let (ok, out) = portico(&["policy", "check", broken.to_str().unwrap()]);
    assert!(!ok && out.contains("does not load"), "{out}");
    let (ok, out) = portico(&["policy", "check", policy_dir.to_str().unwrap()]);
    assert!(ok, "{out}");

    let data_arg = data.to_str().unwrap();
    let (server, port, _) = serve_env(
        &["--demo", "--listen", "127.0.0.1:0", "--data-dir", data_arg],
        &[("PORTICO_POLICY_DIR", &policy_dir)],
    );
    let pid = server.0.id();
    let (ok, token) = portico(&[
        "token",
        "--user",
        "admin@northwind.test",
        "--data-dir",
        data_arg,
    ]);
    assert!(ok, "{token}");
    let token = token.trim().to_owned();
    assert_eq!(
        eventually_customers(port, &token, 3).await,
        3,
        "the shipped policy"
    );

    let (ok, out) = portico(&[
        "policy",
        "test",
        "--cases",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cases"),
        "--data-dir",
        data_arg,
    ]);
    assert!(ok && out.contains("0 failed"), "{out}");
    let (ok, out) = portico(&[
        "policy",
        "explain",
        "--user",
        "rep-na@northwind.test",
        "--action",
        "read",
        "--resource",
        "customer:alpine-dealers",
        "--data-dir",
        data_arg,
    ]);
    assert!(
        ok && out.starts_with("DENY") && out.contains("no rule allows it"),
        "{out}"
    );

    // A broken policy on SIGHUP: the running one stays.
    std::fs::write(
        policy_dir.join("portico.polar"),
        "allow(actor, action, resource) if",
    )
    .unwrap();
    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    assert!(hup(pid).success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        customers_seen_by(port, &token).await,
        Some(3),
        "the running policy stays"
    );

    // A policy without the reseller rule for customers: after SIGHUP, northwind's admin sees none.
    let narrower = shipped.replace(
        "decide(actor: Caller, \"read\", resource: Object, \"reseller staff read their own customers (sales reps: in their regions)\") if",
        "decide(actor: Caller, \"read\", resource: Object, \"disabled\") if false and",
    );
    assert_ne!(
        narrower, shipped,
        "the rule to remove is in the shipped policy"
    );
    std::fs::write(policy_dir.join("portico.polar"), narrower).unwrap();
    assert!(hup(pid).success());
    assert_eq!(
        eventually_customers(port, &token, 0).await,
        0,
        "the reloaded policy"
    );
}

#[test]
fn seed_and_policy_test_work_on_a_fresh_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("not-yet-there");
    let data = data.to_str().unwrap();
    let (ok, out) = portico(&["seed", "--demo", "--data-dir", data]);
    assert!(ok && out.contains("demo dataset written"), "{out}");
    let (ok, out) = portico(&[
        "policy",
        "test",
        "--cases",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cases"),
        "--data-dir",
        data,
    ]);
    assert!(ok && out.contains(" 0 failed"), "{out}");
    assert!(
        !out.contains("seeded for this run"),
        "the seeded database: {out}"
    );
}

#[test]
fn policy_commands_on_a_checkout_without_data_use_a_temporary_demo_database() {
    // A fresh checkout: no data dir, no portico.toml; the default database is ./data/portico.db.
    let checkout = tempfile::tempdir().unwrap();
    let tmp = checkout.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .args(args)
            .current_dir(checkout.path())
            .env("TMPDIR", &tmp)
            .env_remove("PORTICO_DATABASE_URL")
            .env_remove("PORTICO_DATA_DIR")
            .output()
            .expect("run portico");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let cases = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/cases");
    let (ok, out) = run(&["policy", "test", "--cases", cases]);
    assert!(ok && out.contains(" 0 failed"), "{out}");
    assert!(
        out.contains("data/portico.db does not exist: using a demo database seeded for this run"),
        "says so: {out}"
    );
    let (ok, out) = run(&[
        "policy",
        "explain",
        "--user",
        "rep-eu@northwind.test",
        "--action",
        "read",
        "--resource",
        "customer:prairie-supply",
    ]);
    assert!(ok && out.contains("DENY: rep-eu@northwind.test"), "{out}");
    // A delegated decision names the delegation and its scopes.
    let (ok, out) = run(&[
        "policy",
        "explain",
        "--user",
        "admin@northwind.test",
        "--action",
        "manage",
        "--resource",
        "user:buyer@alpine.test",
    ]);
    let alpine = portico_store::seed::demo_id("delegation", "alpine-northwind");
    assert!(ok && out.contains("ALLOW: admin@northwind.test"), "{out}");
    assert!(
        out.contains(&format!(
            "delegation: {alpine} (USER_ADMIN, SETTINGS_ADMIN; ends 2028-06-01)"
        )),
        "{out}"
    );
    assert!(
        !checkout.path().join("data").exists(),
        "no data dir (nor an empty portico.db) is left behind"
    );
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "the temporary database is removed"
    );
}

#[test]
fn reindex_rebuilds_each_catalog_and_names_an_unknown_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, out) = portico(&["seed", "--demo", "--data-dir", data]);
    assert!(ok, "{out}");
    let (ok, out) = portico(&["reindex", "--data-dir", data]);
    assert!(ok, "{out}");
    assert!(out.contains("northwind: "), "{out}");
    assert!(out.contains("contoso: "), "{out}");
    assert!(out.contains("listings indexed"), "{out}");
    let (ok, out) = portico(&["reindex", "--tenant", "northwind", "--data-dir", data]);
    assert!(ok, "{out}");
    assert!(!out.contains("contoso"), "{out}");
    let (ok, out) = portico(&["reindex", "--tenant", "nobody", "--data-dir", data]);
    assert!(!ok);
    assert!(
        out.contains("tenant: no catalog-owning tenant has the slug \"nobody\""),
        "{out}"
    );
}
