//! `GET tree/search/`: the animals of the caller's tree whose names contain a text. Each
//! cached tree gets a [`SearchIndex`] on its first search (`cache::CachedTree`), so later
//! searches scan the animals' lowercased names in Pokédex order and stop at `limit`, instead
//! of parsing the tree's body again.

use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{
    cache::CachedTree,
    params::{limit, tree_params},
    schema::{TreeQuery, TreeQueryError, TreeSearchQuery},
    tree::tree_body,
};
use crate::{
    ApiError, ApiResult, auth::AuthUser, docs::schemas::RuleError, request::ValidQuery,
    state::AppState,
};

/// Bodies larger than this are indexed off the async executor.
const INDEX_INLINE_MAX: usize = 512 * 1024;

/// An animal found by a tree search.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeSearchHit)]
pub struct SearchHit<'a> {
    /// The animal's id (its node id).
    id: &'a str,
    scientific_name: &'a str,
    common_name: &'a str,
    /// `[x, y]` in world coordinates.
    position: [f64; 2],
    /// The non-empty ranks kingdom … species joined by `/`.
    taxonomy_path: &'a str,
}

/// The animals of a tree that match a search.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeSearchResponse)]
pub struct SearchResponse<'a> {
    /// `q` as given.
    query: &'a str,
    /// The tree's mode.
    mode: &'static str,
    /// The number of results returned.
    count: usize,
    results: Vec<SearchHit<'a>>,
}

/// The parts of a tree a search reads (the rest is skipped while parsing).
#[derive(Deserialize)]
struct SearchTree {
    nodes: Vec<SearchNode>,
}

#[derive(Deserialize)]
struct SearchNode {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    scientific_name: String,
    common_name: String,
    creation_index: i64,
    position: [f64; 2],
    taxonomy: SearchTaxonomy,
}

#[derive(Deserialize)]
struct SearchTaxonomy {
    kingdom: String,
    phylum: String,
    class: String,
    order: String,
    family: String,
    genus: String,
    species: String,
}

/// One animal of a tree, as a search reads and answers it.
struct Indexed {
    id: String,
    scientific_name: String,
    common_name: String,
    position: [f64; 2],
    taxonomy_path: String,
    /// Scientific name, common name, genus and species, lowercased.
    names: [String; 4],
}

impl Indexed {
    fn of(n: SearchNode) -> Self {
        let t = &n.taxonomy;
        let path: Vec<&str> = [
            &t.kingdom, &t.phylum, &t.class, &t.order, &t.family, &t.genus, &t.species,
        ]
        .into_iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
        Indexed {
            names: [
                n.scientific_name.to_lowercase(),
                n.common_name.to_lowercase(),
                t.genus.to_lowercase(),
                t.species.to_lowercase(),
            ],
            taxonomy_path: path.join("/"),
            id: n.id,
            scientific_name: n.scientific_name,
            common_name: n.common_name,
            position: n.position,
        }
    }

    fn hit(&self) -> SearchHit<'_> {
        SearchHit {
            id: &self.id,
            scientific_name: &self.scientific_name,
            common_name: &self.common_name,
            position: self.position,
            taxonomy_path: &self.taxonomy_path,
        }
    }
}

/// A tree's animals in Pokédex order (then by scientific name), ready to be searched.
pub struct SearchIndex {
    animals: Vec<Indexed>,
}

impl SearchIndex {
    /// The index of a rendered tree body.
    pub fn parse(body: &[u8]) -> ApiResult<Self> {
        let tree: SearchTree = serde_json::from_slice(body).map_err(anyhow::Error::from)?;
        let mut nodes: Vec<SearchNode> = tree
            .nodes
            .into_iter()
            .filter(|n| n.kind == "animal")
            .collect();
        nodes.sort_by(|a, b| {
            (a.creation_index, &a.scientific_name).cmp(&(b.creation_index, &b.scientific_name))
        });
        let animals = nodes.into_iter().map(Indexed::of).collect();
        Ok(SearchIndex { animals })
    }

    /// The first `limit` animals with a name containing `needle` (already lowercased).
    fn find(&self, needle: &str, limit: usize) -> Vec<SearchHit<'_>> {
        self.animals
            .iter()
            .filter(|a| a.names.iter().any(|n| n.contains(needle)))
            .take(limit)
            .map(Indexed::hit)
            .collect()
    }
}

/// `tree` with its search index made, off the executor when the body is large.
async fn indexed(tree: Arc<CachedTree>) -> ApiResult<Arc<CachedTree>> {
    if tree.body.len() <= INDEX_INLINE_MAX {
        tree.search_index()?;
        return Ok(tree);
    }
    web::block(move || {
        tree.search_index()?;
        Ok(tree)
    })
    .await
    .map_err(anyhow::Error::from)?
}

/// Searches the animals of the caller's tree by name.
///
/// Animals whose scientific name, common name, genus or species contains `q` (any case), with
/// their positions, in Pokédex order.
#[utoipa::path(
    get, path = "/api/v1/graph/tree/search/", tag = "graph",
    security(("jwt" = [])),
    params(
        TreeSearchQuery,
        TreeQuery,
    ),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, description = "`q` missing or blank, a bad `limit`, an unknown `mode`, \
            or malformed `friend_ids`.", body = TreeQueryError),
        (status = 403, description = "Global mode for a non-staff caller.", body = RuleError),
    )
)]
pub async fn search_tree(
    state: web::Data<AppState>,
    me: AuthUser,
    search: ValidQuery<TreeSearchQuery>,
    q: ValidQuery<TreeQuery>,
) -> ApiResult<HttpResponse> {
    let query = search
        .0
        .q
        .0
        .as_ref()
        .map(|s| &s.0)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::rule("Query parameter required"))?;
    let p = tree_params(&q.0)?;
    let limit = limit(&search.0.limit, 50)?;
    p.check_access(&me, "Admin privileges required for global view")?;
    let tree = indexed(tree_body(&state, &me, &p).await?).await?;
    let needle = query.trim().to_lowercase();
    let results = tree.search_index()?.find(&needle, limit as usize);
    Ok(HttpResponse::Ok().json(SearchResponse {
        query,
        mode: p.mode.as_str(),
        count: results.len(),
        results,
    }))
}
