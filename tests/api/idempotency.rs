//! `Idempotency-Key` on every POST (SECURITY.md "Reliability", issue 9).

use futures::future::join;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, execute, reply, spawn_app, unique};

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

async fn keyed(app: &TestApp, token: &str, key: &str, path: &str, body: &Value) -> Reply {
    let req = app.client.post(app.url(path)).bearer_auth(token).header("idempotency-key", key).json(body);
    reply(req.send().await.unwrap()).await
}

/// Sends `body` to `path` twice with one key: the second answers the first
/// answer, marked as a replay.
async fn twice(app: &TestApp, token: &str, path: &str, body: &Value) -> Value {
    let key = uuid::Uuid::new_v4().to_string();
    let first = keyed(app, token, &key, path, body).await;
    assert!(first.status.is_success(), "{path}: {} {}", first.status, first.body);
    assert!(first.headers.get("idempotent-replayed").is_none(), "{path}");
    let again = keyed(app, token, &key, path, body).await;
    assert_eq!(again.status, first.status, "{path}: {}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true", "{path}");
    assert_eq!(again.body, first.body, "{path}: the same answer, secrets shown once included");
    for header in ["location", "etag", "content-type"] {
        assert_eq!(again.headers.get(header), first.headers.get(header), "{path}: {header}");
    }
    first.body
}

#[tokio::test]
async fn every_post_that_changes_something_is_done_once_per_key() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let count = async |path: &str| app.get(path, &c.admin).await.expect(200)["total"].as_u64().unwrap();

    let roles = count("/v1/roles").await;
    twice(&app, &c.admin, "/v1/roles", &json!({"name": "Night Shift", "permissions": ["users:read"]})).await;
    assert_eq!(count("/v1/roles").await, roles + 1);

    twice(&app, &c.admin, "/v1/extensions", &json!({"number": "4711", "type": "sip"})).await;
    assert_eq!(count("/v1/extensions").await, 1);

    let client = twice(&app, &c.admin, "/v1/api-clients", &json!({"name": "CRM", "permissions": ["users:read"]})).await;
    assert!(client["client_secret"].as_str().unwrap().starts_with("vxcs_"));
    assert_eq!(count("/v1/api-clients").await, 1);

    let hook = json!({"url": "https://hooks.example.com/voxport", "event_types": ["user.created"]});
    let webhook = twice(&app, &c.admin, "/v1/webhooks", &hook).await;
    assert!(webhook["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(count("/v1/webhooks").await, 1);

    // An action on an object: one more welcome email, not two.
    let user = app.user(&c.admin, json!({"password": null})).await;
    let emails = format!("/v1/users/{}/emails", user["id"].as_str().unwrap());
    let sent = count(&emails).await;
    twice(&app, &c.admin, &format!("/v1/users/{}/welcome-email", user["id"].as_str().unwrap()), &json!({})).await;
    assert_eq!(count(&emails).await, sent + 1);

    // An upload: a retried CSV import creates nobody twice.
    let users = count("/v1/users").await;
    let n = unique();
    let csv = format!(
        "login,email,first_name,last_name\nalma{n},alma{n}@acme.example,Alma,A\nbo{n},bo{n}@acme.example,Bo,B\n"
    );
    let key = uuid::Uuid::new_v4().to_string();
    let upload = || {
        app.client
            .post(app.url("/v1/users/import?mode=per_row"))
            .bearer_auth(&c.admin)
            .header("idempotency-key", &key)
            .header("content-type", "text/csv")
            .body(csv.clone())
    };
    let first = reply(upload().send().await.unwrap()).await;
    assert!(first.status.is_success(), "{}", first.body);
    let again = reply(upload().send().await.unwrap()).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(count("/v1/users").await, users + 2);
}

#[tokio::test]
async fn keys_belong_to_one_caller_and_one_request() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let key = uuid::Uuid::new_v4().to_string();
    let role = json!({"name": "Front Desk", "permissions": []});
    keyed(&app, &c.admin, &key, "/v1/roles", &role).await.expect(201);
    // The same key for another path, or another query, is another request.
    let ext = json!({"number": "200", "type": "sip"});
    assert_eq!(keyed(&app, &c.admin, &key, "/v1/extensions", &ext).await.invalid_fields(), ["Idempotency-Key"]);
    assert_eq!(
        keyed(&app, &c.admin, &key, "/v1/roles?x=1", &role).await.invalid_fields(),
        ["Idempotency-Key"],
        "the query counts"
    );
    // An API client's keys are its own, even when its admin used them.
    let client = app
        .post(
            "/v1/api-clients",
            &c.admin,
            json!({"name": "Sync", "permissions": ["extensions:write", "extensions:read"]}),
        )
        .await
        .expect(201);
    let token = app.client_token(&client).await;
    let made = keyed(&app, &token, &key, "/v1/extensions", &ext).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert!(made.headers.get("idempotent-replayed").is_none());
    assert_eq!(keyed(&app, &token, &key, "/v1/extensions", &ext).await.headers["idempotent-replayed"], "true");
    // Without a token the key is never looked at: 401 first.
    let anonymous = app.client.post(app.url("/v1/roles")).header("idempotency-key", &key).json(&role);
    reply(anonymous.send().await.unwrap()).await.problem(401, "unauthenticated");
    // A request refused before it changed anything leaves its key free.
    let key = uuid::Uuid::new_v4().to_string();
    let bad = json!({"name": "Broken", "permissions": ["no:such"]});
    assert_eq!(keyed(&app, &c.admin, &key, "/v1/roles", &bad).await.status, 422);
    assert_eq!(keyed(&app, &c.admin, &key, "/v1/roles", &bad).await.status, 422, "run again, not replayed");
}

#[tokio::test]
async fn parallel_retries_of_one_request_do_its_work_once() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let key = uuid::Uuid::new_v4().to_string();
    let role = json!({"name": "Storm", "permissions": []});
    let answers = futures::future::join_all((0..8).map(|_| keyed(&app, &c.admin, &key, "/v1/roles", &role))).await;
    let mut ids = std::collections::BTreeSet::new();
    for a in &answers {
        match a.status.as_u16() {
            201 => {
                ids.insert(a.body["id"].as_str().unwrap().to_owned());
            }
            409 => assert_eq!(a.code(), "idempotency_key_in_progress", "{}", a.body),
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    assert_eq!(ids.len(), 1, "every success names the one role: {ids:?}");
    let roles = app.get("/v1/roles?per_page=100", &c.admin).await.expect(200);
    let storms = roles["items"].as_array().unwrap().iter().filter(|r| r["name"] == "Storm").count();
    assert_eq!(storms, 1);
}

#[tokio::test]
async fn the_openapi_document_declares_the_key_on_every_post_with_a_bearer_token() {
    let app = spawn_app().await;
    let doc: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut declared = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(post) = item.get("post") else { continue };
        let bearer = post["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        let has_key = post["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"));
        let expected = bearer && !path.starts_with("/v1/oauth/");
        assert_eq!(has_key, expected, "{path}");
        if has_key {
            declared += 1;
            assert!(post["responses"].get("409").is_some() && post["responses"].get("422").is_some(), "{path}");
        }
    }
    assert!(declared > 20, "{declared} operations");
}

#[tokio::test]
async fn work_that_committed_is_never_done_again_even_when_its_answer_was_lost() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let key = uuid::Uuid::new_v4().to_string();
    let role = json!({"name": "Lost Answer", "permissions": []});
    keyed(&app, &c.admin, &key, "/v1/roles", &role).await.expect(201);
    // As if the server had died after committing, before storing the answer,
    // and the claim's lease had run out.
    let sql = format!("UPDATE idempotency_keys SET response = NULL, locked_until = created_at WHERE key = '{key}'");
    execute(&app, &sql).await;
    keyed(&app, &c.admin, &key, "/v1/roles", &role).await.problem(409, "idempotency_key_forgotten");
    let roles = app.get("/v1/roles?per_page=100", &c.admin).await.expect(200);
    assert_eq!(roles["items"].as_array().unwrap().iter().filter(|r| r["name"] == "Lost Answer").count(), 1);
}
