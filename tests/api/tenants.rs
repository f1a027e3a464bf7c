//! Tenants: the platform creates customers with their first administrator;
//! a tenant sees only itself and what lies below it.

use serde_json::json;

use crate::helpers::{PASSWORD, spawn_app, unique};

#[tokio::test]
async fn the_operator_creates_a_customer_with_its_first_administrator() {
    let app = spawn_app().await;
    let n = unique();
    let reply = app
        .post(
            "/v1/tenants",
            &app.operator,
            json!({"name": "Acme Corporation", "slug": format!("acme-{n}"),
                   "admin": {"email": format!("it{n}@acme.example"), "first_name": "Ada", "last_name": "Admin", "generate_password": true}}),
        )
        .await;
    let tenant = reply.expect(201);
    assert_eq!(tenant["kind"], "customer");
    assert_eq!(tenant["admin"]["role"]["name"], "Administrator");
    assert_eq!(tenant["admin"]["login"], format!("it{n}@acme.example"));
    let password = tenant["admin"]["password"].as_str().unwrap();
    let token = app.token(&format!("it{n}@acme.example"), password).await;
    let me = app.get("/v1/me", &token).await.expect(200);
    assert_eq!(me["id"], tenant["admin"]["id"]);
    let shown = app.get(&format!("/v1/tenants/{}", tenant["id"].as_str().unwrap()), &app.operator).await.expect(200);
    assert_eq!(shown["slug"], format!("acme-{n}"));
}

#[tokio::test]
async fn slugs_and_admin_logins_are_unique_and_a_failed_creation_leaves_nothing() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let n = unique();
    let taken_slug = json!({"name": "Dup", "slug": format!("customer-{}", "x"), "admin": {"email": format!("a{n}@x.example"), "first_name": "A", "last_name": "B"}});
    app.post("/v1/tenants", &app.operator, json!({"name": "First", "slug": "customer-x", "admin": {"email": format!("first{n}@x.example"), "first_name": "A", "last_name": "B"}}))
        .await
        .expect(201);
    app.post("/v1/tenants", &app.operator, taken_slug).await.problem(409, "slug_taken");
    let taken_login = json!({"name": "Dup", "slug": format!("dup-{n}"), "admin": {"email": c.admin_login.to_uppercase(), "first_name": "A", "last_name": "B"}});
    app.post("/v1/tenants", &app.operator, taken_login).await.problem(409, "login_taken");
    // The tenant of the failed creation does not exist.
    let list = app.get(&format!("/v1/tenants?q=dup-{n}"), &app.operator).await.expect(200);
    assert_eq!(list["total"], 0);
    app.login(&format!("a{n}@x.example"), PASSWORD).await.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn customers_administrators_cannot_manage_tenants() {
    let app = spawn_app().await;
    let c = app.customer().await;
    app.get("/v1/tenants", &c.admin).await.problem(403, "permission_denied");
    app.post(
        "/v1/tenants",
        &c.admin,
        json!({"name": "X", "slug": "x-x", "admin": {"email": "x@x.example", "first_name": "A", "last_name": "B"}}),
    )
    .await
    .problem(403, "permission_denied");
    app.get(&format!("/v1/tenants/{}", c.id), &c.admin).await.problem(403, "permission_denied");
}

#[tokio::test]
async fn a_reseller_sees_and_manages_only_its_own_customers() {
    let app = spawn_app().await;
    let n = unique();
    let reseller = app
        .post("/v1/tenants", &app.operator, json!({"name": "Reseller", "slug": format!("reseller-{n}"), "kind": "reseller",
               "admin": {"email": format!("boss{n}@reseller.example"), "first_name": "R", "last_name": "S", "password": PASSWORD}}))
        .await
        .expect(201);
    let reseller_token = app.token(&format!("boss{n}@reseller.example"), PASSWORD).await;
    let own = app
        .post(
            "/v1/tenants",
            &reseller_token,
            json!({"name": "Their customer", "slug": format!("theirs-{n}"),
               "admin": {"email": format!("it{n}@theirs.example"), "first_name": "T", "last_name": "C"}}),
        )
        .await
        .expect(201);
    assert_eq!(own["parent_id"], reseller["id"]);
    let direct = app.customer().await;

    let list = app.get("/v1/tenants", &reseller_token).await.expect(200);
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [own["id"].as_str().unwrap()]);
    for verb in ["get", "patch", "delete"] {
        let path = format!("/v1/tenants/{}", direct.id);
        let reply = match verb {
            "get" => app.get(&path, &reseller_token).await,
            "patch" => app.patch(&path, &reseller_token, json!({"name": "Mine"})).await,
            _ => app.delete(&path, &reseller_token).await,
        };
        reply.problem(404, "not_found");
    }
    // The platform sees the reseller's customer too.
    app.get(&format!("/v1/tenants/{}", own["id"].as_str().unwrap()), &app.operator).await.expect(200);
    // A reseller with customers cannot be deleted; its customer can.
    let reseller_path = format!("/v1/tenants/{}", reseller["id"].as_str().unwrap());
    app.delete(&reseller_path, &app.operator).await.problem(409, "tenant_has_children");
    assert_eq!(app.delete(&format!("/v1/tenants/{}", own["id"].as_str().unwrap()), &reseller_token).await.status, 204);
    assert_eq!(app.delete(&reseller_path, &app.operator).await.status, 204);
    app.get("/v1/me", &reseller_token).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_customer_cannot_own_tenants_and_nobody_deletes_their_own() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let n = unique();
    let sub = |parent: &str| {
        json!({"name": "Sub", "slug": format!("sub-{n}"), "parent_id": parent,
               "admin": {"email": format!("s{n}@sub.example"), "first_name": "A", "last_name": "B"}})
    };
    app.post("/v1/tenants", &app.operator, sub(&c.id)).await.problem(409, "parent_cannot_own_tenants");
    app.post("/v1/tenants", &app.operator, sub("0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10"))
        .await
        .problem(404, "tenant_not_found");
    let me = app.get("/v1/me", &app.operator).await.expect(200);
    let own = format!("/v1/tenants/{}", me["tenant_id"].as_str().unwrap());
    app.delete(&own, &app.operator).await.problem(409, "cannot_delete_own_tenant");
    app.get(&own, &app.operator).await.expect(200);
}

#[tokio::test]
async fn tenants_are_renamed_and_deleted_with_their_users() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let path = format!("/v1/tenants/{}", c.id);
    let renamed = app
        .patch(&path, &app.operator, json!({"name": "Renamed Ltd", "slug": format!("renamed-{}", unique())}))
        .await
        .expect(200);
    assert_eq!(renamed["name"], "Renamed Ltd");
    let user = app.user(&c.admin, json!({})).await;
    assert_eq!(app.delete(&path, &app.operator).await.status, 204);
    app.get(&path, &app.operator).await.problem(404, "not_found");
    app.login(&c.admin_login, PASSWORD).await.problem(401, "invalid_credentials");
    app.login(user["login"].as_str().unwrap(), PASSWORD).await.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn invalid_tenant_fields_are_422_naming_each_field() {
    let app = spawn_app().await;
    let cases = vec![
        (
            json!({"name": "", "slug": "ok-slug", "admin": {"email": "a@b.example", "first_name": "A", "last_name": "B"}}),
            vec!["name"],
        ),
        (
            json!({"name": "N", "slug": "Bad Slug", "admin": {"email": "a@b.example", "first_name": "A", "last_name": "B"}}),
            vec!["slug"],
        ),
        (
            json!({"name": "N", "slug": "ok-slug", "admin": {"email": "nope", "first_name": "A", "last_name": "B"}}),
            vec!["admin.email"],
        ),
        (
            json!({"name": "N", "slug": "ok-slug", "admin": {"email": "a@b.example", "first_name": "A", "last_name": "B", "password": "short"}}),
            vec!["admin.password"],
        ),
        (
            json!({"name": "N", "slug": "ok-slug", "admin": {"email": "a@b.example", "first_name": "A"}}),
            vec!["admin.last_name"],
        ),
        (
            json!({"name": "N", "slug": "ok-slug", "admin": {"email": "a@b.example", "first_name": "A", "last_name": "B", "role": "x"}}),
            vec!["admin.role"],
        ),
        (
            json!({"name": "N", "slug": "ok-slug", "kind": "platform", "admin": {"email": "a@b.example", "first_name": "A", "last_name": "B"}}),
            vec!["kind"],
        ),
        (json!({"name": "N", "slug": "ok-slug"}), vec!["admin"]),
    ];
    for (body, fields) in cases {
        assert_eq!(app.post("/v1/tenants", &app.operator, body.clone()).await.invalid_fields(), fields, "{body}");
    }
}

#[tokio::test]
async fn creating_a_tenant_grants_its_administrator_no_more_than_the_creator_holds() {
    let app = spawn_app().await;
    let onboarding = app
        .post(
            "/v1/roles",
            &app.operator,
            json!({"name": "Onboarding", "permissions": ["tenants:read", "tenants:write"]}),
        )
        .await
        .expect(201);
    let clerk = app.user(&app.operator, json!({"role_id": onboarding["id"]})).await;
    let token = app.token(clerk["login"].as_str().unwrap(), PASSWORD).await;
    let n = unique();
    let body = json!({"name": "Back door", "slug": format!("door-{n}"), "kind": "customer",
        "admin": {"email": format!("door{n}@customer.example"), "first_name": "D", "last_name": "Oor", "password": PASSWORD}});
    let refused = app.post("/v1/tenants", &token, body.clone()).await.problem(403, "permission_not_held");
    let missing = refused["missing_permissions"].as_array().unwrap();
    assert!(missing.contains(&json!("users:write")) && !missing.contains(&json!("tenants:write")), "{refused}");
    app.login(&format!("door{n}@customer.example"), PASSWORD).await.problem(401, "invalid_credentials");
    // Someone who holds all of it creates the same tenant.
    app.post("/v1/tenants", &app.operator, body).await.expect(201);
}
