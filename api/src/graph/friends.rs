//! `GET tree/friends/`: the caller's friends with how many species of theirs the caller may
//! see (friends-only and public entries: private ones are never counted).

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use biologidex_core::ids::UserId;
use biologidex_db::models::{dex::Viewer, friendships::Friendship, graph::visible_species_counts};
use serde::Serialize;

use crate::{ApiResult, auth::AuthUser, state::AppState};

/// A friend, for choosing whose animals a tree shows.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeFriend)]
pub struct TreeFriend<'a> {
    #[schema(value_type = Uuid)]
    id: UserId,
    username: &'a str,
    /// Distinct animals among the friend's dex entries the caller may see (friends-only and
    /// public ones).
    unique_species: i64,
    friend_code: &'a str,
}

/// The caller's friends.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TreeFriendsResponse)]
pub struct TreeFriends<'a> {
    friends: Vec<TreeFriend<'a>>,
    total_friends: usize,
}

/// The caller's friends with how many species of theirs the caller may see.
///
/// Friends, newest account first, with the number of distinct animals among their dex entries
/// the caller may see (friends-only and public ones; private entries are never counted).
#[utoipa::path(
    get, path = "/api/v1/graph/tree/friends/", tag = "graph",
    security(("jwt" = [])),
    responses((status = 200, body = TreeFriends))
)]
pub async fn list_tree_friends(
    state: web::Data<AppState>,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    let friends = Friendship::friends_of(&mut conn, me.id).await?;
    let ids: Vec<UserId> = friends.iter().map(|f| f.id).collect();
    let counts: HashMap<UserId, i64> = visible_species_counts(&mut conn, &viewer, &ids)
        .await?
        .into_iter()
        .collect();
    let list: Vec<TreeFriend<'_>> = friends
        .iter()
        .map(|f| TreeFriend {
            id: f.id,
            username: &f.username,
            unique_species: counts.get(&f.id).copied().unwrap_or(0),
            friend_code: &f.friend_code,
        })
        .collect();
    Ok(HttpResponse::Ok().json(TreeFriends {
        total_friends: list.len(),
        friends: list,
    }))
}
