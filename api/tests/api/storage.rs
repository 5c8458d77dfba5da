//! Media in object storage (a real S3-compatible server, moto's, started by the test command):
//! uploads, downloads through two api processes that share no directory, conditional and range
//! requests, pre-signed redirects, the worker reading a job's photo, a store that goes away
//! mid-upload, concurrent cleanup, and moving a local folder into a bucket.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use biologidex_db::models::images;
use biologidex_media::{
    images::Edits,
    storage::{LocalStorage, SharedStorage, Storage, StorageError},
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

use crate::helpers::{Bucket, TestApp, TestUser, test_png};

const ENTRIES: &str = "/api/v1/dex/entries/";

/// Posts a dex entry of `who` with a photo.
async fn post_entry(
    app: &TestApp,
    who: &TestUser,
    animal: &str,
    png: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("animal", animal.to_owned())
        .part(
            "original_image",
            reqwest::multipart::Part::bytes(png).file_name("shot.png"),
        );
    app.post_multipart(ENTRIES, who, form).await
}

/// Creates a dex entry of `who` with a photo; returns the response status and body.
async fn entry_with_photo(
    app: &TestApp,
    who: &TestUser,
    animal: &str,
    png: Vec<u8>,
) -> (u16, Value) {
    let res = post_entry(app, who, animal, png).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Files under a directory (the local media root must stay empty with an object store).
fn files_under(dir: &std::path::Path) -> usize {
    walk(dir).len()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    read.flatten()
        .flat_map(|e| {
            let p = e.path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

/// The same URL on another api process.
fn on(app: &TestApp, url: &str) -> String {
    let path = &url[url.find("/media/").expect("media url")..];
    app.url(path)
}

#[tokio::test]
async fn photos_live_in_the_bucket_and_both_api_processes_serve_them() {
    let bucket = Bucket::new().await;
    let a = TestApp::spawn_s3(&bucket, &[]).await;
    // Another process: its own bucket client and its own (empty) MEDIA_ROOT.
    let b = a.sibling_with_storage(&[], Some(bucket.storage())).await;
    let ash = a.user("ash").await;
    let fox = a.animal(&ash, "Vulpes vulpes").await;
    let (status, entry) = entry_with_photo(&a, &ash, &fox, test_png(40, 30, 7)).await;
    assert_eq!(status, 201, "{entry}");
    let url = entry["original_image"]
        .as_str()
        .expect("image url")
        .to_owned();
    let checksum = entry["image_checksum"].as_str().unwrap().to_owned();

    for app in [&a, &b] {
        let res = app.client.get(on(app, &url)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let h = res.headers().clone();
        assert_eq!(h["etag"], format!("\"{checksum}\"").as_str());
        assert_eq!(h["cache-control"], "private, max-age=31536000, immutable");
        assert_eq!(h["accept-ranges"], "bytes");
        assert_eq!(h["content-type"], "image/png");
        let bytes = res.bytes().await.unwrap();
        assert_eq!(hex::encode(Sha256::digest(&bytes)), checksum);
    }
    for app in [&a, &b] {
        assert_eq!(
            files_under(&app.state.settings.media_root),
            0,
            "nothing on local disk"
        );
    }
    // The object is in the bucket under its content-addressed key.
    let key = format!("images/{}/{checksum}.png", &checksum[..2]);
    let direct = bucket.storage().get(&key).await.unwrap();
    assert_eq!(hex::encode(Sha256::digest(&direct)), checksum);

    // A second upload of the same bytes is the same object, and one stored image.
    let (status, again) = entry_with_photo(&b, &ash, &fox, test_png(40, 30, 7)).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["image_checksum"], checksum.as_str());
    let mut conn = a.state.db.get().await.unwrap();
    let n: i64 = diesel::sql_query("SELECT count(*) AS n FROM stored_images")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n;
    assert_eq!(n, 1);
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[tokio::test]
async fn downloads_are_conditional_and_resumable() {
    let bucket = Bucket::new().await;
    let app = TestApp::spawn_s3(&bucket, &[]).await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let (_, entry) = entry_with_photo(&app, &ash, &fox, test_png(64, 64, 3)).await;
    let url = entry["original_image"].as_str().unwrap().to_owned();
    let full = app.client.get(&url).send().await.unwrap();
    let etag = full.headers()["etag"].to_str().unwrap().to_owned();
    let whole = full.bytes().await.unwrap().to_vec();
    let size = whole.len();
    assert!(size > 100, "{size}");

    let get = |headers: Vec<(&'static str, String)>| {
        let mut req = app.client.get(&url);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send()
    };
    let res = get(vec![("if-none-match", etag.clone())]).await.unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.bytes().await.unwrap().is_empty());
    let res = get(vec![("if-none-match", "\"other\"".into())])
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A download cut after 10 bytes resumes from there.
    let res = get(vec![("range", "bytes=10-".into())]).await.unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 10-{}/{size}", size - 1).as_str()
    );
    let mut resumed = whole[..10].to_vec();
    resumed.extend_from_slice(&res.bytes().await.unwrap());
    assert_eq!(resumed, whole);
    let res = get(vec![("range", "bytes=0-3".into())]).await.unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"\x89PNG");
    let res = get(vec![("range", "bytes=-4".into())]).await.unwrap();
    assert_eq!(res.bytes().await.unwrap().as_ref(), &whole[size - 4..]);
    // Past the end: 416 in the error shape, with the size.
    let res = get(vec![("range", format!("bytes={size}-"))])
        .await
        .unwrap();
    assert_eq!(res.status(), 416);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes */{size}").as_str()
    );
    let body: Value = res.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("range"), "{body}");
    // Several ranges, garbage, or an If-Range naming another version: the whole image.
    for headers in [
        vec![("range", "bytes=0-1,5-6".to_owned())],
        vec![("range", "pages=1".to_owned())],
        vec![
            ("range", "bytes=0-1".to_owned()),
            ("if-range", "\"old\"".to_owned()),
        ],
    ] {
        let res = get(headers.clone()).await.unwrap();
        assert_eq!(res.status(), 200, "{headers:?}");
        assert_eq!(res.bytes().await.unwrap().len(), size);
    }
    // The same rules on the local store.
    let local = TestApp::spawn().await;
    let misty = local.user("misty").await;
    let fox = local.animal(&misty, "Vulpes vulpes").await;
    let (_, entry) = entry_with_photo(&local, &misty, &fox, test_png(64, 64, 3)).await;
    let url = entry["original_image"].as_str().unwrap();
    let res = local
        .client
        .get(url)
        .header("range", "bytes=10-")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &whole[10..]);
    let res = local
        .client
        .get(url)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn a_signed_url_redirect_hands_the_download_to_the_bucket() {
    let bucket = Bucket::new().await;
    let app = TestApp::spawn_s3(&bucket, &[("MEDIA_SIGNED_URL_SECONDS", "60")]).await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let (_, entry) = entry_with_photo(&app, &ash, &fox, test_png(20, 20, 9)).await;
    let url = entry["original_image"].as_str().unwrap();
    let res = app.client.get(url).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let signed = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(signed.starts_with(&bucket.endpoint), "{signed}");
    assert!(signed.contains("X-Amz-Signature="), "{signed}");
    let bytes = reqwest::get(&signed).await.unwrap().bytes().await.unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(&bytes)),
        entry["image_checksum"].as_str().unwrap()
    );
    // The token is still checked first: a wrong one is 404, not a redirect.
    let res = app.get(&format!("/media/e/{}.png", "0".repeat(32))).await;
    assert_eq!(res.status(), 404);
}

/// A TCP proxy in front of the S3 server that can be cut: open connections are dropped, and
/// new ones have their request read and are then closed without an answer, as when a store
/// goes away in the middle of an upload.
struct CutProxy {
    endpoint: String,
    cut: Arc<AtomicBool>,
    cuts: tokio::sync::watch::Sender<bool>,
}

impl CutProxy {
    async fn start(target: &str) -> CutProxy {
        let target = target.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let cut = Arc::new(AtomicBool::new(false));
        let (cuts, _) = tokio::sync::watch::channel(false);
        let (flag, watch) = (cut.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let (flag, target, mut cut_now) = (flag.clone(), target.clone(), watch.subscribe());
                tokio::spawn(async move {
                    if AtomicBool::load(&flag, Ordering::SeqCst) {
                        let mut buf = vec![0u8; 4096];
                        let _ = client.read(&mut buf).await;
                        return;
                    }
                    let Ok(mut server) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let cut_seen = async move {
                        loop {
                            let now = *cut_now.borrow_and_update();
                            if now || cut_now.changed().await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut_seen => {
                            let _ = client.shutdown().await;
                        }
                    }
                });
            }
        });
        CutProxy {
            endpoint,
            cut,
            cuts,
        }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        let _ = self.cuts.send(cut);
    }
}

#[tokio::test]
async fn a_store_that_goes_away_is_a_503_with_nothing_half_written() {
    let bucket = Bucket::new().await;
    let proxy = CutProxy::start(&bucket.endpoint).await;
    let url = bucket.url();
    let app = TestApp::spawn_on_storage_for_test(
        &[("MEDIA_STORAGE_URL", url.as_str())],
        bucket.storage_via(&proxy.endpoint),
    )
    .await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let (status, first) = entry_with_photo(&app, &ash, &fox, test_png(30, 30, 1)).await;
    assert_eq!(status, 201, "{first}");

    proxy.set_cut(true);
    let started = std::time::Instant::now();
    let png = test_png(30, 30, 2);
    let res = post_entry(&app, &ash, &fox, png.clone()).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["detail"],
        "Media storage is unavailable. Try again shortly."
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    // Nothing half-written: no entry, no image row, no object.
    let (_, mine) = app
        .get_as("/api/v1/dex/entries/my_entries/", &ash.access)
        .await;
    assert_eq!(mine["count"], 1, "{mine}");
    let mut conn = app.state.db.get().await.unwrap();
    let n = diesel::sql_query("SELECT count(*) AS n FROM stored_images")
        .get_result::<Count>(&mut conn)
        .await
        .unwrap()
        .n;
    assert_eq!(n, 1);
    drop(conn);
    let blob = biologidex_media::images::convert(&png, Edits::default())
        .unwrap()
        .image;
    assert!(matches!(
        bucket.storage().get(&blob.key()).await,
        Err(StorageError::NotFound(_))
    ));
    // Downloads of stored images and the health checks say what is wrong.
    let (s, ready) = app.get_as("/ready/", &ash.access).await;
    assert_eq!(
        (s, ready["status"].as_str(), ready["storage"].as_str()),
        (200, Some("ready"), Some("unhealthy"))
    );
    let (_, health) = app.get_as("/api/v1/health/", &ash.access).await;
    assert_eq!(
        health["checks"]["storage"]["status"], "unhealthy",
        "{health}"
    );
    assert_eq!(health["checks"]["storage"]["backend"], "s3", "{health}");
    let res = app
        .client
        .get(first["original_image"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);

    // Back: the same upload goes through, and health recovers.
    proxy.set_cut(false);
    let (status, again) = entry_with_photo(&app, &ash, &fox, png).await;
    assert_eq!(status, 201, "{again}");
    let (_, ready) = app.get_as("/ready/", &ash.access).await;
    assert_eq!(ready["storage"], "healthy");
    let (_, health) = app.get_as("/api/v1/health/", &ash.access).await;
    assert_eq!(health["checks"]["storage"]["status"], "healthy", "{health}");
}

#[tokio::test]
async fn the_worker_reads_a_jobs_photo_from_the_bucket() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "id": "chatcmpl-test", "object": "chat.completion", "created": 1_790_000_000, "model": "gpt-4o-mini",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
                "content": r#"{"animals":[{"scientific_name":"Vulpes vulpes","common_name":"Red fox","confidence":0.93}]}"#}}],
            "usage": {"prompt_tokens": 1200, "completion_tokens": 40, "total_tokens": 1240}
        })))
        .mount(&provider)
        .await;
    let bucket = Bucket::new().await;
    let app = TestApp::spawn_s3(&bucket, &[]).await;
    let _worker = app
        .start_worker(&format!("{}/v1", provider.uri()), Some("sk-test"))
        .await;
    let ash = app.user("ash").await;
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(test_png(64, 48, 5)).file_name("shot.png"),
    );
    let res = app
        .post_multipart("/api/v1/images/convert/", &ash, form)
        .await;
    assert_eq!(res.status(), 201);
    let conv: Value = res.json().await.unwrap();
    let (s, job) = app
        .post_as(
            "/api/v1/vision/jobs/",
            Some(&ash.access),
            serde_json::json!({"conversion_id": conv["id"]}),
        )
        .await;
    assert_eq!(s, 201, "{job}");
    let done = app
        .wait_for_job(&ash, job["id"].as_str().unwrap(), 30)
        .await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["detected_animals"][0]["scientific_name"],
        "Vulpes vulpes"
    );
    assert_eq!(files_under(&app.state.settings.media_root), 0);
}

/// Stored images not referenced by anything, written straight to the store.
async fn orphans(app: &TestApp, seeds: std::ops::Range<u8>) -> Vec<String> {
    let storage = app.state.storage.clone();
    let mut keys = Vec::new();
    for seed in seeds {
        let blob = biologidex_media::images::convert(&test_png(16, 16, seed), Edits::default())
            .unwrap()
            .image;
        let mut conn = app.state.db.get().await.unwrap();
        conn.transaction::<_, anyhow::Error, _>(async |c| {
            images::store(c, storage.as_ref(), &blob).await?;
            Ok(())
        })
        .await
        .unwrap();
        keys.push(blob.key());
    }
    keys
}

#[tokio::test]
async fn two_cleanups_at_once_delete_each_orphan_once_and_keep_every_referenced_object() {
    let bucket = Bucket::new().await;
    let app = TestApp::spawn_s3(&bucket, &[]).await;
    let ash = app.user("ash").await;
    let fox = app.animal(&ash, "Vulpes vulpes").await;
    let mut kept = Vec::new();
    for seed in 0..4 {
        let (s, e) = entry_with_photo(&app, &ash, &fox, test_png(16, 16, seed)).await;
        assert_eq!(s, 201, "{e}");
        let sum = e["image_checksum"].as_str().unwrap().to_owned();
        kept.push(format!("images/{}/{sum}.png", &sum[..2]));
    }
    let gone = orphans(&app, 10..22).await;
    app.sql("UPDATE stored_images SET created_at = now() - interval '2 days'")
        .await;

    // Two replicas' cleanups, while a user uploads one of the orphans' bytes again.
    let before = chrono::Utc::now() - chrono::Duration::hours(1);
    let storage: SharedStorage = app.state.storage.clone();
    let clean = || {
        let (pool, storage) = (app.state.db.clone(), storage.clone());
        async move {
            let mut conn = pool.get().await.unwrap();
            images::delete_unreferenced(&mut conn, storage.as_ref(), before, 1000)
                .await
                .unwrap()
        }
    };
    let reupload = entry_with_photo(&app, &ash, &fox, test_png(16, 16, 10));
    let (one, two, (status, _)) = tokio::join!(clean(), clean(), reupload);
    assert_eq!(status, 201);
    assert!(one + two >= 11 && one + two <= 12, "{one} + {two}");

    // Every row that is left has its object; every deleted orphan's object is gone.
    let mut conn = app.state.db.get().await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Text)]
        storage_key: String,
    }
    let rows: Vec<Key> = diesel::sql_query("SELECT storage_key FROM stored_images")
        .load(&mut conn)
        .await
        .unwrap();
    // The four entries' images and the re-uploaded one, whichever way the race went (the
    // cleanup took the orphan first and the upload wrote it again, or the upload won).
    assert_eq!(rows.len(), 5);
    let reuploaded = &gone[0];
    assert!(rows.iter().any(|r| &r.storage_key == reuploaded));
    for row in &rows {
        bucket
            .storage()
            .get(&row.storage_key)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", row.storage_key));
    }
    for key in &kept {
        assert!(
            rows.iter().any(|r| &r.storage_key == key),
            "{key} was deleted"
        );
    }
    let left: Vec<_> = rows.iter().map(|r| r.storage_key.clone()).collect();
    for key in gone.iter().filter(|k| !left.contains(k)) {
        assert!(
            matches!(
                bucket.storage().size(key).await,
                Err(StorageError::NotFound(_))
            ),
            "{key}"
        );
    }
}

#[tokio::test]
async fn a_local_media_folder_moves_into_a_bucket_with_the_cli() {
    let bucket = Bucket::new().await;
    let dir = std::env::temp_dir().join(format!("bdx-upload-{}", uuid::Uuid::new_v4().simple()));
    let local = LocalStorage::new(&dir);
    let files = [
        ("images/ab/ab12.png", &b"first"[..]),
        ("avatars/cd34.png", b"second"),
        ("conversions/x.png", b"3"),
    ];
    for (key, bytes) in files {
        local.put(key, bytes).await.unwrap();
    }
    let run = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_biologidex-api"));
        cmd.args(["media", "upload-local", "--from"])
            .arg(&dir)
            .env("DEBUG", "true")
            .env("MEDIA_STORAGE_URL", bucket.url());
        for (k, v) in Bucket::options(&bucket.endpoint) {
            cmd.env(k.to_ascii_uppercase(), v);
        }
        cmd.output().unwrap()
    };
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("copied 3 files (12 bytes)"), "{stdout}");
    for (key, bytes) in files {
        assert_eq!(bucket.storage().get(key).await.unwrap(), bytes, "{key}");
    }
    let out = run();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("copied 0 files (0 bytes)") && stdout.contains("3 already there"),
        "{stdout}"
    );
    // Without a bucket named, it refuses and says why.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .args(["media", "upload-local"])
        .env("DEBUG", "true")
        .env_remove("MEDIA_STORAGE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MEDIA_STORAGE_URL is not set"));
    std::fs::remove_dir_all(dir).unwrap();
}
