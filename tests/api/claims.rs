//! Claims (issue 11, finding 6): a tenant that registers another's desk
//! phone or number first cannot keep it from them. The refusal names no
//! tenant; the platform operator sees the claim and moves the object.

use serde_json::{Value, json};

use crate::helpers::{TestApp, id, spawn_app, unique};

async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    app.get(&format!("/v1/audit-events?{query}"), token).await.expect(200)["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_squatted_desk_phone_is_claimed_and_the_operator_moves_it_to_its_owner() {
    let app = spawn_app().await;
    let squatter = app.customer().await;
    let owner = app.customer().await;
    let body =
        json!({"mac": "80:5e:c0:11:22:33", "vendor": "Yealink", "model": "T54W", "ports": 4, "label": "Mine now"});
    let squatted = app.post("/v1/devices", &squatter.admin, body.clone()).await.expect(201);
    let user = app.user(&squatter.admin, json!({})).await;
    app.put(&format!("/v1/users/{}/device", id(&user)), &squatter.admin, json!({"device_id": squatted["id"]}))
        .await
        .expect(200);

    // The owner is refused without learning who holds it; twice is one claim.
    for _ in 0..2 {
        let refused = app.post("/v1/devices", &owner.admin, body.clone()).await.problem(409, "mac_taken");
        let text = refused.to_string();
        for secret in [squatter.id.as_str(), squatter.slug.as_str(), id(&squatted), id(&user)] {
            assert!(!text.contains(secret), "the refusal names the holder: {text}");
        }
    }
    // The squatter set the phone up to fetch its configuration.
    let issued = app
        .post(&format!("/v1/devices/{}/provisioning-credentials", id(&squatted)), &squatter.admin, json!({}))
        .await
        .expect(200);
    let (basic_user, basic_password) = (issued["username"].as_str().unwrap(), issued["password"].as_str().unwrap());

    // A tenant registering its own device twice claims nothing.
    app.post("/v1/devices", &squatter.admin, body.clone()).await.problem(409, "mac_taken");

    // Only the platform operator sees claims: not a customer's admin, nor
    // a reseller's, who holds tenants:write.
    app.get("/v1/claims", &owner.admin).await.problem(403, "permission_denied");
    let n = unique();
    app.post("/v1/tenants", &app.operator, json!({"name": "Reseller", "slug": format!("resell-{n}"), "kind": "reseller",
        "admin": {"email": format!("boss{n}@reseller.example"), "first_name": "R", "last_name": "S", "password": crate::helpers::PASSWORD}}))
        .await
        .expect(201);
    let reseller = app.token(&format!("boss{n}@reseller.example"), crate::helpers::PASSWORD).await;
    app.get("/v1/claims", &reseller).await.problem(403, "platform_operator_only");
    let claims = app.get("/v1/claims", &app.operator).await.expect(200);
    assert_eq!(claims["total"], 1, "{claims}");
    let claim = &claims["items"][0];
    assert_eq!(
        (&claim["kind"], &claim["key"], &claim["object_id"], &claim["holder_tenant_id"], &claim["claimant_tenant_id"]),
        (&json!("device"), &json!("80:5e:c0:11:22:33"), &squatted["id"], &json!(squatter.id), &json!(owner.id))
    );
    assert_eq!(claim["claimed_by"], owner.admin_id.as_str());
    let claimed = events(&app, &owner.admin, "action=device.claimed").await;
    assert_eq!(claimed.len(), 1, "the attempt is in the claimant's log");

    // Granted: the device is the owner's, freed and unlabelled, and the
    // squatter's user no longer has it.
    let grant = format!("/v1/claims/{}/grant", claim["id"].as_str().unwrap());
    app.post(&grant, &owner.admin, json!({})).await.problem(403, "permission_denied");
    app.post(&grant, &app.operator, json!({})).await.expect(200);
    let mine = app.get("/v1/devices", &owner.admin).await.expect(200);
    assert_eq!(mine["items"][0]["id"], squatted["id"], "{mine}");
    assert_eq!((&mine["items"][0]["label"], &mine["items"][0]["user"]), (&Value::Null, &Value::Null));
    // The squatter's provisioning credentials went with the move.
    assert_eq!(mine["items"][0]["provisioning"], Value::Null, "{mine}");
    let fetched = app
        .client
        .get(app.url("/provisioning/805ec0112233.cfg"))
        .basic_auth(basic_user, Some(basic_password))
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), 401, "the old tenant's credentials still work");
    assert_eq!(app.get("/v1/devices", &squatter.admin).await.expect(200)["total"], 0);
    assert_eq!(app.get(&format!("/v1/users/{}", id(&user)), &squatter.admin).await.expect(200)["device"], Value::Null);
    // Both logs record the move; the claim is gone.
    let out = events(&app, &squatter.admin, "action=device.moved").await;
    let into = events(&app, &owner.admin, "action=device.moved").await;
    assert_eq!((out.len(), into.len()), (1, 1));
    assert_eq!((&out[0]["details"]["direction"], &into[0]["details"]["direction"]), (&json!("out"), &json!("in")));
    assert!(!out[0].to_string().contains(owner.id.as_str()), "the holder's log names the claimant: {}", out[0]);
    assert_eq!(app.get("/v1/claims", &app.operator).await.expect(200)["total"], 0);
    app.post(&grant, &app.operator, json!({})).await.problem(404, "not_found");
}

#[tokio::test]
async fn phone_numbers_get_the_same_treatment_and_a_stale_claim_is_dropped() {
    let app = spawn_app().await;
    let first = app.customer().await;
    let second = app.customer().await;
    let third = app.customer().await;
    let n: u64 = unique().parse::<u64>().unwrap() % 10_000_000;
    let number = format!("+1650{n:07}");
    let held = app.post("/v1/phone-numbers", &app.operator, json!({"number": number, "tenant_id": first.id})).await;
    let held = held.expect(201);
    for claimant in [&second, &third] {
        app.post("/v1/phone-numbers", &app.operator, json!({"number": number, "tenant_id": claimant.id}))
            .await
            .problem(409, "phone_number_taken");
    }
    let claims = app.get("/v1/claims", &app.operator).await.expect(200);
    assert_eq!(claims["total"], 2, "{claims}");
    let to_second = claims["items"].as_array().unwrap().iter().find(|c| c["claimant_tenant_id"] == second.id.as_str());
    let to_second = to_second.unwrap()["id"].as_str().unwrap().to_owned();
    let to_third = claims["items"].as_array().unwrap().iter().find(|c| c["claimant_tenant_id"] == third.id.as_str());
    let to_third = to_third.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(claims["items"][0]["kind"], "phone_number");
    assert_eq!(claims["items"][0]["object_id"], held["id"]);
    // One grant settles the number: the other claim on it goes too.
    app.post(&format!("/v1/claims/{to_second}/grant"), &app.operator, json!({})).await.expect(200);
    assert_eq!(app.get("/v1/phone-numbers", &second.admin).await.expect(200)["items"][0]["number"], number.as_str());
    assert_eq!(app.get("/v1/phone-numbers", &first.admin).await.expect(200)["total"], 0);
    app.post(&format!("/v1/claims/{to_third}/grant"), &app.operator, json!({})).await.problem(404, "not_found");
    assert_eq!(events(&app, &first.admin, "action=phone_number.moved").await.len(), 1);

    // A claim whose object went meanwhile moves nothing and is dropped.
    let other: u64 = unique().parse::<u64>().unwrap() % 10_000_000;
    let other = format!("+1651{other:07}");
    let gone = app.post("/v1/phone-numbers", &app.operator, json!({"number": other, "tenant_id": first.id})).await;
    let gone = gone.expect(201);
    app.post("/v1/phone-numbers", &app.operator, json!({"number": other, "tenant_id": third.id}))
        .await
        .problem(409, "phone_number_taken");
    let stale = app.get("/v1/claims", &app.operator).await.expect(200)["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(app.delete(&format!("/v1/phone-numbers/{}", id(&gone)), &app.operator).await.status, 204);
    app.post(&format!("/v1/claims/{stale}/grant"), &app.operator, json!({})).await.problem(409, "claim_stale");
    assert_eq!(app.get("/v1/claims", &app.operator).await.expect(200)["total"], 0);
}
