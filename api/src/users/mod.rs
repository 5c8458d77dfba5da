//! Accounts: registration, profiles, friend codes, stats and password changes.

mod dto;
pub mod fields;
mod friend_code;
mod password;
mod profile;
mod register;
pub mod schema;

pub use dto::UserResponse;

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    profile::list_users,
    register::register_user,
    profile::get_me,
    password::change_password,
    friend_code::get_friend_code,
    friend_code::lookup_friend_code,
    profile::get_user,
    profile::update_user,
    profile::delete_user,
    profile::update_stats,
))]
pub struct Doc;

/// Mounts `/users/...` (fixed paths before `{pk}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/users/")
            .route(web::get().to(profile::list_users))
            .route(web::post().to(register::register_user)),
    )
    .service(resource("/users/me/").route(web::get().to(profile::get_me)))
    .service(resource("/users/me/password/").route(web::post().to(password::change_password)))
    .service(resource("/users/friend_code/").route(web::get().to(friend_code::get_friend_code)))
    .service(
        resource("/users/lookup_friend_code/")
            .route(web::post().to(friend_code::lookup_friend_code)),
    )
    .service(
        resource("/users/{pk}/")
            .route(web::get().to(profile::get_user))
            .route(web::put().to(profile::update_user))
            .route(web::patch().to(profile::update_user))
            .route(web::delete().to(profile::delete_user)),
    )
    .service(resource("/users/{pk}/update_stats/").route(web::post().to(profile::update_stats)));
}
