//! The BiologiDex HTTP API (actix-web). `startup` wires the domains; each domain module owns
//! its routes.

pub mod admin;
pub mod animals;
pub mod auth;
pub mod cli;
pub mod demo;
pub mod dex;
pub mod docs;
pub mod error;
pub mod fallback;
pub mod graph;
pub mod health;
pub mod ids;
pub mod images;
pub mod import;
pub mod input;
pub mod json;
pub mod landing;
pub mod media;
pub mod metrics;
pub mod observe;
pub mod pagination;
pub mod queue;
pub mod request;
pub mod social;
pub mod startup;
pub mod state;
pub mod taxonomy;
pub mod throttle;
pub mod upload;
pub mod urls;
pub mod users;
pub mod vision;

pub use error::{ApiError, ApiResult};
