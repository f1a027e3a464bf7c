//! Load never refuses the right credentials (PRODUCT.md rule 15; issue
//! 12): an office behind one address signing in at once, one account open
//! in many places, and whoever knows only a login cannot keep its owner
//! out. No answer is ever a 5xx, however many sign-ins race.

use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, id, reply, spawn_app_with};

const WRONG: &str = "surely-not-the-password";

async fn sign_in_from(app: &TestApp, client: &str, login: &str, password: &str) -> Reply {
    let req = app
        .client
        .post(app.url("/v1/auth/login"))
        .header("x-forwarded-for", client)
        .json(&json!({"login": login, "password": password}));
    reply(req.send().await.unwrap()).await
}

fn login(user: &Value) -> &str {
    user["login"].as_str().unwrap()
}

async fn behind_a_proxy() -> TestApp {
    spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".into()]).await
}

#[tokio::test]
async fn two_hundred_people_behind_one_address_sign_in_at_once() {
    let app = behind_a_proxy().await;
    let c = app.customer().await;
    let users = join_all((0..200).map(|_| app.user(&c.admin, json!({})))).await;
    let answers = join_all(users.iter().map(|u| sign_in_from(&app, "198.51.100.10", login(u), PASSWORD))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{:?}", statuses.iter().filter(|s| **s != 200).collect::<Vec<_>>());
}

#[tokio::test]
async fn one_account_signed_in_from_twelve_places_at_once_is_never_refused() {
    let app = behind_a_proxy().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for round in 0..4 {
        let places: Vec<String> = (0..12).map(|n| format!("203.0.113.{}", n + 1)).collect();
        let answers = join_all(places.iter().map(|p| sign_in_from(&app, p, login(&user), PASSWORD))).await;
        for a in answers {
            assert_eq!(a.status, 200, "round {round}: {}", a.body);
        }
    }
}

#[tokio::test]
async fn whoever_knows_only_a_login_locks_out_their_own_addresses_never_the_owners() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.lockout_free_failures = 3;
        s.lockout_hard_limit = 12;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let (home, office) = ("203.0.113.10", "2001:db8:7:7::1");
    sign_in_from(&app, home, login(&user), PASSWORD).await.expect(200);
    sign_in_from(&app, office, login(&user), PASSWORD).await.expect(200);

    // A stranger's failures lock the stranger's address out of the login…
    for _ in 0..6 {
        sign_in_from(&app, "198.51.100.99", login(&user), WRONG).await.problem(401, "invalid_credentials");
    }
    sign_in_from(&app, "198.51.100.99", login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    // …never the owner's: at home, or from another machine of the office's /64.
    sign_in_from(&app, home, login(&user), PASSWORD).await.expect(200);
    sign_in_from(&app, "2001:db8:7:7::2", login(&user), PASSWORD).await.expect(200);

    // Failures in a row from many unknown addresses (the owner's sign-in
    // above ended the last row) reach the hard stop, 12 here: every
    // unknown address is refused, the right password too…
    for n in 0..12 {
        sign_in_from(&app, &format!("198.51.100.{}", 10 + n), login(&user), WRONG).await;
    }
    let stopped = sign_in_from(&app, "192.0.2.200", login(&user), PASSWORD).await;
    stopped.problem(401, "invalid_credentials");
    let locks =
        app.get(&format!("/v1/audit-events?action=account.locked&target_id={}", id(&user)), &c.admin).await.expect(200);
    assert!(locks["items"].as_array().unwrap().iter().any(|e| e["details"]["until_unlocked"] == true), "{locks}");
    // …while the owner's addresses still work, and an administrator lifts it.
    sign_in_from(&app, home, login(&user), PASSWORD).await.expect(200);
    sign_in_from(&app, "192.0.2.200", login(&user), PASSWORD).await.problem(401, "invalid_credentials");
    let unlock = app.call(Method::POST, &format!("/v1/users/{}/unlock", id(&user)), Some(&c.admin), None).await;
    assert_eq!(unlock.status, 204);
    sign_in_from(&app, "192.0.2.200", login(&user), PASSWORD).await.expect(200);
    sign_in_from(&app, "198.51.100.99", login(&user), PASSWORD).await.expect(200);
}

#[tokio::test]
async fn racing_right_and_wrong_passwords_on_one_account_never_answer_5xx() {
    // Successes clear the counters wrong passwords are counting: before
    // the counters were locked by one upsert, such races answered 500 ("a
    // throttle counter vanished").
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec!["127.0.0.1".into()];
        s.lockout_free_failures = 1_000;
    })
    .await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    for round in 0..5 {
        let tries = (0..16).map(|n| {
            let password = if n % 2 == 0 { PASSWORD } else { WRONG };
            sign_in_from(&app, "198.51.100.50", login(&user), password)
        });
        for (n, answer) in join_all(tries).await.into_iter().enumerate() {
            let expected = if n % 2 == 0 { 200 } else { 401 };
            assert_eq!(answer.status.as_u16(), expected, "round {round}, try {n}: {}", answer.body);
        }
    }
}
