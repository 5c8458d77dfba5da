//! Jobs that must end: answers the database refuses, the call limit, lease-conditional writes,
//! the budget counting every call, and a paid answer kept across a database hiccup. The
//! worker's `run` is called directly so each test decides when a job runs.

use std::time::Duration;

use biologidex_core::ids::AnalysisJobId;
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};
use worker::jobs::vision::{Outcome, run};

use crate::helpers::{TestApp, TestUser};

fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_790_000_000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240}
    }))
}

const FOX: &str = r#"{"animals":[{"scientific_name":"Vulpes vulpes","common_name":"Red fox","confidence":0.93}]}"#;

async fn provider(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

/// A worker state on the app's database, with no queue consumer running.
async fn worker_state(app: &TestApp, server: &MockServer) -> worker::state::WorkerState {
    worker::state::WorkerState::connect(
        app.worker_settings(&format!("{}/v1", server.uri()), Some("sk-test")),
    )
    .await
    .unwrap()
}

async fn job(app: &TestApp, who: &TestUser, seed: u8) -> AnalysisJobId {
    uuid::Uuid::parse_str(&app.job_with_image(who, seed).await)
        .unwrap()
        .into()
}

/// Makes a completed test job runnable again.
async fn pending(app: &TestApp, id: AnalysisJobId) {
    app.sql(&format!(
        "UPDATE analysis_jobs SET status = 'pending', completed_at = NULL WHERE id = '{id}'"
    ))
    .await;
}

async fn calls(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

async fn row(app: &TestApp, who: &TestUser, id: AnalysisJobId) -> Value {
    let (s, j) = app
        .get_as(&format!("/api/v1/vision/jobs/{id}/"), &who.access)
        .await;
    assert_eq!(s, 200, "{j}");
    j
}

async fn spent(app: &TestApp) -> f64 {
    #[derive(diesel::QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Double)]
        s: f64,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.state.db.get().await.unwrap();
    let rows: Vec<S> =
        diesel::sql_query("SELECT COALESCE(sum(cost_usd), 0)::float8 AS s FROM vision_spend")
            .load(&mut conn)
            .await
            .unwrap();
    rows[0].s
}

#[tokio::test]
async fn hardening_an_answer_too_long_or_with_nul_is_stored_cleaned() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let long = "x".repeat(300);
    let answer = format!(
        r#"{{"animals":[{{"scientific_name":"Bufo\u0000 bufo{long}","common_name":"To\u0000ad {long}","confidence":0.9}}]}}"#
    );
    let server = provider(completion(&answer)).await;
    let state = worker_state(&app, &server).await;
    let id = job(&app, &ash, 1).await;
    pending(&app, id).await;
    assert_eq!(run(&state, id).await.unwrap(), Outcome::Completed);
    let j = row(&app, &ash, id).await;
    assert_eq!(j["status"], "completed", "{j}");
    let name = j["detected_animals"][0]["scientific_name"]
        .as_str()
        .unwrap();
    assert!(
        name.starts_with("Bufo bufo") && name.chars().count() <= 200,
        "{name}"
    );
    assert_eq!(calls(&server).await, 1);
    assert!(spent(&app).await > 0.0);
}

#[tokio::test]
async fn hardening_a_database_refusal_after_the_paid_call_ends_the_job_and_is_billed() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let server = provider(completion(FOX)).await;
    let state = worker_state(&app, &server).await;
    let id = job(&app, &ash, 2).await;
    pending(&app, id).await;
    // Any refusal of the data (here a trigger standing in for one) after the answer came.
    app.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         RAISE EXCEPTION 'value too long' USING ERRCODE = '22001'; END $$",
    )
    .await;
    app.sql(
        "CREATE TRIGGER refuse BEFORE UPDATE ON analysis_jobs FOR EACH ROW \
         WHEN (NEW.status = 'completed') EXECUTE FUNCTION refuse()",
    )
    .await;
    let outcome = run(&state, id).await.unwrap();
    assert!(matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    let j = row(&app, &ash, id).await;
    assert_eq!(j["status"], "failed", "{j}");
    assert_eq!(j["error_message"], "The identification could not be saved.");
    // The call was paid for: it counts toward the daily budget although the job failed.
    assert!(spent(&app).await > 0.0);
    // And nothing runs it again.
    assert_eq!(run(&state, id).await.unwrap(), Outcome::Skipped);
    assert_eq!(calls(&server).await, 1);
}

#[tokio::test]
async fn hardening_a_transient_database_error_keeps_the_paid_answer_and_retries_the_write() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let server = provider(completion(FOX)).await;
    let state = worker_state(&app, &server).await;
    let id = job(&app, &ash, 3).await;
    pending(&app, id).await;
    // The first two completions fail as a restarting database's would (serialization
    // failure, retryable); the third goes through.
    app.sql("CREATE SEQUENCE refusals").await;
    app.sql(
        "CREATE FUNCTION refuse_twice() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         IF nextval('refusals') <= 2 THEN \
         RAISE EXCEPTION 'try again' USING ERRCODE = '40001'; END IF; RETURN NEW; END $$",
    )
    .await;
    app.sql(
        "CREATE TRIGGER refuse BEFORE UPDATE ON analysis_jobs FOR EACH ROW \
         WHEN (NEW.status = 'completed') EXECUTE FUNCTION refuse_twice()",
    )
    .await;
    assert_eq!(run(&state, id).await.unwrap(), Outcome::Completed);
    assert_eq!(row(&app, &ash, id).await["status"], "completed");
    assert_eq!(
        calls(&server).await,
        1,
        "the answer was kept, not asked again"
    );
}

#[tokio::test]
async fn hardening_a_job_has_a_hard_limit_on_provider_calls() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let server = provider(ResponseTemplate::new(503)).await;
    let state = worker_state(&app, &server).await;
    let id = job(&app, &ash, 4).await;
    pending(&app, id).await;
    // Reaper passes after crashes: the lease expires and the job is claimed again, forever
    // unless something counts the calls.
    for _ in 0..20 {
        let outcome = run(&state, id).await.unwrap();
        if matches!(outcome, Outcome::Failed(_)) {
            break;
        }
        app.sql(&format!(
            "UPDATE analysis_jobs SET locked_until = now() - interval '1 second', \
             next_retry_at = NULL, retry_count = 0 WHERE id = '{id}'"
        ))
        .await;
    }
    let j = row(&app, &ash, id).await;
    assert_eq!(j["status"], "failed", "{j}");
    let limit = usize::try_from(biologidex_db::models::vision::MAX_PROVIDER_CALLS).unwrap();
    assert_eq!(calls(&server).await, limit);
    // A provider's own text never reaches the user.
    assert!(!j["error_message"].as_str().unwrap().contains("503"), "{j}");
}

#[tokio::test]
async fn hardening_a_worker_past_its_lease_changes_nothing() {
    let app = TestApp::spawn().await;
    let ash = app.user("ash").await;
    let server = provider(completion(FOX).set_delay(Duration::from_millis(1500))).await;
    let state = worker_state(&app, &server).await;
    let id = job(&app, &ash, 5).await;
    pending(&app, id).await;
    let late = tokio::spawn({
        let state = state.clone();
        async move { run(&state, id).await }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Meanwhile the lease passed and another worker claimed the job (and failed it).
    app.sql(&format!(
        "UPDATE analysis_jobs SET lease_id = gen_random_uuid(), error_message = 'theirs' \
         WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(late.await.unwrap().unwrap(), Outcome::Skipped);
    let j = row(&app, &ash, id).await;
    assert_eq!(
        (j["status"].clone(), j["error_message"].clone()),
        (json!("processing"), json!("theirs")),
        "{j}"
    );
    assert_eq!(
        state
            .metrics
            .vision_late_writes
            .with_label_values(&["complete"])
            .get(),
        1
    );
}
