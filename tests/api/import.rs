//! Bulk onboarding (issue 13): a file of one-call set-ups, each row held
//! to the rules of `POST /v1/users` and the file as a whole too; CSV
//! export that re-imports.

use serde_json::{Value, json};

use crate::helpers::{Customer, PASSWORD, Reply, TestApp, id, reply, spawn_app, unique};

async fn import(app: &TestApp, token: &str, query: &str, content_type: &str, body: String) -> Reply {
    let req = app
        .client
        .post(app.url(&format!("/v1/users/import{query}")))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body);
    reply(req.send().await.unwrap()).await
}

async fn csv(app: &TestApp, c: &Customer, query: &str, body: String) -> Reply {
    import(app, &c.admin, query, "text/csv", body).await
}

async fn total(app: &TestApp, c: &Customer) -> u64 {
    app.get("/v1/users?per_page=1", &c.admin).await.expect(200)["total"].as_u64().unwrap()
}

/// A pool of `quantity` with `code` for the customer.
async fn pool(app: &TestApp, c: &Customer, code: &str, quantity: u32) -> Value {
    app.post(
        "/v1/stations",
        &app.operator,
        json!({"tenant_id": c.id, "name": format!("Pool {code}"), "code": code,
               "applications": ["desktop_app", "web_dialer"], "quantity": quantity}),
    )
    .await
    .expect(201)
}

/// The CSV export of the customer's users matching `q`.
async fn export(app: &TestApp, c: &Customer, q: &str) -> String {
    let exported = app
        .client
        .get(app.url(&format!("/v1/users?q={q}")))
        .bearer_auth(&c.admin)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(exported.status(), 200);
    assert!(exported.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    exported.text().await.unwrap()
}

const HEADER: &str = "login,email,first_name,last_name,role,extension,station,applications\n";

fn agents(n: usize, prefix: &str, station: &str) -> String {
    let mut file = HEADER.to_owned();
    for i in 0..n {
        file.push_str(&format!(
            "{prefix}{i}@example.com,{prefix}{i}@example.com,Agent,Number {i},User,{},{station},desktop_app\n",
            300 + i
        ));
    }
    file
}

#[tokio::test]
async fn a_200_row_file_sets_up_200_agents_with_extensions_and_licences() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let code = format!("std-{}", unique());
    pool(&app, &c, &code, 200).await;
    let before = total(&app, &c).await;
    let prefix = format!("agent{}-", unique());

    let dry = csv(&app, &c, "?dry_run=true", agents(200, &prefix, &code)).await.expect(200);
    assert_eq!(
        (dry["created"].as_u64(), dry["failed"].as_u64(), dry["committed"].as_bool()),
        (Some(200), Some(0), Some(false))
    );
    assert_eq!(total(&app, &c).await, before, "a dry run writes nothing");

    let done = csv(&app, &c, "", agents(200, &prefix, &code)).await.expect(201);
    assert_eq!((done["created"].as_u64(), done["failed"].as_u64()), (Some(200), Some(0)), "{done}");
    assert_eq!(done["emails_queued"], 200);
    assert_eq!(total(&app, &c).await, before + 200);
    let first = &done["users"][0];
    assert_eq!(first["row"], 2, "the first record is line 2");
    let user = app.get(&format!("/v1/users/{}", first["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(user["extensions"][0]["number"], "300");
    assert_eq!(user["applications"], json!(["desktop_app"]));
    assert_eq!(user["role"]["name"], "User");
    let stations = app.get("/v1/stations", &c.admin).await.expect(200);
    let ours = stations["items"].as_array().unwrap().iter().find(|s| s["code"] == code.as_str()).unwrap().clone();
    assert_eq!(ours["available"], 0);
    let audit = app.get("/v1/audit-events?action=users.imported", &c.admin).await.expect(200);
    assert_eq!(audit["items"][0]["details"]["created"], 200, "{audit}");
    let audit = app.get("/v1/audit-events?action=user.created&per_page=1", &c.admin).await.expect(200);
    assert!(audit["total"].as_u64().unwrap() >= 200);
}

#[tokio::test]
async fn a_file_failing_on_its_last_row_writes_nothing() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let before = total(&app, &c).await;
    let prefix = format!("late{}-", unique());
    let mut file = agents(5, &prefix, "").replace(",,desktop_app", ",,");
    file.push_str(&format!("{prefix}x@example.com,,Last,Row,Astronaut,399,,\n"));
    let refused = csv(&app, &c, "", file).await;
    let body = refused.problem(422, "import_rejected");
    assert_eq!(
        body["row_errors"],
        json!([{"row": 7, "column": "role", "code": "role_not_found",
        "message": "no role named \"Astronaut\" in the tenant"}])
    );
    assert_eq!(total(&app, &c).await, before, "all or nothing");
    let extensions = app.get("/v1/extensions?per_page=200", &c.admin).await.expect(200);
    assert!(!extensions.to_string().contains("\"300\""), "no extension was left behind");
}

#[tokio::test]
async fn per_row_creates_the_rows_that_pass_and_reports_the_others() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let taken = app.user(&c.admin, json!({})).await;
    // The tenant's webhook hears of each user created, read once for the
    // whole file.
    let hook = json!({"url": "http://127.0.0.1:9/hook", "event_types": ["user.created"]});
    let hook = app.post("/v1/webhooks", &c.admin, hook).await.expect(201);
    let prefix = format!("per{}-", unique());
    let file = format!(
        "login,first_name,last_name,password,extension\n\
         {prefix}a,Ann,A,{PASSWORD},401\n\
         {},Bob,B,{PASSWORD},402\n\
         {prefix}c,Cid,C,short,403\n\
         {prefix}d,Dee,D,{PASSWORD},404\n",
        taken["login"].as_str().unwrap()
    );
    let done = csv(&app, &c, "?mode=per_row", file).await.expect(201);
    assert_eq!((done["created"].as_u64(), done["failed"].as_u64()), (Some(2), Some(2)), "{done}");
    let errors = done["errors"].as_array().unwrap();
    assert_eq!(
        (errors[0]["row"].as_u64(), errors[0]["column"].as_str(), errors[0]["code"].as_str()),
        (Some(3), Some("login"), Some("login_taken"))
    );
    assert_eq!((errors[1]["row"].as_u64(), errors[1]["column"].as_str()), (Some(4), Some("password")));
    let logins: Vec<&str> = done["users"].as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, [format!("{prefix}a"), format!("{prefix}d")]);
    // The failed rows left nothing behind: their extensions are free.
    let ext = app.post("/v1/extensions", &c.admin, json!({"number": "402", "type": "sip"})).await;
    ext.expect(201);
    app.login(&format!("{prefix}d"), PASSWORD).await.expect(200);
    let deliveries = app.get(&format!("/v1/webhooks/{}/deliveries", id(&hook)), &c.admin).await.expect(200);
    assert_eq!(deliveries["total"], 2, "one per user created: {deliveries}");
}

#[tokio::test]
async fn rows_that_ask_for_the_same_thing_or_more_licences_than_are_left_are_refused() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let code = format!("two-{}", unique());
    pool(&app, &c, &code, 2).await;
    let n = unique();
    let mac = format!("00:15:65:{:02x}:{:02x}:{:02x}", n.len(), n.as_bytes()[0], n.as_bytes()[n.len() - 1]);
    app.post("/v1/devices", &c.admin, json!({"mac": mac, "vendor": "Yealink", "model": "T54W", "ports": 2}))
        .await
        .expect(201);
    let digits = format!("{:08}", n.parse::<u64>().unwrap() % 100_000_000);
    app.post("/v1/phone-numbers", &app.operator, json!({"number": format!("+4930{digits}"), "tenant_id": c.id}))
        .await
        .expect(201);
    let (spaced, dialled) = (format!("+49 30 {} {}", &digits[..4], &digits[4..]), format!("0049 30{digits}"));
    let p = format!("dup{n}-");
    let file = format!(
        "login,email,first_name,last_name,extension,station,device_mac,phone_number\n\
         {p}a,{p}a@example.com,A,A,501,{code},{mac},{spaced}\n\
         {p}a,{p}b@example.com,B,B,502,,,\n\
         {p}c,{p}c@example.com,C,C,501,,,\n\
         {p}d,{p}d@example.com,D,D,504,{code},{},\n\
         {p}e,{p}e@example.com,E,E,505,{code},,\n\
         {p}f,{p}f@example.com,F,F,506,{code},,\n\
         {p}g,{p}g@example.com,G,G,507,nope,,\n\
         {p}h,{p}h@example.com,H,H,508,,,{dialled}\n\
         {p}i,{p}i@example.com,I,I,509,,,+1 415 555 0199\n",
        mac.to_uppercase().replace(':', "-")
    );
    let dry = csv(&app, &c, "?dry_run=true", file.clone()).await.problem(422, "import_rejected");
    let errors: Vec<(u64, &str, &str)> = dry["row_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "login", "duplicate_in_file"),
            (4, "extension", "duplicate_in_file"),
            (5, "device_mac", "duplicate_in_file"),
            (7, "station", "station_unavailable"),
            (8, "station", "station_not_found"),
            (9, "phone_number", "duplicate_in_file"),
            (10, "phone_number", "phone_number_not_found"),
        ],
        "{dry}"
    );
    assert!(dry["row_errors"][0]["message"].as_str().unwrap().contains("row 2"), "{dry}");
    csv(&app, &c, "", file).await.problem(422, "import_rejected");
    assert_eq!(total(&app, &c).await, 1, "only the administrator");
}

#[tokio::test]
async fn a_semicolon_file_with_a_bom_as_a_spreadsheet_saves_it() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let p = format!("excel{}-", unique());
    let file = format!(
        "\u{feff}Login;Email;First_Name;Last_Name;Extension;Send_Welcome_Email;Password\r\n\
         {p}a;{p}a@example.com;Zoë;Ünal;601;no;{PASSWORD}\r\n\
         {p}b;{p}b@example.com;\"Jean; Luc\";Picard;602;yes;\r\n\
         ;;;;;;\r\n\
         {p}c;;Nobody;Emailed;603;no;\r\n"
    );
    let dry = csv(&app, &c, "?dry_run=true", file.clone()).await.problem(422, "import_rejected");
    assert_eq!(dry["row_errors"][0]["row"], 5, "the fifth line; the empty fourth is no row: {dry}");
    assert_eq!(dry["row_errors"].as_array().unwrap().len(), 1);
    assert_eq!(dry["row_errors"][0]["column"], "password");
    let file = file.lines().take(3).map(|l| format!("{l}\n")).collect::<String>();
    let done = csv(&app, &c, "", file).await;
    let done = done.expect(201);
    assert_eq!((done["created"].as_u64(), done["emails_queued"].as_u64()), (Some(2), Some(1)), "{done}");
    let zoe = app.get(&format!("/v1/users/{}", done["users"][0]["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!((zoe["first_name"].as_str(), zoe["last_name"].as_str()), (Some("Zoë"), Some("Ünal")));
    let jean = app.get(&format!("/v1/users/{}", done["users"][1]["id"].as_str().unwrap()), &c.admin).await.expect(200);
    assert_eq!(jean["first_name"], "Jean; Luc");
}

#[tokio::test]
async fn the_file_itself_must_be_readable_with_known_columns() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let body = csv(&app, &c, "", "login,first_name,last_name,shoe_size,fax\nx,y,z,9,1\n".into()).await;
    let body = body.problem(422, "validation_failed");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("shoe_size, fax"), "{body}");
    import(&app, &c.admin, "", "text/plain", "login\n".into()).await.problem(415, "unsupported_media_type");
    let twice = csv(&app, &c, "", "login,first_name,last_name,login\nx,y,z,w\n".into()).await;
    assert!(twice.problem(422, "validation_failed")["errors"][0]["message"].as_str().unwrap().contains("twice"));
    let empty = csv(&app, &c, "", HEADER.into()).await.problem(422, "validation_failed");
    assert!(empty["errors"][0]["message"].as_str().unwrap().contains("no rows"), "{empty}");
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    import(&app, &token, "", "text/csv", HEADER.into()).await.problem(403, "permission_denied");
    let big = format!("{HEADER}{}", "a,,b,c,,,,\n".repeat(100_001));
    csv(&app, &c, "", big).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn a_json_array_of_set_up_bodies_imports_too() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let p = format!("json{}-", unique());
    let body = json!([
        {"login": format!("{p}a"), "first_name": "A", "last_name": "A", "password": PASSWORD,
         "extension": {"number": "701", "type": "sip"}},
        {"login": format!("{p}b"), "first_name": "B", "last_name": "B", "password": PASSWORD, "role_id": uuid::Uuid::nil()},
    ]);
    let refused =
        import(&app, &c.admin, "", "application/json", body.to_string()).await.problem(422, "import_rejected");
    assert_eq!(refused["row_errors"][0]["row"], 2);
    assert_eq!(refused["row_errors"][0]["code"], "role_not_found");
    let done = import(&app, &c.admin, "?mode=per_row", "application/json", body.to_string()).await.expect(201);
    assert_eq!(done["created"], 1);

    // A generated password is shown in the answer; a file large enough to
    // run as a job has none to show it in, so it may not ask for one.
    let mut many: Vec<Value> = (0..1_001)
        .map(|i| json!({"login": format!("{p}many{i}"), "first_name": "M", "last_name": "Any", "password": PASSWORD}))
        .collect();
    many[5] = json!({"login": format!("{p}gen"), "first_name": "G", "last_name": "En", "generate_password": true});
    let fields = import(&app, &c.admin, "", "application/json", json!(many).to_string()).await.invalid_fields();
    assert_eq!(fields, ["[5].generate_password"]);
}

#[tokio::test]
async fn an_export_re_imports_into_another_tenant_with_the_same_roles_and_codes() {
    let app = spawn_app().await;
    let from = app.customer().await;
    let to = app.customer().await;
    let code = format!("move-{}", unique());
    pool(&app, &from, &code, 5).await;
    pool(&app, &to, &code, 5).await;
    let prefix = format!("mover{}-", unique());
    csv(&app, &from, "", agents(3, &prefix, &code)).await.expect(201);
    let file = export(&app, &from, &prefix).await;
    let lines: Vec<&str> = file.lines().collect();
    assert_eq!(lines.len(), 4, "{file}");
    assert!(lines[0].starts_with("login,email,first_name,last_name,role,password,extension"));
    assert!(lines[1].contains(&code) && lines[1].contains(",300,sip,"), "{file}");
    // Logins are platform-wide: the users leave the first tenant, then
    // arrive in the other.
    let listed = app.get(&format!("/v1/users?q={prefix}"), &from.admin).await.expect(200);
    for u in listed["items"].as_array().unwrap() {
        app.delete(&format!("/v1/users/{}", u["id"].as_str().unwrap()), &from.admin).await.expect(204);
    }
    let done = csv(&app, &to, "", file).await.expect(201);
    assert_eq!(done["created"], 3, "{done}");
    let moved = app.get(&format!("/v1/users?q={prefix}"), &to.admin).await.expect(200);
    assert_eq!(moved["total"], 3);
    assert_eq!(moved["items"][0]["extensions"][0]["number"], "300");
    assert_eq!(moved["items"][0]["applications"], json!(["desktop_app"]));
}

#[tokio::test]
async fn an_export_writes_every_user_once_in_login_order_across_its_pages() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let code = format!("pages-{}", unique());
    pool(&app, &c, &code, 400).await;
    let prefix = format!("paged{}-", unique());
    // Two full pages of 200: the export ends on an empty third.
    csv(&app, &c, "", agents(400, &prefix, &code)).await.expect(201);
    let file = export(&app, &c, &prefix).await;
    let logins: Vec<&str> = file.lines().skip(1).map(|l| l.split(',').next().unwrap()).collect();
    // In the order the list sorts logins by (the database's collation).
    let mut listed = Vec::new();
    for page in 1..=2 {
        let users = app.get(&format!("/v1/users?q={prefix}&sort=login&per_page=200&page={page}"), &c.admin).await;
        let users = users.expect(200);
        listed.extend(users["items"].as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap().to_owned()));
    }
    assert_eq!(logins, listed);
    let mut each: Vec<&str> = logins.clone();
    each.sort_unstable();
    each.dedup();
    assert_eq!(each.len(), 400, "every user once");
}
