//! Taxonomy: browse, search, match and validate names, statistics and data sources. All
//! of it is open to anonymous callers (a bad token is still a 401).

mod browse;
mod dto;
mod matching;
pub mod schema;
mod search;

use actix_web::web;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    browse::list_taxa,
    search::search_taxa,
    matching::match_name,
    matching::validate_name,
    browse::get_stats,
    browse::get_taxon,
    browse::get_lineage,
    browse::list_children,
    browse::list_sources,
    browse::get_source,
))]
pub struct Doc;

/// Mounts `/taxonomy/...` (fixed paths before `{pk}`) and `/sources/...`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/taxonomy/").route(web::get().to(browse::list_taxa)))
        .service(resource("/taxonomy/search/").route(web::get().to(search::search_taxa)))
        .service(resource("/taxonomy/match/").route(web::get().to(matching::match_name)))
        .service(resource("/taxonomy/validate/").route(web::post().to(matching::validate_name)))
        .service(resource("/taxonomy/stats/").route(web::get().to(browse::get_stats)))
        .service(resource("/taxonomy/{pk}/").route(web::get().to(browse::get_taxon)))
        .service(resource("/taxonomy/{pk}/lineage/").route(web::get().to(browse::get_lineage)))
        .service(resource("/taxonomy/{pk}/children/").route(web::get().to(browse::list_children)))
        .service(resource("/sources/").route(web::get().to(browse::list_sources)))
        .service(resource("/sources/{pk}/").route(web::get().to(browse::get_source)));
}
