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
pub fn queue_config(prefix: &str, queue: Queue) -> Config {
    Config::default()
        .queue(format!("{prefix}:{}", queue.name()))
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
    queue: Queue,
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

/// Every queue: the one list the worker consumes, the health checks count and housekeeping
/// trims. A new job type adds its variant here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    Vision,
    PurgeExpiredTokens,
    Housekeeping,
    TaxonomyImport,
}

impl Queue {
    pub const ALL: [Queue; 4] = [
        Queue::Vision,
        Queue::PurgeExpiredTokens,
        Queue::Housekeeping,
        Queue::TaxonomyImport,
    ];

    /// `<domain>.<kebab-action>`, never derived from the Rust type name (a rename would orphan
    /// queued jobs: docs/stack-notes.md#queue-names).
    pub const fn name(self) -> &'static str {
        match self {
            Queue::Vision => "vision.process-analysis",
            Queue::PurgeExpiredTokens => "accounts.purge-expired-tokens",
            Queue::Housekeeping => "maintenance.housekeeping",
            Queue::TaxonomyImport => "taxonomy.import",
        }
    }

    /// This queue's storage on an existing Redis connection, whatever its payload type (for
    /// bookkeeping such as trimming, which never reads payloads).
    pub fn untyped_storage(
        self,
        conn: ConnectionManager,
        prefix: &str,
    ) -> RedisStorage<serde_json::Value> {
        RedisStorage::new(conn).with_config(queue_config(prefix, self))
    }
}

/// A job type with its queue.
pub trait Job: Serialize + for<'de> Deserialize<'de> + Send + Sync + Unpin + 'static {
    const QUEUE: Queue;

    /// The queue's storage on an existing Redis connection.
    fn storage(conn: ConnectionManager, prefix: &str) -> RedisStorage<Self> {
        RedisStorage::new(conn).with_config(queue_config(prefix, Self::QUEUE))
    }
}

/// Delete refresh-token records past their expiry (cron; payload-free).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PurgeExpiredTokens;

impl Job for PurgeExpiredTokens {
    const QUEUE: Queue = Queue::PurgeExpiredTokens;
}

/// Run a taxonomy (Catalogue of Life) import job: its row names the release file. Idempotent:
/// a completed job is not run again, and an interrupted one starts over from the file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RunTaxonomyImport {
    pub import_job_id: crate::ids::TaxonomyImportJobId,
}

impl Job for RunTaxonomyImport {
    const QUEUE: Queue = Queue::TaxonomyImport;
}

/// Identify the animals in one analysis job's photo.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessAnalysis {
    pub analysis_job_id: crate::ids::AnalysisJobId,
}

impl Job for ProcessAnalysis {
    const QUEUE: Queue = Queue::Vision;
}

/// The periodic housekeeping tasks. On the wire (the job payload, the cron lock key, the
/// console's last-run list) each is its snake_case name.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum HousekeepingTask {
    /// Re-enqueue vision jobs whose push was lost or whose worker died.
    ReapVisionJobs,
    /// Delete expired unused conversions and unreferenced image files.
    CleanupExpiredConversions,
    /// Delete finished jobs no dex entry came from, after the retention period.
    CleanupOldAnalysisJobs,
    /// Trim finished apalis bookkeeping of every queue in Redis.
    TrimQueues,
}

impl HousekeepingTask {
    /// The snake_case name, as serialized.
    pub const fn name(self) -> &'static str {
        match self {
            HousekeepingTask::ReapVisionJobs => "reap_vision_jobs",
            HousekeepingTask::CleanupExpiredConversions => "cleanup_expired_conversions",
            HousekeepingTask::CleanupOldAnalysisJobs => "cleanup_old_analysis_jobs",
            HousekeepingTask::TrimQueues => "trim_queues",
        }
    }
}

/// Periodic housekeeping (cron): one task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Housekeeping {
    pub task: HousekeepingTask,
}

impl Job for Housekeeping {
    const QUEUE: Queue = Queue::Housekeeping;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn housekeeping_payloads_keep_their_wire_names() {
        for task in [
            HousekeepingTask::ReapVisionJobs,
            HousekeepingTask::CleanupExpiredConversions,
            HousekeepingTask::CleanupOldAnalysisJobs,
            HousekeepingTask::TrimQueues,
        ] {
            let wire = serde_json::to_value(Housekeeping { task }).unwrap_or_default();
            assert_eq!(wire, serde_json::json!({ "task": task.name() }));
        }
    }

    #[test]
    fn queue_names_are_distinct() {
        let names: std::collections::HashSet<_> = Queue::ALL.iter().map(|q| q.name()).collect();
        assert_eq!(names.len(), Queue::ALL.len());
    }
}
