//! What every handler can reach: settings, the database and Redis pools, storage, metrics.

use std::sync::Arc;

use biologidex_core::{config::Settings, redis_util::RedisPool};
use biologidex_db::DbPool;
use biologidex_media::storage::SharedStorage;

use crate::{auth::jwt::Jwt, graph::LocalTrees, metrics::ApiMetrics, queue::JobQueue};

/// Shared application state (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub redis: RedisPool,
    pub storage: SharedStorage,
    pub metrics: ApiMetrics,
    pub jwt: Arc<Jwt>,
    /// Taxonomic trees this replica served lately (validated against Redis on every use).
    pub trees: Arc<LocalTrees>,
    pub jobs: Arc<JobQueue>,
}
