//! A reseller's write in its customer under a delegation checks the delegation again inside
//! its own transaction, on both backends: the resolver's check happens earlier, and the
//! delegation can be revoked, expire or lose its assignee in between. A write that arrives
//! after the end is refused and writes nothing; racing a revocation, no delegated write lands
//! in the customer's chain after the revocation.

use chrono::{Duration, Utc};
use portico_store::model::{DelegatedScope, NewAuditEntry, Role};
use portico_store::seed::demo_id;
use portico_store::{
    DelegatedUse, DelegationChange, DelegationRequest, NewInvitation, RoleSet, Store, StoreError,
    TenantScope,
};
use portico_tests::{TestDb, on_both_backends, test_actor};

const FJORD: &str = "fjord-outfitters";

fn pair() -> TenantScope {
    TenantScope::of([demo_id("tenant", FJORD), demo_id("tenant", "northwind")])
}

fn actor(email: &str, tenant: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", email),
        actor_tenant: demo_id("tenant", tenant),
        ..test_actor("a delegated write")
    }
}

/// An active USER_ADMIN delegation of fjord to northwind, assigned to northwind's admin.
async fn active_delegation(store: &Store) -> DelegatedUse {
    delegation_approved_at(store, Utc::now(), 30).await
}

/// A USER_ADMIN delegation of fjord to northwind for `days`, requested, approved and assigned
/// to northwind's admin at `now`.
async fn delegation_approved_at(
    store: &Store,
    now: chrono::DateTime<Utc>,
    days: i64,
) -> DelegatedUse {
    let requested = store
        .request_delegation(
            &pair(),
            &demo_id("tenant", FJORD),
            &demo_id("tenant", "northwind"),
            &DelegationRequest {
                scopes: vec![DelegatedScope::UserAdmin],
                duration_days: days,
                message: None,
                auto_extend: false,
            },
            &actor("admin@northwind.test", "northwind"),
            now,
        )
        .await
        .expect("request");
    store
        .change_delegation(
            &pair(),
            &requested.id,
            DelegationChange::Approve,
            &actor("admin@fjord.test", FJORD),
            now,
        )
        .await
        .expect("approve");
    store
        .assign_delegation(
            &pair(),
            &requested.id,
            &[demo_id("user", "admin@northwind.test")],
            &actor("admin@northwind.test", "northwind"),
            now,
        )
        .await
        .expect("assign");
    DelegatedUse {
        reseller_id: demo_id("tenant", "northwind"),
        delegation_id: requested.id,
        scope: DelegatedScope::UserAdmin,
    }
}

async fn invite(
    store: &Store,
    email: &str,
    by: &str,
    used: &DelegatedUse,
) -> Result<portico_store::ManagedUser, StoreError> {
    store
        .invite_user(
            &pair(),
            &NewInvitation {
                tenant_id: demo_id("tenant", FJORD),
                email: email.into(),
                name: "Invited under a delegation".into(),
                roles: RoleSet {
                    roles: vec![Role::Buyer],
                    regions: vec![],
                },
            },
            &actor(by, "northwind"),
            Some(used),
        )
        .await
}

async fn chain(store: &Store, slug: &str) -> Vec<portico_store::model::AuditEntry> {
    let id = demo_id("tenant", slug);
    store
        .audit_entries(&TenantScope::single(id.clone()), &id)
        .await
        .expect("audit")
}

async fn fjord_emails(store: &Store) -> Vec<String> {
    let id = demo_id("tenant", FJORD);
    store
        .users_page(&TenantScope::single(id.clone()), &id, 1000, None)
        .await
        .expect("users")
        .into_iter()
        .map(|m| m.user.email)
        .collect()
}

async fn a_write_after_the_delegation_ended_is_refused_and_writes_nothing(db: TestDb) {
    let store = db.seeded_store().await;
    let used = active_delegation(&store).await;
    // The control: while it is active and assigned, the write lands in both chains.
    invite(&store, "first@fjord.test", "admin@northwind.test", &used)
        .await
        .expect("an active, assigned delegation lets the write through");

    // Not assigned to the one who writes (northwind's support holds no assignment).
    let before = (
        chain(&store, FJORD).await.len(),
        chain(&store, "northwind").await.len(),
    );
    let refused = invite(&store, "x1@fjord.test", "support@northwind.test", &used).await;
    assert!(
        matches!(refused, Err(StoreError::DelegationEnded)),
        "{refused:?}"
    );
    // Named with a scope it does not hold.
    let wrong_scope = DelegatedUse {
        scope: DelegatedScope::SettingsAdmin,
        ..used.clone()
    };
    let refused = invite(
        &store,
        "x2@fjord.test",
        "admin@northwind.test",
        &wrong_scope,
    )
    .await;
    assert!(
        matches!(refused, Err(StoreError::DelegationEnded)),
        "{refused:?}"
    );
    assert_eq!(
        (
            chain(&store, FJORD).await.len(),
            chain(&store, "northwind").await.len()
        ),
        before,
        "refusals write nothing"
    );
    // Revoked.
    store
        .change_delegation(
            &pair(),
            &used.delegation_id,
            DelegationChange::Revoke,
            &actor("admin@fjord.test", FJORD),
            Utc::now(),
        )
        .await
        .expect("revoke");
    let refused = invite(&store, "x3@fjord.test", "admin@northwind.test", &used).await;
    assert!(
        matches!(refused, Err(StoreError::DelegationEnded)),
        "{refused:?}"
    );
    // Past its end though the expiry job has not run yet (its row still says ACTIVE): a
    // one-day delegation approved two days ago.
    let stale = delegation_approved_at(&store, Utc::now() - Duration::days(2), 1).await;
    let before = (
        chain(&store, FJORD).await.len(),
        chain(&store, "northwind").await.len(),
    );
    let refused = invite(&store, "x4@fjord.test", "admin@northwind.test", &stale).await;
    assert!(
        matches!(refused, Err(StoreError::DelegationEnded)),
        "{refused:?}"
    );

    // Read back: none of the refused invitations exists, and no chain grew since.
    let emails = fjord_emails(&store).await;
    assert!(emails.contains(&"first@fjord.test".to_owned()));
    for refused in ["x1", "x2", "x3", "x4"] {
        assert!(
            !emails.contains(&format!("{refused}@fjord.test")),
            "{emails:?}"
        );
    }
    assert_eq!(chain(&store, FJORD).await.len(), before.0);
    assert_eq!(chain(&store, "northwind").await.len(), before.1);
}

async fn no_delegated_write_lands_after_the_revocation_that_races_it(db: TestDb) {
    let store = db.seeded_store().await;
    for round in 0..4 {
        let used = active_delegation(&store).await;
        let writes = (0..6).map(|i| {
            let store = store.clone();
            let used = used.clone();
            async move {
                invite(
                    &store,
                    &format!("r{round}-{i}@fjord.test"),
                    "admin@northwind.test",
                    &used,
                )
                .await
            }
        });
        let revoke = async {
            tokio::task::yield_now().await;
            store
                .change_delegation(
                    &pair(),
                    &used.delegation_id,
                    DelegationChange::Revoke,
                    &actor("admin@fjord.test", FJORD),
                    Utc::now(),
                )
                .await
        };
        let (results, revoked) = tokio::join!(futures_join_all(writes), revoke);
        revoked.expect("the revocation always lands");
        for result in &results {
            assert!(
                matches!(result, Ok(_) | Err(StoreError::DelegationEnded)),
                "round {round}: {result:?}"
            );
        }
        // In fjord's chain, every write made under this delegation comes before its revocation.
        let log = chain(&store, FJORD).await;
        let revoked_at = log
            .iter()
            .find(|e| e.action == "delegation.revoked" && e.target.contains(&used.delegation_id))
            .expect("the revocation is audited")
            .seq;
        let under_it: Vec<i64> = log
            .iter()
            .filter(|e| {
                e.action == "user.invited"
                    && e.reason
                        .as_deref()
                        .is_some_and(|r| r.contains(&used.delegation_id))
            })
            .map(|e| e.seq)
            .collect();
        let landed = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            under_it.len(),
            landed,
            "round {round}: one audit row per write"
        );
        assert!(
            under_it.iter().all(|seq| *seq < revoked_at),
            "round {round}: {under_it:?} vs revocation at {revoked_at}"
        );
    }
}

/// `futures::future::join_all` without the dependency: the writes run concurrently on the
/// test's runtime as tasks of one `JoinSet`, in order.
async fn futures_join_all<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

on_both_backends!(
    a_write_after_the_delegation_ended_is_refused_and_writes_nothing,
    no_delegated_write_lands_after_the_revocation_that_races_it,
);
