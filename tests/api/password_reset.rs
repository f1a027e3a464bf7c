//! Forgotten passwords (issue 4 "Revocation"): a reset request always
//! answers 202; a single-use link goes out through the outbox when the
//! login exists; redeeming it ends every session.

use chrono::Duration;
use reqwest::Method;
use serde_json::json;

use crate::{
    helpers::{PASSWORD, Reply, TestApp, id, spawn_app_with},
    smtp::SmtpServer,
};

async fn request(app: &TestApp, login: &str) -> Reply {
    app.call(Method::POST, "/v1/auth/password-reset", None, Some(json!({"login": login}))).await
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
    app.deliver_emails(Duration::zero()).await;
    assert_eq!(smtp.messages().len(), before);
}
