//! Dex entries: a player's catches, their visibility, and sync for the client's local dex.

mod dto;
mod fields;
mod read;
pub mod schema;
mod sync;
mod viewer;
mod write;

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    read::list_entries,
    write::create_entry,
    read::my_entries,
    read::favorites,
    read::recent,
    read::by_animal,
    sync::sync_entries,
    sync::friends_overview,
    sync::batch_sync,
    sync::user_entries,
    read::get_entry,
    write::update_entry,
    write::delete_entry,
    write::toggle_favorite,
))]
pub struct Doc;

/// Mounts `/dex/entries/...` (fixed paths before `{pk}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    const BASE: &str = "/dex/entries";
    cfg.service(
        resource(&format!("{BASE}/"))
            .route(web::get().to(read::list_entries))
            .route(web::post().to(write::create_entry)),
    )
    .service(resource(&format!("{BASE}/my_entries/")).route(web::get().to(read::my_entries)))
    .service(resource(&format!("{BASE}/favorites/")).route(web::get().to(read::favorites)))
    .service(resource(&format!("{BASE}/recent/")).route(web::get().to(read::recent)))
    .service(resource(&format!("{BASE}/by_animal/")).route(web::get().to(read::by_animal)))
    .service(resource(&format!("{BASE}/sync_entries/")).route(web::get().to(sync::sync_entries)))
    .service(
        resource(&format!("{BASE}/friends_overview/")).route(web::get().to(sync::friends_overview)),
    )
    .service(resource(&format!("{BASE}/batch_sync/")).route(web::post().to(sync::batch_sync)))
    .service(
        resource(&format!("{BASE}/user/{{user_id}}/entries/"))
            .route(web::get().to(sync::user_entries)),
    )
    .service(
        resource(&format!("{BASE}/{{pk}}/"))
            .route(web::get().to(read::get_entry))
            .route(web::put().to(write::update_entry))
            .route(web::patch().to(write::update_entry))
            .route(web::delete().to(write::delete_entry)),
    )
    .service(
        resource(&format!("{BASE}/{{pk}}/toggle_favorite/"))
            .route(web::post().to(write::toggle_favorite)),
    );
}
