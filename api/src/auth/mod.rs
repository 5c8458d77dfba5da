//! Authentication: JWTs, the authenticated-user extractors, login, refresh and logout.

pub mod cache;
mod extract;
pub mod jwt;
mod login;
mod refresh;
pub mod schema;
pub mod tokens;

pub use extract::{AuthUser, MaybeAuthUser, bearer};

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(login::login, refresh::refresh, refresh::logout))]
pub struct Doc;

/// Mounts `/auth/...`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/login/").route(web::post().to(login::login)))
        .service(resource("/auth/refresh/").route(web::post().to(refresh::refresh)))
        .service(resource("/auth/logout/").route(web::post().to(refresh::logout)));
}
