//! `TestApp`: the production `Application::build` on port 0 against a fresh database.

use std::{collections::HashMap, sync::Arc};

use api::{startup::Application, state::AppState};
use biologidex_core::config::Settings;
use biologidex_db::testing::TestDb;
use biologidex_media::storage::{ObjectStorage, SharedStorage};
use serde_json::{Value, json};

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: Arc<TestDb>,
}

/// Settings every test app starts from; `overrides` win.
pub fn test_settings(db_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let media = std::env::temp_dir().join(format!("bdx-media-{}", uuid::Uuid::new_v4().simple()));
    let media = media.to_string_lossy().into_owned();
    let redis = biologidex_db::testing::redis_url();
    let prefix = biologidex_db::testing::redis_prefix();
    let mut map: HashMap<&str, &str> = HashMap::from([
        (
            "SECRET_KEY",
            "test-secret-key-that-is-long-enough-0123456789",
        ),
        ("DATABASE_URL", db_url),
        ("DB_POOL_SIZE", "8"),
        ("REDIS_URL", redis.as_str()),
        ("REDIS_KEY_PREFIX", prefix.as_str()),
        ("BIND_ADDRESS", "127.0.0.1:0"),
        ("HTTP_WORKERS", "1"),
        ("MEDIA_ROOT", media.as_str()),
    ]);
    map.extend(overrides.iter().copied());
    Settings::from_map(&map).expect("test settings")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(overrides: &[(&str, &str)]) -> TestApp {
        let db = TestDb::new().await;
        Self::spawn_on(db, overrides).await
    }

    pub async fn spawn_on(db: TestDb, overrides: &[(&str, &str)]) -> TestApp {
        Self::spawn_on_storage(db, overrides, None).await
    }

    /// An app whose media live in `bucket` (reached through `endpoint`, the bucket's own by
    /// default).
    pub async fn spawn_s3(bucket: &Bucket, overrides: &[(&str, &str)]) -> TestApp {
        let url = bucket.url();
        let mut all = vec![("MEDIA_STORAGE_URL", url.as_str())];
        all.extend_from_slice(overrides);
        let storage = bucket.storage();
        Self::spawn_on_storage(TestDb::new().await, &all, Some(storage)).await
    }

    /// An app on a fresh database with the given store.
    pub async fn spawn_on_storage_for_test(
        overrides: &[(&str, &str)],
        storage: SharedStorage,
    ) -> TestApp {
        Self::spawn_on_storage(TestDb::new().await, overrides, Some(storage)).await
    }

    async fn spawn_on_storage(
        db: TestDb,
        overrides: &[(&str, &str)],
        storage: Option<SharedStorage>,
    ) -> TestApp {
        let settings = test_settings(db.url(), overrides);
        let app = match storage {
            Some(storage) => Application::build_with_storage(settings, storage).await,
            None => Application::build(settings).await,
        }
        .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            address,
            client,
            state,
            db: Arc::new(db),
        }
    }

    /// A second app on the same database and Redis namespace (another api replica).
    pub async fn sibling(&self, overrides: &[(&str, &str)]) -> TestApp {
        self.sibling_with_storage(overrides, None).await
    }

    /// `sibling` with its own media store (a bucket client of its own, its own MEDIA_ROOT).
    pub async fn sibling_with_storage(
        &self,
        overrides: &[(&str, &str)],
        storage: Option<SharedStorage>,
    ) -> TestApp {
        let prefix = self.state.settings.redis_key_prefix.clone();
        let url = self
            .state
            .settings
            .media_storage_url
            .clone()
            .unwrap_or_default();
        let mut all = vec![("REDIS_KEY_PREFIX", prefix.as_str())];
        if storage.is_some() {
            all.push(("MEDIA_STORAGE_URL", url.as_str()));
        }
        all.extend_from_slice(overrides);
        let settings = test_settings(self.db.url(), &all);
        let app = match storage {
            Some(storage) => Application::build_with_storage(settings, storage).await,
            None => Application::build(settings).await,
        }
        .expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            client: self.client.clone(),
            state,
            db: self.db.clone(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

/// A bucket of its own in the S3-compatible server the test command starts (`ops/dev/s3`,
/// `TEST_S3_ENDPOINT`).
pub struct Bucket {
    pub name: String,
    pub endpoint: String,
}

impl Bucket {
    pub async fn new() -> Bucket {
        let endpoint = std::env::var("TEST_S3_ENDPOINT")
            .unwrap_or_else(|_| "http://127.0.0.1:9010".to_owned());
        let name = format!("bdx-{}", uuid::Uuid::new_v4().simple());
        // moto creates a bucket on an unsigned PUT.
        let res = reqwest::Client::new()
            .put(format!("{endpoint}/{name}"))
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("no S3-compatible server at {endpoint} ({e}): start one with ops/dev/s3")
            });
        assert!(
            res.status().is_success(),
            "creating bucket {name}: {}",
            res.status()
        );
        Bucket { name, endpoint }
    }

    /// `MEDIA_STORAGE_URL` of this bucket.
    pub fn url(&self) -> String {
        format!("s3://{}/media", self.name)
    }

    /// The object_store options reaching the server at `endpoint`.
    pub fn options(endpoint: &str) -> Vec<(&'static str, String)> {
        vec![
            ("aws_endpoint", endpoint.to_owned()),
            ("aws_access_key_id", "test".to_owned()),
            ("aws_secret_access_key", "test".to_owned()),
            ("aws_region", "us-east-1".to_owned()),
            ("aws_allow_http", "true".to_owned()),
        ]
    }

    /// A client of this bucket through `endpoint` (a proxy in front of the server, say).
    pub fn storage_via(&self, endpoint: &str) -> SharedStorage {
        let opts = Self::options(endpoint);
        let opts: Vec<(&str, &str)> = opts.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Arc::new(ObjectStorage::from_url_opts(&self.url(), &opts).expect("object storage"))
    }

    pub fn storage(&self) -> SharedStorage {
        self.storage_via(&self.endpoint)
    }
}

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The password every test user gets.
pub const PASSWORD: &str = "correct-horse-9";

/// A registered, logged-in user.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request")
    }

    /// Sends and returns the status and the JSON body (`null` for an empty body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let res = self.send(method.clone(), path, token, body.as_ref()).await;
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("json body")
        };
        crate::conformance::check(method.as_str(), path, status, &json);
        (status, json)
    }

    pub async fn get_as(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post_as(&self, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn register(&self, username: &str) -> (u16, Value) {
        self.post_as(
            "/api/v1/users/",
            None,
            json!({
                "username": username,
                "email": format!("{username}@example.com"),
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            }),
        )
        .await
    }

    pub async fn login(&self, username: &str, password: &str) -> (u16, Value) {
        self.post_as(
            "/api/v1/auth/login/",
            None,
            json!({"username": username, "password": password}),
        )
        .await
    }

    /// Registers and logs in.
    pub async fn user(&self, username: &str) -> TestUser {
        let (status, body) = self.register(username).await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = self.login(username, PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        TestUser {
            id: body["user"]["id"].as_str().expect("id").to_owned(),
            access: body["access"].as_str().expect("access").to_owned(),
            refresh: body["refresh"].as_str().expect("refresh").to_owned(),
        }
    }

    /// Runs SQL against this test's database, then waits until this app's authentication
    /// cache has heard every change it caused (as another tool's change would reach it).
    pub async fn sql(&self, query: &str) {
        use biologidex_db::auth_watch::{CHANNEL, FENCE};
        use diesel_async::RunQueryDsl;
        let mut conn = self.state.db.get().await.expect("conn");
        let cache = &self.state.auth_cache;
        let fences = cache.fences_heard();
        diesel::sql_query(query)
            .execute(&mut conn)
            .await
            .expect("sql");
        if !cache.is_live() {
            return;
        }
        diesel::sql_query(format!("NOTIFY {CHANNEL}, '{FENCE}'"))
            .execute(&mut conn)
            .await
            .expect("notify");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while cache.fences_heard() == fences && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Creates an animal through the API and returns its id.
    pub async fn animal(&self, who: &TestUser, name: &str) -> String {
        let (s, body) = self
            .post_as(
                "/api/v1/animals/",
                Some(&who.access),
                json!({"scientific_name": name, "common_name": name}),
            )
            .await;
        assert_eq!(s, 201, "{body}");
        body["id"].as_str().expect("id").to_owned()
    }

    /// A completed vision job of `who` whose image is a generated PNG; returns the job id.
    pub async fn job_with_image(&self, who: &TestUser, seed: u8) -> String {
        use diesel_async::{AsyncConnection, RunQueryDsl};
        let png = test_png(32, 24, seed);
        let converted =
            biologidex_media::images::convert(&png, biologidex_media::images::Edits::default())
                .expect("convert");
        let storage = self.state.storage.clone();
        let user = uuid::Uuid::parse_str(&who.id).expect("uuid");
        let mut conn = self.state.db.get().await.expect("conn");
        let job: uuid::Uuid = conn
            .transaction::<_, anyhow::Error, _>(async |conn| {
                let image = biologidex_db::models::images::store(conn, storage.as_ref(), &converted.image).await?;
                #[derive(diesel::QueryableByName)]
                struct Id {
                    #[diesel(sql_type = diesel::sql_types::Uuid)]
                    id: uuid::Uuid,
                }
                let row: Id = diesel::sql_query(
                    "INSERT INTO analysis_jobs (user_id, image_id, image_token, status, completed_at) \
                     VALUES ($1, $2, md5(random()::text), 'completed', now()) RETURNING id",
                )
                .bind::<diesel::sql_types::Uuid, _>(user)
                .bind::<diesel::sql_types::Uuid, _>(image)
                .get_result(conn)
                .await?;
                Ok(row.id)
            })
            .await
            .expect("job");
        job.to_string()
    }

    /// Makes `a` and `b` friends through the API.
    pub async fn befriend(&self, a: &TestUser, b: &TestUser) {
        let (s, row) = self
            .post_as(
                "/api/v1/social/friendships/send_request/",
                Some(&a.access),
                json!({"user_id": b.id}),
            )
            .await;
        assert_eq!(s, 201, "{row}");
        let path = format!(
            "/api/v1/social/friendships/{}/respond/",
            row["id"].as_str().expect("id")
        );
        let (s, row) = self
            .post_as(&path, Some(&b.access), json!({"action": "accept"}))
            .await;
        assert_eq!(s, 200, "{row}");
    }

    /// A multipart POST as `who`.
    pub async fn post_multipart(
        &self,
        path: &str,
        who: &TestUser,
        form: reqwest::multipart::Form,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(&who.access)
            .multipart(form)
            .send()
            .await
            .expect("request")
    }

    /// GET without credentials (as the client downloads images).
    pub async fn fetch(&self, url: &str) -> (u16, Vec<u8>) {
        let res = self.client.get(url).send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.bytes().await.expect("bytes").to_vec())
    }
}

/// A small PNG whose pixels depend on `seed` (distinct seeds give distinct files).
pub fn test_png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([seed, (x * 7) as u8, (y * 11) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("png");
    out.into_inner()
}

/// A real worker running in this process on the app's database, Redis namespace and media
/// root; it stops when dropped.
pub struct TestWorker {
    pub state: worker::state::WorkerState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestWorker {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// Worker settings matching this app (same database, prefix and media), no cron.
    pub fn worker_settings(&self, openai_base: &str, api_key: Option<&str>) -> Settings {
        let mut s = (*self.state.settings).clone();
        s.worker_run_cron = false;
        s.openai_base_url = openai_base.to_owned();
        s.openai_api_key = api_key.map(|k| secrecy::SecretString::from(k.to_owned()));
        s.vision_retry_base = std::time::Duration::ZERO;
        s
    }

    /// Imports the sample Catalogue of Life release (`shared/testdata/coldp-sample`).
    pub async fn import_sample(&self) {
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/testdata/coldp-sample");
        biologidex_taxonomy::import::import_path(
            &self.state.db,
            self.db.url(),
            &sample,
            &Default::default(),
        )
        .await
        .expect("sample import");
    }

    /// Family node ids (`family_<path>`) of the caller's tree.
    pub async fn tree_families(&self, token: &str) -> Vec<String> {
        let (s, t) = self.get_as("/api/v1/graph/tree/", token).await;
        assert_eq!(s, 200, "{t}");
        t["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter_map(|n| n["id"].as_str())
            .filter(|id| id.starts_with("family_"))
            .map(str::to_owned)
            .collect()
    }

    /// Starts a worker consuming this app's queues.
    pub async fn start_worker(&self, openai_base: &str, api_key: Option<&str>) -> TestWorker {
        let mut state =
            worker::state::WorkerState::connect(self.worker_settings(openai_base, api_key))
                .await
                .expect("worker state");
        // The app's own store (an object store client made with the test server's endpoint).
        state.storage = self.state.storage.clone();
        let (monitor, _fatal) = worker::monitor::build(&state).expect("monitor");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(monitor.run_with_signal(async move {
            let _ = rx.await;
            Ok(())
        }));
        TestWorker {
            state,
            stop: Some(tx),
        }
    }

    /// Polls a job until it leaves pending/processing (the client's loop), at most `secs`.
    pub async fn wait_for_job(&self, who: &TestUser, id: &str, secs: u64) -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let (status, job) = self
                .get_as(&format!("/api/v1/vision/jobs/{id}/"), &who.access)
                .await;
            assert_eq!(status, 200, "{job}");
            let state = job["status"].as_str().unwrap_or_default().to_owned();
            if state == "completed" || state == "failed" || std::time::Instant::now() > deadline {
                return job;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
}
