//! The small core every other crate and both binaries build on: configuration (`config`,
//! `legacy_env`), the error type the api maps to responses (`error`), logging and metrics
//! (`telemetry`, `metrics`), Redis helpers and the job payloads with their queues (`redis_util`,
//! `jobs`, `schedule`), the typed row ids (`ids`), the CPU pool (`cpu`), and the pure rules with no I/O: accounts
//! (`domain`: passwords, emails, usernames, friend codes) and vision (`vision`: prompt, answer
//! parsing, cost). Knows nothing of HTTP, SQL queries or apalis workers.

pub mod config;
pub mod cpu;
pub mod domain;
pub mod error;
pub mod graph_cache;
pub mod ids;
pub mod jobs;
pub mod legacy_env;
pub mod metrics;
pub mod redis_util;
pub mod schedule;
pub mod telemetry;
pub mod vision;

pub use error::{Error, Result};
