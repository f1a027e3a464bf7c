//! Integrators' API clients and OAuth2 (issue 9), driven through the
//! stock `oauth2` crate: the client credentials grant with both client
//! authentication methods, RFC 6749 errors, revocation (RFC 7009),
//! introspection (RFC 7662) and the server metadata (RFC 8414).

use oauth2::{
    AccessToken, AuthType, ClientId, ClientSecret, HttpRequest, HttpResponse, IntrospectionUrl, RequestTokenError,
    RevocationUrl, Scope, StandardRevocableToken, TokenIntrospectionResponse as _, TokenResponse as _, TokenUrl,
    basic::{BasicClient, BasicErrorResponseType},
};
use serde_json::{Value, json};

use crate::helpers::{Customer, PASSWORD, TestApp, reply, spawn_app, spawn_app_with};

/// Where the library is told the server is. The library insists on HTTPS
/// for revocation (RFC 7009 §2), so it is given an `https://` name and
/// the transport below carries its requests to the test server, as a TLS
/// terminating proxy would; what the library sends is untouched.
const BASE: &str = "https://voxport.test";

#[derive(Debug)]
struct Transport(String);

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Transport {}

/// The `oauth2` crate's HTTP client: its requests, sent with reqwest.
fn http(
    app: &TestApp,
) -> impl Fn(HttpRequest) -> std::pin::Pin<Box<dyn Future<Output = Result<HttpResponse, Transport>>>> {
    let (client, address) = (app.client.clone(), app.address.clone());
    move |request: HttpRequest| {
        let (client, address) = (client.clone(), address.clone());
        Box::pin(async move {
            let url = request.uri().to_string().replacen(BASE, &address, 1);
            let mut sent = client.request(request.method().clone(), url).body(request.body().clone());
            for (name, value) in request.headers() {
                sent = sent.header(name, value);
            }
            let answer = sent.send().await.map_err(|e| Transport(e.to_string()))?;
            let mut response = http::Response::builder().status(answer.status());
            for (name, value) in answer.headers() {
                response = response.header(name, value);
            }
            let body = answer.bytes().await.map_err(|e| Transport(e.to_string()))?.to_vec();
            response.body(body).map_err(|e| Transport(e.to_string()))
        })
    }
}

/// Creates a client of `c` holding `permissions`; answers the answer.
async fn create(app: &TestApp, c: &Customer, permissions: &[&str], extra: Value) -> Value {
    let mut body = json!({"name": "Acme CRM", "permissions": permissions});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/v1/api-clients", &c.admin, body).await.expect(201)
}

type Client = oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
    oauth2::EndpointSet,
    oauth2::EndpointSet,
>;

fn library(created: &Value, auth: AuthType) -> Client {
    BasicClient::new(ClientId::new(created["client_id"].as_str().unwrap().to_owned()))
        .set_client_secret(ClientSecret::new(created["client_secret"].as_str().unwrap().to_owned()))
        .set_token_uri(TokenUrl::new(format!("{BASE}/v1/oauth/token")).unwrap())
        .set_revocation_url(RevocationUrl::new(format!("{BASE}/v1/oauth/revoke")).unwrap())
        .set_introspection_url(IntrospectionUrl::new(format!("{BASE}/v1/oauth/introspect")).unwrap())
        .set_auth_type(auth)
}

async fn token(app: &TestApp, client: &Client, scopes: &[&str]) -> String {
    let mut request = client.exchange_client_credentials();
    for scope in scopes {
        request = request.add_scope(Scope::new((*scope).to_owned()));
    }
    let answer = request.request_async(&http(app)).await.unwrap();
    assert_eq!(answer.token_type(), &oauth2::basic::BasicTokenType::Bearer);
    assert!(answer.expires_in().is_some_and(|d| d.as_secs() > 0 && d.as_secs() <= 600), "{answer:?}");
    answer.access_token().secret().clone()
}

#[tokio::test]
async fn a_stock_oauth2_client_gets_a_token_calls_the_api_and_revokes_it() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let created = create(
        &app,
        &c,
        &["users:read", "users:write", "extensions:read", "call_records:read_own", "tokens:introspect"],
        json!({}),
    )
    .await;
    let secret = created["client_secret"].as_str().unwrap();
    assert!(secret.starts_with("vxcs_") && secret.len() >= 48, "{secret}");
    assert_eq!(created["client_id"], created["id"]);
    let shown = app.get(&format!("/v1/api-clients/{}", created["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert!(shown.get("client_secret").is_none() && !shown.to_string().contains(secret), "{shown}");

    // client_secret_basic, asking for part of what the client holds.
    let client = library(&created, AuthType::BasicAuth);
    let bearer = token(&app, &client, &["users:read"]).await;
    let users = app.get("/v1/users", &bearer).await.expect(200);
    assert!(users["total"].as_u64().unwrap() >= 1);
    app.get("/v1/extensions", &bearer).await.problem(403, "permission_denied");
    // What only a person has is not a client's.
    app.get("/v1/me", &bearer).await.problem(403, "person_only");
    app.post("/v1/me/2fa", &bearer, json!({"password": PASSWORD})).await.problem(403, "person_only");

    // client_secret_post, without a scope: everything the client holds.
    let posted = token(&app, &library(&created, AuthType::RequestBody), &[]).await;
    app.get("/v1/extensions", &posted).await.expect(200);
    let made = app.user(&posted, json!({})).await;
    // What a client changes is audited with the client as the actor.
    let events = app
        .get(&format!("/v1/audit-events?action=user.created&target_id={}", made["id"].as_str().unwrap()), &c.admin)
        .await
        .expect(200);
    let actor = &events["items"][0]["actor"];
    assert_eq!((&actor["client_id"], &actor["user_id"]), (&created["id"], &Value::Null), "{events}");
    let used = app.get(&format!("/v1/api-clients/{}", created["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(used["last_used_ip"], "127.0.0.1");

    // Introspection, for the tenant's other services.
    let access = AccessToken::new(bearer.clone());
    let info = client.introspect(&access).request_async(&http(&app)).await.unwrap();
    assert!(info.active());
    assert_eq!(
        info.scopes().map(|s| s.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        Some(vec!["users:read".to_owned()])
    );
    assert_eq!(info.client_id().map(|c| c.as_str().to_owned()), created["client_id"].as_str().map(str::to_owned));
    let person = app.token(&c.admin_login, PASSWORD).await;
    let theirs = client.introspect(&AccessToken::new(person)).request_async(&http(&app)).await.unwrap();
    assert!(theirs.active(), "a person's token of the tenant");
    assert_eq!(theirs.sub(), Some(c.admin_id.as_str()));
    assert!(!client.introspect(&AccessToken::new("garbage".into())).request_async(&http(&app)).await.unwrap().active());
    // Only a client holding tokens:introspect may ask (RFC 7662 §4).
    let nosy = library(&create(&app, &c, &["users:read"], json!({})).await, AuthType::BasicAuth);
    let refused = nosy.introspect(&access).request_async(&http(&app)).await;
    assert!(matches!(refused, Err(RequestTokenError::ServerResponse(_))), "{refused:?}");

    // Revocation ends that token at once, and only that one.
    client
        .revoke_token(StandardRevocableToken::AccessToken(access.clone()))
        .unwrap()
        .request_async(&http(&app))
        .await
        .unwrap();
    app.get("/v1/users", &bearer).await.problem(401, "unauthenticated");
    assert!(!client.introspect(&access).request_async(&http(&app)).await.unwrap().active());
    app.get("/v1/users", &posted).await.expect(200);
}

#[tokio::test]
async fn token_errors_have_rfc_6749_names() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let created = create(&app, &c, &["users:read"], json!({})).await;
    let error = |client: Client, scopes: Vec<&'static str>| {
        let http = http(&app);
        async move {
            let mut request = client.exchange_client_credentials();
            for scope in scopes {
                request = request.add_scope(Scope::new(scope.to_owned()));
            }
            match request.request_async(&http).await {
                Err(RequestTokenError::ServerResponse(e)) => e.error().clone(),
                other => panic!("expected an OAuth2 error, got {other:?}"),
            }
        }
    };
    let mut wrong = created.clone();
    wrong["client_secret"] = json!("vxcs_not-the-secret");
    assert_eq!(error(library(&wrong, AuthType::BasicAuth), vec![]).await, BasicErrorResponseType::InvalidClient);
    let mut unknown = created.clone();
    unknown["client_id"] = json!("00000000-0000-7000-8000-000000000000");
    assert_eq!(error(library(&unknown, AuthType::RequestBody), vec![]).await, BasicErrorResponseType::InvalidClient);
    assert_eq!(
        error(library(&created, AuthType::BasicAuth), vec!["users:write"]).await,
        BasicErrorResponseType::InvalidScope,
        "a permission the client does not hold"
    );
    assert_eq!(
        error(library(&created, AuthType::BasicAuth), vec!["no_such:thing"]).await,
        BasicErrorResponseType::InvalidScope
    );

    // What the library never sends, by hand.
    let id = created["client_id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let form = |body: String| {
        app.client
            .post(app.url("/v1/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    };
    let cases = [
        (form(format!("grant_type=password&client_id={id}&client_secret={secret}")), 400, "unsupported_grant_type"),
        (form(format!("client_id={id}&client_secret={secret}")), 400, "invalid_request"),
        (
            form(format!(
                "grant_type=client_credentials&grant_type=client_credentials&client_id={id}&client_secret={secret}"
            )),
            400,
            "invalid_request",
        ),
        (
            form(format!("grant_type=client_credentials&client_id={id}&client_secret={secret}"))
                .basic_auth(id, Some(secret)),
            400,
            "invalid_request",
        ),
        (form("grant_type=client_credentials".into()), 401, "invalid_client"),
        (form(format!("grant_type=&client_id={id}&client_secret={secret}")), 400, "invalid_request"),
        (
            app.client.post(app.url("/v1/oauth/token")).json(&json!({"grant_type": "client_credentials"})),
            400,
            "invalid_request",
        ),
    ];
    // The client named in the form too, as some libraries do, and an
    // empty scope (as if left out): a token.
    let both = form(format!("grant_type=client_credentials&client_id={id}&scope=")).basic_auth(id, Some(secret));
    let answer = reply(both.send().await.unwrap()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["scope"], "users:read");
    for (request, status, code) in cases {
        let answer = reply(request.send().await.unwrap()).await;
        assert_eq!((answer.status.as_u16(), answer.body["error"].as_str()), (status, Some(code)), "{}", answer.body);
        assert!(answer.body["error_description"].is_string());
        assert_eq!(answer.headers["cache-control"], "no-store");
        if status == 401 {
            assert!(answer.headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));
        }
    }
}

#[tokio::test]
async fn a_client_holds_only_its_creators_permissions_and_changes_apply_at_once() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let role = app
        .post(
            "/v1/roles",
            &c.admin,
            json!({"name": "Integrations", "permissions": ["api_clients:read", "api_clients:write", "users:read"]}),
        )
        .await
        .expect(201);
    let integrator = app.user(&c.admin, json!({"role_id": role["id"]})).await;
    let integrations = app.token(integrator["login"].as_str().unwrap(), PASSWORD).await;
    let refused = app
        .post(
            "/v1/api-clients",
            &integrations,
            json!({"name": "Too much", "permissions": ["users:read", "users:write"]}),
        )
        .await
        .problem(403, "permission_not_held");
    assert_eq!(refused["missing_permissions"], json!(["users:write"]));
    app.post("/v1/api-clients", &integrations, json!({"name": "Reader", "permissions": ["users:read"]}))
        .await
        .expect(201);

    let created = create(&app, &c, &["users:read", "extensions:read"], json!({})).await;
    let path = format!("/v1/api-clients/{}", created["id"].as_str().unwrap());
    let client = library(&created, AuthType::BasicAuth);
    let bearer = token(&app, &client, &[]).await;
    app.get("/v1/extensions", &bearer).await.expect(200);
    // A permission taken away goes from its tokens at once.
    app.patch(&path, &c.admin, json!({"permissions": ["users:read"]})).await.expect(200);
    app.get("/v1/extensions", &bearer).await.problem(403, "permission_denied");
    app.get("/v1/users", &bearer).await.expect(200);
    // Disabled: no token works and none is issued; enabled again, it does.
    app.patch(&path, &c.admin, json!({"disabled": true})).await.expect(200);
    app.get("/v1/users", &bearer).await.problem(401, "unauthenticated");
    let refused = client.exchange_client_credentials().request_async(&http(&app)).await;
    assert!(
        matches!(refused, Err(RequestTokenError::ServerResponse(ref e)) if *e.error() == BasicErrorResponseType::InvalidClient)
    );
    app.patch(&path, &c.admin, json!({"disabled": false})).await.expect(200);
    app.get("/v1/users", &bearer).await.expect(200);
    // Expired: the same.
    app.patch(&path, &c.admin, json!({"expires_at": "2020-01-01T00:00:00Z"})).await.expect(200);
    app.get("/v1/users", &bearer).await.problem(401, "unauthenticated");
    app.patch(&path, &c.admin, json!({"expires_at": null})).await.expect(200);
    // Deleted: gone, with its tokens.
    assert_eq!(app.delete(&path, &c.admin).await.status, 204);
    app.get("/v1/users", &bearer).await.problem(401, "unauthenticated");
    app.get(&path, &c.admin).await.problem(404, "not_found");
    let log = app.get("/v1/audit-events?target_type=api_client", &c.admin).await.expect(200);
    let actions: Vec<&str> = log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["api_client.created", "api_client.updated", "api_client.deleted"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // Another tenant sees none of it.
    let other = app.customer().await;
    assert_eq!(app.get("/v1/api-clients", &other.admin).await.expect(200)["total"], 0);
    let mine = app.get("/v1/api-clients", &c.admin).await.expect(200);
    let id = mine["items"][0]["id"].as_str().unwrap();
    app.get(&format!("/v1/api-clients/{id}"), &other.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_rotated_secret_overlaps_until_the_chosen_time() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let created = create(&app, &c, &["users:read"], json!({})).await;
    let rotate = format!("/v1/api-clients/{}/rotate-secret", created["id"].as_str().unwrap());
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let rotated = app.post(&rotate, &c.admin, json!({"old_secret_expires_at": later})).await.expect(200);
    assert_ne!(rotated["client_secret"], created["client_secret"]);
    assert_eq!(rotated["secrets"].as_array().unwrap().len(), 2, "{rotated}");
    assert!(rotated["secrets"][0]["expires_at"].is_null() && rotated["secrets"][1]["expires_at"].is_string());
    token(&app, &library(&created, AuthType::BasicAuth), &[]).await;
    token(&app, &library(&rotated, AuthType::BasicAuth), &[]).await;
    // Rotating again with the old secret ending now: only the newest works.
    let again = app.post(&rotate, &c.admin, json!({"old_secret_expires_at": "2020-01-01T00:00:00Z"})).await.expect(200);
    for old in [&created, &rotated] {
        let refused = library(old, AuthType::BasicAuth).exchange_client_credentials().request_async(&http(&app)).await;
        assert!(matches!(refused, Err(RequestTokenError::ServerResponse(_))), "an old secret still works");
    }
    token(&app, &library(&again, AuthType::BasicAuth), &[]).await;
    assert!(app.post(&rotate, &c.admin, json!({})).await.expect(200)["secrets"].as_array().unwrap().len() <= 2);
}

#[tokio::test]
async fn failed_client_authentications_count_like_sign_ins_and_networks_are_checked() {
    let app = spawn_app_with(|s| {
        s.lockout_free_failures = 2;
        s.address_max_failures = 4;
    })
    .await;
    let c = app.customer().await;
    let fenced = create(&app, &c, &["users:read"], json!({"allowed_networks": ["10.1.0.0/16"]})).await;
    let refused = library(&fenced, AuthType::BasicAuth).exchange_client_credentials().request_async(&http(&app)).await;
    assert!(
        matches!(refused, Err(RequestTokenError::ServerResponse(ref e)) if *e.error() == BasicErrorResponseType::UnauthorizedClient),
        "a client outside its networks: {refused:?}"
    );

    let created = create(&app, &c, &["users:read"], json!({})).await;
    let mut wrong = created.clone();
    wrong["client_secret"] = json!("vxcs_guess");
    for _ in 0..3 {
        assert!(
            library(&wrong, AuthType::BasicAuth)
                .exchange_client_credentials()
                .request_async(&http(&app))
                .await
                .is_err()
        );
    }
    // Locked out at this address: the right secret is refused alike.
    let locked = library(&created, AuthType::BasicAuth).exchange_client_credentials().request_async(&http(&app)).await;
    assert!(
        matches!(locked, Err(RequestTokenError::ServerResponse(ref e)) if *e.error() == BasicErrorResponseType::InvalidClient)
    );
    // Then the address has failed too often: 429 with Retry-After.
    let answer = app
        .client
        .post(app.url("/v1/oauth/token"))
        .basic_auth(created["client_id"].as_str().unwrap(), created["client_secret"].as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 429);
    assert!(answer.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_server_metadata_names_every_endpoint() {
    let app = spawn_app().await;
    let meta = app.client.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap();
    let meta: Value = meta.json().await.unwrap();
    let issuer = app.settings.public_base_url.trim_end_matches('/');
    assert_eq!(meta["issuer"], app.settings.public_base_url.as_str());
    for (key, path) in [
        ("token_endpoint", "/v1/oauth/token"),
        ("revocation_endpoint", "/v1/oauth/revoke"),
        ("introspection_endpoint", "/v1/oauth/introspect"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(meta[key], format!("{issuer}{path}"), "{key}");
    }
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(meta["token_endpoint_auth_methods_supported"], json!(["client_secret_basic", "client_secret_post"]));
    assert!(meta["scopes_supported"].as_array().unwrap().contains(&json!("users:read")));

    // The OpenAPI document lets generated clients fetch tokens themselves.
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let flow = &doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"];
    assert_eq!(flow["tokenUrl"], "/v1/oauth/token", "{flow}");
    assert!(flow["scopes"]["users:read"].is_string());
    let list_users = &doc["paths"]["/v1/users"]["get"]["security"];
    assert!(list_users.as_array().unwrap().contains(&json!({"oauth2": ["users:read"]})), "{list_users}");
}
