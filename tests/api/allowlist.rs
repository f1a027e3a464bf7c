//! IP allowlists (issue 4; PRODUCT.md rule 8; SECURITY.md "Network"): a
//! user with entries signs in, refreshes and calls the API only from them;
//! the client address is the socket peer unless that is a trusted proxy.
//! The tests connect from 127.0.0.1; behind a "trusted proxy" at
//! 127.0.0.1 they choose the address the proxy reports.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, id, reply, spawn_app, spawn_app_with};

/// A request as the trusted proxy forwards it for `client` (or, without a
/// trusted proxy, a direct client trying to forge its address).
async fn via(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    header: (&str, &str),
) -> Reply {
    let mut req = app.client.request(method, app.url(path)).header(header.0, header.1);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    reply(req.send().await.unwrap()).await
}

fn xff(client: &str) -> (&'static str, String) {
    ("x-forwarded-for", client.to_owned())
}

fn login_body(user: &Value) -> Value {
    json!({"login": user["login"], "password": PASSWORD})
}

fn networks(user: &Value) -> String {
    format!("/v1/users/{}/allowed-networks", id(user))
}

#[tokio::test]
async fn entries_are_validated_and_kept_canonical() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    assert_eq!(app.get(&networks(&user), &c.admin).await.expect(200), json!({"networks": []}));
    let stored = app
        .put(
            &networks(&user),
            &c.admin,
            json!({"networks": ["10.1.2.3/8", "2001:DB8::1/32", "203.0.113.7", "10.0.0.0/8", "::ffff:cb00:7107"]}),
        )
        .await
        .expect(200);
    // An IPv4-mapped IPv6 entry is the IPv4 address it maps (clients are
    // compared as IPv4), here one already listed.
    assert_eq!(stored["networks"], json!(["10.0.0.0/8", "2001:db8::/32", "203.0.113.7/32"]));
    let fields = app
        .put(
            &networks(&user),
            &c.admin,
            json!({"networks": ["192.0.2.0/24", "010.1.1.1", "10.0.0.0/33", "::ffff:10.1.2.3", "x"]}),
        )
        .await
        .invalid_fields();
    assert_eq!(fields, ["networks[1]", "networks[2]", "networks[3]", "networks[4]"]);
    assert_eq!(
        app.get(&networks(&user), &c.admin).await.expect(200)["networks"].as_array().unwrap().len(),
        3,
        "nothing half-applied"
    );

    let added = app.post(&networks(&user), &c.admin, json!({"network": "198.51.100.0/24"})).await.expect(200);
    assert_eq!(added["networks"].as_array().unwrap().len(), 4);
    let removed = app
        .call(Method::DELETE, &format!("{}?network=10.9.9.9/8", networks(&user)), Some(&c.admin), None)
        .await
        .expect(200);
    assert_eq!(
        removed["networks"],
        json!(["2001:db8::/32", "203.0.113.7/32", "198.51.100.0/24"]),
        "any spelling names the entry"
    );
    app.call(Method::DELETE, &format!("{}?network=nope", networks(&user)), Some(&c.admin), None)
        .await
        .problem(422, "validation_failed");
    let other = app.customer().await;
    app.get(&networks(&user), &other.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn outside_the_allowlist_sign_in_fails_only_after_the_password_matched() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.put(&networks(&user), &c.admin, json!({"networks": ["192.0.2.0/24"]})).await.expect(200);
    app.call(Method::POST, "/v1/auth/login", None, Some(login_body(&user))).await.problem(403, "ip_not_allowed");
    // A stranger guessing passwords learns nothing from it.
    app.call(
        Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({"login": user["login"], "password": "a-wrong-guess-here"})),
    )
    .await
    .problem(401, "invalid_credentials");
    // A forged header from a direct client changes nothing.
    for forged in [("x-forwarded-for", "192.0.2.7"), ("forwarded", "for=192.0.2.7")] {
        via(&app, Method::POST, "/v1/auth/login", None, Some(login_body(&user)), forged)
            .await
            .problem(403, "ip_not_allowed");
    }
    app.put(&networks(&user), &c.admin, json!({"networks": ["192.0.2.0/24", "127.0.0.0/8"]})).await.expect(200);
    app.call(Method::POST, "/v1/auth/login", None, Some(login_body(&user))).await.expect(200);
    app.put(&networks(&user), &c.admin, json!({"networks": []})).await.expect(200);
    app.call(Method::POST, "/v1/auth/login", None, Some(login_body(&user))).await.expect(200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_every_request_is_checked() {
    let app = spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.put(&networks(&user), &c.admin, json!({"networks": ["192.0.2.0/24"]})).await.expect(200);
    let inside = xff("192.0.2.44");
    let outside = xff("198.51.100.9");
    let signed = via(&app, Method::POST, "/v1/auth/login", None, Some(login_body(&user)), (inside.0, &inside.1))
        .await
        .expect(200);
    let token = signed["access_token"].as_str().unwrap();
    via(&app, Method::GET, "/v1/me", Some(token), None, (inside.0, &inside.1)).await.expect(200);
    via(&app, Method::GET, "/v1/me", Some(token), None, (outside.0, &outside.1)).await.problem(403, "ip_not_allowed");
    let refresh = json!({"refresh_token": signed["refresh_token"]});
    via(&app, Method::POST, "/v1/auth/refresh", None, Some(refresh.clone()), (outside.0, &outside.1))
        .await
        .problem(403, "ip_not_allowed");
    via(&app, Method::POST, "/v1/auth/login", None, Some(login_body(&user)), (outside.0, &outside.1))
        .await
        .problem(403, "ip_not_allowed");
    // The client writes the left-most hop itself; the proxy's is the right-most.
    let spoofed = xff("192.0.2.1, 198.51.100.9");
    via(&app, Method::POST, "/v1/auth/login", None, Some(login_body(&user)), (spoofed.0, &spoofed.1))
        .await
        .problem(403, "ip_not_allowed");
    // Only the configured header counts: Forwarded is ignored here.
    via(&app, Method::POST, "/v1/auth/login", None, Some(login_body(&user)), ("forwarded", "for=192.0.2.44"))
        .await
        .problem(403, "ip_not_allowed");
}

#[tokio::test]
async fn a_proxy_that_writes_forwarded_is_believed_for_that_header_only() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.0/8".into()];
        s.forwarded_header = voxport::config::ForwardedHeaderSetting::Forwarded;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.put(&networks(&user), &c.admin, json!({"networks": ["2001:db8::/32"]})).await.expect(200);
    via(
        &app,
        Method::POST,
        "/v1/auth/login",
        None,
        Some(login_body(&user)),
        ("forwarded", "for=\"[2001:db8::7]:4711\""),
    )
    .await
    .expect(200);
    let ignored = xff("2001:db8::7");
    via(&app, Method::POST, "/v1/auth/login", None, Some(login_body(&user)), (ignored.0, &ignored.1))
        .await
        .problem(403, "ip_not_allowed");
}

#[tokio::test]
async fn changing_the_allowlist_ends_the_users_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    app.put(&networks(&user), &c.admin, json!({"networks": ["127.0.0.0/8"]})).await.expect(200);
    app.get("/v1/me", &token).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn nobody_shuts_out_the_address_they_call_from() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let me = format!("/v1/users/{}/allowed-networks", c.admin_id);
    app.put(&me, &c.admin, json!({"networks": ["192.0.2.0/24"]})).await.problem(409, "allowlist_excludes_you");
    let kept = app.put(&me, &c.admin, json!({"networks": ["127.0.0.1"]})).await.expect(200);
    assert_eq!(kept["networks"], json!(["127.0.0.1/32"]));
    // Their own session survives their own change.
    app.get("/v1/me", &c.admin).await.expect(200);
}

#[tokio::test]
async fn nobody_widens_their_own_allowlist() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let me = format!("/v1/users/{}/allowed-networks", c.admin_id);
    app.put(&me, &c.admin, json!({"networks": ["127.0.0.1", "192.0.2.0/24"]})).await.expect(200);
    // Narrowing is theirs to do: one entry less, a smaller network.
    app.call(Method::DELETE, &format!("{me}?network=192.0.2.0/24"), Some(&c.admin), None).await.expect(200);
    for widen in [
        json!({"networks": []}),
        json!({"networks": ["127.0.0.0/8"]}),
        json!({"networks": ["127.0.0.1", "198.51.100.0/24"]}),
    ] {
        app.put(&me, &c.admin, widen).await.problem(409, "cannot_loosen_own_restrictions");
    }
    app.post(&me, &c.admin, json!({"network": "198.51.100.0/24"})).await.problem(409, "cannot_loosen_own_restrictions");
    app.call(Method::DELETE, &format!("{me}?network=127.0.0.1"), Some(&c.admin), None)
        .await
        .problem(409, "cannot_loosen_own_restrictions");
    assert_eq!(app.get(&me, &c.admin).await.expect(200)["networks"], json!(["127.0.0.1/32"]));
    // Another administrator lifts it.
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    let other = app.user(&c.admin, json!({"role_id": admin_role})).await;
    let other = app.token(other["login"].as_str().unwrap(), PASSWORD).await;
    app.put(&me, &other, json!({"networks": []})).await.expect(200);
}
