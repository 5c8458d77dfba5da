//! The BiologiDex HTTP API (actix-web). `startup` wires the domains; each domain module owns
//! its routes.

pub mod auth;
pub mod cli;
pub mod error;
pub mod fallback;
pub mod health;
pub mod ids;
pub mod input;
pub mod json;
pub mod media;
pub mod metrics;
pub mod observe;
pub mod pagination;
pub mod social;
pub mod startup;
pub mod state;
pub mod taxonomy;
pub mod throttle;
pub mod urls;
pub mod users;

pub use error::{ApiError, ApiResult};
