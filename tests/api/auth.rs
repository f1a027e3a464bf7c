//! Sign-in, refresh and sign-out (PRODUCT.md rule 1, 6; SECURITY.md
//! "Credentials" and "Tokens").

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, spawn_app, unique};

async fn refresh(app: &crate::helpers::TestApp, token: &str) -> crate::helpers::Reply {
    app.call(Method::POST, "/v1/auth/refresh", None, Some(json!({"refresh_token": token}))).await
}

#[tokio::test]
async fn signing_in_answers_bearer_tokens_and_the_user() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let body = app.login(&c.admin_login, PASSWORD).await.expect(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert!(body["refresh_token"].as_str().unwrap().starts_with("vxr_"));
    assert_eq!(body["user"]["login"], c.admin_login.as_str());
    assert_eq!(body["user"]["role"]["name"], "Administrator");
}

#[tokio::test]
async fn logins_are_matched_without_regard_to_case_and_need_no_tenant() {
    let app = spawn_app().await;
    let c = app.customer().await;
    app.login(&c.admin_login.to_uppercase(), PASSWORD).await.expect(200);
    app.login(&format!("  {}  ", c.admin_login), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn every_refused_sign_in_gets_the_same_401_body() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    let disabled = app.user(&c.admin, json!({"disabled": true})).await;
    let expired = app.user(&c.admin, json!({"expires_at": past})).await;
    let pending = app.user(&c.admin, json!({"activation_at": future})).await;
    let no_password = app.user(&c.admin, json!({"password": null})).await;
    let wrong = app.user(&c.admin, json!({})).await;

    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown login", format!("nobody{}@example.com", unique()), PASSWORD),
        ("wrong password", wrong["login"].as_str().unwrap().to_owned(), "not-the-password-at-all"),
        ("disabled", disabled["login"].as_str().unwrap().to_owned(), PASSWORD),
        ("expired", expired["login"].as_str().unwrap().to_owned(), PASSWORD),
        ("not yet active", pending["login"].as_str().unwrap().to_owned(), PASSWORD),
        ("no password yet", no_password["login"].as_str().unwrap().to_owned(), PASSWORD),
        ("empty password", wrong["login"].as_str().unwrap().to_owned(), ""),
    ];
    let mut bodies = Vec::new();
    for (why, login, password) in &cases {
        let reply = app.login(login, password).await;
        let body = reply.problem(401, "invalid_credentials");
        bodies.push((why, body));
    }
    let first = &bodies[0].1;
    for (why, body) in &bodies {
        assert_eq!(body, first, "{why} must look exactly like an unknown login");
    }
    // A right password on an account that may not sign in takes the path
    // of a wrong one (one count, one event, no user loaded), so that
    // timing does not tell them apart either.
    for (user, reason) in
        [(&disabled, "not_active"), (&expired, "not_active"), (&pending, "not_active"), (&wrong, "wrong_password")]
    {
        let path = format!("/v1/audit-events?target_id={}", user["id"].as_str().unwrap());
        let events = app.get(&path, &c.admin).await.expect(200);
        let signs: Vec<&Value> =
            events["items"].as_array().unwrap().iter().filter(|e| e["action"] != "user.created").collect();
        let wanted = if reason == "wrong_password" { 2 } else { 1 };
        assert_eq!(signs.len(), wanted, "{events}");
        assert!(signs.iter().all(|e| e["action"] == "sign_in.failed"), "{events}");
        assert!(signs.iter().any(|e| e["details"]["reason"] == reason), "{events}");
    }
}

#[tokio::test]
async fn a_password_over_128_characters_is_refused_like_any_wrong_one() {
    let app = spawn_app().await;
    let c = app.customer().await;
    app.login(&c.admin_login, &"x".repeat(10_000)).await.problem(401, "invalid_credentials");
}

#[tokio::test]
async fn refreshing_rotates_the_refresh_token() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let first = app.login(&c.admin_login, PASSWORD).await.expect(200);
    let second = refresh(&app, first["refresh_token"].as_str().unwrap()).await.expect(200);
    assert_ne!(first["refresh_token"], second["refresh_token"]);
    let third = refresh(&app, second["refresh_token"].as_str().unwrap()).await.expect(200);
    app.get("/v1/me", third["access_token"].as_str().unwrap()).await.expect(200);
}

#[tokio::test]
async fn reusing_a_spent_refresh_token_ends_the_whole_session() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let first = app.login(&c.admin_login, PASSWORD).await.expect(200);
    let old = first["refresh_token"].as_str().unwrap();
    let second = refresh(&app, old).await.expect(200);

    // The thief replays the spent token ...
    refresh(&app, old).await.problem(401, "invalid_refresh_token");
    // ... so the legitimate holder's newer tokens die with the session.
    refresh(&app, second["refresh_token"].as_str().unwrap()).await.problem(401, "invalid_refresh_token");
    app.get("/v1/me", second["access_token"].as_str().unwrap()).await.problem(401, "unauthenticated");
    // Other sessions of the user are untouched.
    app.login(&c.admin_login, PASSWORD).await.expect(200);
}

/// A concurrent duplicate cannot be told from a replay, so the losers may
/// end the session before the winner finishes (RFC 9700 4.14.2): at most
/// one refresh succeeds, none fails with anything but 401, and the token
/// is spent afterwards.
#[tokio::test]
async fn concurrent_refreshes_with_one_token_never_yield_two_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let first = app.login(&c.admin_login, PASSWORD).await.expect(200);
    let token = first["refresh_token"].as_str().unwrap();
    let replies = futures::future::join_all((0..5).map(|_| refresh(&app, token))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().filter(|s| **s == 200).count() <= 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 401), "{statuses:?}");
    refresh(&app, token).await.problem(401, "invalid_refresh_token");
}

#[tokio::test]
async fn unknown_and_malformed_refresh_tokens_are_refused() {
    let app = spawn_app().await;
    for token in ["", "vxr_nope", &"a".repeat(5000)] {
        refresh(&app, token).await.problem(401, "invalid_refresh_token");
    }
}

#[tokio::test]
async fn signing_out_ends_the_session_and_its_access_tokens() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let session = app.login(&c.admin_login, PASSWORD).await.expect(200);
    let access = session["access_token"].as_str().unwrap();
    let refresh_token = session["refresh_token"].as_str().unwrap();
    app.get("/v1/me", access).await.expect(200);
    let out = app.call(Method::POST, "/v1/auth/logout", None, Some(json!({"refresh_token": refresh_token}))).await;
    assert_eq!(out.status, 204);
    app.get("/v1/me", access).await.problem(401, "unauthenticated");
    refresh(&app, refresh_token).await.problem(401, "invalid_refresh_token");
    // Signing out twice is fine.
    let again = app.call(Method::POST, "/v1/auth/logout", None, Some(json!({"refresh_token": refresh_token}))).await;
    assert_eq!(again.status, 204);
}

#[tokio::test]
async fn a_disabled_user_loses_access_on_the_next_request() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    app.get("/v1/me", &token).await.expect(200);
    app.patch(&format!("/v1/users/{}", user["id"].as_str().unwrap()), &c.admin, json!({"disabled": true}))
        .await
        .expect(200);
    app.get("/v1/me", &token).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn requests_without_a_valid_bearer_token_are_401() {
    let app = spawn_app().await;
    for header in ["", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer not.a.jwt", "Bearer a.b.c"] {
        let mut req = app.client.get(app.url("/v1/me"));
        if !header.is_empty() {
            req = req.header("authorization", header);
        }
        let reply = crate::helpers::reply(req.send().await.unwrap()).await;
        reply.problem(401, "unauthenticated");
    }
}

#[tokio::test]
async fn access_tokens_verify_with_the_published_keys_and_carry_the_required_claims() {
    let app = spawn_app().await;
    let jwks: Value = app.client.get(app.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );

    let header = jsonwebtoken::decode_header(&app.operator).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    assert_eq!(header.kid.as_deref(), key["kid"].as_str());

    let decoding = jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["voxport"]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(&app.operator, &decoding, &validation).unwrap().claims;
    for claim in ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"] {
        assert!(claims.get(claim).is_some(), "missing {claim}: {claims}");
    }
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
}

#[tokio::test]
async fn a_token_signed_with_another_key_or_no_algorithm_is_refused() {
    use base64::Engine as _;
    let app = spawn_app().await;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let (_, payload) = app.operator.split_once('.').unwrap();
    let (payload, _) = payload.split_once('.').unwrap();
    let alg_none = format!("{}.{payload}.", b64(json!({"alg": "none", "typ": "JWT"})));
    app.get("/v1/me", &alg_none).await.problem(401, "unauthenticated");
    let hs256 = format!("{}.{payload}.c2lnbmF0dXJl", b64(json!({"alg": "HS256", "typ": "JWT"})));
    app.get("/v1/me", &hs256).await.problem(401, "unauthenticated");
    // A refresh token is not an access token.
    let refresh_token = app.login("admin", crate::helpers::OPERATOR_PASSWORD).await.expect(200)["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    app.get("/v1/me", &refresh_token).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn the_signing_key_is_stored_sealed_and_a_clear_one_is_refused() {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use voxport_domain::auth::SigningKeySeed;

    use crate::helpers::{execute_with, stored_strings};

    let app = spawn_app().await;
    let sealed = stored_strings(&app, "SELECT seed FROM signing_keys").await;
    assert!(sealed.len() == 1 && sealed[0].starts_with("v1."), "stored sealed: {sealed:?}");

    // The database alone is not enough: another at-rest key cannot open it.
    let mut elsewhere = app.settings.clone();
    elsewhere.secret_key = Some(voxport_domain::crypto::AtRestKey::generate().to_base64());
    let refused = voxport::startup::Application::build(elsewhere)
        .await
        .err()
        .expect("a server with another key refuses to start");
    assert!(format!("{refused:#}").contains("at-rest key"), "{refused:#}");

    // A key written into the database in the clear would sign for whoever
    // wrote it: it is refused, not adopted (issue 11, finding 10).
    let planted = SigningKeySeed::generate();
    execute_with(
        &app,
        "UPDATE signing_keys SET kid = $1, seed = $2",
        vec![planted.kid.clone().into(), STANDARD.encode(planted.seed).into()],
    )
    .await
    .unwrap();
    let refused = voxport::startup::Application::build(app.settings.clone())
        .await
        .err()
        .expect("a server with a clear key refuses to start");
    assert!(format!("{refused:#}").contains("not sealed"), "{refused:#}");
}

#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs_and_the_old_one_verifies_until_its_tokens_expire() {
    use crate::helpers::{spawn_app_with, spawn_with_settings};

    let jwks = |app: &crate::helpers::TestApp| {
        let url = app.url("/.well-known/jwks.json");
        let client = app.client.clone();
        async move {
            let set: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            set["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let one = spawn_app_with(|s| s.key_reload_seconds = 1).await;
    let old = kid(&one.operator);
    assert_eq!(jwks(&one).await, vec![old.clone()]);
    let checked = one.settings.check().unwrap();

    // A rotation publishes the new key at once, and it signs only later.
    let (later, _) = voxport::startup::rotate_keys(&one.settings, &checked, 600).await.unwrap();
    let two = spawn_with_settings(one.settings.clone(), None).await;
    assert_eq!(jwks(&two).await, [old.clone(), later.clone()], "the next key is published");
    assert_eq!(kid(&two.operator), old, "the key in use still signs");

    // A key that signs now: a replica that read it signs with it, and the
    // one that did not learns it within its reload interval.
    let (now, _) = voxport::startup::rotate_keys(&one.settings, &checked, 0).await.unwrap();
    let three = spawn_with_settings(one.settings.clone(), None).await;
    assert_eq!(kid(&three.operator), now);
    assert_eq!(jwks(&three).await[0], now, "the signing key comes first");
    assert!(jwks(&three).await.contains(&old), "the old key verifies until its tokens expire");
    three.get("/v1/me", &one.operator).await.expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    one.get("/v1/me", &three.operator).await.expect(200);
    let fresh = one.token(crate::helpers::OPERATOR, crate::helpers::OPERATOR_PASSWORD).await;
    assert_eq!(kid(&fresh), now, "the first replica signs with the new key after reloading");
}

#[tokio::test]
async fn passwords_are_stored_at_owasps_cost() {
    // The one server of the suite at the production cost (the others hash
    // cheaply): what the deployment's defaults store, and that they sign in.
    let defaults = voxport::config::Settings::default();
    let app = crate::helpers::spawn_app_with(|s| {
        s.argon2_memory_kib = defaults.argon2_memory_kib;
        s.argon2_iterations = defaults.argon2_iterations;
        s.argon2_parallelism = defaults.argon2_parallelism;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    let stored = crate::helpers::stored_strings(
        &app,
        &format!("SELECT password_hash FROM users WHERE login = '{}'", user["login"].as_str().unwrap()),
    )
    .await;
    assert!(stored[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", stored[0]);
}

#[tokio::test]
async fn argon2_below_owasps_minimum_is_refused_at_start() {
    let mut cheap = voxport::config::Settings {
        argon2_memory_kib: 8_192,
        argon2_iterations: 2,
        argon2_below_minimum_for_tests: false,
        ..voxport::config::Settings::default()
    };
    let Err(refused) = cheap.check() else { panic!("below the minimum is refused") };
    assert!(format!("{refused:#}").contains("below OWASP's minimum"), "{refused:#}");
    // Memory traded for passes as OWASP lists it is fine.
    cheap.argon2_iterations = 4;
    cheap.argon2_memory_kib = 9_216;
    assert!(cheap.check().is_ok());
}

#[tokio::test]
async fn a_password_is_rehashed_at_sign_in_once_the_settings_are_raised() {
    use crate::helpers::{spawn_with_settings, stored_strings};

    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    let kept = app.token(&login, PASSWORD).await;
    let query = format!("SELECT password_hash FROM users WHERE login = '{login}'");
    let before = stored_strings(&app, &query).await;
    assert!(before[0].contains("m=256,t=1,p=1"), "{before:?}");

    let mut raised = app.settings.clone();
    raised.argon2_memory_kib = 19_456;
    raised.argon2_iterations = 2;
    let stronger = spawn_with_settings(raised, None).await;
    stronger.token(&login, PASSWORD).await;
    let after = stored_strings(&stronger, &query).await;
    assert!(after[0].starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "rehashed: {after:?}");
    // The same password, so nothing else changes: it signs in, and the
    // session from before goes on.
    stronger.token(&login, PASSWORD).await;
    stronger.get("/v1/me", &kept).await.expect(200);
    assert_eq!(stored_strings(&stronger, &query).await, after, "hashed once");
}
