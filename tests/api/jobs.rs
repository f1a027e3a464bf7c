//! Import jobs (issue 13): a file of more than 1,000 rows runs in the
//! background, its state in the database: it waits for a worker (a
//! replica, or the same server after a restart), is run by one worker
//! only, and can be cancelled.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Customer, Reply, TestApp, fresh_database, reply, spawn_with_settings, test_settings, unique};

fn agents(n: usize, prefix: &str, bad_row: Option<usize>) -> String {
    let mut file = "login,email,first_name,last_name,role\n".to_owned();
    for i in 0..n {
        let role = if Some(i) == bad_row { "Pilot" } else { "User" };
        file.push_str(&format!("{prefix}{i},{prefix}{i}@example.com,Agent,Number {i},{role}\n"));
    }
    file
}

async fn submit(app: &TestApp, c: &Customer, query: &str, file: String) -> Reply {
    let req = app
        .client
        .post(app.url(&format!("/v1/users/import{query}")))
        .bearer_auth(&c.admin)
        .header("content-type", "text/csv")
        .body(file);
    reply(req.send().await.unwrap()).await
}

/// Polls the job until it ends (30 s at most).
async fn ended(app: &TestApp, c: &Customer, location: &str) -> Value {
    for _ in 0..300 {
        let job = app.get(location, &c.admin).await.expect(200);
        if ["succeeded", "failed", "cancelled"].contains(&job["state"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job never ended: {}", app.get(location, &c.admin).await.expect(200));
}

async fn count(app: &TestApp, c: &Customer, prefix: &str) -> u64 {
    app.get(&format!("/v1/users?q={prefix}&per_page=1"), &c.admin).await.expect(200)["total"].as_u64().unwrap()
}

/// A server on the database of `settings`, running jobs or not.
async fn server(settings: &voxport::config::Settings, dir: Option<tempfile::TempDir>, worker: bool) -> TestApp {
    let mut settings = settings.clone();
    settings.import_worker = worker;
    spawn_with_settings(settings, dir).await
}

#[tokio::test]
async fn a_large_file_runs_as_a_job_that_reports_its_progress_and_errors() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let app = server(&settings, dir, true).await;
    let c = app.customer().await;
    let prefix = format!("job{}-", unique());
    let accepted = submit(&app, &c, "?mode=per_row", agents(1_050, &prefix, Some(1_049))).await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/v1/jobs/{}", accepted.body["id"].as_str().unwrap()));
    assert_eq!(accepted.body["rows_total"], 1_050);
    let job = ended(&app, &c, &location).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(
        (job["rows_done"].as_u64(), job["rows_created"].as_u64(), job["rows_failed"].as_u64()),
        (Some(1_050), Some(1_049), Some(1))
    );
    assert_eq!(job["errors_total"], 1);
    assert_eq!(job["errors"][0]["row"], 1_051, "the last line: {job}");
    assert_eq!(job["errors"][0]["code"], "role_not_found");
    assert_eq!(job["emails_queued"], 1_049);
    assert_eq!(count(&app, &c, &prefix).await, 1_049);
    let page = app.get(&format!("{location}?errors_page=2&errors_per_page=1"), &c.admin).await.expect(200);
    assert_eq!(page["errors"].as_array().unwrap().len(), 0);
    let events = events_of(&app, &c, &job).await;
    assert_eq!(events.len(), 1, "one event for the import, naming its job, however many chunks: {events:?}");
    let details = &events[0]["details"];
    assert_eq!((&details["rows"], &details["created"], &details["failed"]), (&json!(1_050), &json!(1_049), &json!(1)));
    assert_eq!((&details["state"], &details["mode"]), (&json!("succeeded"), &json!("per_row")));
    let created = app.get("/v1/audit-events?action=user.created&per_page=1", &c.admin).await.expect(200);
    assert!(created["total"].as_u64().unwrap() >= 1_049, "one event per created user: {created}");
    app.delete(&location, &c.admin).await.problem(409, "job_finished");
    let other = app.customer().await;
    app.get(&location, &other.admin).await.problem(404, "not_found");
}

/// The `users.imported` events naming job `job`.
async fn events_of(app: &TestApp, c: &Customer, job: &Value) -> Vec<Value> {
    let audit = app.get("/v1/audit-events?action=users.imported&per_page=200", &c.admin).await.expect(200);
    audit["items"].as_array().unwrap().iter().filter(|e| e["details"]["job_id"] == job["id"]).cloned().collect()
}

#[tokio::test]
async fn a_per_row_job_refuses_a_row_repeating_one_of_an_earlier_chunk() {
    let (url, dir) = fresh_database().await;
    let app = server(&test_settings(url), dir, true).await;
    let c = app.customer().await;
    let prefix = format!("rep{}-", unique());
    // Its last row (line 1,052, in the eleventh chunk) asks again for the
    // login of the fourth (line 5, in the first), in capitals.
    let mut file = agents(1_050, &prefix, None);
    file.push_str(&format!("{}3,again@example.com,Agent,Again,User\n", prefix.to_uppercase()));
    let accepted = submit(&app, &c, "?mode=per_row", file).await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let job = ended(&app, &c, accepted.headers["location"].to_str().unwrap()).await;
    assert_eq!((job["rows_created"].as_u64(), job["rows_failed"].as_u64()), (Some(1_050), Some(1)), "{job}");
    let error = &job["errors"][0];
    assert_eq!(
        (&error["row"], &error["column"], &error["code"]),
        (&json!(1_052), &json!("login"), &json!("duplicate_in_file"))
    );
    assert!(error["message"].as_str().unwrap().contains("row 5 "), "{error}");
}

#[tokio::test]
async fn a_running_job_cancelled_stops_after_the_chunk_it_is_in() {
    let (url, dir) = fresh_database().await;
    let app = server(&test_settings(url), dir, true).await;
    let c = app.customer().await;
    let prefix = format!("stop{}-", unique());
    let accepted = submit(&app, &c, "?mode=per_row", agents(4_000, &prefix, None)).await;
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    let mut polls = 0;
    while app.get(&location, &c.admin).await.expect(200)["rows_done"].as_u64() < Some(100) {
        polls += 1;
        assert!(polls < 1_500, "the job never committed a chunk");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = app.delete(&location, &c.admin).await.expect(200);
    assert_eq!(cancelled["state"], "cancelled", "{cancelled}");
    let created = cancelled["rows_created"].as_u64().unwrap();
    assert!((100..4_000).contains(&created), "{cancelled}");
    // The worker runs jobs one after another: once the next has ended,
    // the cancelled one has let go.
    let next = submit(&app, &c, "?mode=per_row", agents(1_001, &format!("{prefix}n"), None)).await;
    assert_eq!(ended(&app, &c, next.headers["location"].to_str().unwrap()).await["state"], "succeeded");
    let job = app.get(&location, &c.admin).await.expect(200);
    let counts = |job: &Value| {
        ["state", "rows_done", "rows_created", "rows_failed", "emails_queued", "errors_total", "finished_at"]
            .map(|field| job[field].clone())
    };
    assert_eq!(counts(&job), counts(&cancelled), "nothing moved it on after it was cancelled: {job}");
    assert_eq!(count(&app, &c, &format!("{prefix}n")).await, 1_001);
    assert_eq!(count(&app, &c, &prefix).await - 1_001, created, "its counts are what it wrote");
    let events = events_of(&app, &c, &job).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let details = &events[0]["details"];
    assert_eq!((&details["state"], &details["created"]), (&json!("cancelled"), &json!(created)), "{details}");
    app.delete(&location, &c.admin).await.expect(200);
    assert_eq!(events_of(&app, &c, &job).await.len(), 1, "cancelling again records nothing");
}

#[tokio::test]
async fn an_all_or_nothing_job_shows_its_rows_checked_before_it_writes_them() {
    let (url, dir) = fresh_database().await;
    let mut settings = test_settings(url);
    // Slower hashes than the other tests' make the check take seconds: the
    // job notes its rows checked every second.
    settings.argon2_memory_kib = 4_096;
    let app = server(&settings, dir, true).await;
    let c = app.customer().await;
    let prefix = format!("chk{}-", unique());
    let mut file = "login,email,first_name,last_name,role,password\n".to_owned();
    for i in 0..3_000 {
        file.push_str(&format!(
            "{prefix}{i},{prefix}{i}@example.com,Agent,Number {i},User,Quartz-{i}-lantern-harbour\n"
        ));
    }
    let accepted = submit(&app, &c, "", file).await;
    assert_eq!(accepted.status, 202, "{:?}", accepted.body);
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let job = loop {
        let job = app.get(&location, &c.admin).await.expect(200);
        seen.push((job["rows_checked"].as_u64().unwrap(), job["rows_done"].as_u64().unwrap()));
        if job["state"] != "queued" && job["state"] != "running" {
            break job;
        }
        assert!(std::time::Instant::now() < deadline, "the job never ended: {job}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!((&job["rows_checked"], &job["rows_done"]), (&json!(3_000), &json!(3_000)));
    assert!(
        seen.iter().any(|&(checked, done)| done == 0 && checked > 0),
        "rows checked showed before anything was written: {seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "it only moves on: {seen:?}");
}

#[tokio::test]
async fn an_all_or_nothing_job_with_a_bad_row_writes_nothing() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let app = server(&settings, dir, true).await;
    let c = app.customer().await;
    let prefix = format!("aon{}-", unique());
    let accepted = submit(&app, &c, "", agents(1_001, &prefix, Some(1_000))).await;
    assert_eq!(accepted.status, 202);
    let job = ended(&app, &c, accepted.headers["location"].to_str().unwrap()).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(job["rows_created"], 0);
    assert_eq!(job["errors"][0]["code"], "role_not_found");
    assert_eq!(count(&app, &c, &prefix).await, 0);
    // The refused import is on record too.
    let events = events_of(&app, &c, &job).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((&events[0]["details"]["state"], &events[0]["details"]["created"]), (&json!("failed"), &json!(0)));
}

#[tokio::test]
async fn a_job_waits_for_a_worker_survives_the_server_and_is_cancelled_before_it_runs() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    // The server that takes the files runs no jobs (as if it stopped).
    let front = server(&settings, dir, false).await;
    let c = front.customer().await;
    let (one, two) = (format!("w1{}-", unique()), format!("w2{}-", unique()));
    let kept = submit(&front, &c, "?mode=per_row", agents(1_001, &one, None)).await;
    let dropped = submit(&front, &c, "?mode=per_row", agents(1_001, &two, None)).await;
    let (kept, dropped) = (
        kept.headers["location"].to_str().unwrap().to_owned(),
        dropped.headers["location"].to_str().unwrap().to_owned(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(front.get(&kept, &c.admin).await.expect(200)["state"], "queued");
    let cancelled = front.delete(&dropped, &c.admin).await.expect(200);
    assert_eq!(cancelled["state"], "cancelled");

    // Another server on the database (a restart, or a replica) runs what waits.
    let worker = server(&settings, None, true).await;
    let job = ended(&worker, &c, &kept).await;
    assert_eq!((job["state"].as_str(), job["rows_created"].as_u64()), (Some("succeeded"), Some(1_001)), "{job}");
    assert_eq!(count(&worker, &c, &one).await, 1_001);
    assert_eq!(worker.get(&dropped, &c.admin).await.expect(200)["state"], "cancelled");
    assert_eq!(count(&worker, &c, &two).await, 0, "a cancelled job never runs");
}

#[tokio::test]
async fn replicas_share_the_queue_and_run_each_job_once() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let front = server(&settings, dir, false).await;
    let c = front.customer().await;
    let prefixes: Vec<String> = (0..3).map(|i| format!("r{i}x{}-", unique())).collect();
    let mut locations = Vec::new();
    for p in &prefixes {
        let accepted = submit(&front, &c, "?mode=per_row", agents(1_001, p, None)).await;
        locations.push(accepted.headers["location"].to_str().unwrap().to_owned());
    }
    let a = server(&settings, None, true).await;
    let b = server(&settings, None, true).await;
    for (location, prefix) in locations.iter().zip(&prefixes) {
        let job = ended(&a, &c, location).await;
        assert_eq!(
            (job["state"].as_str(), job["rows_created"].as_u64(), job["rows_failed"].as_u64()),
            (Some("succeeded"), Some(1_001), Some(0)),
            "{job}"
        );
        assert_eq!(count(&b, &c, prefix).await, 1_001);
    }
}

/// Leaves the job `accepted` answered for as a worker that died in it
/// does: running, its lease run out, and `set` (SQL assignments) besides.
async fn left_by_a_dead_worker(app: &TestApp, accepted: &Reply, set: &str) {
    let id: uuid::Uuid = accepted.body["id"].as_str().unwrap().parse().unwrap();
    let past = chrono::Utc::now() - chrono::Duration::minutes(10);
    crate::helpers::execute_with(
        app,
        &format!("UPDATE import_jobs SET state = 'running', {set}, lease_token = $1, lease_until = $2 WHERE id = $3"),
        vec![uuid::Uuid::new_v4().into(), past.into(), id.into()],
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_job_whose_worker_died_resumes_after_its_last_committed_chunk() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let front = server(&settings, dir, false).await;
    let c = front.customer().await;
    let prefix = format!("resume{}-", unique());
    let accepted = submit(&front, &c, "?mode=per_row", agents(1_001, &prefix, None)).await;
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    // As a worker that committed rows 0..700 and died leaves it.
    left_by_a_dead_worker(&front, &accepted, "rows_next = 700, rows_created = 700").await;
    let worker = server(&settings, None, true).await;
    let job = ended(&worker, &c, &location).await;
    assert_eq!((job["state"].as_str(), job["rows_done"].as_u64()), (Some("succeeded"), Some(1_001)), "{job}");
    assert_eq!(count(&worker, &c, &prefix).await, 301, "only rows 700 and after were run again");
    let first = worker.get(&format!("/v1/users?q={prefix}699@"), &c.admin).await.expect(200);
    assert_eq!(first["total"], 0);
    let resumed = worker.get(&format!("/v1/users?q={prefix}700@"), &c.admin).await.expect(200);
    assert_eq!(resumed["total"], 1);
}

#[tokio::test]
async fn a_job_whose_rows_are_all_written_cannot_be_cancelled_while_it_ends() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let front = server(&settings, dir, false).await;
    let c = front.customer().await;
    let accepted = submit(&front, &c, "?mode=per_row", agents(1_001, &format!("end{}-", unique()), None)).await;
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    // As a worker that committed every row and died before ending it.
    left_by_a_dead_worker(&front, &accepted, "rows_next = 1001, rows_created = 1001").await;
    front.delete(&location, &c.admin).await.problem(409, "job_finished");
    let worker = server(&settings, None, true).await;
    let job = ended(&worker, &c, &location).await;
    assert_eq!((job["state"].as_str(), job["rows_created"].as_u64()), (Some("succeeded"), Some(1_001)), "{job}");
}

#[tokio::test]
async fn a_job_taken_up_three_times_without_moving_on_is_given_up() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let front = server(&settings, dir, false).await;
    let c = front.customer().await;
    let prefix = format!("poison{}-", unique());
    let accepted = submit(&front, &c, "?mode=per_row", agents(1_001, &prefix, None)).await;
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    // As three workers that each died in it before a chunk committed leave it.
    left_by_a_dead_worker(&front, &accepted, "attempts = 3").await;
    let worker = server(&settings, None, true).await;
    let job = ended(&worker, &c, &location).await;
    assert_eq!((job["state"].as_str(), job["rows_done"].as_u64()), (Some("failed"), Some(0)), "{job}");
    assert!(job["error"].as_str().unwrap().contains("taken up 3 times"), "{job}");
    assert_eq!(count(&worker, &c, &prefix).await, 0);
    // One taken up twice runs: the count is of runs, not a tombstone.
    let again = submit(&front, &c, "?mode=per_row", agents(1_001, &format!("{prefix}b"), None)).await;
    left_by_a_dead_worker(&front, &again, "attempts = 2").await;
    let job = ended(&worker, &c, again.headers["location"].to_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
}

#[tokio::test]
async fn a_job_runs_as_its_submitter_is_now_and_not_at_all_once_they_are_gone() {
    let (url, dir) = fresh_database().await;
    let settings = test_settings(url);
    let front = server(&settings, dir, false).await;
    let c = front.customer().await;
    let admin_role = front.role_id(&c.admin, "Administrator").await;
    let submitter = front.user(&c.admin, serde_json::json!({"role_id": admin_role})).await;
    let token = front.token(submitter["login"].as_str().unwrap(), crate::helpers::PASSWORD).await;
    let who = Customer { admin: token, ..c.clone() };
    let prefix = format!("gone{}-", unique());
    let accepted = submit(&front, &who, "?mode=per_row", agents(1_001, &prefix, None)).await;
    let location = accepted.headers["location"].to_str().unwrap().to_owned();
    front.delete(&format!("/v1/users/{}", submitter["id"].as_str().unwrap()), &c.admin).await.expect(204);
    let worker = server(&settings, None, true).await;
    let job = ended(&worker, &c, &location).await;
    assert_eq!(job["state"], "failed", "{job}");
    assert!(job["error"].as_str().unwrap().contains("can no longer act"), "{job}");
    assert_eq!(count(&worker, &c, &prefix).await, 0);
}

#[tokio::test]
async fn a_retried_upload_with_its_idempotency_key_queues_one_job() {
    let (url, dir) = fresh_database().await;
    let app = server(&test_settings(url), dir, false).await;
    let c = app.customer().await;
    let file = agents(1_001, &format!("re{}-", unique()), None);
    let key = uuid::Uuid::new_v4().to_string();
    let upload = || {
        app.client
            .post(app.url("/v1/users/import"))
            .bearer_auth(&c.admin)
            .header("content-type", "text/csv")
            .header("idempotency-key", &key)
            .body(file.clone())
    };
    let first = reply(upload().send().await.unwrap()).await;
    assert_eq!(first.status, 202, "{}", first.body);
    let again = reply(upload().send().await.unwrap()).await;
    assert_eq!(again.status, 202);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.headers["location"], first.headers["location"], "the same job");
    let jobs = crate::helpers::stored_strings(&app, "SELECT state FROM import_jobs").await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
}
