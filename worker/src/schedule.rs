//! The cron schedule lives in `biologidex-core` (the console lists it); re-exported for the worker.

pub use biologidex_core::schedule::*;
