//! A scripted run of 1,000 mixed admin mutations over four tenants, in parallel, through the
//! API on both backends (invitations, role changes, deactivations and reactivations, customer
//! renames, delegation requests; some in a customer under USER_ADMIN, so written to two chains
//! in one transaction): every one succeeds, and then every audit chain verifies. One row changed
//! by hand afterwards, and the verification names it.

use portico_store::{ChainProblem, TenantScope};
use portico_tests::{CO, NW, TestApp, TestDb, customer_id, on_both_backends, tenant};
use serde_json::{Value, json};

const PER_TENANT: usize = 250;

/// One admin's share of the run: (who, portal, where their invitations go (None: own tenant),
/// the two roles they toggle, a customer they may rename).
struct Worker {
    who: &'static str,
    host: &'static str,
    into: Option<String>,
    roles: [&'static str; 2],
    customer: Option<String>,
}

async fn run(app: &TestApp, w: &Worker, n: usize) {
    let mut last: Option<(Value, i64)> = None;
    for i in 0..n {
        let (query, variables) = match (i % 5, &last) {
            (0, _) | (_, None) => {
                let mut input = json!({ "email": format!("mix-{i}-{}", w.who), "name": format!("Mix {i}"),
                                        "roles": [w.roles[0]] });
                if let Some(into) = &w.into {
                    input["tenantId"] = json!(into);
                }
                (
                    "mutation($input: InviteUserInput!) { inviteUser(input: $input) { user { id version } } }",
                    json!({ "input": input }),
                )
            }
            (1, Some((id, version))) => (
                "mutation($input: UpdateUserRolesInput!) { updateUserRoles(input: $input) { user { id version } } }",
                json!({ "input": { "id": id, "roles": [w.roles[i % 2]], "expectedVersion": version } }),
            ),
            (2, Some((id, _))) => (
                "mutation($input: UserIdInput!) { deactivateUser(input: $input) { user { id version } } }",
                json!({ "input": { "id": id } }),
            ),
            (3, Some((id, _))) => (
                "mutation($input: UserIdInput!) { reactivateUser(input: $input) { user { id version } } }",
                json!({ "input": { "id": id } }),
            ),
            (_, Some(_)) => match &w.customer {
                Some(customer) => (
                    "mutation($input: UpdateCustomerInput!) { updateCustomer(input: $input) { customer { id } } }",
                    json!({ "input": { "id": customer, "name": format!("Renamed {i}") } }),
                ),
                None => {
                    let mut input = json!({ "email": format!("mix-extra-{i}-{}", w.who), "name": "Extra",
                                            "roles": [w.roles[1]] });
                    if let Some(into) = &w.into {
                        input["tenantId"] = json!(into);
                    }
                    (
                        "mutation($input: InviteUserInput!) { inviteUser(input: $input) { user { id version } } }",
                        json!({ "input": input }),
                    )
                }
            },
        };
        let r = app.as_user(w.who, w.host, query, variables.clone()).await;
        assert!(
            r.body["errors"].is_null(),
            "{} #{i}: {query} {variables}: {:?}",
            w.who,
            r.body
        );
        let data = r.body["data"].as_object().unwrap().values().next().unwrap();
        if let Some(user) = data.get("user")
            && i % 5 != 4
        {
            last = Some((user["id"].clone(), user["version"].as_i64().unwrap()));
        }
    }
}

async fn a_thousand_mixed_admin_mutations_leave_every_chain_verifiable(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let workers = [
        Worker {
            who: "admin@northwind.test",
            host: NW,
            into: None,
            roles: ["SUPPORT", "PRICING_MANAGER"],
            customer: Some(customer_id("fjord-outfitters")),
        },
        // Under alpine's USER_ADMIN: each change in alpine's chain and northwind's.
        Worker {
            who: "admin@northwind.test",
            host: NW,
            into: Some(customer_id("alpine-dealers")),
            roles: ["BUYER", "VIEWER"],
            customer: None,
        },
        Worker {
            who: "admin@contoso.test",
            host: CO,
            into: Some(customer_id("harbor-tools")),
            roles: ["BUYER", "VIEWER"],
            customer: Some(customer_id("harbor-tools")),
        },
        Worker {
            who: "admin@prairie.test",
            host: NW,
            into: None,
            roles: ["BUYER", "VIEWER"],
            customer: None,
        },
    ];
    tokio::join!(
        run(&app, &workers[0], PER_TENANT),
        run(&app, &workers[1], PER_TENANT),
        run(&app, &workers[2], PER_TENANT),
        run(&app, &workers[3], PER_TENANT),
    );

    let slugs = [
        "northwind",
        "contoso",
        "alpine-dealers",
        "harbor-tools",
        "prairie-supply",
        "fjord-outfitters",
    ];
    let mut total = 0;
    for slug in slugs {
        let id = tenant(slug);
        let report = app
            .store
            .verify_audit_chain(&TenantScope::single(id.clone()), &id)
            .await
            .unwrap();
        assert_eq!(report.first_broken, None, "{slug}: {report:?}");
        total += report.rows;
    }
    assert!(
        total >= 4 * PER_TENANT,
        "every mutation audited at least once: {total}"
    );

    // One row changed by hand (as the table's owner would: on SQLite past the append-only
    // trigger, which only guards against the application): the verification names it.
    let alpine = tenant("alpine-dealers");
    if app.db.url.starts_with("sqlite:") {
        app.sql_by_hand("DROP TRIGGER audit_log_no_update", &[])
            .await;
    }
    app.sql_by_hand(
        "UPDATE audit_log SET reason = 'nothing to see' WHERE tenant_id = $1 AND seq = 7",
        &[&alpine],
    )
    .await;
    let report = app
        .store
        .verify_audit_chain(&TenantScope::single(alpine.clone()), &alpine)
        .await
        .unwrap();
    assert_eq!(report.first_broken, Some(7), "{report:?}");
    assert_eq!(report.problem, Some(ChainProblem::HashMismatch));
}

on_both_backends!(a_thousand_mixed_admin_mutations_leave_every_chain_verifiable);
