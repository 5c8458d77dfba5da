//! Periodic housekeeping (enqueued by cron ticks): the vision reaper, conversion and image
//! cleanup, old job cleanup, and trimming finished apalis bookkeeping in Redis.

use std::time::{Duration, Instant};

use apalis::prelude::{BoxDynError, Data, TaskSink};
use apalis_core::backend::Vacuum;
use biologidex_core::jobs::{Housekeeping, HousekeepingTask, Job, ProcessAnalysis, Queue};
use biologidex_db::models::{conversions::Conversion, images, vision::AnalysisJob};
use chrono::Utc;

use crate::{schedule, state::WorkerState};

/// A pending job is re-enqueued when its push seems lost after this long.
pub const PENDING_GRACE: Duration = Duration::from_secs(60);
/// Unreferenced image files are kept this long (an upload's transaction is long done).
const IMAGE_GRACE: chrono::Duration = chrono::Duration::hours(1);
/// Finished jobs no entry came from are kept this long.
const JOB_RETENTION: chrono::Duration = chrono::Duration::days(30);
/// Used conversions are kept this long after expiring (jobs hold their own image references).
const USED_CONVERSION_RETENTION: chrono::Duration = chrono::Duration::days(1);
/// Finished apalis task records older than this are trimmed.
const QUEUE_RETENTION: Duration = Duration::from_secs(86_400);

/// Re-enqueues stuck vision jobs (and refreshes the queue gauges); returns how many.
pub async fn reap_vision_jobs(state: &WorkerState) -> biologidex_core::Result<usize> {
    observe_queues(state).await;
    reap_with_grace(state, PENDING_GRACE).await
}

/// Sets the queue depth and dead-job gauges from Redis (best effort).
pub async fn observe_queues(state: &WorkerState) {
    for queue in Queue::ALL {
        let prefix = &state.settings.redis_key_prefix;
        if let Ok(c) = biologidex_core::jobs::queue_counts(&state.redis, prefix, queue).await {
            let depth = i64::try_from(c.waiting).unwrap_or(i64::MAX);
            let dead = i64::try_from(c.dead).unwrap_or(i64::MAX);
            state
                .metrics
                .queue_depth
                .with_label_values(&[queue.name()])
                .set(depth);
            state
                .metrics
                .queue_dead
                .with_label_values(&[queue.name()])
                .set(dead);
        }
    }
}

/// [`reap_vision_jobs`] with an explicit grace for pending jobs (tests use zero).
pub async fn reap_with_grace(
    state: &WorkerState,
    grace: Duration,
) -> biologidex_core::Result<usize> {
    let mut conn = state.db.get().await?;
    let ids = AnalysisJob::reapable(&mut conn, grace, 500).await?;
    drop(conn);
    let mut storage =
        ProcessAnalysis::storage(state.queue_conn.clone(), &state.settings.redis_key_prefix);
    for id in &ids {
        storage
            .push(ProcessAnalysis {
                analysis_job_id: *id,
            })
            .await
            .map_err(|e| biologidex_core::Error::Internal(anyhow::anyhow!("reaper push: {e}")))?;
    }
    if !ids.is_empty() {
        tracing::info!(count = ids.len(), "reaper re-enqueued vision jobs");
    }
    Ok(ids.len())
}

/// Deletes expired unused conversions, long-expired used ones, then unreferenced files.
pub async fn cleanup_expired_conversions(
    state: &WorkerState,
) -> biologidex_core::Result<(usize, usize)> {
    let mut conn = state.db.get().await?;
    let now = Utc::now();
    let mut conversions = Conversion::delete_expired_unused(&mut conn, now).await?;
    conversions +=
        Conversion::delete_used_older_than(&mut conn, now - USED_CONVERSION_RETENTION).await?;
    let files =
        images::delete_unreferenced(&mut conn, state.storage.as_ref(), now - IMAGE_GRACE, 1000)
            .await?;
    tracing::info!(conversions, files, "conversion cleanup");
    Ok((conversions, files))
}

/// Deletes finished jobs past retention that no dex entry was made from.
pub async fn cleanup_old_analysis_jobs(state: &WorkerState) -> biologidex_core::Result<usize> {
    let mut conn = state.db.get().await?;
    let n =
        AnalysisJob::delete_finished_unreferenced(&mut conn, Utc::now() - JOB_RETENTION).await?;
    tracing::info!(deleted = n, "old analysis jobs cleaned up");
    Ok(n)
}

/// Trims finished task records of every queue.
pub async fn trim_queues(state: &WorkerState) -> biologidex_core::Result<usize> {
    let prefix = &state.settings.redis_key_prefix;
    let mut n = 0;
    for queue in Queue::ALL {
        n += queue
            .untyped_storage(state.queue_conn.clone(), prefix)
            .vacuum_before(QUEUE_RETENTION)
            .await
            .map_err(|e| {
                biologidex_core::Error::Internal(anyhow::anyhow!("vacuum {}: {e}", queue.name()))
            })?;
    }
    Ok(n)
}

/// Runs one task.
pub async fn run(state: &WorkerState, task: HousekeepingTask) -> biologidex_core::Result<()> {
    match task {
        HousekeepingTask::ReapVisionJobs => reap_vision_jobs(state).await.map(drop),
        HousekeepingTask::CleanupExpiredConversions => {
            cleanup_expired_conversions(state).await.map(drop)
        }
        HousekeepingTask::CleanupOldAnalysisJobs => {
            cleanup_old_analysis_jobs(state).await.map(drop)
        }
        HousekeepingTask::TrimQueues => trim_queues(state).await.map(drop),
    }
}

/// apalis adapter for [`run`].
pub async fn housekeeping(job: Housekeeping, state: Data<WorkerState>) -> Result<(), BoxDynError> {
    let started = Instant::now();
    let result = run(&state, job.task).await;
    let detail = match &result {
        Ok(()) => "ok".to_owned(),
        Err(e) => e.to_string(),
    };
    schedule::record_run(
        &state.redis,
        &state.settings,
        job.task.name(),
        result.is_ok(),
        detail,
    )
    .await;
    state.metrics.record(
        Housekeeping::QUEUE.name(),
        result.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    result.map_err(Into::into)
}
