//! HTTP hygiene (SECURITY.md "HTTP hygiene"): bad input of every kind gets
//! a clear problem+json answer and never a 500.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{reply, spawn_app};

#[tokio::test]
async fn bad_bodies_get_400_413_415_and_422() {
    let app = spawn_app().await;
    let url = app.url("/v1/users");
    let send = |body: Vec<u8>, content_type: Option<&'static str>| {
        let mut req = app.client.post(&url).bearer_auth(&app.operator).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        async move { reply(req.send().await.unwrap()).await }
    };
    send(b"{\"first_name\": ".to_vec(), Some("application/json")).await.problem(400, "malformed_json");
    send(b"{} {}".to_vec(), Some("application/json")).await.problem(400, "malformed_json");
    send(b"\xff\xfe".to_vec(), Some("application/json")).await.problem(400, "malformed_json");
    send(b"first_name=a".to_vec(), Some("application/x-www-form-urlencoded"))
        .await
        .problem(415, "unsupported_media_type");
    send(b"{}".to_vec(), None).await.problem(415, "unsupported_media_type");
    send(b"{}".to_vec(), Some("text/plain")).await.problem(415, "unsupported_media_type");
    let huge = format!("{{\"first_name\": \"{}\"}}", "a".repeat(70 * 1024));
    send(huge.into_bytes(), Some("application/json")).await.problem(413, "payload_too_large");
    // application/json with parameters, and +json types, are JSON.
    let ok = send(b"{}".to_vec(), Some("application/json; charset=utf-8")).await;
    assert_eq!(ok.status, 422);
    let ok = send(b"{}".to_vec(), Some("application/merge-patch+json")).await;
    assert_eq!(ok.status, 422);
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_with_allow() {
    let app = spawn_app().await;
    app.get("/v1/nothing-here", &app.operator).await.problem(404, "not_found");
    app.get("/v1/users/not-a-uuid", &app.operator).await.problem(404, "not_found");
    let cases = [
        (Method::PUT, "/v1/users", "GET, HEAD, POST"),
        (Method::DELETE, "/v1/users", "GET, HEAD, POST"),
        (Method::POST, "/v1/users/0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10", "GET, HEAD, PATCH, DELETE"),
        (Method::GET, "/v1/auth/login", "POST"),
        (Method::POST, "/livez", "GET, HEAD"),
    ];
    for (method, path, allow) in cases {
        let r = app.call(method.clone(), path, Some(&app.operator), None).await;
        assert_eq!(r.headers.get("allow").and_then(|v| v.to_str().ok()), Some(allow), "{method} {path}");
        r.problem(405, "method_not_allowed");
    }
}

#[tokio::test]
async fn head_answers_what_get_does_without_the_body() {
    let app = spawn_app().await;
    for path in ["/v1/users", "/v1/me", "/livez", "/.well-known/jwks.json", "/openapi.json"] {
        let get = app.client.get(app.url(path)).bearer_auth(&app.operator).send().await.unwrap();
        let head = app.client.head(app.url(path)).bearer_auth(&app.operator).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "HEAD {path}");
        assert_eq!(head.status(), 200, "HEAD {path}");
        assert_eq!(head.headers().get("content-type"), get.headers().get("content-type"), "HEAD {path}");
        let length = get.bytes().await.unwrap().len();
        assert!(length > 0, "GET {path} has a body");
        assert_eq!(
            head.headers().get("content-length").and_then(|v| v.to_str().ok()),
            Some(length.to_string().as_str()),
            "HEAD {path} announces the GET body's length"
        );
        assert!(head.bytes().await.unwrap().is_empty(), "HEAD {path} sends no body");
    }
    let refused = app.client.head(app.url("/v1/users")).send().await.unwrap();
    assert_eq!(refused.status(), 401, "HEAD needs what GET needs");
}

#[tokio::test]
async fn every_answer_names_its_request_and_the_audit_log_and_logs_name_it_too() {
    let app = spawn_app().await;
    let mut seen = std::collections::HashSet::new();
    for path in ["/livez", "/v1/me", "/v1/nope"] {
        let r = app.get(path, &app.operator).await;
        let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{path}: {id}");
        assert!(seen.insert(id), "every request has its own id");
    }
    let login = crate::helpers::unique();
    let created = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&app.operator)
        .json(&json!({"login": login, "first_name": "Req", "last_name": "Id", "password": "a long passphrase 7"}))
        .send()
        .await
        .unwrap();
    let request_id = created.headers()["x-request-id"].to_str().unwrap().to_owned();
    let user = reply(created).await.expect(201);
    let events = app
        .get(&format!("/v1/audit-events?action=user.created&target_id={}", user["id"].as_str().unwrap()), &app.operator)
        .await
        .expect(200);
    assert_eq!(events["items"][0]["request_id"], request_id.as_str(), "{events}");
    let failed = app.login(&login, "not the password at all").await;
    let failed_id = failed.headers["x-request-id"].to_str().unwrap().to_owned();
    failed.problem(401, "invalid_credentials");
    let logs = crate::helpers::captured_logs();
    assert!(
        std::env::var("TEST_LOG").is_ok()
            || logs.lines().any(|l| l.contains(&failed_id) && l.contains("sign-in failed")),
        "the log line of the failed sign-in names its request"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/livez", "/v1/me", "/v1/nope"] {
        let r = app.get(path, &app.operator).await;
        assert_eq!(r.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(r.headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(r.headers["cache-control"], "no-store", "{path}");
    }
}

#[tokio::test]
async fn cors_answers_configured_origins_only() {
    let app = crate::helpers::spawn_app_with(|s| s.cors_origins = vec!["https://admin.example.com".into()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/v1/users"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://admin.example.com").await.unwrap();
    assert_eq!(allowed.headers()["access-control-allow-origin"], "https://admin.example.com");
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let simple = app.client.get(app.url("/livez")).header("origin", "https://evil.example").send().await.unwrap();
    assert!(simple.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn health_readiness_keys_and_docs_are_served() {
    let app = spawn_app().await;
    for path in ["/livez", "/readyz"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let jwks = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap();
    assert_eq!(jwks.headers()["cache-control"], "public, max-age=300");
    let spec: serde_json::Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let docs = app.client.get(app.url("/docs")).send().await.unwrap();
    assert!(docs.status().is_redirection());
    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("swagger"), "Swagger UI is served offline");
}

#[tokio::test]
async fn on_shutdown_readiness_goes_503_liveness_stays_200_and_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let settings = crate::helpers::test_settings(format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display()));
    let server = voxport::startup::Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", server.port());
    let shutdown = server.shutdown_handle();
    let running = tokio::spawn(server.run_until_stopped());
    let client = reqwest::Client::new();
    assert_eq!(client.get(format!("{base}/readyz")).send().await.unwrap().status(), 200);

    shutdown.drain();
    let ready = reply(client.get(format!("{base}/readyz")).send().await.unwrap()).await;
    ready.problem(503, "shutting_down");
    assert_eq!(client.get(format!("{base}/livez")).send().await.unwrap().status(), 200);

    shutdown.stop().await;
    running.await.unwrap().unwrap();
    assert!(client.get(format!("{base}/livez")).send().await.is_err(), "the server has stopped");
}

#[tokio::test]
async fn no_bad_input_produces_a_500() {
    let app = spawn_app().await;
    let bodies = [
        json!(null),
        json!([]),
        json!("string"),
        json!(42),
        json!({"login": null}),
        json!({"first_name": {"nested": true}}),
        json!({"email": "a@b.example", "first_name": "A", "last_name": "B", "activation_at": "2026-13-45T99:00:00Z"}),
        json!({"email": "a@b.example", "first_name": "\u{0000}", "last_name": "B"}),
        json!({"email": "a@b.example", "first_name": "A", "last_name": "B", "role_id": ""}),
    ];
    for path in ["/v1/users", "/v1/roles", "/v1/tenants", "/v1/auth/login", "/v1/auth/refresh", "/v1/me/password"] {
        for body in &bodies {
            let r = app.post(path, &app.operator, body.clone()).await;
            assert!(r.status.is_client_error(), "{path} {body} -> {} {}", r.status, r.body);
        }
    }
}

/// SECURITY.md's list of bad input, one row each: what is sent, and the
/// answer it must get. (Claims that only our key can sign, such as `exp`
/// as a string, are refused by `TokenSigner::verify`; its unit tests sign
/// them.)
#[tokio::test]
async fn the_bad_input_list_of_security_md() {
    use base64::Engine as _;
    let app = crate::helpers::spawn_app().await;
    let other = crate::helpers::spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let b64 = |v: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let payload = app.operator.split('.').nth(1).unwrap().to_owned();
    let refresh = app.login("admin", crate::helpers::OPERATOR_PASSWORD).await.expect(200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch(&format!("/v1/users/{}", crate::helpers::id(&user)), &c.admin, json!({"two_factor_required": true}))
        .await
        .expect(200);
    let enrolment = app.login(user["login"].as_str().unwrap(), crate::helpers::PASSWORD).await.body["enrolment_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let bearers: Vec<(&str, String)> = vec![
        ("alg=none", format!("{}.{payload}.", b64(json!({"alg": "none", "typ": "JWT"})))),
        ("HS256 keyed with anything", format!("{}.{payload}.c2ln", b64(json!({"alg": "HS256", "typ": "JWT"})))),
        ("a token of another installation", other.operator.clone()),
        ("a refresh token", refresh.clone()),
        ("an enrolment token", enrolment),
        ("garbage", "garbage".into()),
        ("a truncated token", app.operator[..app.operator.len() - 5].to_owned()),
    ];
    for (what, bearer) in bearers {
        let r = app.get("/v1/me", &bearer).await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "unauthenticated"), "{what}");
    }

    let long = "p".repeat(129);
    /// What is sent (why, method, path, bearer, body) and the answer (status, code).
    type Case<'a> = (&'a str, Method, &'a str, Option<&'a str>, serde_json::Value, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "an oversized password at sign-in",
            Method::POST,
            "/v1/auth/login",
            None,
            json!({"login": user["login"], "password": long}),
            401,
            "invalid_credentials",
        ),
        (
            "an oversized new password",
            Method::POST,
            "/v1/users",
            Some(&c.admin),
            json!({"email": "long@acme.example", "first_name": "L", "last_name": "Ong", "password": long}),
            422,
            "validation_failed",
        ),
        (
            "CR/LF in a name",
            Method::POST,
            "/v1/users",
            Some(&c.admin),
            json!({"email": "crlf@acme.example", "first_name": "A\r\nBcc: x@evil.example", "last_name": "B", "password": crate::helpers::PASSWORD}),
            422,
            "validation_failed",
        ),
        (
            "an unknown field",
            Method::POST,
            "/v1/users",
            Some(&c.admin),
            json!({"email": "x@acme.example", "first_name": "A", "last_name": "B", "password": crate::helpers::PASSWORD, "is_admin": true}),
            422,
            "validation_failed",
        ),
        (
            "a tenant field smuggled into a user",
            Method::PATCH,
            "/v1/me",
            None,
            json!({"tenant_id": c.id}),
            401,
            "unauthenticated",
        ),
        (
            "a role smuggled into my profile",
            Method::PATCH,
            "/v1/me",
            Some(&app.operator),
            json!({"role_id": c.id}),
            422,
            "validation_failed",
        ),
        (
            "a string where a number goes",
            Method::POST,
            "/v1/devices",
            Some(&c.admin),
            json!({"mac": "02:00:00:00:00:01", "vendor": "V", "model": "M", "ports": "16"}),
            422,
            "validation_failed",
        ),
        (
            "an allowlist entry with leading zeros",
            Method::PUT,
            "/v1/users/00000000-0000-0000-0000-000000000000/allowed-networks",
            Some(&c.admin),
            json!({"networks": ["010.0.0.1"]}),
            422,
            "validation_failed",
        ),
        (
            "a refresh token of nobody",
            Method::POST,
            "/v1/auth/refresh",
            None,
            json!({"refresh_token": "vxr_made_up"}),
            401,
            "invalid_refresh_token",
        ),
    ];
    for (what, method, path, token, body, status, code) in cases {
        let r = app.call(method, path, token, Some(body)).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{what}: {}", r.body);
    }
}
