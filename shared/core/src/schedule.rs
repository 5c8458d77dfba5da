//! Every cron expression in one place (the `cron` crate: six fields, seconds first). Only the
//! replica with `WORKER_RUN_CRON=true` ticks, and each tick takes a Redis `SET NX` lock so
//! that even several cron replicas never enqueue the same tick twice (docs/decisions.md#d17). A
//! tick only enqueues; the work runs on the queue workers.

use crate::jobs::HousekeepingTask;

/// What a tick enqueues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueues {
    PurgeExpiredTokens,
    Housekeeping(HousekeepingTask),
}

/// One scheduled task: when it runs and what it enqueues.
#[derive(Debug, Clone, Copy)]
pub struct CronTask {
    /// Name used in metrics, logs and the lock key (for housekeeping, the task's own name).
    pub name: &'static str,
    /// Six-field cron expression.
    pub expression: &'static str,
    pub enqueues: Enqueues,
}

const fn housekeeping(task: HousekeepingTask, expression: &'static str) -> CronTask {
    CronTask {
        name: task.name(),
        expression,
        enqueues: Enqueues::Housekeeping(task),
    }
}

/// Delete refresh-token records past their expiry: hourly, at minute 7.
pub const PURGE_EXPIRED_TOKENS: CronTask = CronTask {
    name: "purge_expired_tokens",
    expression: "0 7 * * * *",
    enqueues: Enqueues::PurgeExpiredTokens,
};

/// Re-enqueue vision jobs whose push was lost or whose worker died: every 20 seconds.
pub const REAP_VISION_JOBS: CronTask =
    housekeeping(HousekeepingTask::ReapVisionJobs, "*/20 * * * * *");

/// Delete expired unused conversions and unreferenced image files: every 10 minutes (the old
/// beat schedule), at second 30.
pub const CLEANUP_EXPIRED_CONVERSIONS: CronTask = housekeeping(
    HousekeepingTask::CleanupExpiredConversions,
    "30 */10 * * * *",
);

/// Delete finished jobs no dex entry came from, after the retention period: daily at 03:17.
pub const CLEANUP_OLD_ANALYSIS_JOBS: CronTask =
    housekeeping(HousekeepingTask::CleanupOldAnalysisJobs, "0 17 3 * * *");

/// Trim finished apalis bookkeeping in Redis: hourly, at minute 41.
pub const TRIM_QUEUES: CronTask = housekeeping(HousekeepingTask::TrimQueues, "0 41 * * * *");

/// Every scheduled task.
pub const ALL: &[CronTask] = &[
    PURGE_EXPIRED_TOKENS,
    REAP_VISION_JOBS,
    CLEANUP_EXPIRED_CONVERSIONS,
    CLEANUP_OLD_ANALYSIS_JOBS,
    TRIM_QUEUES,
];

/// The last run of a scheduled task, as the worker recorded it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct LastRun {
    /// Unix seconds of the run's end.
    pub at: i64,
    pub ok: bool,
    /// What it did, or its error.
    pub detail: String,
}

fn runs_key(settings: &crate::config::Settings) -> String {
    settings.redis_key("cron:last-run")
}

/// Records a task's run (one Redis hash for every task); failures are only logged.
pub async fn record_run(
    redis: &crate::redis_util::RedisPool,
    settings: &crate::config::Settings,
    task: &str,
    ok: bool,
    detail: String,
) {
    let run = LastRun {
        at: chrono::Utc::now().timestamp(),
        ok,
        detail,
    };
    let Ok(value) = serde_json::to_string(&run) else {
        return;
    };
    let key = runs_key(settings);
    let task = task.to_owned();
    let result = crate::redis_util::run(redis, async move |c| {
        redis::cmd("HSET")
            .arg(&key)
            .arg(&task)
            .arg(&value)
            .query_async::<()>(c)
            .await
    })
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "cron run not recorded");
    }
}

/// The last recorded run of every task that ran.
pub async fn last_runs(
    redis: &crate::redis_util::RedisPool,
    settings: &crate::config::Settings,
) -> Result<std::collections::HashMap<String, LastRun>, String> {
    let key = runs_key(settings);
    let raw: std::collections::HashMap<String, String> =
        crate::redis_util::run(redis, async move |c| {
            redis::cmd("HGETALL").arg(&key).query_async(c).await
        })
        .await?;
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|r| (k, r)))
        .collect())
}
