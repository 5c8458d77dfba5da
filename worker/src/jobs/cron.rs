//! The cron adapter: a tick takes the tick's Redis lock and, if it won it, enqueues the task's
//! job, so the work itself runs on the queue workers with retries and at-least-once delivery.

use std::time::Duration;

use apalis::prelude::{BoxDynError, Data, TaskSink};
use apalis_cron::Tick;
use biologidex_core::jobs::{Housekeeping, Job, PurgeExpiredTokens};

use crate::{
    schedule::{CronTask, Enqueues},
    state::WorkerState,
};

/// How long a tick's lock lives: longer than any clock skew between replicas.
const TICK_LOCK_TTL: Duration = Duration::from_secs(600);

/// Enqueues `job` for `task` unless another replica already did for this tick.
pub async fn enqueue_once<J: Job + Clone>(
    state: &WorkerState,
    task: CronTask,
    tick_timestamp: u64,
    job: J,
) -> Result<bool, BoxDynError> {
    let key = state
        .settings
        .redis_key(&format!("cron:{}:{tick_timestamp}", task.name));
    let won = biologidex_core::redis_util::try_lock(&state.redis, &key, TICK_LOCK_TTL).await?;
    let outcome = if won { "enqueued" } else { "skipped" };
    state
        .metrics
        .cron_ticks
        .with_label_values(&[task.name, outcome])
        .inc();
    if won {
        let mut storage = J::storage(state.queue_conn.clone(), &state.settings.redis_key_prefix);
        storage.push(job).await?;
        tracing::debug!(task = task.name, "cron tick enqueued");
    }
    Ok(won)
}

/// Cron handler shared by every task (the task comes in as worker data).
pub async fn on_tick(
    tick: Tick,
    state: Data<WorkerState>,
    task: Data<CronTask>,
) -> Result<(), BoxDynError> {
    let at = tick.get_timestamp();
    match task.enqueues {
        Enqueues::PurgeExpiredTokens => enqueue_once(&state, *task, at, PurgeExpiredTokens).await?,
        Enqueues::Housekeeping(job) => {
            enqueue_once(&state, *task, at, Housekeeping { task: job }).await?
        }
    };
    Ok(())
}
