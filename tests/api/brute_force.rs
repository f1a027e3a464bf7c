//! Brute-force protection (issue 4; SECURITY.md "Brute force"): per
//! account locks that grow, a hard lock only an administrator lifts, a
//! per-address spray limit, all shared by replicas through the database;
//! a database outage is a 503 and counts nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{
        PASSWORD, Reply, TestApp, execute, fresh_database, id, reply, spawn_app, spawn_app_with, spawn_with_settings,
        test_settings,
    },
    outage::{Proxy, WriteLock, through},
};

async fn attempt(app: &TestApp, login: &str, password: &str) -> Reply {
    app.call(Method::POST, "/v1/auth/login", None, Some(json!({"login": login, "password": password}))).await
}

async fn attempt_from(app: &TestApp, client: &str, login: &str, password: &str) -> Reply {
    let req = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({"login": login, "password": password}));
    reply(req.send().await.unwrap()).await
}

const WRONG: &str = "surely-not-the-password";

/// Lets every timed lock run out, as time passing would.
async fn let_time_pass(app: &TestApp) {
    execute(app, "UPDATE login_throttle SET locked_until = last_failure_at").await;
}

fn login(user: &Value) -> &str {
    user["login"].as_str().unwrap()
}

#[tokio::test]
async fn the_sixth_failure_locks_the_account_and_a_locked_account_answers_like_a_wrong_password() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for _ in 0..5 {
        attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    }
    // Five are free: the right password still works, and starts the count anew.
    attempt(&app, login(&user), PASSWORD).await.expect(200);
    for _ in 0..6 {
        attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    }
    let locked = attempt(&app, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    let unknown = attempt(&app, "nobody-at-all@acme.example", PASSWORD).await.problem(401, "invalid_credentials");
    assert_eq!(locked, unknown, "a locked account tells nothing");

    let events =
        app.get(&format!("/v1/audit-events?action=account.locked&target_id={}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(events["total"], 1);
    assert_eq!(events["items"][0]["details"]["failures"], 6);

    assert_eq!(
        app.call(Method::POST, &format!("/v1/users/{}/unlock", id(&user)), Some(&c.admin), None).await.status,
        204
    );
    attempt(&app, login(&user), PASSWORD).await.expect(200);
    let unlocked = app
        .get(&format!("/v1/audit-events?action=account.unlocked&target_id={}", id(&user)), &c.admin)
        .await
        .expect(200);
    assert_eq!(unlocked["items"][0]["actor"]["user_id"].as_str(), Some(c.admin_id.as_str()));
}

#[tokio::test]
async fn a_lock_runs_out_and_attempts_during_it_do_not_count() {
    let app = spawn_app_with(|s| s.lockout_free_failures = 2).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for _ in 0..3 {
        attempt(&app, login(&user), WRONG).await;
    }
    // Locked: many more attempts change nothing, not even the count.
    for _ in 0..10 {
        attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    }
    attempt(&app, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    let_time_pass(&app).await;
    attempt(&app, login(&user), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn the_hard_limit_locks_until_an_administrator_unlocks() {
    let app = spawn_app_with(|s| {
        s.lockout_free_failures = 2;
        s.lockout_hard_limit = 4;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for _ in 0..3 {
        attempt(&app, login(&user), WRONG).await;
    }
    let_time_pass(&app).await;
    attempt(&app, login(&user), WRONG).await;
    let_time_pass(&app).await;
    attempt(&app, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    let events =
        app.get(&format!("/v1/audit-events?action=account.locked&target_id={}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(events["items"][0]["details"]["until_unlocked"], true);
    app.call(Method::POST, &format!("/v1/users/{}/unlock", id(&user)), Some(&c.admin), None).await;
    attempt(&app, login(&user), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn two_servers_on_one_database_enforce_one_limit() {
    let (url, dir) = fresh_database().await;
    let mut settings = test_settings(url);
    settings.lockout_free_failures = 3;
    let one = spawn_with_settings(settings.clone(), dir).await;
    let two = spawn_with_settings(settings, None).await;
    let c = one.customer().await;
    let user = one.user(&c.admin, json!({})).await;
    for _ in 0..2 {
        attempt(&one, login(&user), WRONG).await;
        attempt(&two, login(&user), WRONG).await;
    }
    attempt(&one, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    attempt(&two, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn a_password_spray_from_one_address_is_stopped_with_429() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.address_max_failures = 5;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for i in 0..5 {
        attempt_from(&app, "198.51.100.66", &format!("victim{i}@acme.example"), WRONG)
            .await
            .problem(401, "invalid_credentials");
    }
    let stopped = attempt_from(&app, "198.51.100.66", login(&user), PASSWORD).await;
    let retry_after: u64 = stopped.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    stopped.problem(429, "too_many_attempts");
    // Another address is not held back, nor is the account.
    attempt_from(&app, "203.0.113.5", login(&user), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn a_database_outage_during_sign_in_is_a_503_and_counts_nothing() {
    let (url, dir) = fresh_database().await;
    let postgres = url.starts_with("postgres");
    let proxy = if postgres { Some(Proxy::start(through(&url, 0).1).await) } else { None };
    let mut settings = test_settings(match &proxy {
        Some(p) => through(&url, p.port).0,
        None => url.clone(),
    });
    settings.lockout_free_failures = 2;
    settings.database_busy_timeout_ms = 300;
    let app = spawn_with_settings(settings, dir).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;

    attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    let lock = match &proxy {
        Some(p) => {
            p.cut();
            None
        }
        None => Some(WriteLock::take(&url).await),
    };
    let down = attempt(&app, login(&user), WRONG).await;
    assert_eq!(down.headers["retry-after"], "5");
    let body = down.problem(503, "service_unavailable");
    assert!(!body["detail"].as_str().unwrap().contains("database"), "a generic body: {body}");
    if postgres {
        assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 503);
        assert_eq!(app.client.get(app.url("/livez")).send().await.unwrap().status(), 200);
    }
    drop(lock);
    if let Some(p) = &proxy {
        p.restore();
    }
    // Back without a restart. The outage counted nothing: one more failure
    // makes two, which are free, and the right password works.
    attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    attempt(&app, login(&user), PASSWORD).await.expect(200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
}
