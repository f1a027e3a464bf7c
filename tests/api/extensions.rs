//! Extensions and their SIP credentials (issue 3 "Extensions").

use serde_json::{Value, json};

use crate::helpers::{TestApp, id, spawn_app, stored_strings};

async fn extension(app: &TestApp, token: &str, number: &str) -> Value {
    app.post("/v1/extensions", token, json!({"number": number, "type": "sip"})).await.expect(201)
}

fn path(v: &Value) -> String {
    format!("/v1/extensions/{}", id(v))
}

fn holding(user: &Value, ext: &Value) -> String {
    format!("/v1/users/{}/extensions/{}", id(user), id(ext))
}

#[tokio::test]
async fn extensions_get_sip_credentials_that_only_their_holder_and_secret_readers_see() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let created = app
        .post(
            "/v1/extensions",
            &c.admin,
            json!({"number": "204", "type": "web", "name": "Front desk", "force_login": true, "voicemail_enabled": true}),
        )
        .await
        .expect(201);
    assert_eq!(
        (
            &created["number"],
            &created["type"],
            &created["name"],
            &created["force_login"],
            &created["voicemail_enabled"]
        ),
        (&json!("204"), &json!("web"), &json!("Front desk"), &json!(true), &json!(true))
    );
    assert_eq!(created["user"], Value::Null);
    assert!(created.get("secret").is_none() && created.get("sip_secret").is_none(), "{created}");
    let username = created["sip_username"].as_str().unwrap().to_owned();

    // The administrator holds extensions:secrets.
    let creds = app.get(&format!("{}/sip-credentials", path(&created)), &c.admin).await.expect(200);
    let secret = creds["secret"].as_str().unwrap().to_owned();
    assert!(secret.chars().count() >= 20, "{secret}");
    assert_eq!(creds["username"], username.as_str());
    assert_eq!(creds["extension"], "204");
    assert_eq!(creds["domain"], format!("{}.sip.voxport.localhost", c.slug));

    // Stored sealed, never in the clear.
    let stored = stored_strings(&app, "SELECT sip_secret FROM extensions").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&secret) && stored[0].starts_with("v1."), "{stored:?}");

    // A plain user reads no one's secret but their own.
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), crate::helpers::PASSWORD).await;
    app.get(&format!("{}/sip-credentials", path(&created)), &token).await.problem(403, "permission_denied");
    assert_eq!(app.get("/v1/me/sip-credentials", &token).await.expect(200), json!([]));
    app.put(&holding(&user, &created), &c.admin, json!({})).await.expect(200);
    let mine = app.get("/v1/me/sip-credentials", &token).await.expect(200);
    // Assigned, the line got a fresh secret: the one read while it was
    // free registers nothing. The administrator reads the same new one.
    assert_ne!(mine[0]["secret"], secret.as_str());
    assert_eq!(
        app.get(&format!("{}/sip-credentials", path(&created)), &c.admin).await.expect(200)["secret"],
        mine[0]["secret"]
    );
    let secret = mine[0]["secret"].as_str().unwrap().to_owned();
    assert_eq!(mine[0]["username"], username.as_str());
    // Assigning it again to the same holder changes nothing.
    app.put(&holding(&user, &created), &c.admin, json!({})).await.expect(200);
    assert_eq!(app.get("/v1/me/sip-credentials", &token).await.expect(200)[0]["secret"], secret.as_str());

    // Rotating gives a new secret; the holder sees it at once.
    let rotated = app.post(&format!("{}/rotate-secret", path(&created)), &c.admin, json!({})).await.expect(200);
    assert_ne!(rotated["secret"], secret.as_str());
    assert_eq!(app.get("/v1/me/sip-credentials", &token).await.expect(200)[0]["secret"], rotated["secret"]);
    app.post(&format!("{}/rotate-secret", path(&created)), &token, json!({})).await.problem(403, "permission_denied");
}

#[tokio::test]
async fn numbers_are_digits_within_the_dial_plan_and_unique_in_the_tenant() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let other = app.customer().await;
    extension(&app, &c.admin, "204").await;
    app.post("/v1/extensions", &c.admin, json!({"number": "204", "type": "sip"}))
        .await
        .problem(409, "extension_number_taken");
    extension(&app, &other.admin, "204").await;
    for bad in ["20a", "", "+204", "1234567890123456"] {
        let fields = app.post("/v1/extensions", &c.admin, json!({"number": bad, "type": "sip"})).await.invalid_fields();
        assert_eq!(fields, ["number"], "{bad:?}");
    }
    for outside_the_plan in ["1", "1234567"] {
        let refused = app
            .post("/v1/extensions", &c.admin, json!({"number": outside_the_plan, "type": "sip"}))
            .await
            .problem(409, "extension_number_out_of_range");
        assert!(refused["detail"].as_str().unwrap().contains("2 to 6 digits"), "{refused}");
    }
    let fields = app.post("/v1/extensions", &c.admin, json!({"number": "205", "type": "fax"})).await.invalid_fields();
    assert_eq!(fields, ["type"]);

    // The parent changes the dial plan; existing extensions keep their numbers.
    let plan = json!({"extension_digits": {"min": 3, "max": 4}});
    let tenant = app.patch(&format!("/v1/tenants/{}", c.id), &app.operator, plan).await.expect(200);
    assert_eq!(tenant["extension_digits"], json!({"min": 3, "max": 4}));
    app.post("/v1/extensions", &c.admin, json!({"number": "21", "type": "sip"}))
        .await
        .problem(409, "extension_number_out_of_range");
    let ext = extension(&app, &c.admin, "2100").await;
    app.patch(&path(&ext), &c.admin, json!({"number": "21000"})).await.problem(409, "extension_number_out_of_range");
    let bad_plan = json!({"extension_digits": {"min": 5, "max": 2}});
    let fields = app.patch(&format!("/v1/tenants/{}", c.id), &app.operator, bad_plan).await.invalid_fields();
    assert_eq!(fields, ["extension_digits"]);
    // A customer cannot change its own dial plan.
    app.patch(&format!("/v1/tenants/{}", c.id), &c.admin, json!({"extension_digits": {"min": 1, "max": 9}}))
        .await
        .problem(403, "permission_denied");
}

#[tokio::test]
async fn an_extension_rings_one_user_and_a_user_may_hold_several() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let (a, b) = (extension(&app, &c.admin, "301").await, extension(&app, &c.admin, "30").await);
    let first = app.user(&c.admin, json!({})).await;
    let second = app.user(&c.admin, json!({})).await;
    app.put(&holding(&first, &a), &c.admin, json!({})).await.expect(200);
    let given = app.put(&holding(&first, &b), &c.admin, json!({})).await.expect(200);
    assert_eq!(given["user"], json!({"id": first["id"], "login": first["login"]}));

    let refused = app.put(&holding(&second, &a), &c.admin, json!({})).await.problem(409, "extension_assigned");
    assert_eq!(refused["holder"], json!({"id": first["id"], "login": first["login"]}));

    let shown = app.get(&format!("/v1/users/{}", id(&first)), &c.admin).await.expect(200);
    assert_eq!(
        shown["extensions"],
        json!([
            {"id": b["id"], "number": "30", "type": "sip", "force_login": false},
            {"id": a["id"], "number": "301", "type": "sip", "force_login": false},
        ]),
        "by number, with type and force_login"
    );
    let mine = app.get(&format!("/v1/extensions?user_id={}", id(&first)), &c.admin).await.expect(200);
    assert_eq!(mine["total"], 2);

    app.delete(&path(&a), &c.admin).await.problem(409, "extension_in_use");
    assert_eq!(app.delete(&holding(&second, &a), &c.admin).await.status, 204, "not theirs: nothing happens");
    assert_eq!(app.get(&path(&a), &c.admin).await.expect(200)["user"]["id"], first["id"]);
    assert_eq!(app.delete(&holding(&first, &a), &c.admin).await.status, 204);
    let available = app.get("/v1/extensions?available=true", &c.admin).await.expect(200);
    assert_eq!(available["items"].as_array().unwrap().iter().map(|e| &e["id"]).collect::<Vec<_>>(), [&a["id"]]);
    assert_eq!(app.delete(&path(&a), &c.admin).await.status, 204);
    app.get(&path(&a), &c.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn extensions_are_changed_and_another_tenants_are_404() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let other = app.customer().await;
    let ext = extension(&app, &c.admin, "400").await;
    let changed = app
        .patch(&path(&ext), &c.admin, json!({"number": "401", "type": "web", "name": "Lobby", "force_login": true}))
        .await
        .expect(200);
    assert_eq!(
        (&changed["number"], &changed["type"], &changed["name"]),
        (&json!("401"), &json!("web"), &json!("Lobby"))
    );
    let cleared = app.patch(&path(&ext), &c.admin, json!({"name": null})).await.expect(200);
    assert_eq!(cleared["name"], Value::Null);
    extension(&app, &c.admin, "402").await;
    app.patch(&path(&ext), &c.admin, json!({"number": "402"})).await.problem(409, "extension_number_taken");

    let user = app.user(&other.admin, json!({})).await;
    app.get(&path(&ext), &other.admin).await.problem(404, "not_found");
    app.patch(&path(&ext), &other.admin, json!({"name": "Mine"})).await.problem(404, "not_found");
    app.delete(&path(&ext), &other.admin).await.problem(404, "not_found");
    app.get(&format!("{}/sip-credentials", path(&ext)), &other.admin).await.problem(404, "not_found");
    app.put(&holding(&user, &ext), &other.admin, json!({})).await.problem(404, "extension_not_found");
}

#[tokio::test]
async fn moving_a_line_needs_extensions_write_gives_it_a_fresh_secret_and_every_secret_read_is_audited() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let victim = app.user(&c.admin, json!({})).await;
    let victim_token = app.token(victim["login"].as_str().unwrap(), crate::helpers::PASSWORD).await;
    let line = extension(&app, &c.admin, "301").await;
    app.put(&holding(&victim, &line), &c.admin, json!({})).await.expect(200);
    let before = app.get("/v1/me/sip-credentials", &victim_token).await.expect(200)[0]["secret"].clone();

    // An administrator of users only cannot move lines (nor take them).
    let role = app
        .post("/v1/roles", &c.admin, json!({"name": "People", "permissions": ["users:read", "users:write"]}))
        .await
        .expect(201);
    let people = app.user(&c.admin, json!({"role_id": role["id"]})).await;
    let people_token = app.token(people["login"].as_str().unwrap(), crate::helpers::PASSWORD).await;
    app.delete(&holding(&victim, &line), &people_token).await.problem(403, "permission_denied");
    app.put(&holding(&people, &line), &people_token, json!({})).await.problem(403, "permission_denied");
    let spare = extension(&app, &c.admin, "302").await;
    let setup = json!({"first_name": "Set", "last_name": "Up", "password": crate::helpers::PASSWORD,
        "login": format!("setup{}", crate::helpers::unique()), "extension": {"id": id(&spare)}});
    app.post("/v1/users", &people_token, setup).await.problem(403, "permission_not_held");

    // Whoever may move it: the line that reaches a new holder has a new
    // secret, and the one read there is worthless once it moves back.
    app.delete(&holding(&victim, &line), &c.admin).await;
    let admin_me = app.get("/v1/me", &c.admin).await.expect(200);
    app.put(&holding(&admin_me, &line), &c.admin, json!({})).await.expect(200);
    let read_while_held = app.get("/v1/me/sip-credentials", &c.admin).await.expect(200);
    let stolen =
        read_while_held.as_array().unwrap().iter().find(|x| x["extension_id"] == line["id"]).unwrap()["secret"].clone();
    assert_ne!(stolen, before);
    app.delete(&holding(&admin_me, &line), &c.admin).await;
    app.put(&holding(&victim, &line), &c.admin, json!({})).await.expect(200);
    let after = app.get("/v1/me/sip-credentials", &victim_token).await.expect(200)[0]["secret"].clone();
    assert_ne!(after, stolen);
    assert_ne!(after, before);

    // Every read of a secret is in the audit log, one's own included.
    let reads = app
        .get(&format!("/v1/audit-events?action=extension.sip_secret_read&target_id={}", id(&line)), &c.admin)
        .await
        .expect(200);
    let readers: Vec<&str> =
        reads["items"].as_array().unwrap().iter().map(|e| e["actor"]["user_id"].as_str().unwrap()).collect();
    assert_eq!(readers.iter().filter(|r| **r == id(&victim)).count(), 2, "{reads}");
    assert_eq!(readers.iter().filter(|r| **r == id(&admin_me)).count(), 1, "{reads}");
}
