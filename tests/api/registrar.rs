//! What a SIP registrar reads (issue 10, "SIP registrar"): the digest
//! hashes stored beside each sealed secret, and on PostgreSQL the
//! `kamailio.subscriber` view of the lines that may register now.

use md5::{Digest as _, Md5};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, execute, id, spawn_app, spawn_with_settings, stored_strings, unique};

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored domain and hashes of an extension.
async fn stored(app: &TestApp, extension: &Value) -> (String, String, String) {
    let number = extension["number"].as_str().unwrap();
    let q = |column: &str| format!("SELECT {column} FROM extensions WHERE number = '{number}'");
    (
        stored_strings(app, &q("sip_domain")).await.remove(0),
        stored_strings(app, &q("ha1")).await.remove(0),
        stored_strings(app, &q("ha1b")).await.remove(0),
    )
}

/// What a registrar would compute from the credentials the API shows.
async fn expected(app: &TestApp, token: &str, extension: &Value) -> (String, String, String) {
    let creds = app.get(&format!("/v1/extensions/{}/sip-credentials", id(extension)), token).await.expect(200);
    let (user, domain, secret) =
        (creds["username"].as_str().unwrap(), creds["domain"].as_str().unwrap(), creds["secret"].as_str().unwrap());
    (
        domain.to_owned(),
        md5_hex(&format!("{user}:{domain}:{secret}")),
        md5_hex(&format!("{user}@{domain}:{domain}:{secret}")),
    )
}

fn is_postgres(app: &TestApp) -> bool {
    app.settings.database_url.starts_with("postgres")
}

#[tokio::test]
async fn digest_hashes_follow_the_secret_and_the_tenants_domain() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let line = app.post("/v1/extensions", &c.admin, json!({"number": "401", "type": "sip"})).await.expect(201);
    let first = stored(&app, &line).await;
    assert_eq!(first, expected(&app, &c.admin, &line).await);
    assert_eq!(first.0, format!("{}.sip.voxport.localhost", c.slug));
    // A rotation, an assignment (a fresh secret) and a new slug each
    // store the hashes a registrar needs.
    app.post(&format!("/v1/extensions/{}/rotate-secret", id(&line)), &c.admin, json!({})).await.expect(200);
    let rotated = stored(&app, &line).await;
    assert_ne!(rotated.1, first.1);
    assert_eq!(rotated, expected(&app, &c.admin, &line).await);
    let user = app.user(&c.admin, json!({})).await;
    app.put(&format!("/v1/users/{}/extensions/{}", id(&user), id(&line)), &c.admin, json!({})).await.expect(200);
    assert_eq!(stored(&app, &line).await, expected(&app, &c.admin, &line).await);
    let slug = format!("renamed-{}", unique());
    app.patch(&format!("/v1/tenants/{}", c.id), &app.operator, json!({"slug": slug})).await.expect(200);
    let renamed = stored(&app, &line).await;
    assert_eq!(renamed.0, format!("{slug}.sip.voxport.localhost"));
    assert_eq!(renamed, expected(&app, &c.admin, &line).await);

    // Secrets stored before the hashes were get them at the next start.
    execute(&app, "UPDATE extensions SET sip_domain = NULL, ha1 = NULL, ha1b = NULL").await;
    let restarted = spawn_with_settings(app.settings.clone(), None).await;
    assert_eq!(stored(&restarted, &line).await, renamed);
}

#[tokio::test]
async fn the_registrar_sees_only_sip_lines_of_users_who_may_sign_in_now() {
    let app = spawn_app().await;
    let view = "SELECT username || ' ' || domain || ' ' || ha1 || ' ' || ha1b FROM kamailio.subscriber ORDER BY 1";
    if !is_postgres(&app) {
        // The registrar reads PostgreSQL; SQLite has no such view.
        let tables = stored_strings(&app, "SELECT name FROM sqlite_master WHERE name LIKE '%subscriber%'").await;
        assert!(tables.is_empty(), "{tables:?}");
        return;
    }
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    let give = |ext: &Value| format!("/v1/users/{}/extensions/{}", id(&user), id(ext));
    let sip = app.post("/v1/extensions", &c.admin, json!({"number": "501", "type": "sip"})).await.expect(201);
    let web = app.post("/v1/extensions", &c.admin, json!({"number": "502", "type": "web"})).await.expect(201);
    let forced = app
        .post("/v1/extensions", &c.admin, json!({"number": "503", "type": "sip", "force_login": true}))
        .await
        .expect(201);
    // A line that rings nobody is not there either.
    app.post("/v1/extensions", &c.admin, json!({"number": "504", "type": "sip"})).await.expect(201);
    for ext in [&sip, &web, &forced] {
        app.put(&give(ext), &c.admin, json!({})).await.expect(200);
    }
    let row = |ext: &Value| {
        let ext = ext.clone();
        let app = &app;
        let admin = c.admin.clone();
        async move {
            let (domain, ha1, ha1b) = stored(app, &ext).await;
            let creds = app.get(&format!("/v1/extensions/{}/sip-credentials", id(&ext)), &admin).await.expect(200);
            format!("{} {domain} {ha1} {ha1b}", creds["username"].as_str().unwrap().to_lowercase())
        }
    };
    let sip_row = row(&sip).await;
    assert_eq!(
        stored_strings(&app, view).await,
        vec![sip_row.clone()],
        "not the web line, the free one, nor the forced one while signed out"
    );

    // A force_login line is there while its holder has a session.
    let signed = app.login(&login, PASSWORD).await.expect(200);
    let mut both = vec![sip_row.clone(), row(&forced).await];
    both.sort();
    assert_eq!(stored_strings(&app, view).await, both);
    let ended = app
        .post(
            "/v1/auth/logout",
            signed["access_token"].as_str().unwrap(),
            json!({"refresh_token": signed["refresh_token"]}),
        )
        .await;
    assert_eq!(ended.status, 204);
    assert_eq!(stored_strings(&app, view).await, vec![sip_row.clone()]);

    // Disabled, expired or deleted: gone at once.
    let path = format!("/v1/users/{}", id(&user));
    app.patch(&path, &c.admin, json!({"disabled": true})).await.expect(200);
    assert!(stored_strings(&app, view).await.is_empty());
    app.patch(&path, &c.admin, json!({"disabled": false})).await.expect(200);
    assert_eq!(stored_strings(&app, view).await, vec![sip_row.clone()]);
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    execute(&app, &format!("UPDATE users SET expires_at = '{past}' WHERE login = '{login}'")).await;
    assert!(stored_strings(&app, view).await.is_empty());
    execute(&app, &format!("UPDATE users SET expires_at = NULL WHERE login = '{login}'")).await;
    assert_eq!(app.delete(&path, &c.admin).await.status, 204);
    assert!(stored_strings(&app, view).await.is_empty());
}
