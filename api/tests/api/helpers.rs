//! `TestApp`: the production `Application::build` on port 0 against a fresh database.

use std::collections::HashMap;

use api::{startup::Application, state::AppState};
use shared::{config::Settings, testing::TestDb};

#[expect(
    dead_code,
    reason = "state and db are for the domain tests that follow"
)]
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
}

/// Settings every test app starts from; `overrides` win.
pub fn test_settings(db_url: &str, overrides: &[(&str, &str)]) -> Settings {
    let media = std::env::temp_dir().join(format!("bdx-media-{}", uuid::Uuid::new_v4().simple()));
    let media = media.to_string_lossy().into_owned();
    let redis = shared::testing::redis_url();
    let prefix = shared::testing::redis_prefix();
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
        let settings = test_settings(db.url(), overrides);
        let app = Application::build(settings).await.expect("build app");
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
            db,
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

/// A port nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}
