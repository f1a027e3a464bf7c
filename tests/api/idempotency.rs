//! `Idempotency-Key` on `POST /v1/users` (SECURITY.md "Reliability").

use futures::future::join;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, reply, spawn_app, unique};

async fn create(app: &TestApp, token: &str, key: &str, body: &Value) -> Reply {
    let req = app.client.post(app.url("/v1/users")).bearer_auth(token).header("idempotency-key", key).json(body);
    reply(req.send().await.unwrap()).await
}

fn body() -> Value {
    json!({"email": format!("retry{}@acme.example", unique()), "first_name": "Re", "last_name": "Try",
           "generate_password": true})
}

#[tokio::test]
async fn a_retried_creation_answers_the_first_answer_instead_of_a_second_user() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let key = uuid::Uuid::new_v4().to_string();
    let user = body();
    let first = create(&app, &c.admin, &key, &user).await;
    assert_eq!(first.status, 201);
    assert!(first.headers.get("idempotent-replayed").is_none());
    let again = create(&app, &c.admin, &key, &user).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["location"], first.headers["location"]);
    assert_eq!(again.body, first.body, "the same answer, generated password included");
    assert_eq!(app.get("/v1/users", &c.admin).await.expect(200)["total"], 2, "the admin and one user");

    // Key order and spacing do not make another request; other values do.
    // The bytes are written by hand: a client that re-serialises would
    // send the same bytes whatever the order it was given.
    let reordered = format!(
        "{{ \"generate_password\" : true,\n  \"last_name\": \"Try\", \"first_name\":\"Re\",   \"email\": {} }}",
        user["email"]
    );
    let raw = app
        .client
        .post(app.url("/v1/users"))
        .bearer_auth(&c.admin)
        .header("idempotency-key", &key)
        .header("content-type", "application/json")
        .body(reordered.clone());
    let replayed = reply(raw.send().await.unwrap()).await;
    assert_ne!(reordered.as_bytes(), serde_json::to_vec(&user).unwrap(), "the bytes differ");
    assert_eq!(replayed.status, 201, "{}", replayed.body);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(replayed.body, first.body);
    let mut other = user.clone();
    other["first_name"] = json!("Someone");
    let fields = create(&app, &c.admin, &key, &other).await.invalid_fields();
    assert_eq!(fields, ["Idempotency-Key"]);

    // Keys belong to their caller: another admin's same key is a new request.
    let d = app.customer().await;
    assert_eq!(create(&app, &d.admin, &key, &body()).await.status, 201);
    // Bad keys are refused.
    let fields = create(&app, &c.admin, "has spaces in it", &body()).await.invalid_fields();
    assert_eq!(fields, ["Idempotency-Key"]);
}

#[tokio::test]
async fn a_failed_creation_does_not_use_up_its_key() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let key = uuid::Uuid::new_v4().to_string();
    let taken = body();
    app.post("/v1/users", &c.admin, taken.clone()).await.expect(201);
    let mut user = body();
    user["login"] = taken["email"].clone();
    create(&app, &c.admin, &key, &user).await.problem(409, "login_taken");
    // A failure is not remembered: the retry runs again…
    create(&app, &c.admin, &key, &user).await.problem(409, "login_taken");
    // …and a corrected body may use the same key.
    user["login"] = json!(format!("fixed{}", unique()));
    assert_eq!(create(&app, &c.admin, &key, &user).await.status, 201);
    assert_eq!(create(&app, &c.admin, &key, &user).await.headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn a_concurrent_duplicate_creates_no_second_user() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let key = uuid::Uuid::new_v4().to_string();
    let user = json!({"email": format!("twin{}@acme.example", unique()), "first_name": "T", "last_name": "Win",
                      "password": PASSWORD});
    let (a, b) = join(create(&app, &c.admin, &key, &user), create(&app, &c.admin, &key, &user)).await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    // The second either waited for the first and replays it, or arrived
    // while it ran and is told so.
    match statuses {
        [201, 201] => assert_eq!(a.body["id"], b.body["id"]),
        [201, 409] => {
            let loser = if a.status == 409 { &a } else { &b };
            assert_eq!(loser.code(), "idempotency_key_in_progress");
        }
        other => panic!("unexpected answers {other:?}: {} / {}", a.body, b.body),
    }
    assert_eq!(app.get("/v1/users", &c.admin).await.expect(200)["total"], 2);
}
