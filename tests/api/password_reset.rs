//! Forgotten passwords (issue 4 "Revocation"): a reset request answers 202
//! at once and is handled after the answer; a single-use link goes out
//! through the outbox when the login exists, at most three an hour;
//! redeeming it ends every session. An address asks a limited number of
//! times, and a login nobody has leaves no audit row.

use chrono::Duration;
use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{PASSWORD, Reply, TestApp, id, spawn_app, spawn_app_with, stored_strings},
    smtp::SmtpServer,
};

async fn request(app: &TestApp, login: &str) -> Reply {
    app.call(Method::POST, "/v1/auth/password-reset", None, Some(json!({"login": login}))).await
}

/// Waits until the server has handled `n` reset requests for logins that
/// exist (each is audited, sent or not).
async fn handled(app: &TestApp, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let details =
            stored_strings(app, "SELECT details FROM audit_events WHERE action = 'password.reset_requested'").await;
        if details.len() >= n {
            return details;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("{n} password reset requests were not handled in 5 seconds");
}

async fn confirm(app: &TestApp, token: &str, password: &str) -> Reply {
    app.call(Method::POST, "/v1/auth/password-reset/confirm", None, Some(json!({"token": token, "password": password})))
        .await
}

#[tokio::test]
async fn a_reset_link_goes_to_the_user_works_once_and_ends_their_sessions() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap();
    let old_session = app.token(login, PASSWORD).await;
    app.deliver_emails(Duration::zero()).await;
    let before = smtp.messages().len();

    assert_eq!(request(&app, login).await.status, 202);
    assert_eq!(request(&app, "nobody@nowhere.example").await.status, 202, "the same answer for an unknown login");
    handled(&app, 1).await;
    app.deliver_emails(Duration::zero()).await;
    let arrived = &smtp.messages()[before..];
    assert_eq!(arrived.len(), 1, "one email, for the login that exists");
    let mail = &arrived[0];
    assert_eq!(mail.to, [user["email"].as_str().unwrap()]);
    assert!(mail.unfolded().contains("reset-password#token=vxl_"), "{}", mail.unfolded());
    assert!(!mail.unfolded().contains(PASSWORD));
    let emails = app.get(&format!("/v1/users/{}/emails", id(&user)), &c.admin).await.expect(200);
    assert_eq!(emails["items"][0]["kind"], "password_reset");

    let token = mail.token();
    // A reset link is no set-password link, and the new password meets the policy.
    app.call(
        Method::POST,
        "/v1/auth/set-password",
        None,
        Some(json!({"token": token, "password": "brand-new-password-1"})),
    )
    .await
    .problem(401, "invalid_link");
    confirm(&app, &token, "short").await.problem(422, "validation_failed");
    assert_eq!(confirm(&app, &token, "brand-new-password-1").await.status, 204);
    confirm(&app, &token, "brand-new-password-2").await.problem(401, "invalid_link");
    app.get("/v1/me", &old_session).await.problem(401, "unauthenticated");
    app.login(login, PASSWORD).await.problem(401, "invalid_credentials");
    app.login(login, "brand-new-password-1").await.expect(200);
}

#[tokio::test]
async fn accounts_that_may_not_sign_in_get_no_link() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let disabled = app.user(&c.admin, json!({"disabled": true})).await;
    let no_email =
        app.user(&c.admin, json!({"email": null, "login": format!("noemail{}", crate::helpers::unique())})).await;
    app.deliver_emails(Duration::zero()).await;
    let before = smtp.messages().len();
    for login in [disabled["login"].as_str().unwrap(), no_email["login"].as_str().unwrap()] {
        assert_eq!(request(&app, login).await.status, 202);
    }
    handled(&app, 1).await;
    app.deliver_emails(Duration::zero()).await;
    assert_eq!(smtp.messages().len(), before);
}

#[tokio::test]
async fn a_login_is_sent_three_reset_emails_an_hour_however_often_it_asks() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({"send_welcome_email": false})).await;
    for _ in 0..5 {
        assert_eq!(request(&app, user["login"].as_str().unwrap()).await.status, 202);
    }
    let details = handled(&app, 5).await;
    let sent = details.iter().filter(|d| d.contains(r#""sent":true"#)).count();
    assert_eq!(sent, 3, "{details:?}");
    assert_eq!(details.iter().filter(|d| d.contains("too_many_requests")).count(), 2, "{details:?}");
    let emails = app.get(&format!("/v1/users/{}/emails", id(&user)), &c.admin).await.expect(200);
    assert_eq!(emails["items"].as_array().unwrap().len(), 3);
}

/// Issue 11, finding 1: made-up logins from one address neither fill the
/// platform's audit log nor get unbounded work started.
#[tokio::test]
async fn a_flood_of_reset_requests_is_cut_off_per_address_and_unknown_logins_write_no_audit_row() {
    let app = spawn_app_with(|s| s.reset_requests_max = 41).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({"send_welcome_email": false})).await;
    let flood = join_all((0..40).map(|n| {
        let app = &app;
        async move { request(app, &format!("nobody-{n}@example.com")).await }
    }))
    .await;
    let known = request(&app, user["login"].as_str().unwrap()).await;
    // Known and unknown logins get the same answer.
    for answer in flood.iter().chain([&known]) {
        assert_eq!(answer.status, 202, "{}", answer.body);
        assert_eq!(answer.body, known.body);
    }
    // Past the address's share: 429 with a time to wait, whatever the login.
    for login in ["nobody-else@example.com", user["login"].as_str().unwrap()] {
        let cut_off = request(&app, login).await;
        let wait: u64 = cut_off.headers["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(wait > 0 && wait <= 3600, "{wait}");
        cut_off.problem(429, "too_many_attempts");
    }
    let rows = handled(&app, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let rows_later =
        stored_strings(&app, "SELECT details FROM audit_events WHERE action = 'password.reset_requested'").await;
    assert_eq!(rows_later, rows, "only the known login is audited");
    assert!(rows[0].contains(r#""sent":true"#), "{rows:?}");
}
