//! `GET /graph/taxonomic-tree/`: the old flat graph (animals of the caller and their friends,
//! linked by family), which always failed on the old server. Same scope and privacy as the
//! friends-mode tree. Animals of one family are linked as a chain in Pokédex order rather
//! than the old code's pairwise clique, which grows quadratically.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use shared::db::models::graph::{TreeData, TreeScope, load_tree_data};

use super::{cache, tree::load_viewer};
use crate::{ApiResult, auth::AuthUser, state::AppState};

fn graph(data: &TreeData, me: &AuthUser, friend_count: usize) -> Value {
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
    let ids: Vec<String> = data.animals.iter().map(|a| a.id.to_string()).collect();
    for (a, id) in data.animals.iter().zip(&ids) {
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
            edges.push(json!({
                "source": prev, "target": id, "relationship": "same_family", "family": family,
            }));
        }
        let discoverer = match (a.created_by_id, &a.created_by_username) {
            (Some(by), Some(name)) => json!({
                "user_id": by, "username": name, "is_friend": false, "is_self": by == me.id,
            }),
            _ => json!({ "user_id": "", "username": "", "is_friend": false, "is_self": false }),
        };
        nodes.push(json!({
            "id": id,
            "scientific_name": a.scientific_name,
            "common_name": a.common_name,
            "creation_index": a.creation_index,
            "taxonomy": {
                "kingdom": a.kingdom, "phylum": a.phylum, "class": a.class_name,
                "order": a.order_name, "family": a.family, "genus": a.genus, "species": a.species,
            },
            "conservation_status": a.conservation_status,
            "verified": a.verified,
            "captured_by_user": mine > 0,
            "capture_count": mine + theirs,
            "discoverer": discoverer,
        }));
    }
    let (total_nodes, total_edges) = (nodes.len(), edges.len());
    json!({
        "nodes": nodes,
        "edges": edges,
        "stats": {
            "total_animals": total_nodes,
            "user_captures": user_captures,
            "user_unique_species": user_species,
            "friend_captures": friend_captures,
            "friend_count": friend_count,
            "taxonomic_diversity": {
                "kingdoms": diversity[0].len(),
                "phylums": diversity[1].len(),
                "families": diversity[2].len(),
            },
        },
        "metadata": {
            "user_id": me.id,
            "username": me.username,
            "total_nodes": total_nodes,
            "total_edges": total_edges,
        },
    })
}

/// `GET /graph/taxonomic-tree/?use_cache=`: the legacy graph of the caller and friends.
pub async fn get_taxonomic_tree(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let use_cache = q
        .get("use_cache")
        .is_none_or(|v| v.trim().eq_ignore_ascii_case("true"));
    let key = format!("evolution_graph_{}", me.id);
    let body = cache::fetch_or_build(&state, me.id, &key, false, use_cache, async || {
        let mut conn = state.db.get().await?;
        let mut viewer = load_viewer(&mut conn, me.id).await?;
        let data = load_tree_data(&mut conn, &viewer, &TreeScope::Friends).await?;
        drop(conn);
        viewer.friends.sort_unstable();
        let mut value = graph(&data, &me, viewer.friends.len());
        if let Some(nodes) = value["nodes"].as_array_mut() {
            for n in nodes {
                if let Some(by) = n["discoverer"]["user_id"].as_str() {
                    let friend = uuid::Uuid::try_parse(by)
                        .is_ok_and(|id| viewer.friends.binary_search(&id).is_ok());
                    n["discoverer"]["is_friend"] = Value::Bool(friend);
                }
            }
        }
        Ok(serde_json::to_vec(&value).map_err(anyhow::Error::from)?)
    })
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}
