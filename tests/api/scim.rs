//! SCIM 2.0 (issue 14): tokens, discovery, users with the habits of Entra
//! ID and Okta, the telephony extension under the one-call set-up's
//! rules, deprovisioning, and SCIM errors everywhere under `/scim/v2`.
//! The third-party compliance suite (scim2-tester) runs in `.ci/run`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{
    Customer, OPERATOR, OPERATOR_PASSWORD, PASSWORD, Reply, TestApp, id, spawn_app, stored_strings, unique,
};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const EXT: &str = "urn:ietf:params:scim:schemas:extension:voxport:2.0:User";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A customer tenant and a SCIM token of it.
async fn scim_tenant(app: &TestApp) -> (Customer, String) {
    let c = app.customer().await;
    let made = app.post("/v1/scim-tokens", &c.admin, json!({"name": "Entra ID"})).await.expect(201);
    (c, made["token"].as_str().unwrap().to_owned())
}

/// Asserts a SCIM error with this status (and `scimType`).
#[track_caller]
fn scim_error(reply: Reply, status: u16, scim_type: Option<&str>) -> Value {
    assert_eq!(reply.status.as_u16(), status, "unexpected answer: {}", reply.body);
    let ct = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(ct.starts_with("application/scim+json"), "SCIM content type, not {ct}");
    assert_eq!(reply.body["schemas"], json!([ERROR]), "{}", reply.body);
    assert_eq!(reply.body["status"], json!(status.to_string()), "{}", reply.body);
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{}", reply.body);
    assert_eq!(reply.body["scimType"].as_str(), scim_type, "{}", reply.body);
    reply.body
}

fn user_body(login: &str) -> Value {
    json!({"schemas": [CORE], "userName": login, "name": {"givenName": "Grace", "familyName": "Hopper"}})
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    app.post("/scim/v2/Users", token, body).await.expect(201)
}

async fn count(app: &TestApp, token: &str, filter: &str) -> u64 {
    let path = format!("/scim/v2/Users?filter={}", urlencode(filter));
    app.get(&path, token).await.expect(200)["totalResults"].as_u64().unwrap()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn a_scim_token_is_shown_once_kept_as_a_digest_and_revoked_alone() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let first = app.post("/v1/scim-tokens", &c.admin, json!({"name": "Entra ID"})).await.expect(201);
    let second = app.post("/v1/scim-tokens", &c.admin, json!({"name": "Entra ID, next"})).await.expect(201);
    let token = first["token"].as_str().unwrap();
    assert!(token.starts_with("vxscim_"), "{token}");
    assert!(token.len() >= "vxscim_".len() + 43, "256 random bits, base64url: {token}");
    let listed = app.get("/v1/scim-tokens", &c.admin).await.expect(200);
    assert_eq!(listed["total"], 2);
    assert!(!listed.to_string().contains(token), "a list never shows a token");
    assert!(token.starts_with(listed["items"][1]["hint"].as_str().unwrap()));
    let stored = stored_strings(&app, "SELECT digest FROM scim_tokens").await;
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().all(|d| d.len() == 64 && !d.contains(token)), "kept as SHA-256 digests: {stored:?}");

    app.get("/scim/v2/Users", token).await.expect(200);
    let seen = app.get(&format!("/v1/scim-tokens/{}", id(&first)), &c.admin).await.expect(200);
    assert!(seen["last_used_at"].is_string(), "its last use is recorded: {seen}");

    app.delete(&format!("/v1/scim-tokens/{}", id(&first)), &c.admin).await.expect(204);
    let refused = app.get("/scim/v2/Users", token).await;
    let challenge = refused.headers.get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    scim_error(refused, 401, None);
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    app.get("/scim/v2/Users", second["token"].as_str().unwrap()).await.expect(200);
    scim_error(app.get("/scim/v2/Users", "vxscim_not-a-token").await, 401, None);
    scim_error(app.call(Method::GET, "/scim/v2/Users", None, None).await, 401, None);
}

#[tokio::test]
async fn the_tenant_is_the_tokens_and_an_api_client_needs_the_scim_permission() {
    let app = spawn_app().await;
    let (a, a_token) = scim_tenant(&app).await;
    let (_, b_token) = scim_tenant(&app).await;
    let user = create(&app, &a_token, user_body(&format!("grace{}", unique()))).await;
    let path = format!("/scim/v2/Users/{}", id(&user));
    app.get(&path, &a_token).await.expect(200);
    scim_error(app.get(&path, &b_token).await, 404, None);
    let theirs = app.get("/scim/v2/Users", &b_token).await.expect(200);
    assert_eq!(theirs["totalResults"], 1, "their administrator only: {theirs}");
    assert_ne!(theirs["Resources"][0]["id"], user["id"]);

    let with = app
        .post("/v1/api-clients", &a.admin, json!({"name": "IdP", "permissions": ["scim", "users:read", "users:write"]}))
        .await
        .expect(201);
    let without =
        app.post("/v1/api-clients", &a.admin, json!({"name": "CRM", "permissions": ["users:read"]})).await.expect(201);
    let client = app.client_token(&with).await;
    assert_eq!(app.get(&path, &client).await.expect(200)["id"], user["id"]);
    // Reading needs users:read, changing users:write, as at /v1/users.
    let reader = app
        .post("/v1/api-clients", &a.admin, json!({"name": "Reader", "permissions": ["scim", "users:read"]}))
        .await
        .expect(201);
    let reader = app.client_token(&reader).await;
    app.get(&path, &reader).await.expect(200);
    scim_error(app.post("/scim/v2/Users", &reader, user_body(&format!("no{}", unique()))).await, 403, None);
    scim_error(app.delete(&path, &reader).await, 403, None);
    scim_error(app.get(&path, &app.client_token(&without).await).await, 403, None);
}

#[tokio::test]
async fn discovery_describes_what_is_offered_and_answers_405_to_other_methods() {
    let app = spawn_app().await;
    let (_, token) = scim_tenant(&app).await;
    let config = app.get("/scim/v2/ServiceProviderConfig", &token).await.expect(200);
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(config["filter"]["supported"], true);
    assert!(config["filter"]["maxResults"].as_u64().unwrap() > 0);
    assert_eq!(config["changePassword"]["supported"], false);
    assert_eq!(config["sort"]["supported"], false);
    assert_eq!(config["etag"]["supported"], false);
    let types = app.get("/scim/v2/ResourceTypes", &token).await.expect(200);
    assert_eq!(types["Resources"][0]["schema"], CORE);
    let schemas = app.get("/scim/v2/Schemas", &token).await.expect(200);
    let ids: Vec<&str> = schemas["Resources"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    for named in [CORE, EXT] {
        assert!(ids.contains(&named), "every schema the resource type names is listed: {ids:?}");
        app.get(&format!("/scim/v2/Schemas/{named}"), &token).await.expect(200);
    }
    let user_schema = app.get(&format!("/scim/v2/Schemas/{CORE}"), &token).await.expect(200);
    let roles = user_schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "roles").unwrap().clone();
    assert!(
        roles["subAttributes"][0]["canonicalValues"].as_array().unwrap().contains(&json!("Administrator")),
        "{roles}"
    );
    scim_error(app.get("/scim/v2/ResourceTypes/Group", &token).await, 404, None);
    scim_error(app.get("/scim/v2/Schemas/urn:nope", &token).await, 404, None);
    for path in ["/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas"] {
        let refused = app.post(path, &token, json!({})).await;
        assert_eq!(refused.headers.get("allow").unwrap(), "GET");
        scim_error(refused, 405, None);
    }
}

#[tokio::test]
async fn every_refusal_under_scim_is_a_scim_error() {
    let app = spawn_app().await;
    let (_, token) = scim_tenant(&app).await;
    scim_error(app.get("/scim/v2/Groups", &token).await, 404, None);
    scim_error(app.get(&format!("/scim/v2/{}", uuid::Uuid::new_v4()), &token).await, 404, None);
    scim_error(app.get("/scim/v2/Users/not-an-id", &token).await, 404, None);
    let malformed = app
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body("{\"userName\": ")
        .send()
        .await
        .unwrap();
    scim_error(crate::helpers::reply(malformed).await, 400, Some("invalidSyntax"));
    scim_error(app.get("/scim/v2/Users?filter=userName%20co%20%22a%22", &token).await, 400, Some("invalidFilter"));
    scim_error(app.get("/scim/v2/Users?filter=userName%20eq", &token).await, 400, Some("invalidFilter"));
    scim_error(app.post("/scim/v2/Users", &token, json!({"schemas": [CORE]})).await, 400, Some("invalidValue"));
    scim_error(app.call(Method::PUT, "/scim/v2/Users", Some(&token), Some(json!({}))).await, 405, None);
    let huge = "x".repeat(300 * 1024);
    scim_error(app.post("/scim/v2/Users", &token, json!({"userName": huge})).await, 413, None);
    // The /v1 API's headers mean nothing here: If-Match (SCIM advertises
    // no ETags) and Idempotency-Key (with its own body limit) change
    // neither the answer nor its body.
    let missing = format!("/scim/v2/Users/{}", uuid::Uuid::new_v4());
    let put = app
        .client
        .put(app.url(&missing))
        .bearer_auth(&token)
        .header("if-match", "W/\"3\"")
        .json(&user_body("someone@example.com"))
        .send()
        .await
        .unwrap();
    scim_error(crate::helpers::reply(put).await, 404, None);
    let keyed = app
        .client
        .post(app.url("/scim/v2/Users"))
        .bearer_auth(&token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"schemas": [CORE], "userName": "x".repeat(100 * 1024)}))
        .send()
        .await
        .unwrap();
    scim_error(crate::helpers::reply(keyed).await, 400, Some("invalidValue"));
}

#[tokio::test]
async fn a_user_is_created_read_found_replaced_and_deleted_with_its_username_free_again() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let login = format!("Grace.Hopper{}@example.com", unique());
    let mut body = user_body(&login);
    body["externalId"] = json!("00aa-BB11");
    body["emails"] = json!([{"value": login, "type": "work", "primary": true}]);
    body["password"] = json!(PASSWORD);
    body["preferredLanguage"] = json!("en_US");
    body["timezone"] = json!("Europe/Berlin");
    let user = app.post("/scim/v2/Users", &token, body.clone()).await;
    let location = user.headers.get("location").unwrap().to_str().unwrap().to_owned();
    let user = user.expect(201);
    assert!(location.ends_with(&format!("/scim/v2/Users/{}", id(&user))), "{location}");
    assert_eq!(user["schemas"], json!([CORE]));
    assert_eq!(user["userName"], login);
    assert_eq!(user["externalId"], "00aa-BB11", "kept verbatim");
    assert_eq!(user["preferredLanguage"], "en-US");
    assert_eq!(user["active"], true);
    assert!(user.get("password").is_none(), "never returned");
    for key in ["resourceType", "location", "created", "lastModified"] {
        assert!(user["meta"][key].is_string(), "meta.{key}: {user}");
    }
    assert_eq!(user["meta"]["location"].as_str().unwrap(), location);
    // The portal sees the same person, who signs in with the password.
    let portal = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert_eq!((portal["first_name"].as_str(), portal["timezone"].as_str()), (Some("Grace"), Some("Europe/Berlin")));
    app.login(&login, PASSWORD).await.expect(200);

    let duplicate = app.post("/scim/v2/Users", &token, user_body(&login.to_uppercase())).await;
    scim_error(duplicate, 409, Some("uniqueness"));

    assert_eq!(count(&app, &token, &format!("userName eq \"{}\"", login.to_lowercase())).await, 1, "case-insensitive");
    assert_eq!(count(&app, &token, "externalId eq \"00aa-BB11\"").await, 1);
    assert_eq!(count(&app, &token, "externalId eq \"00AA-bb11\"").await, 0, "case-exact");
    assert_eq!(count(&app, &token, &format!("id eq \"{}\"", id(&user))).await, 1);
    assert_eq!(count(&app, &token, &format!("emails[type eq \"work\" and value eq \"{login}\"]")).await, 1);
    assert_eq!(count(&app, &token, &format!("emails[type eq \"work\"].value eq \"{login}\"")).await, 1, "Entra's");
    assert_eq!(
        count(&app, &token, &format!("userName eq \"{login}\" and externalId eq \"00aa-BB11\"")).await,
        1,
        "and"
    );
    assert_eq!(count(&app, &token, &format!("userName eq \"{}\"", uuid::Uuid::new_v4())).await, 0, "Entra's test");

    // A replace ignores read-only values and keeps what it does not own.
    let mut replaced = user.clone();
    replaced["id"] = json!(uuid::Uuid::new_v4());
    replaced["meta"] = json!({"created": "2000-01-01T00:00:00Z"});
    replaced["name"]["givenName"] = json!("Amazing Grace");
    replaced["displayName"] = json!("Amazing Grace Hopper");
    let after = app.put(&format!("/scim/v2/Users/{}", id(&user)), &token, replaced).await.expect(200);
    assert_eq!(after["id"], user["id"]);
    assert_eq!(after["meta"]["created"], user["meta"]["created"]);
    assert_eq!(after["name"]["givenName"], "Amazing Grace");
    assert_eq!(after["displayName"], "Amazing Grace Hopper");

    app.delete(&format!("/scim/v2/Users/{}", id(&user)), &token).await.expect(204);
    scim_error(app.get(&format!("/scim/v2/Users/{}", id(&user)), &token).await, 404, None);
    assert_eq!(count(&app, &token, &format!("userName eq \"{login}\"")).await, 0);
    scim_error(app.delete(&format!("/scim/v2/Users/{}", id(&user)), &token).await, 404, None);
    create(&app, &token, user_body(&login)).await;
}

#[tokio::test]
async fn entra_ids_habits_are_understood() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let login = format!("entra{}@example.com", unique());
    // Entra ID's create: strings for booleans, nulls, meta, an empty role
    // list and a schema it made up.
    let user = create(
        &app,
        &token,
        json!({
            "schemas": [CORE, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": login, "active": "True", "externalId": "2f5a3c5e-entra",
            "name": {"givenName": "Ed", "familyName": "Entra", "formatted": null},
            "displayName": null, "meta": {"resourceType": "User"}, "roles": [],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
            "emails": [{"primary": true, "type": "work", "value": login}],
        }),
    )
    .await;
    assert_eq!(user["active"], true);
    assert_eq!(user["roles"], json!([{"value": "User"}]), "the default role");
    let path = format!("/scim/v2/Users/{}", id(&user));
    let patched = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "displayName", "value": "Ed E."},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+14155550123"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName", "value": "Entrada"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "x"},
            ]}),
        )
        .await
        .expect(200);
    assert_eq!(patched["active"], false);
    assert_eq!(patched["displayName"], "Ed E.");
    assert_eq!(
        patched["phoneNumbers"],
        json!([{"type": "mobile", "value": "+14155550123"}]),
        "created by its value path"
    );
    assert_eq!(patched["name"]["familyName"], "Entrada");
    // A value-path add on an address the user does not have yet creates it,
    // and it becomes the user's email.
    let bare = create(&app, &token, user_body(&format!("bare{}", unique()))).await;
    assert!(bare.get("emails").is_none());
    let address = format!("bare{}@example.com", unique());
    let given = app
        .patch(
            &format!("/scim/v2/Users/{}", id(&bare)),
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "Add", "path": "emails[type eq \"work\"].value", "value": address},
            ]}),
        )
        .await
        .expect(200);
    assert_eq!(given["emails"], json!([{"type": "work", "value": address}]));
    let portal = app.get(&format!("/v1/users/{}", id(&bare)), &c.admin).await.expect(200);
    assert_eq!(portal["email"], address.as_str());
    // The Test Connection filter on a random GUID finds nobody.
    assert_eq!(count(&app, &token, &format!("userName eq \"{}\"", uuid::Uuid::new_v4())).await, 0);
    // Removing without a path is refused, and nothing of the request applies.
    let refused = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "displayName", "value": "Never"},
                {"op": "remove"},
            ]}),
        )
        .await;
    scim_error(refused, 400, Some("noTarget"));
    assert_eq!(app.get(&path, &token).await.expect(200)["displayName"], "Ed E.", "atomic");
    // A path-less replace whose keys are paths.
    let patched = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "value": {"name.givenName": "Edwina", "active": true, EXT: {"extension": ""}}},
            ]}),
        )
        .await
        .expect(200);
    assert_eq!((patched["name"]["givenName"].as_str(), patched["active"].as_bool()), (Some("Edwina"), Some(true)));
    let extension = patched[EXT]["extension"].as_str().unwrap();
    assert!(!extension.is_empty() && extension.bytes().all(|b| b.is_ascii_digit()), "the next free number: {patched}");
}

#[tokio::test]
async fn the_telephony_extension_follows_the_one_call_set_ups_rules() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    pool(&app, &c, "solo", json!([]), 1).await;
    let number = format!("+4930{:08}", unique().parse::<u64>().unwrap() % 100_000_000);
    app.post("/v1/phone-numbers", &app.operator, json!({"number": number, "tenant_id": c.id})).await.expect(201);
    let mac = "80:5e:c0:aa:bb:01";
    app.post("/v1/devices", &c.admin, json!({"mac": mac, "vendor": "Yealink", "model": "T54W", "ports": 1}))
        .await
        .expect(201);
    let schema = app.get(&format!("/scim/v2/Schemas/{EXT}"), &token).await.expect(200);
    let canonical = |name: &str| {
        schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()["canonicalValues"].clone()
    };
    assert_eq!(canonical("stationType"), json!(["solo"]));
    assert_eq!(canonical("phoneNumber"), json!([number]));
    assert_eq!(canonical("deviceMacAddress"), json!([mac]));

    let mut first = user_body(&format!("tel{}", unique()));
    first[EXT] = json!({"extension": "", "phoneNumber": number, "stationType": "solo", "deviceMacAddress": mac});
    let made = create(&app, &token, first).await;
    assert_eq!(made["schemas"], json!([CORE, EXT]));
    assert_eq!(made[EXT]["phoneNumber"], number);
    assert_eq!(made[EXT]["stationType"], "solo");
    assert_eq!(made[EXT]["deviceMacAddress"], mac);
    let given = made[EXT]["extension"].as_str().unwrap().to_owned();
    let portal = app.get(&format!("/v1/users/{}", id(&made)), &c.admin).await.expect(200);
    assert_eq!(portal["extensions"][0]["number"], given.as_str());

    // The pool is exhausted, the device held, the extension taken: 409s
    // that say so, and nothing is created.
    let mut second = user_body(&format!("tel{}", unique()));
    second[EXT] = json!({"extension": "", "stationType": "solo"});
    let exhausted = scim_error(app.post("/scim/v2/Users", &token, second).await, 409, None);
    assert!(exhausted["detail"].as_str().unwrap().to_lowercase().contains("licen"), "{exhausted}");
    let mut third = user_body(&format!("tel{}", unique()));
    third[EXT] = json!({"extension": "", "deviceMacAddress": mac});
    scim_error(app.post("/scim/v2/Users", &token, third).await, 409, None);
    let mut fourth = user_body(&format!("tel{}", unique()));
    fourth[EXT] = json!({"extension": given});
    scim_error(app.post("/scim/v2/Users", &token, fourth).await, 409, None);
    let mut unknown = user_body(&format!("tel{}", unique()));
    unknown[EXT] = json!({"extension": "", "stationType": "gold"});
    scim_error(app.post("/scim/v2/Users", &token, unknown).await, 400, Some("invalidValue"));
    assert_eq!(app.get("/scim/v2/Users", &token).await.expect(200)["totalResults"], 2, "the admin and the first");

    // Core phoneNumbers are contact data: they never touch the DID.
    let path = format!("/scim/v2/Users/{}", id(&made));
    let patched = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "phoneNumbers", "value": [{"value": "+15550000000", "type": "work"}]},
            ]}),
        )
        .await
        .expect(200);
    assert_eq!(patched[EXT]["phoneNumber"], number);
    // Removing the extension's values releases them.
    let released = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "remove", "path": format!("{EXT}:stationType")},
                {"op": "remove", "path": format!("{EXT}:deviceMacAddress")},
            ]}),
        )
        .await
        .expect(200);
    assert!(
        released[EXT].get("stationType").is_none() && released[EXT].get("deviceMacAddress").is_none(),
        "{released}"
    );
    // One refusal and nothing of the request applies: not the licence, not
    // the desk phone, though they come first.
    let refused = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": format!("{EXT}:stationType"), "value": "solo"},
                {"op": "add", "path": format!("{EXT}:deviceMacAddress"), "value": mac},
                {"op": "replace", "path": "userName", "value": c.admin_login},
            ]}),
        )
        .await;
    scim_error(refused, 409, Some("uniqueness"));
    let unchanged = app.get(&path, &token).await.expect(200);
    assert!(unchanged[EXT].get("stationType").is_none() && unchanged[EXT].get("deviceMacAddress").is_none());
    assert_eq!(app.get("/v1/stations", &c.admin).await.expect(200)["items"][0]["in_use"], 0);
    let mut now_free = user_body(&format!("tel{}", unique()));
    now_free[EXT] = json!({"extension": "", "stationType": "solo", "deviceMacAddress": mac});
    create(&app, &token, now_free).await;
}

#[tokio::test]
async fn the_last_administrator_is_neither_deactivated_nor_deleted_and_changes_are_audited_as_the_token() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let admin = format!("/scim/v2/Users/{}", c.admin_id);
    let off = json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]});
    scim_error(app.patch(&admin, &token, off).await, 409, None);
    scim_error(app.delete(&admin, &token).await, 409, None);
    app.get("/v1/me", &c.admin).await.expect(200);

    let user = create(&app, &token, user_body(&format!("audited{}", unique()))).await;
    let tokens = app.get("/v1/scim-tokens", &c.admin).await.expect(200);
    let token_id = tokens["items"][0]["id"].clone();
    let events = app.get(&format!("/v1/audit-events?target_id={}", id(&user)), &c.admin).await.expect(200);
    let created = events["items"].as_array().unwrap().iter().find(|e| e["action"] == "user.created").unwrap().clone();
    assert_eq!(created["actor"]["client_id"], token_id, "{created}");
}

#[tokio::test]
async fn okta_deactivates_with_a_pathless_replace_and_updates_with_a_whole_put() {
    let app = spawn_app().await;
    let (_, token) = scim_tenant(&app).await;
    let login = format!("okta{}@example.com", unique());
    let user = create(
        &app,
        &token,
        json!({
            "schemas": [CORE], "userName": login, "name": {"givenName": "Olly", "familyName": "Okta"},
            "emails": [{"primary": true, "value": login, "type": "work"}], "displayName": "Olly Okta",
            "locale": "en-US", "password": PASSWORD, "groups": [], "active": true,
        }),
    )
    .await;
    // Okta's connection test.
    let page = app.get("/scim/v2/Users?startIndex=1&count=2", &token).await.expect(200);
    assert_eq!(page["startIndex"], 1);
    assert!(page["itemsPerPage"].as_u64().unwrap() <= 2);
    let session = app.token(&login, PASSWORD).await;
    app.get("/v1/me", &session).await.expect(200);
    let path = format!("/scim/v2/Users/{}", id(&user));
    let off = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": false}}]}),
        )
        .await
        .expect(200);
    assert_eq!(off["active"], false);
    assert_eq!(app.get("/v1/me", &session).await.status, 401, "its sessions end");
    assert_eq!(app.login(&login, PASSWORD).await.status, 401, "it cannot sign in");
    assert_eq!(count(&app, &token, &format!("userName eq \"{login}\"")).await, 1, "inactive users are still returned");
    let mut whole = off.clone();
    whole["active"] = json!(true);
    whole["name"]["familyName"] = json!("Okta-Smith");
    let on = app.put(&path, &token, whole).await.expect(200);
    assert_eq!((on["active"].as_bool(), on["name"]["familyName"].as_str()), (Some(true), Some("Okta-Smith")));
    app.login(&login, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn lists_page_from_one_and_never_answer_more_than_asked() {
    let app = spawn_app().await;
    let (_, token) = scim_tenant(&app).await;
    for i in 0..3 {
        create(&app, &token, user_body(&format!("pager{i}-{}", unique()))).await;
    }
    // The tenant's administrator is a user too: four in all.
    let all = app.get("/scim/v2/Users", &token).await.expect(200);
    assert_eq!(all["totalResults"], 4);
    assert_eq!(all["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]));
    let mut seen = Vec::new();
    for start in [1, 3] {
        let page = app.get(&format!("/scim/v2/Users?startIndex={start}&count=2"), &token).await.expect(200);
        assert_eq!(page["itemsPerPage"], 2);
        seen.extend(page["Resources"].as_array().unwrap().iter().map(|u| u["id"].clone()));
    }
    let everyone: Vec<Value> = all["Resources"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect();
    assert_eq!(seen, everyone, "a stable order across pages");
    let below = app.get("/scim/v2/Users?startIndex=0&count=1", &token).await.expect(200);
    assert_eq!((below["startIndex"].as_u64(), below["Resources"][0]["id"].clone()), (Some(1), everyone[0].clone()));
    let none = app.get("/scim/v2/Users?count=-5", &token).await.expect(200);
    assert_eq!((none["totalResults"].as_u64(), none["itemsPerPage"].as_u64()), (Some(4), Some(0)));
    let only = app.get("/scim/v2/Users?attributes=userName&count=1", &token).await.expect(200);
    let first = &only["Resources"][0];
    assert!(first["userName"].is_string() && first["id"].is_string() && first.get("name").is_none(), "{first}");
    let without = app.get("/scim/v2/Users?excludedAttributes=name,emails&count=1", &token).await.expect(200);
    assert!(without["Resources"][0].get("name").is_none() && without["Resources"][0]["userName"].is_string());
    let searched = app
        .post(
            "/scim/v2/.search",
            &token,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "attributes": ["userName"], "count": 1}),
        )
        .await
        .expect(200);
    assert_eq!(searched["itemsPerPage"], 1);
    assert!(searched["Resources"][0].get("name").is_none());
    app.post("/scim/v2/Users/.search", &token, json!({"filter": "userName eq \"nobody\""})).await.expect(200);
}

/// A SCIM user holding an extension, `number`, a licence of `code` and the
/// desk phone `mac`.
async fn phone_user(app: &TestApp, token: &str, number: &str, code: &str, mac: &str) -> Value {
    let mut body = phone_body(number, mac);
    body["password"] = json!(PASSWORD);
    body[EXT]["stationType"] = json!(code);
    create(app, token, body).await
}

/// A user document holding an extension, `number`, a licence of `desk`
/// and the desk phone `mac`.
fn phone_body(number: &str, mac: &str) -> Value {
    let mut body = user_body(&format!("phone{}", unique()));
    body[EXT] = json!({"extension": "", "phoneNumber": number, "stationType": "desk", "deviceMacAddress": mac});
    body
}

async fn telephony_stock(app: &TestApp, c: &Customer, code: &str, mac: &str) -> (String, String) {
    // Fresh sessions: a test may have run housekeeping days ahead.
    let operator = app.token(OPERATOR, OPERATOR_PASSWORD).await;
    let admin = app.token(&c.admin_login, PASSWORD).await;
    let pool = json!({"tenant_id": c.id, "name": code, "code": code, "applications": [], "quantity": 1});
    app.post("/v1/stations", &operator, pool).await.expect(201);
    let number = format!("+4930{:08}", unique().parse::<u64>().unwrap() % 100_000_000);
    let made = app.post("/v1/phone-numbers", &operator, json!({"number": number, "tenant_id": c.id})).await.expect(201);
    app.post("/v1/devices", &admin, json!({"mac": mac, "vendor": "Yealink", "model": "T54W", "ports": 1}))
        .await
        .expect(201);
    (number, id(&made).to_owned())
}

#[tokio::test]
async fn a_deactivated_user_keeps_what_they_hold_for_the_tenants_hold_and_gets_it_all_back() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let defaults = app.get("/v1/scim-settings", &c.admin).await.expect(200);
    assert_eq!(defaults, json!({"hold_days": 30, "release_station": false, "number_rest_days": 30}));
    let settings = json!({"hold_days": 2, "release_station": true, "number_rest_days": 30});
    assert_eq!(app.put("/v1/scim-settings", &c.admin, settings.clone()).await.expect(200), settings);
    let mac = "80:5e:c0:aa:bb:02";
    let (number, _) = telephony_stock(&app, &c, "desk", mac).await;
    let user = phone_user(&app, &token, &number, "desk", mac).await;
    let path = format!("/scim/v2/Users/{}", id(&user));
    let portal = format!("/v1/users/{}", id(&user));
    let session = app.token(user["userName"].as_str().unwrap(), PASSWORD).await;
    let active =
        |on: bool| json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": on}]});

    // The registrar (which reads PostgreSQL) sees the line while the user
    // may sign in, and not while deactivated.
    let registrar = || stored_strings(&app, "SELECT username FROM kamailio.subscriber");
    let postgres = app.settings.database_url.starts_with("postgres");
    if postgres {
        assert_eq!(registrar().await.len(), 1);
    }
    let off = app.patch(&path, &token, active(false)).await.expect(200);
    assert_eq!(off["active"], false);
    assert_eq!(app.get("/v1/me", &session).await.status, 401, "sessions end");
    if postgres {
        assert_eq!(registrar().await, Vec::<String>::new(), "the line leaves the registrar");
    }
    let held = app.get(&portal, &c.admin).await.expect(200);
    assert!(held["station"].is_null(), "the licence goes back at once, as the tenant says: {held}");
    assert_eq!(held["phone_number"]["number"], number.as_str(), "the number stays theirs");
    assert_eq!(held["device"]["mac"], mac);
    assert_eq!(held["extensions"].as_array().unwrap().len(), 1);
    let pool = app.get("/v1/stations", &c.admin).await.expect(200);
    assert_eq!(pool["items"][0]["in_use"], 0);
    // Okta's full PUT on every update, the user still off, does not take
    // back the licence the hold gave back.
    let mut still_off = user.clone();
    still_off["active"] = json!(false);
    app.put(&path, &token, still_off).await.expect(200);
    assert!(app.get(&portal, &c.admin).await.expect(200)["station"].is_null(), "the licence stays given back");
    // The pool's last licence taken meanwhile, switching on is refused
    // saying so, and the user stays off until one is free again.
    let mut rival = user_body(&format!("rival{}", unique()));
    rival[EXT] = json!({"extension": "", "stationType": "desk"});
    let rival = create(&app, &token, rival).await;
    let exhausted = scim_error(app.patch(&path, &token, active(true)).await, 409, None);
    assert!(exhausted["detail"].as_str().unwrap().to_lowercase().contains("licen"), "{exhausted}");
    assert_eq!(app.get(&portal, &c.admin).await.expect(200)["disabled"], true);
    app.delete(&format!("/scim/v2/Users/{}", id(&rival)), &token).await.expect(204);

    let on = app.patch(&path, &token, active(true)).await.expect(200);
    assert_eq!((on["active"].as_bool(), on[EXT]["stationType"].as_str()), (Some(true), Some("desk")), "{on}");
    assert_eq!(on[EXT], user[EXT], "all of it restored");
    if postgres {
        assert_eq!(registrar().await.len(), 1, "back on the registrar");
    }
    app.login(user["userName"].as_str().unwrap(), PASSWORD).await.expect(200);

    // Deactivated past the hold, the user loses what they held.
    app.patch(&path, &token, active(false)).await.expect(200);
    app.voxport.purge(chrono::Utc::now() + chrono::Duration::days(1)).await.unwrap();
    assert_eq!(app.get(&portal, &c.admin).await.expect(200)["device"]["mac"], mac, "one day into two");
    app.voxport.purge(chrono::Utc::now() + chrono::Duration::days(3)).await.unwrap();
    // That housekeeping, days ahead, also forgot the administrator's session.
    let admin = app.token(&c.admin_login, PASSWORD).await;
    let gone = app.get(&portal, &admin).await.expect(200);
    assert!(gone["device"].is_null() && gone["phone_number"].is_null(), "{gone}");
    assert_eq!(gone["extensions"], json!([]));
    let events = app.get(&format!("/v1/audit-events?target_id={}", id(&user)), &admin).await.expect(200);
    assert!(events["items"].as_array().unwrap().iter().any(|e| e["action"] == "user.hold_ended"), "{events}");
    // Reactivated after the hold: the account, without what it held.
    let back = app.patch(&path, &token, active(true)).await.expect(200);
    assert!(back.get(EXT).is_none(), "{back}");

    // Switched back on at /v1 instead, a user's hold ends there: nothing
    // is taken from them later.
    let mac = "80:5e:c0:aa:bb:04";
    let (number, _) = telephony_stock(&app, &c, "desk2", mac).await;
    let other = phone_user(&app, &token, &number, "desk2", mac).await;
    let other_path = format!("/scim/v2/Users/{}", id(&other));
    // The tenant's default: the licence stays with the user on hold.
    let keep = json!({"hold_days": 2, "release_station": false, "number_rest_days": 30});
    app.put("/v1/scim-settings", &admin, keep).await.expect(200);
    app.patch(&other_path, &token, active(false)).await.expect(200);
    let on_hold = app.get(&format!("/v1/users/{}", id(&other)), &admin).await.expect(200);
    assert_eq!((on_hold["disabled"].as_bool(), on_hold["station"]["name"].as_str()), (Some(true), Some("desk2")));
    app.patch(&format!("/v1/users/{}", id(&other)), &admin, json!({"disabled": false})).await.expect(200);
    app.voxport.purge(chrono::Utc::now() + chrono::Duration::days(3)).await.unwrap();
    let admin = app.token(&c.admin_login, PASSWORD).await;
    let kept = app.get(&format!("/v1/users/{}", id(&other)), &admin).await.expect(200);
    assert_eq!(
        (kept["device"]["mac"].as_str(), kept["phone_number"]["number"].as_str()),
        (Some(mac), Some(number.as_str()))
    );
}

#[tokio::test]
async fn a_replace_or_patch_keeps_what_it_does_not_say_and_takes_away_what_it_removes() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let mac = "80:5e:c0:aa:bb:05";
    let (number, _) = telephony_stock(&app, &c, "desk", mac).await;
    let mut body = phone_body(&number, mac);
    body["roles"] = json!([{"value": "Administrator"}]);
    body["emails"] = json!([{"value": "old@example.com", "type": "work", "primary": true}]);
    let user = create(&app, &token, body).await;
    let path = format!("/scim/v2/Users/{}", id(&user));
    let extension = user[EXT]["extension"].clone();
    // A directory that keeps sending "extension": "" keeps the number it got.
    let mut again = user.clone();
    again[EXT]["extension"] = json!("");
    let same = app.put(&path, &token, again).await.expect(200);
    assert_eq!(same[EXT]["extension"], extension);
    // A directory that does not map the extension takes nothing away.
    let mut unmapped = user.clone();
    unmapped.as_object_mut().unwrap().remove(EXT);
    let kept = app.put(&path, &token, unmapped).await.expect(200);
    assert_eq!(kept[EXT], user[EXT], "{kept}");
    // Replacing a complex attribute sets what it gives, keeps the rest.
    let patched = app
        .patch(&path, &token, json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "name", "value": {"givenName": "Gracie"}},
            {"op": "add", "path": "emails", "value": [{"value": "new@example.com", "type": "home", "primary": true}]},
        ]}))
        .await
        .expect(200);
    assert_eq!(
        (patched["name"]["givenName"].as_str(), patched["name"]["familyName"].as_str()),
        (Some("Gracie"), Some("Hopper"))
    );
    let portal = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(portal["email"], "new@example.com", "a new primary address takes over");
    // A value-path replace that matches nothing has no target.
    let nothing = app
        .patch(
            &path,
            &token,
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x@example.com"},
            ]}),
        )
        .await;
    scim_error(nothing, 400, Some("noTarget"));
    // Roles taken away leave the least role, not the administrator's:
    // Entra ID removes the one role by its value, capitalised ...
    assert_eq!(portal["role"]["name"], "Administrator");
    let by_value = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "Remove", "path": "roles[value eq \"Administrator\"]"},
    ]});
    let demoted = app.patch(&path, &token, by_value).await.expect(200);
    assert!(demoted.get("roles").is_none(), "{demoted}");
    let portal = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(portal["role"]["name"], "User");
    // ... others remove the attribute.
    let promoted = json!({"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "roles", "value": [{"value": "Administrator"}]},
    ]});
    app.patch(&path, &token, promoted).await.expect(200);
    let portal = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(portal["role"]["name"], "Administrator");
    let demoted = app
        .patch(&path, &token, json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "roles"}]}))
        .await
        .expect(200);
    assert!(demoted.get("roles").is_none(), "unassigned to the directory: {demoted}");
    let portal = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(portal["role"]["name"], "User");
    // Removing the extension takes back all it gives.
    let bare = app
        .patch(&path, &token, json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": EXT}]}))
        .await
        .expect(200);
    assert!(bare.get(EXT).is_none(), "{bare}");
    let portal = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert!(portal["device"].is_null() && portal["phone_number"].is_null() && portal["station"].is_null(), "{portal}");
}

#[tokio::test]
async fn a_deleted_users_number_rests_before_anyone_is_given_it() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let rest = json!({"hold_days": 30, "release_station": false, "number_rest_days": 2});
    app.put("/v1/scim-settings", &c.admin, rest).await.expect(200);
    let too_long = json!({"hold_days": 3651, "release_station": false, "number_rest_days": 2});
    assert_eq!(app.put("/v1/scim-settings", &c.admin, too_long).await.invalid_fields(), vec!["hold_days"]);
    let mac = "80:5e:c0:aa:bb:03";
    let (number, number_id) = telephony_stock(&app, &c, "desk", mac).await;
    let user = phone_user(&app, &token, &number, "desk", mac).await;
    app.delete(&format!("/scim/v2/Users/{}", id(&user)), &token).await.expect(204);

    // The extension, the licence and the desk phone are free at once.
    let mut body = user_body(&format!("next{}", unique()));
    body[EXT] = json!({"extension": user[EXT]["extension"], "stationType": "desk", "deviceMacAddress": mac});
    let next = create(&app, &token, body).await;
    // The number rests: not offered, not given.
    let offered = app.get("/v1/phone-numbers?available=true", &c.admin).await.expect(200);
    assert!(!offered.to_string().contains(&number), "{offered}");
    let assign = format!("/v1/users/{}/phone-number", id(&next));
    app.put(&assign, &c.admin, json!({"phone_number_id": number_id})).await.problem(409, "phone_number_resting");
    let mut taker = user_body(&format!("taker{}", unique()));
    taker[EXT] = json!({"phoneNumber": number});
    scim_error(app.post("/scim/v2/Users", &token, taker).await, 409, None);
    // After its rest, it is anyone's again.
    app.voxport.purge(chrono::Utc::now() + chrono::Duration::days(3)).await.unwrap();
    let admin = app.token(&c.admin_login, PASSWORD).await;
    let offered = app.get("/v1/phone-numbers?available=true", &admin).await.expect(200);
    assert!(offered.to_string().contains(&number), "{offered}");
    app.put(&assign, &admin, json!({"phone_number_id": number_id})).await.expect(200);
}

/// A station pool of `quantity` licences of `code` unlocking
/// `applications` in the customer's tenant; answers its id.
async fn pool(app: &TestApp, c: &Customer, code: &str, applications: Value, quantity: u32) -> String {
    let body =
        json!({"tenant_id": c.id, "name": code, "code": code, "applications": applications, "quantity": quantity});
    id(&app.post("/v1/stations", &app.operator, body).await.expect(201)).to_owned()
}

fn station_is(code: &str) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": format!("{EXT}:stationType"), "value": code}]})
}

#[tokio::test]
async fn a_licence_taken_again_brings_back_its_applications_and_a_pool_deleted_meanwhile_is_not_taken() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let settings = json!({"hold_days": 30, "release_station": true, "number_rest_days": 30});
    app.put("/v1/scim-settings", &c.admin, settings).await.expect(200);
    pool(&app, &c, "soft", json!(["desktop_app", "web_dialer"]), 5).await;
    let other = pool(&app, &c, "agent", json!(["desktop_app", "call_center"]), 5).await;
    let mut body = user_body(&format!("apps{}", unique()));
    body[EXT] = json!({"extension": "", "stationType": "soft"});
    let user = create(&app, &token, body).await;
    let path = format!("/scim/v2/Users/{}", id(&user));
    let portal = format!("/v1/users/{}", id(&user));
    let enabled = json!({"applications": ["desktop_app", "web_dialer"]});
    app.patch(&portal, &c.admin, enabled).await.expect(200);
    let active =
        |on: bool| json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": on}]});
    let applications = |u: &Value| u["applications"].clone();

    app.patch(&path, &token, active(false)).await.expect(200);
    let held = app.get(&portal, &c.admin).await.expect(200);
    assert_eq!((held["station"].clone(), applications(&held)), (Value::Null, json!([])), "{held}");
    app.patch(&path, &token, active(true)).await.expect(200);
    let back = app.get(&portal, &c.admin).await.expect(200);
    assert_eq!(
        (back["station"]["name"].as_str(), applications(&back)),
        (Some("soft"), json!(["desktop_app", "web_dialer"]))
    );

    // Another licence keeps the applications it unlocks too.
    app.patch(&path, &token, station_is("agent")).await.expect(200);
    let moved = app.get(&portal, &c.admin).await.expect(200);
    assert_eq!((moved["station"]["name"].as_str(), applications(&moved)), (Some("agent"), json!(["desktop_app"])));

    // Held through a deactivation, the pool is deleted: the user comes
    // back without a licence rather than not at all.
    app.patch(&path, &token, active(false)).await.expect(200);
    app.delete(&format!("/v1/stations/{other}"), &app.operator).await.expect(204);
    let on = app.patch(&path, &token, active(true)).await.expect(200);
    assert_eq!(on["active"], true);
    let after = app.get(&portal, &c.admin).await.expect(200);
    assert_eq!((after["station"].clone(), applications(&after)), (Value::Null, json!([])), "{after}");
    assert_eq!(after["extensions"].as_array().map(Vec::len), Some(1), "the rest stays: {after}");
}

#[tokio::test]
async fn concurrent_licence_changes_never_fail_the_server_and_keep_the_counts_right() {
    let app = spawn_app().await;
    let (c, token) = scim_tenant(&app).await;
    let pools = [pool(&app, &c, "red", json!([]), 10).await, pool(&app, &c, "blue", json!([]), 10).await];
    let mut users = Vec::new();
    for code in ["red", "blue"] {
        let mut body = user_body(&format!("swap{}", unique()));
        body[EXT] = json!({"extension": "", "stationType": code});
        users.push(format!("/scim/v2/Users/{}", id(&create(&app, &token, body).await)));
    }
    // Round after round, the two users trade pools at the same moment, and
    // each is moved by two requests at once.
    for round in 0..6 {
        let (a, b) = if round % 2 == 0 { ("blue", "red") } else { ("red", "blue") };
        let changes = [(&users[0], a), (&users[1], b), (&users[0], a), (&users[1], b)];
        let replies =
            futures::future::join_all(changes.iter().map(|(path, code)| app.patch(path, &token, station_is(code))))
                .await;
        for reply in replies {
            assert!(matches!(reply.status.as_u16(), 200 | 409), "round {round}: {} {}", reply.status, reply.body);
        }
    }
    let mut held = 0;
    for path in &users {
        let user = app.get(path, &token).await.expect(200);
        assert!(user[EXT]["stationType"].is_string(), "each user holds one licence: {user}");
        held += 1;
    }
    let mut in_use = 0;
    for station in &pools {
        in_use += app.get(&format!("/v1/stations/{station}"), &c.admin).await.expect(200)["in_use"].as_u64().unwrap();
    }
    assert_eq!(in_use, held, "every licence taken is held by someone");
}
