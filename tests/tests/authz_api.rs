//! The policy at the API: every demo user walks `customers`, `customer(id)`, `node(id)` and
//! `delegations` with every id any demo user has seen. What comes back is exactly what the
//! policy allows, and nothing of a tenant outside the caller's reseller tree ever comes back:
//! that is NOT_FOUND, the same answer as for an id that does not exist.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_policies::{CachedAuthorizer, DEFAULT_POLICY, OsoEngine, ResourceRef};
use portico_resolvers::cases::CaseWorld;
use portico_tests::{TestApp, TestDb};
use serde_json::{Value, json};

const WALK: &str = "{ viewer { user { id } tenant { id } }
  customers(first: 100) { totalCount edges { node { id name region users { id email } } } }
  delegations { id status reseller { id } customer { id } } }";

/// `Kind:uuid` of an opaque id (the test may look inside; clients may not).
fn decode(id: &str) -> (String, String) {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(id).unwrap()).unwrap();
    let (kind, raw) = text.split_once(':').unwrap();
    (kind.to_owned(), raw.to_owned())
}

fn portal_of(slug: &str) -> &'static str {
    match slug {
        "platform" => "platform.localhost",
        "contoso" | "harbor-tools" => "contoso.localhost",
        _ => "northwind.localhost",
    }
}

fn collect_ids(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "id" {
                    if let Some(id) = v.as_str() {
                        out.insert(id.to_owned());
                    }
                } else {
                    collect_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_demo_user_sees_exactly_what_the_policy_allows_through_every_id() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let directory = app.store.load_directory().await.unwrap();
    let all = directory.scope_of_all();
    let world = CaseWorld::load(&app.store).await.unwrap();
    let authorizer = Arc::new(CachedAuthorizer::new(
        OsoEngine::new(DEFAULT_POLICY).unwrap(),
    ));
    let users = world.users();
    assert_eq!(users.len(), 15);

    // Each user's tenant, and the ids each user sees through the lists.
    let mut tenant_of_user: BTreeMap<String, String> = BTreeMap::new();
    let mut emails_by_user_id: BTreeMap<String, String> = BTreeMap::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut tokens = BTreeMap::new();
    for email in &users {
        let user = app.user(email).await;
        let tenant = directory.tenant(&user.tenant_id).unwrap().slug.clone();
        emails_by_user_id.insert(user.id.clone(), email.clone());
        tenant_of_user.insert(email.clone(), tenant.clone());
        let token = format!("Bearer {}", app.token_for(email).await);
        let walk = app.graphql_as(portal_of(&tenant), &token, WALK).await;
        assert_eq!(walk.status, 200, "{email}: {:?}", walk.body);
        collect_ids(&walk.body["data"], &mut seen);
        tokens.insert(email.clone(), token);
    }
    // Delegation ids → CUSTOMER>RESELLER, from the database.
    let delegation_names: BTreeMap<String, String> = app
        .store
        .delegations(&all)
        .await
        .unwrap()
        .into_iter()
        .map(|d| {
            let c = &directory.tenant(&d.customer_id).unwrap().slug;
            let r = &directory.tenant(&d.reseller_id).unwrap().slug;
            (d.id, format!("{c}>{r}"))
        })
        .collect();
    let kinds: BTreeSet<String> = seen.iter().map(|id| decode(id).0).collect();
    assert_eq!(
        kinds,
        ["Customer", "Delegation", "Tenant", "User"]
            .map(String::from)
            .into(),
        "the walk reached every kind"
    );

    let tree = |slug: &str| -> BTreeSet<String> {
        let t = directory.tenant_by_slug(slug).unwrap();
        let reseller = match t.parent_id.as_deref().and_then(|p| directory.tenant(p)) {
            Some(parent) if parent.slug != "platform" => parent.id.clone(),
            _ => t.id.clone(),
        };
        directory.subtree(&reseller).into_iter().collect()
    };

    let mut checked = 0;
    let mut allowed = 0;
    for email in &users {
        let my_tenant = &tenant_of_user[email];
        let my_tree = tree(my_tenant);
        let host = portal_of(my_tenant);
        let portal_tenant = directory.tenant_for_host(host).unwrap().id.clone();
        for id in &seen {
            let (kind, raw) = decode(id);
            let (resource, owner) = match kind.as_str() {
                "Tenant" | "Customer" => {
                    let slug = directory.tenant(&raw).unwrap().slug.clone();
                    (format!("{}:{slug}", kind.to_lowercase()), raw.clone())
                }
                "User" => {
                    let email = &emails_by_user_id[&raw];
                    let user = app.user(email).await;
                    (format!("user:{email}"), user.tenant_id)
                }
                "Delegation" => {
                    let name = &delegation_names[&raw];
                    let customer = name.split('>').next().unwrap();
                    (
                        format!("delegation:{name}"),
                        directory.tenant_by_slug(customer).unwrap().id.clone(),
                    )
                }
                other => panic!("unexpected kind {other}"),
            };
            let policy = world
                .explain(
                    &authorizer,
                    email,
                    "read",
                    &ResourceRef::parse(&resource).unwrap(),
                    None,
                )
                .await
                .unwrap()
                .decision
                .allowed;
            // A portal's own tenant profile is public on that portal.
            let expected = policy || (kind == "Tenant" && raw == portal_tenant);
            let query = json!({ "query": "query($id: ID!) { node(id: $id) { id } customer(id: $id) { id } }", "variables": { "id": id } });
            let response = app
                .client
                .post(format!("{}/graphql", app.address))
                .header("host", host)
                .header("authorization", &tokens[email])
                .json(&query)
                .send()
                .await
                .unwrap();
            let body: Value = response.json().await.unwrap();
            let node = &body["data"]["node"];
            let got = !node.is_null();
            assert_eq!(got, expected, "{email} node({resource}): {body}");
            if got {
                assert_eq!(node["id"], json!(id));
                allowed += 1;
            }
            let node_error = body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["path"] == json!(["node"]));
            if !got {
                assert_eq!(
                    node_error.map(|e| &e["extensions"]["code"]),
                    Some(&json!("NOT_FOUND")),
                    "{email} {resource}: {body}"
                );
                assert_eq!(
                    node_error.map(|e| &e["message"]),
                    Some(&json!("node not found")),
                    "the same words for every refusal"
                );
            }
            // customer(id) answers only for Customer ids, by the same rule.
            let customer_got = !body["data"]["customer"].is_null();
            assert_eq!(
                customer_got,
                kind == "Customer" && policy,
                "{email} customer({resource}): {body}"
            );
            // Nothing of another reseller's tree, ever (platform staff excepted by rule).
            if my_tenant != "platform" && !my_tree.contains(&owner) {
                assert!(
                    !got && !customer_got,
                    "{email} reached {resource} across trees: {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 15 * 25, "only {checked} checks");
    // Both answers occur, or the walk proves nothing.
    assert!(
        allowed > 15 && allowed < checked,
        "{allowed} of {checked} allowed"
    );
}

#[tokio::test]
async fn masked_fields_give_one_error_per_path_and_lists_never_leave_the_tree() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let rep = format!("Bearer {}", app.token_for("rep-eu@northwind.test").await);
    let walk = app
        .graphql_as(
            "northwind.localhost",
            &rep,
            "{ customers { totalCount edges { node { name region users { email } } } } }",
        )
        .await;
    let names: Vec<&str> = walk.body["data"]["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Alpine Dealers", "Fjord Outfitters"],
        "the EU rep sees EU customers only"
    );
    assert!(
        walk.body["data"]["customers"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["node"]["users"].is_null())
    );
    let errors = walk.body["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        1,
        "one error for the path, not one per customer: {errors:?}"
    );
    assert_eq!(errors[0]["extensions"]["code"], "FIELD_MASKED");
    assert_eq!(
        errors[0]["path"],
        json!(["customers", "edges", "node", "users"])
    );

    // Anonymous callers see no customers and no delegations at all.
    let anonymous = app
        .graphql(
            "northwind.localhost",
            "{ customers { totalCount } delegations { id } }",
        )
        .await;
    assert_eq!(anonymous.body["data"]["customers"]["totalCount"], 0);
    assert_eq!(anonymous.body["data"]["delegations"], json!([]));

    // The region filter narrows, never widens.
    let admin = format!("Bearer {}", app.token_for("admin@northwind.test").await);
    let na = app
        .graphql_as(
            "northwind.localhost",
            &admin,
            "{ customers(region: NA) { edges { node { name } } } }",
        )
        .await;
    assert_eq!(
        na.body["data"]["customers"]["edges"],
        json!([{ "node": { "name": "Prairie Supply" } }])
    );
    let contoso_na = app
        .graphql_as(
            "northwind.localhost",
            &rep,
            "{ customers(region: NA) { totalCount } }",
        )
        .await;
    assert_eq!(contoso_na.body["data"]["customers"]["totalCount"], 0);

    // Bad paging input names the field.
    let bad = app
        .graphql_as(
            "northwind.localhost",
            &admin,
            "{ customers(first: 1000) { totalCount } }",
        )
        .await;
    assert_eq!(bad.first_code(), Some("BAD_USER_INPUT"));
    assert_eq!(bad.body["errors"][0]["extensions"]["field"], "first");
    // Paging walks every customer once.
    let page1 = app.graphql_as("northwind.localhost", &admin, "{ customers(first: 2) { edges { node { name } } pageInfo { hasNextPage endCursor } } }").await;
    let cursor = page1.body["data"]["customers"]["pageInfo"]["endCursor"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        page1.body["data"]["customers"]["pageInfo"]["hasNextPage"],
        true
    );
    let page2 = app
        .graphql_as("northwind.localhost", &admin, &format!("{{ customers(first: 2, after: \"{cursor}\") {{ edges {{ node {{ name }} }} pageInfo {{ hasNextPage }} }} }}"))
        .await;
    assert_eq!(
        page2.body["data"]["customers"]["edges"],
        json!([{ "node": { "name": "Prairie Supply" } }])
    );
    assert_eq!(
        page2.body["data"]["customers"]["pageInfo"]["hasNextPage"],
        false
    );
}
