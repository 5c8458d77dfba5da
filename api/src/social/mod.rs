//! Friendships: lists, requests, answers, unfriending and checks.

mod dto;
mod lists;
mod requests;
pub mod schema;

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    lists::list_friendships,
    lists::list_friends,
    lists::list_pending,
    lists::list_sent,
    requests::check_friendship,
    requests::send_friend_request,
    lists::get_friendship,
    requests::respond_to_request,
    requests::unfriend,
))]
pub struct Doc;

/// Mounts `/social/friendships/...` (fixed paths before `{pk}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    const BASE: &str = "/social/friendships";
    cfg.service(resource(&format!("{BASE}/")).route(web::get().to(lists::list_friendships)))
        .service(resource(&format!("{BASE}/friends/")).route(web::get().to(lists::list_friends)))
        .service(resource(&format!("{BASE}/pending/")).route(web::get().to(lists::list_pending)))
        .service(resource(&format!("{BASE}/sent/")).route(web::get().to(lists::list_sent)))
        .service(
            resource(&format!("{BASE}/check/")).route(web::get().to(requests::check_friendship)),
        )
        .service(
            resource(&format!("{BASE}/send_request/"))
                .route(web::post().to(requests::send_friend_request)),
        )
        .service(resource(&format!("{BASE}/{{pk}}/")).route(web::get().to(lists::get_friendship)))
        .service(
            resource(&format!("{BASE}/{{pk}}/respond/"))
                .route(web::post().to(requests::respond_to_request)),
        )
        .service(
            resource(&format!("{BASE}/{{pk}}/unfriend/"))
                .route(web::delete().to(requests::unfriend)),
        );
}
