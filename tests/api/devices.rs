//! Desk phones (PRODUCT.md rule 3; issue 3 "Devices").

use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, spawn_app, unique};

/// A MAC address no other test uses, in `aabbccddeeff` form.
fn fresh_mac() -> String {
    let n: u64 = unique().parse::<u64>().unwrap() % 0xffff_ffff;
    format!("02ab{n:08x}")
}

async fn device(app: &TestApp, token: &str, ports: u32) -> Value {
    app.post("/v1/devices", token, json!({"mac": fresh_mac(), "vendor": "Yealink", "model": "T54W", "ports": ports}))
        .await
        .expect(201)
}

async fn assign(app: &TestApp, token: &str, user: &Value, device: &Value, ports: Option<u32>) -> Reply {
    let mut body = json!({"device_id": device["id"]});
    if let Some(p) = ports {
        body["ports"] = json!(p);
    }
    app.call(
        reqwest::Method::PUT,
        &format!("/v1/users/{}/device", user["id"].as_str().unwrap()),
        Some(token),
        Some(body),
    )
    .await
}

fn path(v: &Value) -> String {
    format!("/v1/devices/{}", v["id"].as_str().unwrap())
}

#[tokio::test]
async fn macs_are_stored_canonically_and_unique_in_any_spelling() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    let created = app
        .post(
            "/v1/devices",
            &a.admin,
            json!({"mac": "80-5E-C0-AB-CD-EF", "vendor": "Yealink", "model": "T54W", "ports": 16}),
        )
        .await
        .expect(201);
    assert_eq!(created["mac"], "80:5e:c0:ab:cd:ef");
    assert_eq!(created["user"], Value::Null);
    for spelling in ["80:5e:c0:ab:cd:ef", "805e.c0ab.cdef", "805EC0ABCDEF"] {
        for token in [&a.admin, &b.admin] {
            app.post("/v1/devices", token, json!({"mac": spelling, "vendor": "Y", "model": "M", "ports": 1}))
                .await
                .problem(409, "mac_taken");
        }
    }
}

#[tokio::test]
async fn a_device_serves_one_user_and_names_its_holder_when_taken() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let phone = device(&app, &c.admin, 4).await;
    let first = app.user(&c.admin, json!({})).await;
    let second = app.user(&c.admin, json!({})).await;

    let assigned = assign(&app, &c.admin, &first, &phone, Some(2)).await.expect(200);
    assert_eq!(assigned["user"], json!({"id": first["id"], "login": first["login"]}));
    let shown = app.get(&format!("/v1/users/{}", first["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(shown["device"], json!({"id": phone["id"], "mac": phone["mac"], "model": "T54W", "ports": 2}));

    let refused = assign(&app, &c.admin, &second, &phone, None).await.problem(409, "device_assigned");
    assert_eq!(refused["holder"], json!({"id": first["id"], "login": first["login"]}));
    assert!(refused["detail"].as_str().unwrap().contains(first["login"].as_str().unwrap()));
    let second_shown = app.get(&format!("/v1/users/{}", second["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(second_shown["device"], Value::Null);

    // The holder may change their ports on the same device.
    assert_eq!(assign(&app, &c.admin, &first, &phone, None).await.expect(200)["user"]["id"], first["id"]);
    let again = app.get(&format!("/v1/users/{}", first["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(again["device"]["ports"], 4, "the default is all of the device's ports");
    assign(&app, &c.admin, &first, &phone, Some(5)).await.problem(409, "ports_exceed_device");
}

#[tokio::test]
async fn a_user_holds_one_device_and_giving_another_frees_the_first() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let old = device(&app, &c.admin, 1).await;
    let new = device(&app, &c.admin, 1).await;
    let user = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &user, &old, None).await.expect(200);
    assign(&app, &c.admin, &user, &new, None).await.expect(200);
    assert_eq!(app.get(&path(&old), &c.admin).await.expect(200)["user"], Value::Null);
    let available = app.get("/v1/devices?available=true", &c.admin).await.expect(200);
    let ids: Vec<&Value> = available["items"].as_array().unwrap().iter().map(|d| &d["id"]).collect();
    assert_eq!(ids, [&old["id"]]);
    let all = app.get("/v1/devices", &c.admin).await.expect(200);
    assert_eq!(all["total"], 2);
}

#[tokio::test]
async fn an_assigned_device_cannot_be_deleted_until_freed() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let phone = device(&app, &c.admin, 1).await;
    let user = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &user, &phone, None).await.expect(200);
    let refused = app.delete(&path(&phone), &c.admin).await.problem(409, "device_in_use");
    assert_eq!(refused["holder"]["id"], user["id"]);
    let release = format!("/v1/users/{}/device", user["id"].as_str().unwrap());
    assert_eq!(app.delete(&release, &c.admin).await.status, 204);
    assert_eq!(app.delete(&release, &c.admin).await.status, 204, "freeing twice is fine");
    assert_eq!(app.delete(&path(&phone), &c.admin).await.status, 204);
    app.get(&path(&phone), &c.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn deleting_a_user_frees_their_device() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let phone = device(&app, &c.admin, 1).await;
    let user = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &user, &phone, None).await.expect(200);
    app.delete(&format!("/v1/users/{}", user["id"].as_str().unwrap()), &c.admin).await.expect(204);
    assert_eq!(app.get(&path(&phone), &c.admin).await.expect(200)["user"], Value::Null);
    let next = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &next, &phone, None).await.expect(200);
}

#[tokio::test]
async fn users_racing_for_one_device_leave_exactly_one_holder() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let phone = device(&app, &c.admin, 1).await;
    let mut users = Vec::new();
    for _ in 0..8 {
        users.push(app.user(&c.admin, json!({})).await);
    }
    let replies = futures::future::join_all(users.iter().map(|u| assign(&app, &c.admin, u, &phone, None))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 7, "{statuses:?}");
    let holder = app.get(&path(&phone), &c.admin).await.expect(200)["user"]["id"].clone();
    let listed = app.get("/v1/users?per_page=200", &c.admin).await.expect(200);
    let holding: Vec<&Value> =
        listed["items"].as_array().unwrap().iter().filter(|u| !u["device"].is_null()).map(|u| &u["id"]).collect();
    assert_eq!(holding, [&holder]);
}

#[tokio::test]
async fn another_tenants_devices_are_404() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    let theirs = device(&app, &b.admin, 1).await;
    app.get(&path(&theirs), &a.admin).await.problem(404, "not_found");
    app.patch(&path(&theirs), &a.admin, json!({"label": "mine"})).await.problem(404, "not_found");
    app.delete(&path(&theirs), &a.admin).await.problem(404, "not_found");
    let user = app.user(&a.admin, json!({})).await;
    assign(&app, &a.admin, &user, &theirs, None).await.problem(404, "device_not_found");
    assert_eq!(app.get("/v1/devices", &a.admin).await.expect(200)["total"], 0);
}

#[tokio::test]
async fn devices_need_devices_permissions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), crate::helpers::PASSWORD).await;
    app.get("/v1/devices", &token).await.problem(403, "permission_denied");
    app.post("/v1/devices", &token, json!({"mac": fresh_mac(), "vendor": "Y", "model": "M", "ports": 1}))
        .await
        .problem(403, "permission_denied");
}

#[tokio::test]
async fn invalid_device_fields_are_422() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let ok = || json!({"mac": fresh_mac(), "vendor": "Yealink", "model": "T54W", "ports": 2});
    let with = |k: &str, v: Value| {
        let mut b = ok();
        b[k] = v;
        b
    };
    let cases = [
        (with("mac", json!("zz:zz:zz:zz:zz:zz")), vec!["mac"]),
        (with("mac", json!("aa:bb-cc:dd-ee:ff")), vec!["mac"]),
        (with("ports", json!(0)), vec!["ports"]),
        (with("ports", json!(17)), vec!["ports"]),
        (with("vendor", json!("")), vec!["vendor"]),
        (with("label", json!("a\nb")), vec!["label"]),
        (with("owner", json!("me")), vec!["owner"]),
    ];
    for (body, fields) in cases {
        assert_eq!(app.post("/v1/devices", &c.admin, body.clone()).await.invalid_fields(), fields, "{body}");
    }
    let phone = device(&app, &c.admin, 2).await;
    let user = app.user(&c.admin, json!({})).await;
    assert_eq!(assign(&app, &c.admin, &user, &phone, Some(0)).await.invalid_fields(), ["ports"]);
    let relabelled = app.patch(&path(&phone), &c.admin, json!({"label": "Reception"})).await.expect(200);
    assert_eq!(relabelled["label"], "Reception");
    assert_eq!(app.patch(&path(&phone), &c.admin, json!({"label": null})).await.expect(200)["label"], Value::Null);
    assert_eq!(app.patch(&path(&phone), &c.admin, json!({"mac": "aa:bb:cc:dd:ee:ff"})).await.invalid_fields(), ["mac"]);
}
