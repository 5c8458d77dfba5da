//! The creator names responses need (who is looking: `Viewer::load` in biologidex-db).

use biologidex_core::ids::UserId;
use biologidex_db::models::dex::{DexEntryView, creator_names};
use diesel_async::AsyncPgConnection;

use super::dto::Creators;
use crate::ApiResult;

/// Usernames of the creators of the animals in `rows` (one query).
pub async fn creators(conn: &mut AsyncPgConnection, rows: &[DexEntryView]) -> ApiResult<Creators> {
    let mut ids: Vec<UserId> = rows.iter().filter_map(|r| r.animal.created_by_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Creators::new());
    }
    Ok(creator_names(conn, &ids).await?.into_iter().collect())
}
