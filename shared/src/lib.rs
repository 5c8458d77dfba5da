//! Code shared by the api and worker binaries: configuration, telemetry, errors, the database
//! layer, job payloads, media storage and pure domain rules. Knows nothing of HTTP or apalis
//! workers.

pub mod admin;
pub mod config;
pub mod cpu;
pub mod db;
pub mod django_import;
pub mod domain;
pub mod error;
pub mod graph_cache;
pub mod images;
pub mod jobs;
pub mod legacy_env;
pub mod metrics;
pub mod redis_util;
pub mod schedule;
pub mod storage;
pub mod taxonomy;
pub mod telemetry;
pub mod tree;
pub mod vision;

#[cfg(feature = "test-util")]
pub mod testing;

pub use error::{Error, Result};
