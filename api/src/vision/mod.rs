//! Vision jobs: step two of the upload. The row is committed `pending`, then its id is pushed
//! to Redis; the worker identifies the animals. The client polls the job.

mod actions;
pub(crate) mod create;
mod dto;
mod read;
pub mod schema;

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    read::list_jobs,
    create::create_job,
    read::pending_jobs,
    read::processing_jobs,
    read::completed_jobs,
    read::failed_jobs,
    read::job_stats,
    read::get_job,
    actions::update_job,
    actions::delete_job,
    actions::retry_job,
    actions::select_animal,
    read::dex_image,
))]
pub struct Doc;

/// Mounts `/vision/jobs/...` (fixed paths before `{pk}`).
pub fn routes(cfg: &mut web::ServiceConfig) {
    const BASE: &str = "/vision/jobs";
    cfg.service(
        resource(&format!("{BASE}/"))
            .route(web::get().to(read::list_jobs))
            .route(web::post().to(create::create_job)),
    )
    .service(resource(&format!("{BASE}/pending/")).route(web::get().to(read::pending_jobs)))
    .service(resource(&format!("{BASE}/processing/")).route(web::get().to(read::processing_jobs)))
    .service(resource(&format!("{BASE}/completed/")).route(web::get().to(read::completed_jobs)))
    .service(resource(&format!("{BASE}/failed/")).route(web::get().to(read::failed_jobs)))
    .service(resource(&format!("{BASE}/stats/")).route(web::get().to(read::job_stats)))
    .service(
        resource(&format!("{BASE}/{{pk}}/"))
            .route(web::get().to(read::get_job))
            .route(web::put().to(actions::update_job))
            .route(web::patch().to(actions::update_job))
            .route(web::delete().to(actions::delete_job)),
    )
    .service(resource(&format!("{BASE}/{{pk}}/retry/")).route(web::post().to(actions::retry_job)))
    .service(
        resource(&format!("{BASE}/{{pk}}/select_animal/"))
            .route(web::post().to(actions::select_animal)),
    )
    .service(resource(&format!("{BASE}/{{pk}}/dex-image/")).route(web::get().to(read::dex_image)));
}
