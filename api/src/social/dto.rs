//! Friendship response shapes (DRF's `FriendshipSerializer` and `FriendUserSerializer`).

use std::collections::HashMap;

use biologidex_core::ids::{FriendshipId, UserId};
use biologidex_db::models::friendships::{FriendUser, Friendship, FriendshipStatus};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;

use crate::{ApiResult, json::ser_datetime, media::MediaUrls};

/// A user in friend lists.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FriendUserResponse {
    #[schema(value_type = Uuid)]
    pub id: UserId,
    pub username: String,
    /// Absolute URL of the avatar, or null.
    #[schema(required = true)]
    pub avatar: Option<String>,
    pub friend_code: String,
    /// Number of the user's dex entries (their profile counter).
    pub total_catches: i32,
    /// Number of distinct animals among them.
    pub unique_species: i32,
}

impl FriendUserResponse {
    /// From a friend card.
    pub fn new(u: FriendUser, urls: &MediaUrls) -> Self {
        FriendUserResponse {
            avatar: urls.public_opt(u.avatar.as_deref()),
            id: u.id,
            username: u.username,
            friend_code: u.friend_code,
            total_catches: u.total_catches,
            unique_species: u.unique_species,
        }
    }
}

/// A friendship with both parties' cards.
///
/// One row per pair of users: `from_user` asked `to_user` (for a block, `to_user` is the
/// blocker).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FriendshipResponse {
    #[schema(value_type = Uuid)]
    pub id: FriendshipId,
    /// The user who sent the request.
    #[schema(value_type = Uuid)]
    pub from_user: UserId,
    #[schema(required = true)]
    pub from_user_details: Option<FriendUserResponse>,
    /// The user who received it (the only one who may answer).
    #[schema(value_type = Uuid)]
    pub to_user: UserId,
    #[schema(required = true)]
    pub to_user_details: Option<FriendUserResponse>,
    pub status: FriendshipStatus,
    #[serde(serialize_with = "ser_datetime")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_datetime")]
    pub updated_at: DateTime<Utc>,
}

/// Responses for many rows with one query for every party's card.
pub async fn friendships(
    conn: &mut AsyncPgConnection,
    rows: Vec<Friendship>,
    urls: &MediaUrls,
) -> ApiResult<Vec<FriendshipResponse>> {
    let mut ids: Vec<UserId> = rows
        .iter()
        .flat_map(|r| [r.from_user_id, r.to_user_id])
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let cards: HashMap<UserId, FriendUserResponse> = Friendship::cards(conn, &ids)
        .await?
        .into_iter()
        .map(|c| (c.id, FriendUserResponse::new(c, urls)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|r| FriendshipResponse {
            id: r.id,
            from_user: r.from_user_id,
            from_user_details: cards.get(&r.from_user_id).cloned(),
            to_user: r.to_user_id,
            to_user_details: cards.get(&r.to_user_id).cloned(),
            status: r.status,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
        .collect())
}

/// The response for one row.
pub async fn friendship(
    conn: &mut AsyncPgConnection,
    row: Friendship,
    urls: &MediaUrls,
) -> ApiResult<FriendshipResponse> {
    let mut one = friendships(conn, vec![row], urls).await?;
    one.pop()
        .ok_or_else(|| anyhow::anyhow!("friendship response lost").into())
}
