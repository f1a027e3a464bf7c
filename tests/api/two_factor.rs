//! Two-factor authentication (issue 4; PRODUCT.md rule 8; SECURITY.md
//! "Second factor"): enrolment, sign-in with a code or a recovery code,
//! codes accepted once, what administrators require and reset.

use chrono::{Duration, Utc};
use futures::future::join;
use reqwest::Method;
use serde_json::json;
use voxport_domain::auth::totp::{TotpSecret, code_at, current_step};

use crate::helpers::{Customer, PASSWORD, Reply, TestApp, id, spawn_app, spawn_app_with};

/// The code an authenticator app shows for `secret`, `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    code_at(&TotpSecret::from_base32(secret).unwrap(), Utc::now() + Duration::seconds(offset)).unwrap()
}

async fn sign_in(app: &TestApp, login: &str, otp: Option<&str>) -> Reply {
    let mut body = json!({"login": login, "password": PASSWORD});
    if let Some(otp) = otp {
        body["otp"] = json!(otp);
    }
    app.call(Method::POST, "/v1/auth/login", None, Some(body)).await
}

struct Enrolled {
    login: String,
    secret: String,
    /// The code enrolment was confirmed with: its step is spent.
    spent: String,
    recovery_codes: Vec<String>,
}

/// A user of `c` with a confirmed second factor.
async fn enrolled(app: &TestApp, c: &Customer) -> Enrolled {
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    let token = app.token(&login, PASSWORD).await;
    let started = app.post("/v1/me/2fa", &token, json!({"password": PASSWORD})).await.expect(200);
    let secret = started["secret"].as_str().unwrap().to_owned();
    let spent = code(&secret, 0);
    let codes = app.post("/v1/me/2fa/confirm", &token, json!({"code": spent})).await.expect(200);
    let recovery_codes =
        codes["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    Enrolled { login, secret, spent, recovery_codes }
}

#[tokio::test]
async fn enrolment_answers_a_secret_a_uri_and_a_qr_code_and_confirms_with_a_code() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    let started = app.post("/v1/me/2fa", &token, json!({"password": PASSWORD})).await.expect(200);
    let secret = started["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits, base32");
    assert!(started["otpauth_uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    assert!(started["otpauth_uri"].as_str().unwrap().contains(secret));
    assert!(started["qr_code"].as_str().unwrap().starts_with("data:image/png;base64,"));
    // Nothing changes until it is confirmed.
    sign_in(&app, user["login"].as_str().unwrap(), None).await.expect(200);
    app.post("/v1/me/2fa/confirm", &token, json!({"code": "000000"})).await.problem(403, "verification_failed");
    let confirmed = app.post("/v1/me/2fa/confirm", &token, json!({"code": code(secret, 0)})).await.expect(200);
    let codes = confirmed["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let mut distinct: Vec<&str> = codes.iter().map(|c| c.as_str().unwrap()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    assert_eq!(app.get("/v1/me", &token).await.expect(200)["two_factor"], json!({"enabled": true, "required": false}));
    app.post("/v1/me/2fa", &token, json!({"password": PASSWORD})).await.problem(409, "two_factor_already_enabled");
    app.post("/v1/me/2fa/confirm", &token, json!({"code": code(secret, 0)}))
        .await
        .problem(409, "two_factor_already_enabled");
}

#[tokio::test]
async fn sign_in_needs_a_code_that_works_once() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, secret, spent, .. } = enrolled(&app, &c).await;
    let required = sign_in(&app, &login, None).await.problem(401, "otp_required");
    assert!(required.get("access_token").is_none());
    sign_in(&app, &login, Some("123456")).await.problem(401, "otp_invalid");
    // The code enrolment was confirmed with is spent; a later one (within
    // the allowed skew) works, once.
    sign_in(&app, &login, Some(&spent)).await.problem(401, "otp_invalid");
    let next = code(&secret, 30);
    let signed = sign_in(&app, &login, Some(&next)).await.expect(200);
    assert_eq!(signed["user"]["two_factor"]["enabled"], true);
    sign_in(&app, &login, Some(&next)).await.problem(401, "otp_invalid");
    // A wrong password with a good code is still just a wrong password.
    let wrong = app
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"login": login, "password": "not-the-password", "otp": code(&secret, 30)})),
        )
        .await;
    wrong.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn of_two_sign_ins_with_one_code_exactly_one_succeeds() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, secret, .. } = enrolled(&app, &c).await;
    let next = code(&secret, 30);
    let (a, b) = join(sign_in(&app, &login, Some(&next)), sign_in(&app, &login, Some(&next))).await;
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 401], "{} / {}", a.body, b.body);
}

#[tokio::test]
async fn a_recovery_code_stands_in_for_a_code_once() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, recovery_codes: codes, .. } = enrolled(&app, &c).await;
    sign_in(&app, &login, Some(&codes[0])).await.expect(200);
    sign_in(&app, &login, Some(&codes[0])).await.problem(401, "otp_invalid");
    // However it is typed.
    sign_in(&app, &login, Some(&codes[1].to_uppercase().replace('-', " "))).await.expect(200);
    sign_in(&app, &login, Some("aaaa-bbbb-cccc-dddd")).await.problem(401, "otp_invalid");
}

#[tokio::test]
async fn after_three_wrong_codes_a_step_takes_no_more() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, secret, .. } = enrolled(&app, &c).await;
    // The rule is per time step; run it again if a step boundary fell
    // inside the attempt.
    for _ in 0..3 {
        let step = current_step(Utc::now());
        for wrong in ["000001", "000002", "000003"] {
            sign_in(&app, &login, Some(wrong)).await.problem(401, "otp_invalid");
        }
        let right = sign_in(&app, &login, Some(&code(&secret, 30))).await;
        if current_step(Utc::now()) == step {
            right.problem(401, "otp_invalid");
            return;
        }
    }
    panic!("three step boundaries in a row: the machine is too slow for this test");
}

#[tokio::test]
async fn turning_the_second_factor_off_needs_the_password_and_a_code() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, secret, spent, recovery_codes } = enrolled(&app, &c).await;
    let signed = sign_in(&app, &login, Some(&recovery_codes[0])).await.expect(200);
    let token = signed["access_token"].as_str().unwrap().to_owned();
    let off = |password: &str, code: &str| {
        app.call(Method::DELETE, "/v1/me/2fa", Some(&token), Some(json!({"password": password, "code": code})))
    };
    off("not-the-password", &code(&secret, 30)).await.problem(403, "verification_failed");
    off(PASSWORD, "000000").await.problem(403, "verification_failed");
    off(PASSWORD, &spent).await.problem(403, "verification_failed");
    assert_eq!(off(PASSWORD, &code(&secret, 30)).await.status, 204);
    sign_in(&app, &login, None).await.expect(200);
    assert_eq!(app.get("/v1/me", &token).await.expect(200)["two_factor"]["enabled"], false);
    off(PASSWORD, &code(&secret, 30)).await.problem(409, "two_factor_not_enabled");
}

#[tokio::test]
async fn an_administrator_requires_enrolment_at_the_next_sign_in() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    let changed = app
        .patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"two_factor_required": true}))
        .await
        .expect(200);
    assert_eq!(changed["two_factor"], json!({"enabled": false, "required": true}));
    let refused = sign_in(&app, &login, None).await.problem(403, "two_factor_enrolment_required");
    assert!(refused.get("access_token").is_none());
    let enrolment = refused["enrolment_token"].as_str().unwrap().to_owned();
    // The enrolment token opens the enrolment endpoints and nothing else.
    app.get("/v1/me", &enrolment).await.problem(401, "unauthenticated");
    app.get("/v1/users", &enrolment).await.problem(401, "unauthenticated");
    let started = app.post("/v1/me/2fa", &enrolment, json!({})).await.expect(200);
    let secret = started["secret"].as_str().unwrap().to_owned();
    app.post("/v1/me/2fa/confirm", &enrolment, json!({"code": code(&secret, 0)})).await.expect(200);
    let signed = sign_in(&app, &login, Some(&code(&secret, 30))).await.expect(200);
    let token = signed["access_token"].as_str().unwrap();
    // Required: it cannot be turned off.
    app.call(Method::DELETE, "/v1/me/2fa", Some(token), Some(json!({"password": PASSWORD, "code": code(&secret, 60)})))
        .await
        .problem(409, "two_factor_required");
}

#[tokio::test]
async fn a_role_can_require_a_second_factor_of_all_its_holders() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let role = app
        .post(
            "/v1/roles",
            &c.admin,
            json!({"name": "Finance", "permissions": ["transactions:read"], "two_factor_required": true}),
        )
        .await
        .expect(201);
    assert_eq!(role["two_factor_required"], true);
    let user = app.user(&c.admin, json!({"role_id": role["id"]})).await;
    assert_eq!(user["two_factor"]["required"], true);
    sign_in(&app, user["login"].as_str().unwrap(), None).await.problem(403, "two_factor_enrolment_required");
    app.patch(&format!("/v1/roles/{}", id(&role)), &c.admin, json!({"two_factor_required": false})).await.expect(200);
    sign_in(&app, user["login"].as_str().unwrap(), None).await.expect(200);
}

#[tokio::test]
async fn resetting_a_users_key_ends_their_sessions_and_they_scan_anew() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, secret, recovery_codes: codes, .. } = enrolled(&app, &c).await;
    let signed = sign_in(&app, &login, Some(&code(&secret, 30))).await.expect(200);
    let token = signed["access_token"].as_str().unwrap().to_owned();
    let me = app.get("/v1/me", &token).await.expect(200);
    assert_eq!(
        app.call(Method::POST, &format!("/v1/users/{}/2fa/reset", id(&me)), Some(&c.admin), None).await.status,
        204
    );
    app.get("/v1/me", &token).await.problem(401, "unauthenticated");
    // The old secret and recovery codes are gone: sign-in needs no code now.
    let signed = sign_in(&app, &login, Some(&codes[0])).await.expect(200);
    assert_eq!(signed["user"]["two_factor"]["enabled"], false);
    // Another tenant's user is not there to reset.
    let other = app.customer().await;
    app.call(Method::POST, &format!("/v1/users/{}/2fa/reset", id(&me)), Some(&other.admin), None)
        .await
        .problem(404, "not_found");
    // A plain user may not reset anyone's.
    app.call(
        Method::POST,
        &format!("/v1/users/{}/2fa/reset", other.admin_id),
        Some(signed["access_token"].as_str().unwrap()),
        None,
    )
    .await
    .problem(403, "permission_denied");
}

#[tokio::test]
async fn nobody_resets_their_own_second_factor() {
    let app = spawn_app().await;
    let c = app.customer().await;
    app.call(Method::POST, &format!("/v1/users/{}/2fa/reset", c.admin_id), Some(&c.admin), None)
        .await
        .problem(409, "cannot_reset_own_two_factor");
}

#[tokio::test]
async fn a_sign_in_refused_for_its_client_spends_no_code() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let Enrolled { login, recovery_codes: codes, .. } = enrolled(&app, &c).await;
    let desktop = json!({"login": login, "password": PASSWORD, "otp": codes[0], "client": "desktop"});
    app.call(Method::POST, "/v1/auth/login", None, Some(desktop)).await.problem(403, "application_not_enabled");
    sign_in(&app, &login, Some(&codes[0])).await.expect(200);
}

#[tokio::test]
async fn wrong_codes_when_turning_the_second_factor_off_count_against_the_account() {
    let app = spawn_app_with(|s| s.lockout_free_failures = 2).await;
    let c = app.customer().await;
    let Enrolled { login, secret, recovery_codes, .. } = enrolled(&app, &c).await;
    let signed = sign_in(&app, &login, Some(&recovery_codes[0])).await.expect(200);
    let token = signed["access_token"].as_str().unwrap().to_owned();
    let off = |password: &str, code: &str| {
        app.call(Method::DELETE, "/v1/me/2fa", Some(&token), Some(json!({"password": password, "code": code})))
    };
    for wrong in ["000001", "000002", "000003"] {
        off(PASSWORD, wrong).await.problem(403, "verification_failed");
    }
    // Locked: the right password and code are refused too, and sign-in.
    off(PASSWORD, &code(&secret, 30)).await.problem(403, "verification_failed");
    sign_in(&app, &login, Some(&recovery_codes[1])).await.problem(401, "invalid_credentials");
    let me = app.get("/v1/me", &token).await.expect(200);
    assert_eq!(me["two_factor"]["enabled"], true);
}

#[tokio::test]
async fn second_factor_changes_need_the_password_and_end_the_other_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    let here = app.token(&login, PASSWORD).await;
    let elsewhere = app.token(&login, PASSWORD).await;
    // A stolen session alone enrols nothing.
    let missing = app.post("/v1/me/2fa", &here, json!({})).await.problem(422, "validation_failed");
    assert_eq!(missing["errors"][0]["field"], "password", "{missing}");
    app.post("/v1/me/2fa", &here, json!({"password": "not my password"})).await.problem(403, "verification_failed");
    // The wrong one counted like a failed sign-in.
    let failed =
        app.get(&format!("/v1/audit-events?action=sign_in.failed&target_id={}", id(&user)), &c.admin).await.expect(200);
    assert_eq!(failed["items"][0]["details"]["reason"], "wrong_current_password", "{failed}");
    let started = app.post("/v1/me/2fa", &here, json!({"password": PASSWORD})).await.expect(200);
    let secret = started["secret"].as_str().unwrap().to_owned();
    app.get("/v1/me", &elsewhere).await.expect(200);
    let confirmed = app.post("/v1/me/2fa/confirm", &here, json!({"code": code(&secret, 0)})).await.expect(200);
    // Enabling it ends the sessions signed in without it, not this one.
    app.get("/v1/me", &elsewhere).await.problem(401, "unauthenticated");
    app.get("/v1/me", &here).await.expect(200);
    // Turning it off ends the others too.
    let recovery = confirmed["recovery_codes"][0].as_str().unwrap();
    let third = sign_in(&app, &login, Some(recovery)).await.expect(200);
    let third = third["access_token"].as_str().unwrap().to_owned();
    app.call(Method::DELETE, "/v1/me/2fa", Some(&here), Some(json!({"password": PASSWORD, "code": code(&secret, 30)})))
        .await
        .expect(204);
    app.get("/v1/me", &third).await.problem(401, "unauthenticated");
    app.get("/v1/me", &here).await.expect(200);
}

#[tokio::test]
async fn an_enrolment_token_dies_when_the_password_changes() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"two_factor_required": true})).await.expect(200);
    let refused = sign_in(&app, &login, None).await.problem(403, "two_factor_enrolment_required");
    let enrolment = refused["enrolment_token"].as_str().unwrap().to_owned();
    // With an enrolment token the body may be left out.
    let bare = app.client.post(app.url("/v1/me/2fa")).bearer_auth(&enrolment).send().await.unwrap();
    assert_eq!(bare.status(), 200);
    let changed = format!("{PASSWORD} changed");
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"password": changed})).await.expect(200);
    app.post("/v1/me/2fa", &enrolment, json!({})).await.problem(401, "unauthenticated");
    app.post("/v1/me/2fa/confirm", &enrolment, json!({"code": "000000"})).await.problem(401, "unauthenticated");
}
