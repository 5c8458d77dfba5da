//! Loading who is looking (friends and blocks) and the creator names responses need.

use biologidex_db::models::{
    dex::{DexEntryView, Viewer, creator_names},
    friendships::Friendship,
};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::dto::Creators;
use crate::ApiResult;

/// The viewer with their friends and blocks (one indexed query).
pub async fn load(conn: &mut AsyncPgConnection, id: Uuid) -> ApiResult<Viewer> {
    let (friends, blocked) = Friendship::relations(conn, id).await?;
    Ok(Viewer {
        id,
        friends,
        blocked,
    })
}

/// The viewer for their own entries only: relations do not matter there.
pub fn owner(id: Uuid) -> Viewer {
    Viewer {
        id,
        friends: Vec::new(),
        blocked: Vec::new(),
    }
}

/// Usernames of the creators of the animals in `rows` (one query).
pub async fn creators(conn: &mut AsyncPgConnection, rows: &[DexEntryView]) -> ApiResult<Creators> {
    let mut ids: Vec<Uuid> = rows.iter().filter_map(|r| r.animal.created_by_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Creators::new());
    }
    Ok(creator_names(conn, &ids).await?.into_iter().collect())
}
