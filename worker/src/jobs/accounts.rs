//! Account housekeeping jobs.

use std::time::Instant;

use apalis::prelude::{BoxDynError, Data};
use biologidex_core::jobs::{Job, PurgeExpiredTokens};
use biologidex_db::models::tokens;

use crate::state::WorkerState;

/// Deletes expired refresh-token records; returns how many went. Idempotent.
pub async fn run_purge_expired_tokens(state: &WorkerState) -> biologidex_core::Result<usize> {
    let mut conn = state.db.get().await?;
    let deleted = tokens::purge_expired(&mut conn).await?;
    tracing::info!(deleted, "purged expired refresh tokens");
    Ok(deleted)
}

/// apalis adapter for [`run_purge_expired_tokens`].
pub async fn purge_expired_tokens(
    _job: PurgeExpiredTokens,
    state: Data<WorkerState>,
) -> Result<(), BoxDynError> {
    let started = Instant::now();
    let result = run_purge_expired_tokens(&state).await;
    let detail = match &result {
        Ok(n) => format!("{n} expired tokens purged"),
        Err(e) => e.to_string(),
    };
    crate::schedule::record_run(
        &state.redis,
        &state.settings,
        crate::schedule::PURGE_EXPIRED_TOKENS.name,
        result.is_ok(),
        detail,
    )
    .await;
    state.metrics.record(
        PurgeExpiredTokens::QUEUE.name(),
        result.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    result.map(|_| ()).map_err(Into::into)
}
