//! `GET /graph/taxonomic-tree/`: the old flat graph (animals of the caller and their friends,
//! linked by family), which always failed on the old server. Same scope and privacy as the
//! friends-mode tree. Animals of one family are linked as a chain in Pokédex order rather
//! than the old code's pairwise clique, which grows quadratically.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, web};
use biologidex_core::ids::UserId;
use biologidex_db::models::{
    dex::Viewer,
    graph::{TreeData, TreeScope, load_tree_data},
};
use serde::Serialize;

use super::{
    cache,
    render::{Discoverer, Taxonomy},
    schema::{LegacyGraphQuery, UseCache},
};
use crate::{ApiResult, auth::AuthUser, request::ValidQuery, state::AppState};

/// An animal of the legacy graph.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LegacyGraphNode)]
pub struct LegacyNode<'a> {
    /// The animal's id.
    id: &'a str,
    scientific_name: &'a str,
    common_name: &'a str,
    /// The animal's Pokédex number.
    creation_index: i32,
    taxonomy: Taxonomy<'a>,
    conservation_status: &'a str,
    verified: bool,
    /// True when the caller has a dex entry of this animal.
    captured_by_user: bool,
    /// Dex entries of this animal by the caller and their friends.
    capture_count: usize,
    discoverer: Discoverer,
}

/// Two animals of one family, consecutive in Pokédex order.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LegacyGraphEdge)]
pub struct LegacyEdge<'a> {
    source: &'a str,
    target: &'a str,
    /// Always `same_family`.
    relationship: &'static str,
    family: &'a str,
}

/// Distinct non-empty kingdoms, phyla and families among the animals.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LegacyGraphDiversity)]
pub struct Diversity {
    kingdoms: usize,
    phylums: usize,
    families: usize,
}

/// Counts over the legacy graph.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LegacyGraphStats)]
pub struct LegacyStats {
    total_animals: usize,
    /// The caller's dex entries of the animals.
    user_captures: usize,
    /// Animals the caller has.
    user_unique_species: usize,
    /// Friends' dex entries of the animals.
    friend_captures: usize,
    friend_count: usize,
    taxonomic_diversity: Diversity,
}

/// Who asked.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LegacyGraphMetadata)]
pub struct LegacyMetadata<'a> {
    #[schema(value_type = Uuid)]
    user_id: UserId,
    username: &'a str,
    total_nodes: usize,
    total_edges: usize,
}

/// The legacy graph: the animals of the caller and their friends, linked by family.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LegacyGraph)]
pub struct LegacyGraph<'a> {
    nodes: Vec<LegacyNode<'a>>,
    edges: Vec<LegacyEdge<'a>>,
    stats: LegacyStats,
    metadata: LegacyMetadata<'a>,
}

/// The graph of `data` (animals with their ids as strings in `ids`) for `me`, whose friends
/// are `friends` (sorted).
fn graph<'a>(
    data: &'a TreeData,
    ids: &'a [String],
    me: &'a AuthUser,
    friends: &[UserId],
) -> LegacyGraph<'a> {
    let mut nodes = Vec::with_capacity(data.animals.len());
    let mut edges = Vec::new();
    let mut last_of_family: HashMap<&str, &str> = HashMap::new();
    let (mut user_captures, mut friend_captures, mut user_species) = (0, 0, 0);
    let mut diversity: [HashSet<&str>; 3] = Default::default();
    let mut counts: HashMap<_, (usize, usize)> = HashMap::new();
    for c in &data.captures {
        let e = counts.entry(c.animal_id).or_default();
        if c.owner_id == me.id {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    for (a, id) in data.animals.iter().zip(ids) {
        let (mine, theirs) = counts.get(&a.id).copied().unwrap_or_default();
        user_captures += mine;
        friend_captures += theirs;
        user_species += usize::from(mine > 0);
        for (set, v) in diversity.iter_mut().zip([&a.kingdom, &a.phylum, &a.family]) {
            if !v.trim().is_empty() {
                set.insert(v.trim());
            }
        }
        let family = a.family.trim();
        if !family.is_empty()
            && let Some(prev) = last_of_family.insert(family, id)
        {
            edges.push(LegacyEdge {
                source: prev,
                target: id,
                relationship: "same_family",
                family,
            });
        }
        let discoverer = match (a.created_by_id, &a.created_by_username) {
            (Some(by), Some(name)) => Discoverer {
                user_id: by.to_string(),
                username: name.clone(),
                is_self: by == me.id,
                is_friend: friends.binary_search(&by).is_ok(),
            },
            _ => Discoverer::none(),
        };
        nodes.push(LegacyNode {
            id,
            scientific_name: &a.scientific_name,
            common_name: &a.common_name,
            creation_index: a.creation_index,
            taxonomy: Taxonomy::new(a.ranks()),
            conservation_status: &a.conservation_status,
            verified: a.verified,
            captured_by_user: mine > 0,
            capture_count: mine + theirs,
            discoverer,
        });
    }
    let (total_nodes, total_edges) = (nodes.len(), edges.len());
    LegacyGraph {
        nodes,
        edges,
        stats: LegacyStats {
            total_animals: total_nodes,
            user_captures,
            user_unique_species: user_species,
            friend_captures,
            friend_count: friends.len(),
            taxonomic_diversity: Diversity {
                kingdoms: diversity[0].len(),
                phylums: diversity[1].len(),
                families: diversity[2].len(),
            },
        },
        metadata: LegacyMetadata {
            user_id: me.id,
            username: &me.username,
            total_nodes,
            total_edges,
        },
    }
}

/// The legacy graph of the caller and their friends (use `/graph/tree/` instead).
///
/// The animals of the caller and their friends, each family's animals linked as a chain in
/// Pokédex order.
#[utoipa::path(
    get, path = "/api/v1/graph/taxonomic-tree/", tag = "graph",
    security(("jwt" = [])),
    params(LegacyGraphQuery),
    responses((status = 200, body = LegacyGraph))
)]
pub async fn get_taxonomic_tree(
    state: web::Data<AppState>,
    me: AuthUser,
    q: ValidQuery<LegacyGraphQuery>,
) -> ApiResult<HttpResponse> {
    let use_cache = UseCache::of(&q.0.use_cache);
    let key = format!("evolution_graph_{}", me.id);
    let body = cache::fetch_or_build(&state, me.id, &key, false, use_cache, async || {
        let mut conn = state.read_db().await?;
        let mut viewer = Viewer::load(&mut conn, me.id).await?;
        let data = load_tree_data(&mut conn, &viewer, &TreeScope::Friends).await?;
        drop(conn);
        viewer.friends.sort_unstable();
        let ids: Vec<String> = data.animals.iter().map(|a| a.id.to_string()).collect();
        let value = graph(&data, &ids, &me, &viewer.friends);
        Ok(serde_json::to_vec(&value).map_err(anyhow::Error::from)?)
    })
    .await?
    .body
    .clone();
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}
