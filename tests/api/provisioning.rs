//! Desk phones fetch their configuration by MAC (issue 10, "Desk-phone
//! provisioning"): what the Yealink and Polycom files carry, how a phone
//! authenticates, and every refusal.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Customer, Reply, TestApp, id, reply, spawn_app, spawn_app_with, unique};

/// A desk phone of `c` with 4 ports, serving a user who holds two SIP
/// lines (one named) and a Web one, on 3 of its ports.
struct Phone {
    device: Value,
    user: Value,
    lines: Vec<Value>,
    web: Value,
}

fn mac_digits() -> String {
    let n: u64 = unique().parse::<u64>().unwrap() % 0xffff_ffff;
    format!("02ab{n:08x}")
}

async fn phone(app: &TestApp, c: &Customer) -> Phone {
    let device = app
        .post("/v1/devices", &c.admin, json!({"mac": mac_digits(), "vendor": "Yealink", "model": "T54W", "ports": 4}))
        .await
        .expect(201);
    let n = unique().parse::<u64>().unwrap() % 10_000;
    let user = app
        .user(
            &c.admin,
            json!({"first_name": "Mary", "last_name": "Smith", "timezone": "Europe/Berlin", "language": "de"}),
        )
        .await;
    app.put(&format!("/v1/users/{}/device", id(&user)), &c.admin, json!({"device_id": device["id"], "ports": 3}))
        .await
        .expect(200);
    let mut lines = Vec::new();
    for (number, name) in [(format!("5{n:04}"), json!("Front desk")), (format!("6{n:04}"), Value::Null)] {
        let mut body = json!({"number": number, "type": "sip"});
        if !name.is_null() {
            body["name"] = name;
        }
        let line = app.post("/v1/extensions", &c.admin, body).await.expect(201);
        app.put(&format!("/v1/users/{}/extensions/{}", id(&user), id(&line)), &c.admin, json!({})).await.expect(200);
        lines.push(line);
    }
    let web =
        app.post("/v1/extensions", &c.admin, json!({"number": format!("7{n:04}"), "type": "web"})).await.expect(201);
    app.put(&format!("/v1/users/{}/extensions/{}", id(&user), id(&web)), &c.admin, json!({})).await.expect(200);
    Phone { device, user, lines, web }
}

/// Issues provisioning credentials: (username, password, the answer).
async fn issue(app: &TestApp, token: &str, device: &Value) -> (String, String, Value) {
    let body =
        app.post(&format!("/v1/devices/{}/provisioning-credentials", id(device)), token, json!({})).await.expect(200);
    (body["username"].as_str().unwrap().to_owned(), body["password"].as_str().unwrap().to_owned(), body)
}

fn file(device: &Value, ext: &str) -> String {
    format!("/provisioning/{}.{ext}", device["mac"].as_str().unwrap().replace(':', ""))
}

/// Fetches `path` as a phone would, with HTTP Basic credentials.
async fn fetch(app: &TestApp, path: &str, credentials: Option<(&str, &str)>) -> (StatusCode, String, Reply) {
    let mut req = app.client.get(app.url(path));
    if let Some((user, password)) = credentials {
        req = req.basic_auth(user, Some(password));
    }
    let response = req.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    (status, text, Reply { status, headers, body })
}

async fn secret(app: &TestApp, token: &str, line: &Value) -> Value {
    app.get(&format!("/v1/extensions/{}/sip-credentials", id(line)), token).await.expect(200)
}

/// The `key = value` pairs of a Yealink file.
fn cfg_value<'a>(cfg: &'a str, key: &str) -> Option<&'a str> {
    cfg.lines().find_map(|l| l.split_once(" = ").filter(|(k, _)| *k == key).map(|(_, v)| v))
}

#[tokio::test]
async fn a_yealink_phone_gets_its_users_sip_lines_on_the_ports_it_was_given() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let p = phone(&app, &c).await;
    let (user, password, issued) = issue(&app, &c.admin, &p.device).await;
    assert!(password.starts_with("vxprov_") && password.len() >= 50, "{password}");
    assert!(issued["yealink_url"].as_str().unwrap().ends_with(&file(&p.device, "cfg")), "{issued}");
    assert!(issued["polycom_url"].as_str().unwrap().ends_with(&file(&p.device, "xml")), "{issued}");

    let (status, cfg, reply) = fetch(&app, &file(&p.device, "cfg"), Some((&user, &password))).await;
    assert_eq!(status, 200, "{cfg}");
    assert_eq!(reply.headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(reply.headers["cache-control"], "no-store");
    assert!(cfg.starts_with("#!version:1.0.0.1\n"), "{cfg}");
    let first = secret(&app, &c.admin, &p.lines[0]).await;
    let second = secret(&app, &c.admin, &p.lines[1]).await;
    for (n, creds, name) in [(1, &first, "Front desk"), (2, &second, "Mary Smith")] {
        let key = |k: &str| format!("account.{n}.{k}");
        assert_eq!(cfg_value(&cfg, &key("enable")), Some("1"), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("user_name")), creds["username"].as_str(), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("auth_name")), creds["username"].as_str(), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("password")), creds["secret"].as_str(), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("display_name")), Some(name), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("label")), creds["extension"].as_str(), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("sip_server.1.address")), creds["domain"].as_str(), "{cfg}");
        assert_eq!(cfg_value(&cfg, &key("sip_server.1.port")), Some("5060"), "{cfg}");
    }
    // The third port is the user's but has no line: written empty. The
    // fourth is not the user's at all; the Web extension never appears.
    assert_eq!(cfg_value(&cfg, "account.3.enable"), Some("0"), "{cfg}");
    assert!(cfg.lines().any(|l| l == "account.3.password = "), "{cfg}");
    assert!(!cfg.contains("account.4."), "{cfg}");
    assert!(!cfg.contains(p.web["number"].as_str().unwrap()), "{cfg}");
    assert_eq!(cfg_value(&cfg, "local_time.time_zone"), Some("+1"), "{cfg}");
    assert_eq!(cfg_value(&cfg, "local_time.time_zone_name"), Some("Europe/Berlin"), "{cfg}");
    assert_eq!(cfg_value(&cfg, "lang.gui"), Some("German"), "{cfg}");

    // Any common spelling of the MAC address names the same file.
    let colons = format!("/provisioning/{}.cfg", p.device["mac"].as_str().unwrap().to_uppercase().replace(':', "-"));
    assert_eq!(fetch(&app, &colons, Some((&user, &password))).await.1, cfg);

    // The device view shows the credentials' username and the last fetch,
    // never the password; the audit log has every fetch.
    let device = app.get(&format!("/v1/devices/{}", id(&p.device)), &c.admin).await.expect(200);
    assert_eq!(device["provisioning"]["username"], user.as_str());
    assert_eq!(device["provisioning"]["last_fetch_ip"], "127.0.0.1");
    assert!(device["provisioning"]["last_fetch_at"].is_string(), "{device}");
    assert!(!device.to_string().contains(&password));
    let events = app.get("/v1/audit-events?action=device.provisioned", &c.admin).await.expect(200);
    assert_eq!(events["total"], 2, "{events}");
    let event = &events["items"][0];
    assert_eq!(event["target"]["id"], p.device["id"], "{event}");
    assert_eq!(event["details"]["user_id"], p.user["id"]);
    assert_eq!(event["details"]["extension_ids"], json!([p.lines[0]["id"], p.lines[1]["id"]]));
    let issued = app.get("/v1/audit-events?action=device.provisioning_credentials_issued", &c.admin).await.expect(200);
    assert_eq!(issued["total"], 1);
}

#[tokio::test]
async fn a_polycom_phone_gets_xml_that_parses() {
    let app = spawn_app_with(|s| {
        s.sip_server = Some("sip.example.net".into());
        s.sip_port = 5070;
    })
    .await;
    let c = app.customer().await;
    let p = phone(&app, &c).await;
    let (user, password, _) = issue(&app, &c.admin, &p.device).await;
    let (status, xml, reply) = fetch(&app, &file(&p.device, "xml"), Some((&user, &password))).await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(reply.headers["content-type"], "application/xml; charset=utf-8");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "polycomConfig");
    let element = |name: &str| root.children().find(|n| n.tag_name().name() == name).unwrap();
    let reg = element("reg");
    let first = secret(&app, &c.admin, &p.lines[0]).await;
    let second = secret(&app, &c.admin, &p.lines[1]).await;
    for (n, creds, name) in [(1, &first, "Front desk"), (2, &second, "Mary Smith")] {
        let attr = |k: &str| reg.attribute(format!("reg.{n}.{k}").as_str());
        assert_eq!(attr("address"), creds["username"].as_str());
        assert_eq!(attr("auth.userId"), creds["username"].as_str());
        assert_eq!(attr("auth.password"), creds["secret"].as_str());
        assert_eq!(attr("displayName"), Some(name));
        assert_eq!(attr("label"), creds["extension"].as_str());
        assert_eq!(attr("server.1.address"), creds["domain"].as_str());
        assert_eq!(attr("server.1.port"), Some("5070"));
        assert_eq!(attr("outboundProxy.address"), Some("sip.example.net"));
    }
    assert_eq!(reg.attribute("reg.3.address"), Some(""));
    assert_eq!(reg.attribute("reg.3.auth.password"), Some(""));
    assert!(reg.attributes().all(|a| !a.name().starts_with("reg.4.")), "{xml}");
    assert_eq!(element("tcpIpApp").attribute("tcpIpApp.sntp.gmtOffset"), Some("3600"));
    assert_eq!(element("lcl").attribute("lcl.ml.lang"), Some("German_Germany"));
}

#[tokio::test]
async fn a_phone_without_the_right_credentials_or_for_no_one_gets_nothing() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let p = phone(&app, &c).await;
    let path = file(&p.device, "cfg");
    let (user, password, _) = issue(&app, &c.admin, &p.device).await;

    // Missing, wrong, or not HTTP Basic: 401 with a Basic challenge.
    let bearer = app.client.get(app.url(&path)).bearer_auth(&c.admin).send().await.unwrap();
    for refused in [
        fetch(&app, &path, None).await.2,
        fetch(&app, &path, Some((&user, "vxprov_wrong"))).await.2,
        fetch(&app, &path, Some(("vxdevnobody", &password))).await.2,
        reply(bearer).await,
    ] {
        let challenge = refused.headers.get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
        refused.problem(401, "invalid_credentials");
        assert!(challenge.is_some_and(|c| c.starts_with("Basic realm=")));
    }

    // New credentials end the old ones.
    let (new_user, new_password, _) = issue(&app, &c.admin, &p.device).await;
    fetch(&app, &path, Some((&user, &password))).await.2.problem(401, "invalid_credentials");
    assert_eq!(fetch(&app, &path, Some((&new_user, &new_password))).await.0, 200);
    let creds = Some((new_user.as_str(), new_password.as_str()));

    // Unknown, another device's, another tenant's: one 404 for all.
    let other = app
        .post("/v1/devices", &c.admin, json!({"mac": mac_digits(), "vendor": "Yealink", "model": "T46U", "ports": 2}))
        .await
        .expect(201);
    let elsewhere = app.customer().await;
    let foreign = phone(&app, &elsewhere).await;
    let mut details = Vec::new();
    for path in [
        "/provisioning/0200deadbeef.cfg".to_owned(),
        "/provisioning/not-a-mac.cfg".to_owned(),
        file(&other, "cfg"),
        file(&foreign.device, "cfg"),
        file(&foreign.device, "xml"),
    ] {
        details.push(fetch(&app, &path, creds).await.2.problem(404, "not_found")["detail"].clone());
    }
    // A device serving nobody, or someone who may not sign in now.
    app.patch(&format!("/v1/users/{}", id(&p.user)), &c.admin, json!({"disabled": true})).await.expect(200);
    details.push(fetch(&app, &path, creds).await.2.problem(404, "not_found")["detail"].clone());
    app.patch(&format!("/v1/users/{}", id(&p.user)), &c.admin, json!({"disabled": false})).await.expect(200);
    assert_eq!(fetch(&app, &path, creds).await.0, 200);
    assert_eq!(app.delete(&format!("/v1/users/{}/device", id(&p.user)), &c.admin).await.status, 204);
    details.push(fetch(&app, &path, creds).await.2.problem(404, "not_found")["detail"].clone());
    assert!(details.windows(2).all(|w| w[0] == w[1]), "{details:?}");

    // Each refusal of known credentials is in the device's tenant's log.
    let failed = app.get("/v1/audit-events?action=device.provisioning_failed", &c.admin).await.expect(200);
    let reasons: Vec<&str> =
        failed["items"].as_array().unwrap().iter().map(|e| e["details"]["reason"].as_str().unwrap()).collect();
    for reason in ["wrong_password", "other_mac", "user_not_active", "unassigned"] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
    let theirs = app.get("/v1/audit-events?action=device.provisioning_failed", &elsewhere.admin).await.expect(200);
    assert_eq!(theirs["total"], 0, "a fetch with another tenant's credentials is not in their log");
}

#[tokio::test]
async fn a_phone_moved_to_another_user_serves_only_their_lines() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let p = phone(&app, &c).await;
    let (user, password, _) = issue(&app, &c.admin, &p.device).await;
    let path = file(&p.device, "cfg");
    let before = secret(&app, &c.admin, &p.lines[0]).await;
    assert!(fetch(&app, &path, Some((&user, &password))).await.1.contains(before["secret"].as_str().unwrap()));

    assert_eq!(app.delete(&format!("/v1/users/{}/device", id(&p.user)), &c.admin).await.status, 204);
    let n = unique().parse::<u64>().unwrap() % 10_000;
    let next = app
        .user(
            &c.admin,
            json!({"first_name": "Tom", "last_name": "Jones", "device": {"id": p.device["id"]},
                   "extension": {"number": format!("8{n:04}"), "type": "sip"}}),
        )
        .await;
    let theirs = secret(&app, &c.admin, &next["extensions"][0]).await;
    let (status, cfg, _) = fetch(&app, &path, Some((&user, &password))).await;
    assert_eq!(status, 200, "{cfg}");
    assert_eq!(cfg_value(&cfg, "account.1.user_name"), theirs["username"].as_str());
    assert_eq!(cfg_value(&cfg, "account.1.password"), theirs["secret"].as_str());
    assert_eq!(cfg_value(&cfg, "account.1.display_name"), Some("Tom Jones"));
    // All four ports are the new user's; only one has a line.
    for n in 2..=4 {
        assert_eq!(cfg_value(&cfg, &format!("account.{n}.enable")), Some("0"), "{cfg}");
    }
    for old in [&before, &secret(&app, &c.admin, &p.lines[1]).await] {
        assert!(!cfg.contains(old["secret"].as_str().unwrap()), "the old user's secret: {cfg}");
        assert!(!cfg.contains(old["username"].as_str().unwrap()), "the old user's line: {cfg}");
    }
}

#[tokio::test]
async fn failed_fetches_are_throttled_like_sign_ins() {
    let app = spawn_app_with(|s| {
        s.lockout_free_failures = 2;
        s.address_max_failures = 5;
    })
    .await;
    let c = app.customer().await;
    let p = phone(&app, &c).await;
    let (user, password, _) = issue(&app, &c.admin, &p.device).await;
    let path = file(&p.device, "cfg");
    for _ in 0..3 {
        fetch(&app, &path, Some((&user, "vxprov_guess"))).await.2.problem(401, "invalid_credentials");
    }
    // Locked out of these credentials at this address: the right password
    // is refused alike.
    fetch(&app, &path, Some((&user, &password))).await.2.problem(401, "invalid_credentials");
    // The address has failed too often: 429 for any credentials.
    fetch(&app, &path, Some(("vxdevsomeoneelse", "x"))).await.2.problem(401, "invalid_credentials");
    let limited = fetch(&app, &path, Some((&user, &password))).await.2;
    assert!(limited.headers.contains_key("retry-after"));
    limited.problem(429, "too_many_attempts");
}

#[tokio::test]
async fn issuing_credentials_needs_devices_write_and_extensions_secrets() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let p = phone(&app, &c).await;
    let path = format!("/v1/devices/{}/provisioning-credentials", id(&p.device));
    let role = app
        .post("/v1/roles", &c.admin, json!({"name": "Installer", "permissions": ["devices:read", "devices:write"]}))
        .await
        .expect(201);
    let installer = app.user(&c.admin, json!({"role_id": role["id"]})).await;
    let token = app.token(installer["login"].as_str().unwrap(), crate::helpers::PASSWORD).await;
    let refused = app.post(&path, &token, json!({})).await.problem(403, "permission_denied");
    assert_eq!(refused["missing_permissions"], json!(["extensions:secrets"]), "{refused}");
    assert!(
        app.get("/v1/audit-events?action=device.provisioning_credentials_issued", &c.admin).await.expect(200)["total"]
            == 0
    );
    let elsewhere = app.customer().await;
    app.post(&path, &elsewhere.admin, json!({})).await.problem(404, "not_found");
    app.post("/v1/devices/00000000-0000-7000-8000-000000000000/provisioning-credentials", &c.admin, json!({}))
        .await
        .problem(404, "not_found");
}
