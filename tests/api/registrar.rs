//! What a SIP registrar reads (issue 10, "SIP registrar"): the digest
//! hashes stored beside each sealed secret, and on PostgreSQL the
//! `kamailio.subscriber` view of the lines that may register now.

use std::os::unix::process::CommandExt as _;

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
    let tenant = app.get(&format!("/v1/tenants/{}", c.id), &app.operator).await.expect(200);
    assert_eq!(tenant["sip_domain"], renamed.0.as_str(), "the tenant shows its SIP domain");
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

/// A Kamailio registrar on the test database, run from docs/kamailio.cfg.
struct Kamailio {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // Kamailio forks its workers. Killing the main process alone left
        // them running after the tests, each holding a connection to the
        // test database: the whole process group goes.
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Starts Kamailio reading `database_url` as a role that sees only the
/// registrar's view (created here as docs/kamailio.md says).
async fn kamailio(app: &TestApp) -> Kamailio {
    let role = "voxport_registrar_test";
    execute(
        app,
        &format!("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN; END IF; END $$"),
    )
    .await;
    execute(app, &format!("ALTER ROLE {role} SET search_path = kamailio")).await;
    execute(app, &format!("GRANT USAGE ON SCHEMA kamailio TO {role}")).await;
    execute(app, &format!("GRANT SELECT ON kamailio.subscriber TO {role}")).await;
    let url = app.settings.database_url.replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    let port = free_udp_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/kamailio.cfg"))
        .unwrap()
        .replace("__LISTEN__", &format!("udp:127.0.0.1:{port}"))
        .replace("__DB_URL__", &url);
    let path = dir.path().join("kamailio.cfg");
    std::fs::write(&path, cfg).unwrap();
    let child = std::process::Command::new("kamailio")
        .args(["-f", path.to_str().unwrap(), "-DD", "-E", "-m", "64", "-M", "8", "-w", dir.path().to_str().unwrap()])
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("kamailio.log")).unwrap())
        .spawn()
        .expect("kamailio is installed (.ci/run installs it)");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    Kamailio { child, port, _dir: dir }
}

/// Whether sipp REGISTERs `user` at `domain` with `secret` through the
/// registrar: the digest challenge answered and 200 OK received.
async fn registers(k: &Kamailio, user: &str, domain: &str, secret: &str) -> bool {
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kamailio/register.xml");
    let (target, local) = (format!("127.0.0.1:{}", k.port), free_udp_port().to_string());
    let out = tokio::process::Command::new("sipp")
        .args([target.as_str(), "-sf", scenario, "-m", "1", "-p", local.as_str(), "-i", "127.0.0.1"])
        .args(["-key", "domain", domain, "-key", "user", user, "-au", user, "-ap", secret])
        .args(["-timeout", "10s", "-timeout_error", "-nostdin", "-recv_timeout", "3000"])
        .output()
        .await
        .expect("sipp is installed (.ci/run installs it)");
    out.status.success()
}

#[tokio::test]
async fn a_provisioned_extension_registers_on_kamailio_and_every_refusal_holds() {
    let app = spawn_app().await;
    if !is_postgres(&app) {
        // Kamailio reads the PostgreSQL view; on SQLite there is none.
        let tables = stored_strings(&app, "SELECT name FROM sqlite_master WHERE name LIKE '%subscriber%'").await;
        assert!(tables.is_empty(), "{tables:?}");
        return;
    }
    let k = kamailio(&app).await;
    let c = app.customer().await;
    let other = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap().to_owned();
    let give = |ext: &Value| format!("/v1/users/{}/extensions/{}", id(&user), id(ext));
    let creds = |ext: &Value| {
        let path = format!("/v1/extensions/{}/sip-credentials", id(ext));
        let (app, admin) = (&app, c.admin.clone());
        async move {
            let v = app.get(&path, &admin).await.expect(200);
            (
                v["username"].as_str().unwrap().to_owned(),
                v["domain"].as_str().unwrap().to_owned(),
                v["secret"].as_str().unwrap().to_owned(),
            )
        }
    };
    let line = app.post("/v1/extensions", &c.admin, json!({"number": "601", "type": "sip"})).await.expect(201);
    app.put(&give(&line), &c.admin, json!({})).await.expect(200);
    let (name, domain, secret) = creds(&line).await;
    let mut ok = false;
    for _ in 0..5 {
        if registers(&k, &name, &domain, &secret).await {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(ok, "the provisioned extension registers with its secret");
    assert!(!registers(&k, &name, &domain, "not-the-secret").await, "a wrong secret");
    let other_domain = format!("{}.sip.voxport.localhost", other.slug);
    assert!(!registers(&k, &name, &other_domain, &secret).await, "the same username under another tenant's domain");

    // After a rotation the old secret is refused, the new one works.
    app.post(&format!("/v1/extensions/{}/rotate-secret", id(&line)), &c.admin, json!({})).await.expect(200);
    let (_, _, rotated) = creds(&line).await;
    assert!(!registers(&k, &name, &domain, &secret).await, "the old secret after a rotation");
    assert!(registers(&k, &name, &domain, &rotated).await);

    // A Web line never registers; a force_login line only while signed in.
    let web = app.post("/v1/extensions", &c.admin, json!({"number": "602", "type": "web"})).await.expect(201);
    app.put(&give(&web), &c.admin, json!({})).await.expect(200);
    let (web_name, _, web_secret) = creds(&web).await;
    assert!(!registers(&k, &web_name, &domain, &web_secret).await, "a Web extension");
    let forced = app
        .post("/v1/extensions", &c.admin, json!({"number": "603", "type": "sip", "force_login": true}))
        .await
        .expect(201);
    app.put(&give(&forced), &c.admin, json!({})).await.expect(200);
    let (forced_name, _, forced_secret) = creds(&forced).await;
    assert!(!registers(&k, &forced_name, &domain, &forced_secret).await, "a force_login line while signed out");
    app.login(&login, PASSWORD).await.expect(200);
    assert!(
        registers(&k, &forced_name, &domain, &forced_secret).await,
        "the force_login line once its holder signs in"
    );

    // A desk phone registers with what its configuration file says.
    let device = app
        .post(
            "/v1/devices",
            &c.admin,
            json!({"mac": "02:aa:bb:cc:dd:01", "vendor": "Yealink", "model": "T54W", "ports": 1}),
        )
        .await
        .expect(201);
    app.put(&format!("/v1/users/{}/device", id(&user)), &c.admin, json!({"device_id": device["id"]})).await.expect(200);
    let issued = app
        .post(&format!("/v1/devices/{}/provisioning-credentials", id(&device)), &c.admin, json!({}))
        .await
        .expect(200);
    let cfg = app
        .client
        .get(issued["yealink_url"].as_str().unwrap().replace(&app.settings.public_base_url, &app.address))
        .basic_auth(issued["username"].as_str().unwrap(), issued["password"].as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |key: &str| {
        cfg.lines().find_map(|l| l.strip_prefix(&format!("{key} = "))).unwrap_or_else(|| panic!("{key} in {cfg}"))
    };
    assert_eq!(value("account.1.user_name"), name, "the phone's first line is the user's first SIP line");
    assert!(
        registers(
            &k,
            value("account.1.user_name"),
            value("account.1.sip_server.1.address"),
            value("account.1.password")
        )
        .await,
        "the desk phone's line registers: {cfg}"
    );

    // A disabled user's line, then a deleted user's.
    let path = format!("/v1/users/{}", id(&user));
    app.patch(&path, &c.admin, json!({"disabled": true})).await.expect(200);
    assert!(!registers(&k, &name, &domain, &rotated).await, "a disabled user's extension");
    app.patch(&path, &c.admin, json!({"disabled": false})).await.expect(200);
    assert!(registers(&k, &name, &domain, &rotated).await);
    assert_eq!(app.delete(&path, &c.admin).await.status, 204);
    assert!(!registers(&k, &name, &domain, &rotated).await, "a deleted user's extension");
}
