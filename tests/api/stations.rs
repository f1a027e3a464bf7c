//! Station licence pools (PRODUCT.md rules 2, 10 and 11).

use serde_json::{Value, json};

use crate::helpers::{Customer, PASSWORD, TestApp, spawn_app, unique};

/// The operator creates a pool of `quantity` for the customer.
async fn pool(app: &TestApp, c: &Customer, quantity: u32) -> Value {
    let n = unique();
    app.post(
        "/v1/stations",
        &app.operator,
        json!({"tenant_id": c.id, "name": format!("Standard {n}"), "code": format!("std-{n}"),
               "applications": ["desktop_app", "web_dialer"], "quantity": quantity}),
    )
    .await
    .expect(201)
}

fn path(v: &Value) -> String {
    format!("/v1/stations/{}", v["id"].as_str().unwrap())
}

async fn assign(app: &TestApp, token: &str, user: &Value, station: &Value) -> crate::helpers::Reply {
    app.call(
        reqwest::Method::PUT,
        &format!("/v1/users/{}/station", user["id"].as_str().unwrap()),
        Some(token),
        Some(json!({"station_id": station["id"]})),
    )
    .await
}

#[tokio::test]
async fn the_parent_creates_a_pool_that_the_customers_admins_read_but_cannot_change() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let station = pool(&app, &c, 10).await;
    assert_eq!(
        (station["quantity"].as_u64(), station["in_use"].as_u64(), station["available"].as_u64()),
        (Some(10), Some(0), Some(10))
    );
    assert_eq!(station["applications"], json!(["desktop_app", "web_dialer"]));
    assert_eq!(station["tenant_id"].as_str(), Some(c.id.as_str()));

    let list = app.get("/v1/stations", &c.admin).await.expect(200);
    assert_eq!(list["total"], 1);
    app.get(&path(&station), &c.admin).await.expect(200);
    // A customer cannot order more itself (rule 11).
    app.patch(&path(&station), &c.admin, json!({"quantity": 100})).await.problem(403, "permission_denied");
    app.post("/v1/stations", &c.admin, json!({"name": "Free", "code": "free", "applications": [], "quantity": 1000}))
        .await
        .problem(403, "permission_denied");
    // The parent sees the customer's pools too.
    let theirs = app.get(&format!("/v1/stations?tenant_id={}", c.id), &app.operator).await.expect(200);
    assert_eq!(theirs["total"], 1);
    // The parent orders more.
    let more = app.patch(&path(&station), &app.operator, json!({"quantity": 12})).await.expect(200);
    assert_eq!(more["available"], 12);
}

#[tokio::test]
async fn a_reseller_orders_for_its_customers_but_never_for_itself() {
    let app = spawn_app().await;
    let n = unique();
    app.post("/v1/tenants", &app.operator, json!({"name": "Reseller", "slug": format!("rs-{n}"), "kind": "reseller",
             "admin": {"email": format!("boss{n}@rs.example"), "first_name": "R", "last_name": "S", "password": PASSWORD}}))
        .await
        .expect(201);
    let reseller = app.token(&format!("boss{n}@rs.example"), PASSWORD).await;
    // Its own pools come from the platform, which it cannot stand in for.
    app.post(
        "/v1/stations",
        &reseller,
        json!({"name": "Mine", "code": "mine", "applications": [], "quantity": 100000}),
    )
    .await
    .problem(403, "not_the_parent");
    let me = app.get("/v1/me", &reseller).await.expect(200);
    let tenant = me["tenant_id"].as_str().unwrap();
    let own = app
        .post(
            "/v1/stations",
            &app.operator,
            json!({"tenant_id": tenant, "name": "Mine", "code": "mine", "applications": [], "quantity": 5}),
        )
        .await
        .expect(201);
    app.patch(&path(&own), &reseller, json!({"quantity": 500})).await.problem(403, "not_the_parent");
    app.delete(&path(&own), &reseller).await.problem(403, "not_the_parent");
    // ... but it does order for its own customers.
    let customer = app
        .post(
            "/v1/tenants",
            &reseller,
            json!({"name": "Theirs", "slug": format!("theirs-{n}"),
               "admin": {"email": format!("it{n}@theirs.example"), "first_name": "T", "last_name": "C"}}),
        )
        .await
        .expect(201);
    app.post(
        "/v1/stations",
        &reseller,
        json!({"tenant_id": customer["id"], "name": "Std", "code": "std", "applications": [], "quantity": 5}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn giving_a_user_a_station_uses_a_licence_and_shows_on_the_user() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let basic = pool(&app, &c, 2).await;
    let other = pool(&app, &c, 2).await;
    let user = app.user(&c.admin, json!({})).await;
    assert_eq!(user["station"], Value::Null);

    let after = assign(&app, &c.admin, &user, &basic).await.expect(200);
    assert_eq!((after["in_use"].as_u64(), after["available"].as_u64()), (Some(1), Some(1)));
    let shown = app.get(&format!("/v1/users/{}", user["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(shown["station"], json!({"id": basic["id"], "name": basic["name"]}));
    // The user sees it too, and so does the list.
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    assert_eq!(app.get("/v1/me", &token).await.expect(200)["station"]["id"], basic["id"]);
    let list = app.get("/v1/users?per_page=200", &c.admin).await.expect(200);
    let listed = list["items"].as_array().unwrap().iter().find(|u| u["id"] == user["id"]).unwrap();
    assert_eq!(listed["station"]["id"], basic["id"]);

    // The same station again changes nothing.
    assert_eq!(assign(&app, &c.admin, &user, &basic).await.expect(200)["in_use"], 1);
    // Another station moves the licence.
    assign(&app, &c.admin, &user, &other).await.expect(200);
    assert_eq!(app.get(&path(&basic), &c.admin).await.expect(200)["in_use"], 0);
    assert_eq!(app.get(&path(&other), &c.admin).await.expect(200)["in_use"], 1);
    // Taking it back frees it; twice is fine.
    let release = format!("/v1/users/{}/station", user["id"].as_str().unwrap());
    assert_eq!(app.delete(&release, &c.admin).await.status, 204);
    assert_eq!(app.delete(&release, &c.admin).await.status, 204);
    assert_eq!(app.get(&path(&other), &c.admin).await.expect(200)["in_use"], 0);
}

#[tokio::test]
async fn an_exhausted_pool_answers_409_station_unavailable_with_its_counts() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let station = pool(&app, &c, 1).await;
    let first = app.user(&c.admin, json!({})).await;
    let second = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &first, &station).await.expect(200);
    let refused = assign(&app, &c.admin, &second, &station).await.problem(409, "station_unavailable");
    assert_eq!(refused["station"], json!({"quantity": 1, "in_use": 1, "available": 0}));
    assert!(refused["detail"].as_str().unwrap().contains("order more"), "{refused}");
    let shown = app.get(&format!("/v1/users/{}", second["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(shown["station"], Value::Null);
    // An empty pool (quantity 0) is exhausted from the start.
    let empty = pool(&app, &c, 0).await;
    assign(&app, &c.admin, &second, &empty).await.problem(409, "station_unavailable");
}

#[tokio::test]
async fn twenty_concurrent_set_ups_for_one_free_licence_yield_one_success() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let station = pool(&app, &c, 3).await;
    for _ in 0..2 {
        let u = app.user(&c.admin, json!({})).await;
        assign(&app, &c.admin, &u, &station).await.expect(200);
    }
    let mut users = Vec::new();
    for _ in 0..20 {
        users.push(app.user(&c.admin, json!({})).await);
    }
    let replies = futures::future::join_all(users.iter().map(|u| assign(&app, &c.admin, u, &station))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
    let after = app.get(&path(&station), &c.admin).await.expect(200);
    assert_eq!((after["in_use"].as_u64(), after["available"].as_u64()), (Some(3), Some(0)));
}

#[tokio::test]
async fn deleting_a_user_frees_their_licence() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let station = pool(&app, &c, 1).await;
    let user = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &user, &station).await.expect(200);
    app.delete(&format!("/v1/users/{}", user["id"].as_str().unwrap()), &c.admin).await.expect(204);
    assert_eq!(app.get(&path(&station), &c.admin).await.expect(200)["in_use"], 0);
    let next = app.user(&c.admin, json!({})).await;
    assign(&app, &c.admin, &next, &station).await.expect(200);
}

#[tokio::test]
async fn a_pool_never_shrinks_below_its_licences_in_use_nor_goes_while_used() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let station = pool(&app, &c, 3).await;
    for _ in 0..2 {
        let u = app.user(&c.admin, json!({})).await;
        assign(&app, &c.admin, &u, &station).await.expect(200);
    }
    app.patch(&path(&station), &app.operator, json!({"quantity": 1})).await.problem(409, "quantity_below_in_use");
    assert_eq!(app.patch(&path(&station), &app.operator, json!({"quantity": 2})).await.expect(200)["available"], 0);
    // null leaves the quantity alone.
    let renamed =
        app.patch(&path(&station), &app.operator, json!({"quantity": null, "name": "Renamed"})).await.expect(200);
    assert_eq!((renamed["quantity"].as_u64(), renamed["name"].as_str()), (Some(2), Some("Renamed")));
    app.delete(&path(&station), &app.operator).await.problem(409, "station_in_use");
    let unused = pool(&app, &c, 5).await;
    assert_eq!(app.delete(&path(&unused), &app.operator).await.status, 204);
    app.get(&path(&unused), &c.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn another_tenants_pools_are_404() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    let theirs = pool(&app, &b, 5).await;
    app.get(&path(&theirs), &a.admin).await.problem(404, "not_found");
    app.get(&format!("/v1/stations?tenant_id={}", b.id), &a.admin).await.problem(404, "tenant_not_found");
    let user = app.user(&a.admin, json!({})).await;
    assign(&app, &a.admin, &user, &theirs).await.problem(404, "station_not_found");
    // Nor can a customer's admin touch another tenant's user.
    let stranger = app.user(&b.admin, json!({})).await;
    let mine = pool(&app, &a, 5).await;
    assign(&app, &a.admin, &stranger, &mine).await.problem(404, "not_found");
}

#[tokio::test]
async fn invalid_station_fields_are_422() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let ok = json!({"tenant_id": c.id, "name": "Basic", "code": "basic", "applications": [], "quantity": 1});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("name", json!("")), vec!["name"]),
        (with("code", json!("Not A Code")), vec!["code"]),
        (with("applications", json!(["desktop_app", "fax"])), vec!["applications[1]"]),
        (with("quantity", json!(-1)), vec!["quantity"]),
        (with("quantity", json!(100_001)), vec!["quantity"]),
        (with("quantity", json!(2.5)), vec!["quantity"]),
        (with("in_use", json!(0)), vec!["in_use"]),
    ];
    for (body, fields) in cases {
        assert_eq!(app.post("/v1/stations", &app.operator, body.clone()).await.invalid_fields(), fields, "{body}");
    }
    // JSON Schema's integers include 3.0.
    let whole = app.post("/v1/stations", &app.operator, with("quantity", json!(3.0))).await.expect(201);
    assert_eq!(whole["quantity"], 3);
    app.post("/v1/stations", &app.operator, ok).await.problem(409, "station_code_taken");
}
