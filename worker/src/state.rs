//! What every job can reach.

use std::sync::Arc;

use apalis_redis::ConnectionManager;
use biologidex_core::{config::Settings, redis_util::RedisPool};
use biologidex_db::DbPool;
use biologidex_media::storage::{self, SharedStorage};
use secrecy::ExposeSecret;

use crate::{
    metrics::WorkerMetrics,
    vision::{VisionProvider, openai::OpenAiProvider},
};

/// Shared worker state (cheap to clone).
#[derive(Debug, Clone)]
pub struct WorkerState {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub redis: RedisPool,
    /// The connection apalis storages are built on (also used to push follow-up jobs).
    pub queue_conn: ConnectionManager,
    pub metrics: WorkerMetrics,
    pub storage: SharedStorage,
    /// `None` when no API key is configured: jobs then fail with a clear message.
    pub vision: Option<Arc<dyn VisionProvider>>,
}

impl WorkerState {
    /// Connects to PostgreSQL (lazily) and Redis (now: a worker without Redis has no work).
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let queue_conn = apalis_redis::connect(settings.redis_url.as_str())
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to Redis at REDIS_URL: {e}"))?;
        let vision: Option<Arc<dyn VisionProvider>> = match &settings.openai_api_key {
            Some(key) => Some(Arc::new(OpenAiProvider::new(
                &settings.openai_base_url,
                key.expose_secret(),
            )?)),
            None => None,
        };
        Ok(WorkerState {
            storage: storage::open(settings.media_storage_url.as_deref(), &settings.media_root)?,
            vision,
            db: biologidex_db::build_pool(
                &settings.database_url,
                settings.database_pool_size,
                std::time::Duration::from_secs(5),
            ),
            redis: biologidex_core::redis_util::build_pool(&settings.redis_url, 8)?,
            queue_conn,
            metrics: WorkerMetrics::new()?,
            settings: Arc::new(settings),
        })
    }
}
