//! `portico audit verify` and `portico audit export`, the binary as an operator runs it, on
//! both backends: clean chains verify, a row changed by hand is named, and an export verifies
//! with the algorithm of docs/AUDIT.md, written here again from the document (not by calling
//! the store's `audit_hash`).

use std::process::Command;

use portico_store::model::NewAuditEntry;
use portico_store::model::{DelegatedScope, Delegation};
use portico_store::seed::demo_id;
use portico_store::{Store, TenantScope};
use portico_tests::{TestDb, on_both_backends, tenant};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_portico");

/// Runs `portico ARGS --database-url URL`: (success, stdout, stderr).
fn portico(db: &TestDb, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .args(["--database-url", &db.url])
        .env_remove("PORTICO_DATABASE_URL")
        .env("PORTICO_LOG__FILTER", "warn")
        .output()
        .expect("run portico");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn staff(email: &str, slug: &str, reason: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", email),
        actor_tenant: tenant(slug),
        reason: Some(reason.into()),
        ..NewAuditEntry::default()
    }
}

/// Audit rows as the application writes them: northwind asks alpine for a delegation
/// (alpine's chain, northwind's actor), alpine approves it, and a feature flag of northwind's
/// with a reason a JSON escaper must handle (quotes, a newline, a tab, non-ASCII).
async fn write_some_history(store: &Store) -> Delegation {
    let alpine = tenant("alpine-dealers");
    let northwind = tenant("northwind");
    let both = TenantScope::of([alpine.clone(), northwind.clone()]);
    let requested = store
        .request_delegation(
            &both,
            &alpine,
            &northwind,
            &portico_store::DelegationRequest {
                scopes: vec![DelegatedScope::SupportReadonly],
                duration_days: 30,
                message: None,
                auto_extend: false,
            },
            &staff("admin@northwind.test", "northwind", "asked by \"support\""),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    store
        .change_delegation(
            &TenantScope::single(alpine.clone()),
            &requested.id,
            portico_store::DelegationChange::Approve,
            &staff(
                "admin@alpine.test",
                "alpine-dealers",
                "Zustimmung für Ärger\n\tés",
            ),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    store
        .set_feature_flag(
            &TenantScope::single(northwind.clone()),
            &northwind,
            "bulk_upload",
            true,
            &staff("admin@northwind.test", "northwind", "pilot ✓ \u{1}"),
        )
        .await
        .unwrap();
    requested
}

async fn audit_verify_is_clean_then_names_the_row_changed_by_hand_and_fails(db: TestDb) {
    let store = db.seeded_store().await;
    // The demo dataset alone: every chain empty, and whole.
    let (ok, out, err) = portico(&db, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    for slug in ["platform", "northwind", "alpine-dealers", "harbor-tools"] {
        assert!(out.contains(&format!("{slug}: 0 rows, OK")), "{out}");
    }

    write_some_history(&store).await;
    let (ok, out, err) = portico(&db, &["audit", "verify"]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("alpine-dealers: 2 rows, OK"), "{out}");
    assert!(out.contains("northwind: 1 row, OK"), "{out}");
    let (ok, out, err) = portico(&db, &["audit", "verify", "--tenant", "alpine-dealers"]);
    assert!(ok, "{out}{err}");
    assert_eq!(out, "alpine-dealers: 2 rows, OK\n");

    // Someone with the database rewrites what alpine's admin approved.
    if db.url.starts_with("sqlite:") {
        db.sql_by_hand("DROP TRIGGER audit_log_no_update", &[])
            .await;
    }
    db.sql_by_hand(
        "UPDATE audit_log SET after_state = $1 WHERE tenant_id = $2 AND seq = 2",
        &[r#"{"status":"REJECTED"}"#, &tenant("alpine-dealers")],
    )
    .await;
    let (ok, out, err) = portico(&db, &["audit", "verify"]);
    assert!(!ok, "a broken chain fails the command: {out}");
    assert!(
        out.contains("alpine-dealers: 2 rows, BROKEN at seq 2: hash mismatch"),
        "{out}"
    );
    assert!(out.contains("northwind: 1 row, OK"), "{out}");
    assert!(
        err.contains("audit chain broken: alpine-dealers"),
        "names the tenant: {err}"
    );
    let (ok, out, _) = portico(&db, &["audit", "verify", "--tenant", "northwind"]);
    assert!(ok, "the other chains still verify on their own: {out}");
    store.close().await;
}

/// The fields the hash covers, in its order (docs/AUDIT.md).
const HASHED: [&str; 11] = [
    "tenant_id",
    "seq",
    "actor",
    "actor_tenant",
    "action",
    "target",
    "before_state",
    "after_state",
    "reason",
    "at",
    "prev_hash",
];

/// SHA-256 hex of the canonical JSON array of docs/AUDIT.md.
fn documented_hash(line: &Value) -> String {
    let canonical = Value::Array(HASHED.iter().map(|f| line[*f].clone()).collect());
    let text = serde_json::to_string(&canonical).unwrap();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn audit_export_writes_json_lines_that_verify_with_the_documented_algorithm(db: TestDb) {
    let store = db.seeded_store().await;
    let delegation = write_some_history(&store).await;
    let (ok, out, err) = portico(&db, &["audit", "export", "--tenant", "alpine-dealers"]);
    assert!(ok, "{out}{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let mut prev = "0".repeat(64);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], i as u64 + 1, "oldest first");
        assert_eq!(line["tenant_id"], tenant("alpine-dealers"));
        assert_eq!(line["prev_hash"], prev.as_str(), "seq {}", i + 1);
        assert_eq!(line["hash"], documented_hash(line).as_str(), "{line}");
        prev = line["hash"].as_str().unwrap().to_owned();
    }
    assert_eq!(lines[0]["action"], "delegation.requested");
    assert_eq!(lines[0]["actor_tenant"], tenant("northwind"));
    assert_eq!(lines[0]["target"], format!("delegation:{}", delegation.id));
    assert_eq!(lines[0]["before_state"], Value::Null);
    assert_eq!(lines[1]["reason"], "Zustimmung für Ärger\n\tés");
    assert!(
        lines[1]["at"]
            .as_str()
            .is_some_and(|at| at.len() == 27 && at.ends_with('Z')),
        "six fraction digits and Z: {}",
        lines[1]["at"]
    );
    // Fields in the order the hash takes them, then the hash.
    let first = out.lines().next().unwrap();
    let positions: Vec<usize> = HASHED
        .iter()
        .chain(&["hash"])
        .map(|f| {
            first
                .find(&format!("\"{f}\":"))
                .unwrap_or_else(|| panic!("no {f}: {first}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{first}");
    // The raw reason with control characters round-trips through the export too.
    let (ok, out, _) = portico(&db, &["audit", "export", "--tenant", "northwind"]);
    assert!(ok);
    let line: Value = serde_json::from_str(out.trim_end()).unwrap();
    assert_eq!(line["reason"], json!("pilot ✓ \u{1}"));
    assert_eq!(line["hash"], documented_hash(&line).as_str());

    // A tenant without rows exports nothing; an unknown slug is an error naming it.
    let (ok, out, _) = portico(&db, &["audit", "export", "--tenant", "harbor-tools"]);
    assert!(ok && out.is_empty(), "{out}");
    for args in [
        &["audit", "export", "--tenant", "nobody"][..],
        &["audit", "verify", "--tenant", "nobody"][..],
    ] {
        let (ok, _, err) = portico(&db, args);
        assert!(!ok);
        assert!(
            err.contains("--tenant: no tenant has the slug \"nobody\""),
            "{err}"
        );
    }
    store.close().await;
}

on_both_backends!(
    audit_verify_is_clean_then_names_the_row_changed_by_hand_and_fails,
    audit_export_writes_json_lines_that_verify_with_the_documented_algorithm,
);
