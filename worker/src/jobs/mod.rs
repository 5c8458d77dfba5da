//! Job handlers, one file per domain. Each job has a testable `run` and a thin apalis adapter.

pub mod accounts;
pub mod cron;
pub mod housekeeping;
pub mod vision;
