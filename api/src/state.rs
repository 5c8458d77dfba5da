//! What every handler can reach: settings, the database and Redis pools, storage, metrics.

use std::sync::Arc;

use biologidex_core::{config::Settings, redis_util::RedisPool};
use biologidex_db::{DbConn, DbPool, replica::ReadRouter};
use biologidex_media::storage::SharedStorage;
use diesel_async::pooled_connection::bb8::RunError;

use crate::{
    auth::cache::AuthCache, auth::jwt::Jwt, graph::LocalTrees, metrics::ApiMetrics, queue::JobQueue,
};

/// Shared application state (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    /// The primary: writes, and reads that must see the caller's own last write.
    pub db: DbPool,
    /// Reads that may lag: replicas when configured (`read_db`).
    pub reads: Arc<ReadRouter>,
    pub redis: RedisPool,
    pub storage: SharedStorage,
    pub metrics: ApiMetrics,
    pub jwt: Arc<Jwt>,
    /// Users authenticated lately, dropped when PostgreSQL announces a change.
    pub auth_cache: Arc<AuthCache>,
    /// Taxonomic trees this replica served lately (validated against Redis on every use).
    pub trees: Arc<LocalTrees>,
    pub jobs: Arc<JobQueue>,
}

impl AppState {
    /// A connection for a read that may lag the primary by up to
    /// `DATABASE_REPLICA_MAX_LAG_SECONDS`: catalogues (animals, taxonomy), other users'
    /// profiles, trees being rebuilt (docs/decisions.md#d28). A usable replica when one is
    /// configured, else the primary.
    pub async fn read_db(&self) -> Result<DbConn<'_>, RunError> {
        self.reads.read().await
    }
}
