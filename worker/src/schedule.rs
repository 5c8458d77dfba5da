//! Every cron expression in one place (the `cron` crate: six fields, seconds first). Only the
//! replica with `WORKER_RUN_CRON=true` ticks, and each tick takes a Redis `SET NX` lock so
//! that even several cron replicas never enqueue the same tick twice (DECISIONS 17).

/// One scheduled task: when it runs and what it enqueues.
#[derive(Debug, Clone, Copy)]
pub struct CronTask {
    /// Name used in metrics, logs and the lock key.
    pub name: &'static str,
    /// Six-field cron expression.
    pub expression: &'static str,
}

/// Delete refresh-token records past their expiry: hourly, at minute 7.
pub const PURGE_EXPIRED_TOKENS: CronTask = CronTask {
    name: "purge_expired_tokens",
    expression: "0 7 * * * *",
};

/// Every scheduled task.
pub const ALL: &[CronTask] = &[PURGE_EXPIRED_TOKENS];
