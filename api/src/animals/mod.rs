//! The species catalogue: list and search (anyone), create and lookup-or-create (signed in),
//! edit and delete (staff).

mod dto;
pub mod fields;
pub mod read;
pub mod schema;
mod write;

pub use dto::{AnimalListResponse, AnimalResponse};

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    read::list_animals,
    write::create_animal,
    read::recent_animals,
    read::popular_animals,
    write::lookup_or_create_animal,
    read::get_animal,
    write::update_animal,
    write::delete_animal,
    read::animal_taxonomy,
))]
pub struct Doc;

/// Mounts `/animals/...` (fixed paths before `{pk}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/animals/")
            .route(web::get().to(read::list_animals))
            .route(web::post().to(write::create_animal)),
    )
    .service(resource("/animals/recent/").route(web::get().to(read::recent_animals)))
    .service(resource("/animals/popular/").route(web::get().to(read::popular_animals)))
    .service(
        resource("/animals/lookup_or_create/")
            .route(web::post().to(write::lookup_or_create_animal)),
    )
    .service(
        resource("/animals/{pk}/")
            .route(web::get().to(read::get_animal))
            .route(web::put().to(write::update_animal))
            .route(web::patch().to(write::update_animal))
            .route(web::delete().to(write::delete_animal)),
    )
    .service(resource("/animals/{pk}/taxonomy/").route(web::get().to(read::animal_taxonomy)));
}
