//! The BiologiDex worker: consumes apalis-redis queues, runs the cron schedule (on the replica
//! with `WORKER_RUN_CRON=true`) and serves its own `/health/` and `/metrics/`.

pub mod jobs;
pub mod metrics;
pub mod monitor;
pub mod schedule;
pub mod server;
pub mod state;
pub mod vision;
