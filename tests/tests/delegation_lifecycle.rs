//! The delegation lifecycle on both backends: every transition from every state (with a clock
//! the test controls), the expiry job (expire, lapse, auto-extend), decline, assignment to named
//! staff (only they use the scopes), and two changes racing on one delegation (exactly one wins,
//! one audit row).

use chrono::{DateTime, Duration, Utc};
use portico_store::model::{DelegatedScope, DelegationStatus, NewAuditEntry};
use portico_store::seed::demo_id;
use portico_store::{DelegationChange, DelegationRequest, Store, TenantScope};
use portico_tests::{NW, TestApp, TestDb, customer_id, on_both_backends, test_actor};
use serde_json::{Value, json};

fn pair() -> TenantScope {
    TenantScope::of([
        demo_id("tenant", "fjord-outfitters"),
        demo_id("tenant", "northwind"),
    ])
}

fn actor(email: &str, tenant: &str) -> NewAuditEntry {
    NewAuditEntry {
        actor: demo_id("user", email),
        actor_tenant: demo_id("tenant", tenant),
        ..test_actor("a test of the lifecycle")
    }
}

/// A fresh request of northwind to fjord, made at `at`.
async fn request(store: &Store, at: DateTime<Utc>, days: i64, auto_extend: bool) -> String {
    store
        .request_delegation(
            &pair(),
            &demo_id("tenant", "fjord-outfitters"),
            &demo_id("tenant", "northwind"),
            &DelegationRequest {
                scopes: vec![DelegatedScope::UserAdmin],
                duration_days: days,
                message: Some("for the spring onboarding".into()),
                auto_extend,
            },
            &actor("admin@northwind.test", "northwind"),
            at,
        )
        .await
        .expect("request")
        .id
}

async fn change(
    store: &Store,
    id: &str,
    change: DelegationChange,
    at: DateTime<Utc>,
) -> Result<portico_store::model::Delegation, portico_store::StoreError> {
    let by = match change {
        DelegationChange::Revoke => actor("admin@northwind.test", "northwind"),
        _ => actor("admin@fjord.test", "fjord-outfitters"),
    };
    store.change_delegation(&pair(), id, change, &by, at).await
}

async fn fjord_log(store: &Store) -> Vec<portico_store::model::AuditEntry> {
    let fjord = demo_id("tenant", "fjord-outfitters");
    store
        .audit_entries(&TenantScope::single(fjord.clone()), &fjord)
        .await
        .unwrap()
}

async fn every_transition_from_every_state_is_allowed_or_refused_by_name(db: TestDb) {
    let store = db.seeded_store().await;
    let t0 = Utc::now();
    use DelegationChange::*;
    // (how to reach the state, the change, what must come of it)
    #[derive(Clone, Copy, Debug)]
    enum From {
        Pending,
        Active,
        Declined,
        Revoked,
        ActivePastItsEnd,
        PendingPastNinetyDays,
    }
    let table: Vec<(From, DelegationChange, Option<DelegationStatus>)> = vec![
        (From::Pending, Approve, Some(DelegationStatus::Active)),
        (From::Pending, Decline, Some(DelegationStatus::Declined)),
        (From::Pending, Revoke, Some(DelegationStatus::Revoked)),
        (From::Active, Approve, None),
        (From::Active, Decline, None),
        (From::Active, Revoke, Some(DelegationStatus::Revoked)),
        (From::Declined, Approve, None),
        (From::Declined, Decline, None),
        (From::Declined, Revoke, None),
        (From::Revoked, Approve, None),
        (From::Revoked, Decline, None),
        (From::Revoked, Revoke, None),
        (From::ActivePastItsEnd, Approve, None),
        (From::ActivePastItsEnd, Revoke, None),
        (From::PendingPastNinetyDays, Approve, None),
        (From::PendingPastNinetyDays, Decline, None),
        (From::PendingPastNinetyDays, Revoke, None),
    ];
    for (from, action, expected) in table {
        let id = request(&store, t0, 30, false).await;
        let mut now = t0 + Duration::minutes(1);
        match from {
            From::Pending => {}
            From::Active => {
                change(&store, &id, Approve, now).await.unwrap();
            }
            From::Declined => {
                change(&store, &id, Decline, now).await.unwrap();
            }
            From::Revoked => {
                change(&store, &id, Revoke, now).await.unwrap();
            }
            From::ActivePastItsEnd => {
                change(&store, &id, Approve, now).await.unwrap();
                now += Duration::days(31);
            }
            From::PendingPastNinetyDays => now += Duration::days(91),
        }
        let before = fjord_log(&store).await.len();
        let got = change(&store, &id, action, now).await;
        match (expected, got) {
            (Some(status), Ok(after)) => {
                assert_eq!(after.status, status, "{from:?} {action:?}");
                let log = fjord_log(&store).await;
                assert_eq!(log.len(), before + 1, "{from:?} {action:?}: one audit row");
                if status != DelegationStatus::Active {
                    assert_eq!(
                        after.ended_at,
                        Some(chrono::SubsecRound::trunc_subsecs(now, 6))
                    );
                    assert!(after.ended_by.is_some());
                } else {
                    assert_eq!(
                        after.expires_at,
                        chrono::SubsecRound::trunc_subsecs(now, 6) + Duration::days(30),
                        "the duration counts from the approval"
                    );
                }
            }
            (None, Err(portico_store::StoreError::Invalid { field, .. })) => {
                assert_eq!(field, "id", "{from:?} {action:?}");
                assert_eq!(
                    fjord_log(&store).await.len(),
                    before,
                    "{from:?} {action:?}: nothing written"
                );
            }
            (expected, got) => panic!("{from:?} {action:?}: expected {expected:?}, got {got:?}"),
        }
    }
}

async fn the_expiry_job_expires_lapses_and_extends_on_time_and_only_once(db: TestDb) {
    let store = db.seeded_store().await;
    let t0 = Utc::now();
    let ends = request(&store, t0, 30, false).await;
    change(&store, &ends, DelegationChange::Approve, t0)
        .await
        .unwrap();
    let extends = request(&store, t0, 30, true).await;
    change(&store, &extends, DelegationChange::Approve, t0)
        .await
        .unwrap();
    let lapses = request(&store, t0, 30, false).await;
    let all = TenantScope::of(
        [
            "northwind",
            "fjord-outfitters",
            "alpine-dealers",
            "prairie-supply",
            "contoso",
            "harbor-tools",
        ]
        .map(|s| demo_id("tenant", s)),
    );

    let mine = |changed: &[portico_store::model::Delegation]| {
        let mut ids: Vec<String> = changed
            .iter()
            .map(|d| d.id.clone())
            .filter(|id| [&ends, &extends, &lapses].contains(&id))
            .collect();
        ids.sort();
        ids
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };

    // Before anything of this test is due, the job leaves its delegations alone.
    let early = store
        .expire_delegations(&all, t0 + Duration::days(1))
        .await
        .unwrap();
    assert!(mine(&early).is_empty(), "{early:?}");

    let day_31 = t0 + Duration::days(31);
    let changed = store.expire_delegations(&all, day_31).await.unwrap();
    assert_eq!(
        mine(&changed),
        sorted(vec![ends.clone(), extends.clone()]),
        "the two approved ones are due; the request is not yet"
    );
    let by_id = |id: &str| changed.iter().find(|d| d.id == id).unwrap().clone();
    assert_eq!(by_id(&ends).status, DelegationStatus::Expired);
    assert_eq!(by_id(&ends).ended_by, None, "ended by time, not a person");
    assert_eq!(by_id(&extends).status, DelegationStatus::Active);
    assert!(by_id(&extends).expires_at > day_31 + Duration::days(170));
    let log = fjord_log(&store).await;
    for (id, action) in [
        (&ends, "delegation.expired"),
        (&extends, "delegation.extended"),
    ] {
        let row = log
            .iter()
            .find(|r| r.target == format!("delegation:{id}") && r.action == action)
            .unwrap_or_else(|| panic!("{action} audited"));
        assert_eq!(row.actor, "system");
    }

    // Run again at the same time: nothing more to do for these.
    assert!(mine(&store.expire_delegations(&all, day_31).await.unwrap()).is_empty());

    let day_91 = t0 + Duration::days(91);
    let lapsed = store.expire_delegations(&all, day_91).await.unwrap();
    assert_eq!(mine(&lapsed), vec![lapses.clone()]);
    let row = lapsed.iter().find(|d| d.id == lapses).unwrap();
    assert_eq!(row.status, DelegationStatus::Expired);
    assert!(
        fjord_log(&store)
            .await
            .iter()
            .any(|r| r.action == "delegation.lapsed" && r.target == format!("delegation:{lapses}"))
    );
    let verify = store
        .verify_audit_chain(
            &TenantScope::single(demo_id("tenant", "fjord-outfitters")),
            &demo_id("tenant", "fjord-outfitters"),
        )
        .await
        .unwrap();
    assert_eq!(verify.first_broken, None);
}

async fn approve_and_decline_racing_on_one_delegation_have_exactly_one_winner(db: TestDb) {
    let store = db.seeded_store().await;
    let t0 = Utc::now();
    for round in 0..8 {
        let id = request(&store, t0, 30, false).await;
        let before = fjord_log(&store).await.len();
        let (approved, declined) = tokio::join!(
            change(&store, &id, DelegationChange::Approve, t0),
            change(&store, &id, DelegationChange::Decline, t0),
        );
        assert!(
            approved.is_ok() != declined.is_ok(),
            "round {round}: exactly one wins: {approved:?} / {declined:?}"
        );
        let loser = approved.as_ref().err().or(declined.as_ref().err()).unwrap();
        assert!(
            matches!(
                loser,
                portico_store::StoreError::Invalid { field: "id", .. }
            ),
            "{loser:?}"
        );
        let now = store.delegations(&pair()).await.unwrap();
        let row = now.iter().find(|d| d.id == id).unwrap();
        let winner = approved.as_ref().or(declined.as_ref()).unwrap();
        assert_eq!(
            row.status, winner.status,
            "the stored state is the winner's"
        );
        assert_eq!(fjord_log(&store).await.len(), before + 1, "one audit row");
    }
}

async fn approve_and_revoke_racing_lose_no_update(db: TestDb) {
    let store = db.seeded_store().await;
    let t0 = Utc::now();
    for round in 0..8 {
        let id = request(&store, t0, 30, false).await;
        let before = fjord_log(&store).await.len();
        let (approved, revoked) = tokio::join!(
            change(&store, &id, DelegationChange::Approve, t0),
            change(&store, &id, DelegationChange::Revoke, t0),
        );
        let stored = store
            .delegations(&pair())
            .await
            .unwrap()
            .into_iter()
            .find(|d| d.id == id)
            .unwrap();
        let rows = fjord_log(&store).await.len() - before;
        match (&approved, &revoked) {
            // Revoked after the approval landed: both count, in that order.
            (Ok(_), Ok(_)) => {
                assert_eq!(stored.status, DelegationStatus::Revoked, "round {round}");
                assert_eq!(rows, 2);
            }
            (Ok(a), Err(_)) => {
                assert_eq!(stored.status, a.status, "round {round}");
                assert_eq!(rows, 1);
            }
            (Err(_), Ok(r)) => {
                assert_eq!(stored.status, r.status, "round {round}");
                assert_eq!(rows, 1);
            }
            (Err(a), Err(r)) => panic!("round {round}: neither won: {a:?} / {r:?}"),
        }
        // Never an approval recorded over a revocation (a lost update).
        assert!(
            !(stored.status == DelegationStatus::Active && revoked.is_ok()),
            "round {round}"
        );
    }
}

const ASSIGN: &str = "mutation($id: ID!, $users: [ID!]!) { assignDelegation(input: { id: $id, userIds: $users }) { delegation { assignees } } }";

fn user_id(email: &str) -> String {
    portico_resolvers::encode_id("User", &demo_id("user", email)).to_string()
}

async fn prairie_users(app: &TestApp, email: &str) -> Value {
    app.as_user(
        email,
        NW,
        "query($id: ID!) { customer(id: $id) { users { email } } }",
        json!({ "id": customer_id("prairie-supply") }),
    )
    .await
    .body["data"]["customer"]["users"]
        .clone()
}

async fn only_the_staff_a_delegation_is_assigned_to_use_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let prairie = portico_resolvers::encode_id(
        "Delegation",
        &demo_id("delegation", "prairie-northwind-support"),
    )
    .to_string();
    // Assigned to both in the demo: both read prairie's users.
    assert!(
        prairie_users(&app, "support@northwind.test")
            .await
            .is_array()
    );
    assert!(prairie_users(&app, "admin@northwind.test").await.is_array());

    // Refusals first: nothing changes.
    for (who, host, users, code) in [
        (
            "support@northwind.test",
            NW,
            vec![user_id("admin@northwind.test")],
            "FORBIDDEN",
        ),
        (
            "admin@prairie.test",
            NW,
            vec![user_id("admin@northwind.test")],
            "FORBIDDEN",
        ),
        (
            "admin@contoso.test",
            "contoso.localhost",
            vec![user_id("admin@contoso.test")],
            "NOT_FOUND",
        ),
        (
            "admin@northwind.test",
            NW,
            vec![user_id("buyer@prairie.test")],
            "BAD_USER_INPUT",
        ),
        (
            "admin@northwind.test",
            NW,
            vec![user_id("admin@contoso.test")],
            "BAD_USER_INPUT",
        ),
    ] {
        let r = app
            .as_user(who, host, ASSIGN, json!({ "id": prairie, "users": users }))
            .await;
        assert_eq!(r.first_code(), Some(code), "{who}: {:?}", r.body);
    }
    assert!(
        prairie_users(&app, "support@northwind.test")
            .await
            .is_array()
    );

    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            ASSIGN,
            json!({ "id": prairie, "users": [user_id("admin@northwind.test")] }),
        )
        .await;
    assert_eq!(
        r.body["data"]["assignDelegation"]["delegation"]["assignees"],
        json!([user_id("admin@northwind.test")]),
        "{:?}",
        r.body
    );
    assert_eq!(
        prairie_users(&app, "support@northwind.test").await,
        Value::Null,
        "unassigned"
    );
    assert!(prairie_users(&app, "admin@northwind.test").await.is_array());

    // The customer sees who may use it, and the assignment is in both logs.
    let seen = app
        .as_user(
            "admin@prairie.test",
            NW,
            "{ delegations { id assignees status } }",
            json!({}),
        )
        .await;
    let mine = seen.body["data"]["delegations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == prairie.as_str())
        .cloned()
        .unwrap();
    assert_eq!(mine["assignees"], json!([user_id("admin@northwind.test")]));
    for slug in ["prairie-supply", "northwind"] {
        let tenant = demo_id("tenant", slug);
        let log = app
            .store
            .audit_entries(&TenantScope::single(tenant.clone()), &tenant)
            .await
            .unwrap();
        assert_eq!(log.last().unwrap().action, "delegation.assigned", "{slug}");
    }

    // A revoked delegation can't be assigned.
    let revoke = app
        .as_user(
            "admin@prairie.test",
            NW,
            "mutation($id: ID!) { revokeDelegation(input: { id: $id }) { delegation { status endedBy } } }",
            json!({ "id": prairie }),
        )
        .await;
    assert_eq!(
        revoke.body["data"]["revokeDelegation"]["delegation"]["endedBy"],
        user_id("admin@prairie.test"),
        "{:?}",
        revoke.body
    );
    let late = app
        .as_user(
            "admin@northwind.test",
            NW,
            ASSIGN,
            json!({ "id": prairie, "users": [user_id("admin@northwind.test")] }),
        )
        .await;
    assert_eq!(late.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(
        prairie_users(&app, "admin@northwind.test").await,
        Value::Null
    );
}

async fn a_request_reads_back_with_its_duration_message_and_dates_and_can_be_declined(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let request = "mutation($input: RequestDelegationInput!) { requestDelegation(input: $input) { delegation { id status requestedAt endsAt message autoExtend } } }";
    let bad = app
        .as_user(
            "admin@northwind.test",
            NW,
            request,
            json!({ "input": { "customerId": customer_id("alpine-dealers"), "scopes": ["SUPPORT_READONLY"], "durationDays": 731 } }),
        )
        .await;
    assert_eq!(bad.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "durationDays");
    let made = app
        .as_user(
            "admin@northwind.test",
            NW,
            request,
            json!({ "input": { "customerId": customer_id("alpine-dealers"), "scopes": ["SUPPORT_READONLY"],
                               "durationDays": 7, "message": "quarter-end support", "autoExtend": true } }),
        )
        .await;
    let d = &made.body["data"]["requestDelegation"]["delegation"];
    assert_eq!(d["status"], "PENDING", "{:?}", made.body);
    assert_eq!(d["message"], "quarter-end support");
    assert_eq!(d["autoExtend"], true);
    let requested: DateTime<Utc> = d["requestedAt"].as_str().unwrap().parse().unwrap();
    let ends: DateTime<Utc> = d["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(ends - requested, Duration::days(7));
    let id = d["id"].clone();
    // The reseller may not decline its own request; the customer's buyer may not either.
    for who in ["admin@northwind.test", "buyer@alpine.test"] {
        let r = app
            .as_user(
                who,
                NW,
                "mutation($id: ID!) { declineDelegation(input: { id: $id }) { delegation { status } } }",
                json!({ "id": id }),
            )
            .await;
        assert!(
            matches!(r.first_code(), Some("FORBIDDEN" | "NOT_FOUND")),
            "{who}: {:?}",
            r.body
        );
    }
    let declined = app
        .as_user(
            "admin@alpine.test",
            NW,
            "mutation($id: ID!) { declineDelegation(input: { id: $id }) { delegation { status endedAt endedBy } } }",
            json!({ "id": id }),
        )
        .await;
    let d = &declined.body["data"]["declineDelegation"]["delegation"];
    assert_eq!(d["status"], "DECLINED", "{:?}", declined.body);
    assert_eq!(d["endedBy"], user_id("admin@alpine.test"));
    assert!(d["endedAt"].is_string());
    // Read back by the reseller.
    let seen = app
        .as_user(
            "admin@northwind.test",
            NW,
            "{ delegations(status: DECLINED) { id endedBy } }",
            json!({}),
        )
        .await;
    assert!(
        seen.body["data"]["delegations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id),
        "{:?}",
        seen.body
    );
}

on_both_backends!(
    every_transition_from_every_state_is_allowed_or_refused_by_name,
    the_expiry_job_expires_lapses_and_extends_on_time_and_only_once,
    approve_and_decline_racing_on_one_delegation_have_exactly_one_winner,
    approve_and_revoke_racing_lose_no_update,
    only_the_staff_a_delegation_is_assigned_to_use_it,
    a_request_reads_back_with_its_duration_message_and_dates_and_can_be_declined,
);
