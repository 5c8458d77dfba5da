//! The taxonomic tree (docs/architecture.md#taxonomic-tree-and-its-cache): the tree of a scope with
//! its layout and chunks, chunk and search routes, the friends summary, invalidation, and the
//! legacy graph routes. Computed trees are cached in Redis per scope (`cache`) and invalidated by
//! version bumps from every write that changes a tree (`invalidate`).

mod cache;
mod friends;
pub mod invalidate;
mod legacy;
mod params;
mod render;
pub mod schema;
mod search;
mod tree;

use actix_web::web;

pub use cache::LocalTrees;

use crate::fallback::resource;

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        tree::get_tree,
        tree::get_tree_chunk,
        search::search_tree,
        invalidate::invalidate_tree,
        friends::list_tree_friends,
        legacy::get_taxonomic_tree,
        invalidate::invalidate_graph_cache,
    ),
    components(schemas(schema::InvalidateRequest))
)]
pub struct Doc;

/// Mounts `/graph/...`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/graph/tree/").route(web::get().to(tree::get_tree)))
        .service(resource("/graph/tree/chunk/{x}/{y}/").route(web::get().to(tree::get_tree_chunk)))
        .service(resource("/graph/tree/search/").route(web::get().to(search::search_tree)))
        .service(
            resource("/graph/tree/invalidate/").route(web::post().to(invalidate::invalidate_tree)),
        )
        .service(resource("/graph/tree/friends/").route(web::get().to(friends::list_tree_friends)))
        .service(
            resource("/graph/taxonomic-tree/").route(web::get().to(legacy::get_taxonomic_tree)),
        )
        .service(
            resource("/graph/invalidate-cache/")
                .route(web::post().to(invalidate::invalidate_graph_cache)),
        );
}
