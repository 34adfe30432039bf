//! `policies/cases/*.yaml` against the demo data, on both backends: the same runner as
//! `portico policy test`.

use std::path::PathBuf;
use std::sync::Arc;

use portico_policies::{CachedAuthorizer, CaseFile, DEFAULT_POLICY, OsoEngine};
use portico_resolvers::cases::CaseWorld;
use portico_tests::{TestDb, on_both_backends};

fn cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies/cases")
}

async fn every_policy_case_holds_on_the_demo_data(db: TestDb) {
    let store = db.seeded_store().await;
    let world = CaseWorld::load(&store).await.unwrap();
    assert_eq!(world.users().len(), 15, "the demo users");
    let files = CaseFile::load_dir(&cases_dir()).unwrap();
    let authorizer = Arc::new(CachedAuthorizer::new(
        OsoEngine::new(DEFAULT_POLICY).unwrap(),
    ));
    let report = world.run(&authorizer, &files).await.unwrap();
    assert!(report.total >= 300, "only {} cases", report.total);
    assert!(
        report.failures.is_empty(),
        "{} of {} cases fail:\n{}",
        report.failures.len(),
        report.total,
        report.failures.join("\n")
    );
}

on_both_backends!(every_policy_case_holds_on_the_demo_data);

#[tokio::test]
async fn a_wrong_expectation_is_reported_with_the_rule_that_decided() {
    let db = TestDb::sqlite().await;
    let store = db.seeded_store().await;
    let world = CaseWorld::load(&store).await.unwrap();
    let wrong = CaseFile::parse(
        "wrong.yaml",
        "- resource: customer:harbor-tools\n  action: read\n  allow: [admin@northwind.test]\n",
    )
    .unwrap();
    let authorizer = Arc::new(CachedAuthorizer::new(
        OsoEngine::new(DEFAULT_POLICY).unwrap(),
    ));
    let report = world.run(&authorizer, &[wrong]).await.unwrap();
    assert_eq!(report.total, 15);
    // northwind's admin is wrongly expected in; contoso's admin, harbor's and the platform's are
    // wrongly expected out.
    assert_eq!(report.failures.len(), 4, "{:#?}", report.failures);
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.contains("admin@northwind.test") && f.contains("no rule allows it"))
    );
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.contains("admin@contoso.test")
                && f.contains("reseller staff read their own customers"))
    );
}
