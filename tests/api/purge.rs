//! Housekeeping (issue 11): ended sessions, links, idempotency keys,
//! throttle counters, known addresses and API clients' ended tokens are
//! forgotten once they outlive their use, in batches, by every replica at
//! once without harm.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, spawn_app, stored_strings, unique};

const TABLES: [&str; 6] =
    ["sessions", "password_tokens", "idempotency_keys", "login_throttle", "known_addresses", "api_client_tokens"];

async fn counts(app: &TestApp) -> Vec<u64> {
    let mut out = Vec::new();
    for table in TABLES {
        let n = stored_strings(app, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await;
        out.push(n[0].parse().unwrap());
    }
    out
}

#[tokio::test]
async fn what_outlived_its_use_is_purged_once_however_many_replicas_purge() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    // A session that ends, a failed sign-in, a key, a reset link.
    let signed = app.login(&login, PASSWORD).await.expect(200);
    let (token, refresh) = (signed["access_token"].as_str().unwrap(), signed["refresh_token"].as_str().unwrap());
    let ended = app.post("/v1/auth/logout", token, json!({"refresh_token": refresh})).await;
    assert_eq!(ended.status, 204, "signed out");
    app.login(&login, "not the password at all").await.problem(401, "invalid_credentials");
    let body =
        json!({"login": format!("kept{}", unique()), "first_name": "K", "last_name": "Ept", "password": PASSWORD});
    let keyed = app.client.post(app.url("/v1/users")).bearer_auth(&c.admin).header("idempotency-key", unique());
    assert_eq!(keyed.json(&body).send().await.unwrap().status(), 201);
    app.call(reqwest::Method::POST, "/v1/auth/password-reset", None, Some(json!({"login": login}))).await;
    // An API client's token.
    let client =
        app.post("/v1/api-clients", &c.admin, json!({"name": "CRM", "permissions": ["users:read"]})).await.expect(201);
    app.client_token(&client).await;
    for _ in 0..50 {
        if counts(&app).await[1] > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let before = counts(&app).await;
    assert!(before.iter().all(|n| *n > 0), "every kind of row is there: {before:?}");

    // Now, nothing is old enough.
    app.voxport.purge(Utc::now()).await.unwrap();
    let fresh = counts(&app).await;
    assert_eq!(fresh, before, "nothing fresh is forgotten, the session ended just now included");

    // A year on, two replicas purging at once forget each row once.
    let later = Utc::now() + Duration::days(400);
    let (one, two) = tokio::join!(app.voxport.purge(later), app.voxport.purge(later));
    let gone = one.unwrap() + two.unwrap();
    let after = counts(&app).await;
    assert_eq!(after, vec![0; TABLES.len()], "all of it outlived its use");
    assert_eq!(gone, fresh.iter().sum::<u64>(), "each row went once");
}
