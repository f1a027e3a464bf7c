//! Activation and expiration dates (issue 4; PRODUCT.md rule 6): enforced
//! at sign-in, at refresh and on every request; the list's status filter
//! agrees with what sign-in does.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, id, spawn_app};

#[tokio::test]
async fn users_sign_in_only_inside_their_window_and_the_status_filter_agrees() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    let pending = app.user(&c.admin, json!({"activation_at": future})).await;
    let expired = app.user(&c.admin, json!({"expires_at": past})).await;
    let active = app.user(&c.admin, json!({"activation_at": past, "expires_at": future})).await;
    for (user, status, signs_in) in
        [(&pending, "pending", false), (&expired, "expired", false), (&active, "active", true)]
    {
        assert_eq!(user["status"], status);
        let listed = app.get(&format!("/v1/users?status={status}&per_page=200"), &c.admin).await.expect(200);
        assert!(listed["items"].as_array().unwrap().iter().any(|u| u["id"] == user["id"]), "{status}");
        let reply = app.login(user["login"].as_str().unwrap(), PASSWORD).await;
        assert_eq!(reply.status == 200, signs_in, "{status}: {}", reply.body);
    }
    // Moving the window lets the pending user in.
    app.patch(&format!("/v1/users/{}", id(&pending)), &c.admin, json!({"activation_at": null})).await.expect(200);
    app.login(pending["login"].as_str().unwrap(), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn a_user_who_expires_while_holding_a_token_loses_access_at_once() {
    let app = spawn_app().await;
    let c = app.customer().await;
    // Nobody touches the account and no session is ended: the clock passes
    // the expiry, and the next request and the next refresh are refused,
    // though the server keeps what it read of the token for a moment.
    let ends = Utc::now() + Duration::seconds(2);
    let user = app.user(&c.admin, json!({"expires_at": ends.to_rfc3339()})).await;
    let signed = app.login(user["login"].as_str().unwrap(), PASSWORD).await.expect(200);
    let token = signed["access_token"].as_str().unwrap();
    app.get("/v1/me", token).await.expect(200);
    let left = (ends - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + std::time::Duration::from_millis(50)).await;
    app.get("/v1/me", token).await.problem(401, "unauthenticated");
    app.call(Method::POST, "/v1/auth/refresh", None, Some(json!({"refresh_token": signed["refresh_token"]})))
        .await
        .problem(401, "invalid_refresh_token");
    let expired = app.get("/v1/users?status=expired", &c.admin).await.expect(200);
    assert!(expired["items"].as_array().unwrap().iter().any(|u| u["id"] == user["id"]));
}

#[tokio::test]
async fn an_administrator_ending_an_account_ends_its_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let signed = app.login(user["login"].as_str().unwrap(), PASSWORD).await.expect(200);
    let past = (Utc::now() - Duration::minutes(1)).to_rfc3339();
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"expires_at": past})).await.expect(200);
    // Even put back, the old session stays ended.
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"expires_at": null})).await.expect(200);
    app.call(Method::POST, "/v1/auth/refresh", None, Some(json!({"refresh_token": signed["refresh_token"]})))
        .await
        .problem(401, "invalid_refresh_token");
    app.get("/v1/me", signed["access_token"].as_str().unwrap()).await.problem(401, "unauthenticated");
}
