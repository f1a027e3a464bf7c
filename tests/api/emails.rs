//! The welcome email (PRODUCT.md rule 5; issue 3 "Welcome email"): a real
//! SMTP conversation with an SMTP server in the test process.

use chrono::Duration;
use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    helpers::{
        Customer, PASSWORD, TestApp, execute, fresh_database, id, spawn_app, spawn_app_with, spawn_with_settings,
        stored_strings, test_settings, unique,
    },
    smtp::{SmtpServer, Tls, free_port},
};

async fn user_without_password(app: &TestApp, c: &Customer, extra: Value) -> Value {
    let mut body = json!({"email": format!("new{}@acme.example", unique()), "first_name": "Nora", "last_name": "Neu"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.post("/v1/users", &c.admin, body).await.expect(201)
}

async fn emails(app: &TestApp, c: &Customer, user: &Value) -> Value {
    app.get(&format!("/v1/users/{}/emails", id(user)), &c.admin).await.expect(200)
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> crate::helpers::Reply {
    app.call(Method::POST, "/v1/auth/set-password", None, Some(json!({"token": token, "password": password}))).await
}

#[tokio::test]
async fn the_welcome_email_arrives_with_login_portal_desktop_extension_and_a_single_use_link() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(smtp.url());
        s.portal_url = Some("https://portal.acme.example".into());
    })
    .await;
    let c = app.customer().await;
    app.deliver_emails(Duration::zero()).await;
    let admin_welcome = smtp.messages().len();
    let user = user_without_password(&app, &c, json!({"extension": {"number": "204", "type": "sip"}})).await;
    assert_eq!(user["welcome_email"], true);
    assert_eq!(emails(&app, &c, &user).await["items"][0]["status"], "pending");

    assert_eq!(app.deliver_emails(Duration::zero()).await.sent, 1);
    let messages = smtp.messages();
    assert_eq!(messages.len(), admin_welcome + 1);
    let mail = messages.last().unwrap();
    let address = user["email"].as_str().unwrap();
    assert_eq!(mail.to, [address]);
    assert_eq!(mail.from, "no-reply@voxport.localhost");
    let text = mail.unfolded();
    for wanted in [address, "https://portal.acme.example", "desktop app", "204", "set-password#token=vxl_"] {
        assert!(text.contains(wanted), "{wanted} is missing from {text}");
    }
    assert!(text.contains("text/plain") && text.contains("text/html"));
    let sent = emails(&app, &c, &user).await;
    assert_eq!((&sent["items"][0]["status"], &sent["items"][0]["attempts"]), (&json!("sent"), &json!(1)));
    assert_eq!(sent["items"][0]["kind"], "welcome");

    // The link sets the password once.
    let token = mail.token();
    app.login(address, PASSWORD).await.problem(401, "invalid_credentials");
    set_password(&app, &token, "password").await.problem(422, "validation_failed");
    assert_eq!(set_password(&app, &token, PASSWORD).await.status, 204);
    app.login(address, PASSWORD).await.expect(200);
    set_password(&app, &token, "another-plausible-password").await.problem(401, "invalid_link");
    set_password(&app, "vxl_made_up", PASSWORD).await.problem(401, "invalid_link");
}

#[tokio::test]
async fn the_email_never_carries_a_password() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let generated = user_without_password(&app, &c, json!({"generate_password": true})).await;
    let password = generated["password"].as_str().unwrap().to_owned();
    let given = user_without_password(&app, &c, json!({"password": "a-given-password-of-mine"})).await;
    app.deliver_emails(Duration::zero()).await;
    let mails: Vec<String> = smtp.messages().iter().map(|m| m.unfolded()).collect();
    for address in [&generated["email"], &given["email"]] {
        let mail = mails.iter().find(|m| m.contains(address.as_str().unwrap())).unwrap();
        assert!(!mail.contains(&password) && !mail.contains("a-given-password-of-mine"), "{mail}");
        assert!(!mail.contains("set-password"), "a user with a password gets no link");
    }
}

#[tokio::test]
async fn with_the_smtp_server_down_the_user_is_created_and_the_email_arrives_once_it_is_back() {
    let port = free_port();
    let app = spawn_app_with(|s| s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    let c = app.customer().await;
    let user = user_without_password(&app, &c, json!({})).await;
    let report = app.deliver_emails(Duration::zero()).await;
    assert_eq!((report.sent, report.retrying), (0, 2), "the admin's and the user's");
    let waiting = emails(&app, &c, &user).await;
    let item = &waiting["items"][0];
    assert_eq!((&item["status"], &item["attempts"]), (&json!("pending"), &json!(1)));
    assert!(item["last_error"].as_str().unwrap().contains("SMTP"), "{item}");
    assert!(item["next_attempt_at"].is_string());

    let smtp = SmtpServer::start_on(port, None);
    assert_eq!(app.deliver_emails(Duration::zero()).await.sent, 0, "not due yet: it backs off");
    assert_eq!(app.deliver_emails(Duration::hours(1)).await.sent, 2);
    assert_eq!(app.deliver_emails(Duration::hours(2)).await.sent, 0, "sent once");
    let arrived = smtp.messages();
    assert_eq!(arrived.len(), 2);
    assert!(arrived.iter().any(|m| m.to == [user["email"].as_str().unwrap()]));
    assert_eq!(emails(&app, &c, &user).await["items"][0]["status"], "sent");
}

#[tokio::test]
async fn an_email_is_given_up_after_the_last_attempt() {
    let port = free_port();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
        s.email_max_attempts = 2;
    })
    .await;
    let c = app.customer().await;
    let user = user_without_password(&app, &c, json!({})).await;
    app.deliver_emails(Duration::zero()).await;
    let report = app.deliver_emails(Duration::hours(1)).await;
    assert_eq!(report.given_up, 2);
    let failed = emails(&app, &c, &user).await;
    assert_eq!((&failed["items"][0]["status"], &failed["items"][0]["attempts"]), (&json!("failed"), &json!(2)));
    assert_eq!(failed["items"][0]["next_attempt_at"], Value::Null);
    // Resending writes a new one.
    let again = app.post(&format!("/v1/users/{}/welcome-email", id(&user)), &c.admin, json!({})).await.expect(202);
    assert_eq!(again["status"], "pending");
    assert_eq!(emails(&app, &c, &user).await["total"], 2);
}

#[tokio::test]
async fn a_creation_that_rolls_back_writes_no_email() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let station = app
        .post(
            "/v1/stations",
            &app.operator,
            json!({"tenant_id": c.id, "name": "Empty", "code": "empty",
               "applications": [], "quantity": 0}),
        )
        .await
        .expect(201);
    let before = stored_strings(&app, "SELECT recipient FROM outbox").await;
    app.post(
        "/v1/users",
        &c.admin,
        json!({"email": "nobody@acme.example", "first_name": "N", "last_name": "O",
             "extension": {"number": "77", "type": "sip"}, "station_id": station["id"]}),
    )
    .await
    .problem(409, "station_unavailable");
    assert_eq!(stored_strings(&app, "SELECT recipient FROM outbox").await, before);
    app.deliver_emails(Duration::hours(1)).await;
    assert!(smtp.messages().iter().all(|m| m.to != ["nobody@acme.example"]));
}

#[tokio::test]
async fn cr_or_lf_in_names_and_addresses_cannot_add_headers() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let injections = [
        json!({"first_name": "Eve\r\nBcc: victim@evil.example"}),
        json!({"last_name": "Eve\nBcc: victim@evil.example"}),
        json!({"email": "eve@acme.example\r\nBcc: victim@evil.example"}),
    ];
    for extra in injections {
        let mut body = json!({"email": "eve@acme.example", "first_name": "Eve", "last_name": "Evans"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app.post("/v1/users", &c.admin, body).await;
        assert_eq!(r.status, 422, "{extra}: {}", r.body);
    }
    // Names that are merely unusual are encoded, never raw.
    let odd =
        user_without_password(&app, &c, json!({"first_name": "Zoë: \"Q\" <x>", "last_name": "O'Brien; Bcc"})).await;
    app.deliver_emails(Duration::zero()).await;
    let mail = smtp.messages().into_iter().find(|m| m.to == [odd["email"].as_str().unwrap()]).unwrap();
    let headers = mail.data.split("\r\n\r\n").next().unwrap().to_owned();
    assert!(!headers.to_lowercase().contains("\nbcc:"), "{headers}");
    assert!(headers.lines().all(|l| !l.starts_with("Bcc")), "{headers}");
    assert!(smtp.messages().iter().all(|m| m.to.iter().all(|to| !to.contains("evil"))));
}

#[tokio::test]
async fn without_an_smtp_server_each_email_is_written_as_an_eml_file() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = user_without_password(&app, &c, json!({})).await;
    app.deliver_emails(Duration::zero()).await;
    let files: Vec<String> = std::fs::read_dir(&app.settings.mail_dir)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 2, "the admin's welcome email and the user's");
    assert!(files.iter().any(|f| f.contains(user["email"].as_str().unwrap()) && f.contains("set-password")));
}

#[tokio::test]
async fn resending_the_welcome_email_replaces_the_link() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    let user = user_without_password(&app, &c, json!({})).await;
    app.deliver_emails(Duration::zero()).await;
    let first = smtp.messages().last().unwrap().token();
    let resent = app.post(&format!("/v1/users/{}/welcome-email", id(&user)), &c.admin, json!({})).await.expect(202);
    assert_eq!((&resent["kind"], &resent["to"]), (&json!("welcome"), &user["email"]));
    app.deliver_emails(Duration::zero()).await;
    let second = smtp.messages().last().unwrap().token();
    assert_ne!(first, second);
    set_password(&app, &first, PASSWORD).await.problem(401, "invalid_link");
    assert_eq!(set_password(&app, &second, PASSWORD).await.status, 204);

    let no_email = app
        .post(
            "/v1/users",
            &c.admin,
            json!({"login": format!("noemail{}", unique()), "first_name": "N",
                            "last_name": "E", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(no_email["welcome_email"], false);
    app.post(&format!("/v1/users/{}/welcome-email", id(&no_email)), &c.admin, json!({}))
        .await
        .problem(409, "no_email_address");
    app.get(&format!("/v1/users/{}/emails", uuid::Uuid::new_v4()), &c.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn an_expired_link_no_longer_works() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    user_without_password(&app, &c, json!({})).await;
    app.deliver_emails(Duration::zero()).await;
    let token = smtp.messages().last().unwrap().token();
    execute(&app, "UPDATE password_tokens SET expires_at = created_at").await;
    set_password(&app, &token, PASSWORD).await.problem(401, "invalid_link");
}

#[tokio::test]
async fn a_new_tenants_administrator_without_a_password_sets_one_through_the_welcome_email() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let n = unique();
    let admin = format!("it{n}@globex.example");
    app.post(
        "/v1/tenants",
        &app.operator,
        json!({"name": "Globex", "slug": format!("globex-{n}"),
             "admin": {"email": admin, "first_name": "Hank", "last_name": "Scorpio"}}),
    )
    .await
    .expect(201);
    app.deliver_emails(Duration::zero()).await;
    let mail = smtp.messages().into_iter().find(|m| m.to == [admin.as_str()]).unwrap();
    assert!(mail.unfolded().contains("Globex"));
    assert_eq!(set_password(&app, &mail.token(), PASSWORD).await.status, 204);
    app.login(&admin, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn two_replicas_never_send_the_same_email_twice() {
    let smtp = SmtpServer::start();
    let (url, dir) = fresh_database().await;
    let mut settings = test_settings(url);
    settings.smtp_url = Some(smtp.url());
    let one = spawn_with_settings(settings.clone(), dir).await;
    let two = spawn_with_settings(settings, None).await;
    let c = one.customer().await;
    for _ in 0..12 {
        user_without_password(&one, &c, json!({})).await;
    }
    let (a, b) =
        futures::future::join(one.deliver_emails(Duration::zero()), two.deliver_emails(Duration::zero())).await;
    assert_eq!(a.sent + b.sent, 13, "{a:?} {b:?}");
    let arrived = smtp.messages();
    let mut recipients: Vec<&String> = arrived.iter().flat_map(|m| &m.to).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!((arrived.len(), recipients.len()), (13, 13));
}

#[tokio::test]
async fn the_background_worker_sends_without_being_asked() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(smtp.url());
        s.email_worker = true;
    })
    .await;
    let c = app.customer().await;
    let user = user_without_password(&app, &c, json!({})).await;
    let arrived = smtp.wait_for(2).await;
    assert!(arrived.iter().any(|m| m.to == [user["email"].as_str().unwrap()]));
}

#[tokio::test]
async fn smtp_with_starttls_and_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let tls = |password: &str| Tls {
        cert_path: cert_path.display().to_string(),
        key_path: key_path.display().to_string(),
        user: "mailer".into(),
        password: password.into(),
    };
    let smtp = SmtpServer::start_on(free_port(), Some(tls("smtp-secret")));
    let ca = cert_path.display().to_string();
    let app = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://mailer:smtp-secret@localhost:{}?tls=required", smtp.port));
        s.smtp_ca_file = Some(ca);
    })
    .await;
    let c = app.customer().await;
    user_without_password(&app, &c, json!({})).await;
    assert_eq!(app.deliver_emails(Duration::zero()).await.sent, 2);
    assert_eq!(smtp.messages().len(), 2);

    // Wrong credentials are an error to retry, not a crash.
    let wrong = SmtpServer::start_on(free_port(), Some(tls("another-secret")));
    let ca = cert_path.display().to_string();
    let refused = spawn_app_with(|s| {
        s.smtp_url = Some(format!("smtp://mailer:smtp-secret@localhost:{}?tls=required", wrong.port));
        s.smtp_ca_file = Some(ca);
    })
    .await;
    let d = refused.customer().await;
    assert_eq!(refused.deliver_emails(Duration::zero()).await.retrying, 1);
    assert!(wrong.messages().is_empty());
    let errors = stored_strings(&refused, "SELECT last_error FROM outbox").await;
    assert!(!errors[0].contains("smtp-secret"), "no password in the stored error: {errors:?}");
    drop(d);
}

#[tokio::test]
async fn a_link_stops_working_once_the_email_or_the_password_changes() {
    let smtp = SmtpServer::start();
    let app = spawn_app_with(|s| s.smtp_url = Some(smtp.url())).await;
    let c = app.customer().await;
    // Sent to a mistyped address; the admin corrects it.
    let typo = user_without_password(&app, &c, json!({})).await;
    app.deliver_emails(Duration::zero()).await;
    let stranger = smtp.messages().last().unwrap().token();
    app.patch(
        &format!("/v1/users/{}", id(&typo)),
        &c.admin,
        json!({"email": format!("right{}@acme.example", unique())}),
    )
    .await
    .expect(200);
    set_password(&app, &stranger, PASSWORD).await.problem(401, "invalid_link");
    // Sent, then the admin sets a password by hand.
    let other = user_without_password(&app, &c, json!({})).await;
    app.deliver_emails(Duration::zero()).await;
    let link = smtp.messages().last().unwrap().token();
    app.patch(&format!("/v1/users/{}", id(&other)), &c.admin, json!({"password": "set-by-the-admin-1"}))
        .await
        .expect(200);
    set_password(&app, &link, PASSWORD).await.problem(401, "invalid_link");
    app.login(other["email"].as_str().unwrap(), "set-by-the-admin-1").await.expect(200);
}

#[tokio::test]
async fn without_the_welcome_email_a_password_is_required() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let fields = app
        .post(
            "/v1/users",
            &c.admin,
            json!({"email": "quiet@acme.example", "first_name": "Q", "last_name": "Uiet", "send_welcome_email": false}),
        )
        .await
        .invalid_fields();
    assert_eq!(fields, ["password"]);
    let quiet = app
        .post(
            "/v1/users",
            &c.admin,
            json!({"email": "quiet@acme.example", "first_name": "Q", "last_name": "Uiet",
               "send_welcome_email": false, "generate_password": true}),
        )
        .await
        .expect(201);
    assert_eq!(quiet["welcome_email"], false);
    let n = unique();
    let fields = app
        .post("/v1/tenants", &app.operator, json!({"name": "Quiet", "slug": format!("quiet-{n}"),
               "admin": {"email": format!("it{n}@quiet.example"), "first_name": "Q", "last_name": "T", "send_welcome_email": false}}))
        .await
        .invalid_fields();
    assert_eq!(fields, ["admin.password"]);
}
