//! Several replicas on one database behave as one (issue 12): what one
//! replica changes about who may call refuses the tokens on the others
//! within a second, though each keeps what authenticating a token read for
//! a moment (`auth_cache_ms`), and at once on the replica that made it.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, fresh_database, id, spawn_with_settings, test_settings};

/// Signs `user` in on `one`, and proves the token works on both replicas
/// (so the other has it cached).
async fn signed_in(one: &TestApp, two: &TestApp, user: &Value) -> Value {
    let body = one.login(user["login"].as_str().unwrap(), PASSWORD).await.expect(200);
    let token = body["access_token"].as_str().unwrap();
    one.get("/v1/me", token).await.expect(200);
    two.get("/v1/me", token).await.expect(200);
    body
}

#[tokio::test]
async fn sessions_accounts_roles_and_allowlists_changed_on_one_replica_hold_on_the_other_within_a_second() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    assert!(settings.auth_cache_ms > 0 && settings.auth_cache_ms < 1_000, "the cache is on, as deployed");
    let one = spawn_with_settings(settings.clone(), dir).await;
    let two = spawn_with_settings(settings, None).await;
    let c = one.customer().await;
    let admin_role = one.role_id(&c.admin, "Administrator").await;
    let user_role = one.role_id(&c.admin, "User").await;

    let leaver = one.user(&c.admin, json!({})).await;
    let disabled = one.user(&c.admin, json!({})).await;
    let demoted = one.user(&c.admin, json!({"role_id": admin_role})).await;
    let fenced = one.user(&c.admin, json!({})).await;
    let sessions = [
        signed_in(&one, &two, &leaver).await,
        signed_in(&one, &two, &disabled).await,
        signed_in(&one, &two, &demoted).await,
        signed_in(&one, &two, &fenced).await,
    ];
    let token = |n: usize| sessions[n]["access_token"].as_str().unwrap().to_owned();
    two.get("/v1/users", &token(2)).await.expect(200);

    // Signing out, disabling, demoting and fencing in, all on `one`.
    let out = json!({"refresh_token": sessions[0]["refresh_token"]});
    assert_eq!(one.call(Method::POST, "/v1/auth/logout", None, Some(out)).await.status, 204);
    one.patch(&format!("/v1/users/{}", id(&disabled)), &c.admin, json!({"disabled": true})).await.expect(200);
    one.patch(&format!("/v1/users/{}", id(&demoted)), &c.admin, json!({"role_id": user_role})).await.expect(200);
    one.put(&format!("/v1/users/{}/allowed-networks", id(&fenced)), &c.admin, json!({"networks": ["192.0.2.0/24"]}))
        .await
        .expect(200);

    // At once on the replica that made the changes…
    for n in [0, 1, 2] {
        one.get("/v1/me", &token(n)).await.problem(401, "unauthenticated");
    }
    one.get("/v1/me", &token(3)).await.problem(401, "unauthenticated");
    // …and within a second on the other.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for n in [0, 1, 2, 3] {
        two.get("/v1/me", &token(n)).await.problem(401, "unauthenticated");
    }
    // A role change without ending sessions (a custom role losing a
    // permission) shows there too.
    let role =
        one.post("/v1/roles", &c.admin, json!({"name": "Readers", "permissions": ["users:read"]})).await.expect(201);
    let reader = one.user(&c.admin, json!({"role_id": role["id"]})).await;
    let reading = signed_in(&one, &two, &reader).await;
    let reading = reading["access_token"].as_str().unwrap();
    two.get("/v1/users", reading).await.expect(200);
    one.patch(&format!("/v1/roles/{}", id(&role)), &c.admin, json!({"permissions": []})).await.expect(200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    two.get("/v1/users", reading).await.problem(403, "permission_denied");
}
