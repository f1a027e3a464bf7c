//! The signed-in user's own profile and password.

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn a_user_changes_their_own_profile_but_nothing_an_admin_decides() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    let me = app
        .patch("/v1/me", &token, json!({"first_name": "Hedy", "timezone": "America/New_York", "language": "en-US"}))
        .await
        .expect(200);
    assert_eq!(
        (me["first_name"].as_str(), me["timezone"].as_str(), me["language"].as_str()),
        (Some("Hedy"), Some("America/New_York"), Some("en-US"))
    );
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    for forbidden in [
        json!({"role_id": admin_role}),
        json!({"disabled": false}),
        json!({"login": "boss"}),
        json!({"email": "x@y.example"}),
    ] {
        let key = forbidden.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(app.patch("/v1/me", &token, forbidden).await.invalid_fields(), [key]);
    }
    assert_eq!(app.patch("/v1/me", &token, json!({"timezone": "UTC+2"})).await.invalid_fields(), ["timezone"]);
}

#[tokio::test]
async fn changing_my_password_needs_the_current_one_and_ends_my_other_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap();
    let here = app.token(login, PASSWORD).await;
    let elsewhere = app.token(login, PASSWORD).await;

    let wrong = json!({"current_password": "not-my-password", "new_password": "an-entirely-new-one"});
    app.post("/v1/me/password", &here, wrong).await.problem(403, "current_password_wrong");
    let weak = json!({"current_password": PASSWORD, "new_password": "short"});
    assert_eq!(app.post("/v1/me/password", &here, weak).await.invalid_fields(), ["new_password"]);
    app.get("/v1/me", &elsewhere).await.expect(200);

    let ok = json!({"current_password": PASSWORD, "new_password": "an-entirely-new-one"});
    assert_eq!(app.post("/v1/me/password", &here, ok).await.status, 204);
    app.get("/v1/me", &here).await.expect(200);
    app.get("/v1/me", &elsewhere).await.problem(401, "unauthenticated");
    app.login(login, PASSWORD).await.problem(401, "invalid_credentials");
    app.token(login, "an-entirely-new-one").await;
}
