//! Brute-force protection (issue 4; SECURITY.md "Brute force"): per
//! account locks that grow, a hard lock only an administrator lifts, a
//! per-address spray limit, all shared by replicas through the database;
//! a database outage is a 503 and counts nothing.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{
        PASSWORD, Reply, TestApp, execute, fresh_database, id, reply, spawn_app, spawn_app_with, spawn_with_settings,
        stored_strings, test_settings,
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

/// The failures the accounts' counters hold, as stored.
async fn account_failures(app: &TestApp) -> Vec<String> {
    stored_strings(app, "SELECT CAST(failures AS TEXT) FROM login_throttle WHERE key LIKE 'login:%'").await
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
    assert_eq!(account_failures(&app).await, ["3"]);
    // Locked: many more attempts change nothing, not even the count.
    for _ in 0..10 {
        attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    }
    attempt(&app, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    assert_eq!(account_failures(&app).await, ["3"], "attempts during the lock were not counted");
    let reasons = failure_reasons(&app, &c.admin, &user).await;
    assert_eq!(reasons.iter().filter(|r| *r == "locked").count(), 11, "{reasons:?}");
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
    // Every pooled connection is open and idle when the database goes.
    let ready = || async { app.client.get(app.url("/readyz")).send().await.unwrap().status().as_u16() };
    let warm = futures::future::join_all((0..5).map(|_| ready())).await;
    assert!(warm.iter().all(|s| *s == 200), "{warm:?}");
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
    if let Some(lock) = lock {
        lock.release().await;
    }
    if let Some(p) = &proxy {
        p.restore();
        // The connections that died with it are not handed out again: not
        // one request fails once the database is back.
        let after: Vec<u16> = futures::future::join_all((0..5).map(|_| ready())).await;
        assert!(after.iter().all(|s| *s == 200), "{after:?}");
    }
    // Back without a restart. The outage counted nothing: one more failure
    // makes two, which are free, and the right password works.
    attempt(&app, login(&user), WRONG).await.problem(401, "invalid_credentials");
    attempt(&app, login(&user), PASSWORD).await.expect(200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    let status = ready.status();
    assert_eq!(status, 200, "ready again: {}", ready.text().await.unwrap());
}

/// The reasons of the failed sign-ins of a user, as the audit log has them.
async fn failure_reasons(app: &TestApp, admin: &str, user: &Value) -> Vec<String> {
    let query = format!("/v1/audit-events?action=sign_in.failed&target_id={}&per_page=100", id(user));
    let events = app.get(&query, admin).await.expect(200);
    events["items"].as_array().unwrap().iter().map(|e| e["details"]["reason"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit_and_the_hashes_running_at_once() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let slots = 2 * settings.password_hash_concurrency;
    let one = spawn_with_settings(settings.clone(), dir).await;
    let two = spawn_with_settings(settings, None).await;
    let c = one.customer().await;
    let user = one.user(&c.admin, json!({})).await;
    let burst = (0..30).map(|i| attempt(if i % 2 == 0 { &one } else { &two }, login(&user), WRONG));
    for answer in futures::future::join_all(burst).await {
        answer.problem(401, "invalid_credentials");
    }
    // Five free failures and the sixth that locked, and at most one more
    // for each hash that was already running when the lock came; the rest
    // were refused as locked, and nothing ran the count up to a hard lock.
    let reasons = failure_reasons(&one, &c.admin, &user).await;
    let tried = reasons.iter().filter(|r| *r == "wrong_password").count();
    assert!((6..=6 + slots).contains(&tried), "{tried} tries: {reasons:?}");
    assert_eq!(reasons.iter().filter(|r| *r == "locked").count(), 30 - tried, "{reasons:?}");
    let locks =
        one.get(&format!("/v1/audit-events?action=account.locked&target_id={}", id(&user)), &c.admin).await.expect(200);
    assert!((1..=1 + slots as u64).contains(&locks["total"].as_u64().unwrap()), "{locks}");
    assert_eq!(locks["items"][0]["details"]["until_unlocked"], false);
    attempt(&two, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    let_time_pass(&one).await;
    attempt(&two, login(&user), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn a_parallel_spray_from_one_address_gets_its_share_and_the_hashes_running_at_once() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.address_max_failures = 5;
    })
    .await;
    let slots = app.settings.password_hash_concurrency;
    let logins: Vec<String> = (0..20).map(|i| format!("sprayed{i}@acme.example")).collect();
    let burst = logins.iter().map(|l| attempt_from(&app, "198.51.100.77", l, WRONG));
    let answers: Vec<u16> = futures::future::join_all(burst).await.iter().map(|r| r.status.as_u16()).collect();
    let hashed = answers.iter().filter(|s| **s == 401).count();
    assert!((5..=5 + slots).contains(&hashed), "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 429).count(), 20 - hashed, "{answers:?}");
}

#[tokio::test]
async fn an_ipv6_client_is_held_back_by_its_64_network() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.address_max_failures = 3;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for client in ["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff:ffff:ffff:ffff"] {
        attempt_from(&app, client, &format!("v6-{client}@acme.example"), WRONG)
            .await
            .problem(401, "invalid_credentials");
    }
    // Another address of the same subscriber: the same limit.
    attempt_from(&app, "2001:db8:1:2::99", login(&user), PASSWORD).await.problem(429, "too_many_attempts");
    attempt_from(&app, "2001:db8:1:3::1", login(&user), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn every_hash_that_does_not_end_in_a_sign_in_counts() {
    let app = spawn_app_with(|s| s.lockout_free_failures = 3).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"two_factor_required": true})).await.expect(200);
    // The right password, refused for want of a second factor: each one
    // cost a hash, so each counts, and the fourth locks the address out…
    for _ in 0..4 {
        attempt(&app, login(&user), PASSWORD).await.problem(403, "two_factor_enrolment_required");
    }
    attempt(&app, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    let refused = app
        .get(&format!("/v1/audit-events?action=sign_in.refused&target_id={}", id(&user)), &c.admin)
        .await
        .expect(200);
    assert_eq!(refused["total"], 4);
    // …and so does a disabled account's right password.
    let other = app.user(&c.admin, json!({"disabled": true})).await;
    for _ in 0..5 {
        attempt(&app, login(&other), PASSWORD).await.problem(401, "invalid_credentials");
    }
    // Newest first: four right passwords of an account that may not sign
    // in, counted like wrong ones, then the fifth found it locked.
    let reasons = failure_reasons(&app, &c.admin, &other).await;
    assert_eq!(reasons, ["locked", "not_active", "not_active", "not_active", "not_active"], "{reasons:?}");
}

#[tokio::test]
async fn guessing_passwords_through_a_session_counts_against_the_account() {
    let app = spawn_app_with(|s| s.lockout_free_failures = 2).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(login(&user), PASSWORD).await;
    let change = |current: &str| {
        app.post(
            "/v1/me/password",
            &token,
            json!({"current_password": current, "new_password": "another-quiet-harbour"}),
        )
    };
    for _ in 0..3 {
        change(WRONG).await.problem(403, "current_password_wrong");
    }
    // Locked: not even the right current password passes, nor a sign-in.
    change(PASSWORD).await.problem(403, "current_password_wrong");
    attempt(&app, login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    assert_eq!(
        failure_reasons(&app, &c.admin, &user).await.iter().filter(|r| *r == "wrong_current_password").count(),
        3
    );
    let_time_pass(&app).await;
    assert_eq!(change(PASSWORD).await.status, 204);
}
