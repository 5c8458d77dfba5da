//! Job payloads and queue names shared by the api (which pushes) and the worker (which consumes).
//! Payloads carry ids only; the worker reloads state from PostgreSQL.

use std::time::Duration;

use apalis_redis::{Config, ConnectionManager, RedisStorage};
use serde::{Deserialize, Serialize};

/// How often an idle worker re-polls Redis and beats its heart: the worst-case pickup latency
/// (the poll waker alone sometimes stalls until the next heartbeat:
/// docs/stack-notes.md#poll-waker).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);
/// Missed heartbeats before a worker's in-flight jobs are handed to another worker.
pub const MISSED_HEARTBEATS: usize = 5;
/// How often a worker polls its queue between heartbeats.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// The apalis configuration of one queue, namespaced with the deployment's Redis key prefix.
pub fn queue_config(prefix: &str, queue: &str) -> Config {
    Config::default()
        .queue(format!("{prefix}:{queue}"))
        .heartbeat_interval(HEARTBEAT_INTERVAL)
        .missed_heartbeats(MISSED_HEARTBEATS)
}

/// How many jobs wait in a queue, and how many apalis gave up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    /// Active plus scheduled: pushed jobs wait in the scheduled set until a worker moves them
    /// to the active list.
    pub waiting: u64,
    pub dead: u64,
}

/// Reads `queue`'s counts in one Redis round trip (within the Redis deadline).
pub async fn queue_counts(
    redis: &crate::redis_util::RedisPool,
    prefix: &str,
    queue: &str,
) -> Result<QueueCounts, String> {
    let config = queue_config(prefix, queue);
    let keys = (
        config.active_jobs_list(),
        config.scheduled_jobs_set(),
        config.dead_jobs_set(),
    );
    crate::redis_util::run(redis, async move |c| {
        let (active, scheduled, dead): (u64, u64, u64) = redis::pipe()
            .cmd("LLEN")
            .arg(&keys.0)
            .cmd("ZCARD")
            .arg(&keys.1)
            .cmd("ZCARD")
            .arg(&keys.2)
            .query_async(c)
            .await?;
        Ok(QueueCounts {
            waiting: active + scheduled,
            dead,
        })
    })
    .await
}

/// A job type with its queue name.
pub trait Job: Serialize + for<'de> Deserialize<'de> + Send + Sync + Unpin + 'static {
    /// `<domain>.<kebab-action>`, never derived from the Rust type name.
    const QUEUE: &'static str;

    /// The queue's storage on an existing Redis connection.
    fn storage(conn: ConnectionManager, prefix: &str) -> RedisStorage<Self> {
        RedisStorage::new(conn).with_config(queue_config(prefix, Self::QUEUE))
    }
}

/// Delete refresh-token records past their expiry (cron; payload-free).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PurgeExpiredTokens;

impl Job for PurgeExpiredTokens {
    const QUEUE: &'static str = "accounts.purge-expired-tokens";
}

/// Run a taxonomy (Catalogue of Life) import job: its row names the release file. Idempotent:
/// a completed job is not run again, and an interrupted one starts over from the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunTaxonomyImport {
    pub import_job_id: uuid::Uuid,
}

impl Job for RunTaxonomyImport {
    const QUEUE: &'static str = "taxonomy.import";
}

/// The vision queue.
pub const VISION_QUEUE: &str = "vision.process-analysis";

/// Identify the animals in one analysis job's photo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessAnalysis {
    pub analysis_job_id: uuid::Uuid,
}

impl Job for ProcessAnalysis {
    const QUEUE: &'static str = VISION_QUEUE;
}

/// Periodic housekeeping (cron; payload names the task).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Housekeeping {
    pub task: String,
}

impl Job for Housekeeping {
    const QUEUE: &'static str = "maintenance.housekeeping";
}

/// Every queue a worker consumes, for health checks.
pub const ALL_QUEUES: &[&str] = &[
    VISION_QUEUE,
    PurgeExpiredTokens::QUEUE,
    Housekeeping::QUEUE,
    RunTaxonomyImport::QUEUE,
];
