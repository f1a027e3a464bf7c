//! `ETag` and `If-Match` (issue 9 "Safe concurrent edits"): tags on reads
//! and write answers, 412 `precondition_failed` on a stale tag, and of two
//! writes made from the same tag at once exactly one commits.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Reply, TestApp, id, reply, spawn_app};

async fn send(app: &TestApp, method: Method, path: &str, token: &str, if_match: &str, body: Option<Value>) -> Reply {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token).header("if-match", if_match);
    if let Some(body) = body {
        req = req.json(&body);
    }
    reply(req.send().await.unwrap()).await
}

fn etag(reply: &Reply) -> String {
    reply.headers.get("etag").expect("an ETag").to_str().unwrap().to_owned()
}

#[tokio::test]
async fn reads_and_writes_carry_a_tag_that_moves_with_each_change() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let created = app.post("/v1/roles", &c.admin, json!({"name": "Desk", "permissions": ["users:read"]})).await;
    let created_tag = etag(&created);
    let role = created.expect(201);
    let path = format!("/v1/roles/{}", id(&role));
    let read = app.get(&path, &c.admin).await;
    assert_eq!(etag(&read), created_tag, "a read right after the creation shows the creation's tag");
    let changed = send(&app, Method::PATCH, &path, &c.admin, &created_tag, Some(json!({"description": "Front"}))).await;
    let changed_tag = etag(&changed);
    assert_eq!(changed.status, 200);
    assert_ne!(changed_tag, created_tag);
    assert_eq!(etag(&app.get(&path, &c.admin).await), changed_tag);
    // The old tag is stale now: the write does not happen.
    send(&app, Method::PATCH, &path, &c.admin, &created_tag, Some(json!({"description": "Lost"})))
        .await
        .problem(412, "precondition_failed");
    assert_eq!(app.get(&path, &c.admin).await.expect(200)["description"], "Front");
    // Without If-Match, and with `*`, writes proceed.
    app.patch(&path, &c.admin, json!({"description": "Plain"})).await.expect(200);
    send(&app, Method::PATCH, &path, &c.admin, "*", Some(json!({"description": "Star"}))).await.expect(200);
    // A stale tag stops a delete too; the current one lets it through.
    send(&app, Method::DELETE, &path, &c.admin, &changed_tag, None).await.problem(412, "precondition_failed");
    let current = etag(&app.get(&path, &c.admin).await);
    assert_eq!(send(&app, Method::DELETE, &path, &c.admin, &current, None).await.status, 204);
}

#[tokio::test]
async fn a_tag_of_one_object_never_matches_another() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let a = app.post("/v1/roles", &c.admin, json!({"name": "A", "permissions": []})).await;
    let a_tag = etag(&a);
    let b = app.post("/v1/roles", &c.admin, json!({"name": "B", "permissions": []})).await.expect(201);
    let b_path = format!("/v1/roles/{}", id(&b));
    send(&app, Method::PATCH, &b_path, &c.admin, &a_tag, Some(json!({"description": "x"})))
        .await
        .problem(412, "precondition_failed");
    send(&app, Method::PATCH, &b_path, &c.admin, "\"made-up\"", Some(json!({"description": "x"})))
        .await
        .problem(412, "precondition_failed");
}

#[tokio::test]
async fn an_object_untouched_since_before_versions_has_a_tag_that_works() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let path = format!("/v1/users/{}", id(&user));
    // Forget the versions, as for objects created before they were kept.
    crate::helpers::execute(&app, "DELETE FROM resource_versions").await;
    let tag = etag(&app.get(&path, &c.admin).await);
    let changed = send(&app, Method::PATCH, &path, &c.admin, &tag, Some(json!({"first_name": "Ann"}))).await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    send(&app, Method::PATCH, &path, &c.admin, &tag, Some(json!({"first_name": "Bob"})))
        .await
        .problem(412, "precondition_failed");
    // The committed change gave the user a new tag.
    let now = etag(&app.get(&path, &c.admin).await);
    assert_ne!(now, tag);
}

#[tokio::test]
async fn of_two_writes_from_the_same_tag_exactly_one_commits() {
    let app = spawn_app().await;
    let c = app.customer().await;
    for round in 0..3 {
        let role = app.post("/v1/roles", &c.admin, json!({"name": format!("Race {round}"), "permissions": []})).await;
        let tag = etag(&role);
        let path = format!("/v1/roles/{}", id(&role.expect(201)));
        let writes = (0..4).map(|n| {
            send(&app, Method::PATCH, &path, &c.admin, &tag, Some(json!({"description": format!("writer {n}")})))
        });
        let replies = futures::future::join_all(writes).await;
        let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "round {round}: {statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 3, "round {round}: {statuses:?}");
        let winner = replies.iter().find(|r| r.status == 200).unwrap();
        let stored = app.get(&path, &c.admin).await;
        assert_eq!(etag(&stored), etag(winner));
        assert_eq!(stored.expect(200)["description"], winner.body["description"]);
    }
}
