//! Portal users (PRODUCT.md rules 1, 6, 7; SECURITY.md "Access control").

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, spawn_app, unique};

fn id(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn an_admin_creates_a_user_who_then_signs_in_and_sees_themself() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let reply = app
        .post(
            "/v1/users",
            &c.admin,
            json!({"email": "jsmith@acme.example", "first_name": "John", "last_name": "Smith", "password": PASSWORD,
                   "timezone": "Europe/Berlin", "language": "de"}),
        )
        .await;
    assert_eq!(
        reply.headers["location"].to_str().unwrap(),
        format!("/v1/users/{}", reply.body["id"].as_str().unwrap())
    );
    let user = reply.expect(201);
    assert_eq!(user["login"], "jsmith@acme.example", "the login defaults to the email");
    assert_eq!(user["role"]["name"], "User", "the role defaults to User");
    assert_eq!(user["status"], "active");
    assert_eq!(user["timezone"], "Europe/Berlin");
    assert!(user.get("password").is_none(), "a given password is never echoed");

    let token = app.token("jsmith@acme.example", PASSWORD).await;
    let me = app.get("/v1/me", &token).await.expect(200);
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["permissions"], json!(["call_records:read_own"]));
    assert_eq!(app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200), {
        let mut shown = me.clone();
        shown.as_object_mut().unwrap().remove("permissions");
        shown.as_object_mut().unwrap().remove("tenant_id");
        shown
    });
}

#[tokio::test]
async fn a_generated_password_is_returned_once_and_works() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app
        .user(&c.admin, json!({"password": null, "generate_password": true, "login": format!("gen{}", unique())}))
        .await;
    let password = user["password"].as_str().unwrap();
    assert!(password.chars().count() >= 12);
    app.token(user["login"].as_str().unwrap(), password).await;
    let again = app.get(&format!("/v1/users/{}", id(&user)), &c.admin).await.expect(200);
    assert!(again.get("password").is_none());
}

#[tokio::test]
async fn a_user_without_email_needs_a_password() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let body = json!({"login": format!("noemail{}", unique()), "first_name": "No", "last_name": "Mail"});
    assert_eq!(app.post("/v1/users", &c.admin, body.clone()).await.invalid_fields(), ["password"]);
    let mut with = body;
    with["password"] = json!(PASSWORD);
    let user = app.post("/v1/users", &c.admin, with).await.expect(201);
    assert_eq!(user["email"], Value::Null);
}

#[tokio::test]
async fn logins_are_unique_across_tenants_and_case() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    let login = format!("Reception{}", unique());
    app.user(&a.admin, json!({"login": login})).await;
    for (token, spelling) in
        [(&a.admin, login.clone()), (&b.admin, login.to_lowercase()), (&b.admin, login.to_uppercase())]
    {
        app.post(
            "/v1/users",
            token,
            json!({"login": spelling, "first_name": "X", "last_name": "Y", "password": PASSWORD}),
        )
        .await
        .problem(409, "login_taken");
    }
    // Renaming onto a taken login is refused too.
    let other = app.user(&b.admin, json!({})).await;
    app.patch(&format!("/v1/users/{}", id(&other)), &b.admin, json!({"login": login.to_lowercase()}))
        .await
        .problem(409, "login_taken");
}

#[tokio::test]
async fn another_tenants_user_is_a_404_for_every_verb() {
    let app = spawn_app().await;
    let a = app.customer().await;
    let b = app.customer().await;
    let theirs = app.user(&b.admin, json!({})).await;
    let path = format!("/v1/users/{}", id(&theirs));
    app.get(&path, &a.admin).await.problem(404, "not_found");
    app.patch(&path, &a.admin, json!({"first_name": "Mine"})).await.problem(404, "not_found");
    app.delete(&path, &a.admin).await.problem(404, "not_found");
    let list = app.get("/v1/users?per_page=200", &a.admin).await.expect(200);
    assert!(list["items"].as_array().unwrap().iter().all(|u| u["id"] != theirs["id"]));
    // Nor can a's admin grant b's roles.
    let b_role = app.role_id(&b.admin, "User").await;
    app.post(
        "/v1/users",
        &a.admin,
        json!({"login": format!("x{}", unique()), "first_name": "X", "last_name": "Y", "password": PASSWORD, "role_id": b_role}),
    )
    .await
    .problem(404, "role_not_found");
}

#[tokio::test]
async fn paging_through_users_who_share_a_name_shows_each_once_in_either_direction() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let n = unique();
    let mut made = Vec::new();
    for i in 0..7 {
        let user = app.user(&c.admin, json!({"login": format!("tie{n}-{i}"), "last_name": "Same"})).await;
        made.push(user["id"].as_str().unwrap().to_owned());
    }
    made.sort();
    for sort in ["last_name", "-last_name"] {
        let mut seen = Vec::new();
        for page in 1..=4 {
            let path = format!("/v1/users?q=tie{n}-&sort={sort}&per_page=2&page={page}");
            let body = app.get(&path, &c.admin).await.expect(200);
            assert_eq!(body["total"], 7, "{sort}");
            seen.extend(body["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(sorted, made, "{sort}: every user once, over the pages");
        let mut expected = made.clone();
        if sort.starts_with('-') {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{sort}: ties by id, in the sort's direction");
    }
}

#[tokio::test]
async fn the_list_pages_sorts_searches_and_filters() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let n = unique();
    let cc_role = app.role_id(&c.admin, "Call Center Admin").await;
    let past = (Utc::now() - Duration::days(1)).to_rfc3339();
    let future = (Utc::now() + Duration::days(1)).to_rfc3339();
    for (i, extra) in [
        json!({}),
        json!({"role_id": cc_role}),
        json!({"expires_at": past}),
        json!({"activation_at": future}),
        json!({"disabled": true}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = extra;
        body["login"] = json!(format!("zz{n}-{i}"));
        body["last_name"] = json!(format!("Lovelace{i}"));
        app.user(&c.admin, body).await;
    }
    // 5 users and the admin.
    let all = app.get("/v1/users", &c.admin).await.expect(200);
    assert_eq!((all["total"].as_u64(), all["page"].as_u64(), all["per_page"].as_u64()), (Some(6), Some(1), Some(50)));

    let page = app.get("/v1/users?per_page=2&page=2&sort=login", &c.admin).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 6);
    // A page past the last is empty and still says how many there are,
    // whichever way the total is read: the tenant's count, the matches of
    // `q`, a count of the filter's own.
    let by_role = format!("&role={cc_role}");
    for (filter, total) in [("", 6_u64), ("&q=zz", 5), (by_role.as_str(), 1), ("&q=nobody-at-all", 0)] {
        for page in [1, 9] {
            let listed = app.get(&format!("/v1/users?per_page=5&page={page}{filter}"), &c.admin).await.expect(200);
            let shown = u64::try_from(listed["items"].as_array().unwrap().len()).unwrap();
            let want = if page == 1 { total.min(5) } else { 0 };
            assert_eq!((shown, listed["total"].as_u64()), (want, Some(total)), "page {page}{filter}");
        }
    }

    let desc = app.get("/v1/users?sort=-login&q=zz", &c.admin).await.expect(200);
    let logins: Vec<&str> = desc["items"].as_array().unwrap().iter().map(|u| u["login"].as_str().unwrap()).collect();
    assert_eq!(logins, (0..5).rev().map(|i| format!("zz{n}-{i}")).collect::<Vec<_>>());

    let q = app.get("/v1/users?q=LOVELACE3", &c.admin).await.expect(200);
    assert_eq!(q["total"], 1, "q matches names without regard to case");
    let wildcard = app.get("/v1/users?q=%25", &c.admin).await.expect(200);
    assert_eq!(wildcard["total"], 0, "a % in q is a literal percent sign");

    // q follows a rename and finds an email by any part of it.
    let renamed = &q["items"][0]["id"];
    app.patch(
        &format!("/v1/users/{}", renamed.as_str().unwrap()),
        &c.admin,
        json!({"last_name": "Ångström", "email": format!("ada.{n}@Example.org")}),
    )
    .await
    .expect(200);
    assert_eq!(app.get("/v1/users?q=lovelace3", &c.admin).await.expect(200)["total"], 0, "the old name is gone");
    let by_new_name = app.get("/v1/users?q=ÅNGSTR", &c.admin).await.expect(200);
    assert_eq!(by_new_name["items"][0]["id"], *renamed, "case folds beyond ASCII");
    let by_email = app.get(&format!("/v1/users?q=a.{n}@example"), &c.admin).await.expect(200);
    assert_eq!(by_email["items"][0]["id"], *renamed);

    let by_role = app.get(&format!("/v1/users?role={cc_role}"), &c.admin).await.expect(200);
    assert_eq!(by_role["total"], 1);
    for (status, want) in [("active", 3), ("expired", 1), ("pending", 1), ("disabled", 1)] {
        let list = app.get(&format!("/v1/users?status={status}"), &c.admin).await.expect(200);
        assert_eq!(list["total"], want, "status={status}");
        for u in list["items"].as_array().unwrap() {
            assert_eq!(u["status"], status, "the filter agrees with the status column");
        }
    }
}

#[tokio::test]
async fn invalid_list_parameters_are_422_naming_the_parameter() {
    let app = spawn_app().await;
    let cases = [
        ("page=0", "page"),
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("page=abc", "page"),
        ("sort=password_hash", "sort"),
        ("status=sleeping", "status"),
        ("role=not-a-uuid", "role"),
        ("bogus=1", "bogus"),
    ];
    for (query, field) in cases {
        let fields = app.get(&format!("/v1/users?{query}"), &app.operator).await.invalid_fields();
        assert_eq!(fields, [field], "{query}");
    }
}

#[tokio::test]
async fn invalid_user_fields_are_422_naming_each_field() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let ok =
        || json!({"login": format!("valid{}", unique()), "first_name": "A", "last_name": "B", "password": PASSWORD});
    let with = |key: &str, value: Value| {
        let mut b = ok();
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = ok();
        b.as_object_mut().unwrap().remove(key);
        b
    };
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("a login over 64 characters", with("login", json!("l".repeat(65))), vec!["login"]),
        ("a login with spaces", with("login", json!("john smith")), vec!["login"]),
        ("an empty login", with("login", json!("")), vec!["login"]),
        ("a malformed email", with("email", json!("not-an-email")), vec!["email"]),
        ("an email with a header break", with("email", json!("a@b.example\r\nBcc: x@evil.example")), vec!["email"]),
        ("a name with a line break", with("first_name", json!("Ada\nBcc: x")), vec!["first_name"]),
        ("an empty last name", with("last_name", json!("  ")), vec!["last_name"]),
        ("no first name", without("first_name"), vec!["first_name"]),
        ("neither login nor email", without("login"), vec!["login"]),
        ("an unknown time zone", with("timezone", json!("Mars/Olympus")), vec!["timezone"]),
        ("an unsupported language", with("language", json!("tlh")), vec!["language"]),
        ("a short password", with("password", json!("short")), vec!["password"]),
        ("a common password", with("password", json!("password1234")), vec!["password"]),
        ("a password of 129 characters", with("password", json!("p".repeat(129))), vec!["password"]),
        ("password and generate_password", with("generate_password", json!(true)), vec!["generate_password"]),
        ("an unknown field", with("is_superuser", json!(true)), vec!["is_superuser"]),
        (
            "a tenant_id (no mass assignment)",
            with("tenant_id", json!("0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10")),
            vec!["tenant_id"],
        ),
        ("a malformed role id", with("role_id", json!("admin")), vec!["role_id"]),
        ("a malformed date", with("expires_at", json!("tomorrow")), vec!["expires_at"]),
        ("a number for a name", with("first_name", json!(42)), vec!["first_name"]),
        (
            "an expiry before the activation",
            with("expires_at", json!("2030-01-01T00:00:00Z"))
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.insert("activation_at".into(), json!("2031-01-01T00:00:00Z"));
                    Value::Object(o)
                })
                .unwrap(),
            vec!["expires_at"],
        ),
    ];
    let before = app.get("/v1/users", &c.admin).await.expect(200)["total"].as_u64();
    for (why, body, fields) in cases {
        let got = app.post("/v1/users", &c.admin, body).await.invalid_fields();
        assert_eq!(got, fields, "{why}");
    }
    // A well-formed reference to a role the tenant lacks is not a field error.
    app.post("/v1/users", &c.admin, with("role_id", json!("0192f0c4-7a4e-7cc1-9a51-2c1d1c1e8a10")))
        .await
        .problem(404, "role_not_found");
    let after = app.get("/v1/users", &c.admin).await.expect(200)["total"].as_u64();
    assert_eq!(before, after, "no invalid request created anything");

    // Several bad fields are named together.
    let got = app
        .post("/v1/users", &c.admin, json!({"email": "bad", "first_name": "", "last_name": "B", "timezone": "X"}))
        .await
        .invalid_fields();
    assert_eq!(got, ["email", "first_name", "timezone"]);
}

#[tokio::test]
async fn a_guessable_password_is_refused_saying_why() {
    let app = spawn_app().await;
    let c = app.customer().await;
    for weak in ["Password1234", "qwertyuiop123", "aaaaaaaaaaaaaa", "iloveyou2026"] {
        let body =
            json!({"login": format!("guess{}", unique()), "first_name": "G", "last_name": "Uess", "password": weak});
        let refused = app.post("/v1/users", &c.admin, body).await.problem(422, "validation_failed");
        assert_eq!(refused["errors"][0]["field"], "password", "{weak}: {refused}");
        let message = refused["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("too easy to guess") && message.contains("of 4"), "{weak}: {message}");
    }
    let strong = json!({"login": format!("strong{}", unique()), "first_name": "S", "last_name": "Trong",
        "password": "violet-fjord-umbra-29"});
    app.post("/v1/users", &c.admin, strong).await.expect(201);
}

#[tokio::test]
async fn a_password_containing_the_users_own_login_or_name_is_refused() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let login = format!("margaret{}", unique());
    let body = json!({"login": login, "first_name": "Margaret", "last_name": "Hamilton", "password": format!("{login}-apollo11")});
    assert_eq!(app.post("/v1/users", &c.admin, body).await.invalid_fields(), ["password"]);
    let body =
        json!({"login": login, "first_name": "Margaret", "last_name": "Hamilton", "password": "hamilton-apollo-11"});
    assert_eq!(app.post("/v1/users", &c.admin, body).await.invalid_fields(), ["password"]);
}

#[tokio::test]
async fn patch_changes_only_the_fields_given_and_null_clears() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({"expires_at": "2030-01-01T00:00:00Z"})).await;
    let path = format!("/v1/users/{}", id(&user));
    let changed = app.patch(&path, &c.admin, json!({"first_name": "Grace", "language": "fr"})).await.expect(200);
    assert_eq!((changed["first_name"].as_str(), changed["last_name"].as_str()), (Some("Grace"), Some("User")));
    assert_eq!(changed["language"], "fr");
    assert_eq!(changed["expires_at"], "2030-01-01T00:00:00Z");
    let cleared = app.patch(&path, &c.admin, json!({"expires_at": null, "email": null})).await.expect(200);
    assert_eq!((cleared["expires_at"].clone(), cleared["email"].clone()), (Value::Null, Value::Null));
    assert_eq!(app.patch(&path, &c.admin, json!({"timezone": "Nowhere/Else"})).await.invalid_fields(), ["timezone"]);
    assert_eq!(
        app.patch(&path, &c.admin, json!({"created_at": "2020-01-01T00:00:00Z"})).await.invalid_fields(),
        ["created_at"]
    );
}

#[tokio::test]
async fn an_admin_setting_a_password_ends_the_users_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let login = user["login"].as_str().unwrap();
    let token = app.token(login, PASSWORD).await;
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"password": "a-brand-new-secret"}))
        .await
        .expect(200);
    app.get("/v1/me", &token).await.problem(401, "unauthenticated");
    app.login(login, PASSWORD).await.problem(401, "invalid_credentials");
    app.token(login, "a-brand-new-secret").await;
}

#[tokio::test]
async fn a_role_change_ends_the_users_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    let cc = app.role_id(&c.admin, "Call Center Admin").await;
    app.patch(&format!("/v1/users/{}", id(&user)), &c.admin, json!({"role_id": cc})).await.expect(200);
    app.get("/v1/me", &token).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn nobody_deletes_themself() {
    let app = spawn_app().await;
    let c = app.customer().await;
    app.delete(&format!("/v1/users/{}", c.admin_id), &c.admin).await.problem(409, "cannot_delete_self");
}

#[tokio::test]
async fn nobody_changes_their_own_role_or_switches_themself_off() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let path = format!("/v1/users/{}", c.admin_id);
    let user_role = app.role_id(&c.admin, "User").await;
    app.patch(&path, &c.admin, json!({"role_id": user_role})).await.problem(409, "cannot_change_own_role");
    app.patch(&path, &c.admin, json!({"disabled": true})).await.problem(409, "cannot_disable_self");
    app.patch(&path, &c.admin, json!({"expires_at": "2020-01-01T00:00:00Z"})).await.problem(409, "cannot_disable_self");
    app.patch(&path, &c.admin, json!({"activation_at": "2099-01-01T00:00:00Z"}))
        .await
        .problem(409, "cannot_disable_self");
    // Naming one's current role is no change.
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    app.patch(&path, &c.admin, json!({"role_id": admin_role, "first_name": "Still"})).await.expect(200);
}

#[tokio::test]
async fn an_admin_changes_their_own_password_only_where_the_current_one_is_asked() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let path = format!("/v1/users/{}", c.admin_id);
    let refused = app
        .patch(&path, &c.admin, json!({"password": "a-brand-new-passphrase-77", "first_name": "Changed"}))
        .await
        .problem(409, "own_password_needs_current");
    assert!(refused["detail"].as_str().unwrap().contains("/v1/me/password"), "{refused}");
    // Nothing of the request happened.
    app.login(&c.admin_login, "a-brand-new-passphrase-77").await.problem(401, "invalid_credentials");
    app.login(&c.admin_login, PASSWORD).await.expect(200);
    assert_ne!(app.get(&path, &c.admin).await.expect(200)["first_name"], "Changed");
    // Another admin still sets it for them.
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    let other = app.user(&c.admin, json!({"role_id": admin_role})).await;
    let other = app.token(other["login"].as_str().unwrap(), PASSWORD).await;
    app.patch(&path, &other, json!({"password": "a-brand-new-passphrase-77"})).await.expect(200);
    app.login(&c.admin_login, "a-brand-new-passphrase-77").await.expect(200);
}

#[tokio::test]
async fn nobody_loosens_a_restriction_on_their_own_account() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    let other = app.user(&c.admin, json!({"role_id": admin_role})).await;
    let other_token = app.token(other["login"].as_str().unwrap(), PASSWORD).await;
    let path = format!("/v1/users/{}", c.admin_id);
    // Another admin restricts them: an expiry and a required second factor.
    app.patch(&path, &other_token, json!({"expires_at": "2099-01-01T00:00:00Z", "two_factor_required": true}))
        .await
        .expect(200);
    let admin = &c.admin;
    for lift in [json!({"expires_at": null}), json!({"two_factor_required": false})] {
        app.patch(&path, admin, lift.clone()).await.problem(409, "cannot_loosen_own_restrictions");
    }
    let kept = app.get(&path, &other_token).await.expect(200);
    assert_eq!(kept["expires_at"], "2099-01-01T00:00:00Z");
    assert_eq!(kept["two_factor"]["required"], true);
    // Tightening stays theirs to do, lifting is the other admin's.
    app.patch(&format!("/v1/users/{}", id(&other)), admin, json!({"two_factor_required": true})).await.expect(200);
    app.patch(&path, &other_token, json!({"expires_at": null, "two_factor_required": false})).await.expect(200);
}

#[tokio::test]
async fn demoting_or_deleting_the_last_admin_is_409_last_administrator() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    let user_role = app.role_id(&c.admin, "User").await;
    // A user administrator: holds every permission of the Administrator
    // role through a custom role, but is not an Administrator.
    let perms: Vec<String> = app.get("/v1/me", &c.admin).await.expect(200)["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_owned())
        .collect();
    let custom = app.post("/v1/roles", &c.admin, json!({"name": "Deputy", "permissions": perms})).await.expect(201);
    let deputy = app.user(&c.admin, json!({"role_id": custom["id"]})).await;
    let deputy_token = app.token(deputy["login"].as_str().unwrap(), PASSWORD).await;
    let admin_path = format!("/v1/users/{}", c.admin_id);
    app.patch(&admin_path, &deputy_token, json!({"role_id": user_role})).await.problem(409, "last_administrator");
    app.patch(&admin_path, &deputy_token, json!({"disabled": true})).await.problem(409, "last_administrator");
    app.patch(&admin_path, &deputy_token, json!({"expires_at": "2020-01-01T00:00:00Z"}))
        .await
        .problem(409, "last_administrator");
    app.delete(&admin_path, &deputy_token).await.problem(409, "last_administrator");
    // Nothing changed.
    let admin = app.get(&admin_path, &deputy_token).await.expect(200);
    assert_eq!((admin["role"]["id"].as_str(), admin["status"].as_str()), (Some(admin_role.as_str()), Some("active")));
    // With a second administrator it works.
    app.user(&c.admin, json!({"role_id": admin_role})).await;
    app.patch(&admin_path, &deputy_token, json!({"role_id": user_role})).await.expect(200);
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_administrator() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let admin_role = app.role_id(&c.admin, "Administrator").await;
    let user_role = app.role_id(&c.admin, "User").await;
    let second = app.user(&c.admin, json!({"role_id": admin_role})).await;
    let second_token = app.token(second["login"].as_str().unwrap(), PASSWORD).await;
    let (second_path, first_path) = (format!("/v1/users/{}", id(&second)), format!("/v1/users/{}", c.admin_id));
    let (a, b) = tokio::join!(
        app.patch(&second_path, &c.admin, json!({"role_id": user_role})),
        app.patch(&first_path, &second_token, json!({"role_id": user_role})),
    );
    let statuses = [a.status.as_u16(), b.status.as_u16()];
    let oks = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(oks, 1, "exactly one demotion wins: {statuses:?} {} {}", a.body, b.body);
    // The demoted one's sessions ended; the survivor's token still works.
    let (survivor, demoted) = if a.status == 200 { (&c.admin, &second_token) } else { (&second_token, &c.admin) };
    let admins = app.get(&format!("/v1/users?role={admin_role}&status=active"), survivor).await.expect(200);
    assert_eq!(admins["total"], 1);
    app.get("/v1/me", demoted).await.problem(401, "unauthenticated");
}

#[tokio::test]
async fn a_user_without_users_permissions_gets_403() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    app.get("/v1/users", &token).await.problem(403, "permission_denied");
    app.get(&format!("/v1/users/{}", c.admin_id), &token).await.problem(403, "permission_denied");
    app.post("/v1/users", &token, json!({"login": "x", "first_name": "a", "last_name": "b", "password": PASSWORD}))
        .await
        .problem(403, "permission_denied");
    app.patch(&format!("/v1/users/{}", c.admin_id), &token, json!({"first_name": "x"}))
        .await
        .problem(403, "permission_denied");
    app.delete(&format!("/v1/users/{}", c.admin_id), &token).await.problem(403, "permission_denied");
}

#[tokio::test]
async fn nobody_grants_a_role_with_permissions_they_lack_nor_acts_on_a_mightier_user() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let hr = app
        .post(
            "/v1/roles",
            &c.admin,
            json!({"name": "HR", "permissions": ["users:read", "users:write", "roles:read", "call_records:read_own"]}),
        )
        .await
        .expect(201);
    let clerk = app.user(&c.admin, json!({"role_id": hr["id"]})).await;
    let clerk_token = app.token(clerk["login"].as_str().unwrap(), PASSWORD).await;
    let admin_role = app.role_id(&c.admin, "Administrator").await;

    // May create plain users ...
    let plain = app.user(&clerk_token, json!({})).await;
    // ... but not administrators, nor promote anyone to one.
    let body = json!({"login": format!("p{}", unique()), "first_name": "A", "last_name": "B", "password": PASSWORD, "role_id": admin_role});
    let denied = app.post("/v1/users", &clerk_token, body).await.problem(403, "permission_not_held");
    assert!(denied["missing_permissions"].as_array().unwrap().contains(&json!("roles:write")), "{denied}");
    app.patch(&format!("/v1/users/{}", id(&plain)), &clerk_token, json!({"role_id": admin_role}))
        .await
        .problem(403, "permission_not_held");
    // Nor take over the administrator's account.
    let admin_path = format!("/v1/users/{}", c.admin_id);
    app.patch(&admin_path, &clerk_token, json!({"password": "taken-over-account"}))
        .await
        .problem(403, "permission_not_held");
    app.delete(&admin_path, &clerk_token).await.problem(403, "permission_not_held");
    app.login(&c.admin_login, PASSWORD).await.expect(200);
}

#[tokio::test]
async fn deleting_a_user_removes_them_and_their_sessions() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let token = app.token(user["login"].as_str().unwrap(), PASSWORD).await;
    let path = format!("/v1/users/{}", id(&user));
    let reply = app.delete(&path, &c.admin).await;
    assert_eq!(reply.status, 204);
    app.get(&path, &c.admin).await.problem(404, "not_found");
    app.get("/v1/me", &token).await.problem(401, "unauthenticated");
    app.delete(&path, &c.admin).await.problem(404, "not_found");
    // The login is free again.
    app.user(&c.admin, json!({"login": user["login"]})).await;
}

#[tokio::test]
async fn a_password_set_with_new_names_is_checked_against_them_and_nothing_is_half_applied() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let path = format!("/v1/users/{}", id(&user));
    let body = json!({"last_name": "Fitzgerald", "password": "fitzgerald-forever-1"});
    assert_eq!(app.patch(&path, &c.admin, body).await.invalid_fields(), ["password"]);
    // The refused request changed nothing, not even the name.
    assert_eq!(app.get(&path, &c.admin).await.expect(200)["last_name"], "User");
    let ok = json!({"last_name": "Fitzgerald", "password": "quiet-harbour-lights-2"});
    assert_eq!(app.patch(&path, &c.admin, ok).await.expect(200)["last_name"], "Fitzgerald");
    app.token(user["login"].as_str().unwrap(), "quiet-harbour-lights-2").await;
}

/// The `total` of a list, and every item its pages hold.
async fn listed(app: &TestApp, token: &str, query: &str) -> (u64, usize) {
    let mut seen = 0;
    for page in 1.. {
        let list = app.get(&format!("/v1/users?per_page=200&page={page}{query}"), token).await.expect(200);
        let items = list["items"].as_array().unwrap().len();
        seen += items;
        if items < 200 {
            return (list["total"].as_u64().unwrap(), seen);
        }
    }
    unreachable!()
}

#[tokio::test]
async fn a_tenants_total_follows_every_way_users_come_and_go() {
    // The whole tenant's total is kept as users come and go, not counted
    // (migration 000021): each way that adds or removes users, or fails
    // to, must leave it equal to the users listed.
    let app = spawn_app().await;
    let (c, other) = (app.customer().await, app.customer().await);
    let check = async |want: usize, why: &str| {
        let (total, seen) = listed(&app, &c.admin, "").await;
        assert_eq!((total, seen), (want as u64, want), "{why}");
        // A filter that matches everyone is counted, and agrees.
        let (counted, _) = listed(&app, &c.admin, "&q=@").await;
        assert_eq!(counted, total, "{why}: counted");
    };
    check(1, "a new tenant has its administrator").await;

    let n = unique();
    let creations = (0..12).map(|i| {
        let body = json!({"email": format!("many{i}.{n}@example.com"), "first_name": "Many", "last_name": "Users"});
        app.post("/v1/users", &c.admin, body)
    });
    for created in futures::future::join_all(creations).await {
        created.expect(201);
    }
    check(13, "12 creations at once").await;

    let taken = json!({"email": format!("many0.{n}@example.com"), "first_name": "Same", "last_name": "Login"});
    app.post("/v1/users", &c.admin, taken).await.problem(409, "login_taken");
    app.user(&other.admin, json!({"password": null})).await;
    check(13, "a refused creation, and one in another tenant").await;

    // One licence left: a row that takes a second fails after its user
    // was written, so its part is undone.
    let pool = json!({"tenant_id": c.id, "name": "One", "code": format!("one{n}"), "applications": ["desktop_app"],
                      "quantity": 1});
    app.post("/v1/stations", &app.operator, pool).await.expect(201);
    let file = |rows: &[&str]| {
        let mut file = String::from("login,email,first_name,last_name,extension,station,applications\n");
        for (i, row) in rows.iter().enumerate() {
            file.push_str(&format!("{row},{row}@example.com,Imported,User,7{i}{},one{n},desktop_app\n", rows.len()));
        }
        file
    };
    let (a, b) = (format!("imp-a{n}"), format!("imp-b{n}"));
    let import = |query: &'static str, body: String| {
        app.client
            .post(app.url(&format!("/v1/users/import{query}")))
            .bearer_auth(&c.admin)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let res = import("?mode=per_row", file(&[&a, &b])).await.unwrap();
    let report: Value = res.json().await.unwrap();
    let got = (report["created"].as_u64(), report["errors"][0]["code"].as_str());
    assert_eq!(got, (Some(1), Some("station_unavailable")), "{report}");
    check(14, "a per-row import whose second row was undone").await;
    let res = import("", file(&[&format!("imp-c{n}")])).await.unwrap();
    assert_eq!(res.status(), 422, "{}", res.text().await.unwrap());
    check(14, "an all-or-nothing import that failed").await;

    let someone = app.get(&format!("/v1/users?q={a}"), &c.admin).await.expect(200)["items"][0]["id"].clone();
    app.delete(&format!("/v1/users/{}", someone.as_str().unwrap()), &c.admin).await.expect(204);
    app.delete(&format!("/v1/users/{}", c.admin_id), &c.admin).await.problem(409, "cannot_delete_self");
    check(13, "a deletion, and a refused one").await;
}

#[tokio::test]
async fn q_finds_any_part_of_a_user_whatever_its_length_or_quotes() {
    // On SQLite a `q` of three characters or more is looked up in a
    // trigram index (migration 000022), a shorter one by reading every
    // user: both find the same, and quotes are only characters.
    let app = spawn_app().await;
    let c = app.customer().await;
    let n = unique();
    let zoe = app
        .user(&c.admin, json!({"first_name": "Zoë", "last_name": format!("d'Arcy \"Q\" {n}"), "password": null}))
        .await;
    let found = async |q: &str| {
        let path = format!("/v1/users?q={}", urlencoding(q));
        let list = app.get(&path, &c.admin).await.expect(200);
        list["items"].as_array().unwrap().iter().any(|u| u["id"] == zoe["id"])
    };
    for q in [n.as_str(), &n[n.len() - 2..], "zoë", "Ë", "d'a", "'arcy", "\"q\"", "\"Q\" ", &format!("cy \"q\" {n}")]
    {
        assert!(found(q).await, "q={q:?} finds the user");
    }
    for q in ["\"\"", "arcy\"", &format!("{n}0"), "zoe"] {
        assert!(!found(q).await, "q={q:?} finds nobody");
    }
    // A page with q counts its matches as it reads them; past the last
    // page there are none to count with, and the total still holds.
    for q in [n.as_str(), "ë"] {
        let past = app.get(&format!("/v1/users?q={}&page=3", urlencoding(q)), &c.admin).await.expect(200);
        assert_eq!((past["total"].as_u64(), past["items"].as_array().map(Vec::len)), (Some(1), Some(0)), "q={q:?}");
    }
}

/// `q` as a query string value.
fn urlencoding(q: &str) -> String {
    q.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}
