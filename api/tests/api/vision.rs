//! The photo pipeline end to end: the client's multipart upload, conversions, vision jobs
//! through a real worker consuming real Redis, and a fake OpenAI-compatible provider
//! (wiremock) speaking the real wire format.

use std::time::{Duration, Instant};

use biologidex_core::ids::AnalysisJobId;
use reqwest::Method;
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{method, path},
};

use crate::helpers::{TestApp, TestUser, test_png};

const BOUNDARY: &str = "GodotBiologiDexBoundary";

/// Exactly what image_service.gd builds: a CRLF preamble, the `image` part, and an optional
/// `transformations` text part.
fn godot_multipart(file: &[u8], name: &str, transformations: Option<&str>) -> Vec<u8> {
    let mime = if name.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    let mut body = Vec::new();
    body.extend_from_slice(format!("\r\n--{BOUNDARY}\r\n").as_bytes());
    body.extend_from_slice(
        format!("Content-Disposition: form-data; name=\"image\"; filename=\"{name}\"\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(format!("Content-Type: {mime}\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend_from_slice(b"\r\n");
    if let Some(t) = transformations {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"transformations\"\r\n\r\n{t}\r\n").as_bytes());
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn convert(
    app: &TestApp,
    who: &TestUser,
    file: &[u8],
    name: &str,
    t: Option<&str>,
) -> (u16, Value) {
    let res = app
        .client
        .post(app.url("/api/v1/images/convert/"))
        .bearer_auth(&who.access)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(godot_multipart(file, name, t))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// A chat-completions response with `content` as the answer.
fn completion(content: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_790_000_000, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240}
    }))
}

const FOX: &str = r#"{"animals":[{"scientific_name":"Vulpes vulpes","common_name":"Red fox","confidence":0.93}]}"#;

async fn job_from(app: &TestApp, who: &TestUser, seed: u8) -> String {
    let (status, conv) = convert(app, who, &test_png(64, 48, seed), "shot.png", None).await;
    assert_eq!(status, 201, "{conv}");
    let (status, job) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&who.access),
            json!({"conversion_id": conv["id"]}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    job["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_photo_becomes_an_identified_animal_and_a_dex_entry() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(FOX))
        .mount(&provider)
        .await;
    let app = TestApp::spawn().await;
    let _worker = app
        .start_worker(&format!("{}/v1", provider.uri()), Some("sk-test"))
        .await;
    let ash = app.user("ash").await;

    // Step 1: the client's exact multipart upload with a rotation.
    let jpeg = oriented_jpeg(1);
    let (status, conv) = convert(
        &app,
        &ash,
        &jpeg,
        "IMG_0001.jpg",
        Some(r#"{"rotation":90}"#),
    )
    .await;
    assert_eq!(status, 201, "{conv}");
    assert_eq!(conv["metadata"]["original_format"], "JPEG");
    assert_eq!(conv["metadata"]["original_size"], json!([64, 32]));
    assert_eq!(conv["metadata"]["converted_size"], json!([32, 64]));
    assert_eq!(conv["metadata"]["transformations_applied"]["rotation"], 90);
    let download = format!(
        "/api/v1/images/convert/{}/download/",
        conv["id"].as_str().unwrap()
    );
    let res = app
        .send(Method::GET, &download, Some(&ash.access), None)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");

    // Step 2: the job, with the client's round-tripped float rotation.
    let (status, job) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&ash.access),
            json!({"conversion_id": conv["id"], "post_conversion_transformations": {"rotation": 90.0}}),
        )
        .await;
    assert_eq!(status, 201, "{job}");
    assert_eq!(job["status"], "pending");
    assert_eq!(job["conversion_id"], conv["id"]);
    let id = job["id"].as_str().unwrap();
    let done = app.wait_for_job(&ash, id, 15).await;
    assert_eq!(done["status"], "completed", "{done}");
    let d = &done["detected_animals"][0];
    assert_eq!(d["scientific_name"], "Vulpes vulpes");
    assert_eq!(d["common_name"], "Red fox");
    assert_eq!(d["confidence"], 0.93);
    assert_eq!(d["is_new"], true);
    assert_eq!(done["animal_details"]["scientific_name"], "Vulpes vulpes");
    assert!(done["animal_details"]["creation_index"].as_i64().unwrap() >= 1);
    assert_eq!(done["identified_animal"], d["animal_id"]);
    assert_eq!(done["input_tokens"], 1200);
    assert_eq!(
        done["cost_usd"], "0.000204",
        "gpt-4o-mini prices (longest prefix)"
    );

    // What was sent: structured output, the image as a data URL with its real type.
    let sent: Vec<Request> = provider.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_slice(&sent[0].body).unwrap();
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["response_format"]["type"], "json_schema");
    let url = body["messages"][0]["content"][1]["image_url"]["url"]
        .as_str()
        .unwrap();
    assert!(url.starts_with("data:image/jpeg;base64,"), "{}", &url[..40]);
    assert_eq!(sent[0].headers["authorization"], "Bearer sk-test");

    // Step 3: camera.gd's dex entry; its image outlives the conversion's cleanup
    // (docs/wire-compatibility.md#m14).
    let (status, entry) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&ash.access),
            json!({"animal": d["animal_id"], "visibility": "friends", "source_vision_job": id}),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    app.sql("UPDATE image_conversions SET expires_at = now() - interval '1 day'")
        .await;
    app.sql("UPDATE stored_images SET created_at = now() - interval '2 hours'")
        .await;
    worker::jobs::housekeeping::cleanup_expired_conversions(&_worker.state)
        .await
        .unwrap();
    let (status, _) = app.get_as(&download, &ash.access).await;
    assert_eq!(status, 404, "the used conversion is gone");
    let (_, sync) = app
        .get_as("/api/v1/dex/entries/sync_entries/", &ash.access)
        .await;
    let (status, bytes) = app
        .fetch(sync["entries"][0]["dex_compatible_url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200, "the entry's photo survives the cleanup");
    assert_eq!(&bytes[1..4], b"PNG");
}

#[tokio::test]
async fn plain_text_answers_with_several_animals_or_none_are_understood() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(
            "**Canis lupus familiaris** (Domestic Dog) | Felis catus (House cat)",
        ))
        .up_to_n_times(1)
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion("NO ANIMALS FOUND"))
        .mount(&provider)
        .await;
    let app = TestApp::spawn().await;
    let _worker = app
        .start_worker(&format!("{}/v1", provider.uri()), Some("sk-test"))
        .await;
    let u = app.user("misty").await;
    let first = job_from(&app, &u, 1).await;
    let done = app.wait_for_job(&u, &first, 15).await;
    assert_eq!(done["status"], "completed", "{done}");
    let names: Vec<&str> = done["detected_animals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["scientific_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Canis lupus familiaris", "Felis catus"]);
    assert_eq!(done["animal_details"]["subspecies"], "familiaris");
    let second = job_from(&app, &u, 2).await;
    let done = app.wait_for_job(&u, &second, 15).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["detected_animals"], json!([]));
    assert_eq!(done["identified_animal"], Value::Null);

    // select_animal takes the client's 0.0.
    let path = format!("/api/v1/vision/jobs/{first}/select_animal/");
    let (status, job) = app
        .post_as(&path, Some(&u.access), json!({"animal_index": 1.0}))
        .await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["selected_animal_index"], 1);
    assert_eq!(job["animal_details"]["scientific_name"], "Felis catus");
    let (status, body) = app
        .post_as(&path, Some(&u.access), json!({"animal_index": 5}))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("Invalid animal_index. Must be 0-1"))
    );
    let (status, _) = app
        .post_as(&path, Some(&u.access), json!({"animal_index": "x"}))
        .await;
    assert_eq!(status, 400);
    let (status, body) = app
        .post_as(
            &format!("/api/v1/vision/jobs/{second}/select_animal/"),
            Some(&u.access),
            json!({"animal_index": 0.0}),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("No animals detected in this job"))
    );
    let (_, stats) = app.get_as("/api/v1/vision/jobs/stats/", &u.access).await;
    assert_eq!(stats["completed"], 2);
    assert_eq!(stats["total_jobs"], 2);
}

#[tokio::test]
async fn transient_errors_are_retried_and_a_rejected_key_fails_at_once() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(503).set_body_json(json!({"error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}})))
        .up_to_n_times(2)
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(FOX))
        .mount(&provider)
        .await;
    let app = TestApp::spawn().await;
    let _worker = app
        .start_worker(&format!("{}/v1", provider.uri()), Some("sk-test"))
        .await;
    let u = app.user("brock").await;
    let id = job_from(&app, &u, 3).await;
    let done = app.wait_for_job(&u, &id, 20).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["retry_count"], 2,
        "two failed attempts before the success"
    );
    assert_eq!(
        provider.received_requests().await.unwrap().len(),
        3,
        "no hidden client-side retries"
    );

    let rejected = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}})))
        .mount(&rejected)
        .await;
    let app2 = TestApp::spawn().await;
    let _w2 = app2
        .start_worker(&format!("{}/v1", rejected.uri()), Some("sk-wrong"))
        .await;
    let v = app2.user("vic").await;
    let id = job_from(&app2, &v, 4).await;
    let started = Instant::now();
    let done = app2.wait_for_job(&v, &id, 15).await;
    assert_eq!(done["status"], "failed");
    // A fixed sentence: the provider's text (here naming the key) stays in the log.
    assert_eq!(
        done["error_message"], "The vision service refused this server's credentials.",
        "{done}"
    );
    assert_eq!(
        done["retry_count"], 0,
        "failed at once, never retried: {done}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        rejected.received_requests().await.unwrap().len(),
        1,
        "a permanent error is not retried"
    );
    assert_eq!(
        done["detected_animals"],
        json!([]),
        "never an animal named after an error"
    );

    // Retry resets the budget and runs again.
    let (status, again) = app2
        .post_as(
            &format!("/api/v1/vision/jobs/{id}/retry/"),
            Some(&v.access),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["status"], "pending");
    assert_eq!(again["retry_count"], 0);
    let (status, body) = app2
        .post_as(
            &format!("/api/v1/vision/jobs/{id}/retry/"),
            Some(&v.access),
            json!({}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn without_an_api_key_jobs_fail_clearly_and_create_no_animal() {
    let app = TestApp::spawn().await;
    let _worker = app.start_worker("http://127.0.0.1:9/v1", None).await;
    let u = app.user("gary").await;
    let id = job_from(&app, &u, 5).await;
    let done = app.wait_for_job(&u, &id, 15).await;
    assert_eq!(done["status"], "failed");
    assert!(
        done["error_message"]
            .as_str()
            .unwrap()
            .contains("OPENAI_API_KEY"),
        "{done}"
    );
    let (_, animals) = app.call(Method::GET, "/api/v1/animals/", None, None).await;
    assert_eq!(animals["count"], 0);
}

#[tokio::test]
async fn a_job_is_processed_exactly_once_after_a_crash_or_a_lost_push() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(FOX).set_delay(Duration::from_millis(200)))
        .mount(&provider)
        .await;
    // The api cannot reach Redis: the push is lost, the row stays pending.
    let dead = format!("redis://127.0.0.1:{}/0", crate::helpers::closed_port());
    let app = TestApp::spawn_with(&[("REDIS_URL", dead.as_str())]).await;
    let u = app.user("iris").await;
    let id = job_from(&app, &u, 6).await;
    let (_, job) = app
        .get_as(&format!("/api/v1/vision/jobs/{id}/"), &u.access)
        .await;
    assert_eq!(job["status"], "pending");

    let mut settings = app.worker_settings(&format!("{}/v1", provider.uri()), Some("sk-test"));
    settings.redis_url = biologidex_db::testing::redis_url();
    let state = worker::state::WorkerState::connect(settings).await.unwrap();
    let job_id: AnalysisJobId = uuid::Uuid::parse_str(&id).unwrap().into();
    // A worker claimed it with a short lease and died before finishing.
    {
        let mut conn = state.db.get().await.unwrap();
        let claimed = biologidex_db::models::vision::AnalysisJob::claim(
            &mut conn,
            job_id,
            Duration::from_millis(300),
        )
        .await
        .unwrap();
        assert!(claimed.is_some());
    }
    // While the lease holds, a duplicate delivery does nothing.
    assert_eq!(
        worker::jobs::vision::run(&state, job_id).await.unwrap(),
        worker::jobs::vision::Outcome::Skipped
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    // The reaper finds it (lost push and dead worker alike) and a live worker finishes it.
    let (monitor, _) = worker::monitor::build(&state).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(monitor.run_with_signal(async move {
        let _ = rx.await;
        Ok(())
    }));
    assert_eq!(
        worker::jobs::housekeeping::reap_with_grace(&state, Duration::ZERO)
            .await
            .unwrap(),
        1
    );
    // Two more deliveries of the same id must not run it twice.
    worker::jobs::housekeeping::reap_with_grace(&state, Duration::ZERO)
        .await
        .unwrap();
    let done = app.wait_for_job(&u, &id, 15).await;
    assert_eq!(done["status"], "completed", "{done}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        provider.received_requests().await.unwrap().len(),
        1,
        "completed exactly once"
    );
    assert_eq!(
        worker::jobs::vision::run(&state, job_id).await.unwrap(),
        worker::jobs::vision::Outcome::Skipped
    );
    let _ = tx.send(());
}

#[tokio::test]
async fn bad_uploads_are_clear_400s_and_jobs_stay_private() {
    let app = TestApp::spawn().await;
    let u = app.user("jade").await;
    let eve = app.user("eve").await;
    // A 20000×20000 PNG header (valid checksum) and a truncated file: refused fast.
    let mut bomb = test_png(1, 1, 0);
    bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let crc = crc32fast::hash(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let started = Instant::now();
    let (status, body) = convert(&app, &u, &bomb, "bomb.png", None).await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["image"][0].as_str().unwrap().contains("too large"),
        "{body}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    let png = test_png(64, 64, 1);
    let (status, body) = convert(&app, &u, &png[..png.len() / 2], "half.png", None).await;
    assert_eq!(status, 400);
    assert!(
        body["image"][0]
            .as_str()
            .unwrap()
            .starts_with("Upload a valid image")
    );
    let (status, body) = convert(
        &app,
        &u,
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic",
        "x.heic",
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert!(body["image"][0].as_str().unwrap().contains("HEIC"));
    let (status, body) = convert(&app, &u, &png, "x.png", Some(r#"{"rotation":45}"#)).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"transformations": ["Rotation must be one of: 0, 90, 180, 270."]})
        )
    );
    let (status, body) = convert(&app, &u, &png, "x.png", Some("{not json")).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"transformations": ["Value must be valid JSON."]})
        )
    );

    // Job creation errors.
    let (status, body) = app
        .post_as("/api/v1/vision/jobs/", Some(&u.access), json!({}))
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"non_field_errors": ["Either conversion_id or image must be provided"]})
        )
    );
    let (_, conv) = convert(&app, &u, &png, "x.png", None).await;
    let (status, body) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&eve.access),
            json!({"conversion_id": conv["id"]}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"non_field_errors": ["Invalid conversion_id or conversion not found"]})
        )
    );
    let (status, body) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&u.access),
            json!({"conversion_id": conv["id"], "model_name": "gpt-5-pro"}),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        body["model_name"][0]
            .as_str()
            .unwrap()
            .contains("not allowed")
    );
    app.sql("UPDATE image_conversions SET expires_at = now() - interval '1 minute'")
        .await;
    let (status, body) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&u.access),
            json!({"conversion_id": conv["id"]}),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"non_field_errors": ["Image conversion has expired. Please upload again."]})
        )
    );
    let (status, body) = app
        .get_as(
            &format!(
                "/api/v1/images/convert/{}/download/",
                conv["id"].as_str().unwrap()
            ),
            &u.access,
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("This conversion has expired"))
    );

    // Private: another user's job and its image are unreachable.
    let id = job_from(&app, &u, 7).await;
    let (status, job) = app
        .get_as(&format!("/api/v1/vision/jobs/{id}/"), &u.access)
        .await;
    assert_eq!(status, 200);
    let url = job["dex_compatible_url"].as_str().unwrap().to_owned();
    assert_eq!(
        app.fetch(&url).await.0,
        200,
        "the owner's capability URL works without a token"
    );
    for path in [
        format!("/api/v1/vision/jobs/{id}/"),
        format!("/api/v1/vision/jobs/{id}/dex-image/"),
    ] {
        let (status, body) = app.get_as(&path, &eve.access).await;
        assert_eq!(
            (status, body),
            (
                404,
                json!({"detail": "No AnalysisJob matches the given query."})
            ),
            "{path}"
        );
    }
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/vision/jobs/{id}/dex-image/"),
            None,
            None
        )
        .await
        .0,
        401
    );
    let res = app
        .send(
            Method::GET,
            &format!("/api/v1/vision/jobs/{id}/dex-image/"),
            Some(&u.access),
            None,
        )
        .await;
    assert_eq!(res.status(), 200);
    let (_, list) = app.get_as("/api/v1/vision/jobs/", &eve.access).await;
    assert_eq!(list["count"], 0);
    let (status, _) = app
        .get_as(
            &format!("/api/v1/images/convert/{}/", conv["id"].as_str().unwrap()),
            &eve.access,
        )
        .await;
    assert_eq!(status, 404);
    for bad in [
        "/api/v1/images/convert/nope/",
        "/api/v1/vision/jobs/nope/",
        "/api/v1/vision/jobs/nope/dex-image/",
    ] {
        assert_eq!(app.get_as(bad, &u.access).await.0, 404, "{bad}");
    }
}

#[tokio::test]
async fn past_the_daily_budget_new_jobs_fail_at_once() {
    let app = TestApp::spawn_with(&[("VISION_DAILY_BUDGET_USD", "0.01")]).await;
    let u = app.user("kim").await;
    let first = job_from(&app, &u, 8).await;
    // What the provider calls cost today, whatever became of their jobs.
    app.sql(&format!(
        "INSERT INTO vision_spend (job_id, cost_usd) VALUES ('{first}', 0.02)"
    ))
    .await;
    let id = job_from(&app, &u, 9).await;
    let (_, job) = app
        .get_as(&format!("/api/v1/vision/jobs/{id}/"), &u.access)
        .await;
    assert_eq!(job["status"], "failed");
    assert!(job["error_message"].as_str().unwrap().contains("budget"));
}

const RED: [u8; 3] = [255, 0, 0];
const GREEN: [u8; 3] = [0, 255, 0];
const BLUE: [u8; 3] = [0, 0, 255];
const WHITE: [u8; 3] = [255, 255, 255];

/// A 64×32 JPEG with quadrants red (top left), green (top right), blue (bottom left) and
/// white (bottom right), tagged with an EXIF orientation.
fn oriented_jpeg(orientation: u16) -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 32, |x, y| {
        image::Rgb(match (x < 32, y < 16) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95)
        .encode_image(&img)
        .unwrap();
    // APP1 "Exif": little-endian TIFF with one IFD entry, Orientation (0x0112) = SHORT.
    let mut exif = vec![0xFF, 0xE1, 0, 34];
    exif.extend_from_slice(b"Exif\0\0II\x2A\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0");
    exif.extend_from_slice(&orientation.to_le_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) < 60)
}

#[tokio::test]
async fn all_eight_exif_orientations_come_out_upright() {
    let app = TestApp::spawn().await;
    let u = app.user("lance").await;
    // Expected (top-left, top-right, bottom-left, bottom-right) after applying the tag.
    let cases = [
        (1, [RED, GREEN, BLUE, WHITE], (64, 32)),
        (2, [GREEN, RED, WHITE, BLUE], (64, 32)),
        (3, [WHITE, BLUE, GREEN, RED], (64, 32)),
        (4, [BLUE, WHITE, RED, GREEN], (64, 32)),
        (5, [RED, BLUE, GREEN, WHITE], (32, 64)),
        (6, [BLUE, RED, WHITE, GREEN], (32, 64)),
        (7, [WHITE, GREEN, BLUE, RED], (32, 64)),
        (8, [GREEN, WHITE, RED, BLUE], (32, 64)),
    ];
    for (tag, quadrants, dims) in cases {
        let (status, conv) = convert(&app, &u, &oriented_jpeg(tag), "o.jpg", None).await;
        assert_eq!(status, 201, "{conv}");
        let res = app
            .send(
                Method::GET,
                &format!(
                    "/api/v1/images/convert/{}/download/",
                    conv["id"].as_str().unwrap()
                ),
                Some(&u.access),
                None,
            )
            .await;
        let png = image::load_from_memory(&res.bytes().await.unwrap())
            .unwrap()
            .into_rgb8();
        assert_eq!(png.dimensions(), dims, "orientation {tag}");
        let (w, h) = dims;
        let at = |x: u32, y: u32| png.get_pixel(x, y).0;
        let got = [
            at(w / 4, h / 4),
            at(3 * w / 4, h / 4),
            at(w / 4, 3 * h / 4),
            at(3 * w / 4, 3 * h / 4),
        ];
        for (g, want) in got.iter().zip(quadrants) {
            assert!(
                close(*g, want),
                "orientation {tag}: got {got:?}, want {quadrants:?}"
            );
        }
    }
}

#[tokio::test]
async fn detections_known_to_the_catalogue_become_verified_accepted_animals() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(
            r#"{"animals":[{"scientific_name":"Canis familiaris","common_name":"Dog","confidence":0.9},
                           {"scientific_name":"Imaginarius fantasticus","common_name":"","confidence":0.4}]}"#,
        ))
        .mount(&provider)
        .await;
    let app = TestApp::spawn().await;
    app.import_sample().await;
    let _worker = app
        .start_worker(&format!("{}/v1", provider.uri()), Some("sk-test"))
        .await;
    let u = app.user("dawn").await;
    let id = job_from(&app, &u, 11).await;
    let done = app.wait_for_job(&u, &id, 20).await;
    assert_eq!(done["status"], "completed", "{done}");
    let first = &done["detected_animals"][0];
    assert_eq!(
        first["scientific_name"], "Canis familiaris",
        "the model's words are kept"
    );
    assert_eq!(
        done["animal_details"]["scientific_name"], "Canis lupus familiaris",
        "the synonym resolves"
    );
    assert_eq!(done["animal_details"]["verified"], true);
    assert_eq!(done["animal_details"]["family"], "Canidae");
    let unknown = &done["detected_animals"][1];
    assert_eq!(
        unknown["verified"], false,
        "an unknown name becomes an unverified animal"
    );
}

#[tokio::test]
async fn a_detection_that_reclassifies_an_animal_refreshes_cached_trees() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(completion(
            r#"{"animals":[{"scientific_name":"Canis familiaris","common_name":"Dog","confidence":0.9}]}"#,
        ))
        .mount(&provider)
        .await;
    let app = TestApp::spawn().await;
    app.import_sample().await;
    let u = app.user("dawn").await;
    // Only staff record catalogue animals through validation.
    app.sql("UPDATE users SET is_staff = true WHERE username = 'dawn'")
        .await;
    // The dog is in dawn's dex with an outdated family, and her tree is cached with it.
    let (s, v) = app
        .post_as(
            "/api/v1/taxonomy/validate/",
            Some(&u.access),
            json!({"scientific_name": "Canis lupus familiaris", "common_name": "Dog"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let dog = v["animal_id"].as_str().unwrap().to_owned();
    let job = app.job_with_image(&u, 5).await;
    let (s, e) = app
        .post_as(
            "/api/v1/dex/entries/",
            Some(&u.access),
            json!({"animal": dog, "source_vision_job": job}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    app.sql(&format!(
        "UPDATE animals SET family = 'Oldidae' WHERE id = '{dog}'"
    ))
    .await;
    let before = app.tree_families(&u.access).await;
    assert!(before.iter().any(|f| f.ends_with("/Oldidae")), "{before:?}");

    // The worker matches a detection to the catalogue and puts the family right...
    let _worker = app
        .start_worker(&format!("{}/v1", provider.uri()), Some("sk-test"))
        .await;
    let id = job_from(&app, &u, 12).await;
    let done = app.wait_for_job(&u, &id, 20).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["animal_details"]["family"], "Canidae");
    // ...and the cached tree follows at once.
    let after = app.tree_families(&u.access).await;
    assert!(after.iter().any(|f| f.ends_with("/Canidae")), "{after:?}");
    assert!(!after.iter().any(|f| f.ends_with("/Oldidae")), "{after:?}");
}
