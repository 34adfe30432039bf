//! The server over HTTP: portals from the Host header, GraphQL-over-HTTP, limits, health.

use portico_tests::{TestApp, TestDb, on_both_backends};
use serde_json::json;

on_both_backends!(
    each_portal_answers_with_its_own_tenant,
    an_unknown_host_gets_a_clear_error_and_no_tenant,
    readyz_reports_the_database_and_its_migrations,
);

async fn each_portal_answers_with_its_own_tenant(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for (host, slug, name, kind) in [
        (
            "northwind.localhost",
            "northwind",
            "Northwind Distribution",
            "RESELLER",
        ),
        (
            "contoso.localhost:8080",
            "contoso",
            "Contoso Supply",
            "RESELLER",
        ),
        (
            "Platform.LOCALHOST",
            "platform",
            "Portico Platform",
            "PLATFORM",
        ),
    ] {
        let r = app
            .graphql(host, "{ tenant { id slug name kind region } }")
            .await;
        assert_eq!(r.status, 200, "{host}: {:?}", r.body);
        assert_eq!(r.content_type, "application/graphql-response+json");
        let tenant = &r.body["data"]["tenant"];
        assert_eq!(tenant["slug"], slug);
        assert_eq!(tenant["name"], name);
        assert_eq!(tenant["kind"], kind);
        assert_eq!(tenant["region"], json!(null));
        assert!(
            !tenant["id"].as_str().unwrap().contains(slug),
            "ids are opaque"
        );
    }
}

async fn an_unknown_host_gets_a_clear_error_and_no_tenant(db: TestDb) {
    let app = TestApp::spawn(db).await;
    // A customer has no portal of its own, and a made-up host none at all.
    for host in [
        "alpine-dealers.localhost",
        "evil.example",
        "northwind.localhost.evil.example",
    ] {
        let r = app.graphql(host, "{ tenant { slug } }").await;
        assert_eq!(r.status, 404, "{host}");
        assert_eq!(r.first_code(), Some("NOT_FOUND"));
        let message = r.body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(&host.to_ascii_lowercase()), "{message}");
        assert!(
            r.body.get("data").is_none(),
            "no tenant data at all: {:?}",
            r.body
        );
    }
}

async fn readyz_reports_the_database_and_its_migrations(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let ready = app.get("anything", "/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(
        body["migrations"]["applied"],
        body["migrations"]["expected"]
    );
    let health = app.get("anything", "/healthz").await;
    assert_eq!(health.status(), 200);

    app.store.close().await;
    let down = app.get("anything", "/readyz").await;
    assert_eq!(down.status(), 503, "a closed database is not ready");
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let ok = TestApp::read(
        app.get(
            "northwind.localhost",
            "/graphql?query=%7Btenant%7Bslug%7D%7D",
        )
        .await,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["data"]["tenant"]["slug"], "northwind");

    let refused = app
        .get(
            "northwind.localhost",
            "/graphql?query=mutation%20%7B%20x%20%7D",
        )
        .await;
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "POST");
    let refused = TestApp::read(refused).await;
    assert_eq!(refused.first_code(), Some("BAD_USER_INPUT"));

    let named = "/graphql?operationName=Change&query=query%20Read%20%7Btenant%7Bslug%7D%7D%20mutation%20Change%20%7Bx%7D";
    assert_eq!(
        app.get("northwind.localhost", named).await.status(),
        405,
        "the named operation counts"
    );
}

#[tokio::test]
async fn legacy_json_clients_get_application_json_and_status_200() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("host", "contoso.localhost")
        .header("accept", "application/json")
        .json(&json!({ "query": "{ tenant { slug } " }))
        .send()
        .await
        .unwrap();
    let r = TestApp::read(r).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "application/json");
    assert_eq!(
        r.first_code(),
        Some("BAD_USER_INPUT"),
        "a parse error: {:?}",
        r.body
    );
}

#[tokio::test]
async fn a_request_error_is_a_400_with_a_code_and_no_data() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let r = app
        .graphql("northwind.localhost", "{ tenant { slug secretField } }")
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"));
    assert!(r.body.get("data").is_none());
}

#[tokio::test]
async fn field_suggestions_and_introspection_follow_the_configuration() {
    let closed = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.graphql.introspection = Some(false)
    })
    .await;
    let r = closed
        .graphql("northwind.localhost", "{ __schema { types { name } } }")
        .await;
    assert!(
        r.body["data"]["__schema"].is_null(),
        "introspection is off: {:?}",
        r.body
    );
    let r = closed
        .graphql(
            "northwind.localhost",
            r#"{ __type(name: "Tenant") { fields { name } } }"#,
        )
        .await;
    assert!(
        r.body["data"]["__type"].is_null(),
        "no type is described: {:?}",
        r.body
    );
    let r = closed
        .graphql("northwind.localhost", "{ tenant { slugg } }")
        .await;
    let message = r.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        !message.contains("Did you mean"),
        "no suggestions: {message}"
    );
    assert_eq!(
        closed
            .get("northwind.localhost", "/graphiql")
            .await
            .status(),
        404
    );

    let open = TestApp::spawn(TestDb::sqlite().await).await;
    let r = open
        .graphql("northwind.localhost", "{ __schema { queryType { name } } }")
        .await;
    assert_eq!(
        r.body["data"]["__schema"]["queryType"]["name"], "Query",
        "demo mode has introspection"
    );
    assert_eq!(
        open.get("northwind.localhost", "/graphiql").await.status(),
        200
    );
}

#[tokio::test]
async fn deep_and_complex_queries_are_refused_with_query_too_complex() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.graphql.max_depth = 3;
        c.graphql.max_complexity = 4;
    })
    .await;
    // Four levels of data fields, few of them: refused for depth before cost.
    let deep = app
        .graphql(
            "northwind.localhost",
            "{ customers { edges { node { name } } } }",
        )
        .await;
    assert_eq!(
        deep.first_code(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        deep.body
    );
    assert!(
        deep.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep"),
        "{:?}",
        deep.body
    );
    let wide = app
        .graphql(
            "northwind.localhost",
            "{ a: tenant { slug name } b: tenant { slug name } c: tenant { id } }",
        )
        .await;
    assert_eq!(
        wide.first_code(),
        Some("QUERY_TOO_COMPLEX"),
        "{:?}",
        wide.body
    );
    let fine = app
        .graphql("northwind.localhost", "{ tenant { slug } }")
        .await;
    assert_eq!(fine.status, 200);
}

#[tokio::test]
async fn oversized_bodies_and_batches_are_refused_before_execution() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, |c| {
        c.graphql.max_body_bytes = 2048;
        c.graphql.max_batch = 2;
    })
    .await;
    let padding = " ".repeat(4096);
    let big = app
        .graphql(
            "northwind.localhost",
            &format!("{{ tenant {{ slug }} {padding} }}"),
        )
        .await;
    assert_eq!(big.status, 413);
    assert_eq!(big.first_code(), Some("BAD_USER_INPUT"));

    let op = json!({ "query": "{ tenant { slug } }" });
    let two = app
        .graphql_with("northwind.localhost", json!([op, op]))
        .await;
    assert_eq!(two.status, 200);
    assert_eq!(two.body[1]["data"]["tenant"]["slug"], "northwind");
    let three = app
        .graphql_with("northwind.localhost", json!([op, op, op]))
        .await;
    assert_eq!(three.status, 400);
    assert!(
        three.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("1 to 2")
    );
}

#[tokio::test]
async fn post_needs_a_json_content_type() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let r = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("host", "northwind.localhost")
        .header("content-type", "text/plain")
        .body(r#"{"query":"{ tenant { slug } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    let r = TestApp::read(r).await;
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("content-type")
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_keeps_the_callers() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let generated = app.get("northwind.localhost", "/healthz").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let given = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn the_demo_page_lists_portals_and_users() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let page = app.get(&format!("localhost:{}", app.port), "/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    for needle in [
        "northwind.localhost",
        "contoso.localhost",
        "platform.localhost",
        "buyer@alpine.test",
        "sales_rep (EU)",
        "/graphiql",
    ] {
        assert!(html.contains(needle), "missing {needle}");
    }
    let not_demo = TestApp::spawn_with(TestDb::sqlite().await, |c| c.demo = false).await;
    assert_eq!(
        not_demo.get("localhost", "/").await.status(),
        404,
        "no demo page outside demo mode"
    );
}

#[tokio::test]
async fn a_second_start_on_the_same_data_reuses_it() {
    let db = TestDb::sqlite().await;
    let config = portico::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: db.dir.path().to_owned(),
        database_url: None,
        demo: true,
        ..portico::Config::default()
    };
    let first = portico::Application::build(config.clone()).await.unwrap();
    assert!(matches!(
        first.data_state(),
        portico::DataState::Seeded { .. }
    ));
    first.state().store.close().await;
    drop(first);
    let second = portico::Application::build(config).await.unwrap();
    assert_eq!(
        second.data_state(),
        &portico::DataState::Reused {
            version: "1".into()
        }
    );
    assert!(
        db.dir.path().join("portico.db").exists(),
        "SQLite lives in the data dir"
    );
}
