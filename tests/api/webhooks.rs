//! Webhooks (issue 9): events signed by the Standard Webhooks
//! specification, verified here by the specification's own library
//! (`standardwebhooks`), delivered at least once to a real HTTP receiver
//! through outages, never to an address the operator does not allow, and
//! once across replicas.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, Ordering},
    },
    time::Duration,
};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::helpers::{
    Customer, PASSWORD, TestApp, fresh_database, id, spawn_app, spawn_app_with, spawn_with_settings, test_settings,
    unique,
};

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn webhook_id(&self) -> String {
        self.headers["webhook-id"].to_str().unwrap().to_owned()
    }
}

/// A local HTTP server that records what it is sent and answers the status
/// it is told to (200 unless told otherwise; `/moved` redirects).
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (g, s) = (got.clone(), status.clone());
        let server = HttpServer::new(move || {
            let (g, s) = (g.clone(), s.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (g, s) = (g.clone(), s.clone());
                async move {
                    let mut headers = http::HeaderMap::new();
                    for (name, value) in req.headers() {
                        headers.insert(
                            http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                            http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                        );
                    }
                    g.lock().unwrap().push(Received { path: req.path().to_owned(), headers, body: body.to_vec() });
                    if req.path() == "/moved" {
                        return HttpResponse::TemporaryRedirect().insert_header(("Location", "/elsewhere")).finish();
                    }
                    let code = actix_web::http::StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap();
                    HttpResponse::build(code).finish()
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .unwrap();
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        Self { port, got, status }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `enough` holds of what arrived, for at most 20 s.
    async fn wait_for(&self, what: &str, enough: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received();
            if enough(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the receiver never got {what}: {:#?}", self.received());
    }
}

/// Subscribes `url` to `types` with the customer's administrator.
async fn subscribe(app: &TestApp, c: &Customer, url: &str, types: &[&str]) -> Value {
    app.post("/v1/webhooks", &c.admin, json!({"url": url, "event_types": types})).await.expect(201)
}

fn verify(secret: &str, got: &Received) -> Result<(), standardwebhooks::WebhookError> {
    standardwebhooks::Webhook::new(secret).unwrap().verify(&got.body, &got.headers)
}

fn of_type<'a>(got: &'a [Received], event: &str) -> Vec<&'a Received> {
    got.iter().filter(|r| r.json()["type"] == event).collect()
}

#[tokio::test]
async fn events_are_signed_so_the_standard_webhooks_library_verifies_them() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let receiver = Receiver::start().await;
    let types = ["user.created", "user.updated", "user.disabled", "user.deleted", "extension.assigned"];
    let hook = subscribe(&app, &c, &receiver.url("/hook"), &types).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(hook["enabled"], true);
    let mut subscribed: Vec<&str> =
        hook["event_types"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    subscribed.sort_unstable();
    let mut asked = types.to_vec();
    asked.sort_unstable();
    assert_eq!(subscribed, asked);
    let shown = app.get(&format!("/v1/webhooks/{}", id(&hook)), &c.admin).await.expect(200);
    assert!(shown.get("secret").is_none(), "the secret is shown once: {shown}");
    let listed = app.get("/v1/webhooks", &c.admin).await.expect(200);
    assert_eq!(listed["total"], 1);
    assert!(!listed.to_string().contains(&secret));

    let n = unique();
    let user =
        app.user(&c.admin, json!({"extension": {"number": format!("7{}", &n[n.len() - 3..]), "type": "sip"}})).await;
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"disabled": true})).await.expect(200);
    app.delete(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(204);

    let got = receiver.wait_for("five events", |got| got.len() >= 5).await;
    assert_eq!(got.len(), 5, "{got:#?}");
    for event in &got {
        assert_eq!(event.path, "/hook");
        verify(&secret, event).unwrap_or_else(|e| panic!("{e:?}: {event:?}"));
        assert_eq!(event.headers["content-type"], "application/json");
        let body = event.json();
        assert!(body["timestamp"].as_str().unwrap().ends_with('Z'), "{body}");
        assert_eq!(body["data"]["id"], user["id"], "{body}");
        assert_eq!(body["data"]["tenant_id"], c.id.as_str(), "{body}");
    }
    let kinds: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    for t in types {
        assert!(kinds.iter().any(|k| k == t), "{t} in {kinds:?}");
    }
    let extension = of_type(&got, "extension.assigned");
    assert_eq!(extension[0].json()["data"]["extension_id"], user["extensions"][0]["id"]);
    assert!(of_type(&got, "user.updated")[0].json()["data"]["fields"].as_array().unwrap().contains(&json!("disabled")));

    // Anything changed in transit, or signed with another secret, fails.
    let mut tampered = got[0].clone();
    tampered.body = tampered.body.iter().map(|b| if *b == b'u' { b'U' } else { *b }).collect();
    assert!(verify(&secret, &tampered).is_err());
    let other =
        app.post("/v1/webhooks", &c.admin, json!({"url": receiver.url("/other"), "event_types": ["user.created"]}));
    let other = other.await.expect(201);
    assert!(verify(other["secret"].as_str().unwrap(), &got[0]).is_err());
    // Distinct events have distinct ids.
    let ids: std::collections::HashSet<String> = got.iter().map(Received::webhook_id).collect();
    assert_eq!(ids.len(), got.len());

    // The deliveries list shows each attempt.
    let deliveries = app.get(&format!("/v1/webhooks/{}/deliveries", id(&hook)), &c.admin).await.expect(200);
    assert_eq!(deliveries["total"], 5);
    for d in deliveries["items"].as_array().unwrap() {
        assert_eq!(d["state"], "delivered", "{d}");
        assert_eq!(d["attempts"][0]["status_code"], 200, "{d}");
        assert_eq!(d["attempts"][0]["succeeded"], true, "{d}");
        assert!(d["attempts"][0]["duration_ms"].is_u64(), "{d}");
        assert!(ids.contains(d["message_id"].as_str().unwrap()), "{d}");
    }
    let audit = app.get("/v1/audit-events?action=webhook.created", &c.admin).await.expect(200);
    assert_eq!(audit["total"], 2, "{audit}");

    // Settled deliveries show for 30 days, then go with their attempts.
    let path = format!("/v1/webhooks/{}/deliveries", id(&hook));
    app.voxport.purge(chrono::Utc::now() + chrono::Duration::days(29)).await.unwrap();
    assert_eq!(app.get(&path, &c.admin).await.expect(200)["total"], 5);
    app.voxport.purge(chrono::Utc::now() + chrono::Duration::days(31)).await.unwrap();
    assert_eq!(app.get(&path, &c.admin).await.expect(200)["total"], 0);
    let left = crate::helpers::stored_strings(&app, "SELECT CAST(COUNT(*) AS TEXT) FROM webhook_attempts").await;
    assert_eq!(left, ["0"]);
}

#[tokio::test]
async fn an_outage_delays_events_but_loses_none_and_a_retry_keeps_its_webhook_id() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let receiver = Receiver::start().await;
    let hook = subscribe(&app, &c, &receiver.url("/hook"), &["user.created"]).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    receiver.status.store(503, Ordering::SeqCst);

    let users: Vec<Value> = futures::future::join_all((0..3).map(|_| app.user(&c.admin, json!({})))).await;
    // Three events, each tried at least twice while the receiver is down.
    let down = receiver.wait_for("two failed attempts of each event", |got| {
        let mut tries: HashMap<String, usize> = HashMap::new();
        for r in got {
            *tries.entry(r.webhook_id()).or_default() += 1;
        }
        tries.len() == 3 && tries.values().all(|n| *n >= 2)
    });
    let down = down.await;
    let shown = app.get(&format!("/v1/webhooks/{}", id(&hook)), &c.admin).await.expect(200);
    assert!(shown["failing_since"].is_string(), "{shown}");
    receiver.status.store(200, Ordering::SeqCst);
    let before = down.len();

    // Back up: every event arrives, the same message as before.
    let deliveries =
        || async { app.get(&format!("/v1/webhooks/{}/deliveries", id(&hook)), &c.admin).await.expect(200) };
    for _ in 0..200 {
        let d = deliveries().await;
        if d["items"].as_array().unwrap().iter().all(|d| d["state"] == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = receiver.received();
    let mut delivered: Vec<String> = got[before..]
        .iter()
        .inspect(|r| verify(&secret, r).unwrap())
        .map(|r| r.json()["data"]["id"].to_string())
        .collect();
    delivered.sort();
    delivered.dedup();
    let mut created: Vec<String> = users.iter().map(|u| u["id"].to_string()).collect();
    created.sort();
    assert_eq!(delivered, created, "every event arrived after the outage");
    let first_ids: std::collections::HashSet<String> = down.iter().map(Received::webhook_id).collect();
    assert!(got[before..].iter().all(|r| first_ids.contains(&r.webhook_id())), "a retry carries the same webhook-id");

    let d = deliveries().await;
    let one = &d["items"][0];
    assert_eq!(one["state"], "delivered");
    let attempts = one["attempts"].as_array().unwrap();
    assert!(attempts.len() >= 3, "{one}");
    assert_eq!(attempts[0]["status_code"], 503);
    assert_eq!(attempts[0]["succeeded"], false);
    assert!(attempts[0]["error"].as_str().unwrap().contains("503"), "{one}");
    assert_eq!(attempts.last().unwrap()["status_code"], 200);
    let shown = app.get(&format!("/v1/webhooks/{}", id(&hook)), &c.admin).await.expect(200);
    assert!(shown["failing_since"].is_null(), "a success ends the failing streak: {shown}");

    // Sending one again by hand: a replay the receiver tells apart by its id.
    let count = receiver.received().len();
    let path = format!("/v1/webhooks/{}/deliveries/{}/retry", id(&hook), one["id"].as_str().unwrap());
    let due = app.post(&path, &c.admin, json!({})).await.expect(202);
    assert_eq!(due["state"], "pending");
    let again = receiver.wait_for("the retried delivery", |got| got.len() > count).await;
    assert_eq!(again[count].webhook_id(), one["message_id"].as_str().unwrap());
    verify(&secret, &again[count]).unwrap();
    let missing = format!("/v1/webhooks/{}/deliveries/{}/retry", id(&hook), uuid::Uuid::now_v7());
    app.post(&missing, &c.admin, json!({})).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_switched_off_and_its_administrators_are_emailed() {
    let app = spawn_app_with(|s| s.webhook_disable_after_seconds = 2).await;
    let c = app.customer().await;
    let receiver = Receiver::start().await;
    receiver.status.store(500, Ordering::SeqCst);
    let hook = subscribe(&app, &c, &receiver.url("/hook"), &["user.created", "user.deleted"]).await;
    let path = format!("/v1/webhooks/{}", id(&hook));
    // Several deliveries of one webhook fail in one batch: it is switched
    // off once, and its administrators are told once.
    let users: Vec<Value> = futures::future::join_all((0..4).map(|_| app.user(&c.admin, json!({})))).await;
    let user = &users[0];

    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = app.get(&path, &c.admin).await.expect(200);
        if shown["enabled"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown["enabled"], false, "{shown}");
    assert_eq!(shown["disabled_reason"], "failing");
    let deliveries = app.get(&format!("{path}/deliveries"), &c.admin).await.expect(200);
    assert!(deliveries["items"].as_array().unwrap().iter().all(|d| d["state"] == "failed"), "{deliveries}");
    let emails = app.get(&format!("/v1/users/{}/emails", c.admin_id), &c.admin).await.expect(200);
    let told = emails["items"].as_array().unwrap().iter().filter(|e| e["kind"] == "webhook_disabled").count();
    assert_eq!(told, 1, "the administrator is told once: {emails}");
    let audit = app.get("/v1/audit-events?action=webhook.disabled_for_failing", &c.admin).await.expect(200);
    assert_eq!(audit["total"], 1, "{audit}");

    // Switched off, it is sent nothing, even by hand; switched on, it is again.
    let count = receiver.received().len();
    app.delete(&format!("/v1/users/{}", id(user)), &c.admin).await.expect(204);
    let retry = format!("{path}/deliveries/{}/retry", deliveries["items"][0]["id"].as_str().unwrap());
    app.post(&retry, &c.admin, json!({})).await.problem(409, "webhook_disabled");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), count);
    receiver.status.store(200, Ordering::SeqCst);
    let on = app.patch(&path, &c.admin, json!({"enabled": true})).await.expect(200);
    assert!(on["failing_since"].is_null() && on["disabled_reason"].is_null(), "{on}");
    app.post(&retry, &c.admin, json!({})).await.expect(202);
    let got = receiver.wait_for("the retried event", |got| got.len() > count).await;
    assert_eq!(got.last().unwrap().json()["type"], "user.created");
}

#[tokio::test]
async fn only_https_to_public_addresses_unless_the_operator_allows_a_network() {
    // Nothing allowed: the production default.
    let app = spawn_app_with(|s| s.webhook_allowed_networks = Vec::new()).await;
    let c = app.customer().await;
    for url in [
        "http://crm.example.com/hook",
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hook",
        "https://user:pass@crm.example.com/hook",
        "ftp://crm.example.com/hook",
        "not a url",
    ] {
        let reply = app.post("/v1/webhooks", &c.admin, json!({"url": url, "event_types": ["user.created"]})).await;
        assert_eq!(reply.invalid_fields(), ["url"], "{url}");
    }
    let reply =
        app.post("/v1/webhooks", &c.admin, json!({"url": "https://crm.example.com/", "event_types": ["user.eaten"]}));
    assert_eq!(reply.await.invalid_fields(), ["event_types"]);
    let reply = app.post("/v1/webhooks", &c.admin, json!({"url": "https://crm.example.com/", "event_types": []}));
    assert_eq!(reply.await.invalid_fields(), ["event_types"]);
    subscribe(&app, &c, "https://crm.example.com/voxport", &["user.created"]).await;

    // Another network allowed: a name is checked on what it resolves to when
    // sending, so `localhost` (loopback, not allowed) is never connected to.
    let app = spawn_app_with(|s| s.webhook_allowed_networks = vec!["10.0.0.0/8".into()]).await;
    let c = app.customer().await;
    let receiver = Receiver::start().await;
    let url = format!("http://localhost:{}/hook", receiver.port);
    let hook = subscribe(&app, &c, &url, &["user.created"]).await;
    app.user(&c.admin, json!({})).await;
    let path = format!("/v1/webhooks/{}/deliveries", id(&hook));
    let mut attempt = Value::Null;
    for _ in 0..100 {
        let d = app.get(&path, &c.admin).await.expect(200);
        attempt = d["items"][0]["attempts"][0].clone();
        if !attempt.is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(attempt["succeeded"], false, "{attempt}");
    assert!(attempt["status_code"].is_null(), "{attempt}");
    assert!(attempt["error"].as_str().unwrap().contains("may be sent to"), "{attempt}");
    assert!(receiver.received().is_empty(), "nothing reached the loopback receiver");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let receiver = Receiver::start().await;
    let hook = subscribe(&app, &c, &receiver.url("/moved"), &["user.created"]).await;
    app.user(&c.admin, json!({})).await;
    let got = receiver.wait_for("the first attempt", |got| !got.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(receiver.received().iter().all(|r| r.path == "/moved"), "{got:?}");
    let d = app.get(&format!("/v1/webhooks/{}/deliveries", id(&hook)), &c.admin).await.expect(200);
    let attempt = &d["items"][0]["attempts"][0];
    assert_eq!(attempt["status_code"], 307, "{d}");
    assert_eq!(attempt["succeeded"], false);
}

#[tokio::test]
async fn two_replicas_deliver_each_event_once() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let one = spawn_with_settings(settings.clone(), dir).await;
    let two = spawn_with_settings(settings, None).await;
    let c = one.customer().await;
    let receiver = Receiver::start().await;
    subscribe(&one, &c, &receiver.url("/hook"), &["user.created"]).await;
    let made: Vec<Value> = futures::future::join_all((0..12).map(|i| {
        let app = if i % 2 == 0 { &one } else { &two };
        app.user(&c.admin, json!({}))
    }))
    .await;
    receiver.wait_for("twelve events", |got| got.len() >= 12).await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let got = receiver.received();
    let mut ids: Vec<String> = got.iter().map(Received::webhook_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (made.len(), made.len()), "each event once: {got:#?}");
}

#[tokio::test]
async fn webhooks_belong_to_their_tenant_and_need_their_permissions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let other = app.customer().await;
    let hook = subscribe(&app, &c, "https://crm.example.com/hook", &["user.created"]).await;
    let path = format!("/v1/webhooks/{}", id(&hook));
    app.get(&path, &other.admin).await.problem(404, "not_found");
    app.patch(&path, &other.admin, json!({"enabled": false})).await.problem(404, "not_found");
    app.delete(&path, &other.admin).await.problem(404, "not_found");
    app.get(&format!("{path}/deliveries"), &other.admin).await.problem(404, "not_found");
    assert_eq!(app.get("/v1/webhooks", &other.admin).await.expect(200)["total"], 0);

    let plain = app.user(&c.admin, json!({})).await;
    let token = app.token(plain["login"].as_str().unwrap(), PASSWORD).await;
    app.get("/v1/webhooks", &token).await.problem(403, "permission_denied");
    app.post("/v1/webhooks", &token, json!({"url": "https://a.example/", "event_types": ["user.created"]}))
        .await
        .problem(403, "permission_denied");
    let types = app.get("/v1/webhook-event-types", &c.admin).await.expect(200);
    assert!(types["items"].as_array().unwrap().iter().any(|t| t["code"] == "station.exhausted"), "{types}");

    let changed = app
        .patch(&path, &c.admin, json!({"event_types": ["user.deleted", "station.exhausted"], "description": "CRM"}))
        .await
        .expect(200);
    assert_eq!(changed["event_types"], json!(["user.deleted", "station.exhausted"]));
    assert_eq!(changed["description"], "CRM");
    app.delete(&path, &c.admin).await.expect(204);
    app.get(&path, &c.admin).await.problem(404, "not_found");
}

#[tokio::test]
async fn the_last_free_licence_of_a_pool_announces_the_pool_exhausted() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let receiver = Receiver::start().await;
    let hook = subscribe(&app, &c, &receiver.url("/hook"), &["station.exhausted", "station.assigned"]).await;
    let n = unique();
    let station = app
        .post(
            "/v1/stations",
            &app.operator,
            json!({"tenant_id": c.id, "name": format!("Pool {n}"), "code": format!("pool-{n}"),
                   "applications": ["desktop_app"], "quantity": 2}),
        )
        .await
        .expect(201);
    for number in ["801", "802"] {
        app.user(&c.admin, json!({"station_id": station["id"], "extension": {"number": number, "type": "sip"}})).await;
    }
    let got = receiver.wait_for("two assignments and one exhaustion", |got| got.len() >= 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let exhausted = of_type(&got, "station.exhausted");
    assert_eq!(exhausted.len(), 1, "{got:#?}");
    assert_eq!(exhausted[0].json()["data"]["id"], station["id"]);
    assert_eq!(exhausted[0].json()["data"]["quantity"], 2);
    assert_eq!(of_type(&got, "station.assigned").len(), 2);
    verify(hook["secret"].as_str().unwrap(), exhausted[0]).unwrap();
}
