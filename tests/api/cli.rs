//! `voxport import` and `voxport export` (issue 13): the binary itself,
//! on the server's database and against the running server, with the
//! exit codes a script relies on.

use std::process::Output;

use serde_json::json;

use crate::helpers::{TestApp, spawn_app, unique};

/// Runs the `voxport` binary on the test server's database.
async fn voxport(app: &TestApp, args: &[&str]) -> Output {
    let secret = app.settings.secret_key.clone().unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_voxport"))
        .args(args)
        .env("VOXPORT_DATABASE_URL", &app.settings.database_url)
        .env("VOXPORT_SECRET_KEY", secret)
        .env("VOXPORT_ARGON2_MEMORY_KIB", "256")
        .env("VOXPORT_ARGON2_ITERATIONS", "1")
        .env("VOXPORT_ARGON2_BELOW_MINIMUM_FOR_TESTS", "true")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_import_command_exits_non_zero_on_a_failed_dry_run_and_zero_on_success() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let dir = tempfile::tempdir().unwrap();
    let p = format!("cli{}-", unique());
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "login,email,first_name,last_name,role\n{p}a,{p}a@example.com,A,A,User\n{p}b,{p}b@example.com,B,B,Pilot\n"
        ),
    )
    .unwrap();
    let out = voxport(&app, &["import", bad.to_str().unwrap(), "--tenant", &c.slug, "--dry-run"]).await;
    assert!(!out.status.success(), "{}", text(&out.stdout));
    let table = text(&out.stdout);
    assert!(table.contains("role_not_found") && table.contains("Pilot"), "{table}");
    assert!(table.lines().any(|l| l.trim_start().starts_with('3')), "the errors table names row 3: {table}");

    let good = dir.path().join("good.csv");
    std::fs::write(
        &good,
        format!("login,email,first_name,last_name,role,extension\n{p}a,{p}a@example.com,A,A,User,811\n"),
    )
    .unwrap();
    let out = voxport(&app, &["import", good.to_str().unwrap(), "--tenant", &c.slug]).await;
    assert!(out.status.success(), "{} {}", text(&out.stdout), text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(summary.lines().any(|l| l.starts_with("created") && l.trim_end().ends_with('1')), "{summary}");
    let listed = app.get(&format!("/v1/users?q={p}"), &c.admin).await.expect(200);
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["extensions"][0]["number"], "811");

    // per-row writes what passes and still says rows failed.
    let out = voxport(&app, &["import", bad.to_str().unwrap(), "--tenant", &c.slug, "--mode", "per-row"]).await;
    assert!(!out.status.success());
    assert!(text(&out.stdout).contains("login_taken"), "{}", text(&out.stdout));

    // Against the running server with a token: the same path.
    let remote = dir.path().join("remote.csv");
    std::fs::write(&remote, format!("login,email,first_name,last_name\n{p}r,{p}r@example.com,R,R\n")).unwrap();
    let out = voxport(&app, &["import", remote.to_str().unwrap(), "--url", &app.address, "--token", &c.admin]).await;
    assert!(out.status.success(), "{} {}", text(&out.stdout), text(&out.stderr));
    let out =
        voxport(&app, &["import", bad.to_str().unwrap(), "--url", &app.address, "--token", &c.admin, "--dry-run"])
            .await;
    assert!(!out.status.success());

    // Unknown tenant, unreadable file: an error, non-zero.
    let out = voxport(&app, &["import", good.to_str().unwrap(), "--tenant", "no-such-tenant"]).await;
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("no-such-tenant"), "{}", text(&out.stderr));
}

#[tokio::test]
async fn the_export_command_writes_the_tenants_users_as_csv() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let user = app.user(&c.admin, json!({})).await;
    let out = voxport(&app, &["export", "--tenant", &c.slug]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = text(&out.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("login,email,first_name"), "{csv}");
    assert_eq!(lines.len(), 3, "the administrator and the user: {csv}");
    assert!(csv.contains(user["login"].as_str().unwrap()));
    let remote = voxport(&app, &["export", "--url", &app.address, "--token", &c.admin]).await;
    assert!(remote.status.success());
    assert_eq!(text(&remote.stdout), csv, "the server exports the same file");
}

#[tokio::test]
async fn the_import_command_follows_a_large_file_the_server_runs_as_a_job() {
    let app = spawn_app().await;
    let c = app.customer().await;
    let dir = tempfile::tempdir().unwrap();
    let p = format!("clijob{}-", unique());
    let mut file = "login,email,first_name,last_name,role\n".to_owned();
    for i in 0..1_001 {
        let role = if i == 1_000 { "Pilot" } else { "User" };
        file.push_str(&format!("{p}{i},{p}{i}@example.com,A,B,{role}\n"));
    }
    let path = dir.path().join("big.csv");
    std::fs::write(&path, file).unwrap();
    let args = ["import", path.to_str().unwrap(), "--url", &app.address, "--token", &c.admin, "--mode", "per-row"];
    let out = voxport(&app, &args).await;
    let table = text(&out.stdout);
    assert!(!out.status.success(), "a row failed: {table}");
    assert!(table.lines().any(|l| l.starts_with("created") && l.trim_end().ends_with("1000")), "{table}");
    assert!(table.contains("role_not_found") && table.contains("1002"), "{table}");
    let listed = app.get(&format!("/v1/users?q={p}&per_page=1"), &c.admin).await.expect(200);
    assert_eq!(listed["total"], 1_000);
}
