//! The audit log (issue 4; SECURITY.md "Audit"; PRODUCT.md rule 11):
//! who did what to which object, when, from where and on whose behalf,
//! written with the change, append-only, never holding a secret.

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};
use voxport_domain::auth::totp::{TotpSecret, code_at};

use crate::{
    helpers::{PASSWORD, TestApp, captured_logs, id, spawn_app, spawn_app_with, stored_strings, try_execute, unique},
    smtp::SmtpServer,
};

async fn events(app: &TestApp, token: &str, query: &str) -> Value {
    app.get(&format!("/v1/audit-events?{query}"), token).await.expect(200)
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn every_change_an_administrator_makes_is_recorded_with_who_what_when_and_where() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"first_name": "Renamed", "disabled": true}))
        .await
        .expect(200);
    assert_eq!(app.delete(&format!("/v1/users/{}", id(&user)), &c.admin).await.status, 204);

    let about = events(&app, &c.admin, &format!("target_id={}", id(&user))).await;
    assert_eq!(actions(&about), ["user.deleted", "user.updated", "user.created"], "newest first");
    let updated = &about["items"][1];
    assert_eq!(updated["actor"], json!({"user_id": c.admin_id, "tenant_id": c.id}));
    assert_eq!(updated["tenant_id"], c.id.as_str());
    assert_eq!(updated["target"], json!({"type": "user", "id": user["id"]}));
    assert_eq!(updated["ip"], "127.0.0.1");
    assert_eq!(updated["details"]["fields"], json!(["first_name", "disabled"]));
    assert_eq!(updated["details"]["sessions_ended"], true);
    assert_eq!(updated["on_behalf_of"], Value::Null);

    // Filters and paging.
    let created = events(&app, &c.admin, "action=user.created").await;
    assert_eq!(created["total"], 1, "the admin came with the tenant, in the parent's log");
    let by_admin = events(&app, &c.admin, &format!("actor={}&per_page=2", c.admin_id)).await;
    assert_eq!(by_admin["items"].as_array().unwrap().len(), 2);
    assert!(by_admin["total"].as_u64().unwrap() >= 4);
    let at = updated["occurred_at"].as_str().unwrap();
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    let window = |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| {
        format!(
            "target_id={}&from={}&to={}",
            id(&user),
            from.format("%Y-%m-%dT%H:%M:%S%.6fZ"),
            to.format("%Y-%m-%dT%H:%M:%S%.6fZ")
        )
    };
    let just_then = events(&app, &c.admin, &window(at, at + Duration::microseconds(1))).await;
    assert_eq!(actions(&just_then), ["user.updated"]);
    let users_only = events(&app, &c.admin, "target_type=user&action=user.deleted").await;
    assert_eq!(users_only["total"], 1);
    app.get("/v1/audit-events?action=user.exploded", &c.admin).await.problem(422, "validation_failed");

    // Tenants see their own log; the parent sees theirs too; users see none.
    let other = app.customer().await;
    assert_eq!(events(&app, &other.admin, &format!("target_id={}", id(&user))).await["total"], 0);
    assert_eq!(events(&app, &app.operator, &format!("tenant_id={}&target_id={}", c.id, id(&user))).await["total"], 3);
    app.get(&format!("/v1/audit-events?tenant_id={}", c.id), &other.admin).await.problem(404, "tenant_not_found");
    let plain = app.user(&c.admin, json!({})).await;
    let token = app.token(plain["login"].as_str().unwrap(), PASSWORD).await;
    app.get("/v1/audit-events", &token).await.problem(403, "permission_denied");
}

#[tokio::test]
async fn sign_ins_failures_and_a_replayed_refresh_token_are_recorded() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap();
    app.login(login, "a-wrong-password-indeed").await;
    let signed = app.login(login, PASSWORD).await.expect(200);
    let refresh = json!({"refresh_token": signed["refresh_token"]});
    app.call(Method::POST, "/v1/auth/refresh", None, Some(refresh.clone())).await.expect(200);
    app.call(Method::POST, "/v1/auth/refresh", None, Some(refresh)).await.problem(401, "invalid_refresh_token");
    app.login("nobody-here@acme.example", PASSWORD).await;

    let about = events(&app, &c.admin, &format!("target_id={}", id(&user))).await;
    let seen = actions(&about);
    for wanted in ["sign_in.failed", "sign_in.succeeded", "refresh_token.reused", "user.created"] {
        assert!(seen.contains(&wanted), "{wanted} in {seen:?}");
    }
    let failed = about["items"].as_array().unwrap().iter().find(|e| e["action"] == "sign_in.failed").unwrap();
    assert_eq!(failed["details"]["reason"], "wrong_password");
    assert_eq!(failed["actor"], Value::Null);
    let succeeded = about["items"].as_array().unwrap().iter().find(|e| e["action"] == "sign_in.succeeded").unwrap();
    assert_eq!(succeeded["actor"]["user_id"], user["id"]);
    assert_eq!(succeeded["details"]["client"], "portal");
    // Unknown logins belong to no tenant; the platform sees them.
    let unknown = events(&app, &app.operator, "action=sign_in.failed").await;
    assert!(
        unknown["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["tenant_id"].is_null() && e["details"]["reason"] == "unknown_login")
    );
    assert!(actions(&events(&app, &c.admin, "action=sign_in.failed").await).len() == 1, "no other tenant's failures");
}

#[tokio::test]
async fn a_change_that_rolls_back_records_nothing() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let station = app
        .post(
            "/v1/stations",
            &app.operator,
            json!({"tenant_id": c.id, "name": "Empty", "code": "empty", "applications": [], "quantity": 0}),
        )
        .await
        .expect(201);
    let before = events(&app, &c.admin, "").await["total"].clone();
    app.post(
        "/v1/users",
        &c.admin,
        json!({"email": "no-one@acme.example", "first_name": "N", "last_name": "O",
             "password": PASSWORD, "extension": {"number": "44", "type": "sip"}, "station_id": station["id"]}),
    )
    .await
    .problem(409, "station_unavailable");
    assert_eq!(events(&app, &c.admin, "").await["total"], before);
}

#[tokio::test]
async fn the_log_is_append_only() {
    let app = spawn_app().await;
    app.customer().await;
    let count = stored_strings(&app, "SELECT action FROM audit_events").await.len();
    assert!(count > 0);
    assert!(try_execute(&app, "UPDATE audit_events SET action = 'user.deleted'").await.is_err(), "no UPDATE");
    assert!(try_execute(&app, "DELETE FROM audit_events").await.is_err(), "no DELETE");
    assert_eq!(stored_strings(&app, "SELECT action FROM audit_events").await.len(), count);
    let r = app.call(Method::DELETE, "/v1/audit-events", Some(&app.operator), None).await;
    r.problem(405, "method_not_allowed");
}

#[tokio::test]
async fn a_support_agent_acts_in_a_customer_tenant_and_both_identities_are_recorded() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let agent = app.post(&format!("/v1/tenants/{}/access", c.id), &app.operator, json!({})).await.expect(200);
    let token = agent["access_token"].as_str().unwrap();
    // It sees and changes the customer's users, as the customer's admins do.
    let users = app.get("/v1/users", token).await.expect(200);
    assert!(users["items"].as_array().unwrap().iter().any(|u| u["id"] == c.admin_id.as_str()));
    let created = app
        .post("/v1/users", token, json!({"email": format!("helped{}@acme.example", unique()), "first_name": "H", "last_name": "Elped", "password": PASSWORD}))
        .await
        .expect(201);
    // With no more than the customer's administrators may do.
    app.post("/v1/stations", token, json!({"name": "Free", "code": "free", "applications": [], "quantity": 5}))
        .await
        .problem(403, "permission_denied");
    let seen = events(&app, &c.admin, &format!("target_id={}", id(&created))).await;
    let event = &seen["items"][0];
    assert_eq!(event["action"], "user.created");
    assert_eq!(event["tenant_id"], c.id.as_str());
    assert_eq!(event["on_behalf_of"], c.id.as_str());
    let operator = app.get("/v1/me", &app.operator).await.expect(200);
    assert_eq!(event["actor"], json!({"user_id": operator["id"], "tenant_id": operator["tenant_id"]}));
    // The agent is still themself for their own profile.
    let renamed = app.patch("/v1/me", token, json!({"first_name": "Agent"})).await.expect(200);
    assert_eq!((&renamed["id"], &renamed["first_name"]), (&operator["id"], &json!("Agent")));
    // And that change is the agent's own business: it is logged at home,
    // and the customer's log shows neither it nor the agent's address.
    let own = format!("action=user.updated&target_id={}", operator["id"].as_str().unwrap());
    assert!(events(&app, &c.admin, &own).await["items"].as_array().unwrap().is_empty());
    let home = events(&app, &app.operator, &own).await;
    assert_eq!(home["items"][0]["tenant_id"], operator["tenant_id"], "{home}");
    assert_eq!(home["items"][0]["on_behalf_of"], Value::Null, "{home}");
    assert_eq!(actions(&events(&app, &c.admin, "action=support_access.started").await), ["support_access.started"]);
    // Only a parent, and only into a tenant below it.
    app.post(&format!("/v1/tenants/{}/access", c.id), &c.admin, json!({})).await.problem(403, "permission_denied");
    app.post(&format!("/v1/tenants/{}/access", operator["tenant_id"].as_str().unwrap()), &app.operator, json!({}))
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn no_secret_reaches_the_audit_log_or_a_log_line() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let mut secrets = vec![PASSWORD.to_owned()];
    // A generated password, a SIP secret read and rotated, a second factor.
    let generated = app.user(&c.admin, json!({"password": null, "generate_password": true})).await;
    secrets.push(generated["password"].as_str().unwrap().to_owned());
    let ext = app.post("/v1/extensions", &c.admin, json!({"number": "55", "type": "sip"})).await.expect(201);
    let creds = app.get(&format!("/v1/extensions/{}/sip-credentials", id(&ext)), &c.admin).await.expect(200);
    secrets.push(creds["secret"].as_str().unwrap().to_owned());
    let rotated =
        app.post(&format!("/v1/extensions/{}/rotate-secret", id(&ext)), &c.admin, json!({})).await.expect(200);
    secrets.push(rotated["secret"].as_str().unwrap().to_owned());
    let token = app.token(generated["login"].as_str().unwrap(), &secrets[1]).await;
    let started = app.post("/v1/me/2fa", &token, json!({"password": secrets[1]})).await.expect(200);
    let secret = started["secret"].as_str().unwrap().to_owned();
    let totp = TotpSecret::from_base32(&secret).unwrap();
    let confirmed = app
        .post("/v1/me/2fa/confirm", &token, json!({"code": code_at(&totp, chrono::Utc::now()).unwrap()}))
        .await
        .expect(200);
    secrets.push(secret);
    let recovery: Vec<String> =
        confirmed["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    let signed = app
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"login": generated["login"], "password": secrets[1], "otp": recovery[0]})),
        )
        .await
        .expect(200);
    secrets.extend(recovery);
    secrets.push(signed["refresh_token"].as_str().unwrap().to_owned());
    secrets.push(signed["access_token"].as_str().unwrap().to_owned());
    // A set-password link, used.
    let newcomer = app
        .post(
            "/v1/users",
            &c.admin,
            json!({"email": format!("new{}@acme.example", unique()), "first_name": "N", "last_name": "Ew"}),
        )
        .await
        .expect(201);
    app.deliver_emails(Duration::zero()).await;
    let link = smtp.messages().into_iter().find(|m| m.to == [newcomer["email"].as_str().unwrap()]).unwrap().token();
    app.call(
        Method::POST,
        "/v1/auth/set-password",
        None,
        Some(json!({"token": link, "password": "another-fine-password"})),
    )
    .await
    .expect(204);
    secrets.push(link);
    secrets.push("another-fine-password".to_owned());
    app.login(newcomer["email"].as_str().unwrap(), "a-wrong-password-to-log").await;

    let stored = stored_strings(
        &app,
        "SELECT action || ' ' || COALESCE(target_type, '') || ' ' || COALESCE(ip, '') || ' ' || details FROM audit_events",
    )
    .await
    .join("\n");
    assert!(stored.contains("two_factor.enabled") && stored.contains("password.set_with_link"), "{stored}");
    let logs = captured_logs();
    for secret in &secrets {
        assert!(!stored.contains(secret.as_str()), "a secret in the audit log: {secret}");
        assert!(!logs.contains(secret.as_str()), "a secret in a log line: {secret}");
    }
    assert!(std::env::var("TEST_LOG").is_ok() || logs.contains("sign-in failed"), "the logs were captured");
}
