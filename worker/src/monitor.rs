//! Wires every queue worker and cron task under one apalis `Monitor`.

use std::{str::FromStr, sync::Arc, time::Duration};

use apalis::prelude::*;
use apalis_cron::CronScheduler;
use biologidex_core::jobs::{
    self, Housekeeping, Job, ProcessAnalysis, PurgeExpiredTokens, RunTaxonomyImport,
};
use tokio::sync::Notify;

use crate::{
    jobs::{accounts, cron, housekeeping, taxonomy, vision},
    schedule,
    state::WorkerState,
};

/// How long shutdown waits for in-flight jobs before giving up.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Restarts of one worker (e.g. after a Redis restart) before the process gives up and exits,
/// so systemd or the orchestrator restarts it instead of leaving a process that consumes nothing.
const MAX_RESTARTS: usize = 20;

/// A unique worker name: apalis-redis refuses a name seen within the orphan window, and a
/// restarted worker must not collide with its own previous registration
/// (docs/stack-notes.md#worker-names).
fn worker_name(queue: &str, instance: &str, restarts: usize) -> String {
    format!("{queue}-{instance}-r{restarts}")
}

/// The monitor, plus a notifier that fires when a worker died for good.
pub fn build(state: &WorkerState) -> anyhow::Result<(Monitor, Arc<Notify>)> {
    let fatal = Arc::new(Notify::new());
    let instance = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "worker".to_owned()),
        uuid::Uuid::new_v4().simple()
    );
    let fatal_cb = fatal.clone();
    let mut monitor = Monitor::new()
        .shutdown_timeout(SHUTDOWN_TIMEOUT)
        .should_restart(move |ctx, err| {
            let again = ctx.restarts() < MAX_RESTARTS;
            tracing::error!(worker = ctx.name(), error = %err, restart = again, "worker stopped");
            if !again {
                fatal_cb.notify_one();
            }
            again
        });

    let s = state.clone();
    let inst = instance.clone();
    monitor = monitor.register(move |restarts| {
        let storage =
            PurgeExpiredTokens::storage(s.queue_conn.clone(), &s.settings.redis_key_prefix)
                .poll_with_interval(jobs::POLL_INTERVAL);
        WorkerBuilder::new(worker_name(
            PurgeExpiredTokens::QUEUE.name(),
            &inst,
            restarts,
        ))
        .backend(storage)
        .data(s.clone())
        .concurrency(1)
        .enable_tracing()
        .build(accounts::purge_expired_tokens)
    });

    // Imports run one at a time (they also take a database lock) and for minutes.
    let s = state.clone();
    let inst = instance.clone();
    monitor = monitor.register(move |restarts| {
        let storage =
            RunTaxonomyImport::storage(s.queue_conn.clone(), &s.settings.redis_key_prefix)
                .poll_with_interval(jobs::POLL_INTERVAL);
        WorkerBuilder::new(worker_name(
            RunTaxonomyImport::QUEUE.name(),
            &inst,
            restarts,
        ))
        .backend(storage)
        .data(s.clone())
        .concurrency(1)
        .enable_tracing()
        .build(taxonomy::taxonomy_import)
    });

    let s = state.clone();
    let inst = instance.clone();
    monitor = monitor.register(move |restarts| {
        let storage = Housekeeping::storage(s.queue_conn.clone(), &s.settings.redis_key_prefix)
            .poll_with_interval(jobs::POLL_INTERVAL);
        WorkerBuilder::new(worker_name(Housekeeping::QUEUE.name(), &inst, restarts))
            .backend(storage)
            .data(s.clone())
            .concurrency(1)
            .enable_tracing()
            .build(housekeeping::housekeeping)
    });

    // Vision jobs wait on the provider most of the time: several run at once per worker.
    let s = state.clone();
    let inst = instance.clone();
    let concurrency = state.settings.worker_concurrency.max(1);
    monitor = monitor.register(move |restarts| {
        let storage = ProcessAnalysis::storage(s.queue_conn.clone(), &s.settings.redis_key_prefix)
            .poll_with_interval(jobs::POLL_INTERVAL);
        WorkerBuilder::new(worker_name(ProcessAnalysis::QUEUE.name(), &inst, restarts))
            .backend(storage)
            .data(s.clone())
            .concurrency(concurrency)
            .enable_tracing()
            .build(vision::process_analysis)
    });

    if state.settings.worker_run_cron {
        for task in schedule::ALL {
            let when = parse_schedule(task.expression)?;
            let s = state.clone();
            let inst = instance.clone();
            let task = *task;
            monitor = monitor.register(move |restarts| {
                WorkerBuilder::new(worker_name(&format!("cron.{}", task.name), &inst, restarts))
                    .backend(CronScheduler::new(when.clone()))
                    .data(s.clone())
                    .data(task)
                    .build(cron::on_tick)
            });
        }
    }
    Ok((monitor, fatal))
}

/// Parses a six-field cron expression.
pub fn parse_schedule(expression: &str) -> anyhow::Result<::cron::Schedule> {
    ::cron::Schedule::from_str(expression)
        .map_err(|e| anyhow::anyhow!("bad cron `{expression}`: {e}"))
}
