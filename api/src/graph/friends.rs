//! `GET tree/friends/`: the caller's friends with how many species of theirs the caller may
//! see (friends-only and public entries: private ones are never counted).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde_json::json;
use shared::db::models::{friendships::Friendship, graph::visible_species_counts};
use uuid::Uuid;

use super::tree::load_viewer;
use crate::{ApiResult, auth::AuthUser, state::AppState};

/// `GET /graph/tree/friends/`: friends, newest account first, with visible species counts
/// (three queries whatever the number of friends).
pub async fn list_tree_friends(
    state: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let viewer = load_viewer(&mut conn, me.id).await?;
    let friends = Friendship::friends_of(&mut conn, me.id).await?;
    let ids: Vec<Uuid> = friends.iter().map(|f| f.id).collect();
    let counts: HashMap<Uuid, i64> = visible_species_counts(&mut conn, &viewer, &ids)
        .await?
        .into_iter()
        .collect();
    let list: Vec<_> = friends
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "username": f.username,
                "unique_species": counts.get(&f.id).copied().unwrap_or(0),
                "friend_code": f.friend_code,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "total_friends": list.len(), "friends": list })))
}
