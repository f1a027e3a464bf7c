//! Phone numbers (PRODUCT.md rule 4; issue 3 "Phone numbers").

use serde_json::{Value, json};

use crate::helpers::{Customer, TestApp, id, spawn_app, unique};

/// A number no other test uses.
fn fresh_number() -> String {
    let n: u64 = unique().parse::<u64>().unwrap() % 10_000_000;
    format!("+1415{n:07}")
}

/// The operator adds a number for the customer.
async fn number(app: &TestApp, c: &Customer) -> Value {
    app.post("/v1/phone-numbers", &app.operator, json!({"number": fresh_number(), "tenant_id": c.id})).await.expect(201)
}

fn path(v: &Value) -> String {
    format!("/v1/phone-numbers/{}", id(v))
}

fn of_user(user: &Value) -> String {
    format!("/v1/users/{}/phone-number", id(user))
}

#[tokio::test]
async fn numbers_are_kept_in_e164_and_unique_on_the_platform() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let other = app.customer().await;
    let created = app
        .post(
            "/v1/phone-numbers",
            &app.operator,
            json!({"number": "+1 (415) 555-0100", "tenant_id": c.id, "label": "Main line"}),
        )
        .await
        .expect(201);
    assert_eq!((&created["number"], &created["label"]), (&json!("+14155550100"), &json!("Main line")));
    assert_eq!(created["tenant_id"], c.id.as_str());
    for spelling in ["+14155550100", "001 415 555 0100", "+1.415.555.0100"] {
        app.post("/v1/phone-numbers", &app.operator, json!({"number": spelling, "tenant_id": other.id}))
            .await
            .problem(409, "phone_number_taken");
    }
    for bad in ["4155550100", "+0415555010", "+1 415 CALL ME", "+123", ""] {
        let fields = app
            .post("/v1/phone-numbers", &app.operator, json!({"number": bad, "tenant_id": c.id}))
            .await
            .invalid_fields();
        assert_eq!(fields, ["number"], "{bad:?}");
    }
    // The customer reads its numbers; another customer does not see them.
    assert_eq!(app.get("/v1/phone-numbers", &c.admin).await.expect(200)["total"], 1);
    assert_eq!(app.get("/v1/phone-numbers?q=555", &c.admin).await.expect(200)["total"], 1);
    assert_eq!(app.get("/v1/phone-numbers?q=999", &c.admin).await.expect(200)["total"], 0);
    app.get(&path(&created), &other.admin).await.problem(404, "not_found");
    let theirs = app.get(&format!("/v1/phone-numbers?tenant_id={}", c.id), &app.operator).await.expect(200);
    assert_eq!(theirs["total"], 1);
    app.get(&format!("/v1/phone-numbers?tenant_id={}", c.id), &other.admin).await.problem(404, "tenant_not_found");
    let relabelled = app.patch(&path(&created), &c.admin, json!({"label": null})).await.expect(200);
    assert_eq!(relabelled["label"], Value::Null);
}

#[tokio::test]
async fn a_customer_adds_its_own_numbers_only_when_its_parent_allows_it() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let body = json!({"number": fresh_number()});
    app.post("/v1/phone-numbers", &c.admin, body.clone()).await.problem(403, "not_the_parent");
    let given = number(&app, &c).await;
    app.delete(&path(&given), &c.admin).await.problem(403, "not_the_parent");

    app.patch(&format!("/v1/tenants/{}", c.id), &app.operator, json!({"own_phone_numbers": true})).await.expect(200);
    let own = app.post("/v1/phone-numbers", &c.admin, body).await.expect(201);
    assert_eq!(own["tenant_id"], c.id.as_str());
    assert_eq!(app.delete(&path(&own), &c.admin).await.status, 204);
    // The platform, having no parent, manages its own.
    app.post("/v1/phone-numbers", &app.operator, json!({"number": fresh_number()})).await.expect(201);
}

#[tokio::test]
async fn a_number_rings_one_user_and_a_user_holds_one_number() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let (first_number, second_number) = (number(&app, &c).await, number(&app, &c).await);
    let first = app.user(&c.admin, json!({})).await;
    let second = app.user(&c.admin, json!({})).await;

    let given = app.put(&of_user(&first), &c.admin, json!({"phone_number_id": first_number["id"]})).await.expect(200);
    assert_eq!(given["user"], json!({"id": first["id"], "login": first["login"]}));
    let refused = app
        .put(&of_user(&second), &c.admin, json!({"phone_number_id": first_number["id"]}))
        .await
        .problem(409, "phone_number_assigned");
    assert_eq!(refused["holder"]["id"], first["id"]);

    // Giving the first user another number frees the one they held.
    app.put(&of_user(&first), &c.admin, json!({"phone_number_id": second_number["id"]})).await.expect(200);
    let shown = app.get(&format!("/v1/users/{}", id(&first)), &c.admin).await.expect(200);
    assert_eq!(shown["phone_number"], json!({"id": second_number["id"], "number": second_number["number"]}));
    let available = app.get("/v1/phone-numbers?available=true", &c.admin).await.expect(200);
    assert_eq!(
        available["items"].as_array().unwrap().iter().map(|n| &n["id"]).collect::<Vec<_>>(),
        [&first_number["id"]]
    );

    app.delete(&path(&second_number), &app.operator).await.problem(409, "phone_number_in_use");
    assert_eq!(app.delete(&of_user(&first), &c.admin).await.status, 204);
    assert_eq!(app.delete(&of_user(&first), &c.admin).await.status, 204, "freeing twice is fine");
    assert_eq!(app.get(&format!("/v1/users/{}", id(&first)), &c.admin).await.expect(200)["phone_number"], Value::Null);
    assert_eq!(app.delete(&path(&second_number), &app.operator).await.status, 204);

    // Another tenant's number is not there to give.
    let other = app.customer().await;
    let theirs = number(&app, &other).await;
    app.put(&of_user(&first), &c.admin, json!({"phone_number_id": theirs["id"]}))
        .await
        .problem(404, "phone_number_not_found");
}
