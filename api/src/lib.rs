//! The BiologiDex HTTP API (actix-web). `startup` wires the domains; each domain module owns
//! its routes.

pub mod error;
pub mod fallback;
pub mod health;
pub mod metrics;
pub mod observe;
pub mod pagination;
pub mod startup;
pub mod state;
pub mod urls;

pub use error::{ApiError, ApiResult};
