//! `/metrics` (issue 12): off unless `metrics_bind` asks for it, and then
//! on that address only; it counts requests by route and status, sign-ins
//! by outcome, throttle refusals, the hashing queue, the outbox and the
//! database pool.

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, spawn_app_with};

#[tokio::test]
async fn metrics_are_off_unless_asked_for_and_never_on_the_api_address() {
    let app = spawn_app().await;
    assert!(app.metrics_address.is_none());
    let on_api = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(on_api.status(), 404);
}

#[tokio::test]
async fn metrics_count_requests_sign_ins_hashing_the_outbox_and_the_pool() {
    let app = spawn_app_with(|s| {
        s.metrics_bind = Some("127.0.0.1:0".into());
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.address_max_failures = 1;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.get(&format!("/v1/users/{}", user["id"].as_str().unwrap()), &c.admin).await.expect(200);
    app.login(user["login"].as_str().unwrap(), "not-the-password-at-all").await;
    let sprayer = || {
        app.client
            .post(app.url("/v1/auth/login"))
            .header("x-forwarded-for", "198.51.100.1")
            .json(&json!({"login": "nobody@example.com", "password": PASSWORD}))
            .send()
    };
    sprayer().await.unwrap();
    assert_eq!(sprayer().await.unwrap().status(), 429);

    let metrics = app.metrics_address.clone().unwrap();
    let wanted = [
        r#"voxport_http_requests_total{route="/v1/users/{id}",method="GET",status="200"}"#,
        r#"voxport_http_request_duration_seconds_bucket{route="/v1/auth/login",method="POST""#,
        r#"voxport_sign_ins_total{outcome="succeeded"}"#,
        r#"voxport_sign_ins_total{outcome="failed",reason="wrong_password"}"#,
        r#"voxport_throttle_refusals_total{kind="address"}"#,
        "voxport_password_hash_wait_seconds_bucket",
        "voxport_password_hash_seconds_count",
        "voxport_password_hash_queue",
        "voxport_outbox_backlog",
        "voxport_outbox_oldest_age_seconds",
        "voxport_db_pool_in_use",
        "voxport_db_pool_wait_seconds_count",
    ];
    // The pool and the outbox are sampled in the background: their first
    // sample may come after the requests above on a busy machine.
    let mut body = String::new();
    for _ in 0..100 {
        body = app.client.get(format!("{metrics}/metrics")).send().await.unwrap().text().await.unwrap();
        if wanted.iter().all(|w| body.contains(w)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for wanted in wanted {
        assert!(body.contains(wanted), "no {wanted} in\n{body}");
    }
}
