//! Integration credentials through the real server on both backends: a tenant's admin creates
//! a service account (its secret shown once), the connector trades id and secret for a
//! short-lived token at `POST /oauth/token` and acts with the account's roles; rotation
//! retires the old secret, deletion and deactivation end the account's tokens, a suspended
//! customer's account gets none. Nobody but the tenant's own admins sees or manages its
//! accounts (NOT_FOUND across tenants, FORBIDDEN inside, nothing written), a token is good
//! only on the portal that issued it, and forged tokens are refused.

use base64::Engine as _;
use portico_store::TenantScope;
use portico_tests::{CO, NW, TestApp, TestDb, customer_id, on_both_backends, tenant};
use reqwest::StatusCode;
use serde_json::{Value, json};

const CREATE: &str = "mutation($input: CreateServiceAccountInput!) { createServiceAccount(input: $input) { clientSecret tokenEndpoint serviceAccount { id clientId name userId active roles regions secretHint version lastUsedAt } } }";
const ROTATE: &str = "mutation($input: RotateServiceAccountSecretInput!) { rotateServiceAccountSecret(input: $input) { clientSecret serviceAccount { id secretHint version rotatedAt } } }";
const DELETE: &str = "mutation($input: ServiceAccountIdInput!) { deleteServiceAccount(input: $input) { deletedId } }";
const LIST: &str = "{ viewer { tenant { serviceAccounts { id clientId name active roles secretHint lastUsedAt } } } }";
const INVITE: &str =
    "mutation($input: InviteUserInput!) { inviteUser(input: $input) { user { id email status } } }";

/// A created account: (GraphQL id, client id, secret, user id, version).
struct Created {
    id: String,
    client_id: String,
    secret: String,
    user_id: String,
    version: i64,
}

async fn create(app: &TestApp, admin: &str, host: &str, name: &str, roles: &[&str]) -> Created {
    let r = app
        .as_user(
            admin,
            host,
            CREATE,
            json!({ "input": { "name": name, "roles": roles } }),
        )
        .await;
    let payload = &r.body["data"]["createServiceAccount"];
    let account = &payload["serviceAccount"];
    assert!(account.is_object(), "{:?}", r.body);
    Created {
        id: account["id"].as_str().unwrap().to_owned(),
        client_id: account["clientId"].as_str().unwrap().to_owned(),
        secret: payload["clientSecret"].as_str().unwrap().to_owned(),
        user_id: account["userId"].as_str().unwrap().to_owned(),
        version: account["version"].as_i64().unwrap(),
    }
}

/// `POST /oauth/token` on `host` with `form` and optional extra headers: (status, headers, body).
async fn token_request(
    app: &TestApp,
    host: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .header("host", host)
        .form(form);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("token request");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// A token for the account by HTTP Basic, or the refusal's status and `error`.
async fn token(
    app: &TestApp,
    host: &str,
    id: &str,
    secret: &str,
) -> Result<String, (StatusCode, String)> {
    let auth = basic(id, secret);
    let (status, _, body) = token_request(
        app,
        host,
        &[("grant_type", "client_credentials")],
        &[("authorization", &auth)],
    )
    .await;
    match body["access_token"].as_str() {
        Some(token) if status == StatusCode::OK => Ok(token.to_owned()),
        _ => Err((status, body["error"].as_str().unwrap_or("none").to_owned())),
    }
}

async fn with_token(
    app: &TestApp,
    host: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> portico_tests::GraphqlResponse {
    let bearer = format!("Bearer {token}");
    app.post_graphql(
        host,
        &[("authorization", &bearer)],
        &json!({ "query": query, "variables": variables }),
    )
    .await
}

async fn audit_of(app: &TestApp, slug: &str) -> Vec<portico_store::model::AuditEntry> {
    let id = tenant(slug);
    app.store
        .audit_entries(&TenantScope::single(id.clone()), &id)
        .await
        .expect("audit entries")
}

/// The accounts `admin` lists on `host`, by name.
async fn listed(app: &TestApp, admin: &str, host: &str) -> Vec<String> {
    let r = app.as_user(admin, host, LIST, json!({})).await;
    r.body["data"]["viewer"]["tenant"]["serviceAccounts"]
        .as_array()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Every stored secret column of every account, read below the application.
async fn stored_secret_columns(app: &TestApp) -> Vec<String> {
    use sqlx::Connection as _;
    let sql = "SELECT secret_hash || ' ' || secret_hint FROM service_accounts";
    if app.db.url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&app.db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(&app.db.url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

fn raw_user_id(graphql_id: &str) -> String {
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(graphql_id)
        .expect("id");
    String::from_utf8(text).unwrap()["User:".len()..].to_owned()
}

async fn an_admin_creates_an_account_whose_secret_buys_a_token_that_acts_with_its_roles(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let erp = create(
        &app,
        "admin@northwind.test",
        NW,
        "ERP connector",
        &["RESELLER_ADMIN"],
    )
    .await;
    assert!(
        erp.secret.starts_with("pcs_") && erp.secret.len() == 68,
        "{}",
        erp.secret
    );

    // Only a digest of the secret is stored; the list shows its last four characters.
    let stored = stored_secret_columns(&app).await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&erp.secret[4..]), "{stored:?}");
    let r = app
        .as_user("admin@northwind.test", NW, LIST, json!({}))
        .await;
    let accounts = &r.body["data"]["viewer"]["tenant"]["serviceAccounts"];
    assert_eq!(accounts[0]["name"], "ERP connector", "{:?}", r.body);
    assert_eq!(accounts[0]["roles"], json!(["RESELLER_ADMIN"]));
    assert_eq!(
        accounts[0]["secretHint"],
        &erp.secret[erp.secret.len() - 4..]
    );
    assert_eq!(accounts[0]["lastUsedAt"], Value::Null);
    assert!(!r.body.to_string().contains(&erp.secret));

    // The connector gets a token and acts as the account: it invites a colleague.
    let issued_token = token(&app, NW, &erp.client_id, &erp.secret)
        .await
        .expect("a token");
    let r = with_token(
        &app,
        NW,
        &issued_token,
        "{ viewer { user { name } roles tenant { slug } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r.body["data"]["viewer"]["user"]["name"], "ERP connector",
        "{:?}",
        r.body
    );
    assert_eq!(r.body["data"]["viewer"]["roles"], json!(["reseller_admin"]));
    let r = with_token(
        &app,
        NW,
        &issued_token,
        INVITE,
        json!({ "input": { "email": "sync@northwind.test", "name": "Synced", "roles": ["SUPPORT"] } }),
    )
    .await;
    assert_eq!(
        r.body["data"]["inviteUser"]["user"]["status"], "INVITED",
        "{:?}",
        r.body
    );

    // Northwind's log names the admin who created it, then the account as the actor of the
    // token's issue and of the invitation.
    let account_user = raw_user_id(&erp.user_id);
    let admin = app.user("admin@northwind.test").await;
    let log = audit_of(&app, "northwind").await;
    let created = log
        .iter()
        .find(|e| e.action == "service_account.created")
        .expect("created");
    assert_eq!(created.actor, admin.id);
    let issued = log
        .iter()
        .find(|e| e.action == "service_account.token_issued")
        .expect("issued");
    assert_eq!(issued.actor, account_user);
    assert_eq!(issued.target, format!("service_account:{}", erp.client_id));
    let invited = log
        .iter()
        .find(|e| e.action == "user.invited")
        .expect("invited");
    assert_eq!(invited.actor, account_user);
    let r = app
        .as_user("admin@northwind.test", NW, LIST, json!({}))
        .await;
    assert!(r.body["data"]["viewer"]["tenant"]["serviceAccounts"][0]["lastUsedAt"].is_string());

    // The account is no person: it is not among the tenant's users, and it does not keep a
    // tenant with no human admin administrable (the last-admin guard counts people only).
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            "{ viewer { tenant { users(first: 50) { edges { node { name } } } } } }",
            json!({}),
        )
        .await;
    assert!(
        !r.body.to_string().contains("ERP connector"),
        "{:?}",
        r.body
    );
    let r = with_token(
        &app,
        NW,
        &issued_token,
        "mutation($input: UserIdInput!) { deactivateUser(input: $input) { user { status } } }",
        json!({ "input": { "id": portico_resolvers::encode_id("User", &admin.id).to_string() } }),
    )
    .await;
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    assert!(
        r.body.to_string().contains("last active admin"),
        "{:?}",
        r.body
    );
}

async fn a_token_is_good_only_on_the_portal_that_issued_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let erp = create(
        &app,
        "admin@northwind.test",
        NW,
        "ERP",
        &["PRICING_MANAGER"],
    )
    .await;
    let issued_token = token(&app, NW, &erp.client_id, &erp.secret)
        .await
        .expect("a token");
    let r = with_token(
        &app,
        CO,
        &issued_token,
        "{ viewer { user { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    // Contoso's portal does not know northwind's account at all.
    assert_eq!(
        token_of(&app, CO, &erp).await,
        Err((StatusCode::UNAUTHORIZED, "invalid_client".into()))
    );
    // A customer's account gets its token on its reseller's portal, where its users sign in.
    let dealer = create(&app, "admin@alpine.test", NW, "Dealer ERP", &["BUYER"]).await;
    let issued_token = token(&app, NW, &dealer.client_id, &dealer.secret)
        .await
        .expect("a token");
    let r = with_token(
        &app,
        NW,
        &issued_token,
        "{ viewer { tenant { slug } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r.body["data"]["viewer"]["tenant"]["slug"], "alpine-dealers",
        "{:?}",
        r.body
    );
    assert_eq!(
        token_of(&app, CO, &dealer).await,
        Err((StatusCode::UNAUTHORIZED, "invalid_client".into()))
    );
}

async fn token_of(app: &TestApp, host: &str, c: &Created) -> Result<String, (StatusCode, String)> {
    token(app, host, &c.client_id, &c.secret).await
}

async fn rotation_retires_the_old_secret_and_deletion_ends_the_tokens(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let erp = create(&app, "admin@northwind.test", NW, "ERP", &["SUPPORT"]).await;
    let old_token = token(&app, NW, &erp.client_id, &erp.secret)
        .await
        .expect("a token");

    let stale = app
        .as_user(
            "admin@northwind.test",
            NW,
            ROTATE,
            json!({ "input": { "id": erp.id, "expectedVersion": erp.version + 1 } }),
        )
        .await;
    assert_eq!(
        stale.first_code(),
        Some("BAD_USER_INPUT"),
        "{:?}",
        stale.body
    );
    assert!(
        token_of(&app, NW, &erp).await.is_ok(),
        "a refused rotation changes nothing"
    );

    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            ROTATE,
            json!({ "input": { "id": erp.id, "expectedVersion": erp.version } }),
        )
        .await;
    let new_secret = r.body["data"]["rotateServiceAccountSecret"]["clientSecret"]
        .as_str()
        .unwrap_or_else(|| panic!("{:?}", r.body))
        .to_owned();
    assert_ne!(new_secret, erp.secret);
    assert_eq!(
        token_of(&app, NW, &erp).await,
        Err((StatusCode::UNAUTHORIZED, "invalid_client".into())),
        "the old secret is retired"
    );
    let fresh = token(&app, NW, &erp.client_id, &new_secret)
        .await
        .expect("the new secret works");
    // Tokens already issued live out their few minutes.
    let r = with_token(
        &app,
        NW,
        &old_token,
        "{ viewer { user { name } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        r.body["data"]["viewer"]["user"]["name"], "ERP",
        "{:?}",
        r.body
    );

    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            DELETE,
            json!({ "input": { "id": erp.id } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["deleteServiceAccount"]["deletedId"],
        erp.id.as_str(),
        "{:?}",
        r.body
    );
    for t in [&old_token, &fresh] {
        let r = with_token(&app, NW, t, "{ viewer { user { name } } }", json!({})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    }
    assert!(token(&app, NW, &erp.client_id, &new_secret).await.is_err());
    assert!(listed(&app, "admin@northwind.test", NW).await.is_empty());
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            DELETE,
            json!({ "input": { "id": erp.id } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("NOT_FOUND"), "{:?}", r.body);
    let actions: Vec<String> = audit_of(&app, "northwind")
        .await
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "service_account.created",
        "service_account.secret_rotated",
        "service_account.deleted",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
}

async fn a_deactivated_account_or_a_suspended_customers_gets_no_token(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let dealer = create(&app, "admin@alpine.test", NW, "Dealer ERP", &["BUYER"]).await;
    let issued = token(&app, NW, &dealer.client_id, &dealer.secret)
        .await
        .expect("a token");

    let deactivate =
        "mutation($input: UserIdInput!) { deactivateUser(input: $input) { user { status } } }";
    let r = app
        .as_user(
            "admin@alpine.test",
            NW,
            deactivate,
            json!({ "input": { "id": dealer.user_id } }),
        )
        .await;
    assert_eq!(
        r.body["data"]["deactivateUser"]["user"]["status"], "DEACTIVATED",
        "{:?}",
        r.body
    );
    assert_eq!(
        token_of(&app, NW, &dealer).await,
        Err((StatusCode::UNAUTHORIZED, "invalid_client".into()))
    );
    let r = with_token(&app, NW, &issued, "{ viewer { user { name } } }", json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let reactivate =
        "mutation($input: UserIdInput!) { reactivateUser(input: $input) { user { status } } }";
    app.as_user(
        "admin@alpine.test",
        NW,
        reactivate,
        json!({ "input": { "id": dealer.user_id } }),
    )
    .await;
    let issued = token_of(&app, NW, &dealer).await.expect("a token again");

    let suspend = "mutation($input: SuspendCustomerInput!) { suspendCustomer(input: $input) { customer { status } } }";
    let r = app
        .as_user("admin@northwind.test", NW, suspend, json!({ "input": { "id": customer_id("alpine-dealers"), "reason": "unpaid invoices" } }))
        .await;
    assert_eq!(
        r.body["data"]["suspendCustomer"]["customer"]["status"], "SUSPENDED",
        "{:?}",
        r.body
    );
    assert_eq!(
        token_of(&app, NW, &dealer).await,
        Err((StatusCode::BAD_REQUEST, "unauthorized_client".into()))
    );
    let r = with_token(&app, NW, &issued, "{ viewer { user { name } } }", json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
}

async fn only_the_tenants_own_admins_see_and_manage_its_accounts_and_refusals_write_nothing(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let erp = create(&app, "admin@northwind.test", NW, "ERP", &["SUPPORT"]).await;
    let before = (
        audit_of(&app, "northwind").await.len(),
        audit_of(&app, "alpine-dealers").await.len(),
    );

    // Staff of the tenant who are not admins: FORBIDDEN, and the list is masked.
    for who in [
        "pricing@northwind.test",
        "support@northwind.test",
        "rep-eu@northwind.test",
    ] {
        let r = app
            .as_user(
                who,
                NW,
                CREATE,
                json!({ "input": { "name": "x", "roles": ["SUPPORT"] } }),
            )
            .await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{who}: {:?}", r.body);
        let r = app
            .as_user(
                who,
                NW,
                ROTATE,
                json!({ "input": { "id": erp.id, "expectedVersion": erp.version } }),
            )
            .await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{who}: {:?}", r.body);
        let r = app
            .as_user(who, NW, DELETE, json!({ "input": { "id": erp.id } }))
            .await;
        assert_eq!(r.first_code(), Some("FORBIDDEN"), "{who}: {:?}", r.body);
        let r = app.as_user(who, NW, LIST, json!({})).await;
        assert_eq!(
            r.body["data"]["viewer"]["tenant"]["serviceAccounts"],
            Value::Null,
            "{who}"
        );
        assert_eq!(r.first_code(), Some("FIELD_MASKED"), "{who}: {:?}", r.body);
    }
    // Admins of other tenants — another reseller, a customer of northwind (even one that
    // delegates USER_ADMIN to it), platform ops — find no such account.
    for (who, host) in [
        ("admin@contoso.test", CO),
        ("admin@alpine.test", NW),
        ("admin@prairie.test", NW),
        ("ops@platform.test", "platform.localhost"),
    ] {
        let r = app
            .as_user(
                who,
                host,
                ROTATE,
                json!({ "input": { "id": erp.id, "expectedVersion": erp.version } }),
            )
            .await;
        assert_eq!(r.first_code(), Some("NOT_FOUND"), "{who}: {:?}", r.body);
        let r = app
            .as_user(who, host, DELETE, json!({ "input": { "id": erp.id } }))
            .await;
        assert_eq!(r.first_code(), Some("NOT_FOUND"), "{who}: {:?}", r.body);
        assert!(
            !listed(&app, who, host).await.contains(&"ERP".to_owned()),
            "{who}"
        );
    }
    // Northwind's admin cannot reach into alpine's credentials under its delegation either:
    // an alpine account's id is NOT_FOUND for it.
    let dealer = create(&app, "admin@alpine.test", NW, "Dealer ERP", &["BUYER"]).await;
    let before_alpine = audit_of(&app, "alpine-dealers").await.len();
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            DELETE,
            json!({ "input": { "id": dealer.id } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("NOT_FOUND"), "{:?}", r.body);
    assert_eq!(listed(&app, "admin@alpine.test", NW).await, ["Dealer ERP"]);
    assert_eq!(audit_of(&app, "alpine-dealers").await.len(), before_alpine);

    // Role ceilings: only roles of the tenant's kind.
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            CREATE,
            json!({ "input": { "name": "x", "roles": ["BUYER"] } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("FORBIDDEN"), "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "roles");
    let r = app
        .as_user(
            "admin@alpine.test",
            NW,
            CREATE,
            json!({ "input": { "name": "x", "roles": ["RESELLER_ADMIN"] } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("FORBIDDEN"), "{:?}", r.body);
    // Bad input names the field.
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            CREATE,
            json!({ "input": { "name": " ", "roles": ["SUPPORT"] } }),
        )
        .await;
    assert_eq!(r.first_code(), Some("BAD_USER_INPUT"), "{:?}", r.body);
    assert_eq!(r.body["errors"][0]["extensions"]["field"], "name");
    let r = app
        .as_user(
            "admin@northwind.test",
            NW,
            CREATE,
            json!({ "input": { "name": "x", "roles": ["SALES_REP"] } }),
        )
        .await;
    assert_eq!(
        r.body["errors"][0]["extensions"]["field"], "regions",
        "{:?}",
        r.body
    );

    // Nothing of it was written: the one account each, both chains as they were (alpine's
    // grew by its own account's creation only).
    assert_eq!(listed(&app, "admin@northwind.test", NW).await, ["ERP"]);
    assert_eq!(audit_of(&app, "northwind").await.len(), before.0);
    assert_eq!(audit_of(&app, "alpine-dealers").await.len(), before.1 + 1);
    assert!(
        token_of(&app, NW, &erp).await.is_ok(),
        "the account still works"
    );
}

/// A refused token request: its form, its headers, the status and OAuth `error` expected.
type RefusalCase<'a> = (
    Vec<(&'a str, &'a str)>,
    Vec<(&'a str, String)>,
    StatusCode,
    &'a str,
);

async fn the_token_endpoint_answers_as_oauth_clients_expect(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let erp = create(&app, "admin@northwind.test", NW, "ERP", &["SUPPORT"]).await;
    let grant = ("grant_type", "client_credentials");

    // client_secret_post works too, and the answer is never cached.
    let (status, headers, body) = token_request(
        &app,
        NW,
        &[
            grant,
            ("client_id", &erp.client_id),
            ("client_secret", &erp.secret),
        ],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(headers["cache-control"], "no-store");

    // The token names this portal as its issuer and a key published in its JWKS.
    let token = body["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.expect("kid");
    assert!(kid.starts_with("portico-"), "{kid}");
    let jwks: Value = app
        .get(NW, "/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid.as_str()),
        "{jwks}"
    );
    assert!(
        !jwks.to_string().contains("\"d\""),
        "no private key material: {jwks}"
    );
    let metadata: Value = app
        .get(NW, "/.well-known/oauth-authorization-server")
        .await
        .json()
        .await
        .unwrap();
    let origin = format!("http://{NW}");
    assert_eq!(metadata["issuer"], origin.as_str());
    assert_eq!(metadata["token_endpoint"], format!("{origin}/oauth/token"));
    assert_eq!(
        app.get("nowhere.localhost", "/.well-known/jwks.json")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let cases: Vec<RefusalCase> = vec![
        (
            vec![("grant_type", "password")],
            vec![],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![],
            vec![],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![grant],
            vec![],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![grant, ("client_id", &erp.client_id)],
            vec![],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                grant,
                ("client_id", &erp.client_id),
                ("client_secret", &erp.secret),
            ],
            vec![("authorization", basic(&erp.client_id, &erp.secret))],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![grant],
            vec![("authorization", basic(&erp.client_id, "pcs_wrong"))],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![grant],
            vec![("authorization", basic("no-such-client", &erp.secret))],
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            vec![grant],
            vec![("authorization", "Bearer x".to_owned())],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![grant],
            vec![("authorization", "Basic !!!".to_owned())],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (form, headers, expected, error) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, answer_headers, body) = token_request(&app, NW, &form, &headers).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (expected, Some(error)),
            "{form:?} {headers:?}: {body:?}"
        );
        assert!(body["error_description"].is_string());
        if status == StatusCode::UNAUTHORIZED && headers.iter().any(|(k, _)| *k == "authorization")
        {
            assert_eq!(
                answer_headers["www-authenticate"],
                "Basic realm=\"portico\""
            );
        }
    }
    // A JSON body is not a token request; an unknown host has no token endpoint.
    let r = app
        .client
        .post(format!("{}/oauth/token", app.address))
        .header("host", NW)
        .json(&json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let (status, _, _) = token_request(&app, "nowhere.localhost", &[grant], &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // No refusal was audited; no token issued by them either.
    let issued = audit_of(&app, "northwind")
        .await
        .into_iter()
        .filter(|e| e.action == "service_account.token_issued")
        .count();
    assert_eq!(issued, 1);
}

async fn forged_and_misdirected_tokens_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let erp = create(&app, "admin@northwind.test", NW, "ERP", &["SUPPORT"]).await;
    let good = token(&app, NW, &erp.client_id, &erp.secret)
        .await
        .expect("a token");
    let keys = portico::signing::KeyRing::at(
        app.db.dir.path().join("issuer").join("keys.json"),
        "portico",
    );
    let now = chrono::Utc::now().timestamp();
    let origin = format!("http://{NW}");
    let claims = |iss: &str, aud: &str, sub: &str, exp: i64| json!({ "iss": iss, "aud": aud, "sub": sub, "exp": exp, "iat": now, "nbf": now });
    // The control: the right claims signed with Portico's own key pass...
    let right = keys
        .sign(&claims(&origin, "portico-api", &erp.client_id, now + 300))
        .unwrap();
    let r = with_token(&app, NW, &right, "{ viewer { user { name } } }", json!({})).await;
    assert_eq!(
        r.body["data"]["viewer"]["user"]["name"], "ERP",
        "{:?}",
        r.body
    );
    // ...and each one wrong fails: another issuer, audience, subject or time.
    let wrong = [
        claims(
            "http://contoso.localhost",
            "portico-api",
            &erp.client_id,
            now + 300,
        ),
        claims(&origin, "portico", &erp.client_id, now + 300),
        claims(&origin, "portico-api", "no-such-account", now + 300),
        claims(&origin, "portico-api", &erp.client_id, now - 3600),
    ];
    for c in &wrong {
        let forged = keys.sign(c).unwrap();
        let r = with_token(&app, NW, &forged, "{ viewer { user { name } } }", json!({})).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{c}: {:?}", r.body);
    }
    // Right claims, with the key id of Portico's key, signed by another key (the demo
    // issuer's).
    let header = jsonwebtoken::decode_header(&good).unwrap();
    let demo = app.demo_keys();
    let by_demo = demo
        .sign(&claims(&origin, "portico-api", &erp.client_id, now + 300))
        .unwrap();
    let payload = by_demo.split('.').nth(1).unwrap();
    let signature = by_demo.split('.').nth(2).unwrap();
    let forged_header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&header).unwrap());
    for kid_token in [
        format!("{forged_header}.{payload}.{signature}"),
        // The real key id over a payload that is not the one signed.
        format!(
            "{}.{payload}.{}",
            good.split('.').next().unwrap(),
            good.split('.').nth(2).unwrap()
        ),
    ] {
        let r = with_token(
            &app,
            NW,
            &kid_token,
            "{ viewer { user { name } } }",
            json!({}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
    }
    // HS256 with a `portico-` key id (the published public key as an HMAC secret) is refused
    // before any key is looked at.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(header.kid.clone().unwrap()),
            ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
        },
        &claims(&origin, "portico-api", &erp.client_id, now + 300),
        &jsonwebtoken::EncodingKey::from_secret(b"public"),
    )
    .unwrap();
    let r = with_token(&app, NW, &hs, "{ viewer { user { name } } }", json!({})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // The genuine token still works after all that.
    let r = with_token(&app, NW, &good, "{ viewer { user { name } } }", json!({})).await;
    assert_eq!(
        r.body["data"]["viewer"]["user"]["name"], "ERP",
        "{:?}",
        r.body
    );
}

on_both_backends!(
    an_admin_creates_an_account_whose_secret_buys_a_token_that_acts_with_its_roles,
    a_token_is_good_only_on_the_portal_that_issued_it,
    rotation_retires_the_old_secret_and_deletion_ends_the_tokens,
    a_deactivated_account_or_a_suspended_customers_gets_no_token,
    only_the_tenants_own_admins_see_and_manage_its_accounts_and_refusals_write_nothing,
    the_token_endpoint_answers_as_oauth_clients_expect,
    forged_and_misdirected_tokens_are_refused,
);
