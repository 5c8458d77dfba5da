//! Photo conversions: step one of the two-step upload (`POST /images/convert/`), then the
//! owner fetches the result or hands its id to a vision job.

mod capture;
mod convert;
mod edits;
pub mod schema;

pub use edits::parse_edits;

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    convert::create_conversion,
    convert::get_conversion,
    convert::download_conversion,
))]
pub struct Doc;

/// Mounts `/images/convert/...`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/images/convert/").route(web::post().to(convert::create_conversion)))
        .service(resource("/images/convert/{pk}/").route(web::get().to(convert::get_conversion)))
        .service(
            resource("/images/convert/{pk}/download/")
                .route(web::get().to(convert::download_conversion)),
        );
}
