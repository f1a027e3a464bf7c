//! Roles and the permission catalog (PRODUCT.md rule 7).

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app};

#[tokio::test]
async fn every_tenant_has_the_four_built_in_roles() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let roles = app.get("/v1/roles", &c.admin).await.expect(200);
    let mut names: Vec<&str> = roles["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Administrator", "Call Center Admin", "Transactions only", "User"]);
    assert!(roles["items"].as_array().unwrap().iter().all(|r| r["builtin"] == true));
    // A customer's administrator does not manage tenants or licence pools.
    let admin = roles["items"].as_array().unwrap().iter().find(|r| r["name"] == "Administrator").unwrap();
    let perms = admin["permissions"].as_array().unwrap();
    assert!(perms.contains(&json!("users:write")));
    assert!(!perms.contains(&json!("tenants:write")));
    assert!(!perms.contains(&json!("stations:write")));
}

#[tokio::test]
async fn built_in_roles_cannot_be_changed_or_deleted() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user_role = app.role_id(&c.admin, "User").await;
    let path = format!("/v1/roles/{user_role}");
    app.patch(&path, &c.admin, json!({"name": "Peon"})).await.problem(409, "role_built_in");
    app.delete(&path, &c.admin).await.problem(409, "role_built_in");
    assert_eq!(app.get(&path, &c.admin).await.expect(200)["name"], "User");
}

#[tokio::test]
async fn custom_roles_are_created_changed_and_deleted() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let reply = app
        .post("/v1/roles", &c.admin, json!({"name": "Receptionist", "description": "Front desk", "permissions": ["users:read", "call_records:read"]}))
        .await;
    let role = reply.expect(201);
    assert_eq!(role["permissions"], json!(["users:read", "call_records:read"]));
    assert_eq!(role["description"], "Front desk");
    assert_eq!(role["builtin"], false);
    assert_eq!(
        app.get(&format!("/v1/roles/{}", role["id"].as_str().unwrap()), &c.admin).await.expect(200)["description"],
        "Front desk"
    );
    let path = format!("/v1/roles/{}", role["id"].as_str().unwrap());
    let changed =
        app.patch(&path, &c.admin, json!({"permissions": ["users:read"], "description": null})).await.expect(200);
    assert_eq!((changed["permissions"].clone(), changed["description"].clone()), (json!(["users:read"]), Value::Null));
    assert_eq!(changed["name"], "Receptionist");
    assert_eq!(app.delete(&path, &c.admin).await.status, 204);
    app.get(&path, &c.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn role_names_are_unique_in_a_tenant_without_regard_to_case() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    app.post("/v1/roles", &a.admin, json!({"name": "Night Shift", "permissions": []})).await.expect(201);
    app.post("/v1/roles", &a.admin, json!({"name": "night shift", "permissions": []}))
        .await
        .problem(409, "role_name_taken");
    app.post("/v1/roles", &a.admin, json!({"name": "administrator", "permissions": []}))
        .await
        .problem(409, "role_name_taken");
    app.post("/v1/roles", &b.admin, json!({"name": "Night Shift", "permissions": []})).await.expect(201);
}

#[tokio::test]
async fn a_role_in_use_cannot_be_deleted() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let role = app.post("/v1/roles", &c.admin, json!({"name": "Agents", "permissions": []})).await.expect(201);
    let user = app.user(&c.admin, json!({"role_id": role["id"]})).await;
    let path = format!("/v1/roles/{}", role["id"].as_str().unwrap());
    app.delete(&path, &c.admin).await.problem(409, "role_in_use");
    app.delete(&format!("/v1/users/{}", user["id"].as_str().unwrap()), &c.admin).await.expect(204);
    assert_eq!(app.delete(&path, &c.admin).await.status, 204);
}

#[tokio::test]
async fn nobody_creates_or_widens_a_role_beyond_their_own_permissions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    // A customer administrator lacks tenants:write.
    let denied = app.post("/v1/roles", &c.admin, json!({"name": "Sneaky", "permissions": ["tenants:write"]})).await;
    assert_eq!(denied.problem(403, "permission_not_held")["missing_permissions"], json!(["tenants:write"]));
    let role = app.post("/v1/roles", &c.admin, json!({"name": "Small", "permissions": []})).await.expect(201);
    app.patch(
        &format!("/v1/roles/{}", role["id"].as_str().unwrap()),
        &c.admin,
        json!({"permissions": ["stations:write"]}),
    )
    .await
    .problem(403, "permission_not_held");

    // A role manager without users:write cannot hand it out either.
    let managers = app
        .post("/v1/roles", &c.admin, json!({"name": "Role managers", "permissions": ["roles:read", "roles:write"]}))
        .await
        .expect(201);
    let manager = app.user(&c.admin, json!({"role_id": managers["id"]})).await;
    let token = app.token(manager["login"].as_str().unwrap(), PASSWORD).await;
    app.post("/v1/roles", &token, json!({"name": "Escalate", "permissions": ["users:write"]}))
        .await
        .problem(403, "permission_not_held");
    app.post("/v1/roles", &token, json!({"name": "Fine", "permissions": ["roles:read"]})).await.expect(201);
    // Nor can they change a role holding more than they do (its holders' access).
    let mighty = app
        .post("/v1/roles", &c.admin, json!({"name": "Mighty", "permissions": ["users:write", "roles:read"]}))
        .await
        .expect(201);
    let mighty_path = format!("/v1/roles/{}", mighty["id"].as_str().unwrap());
    app.patch(&mighty_path, &token, json!({"permissions": ["roles:read"]})).await.problem(403, "permission_not_held");
    app.patch(&mighty_path, &token, json!({"name": "Renamed"})).await.problem(403, "permission_not_held");
}

#[tokio::test]
async fn invalid_role_fields_are_422() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"name": "", "permissions": []}), vec!["name"]),
        (json!({"name": "x".repeat(65), "permissions": []}), vec!["name"]),
        (json!({"name": "Ok", "permissions": ["users:read", "users:*"]}), vec!["permissions[1]"]),
        (json!({"name": "Ok"}), vec!["permissions"]),
        (json!({"name": "Ok", "permissions": [], "builtin": true}), vec!["builtin"]),
        (json!({"name": "Ok", "permissions": [], "description": "d".repeat(501)}), vec!["description"]),
        (json!({"name": "Ok", "permissions": "users:read"}), vec!["permissions"]),
    ];
    for (body, fields) in cases {
        assert_eq!(app.post("/v1/roles", &c.admin, body.clone()).await.invalid_fields(), fields, "{body}");
    }
}

#[tokio::test]
async fn the_permission_catalog_lists_every_permission_with_a_description() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let catalog = app.get("/v1/permissions", &c.admin).await.expect(200);
    let codes: Vec<&str> = catalog["items"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    for wanted in [
        "users:read",
        "users:write",
        "roles:write",
        "extensions:write",
        "stations:read",
        "devices:write",
        "tenants:write",
        "audit:read",
        "call_records:read_own",
    ] {
        assert!(codes.contains(&wanted), "{wanted} missing from {codes:?}");
    }
    assert_eq!(catalog["total"].as_u64(), Some(codes.len() as u64));
    let page = app.get("/v1/permissions?per_page=2&page=2", &c.admin).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["code"].as_str(), Some(codes[2]));
}

#[tokio::test]
async fn roles_need_roles_permissions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    app.get("/v1/roles", &token).await.problem(403, "permission_denied");
    app.get("/v1/permissions", &token).await.problem(403, "permission_denied");
    app.post("/v1/roles", &token, json!({"name": "X", "permissions": []})).await.problem(403, "permission_denied");
}

#[tokio::test]
async fn another_tenants_role_is_a_404() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    let role = app.post("/v1/roles", &b.admin, json!({"name": "Theirs", "permissions": []})).await.expect(201);
    let path = format!("/v1/roles/{}", role["id"].as_str().unwrap());
    app.get(&path, &a.admin).await.problem(404, "not_found");
    app.patch(&path, &a.admin, json!({"name": "Mine"})).await.problem(404, "not_found");
    app.delete(&path, &a.admin).await.problem(404, "not_found");
}
