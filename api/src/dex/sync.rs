//! Incremental sync for the client's local dex: `sync_entries` (own), `user/{id}/entries`
//! (a friend's, or anyone's public), `batch_sync` (several at once) and `friends_overview`.
//! `server_time` is a watermark no later-committed change can fall before
//! (docs/decisions.md#d8), and `deleted` lists entries that left the caller's view since
//! `last_sync`.

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::ids::{DexEntryId, UserId};
use biologidex_db::models::{
    accounts::User,
    dex::{self, DexEntry, DexEntryView, Viewer},
    friendships::Friendship,
};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;

use super::{
    dto::{
        BatchSyncResponse, BatchSyncResult, FriendOverview, FriendsOverviewResponse, SyncItem,
        SyncResponse, UserEntriesResponse, server_time,
    },
    fields::{SyncItemRequest, parse_datetime},
    schema::{BatchSyncRequest, LastSync},
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    media::MediaUrls,
    request::{Valid, ValidQuery},
    state::AppState,
};

/// `last_sync` as the client sends it; a form-decoded `+00:00` arrives as ` 00:00`.
pub(super) fn last_sync(raw: Option<&String>) -> ApiResult<Option<DateTime<Utc>>> {
    let Some(raw) = raw.map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let fixed = raw.replace(' ', "+");
    // A date and time separated by a space keeps its space.
    let candidates = [fixed.clone(), fixed.replacen('+', " ", 1), raw.to_owned()];
    candidates
        .iter()
        .find_map(|c| parse_datetime(c))
        .map(Some)
        .ok_or_else(|| ApiError::rule("Invalid last_sync format. Use ISO 8601 datetime."))
}

struct Synced {
    entries: Vec<SyncItem>,
    deleted: Vec<DexEntryId>,
}

async fn sync_one(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    owner: UserId,
    since: Option<DateTime<Utc>>,
    urls: &MediaUrls,
) -> ApiResult<Synced> {
    let rows = DexEntry::sync(conn, viewer, owner, since).await?;
    let deleted = match since {
        Some(since) => DexEntry::removed_since(conn, viewer, owner, since).await?,
        None => Vec::new(),
    };
    Ok(Synced {
        entries: rows.iter().map(|r| SyncItem::new(r, urls)).collect(),
        deleted,
    })
}

/// The caller's entries changed since then.
#[utoipa::path(
    get, path = "/api/v1/dex/entries/sync_entries/", tag = "dex",
    security(("jwt" = [])),
    params(LastSync),
    responses(
        (status = 200, description = "The caller's changes since `last_sync`.",
            body = SyncResponse),
        (status = 400, description = "Unreadable `last_sync` (`Invalid last_sync format. Use \
            ISO 8601 datetime.`).", body = crate::docs::schemas::RuleError),
    )
)]
pub async fn sync_entries(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    params: ValidQuery<LastSync>,
) -> ApiResult<HttpResponse> {
    let since = params.into_inner().since()?;
    let mut conn = state.db.get().await?;
    let now = dex::sync_watermark(&mut conn).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let s = sync_one(&mut conn, &Viewer::owner(me.id), me.id, since, &urls).await?;
    Ok(HttpResponse::Ok().json(SyncResponse {
        count: s.entries.len(),
        deleted: s.deleted,
        entries: s.entries,
        server_time: server_time(&now),
    }))
}

/// Syncs what the caller may see of one
/// user's dex.
#[utoipa::path(
    get, path = "/api/v1/dex/entries/user/{user_id}/entries/", tag = "dex",
    security(("jwt" = [])),
    params(
        ("user_id" = Uuid, Path, description = "The dex's owner: the caller, a friend (friends \
            and public entries) or anyone else (public entries)."),
        LastSync,
    ),
    responses(
        (status = 200, description = "The user's visible changes since `last_sync`.",
            body = UserEntriesResponse),
        (status = 400, description = "Unreadable `last_sync` (`Invalid last_sync format. Use \
            ISO 8601 datetime.`).", body = crate::docs::schemas::RuleError),
        (status = 404, description = "No such user, a malformed id, or a blocked user \
            (`User not found`).", body = crate::docs::schemas::RuleError),
    )
)]
pub async fn user_entries(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    path: web::Path<String>,
    params: ValidQuery<LastSync>,
) -> ApiResult<HttpResponse> {
    let not_found = || ApiError(Error::NotFoundBecause("User not found".to_owned()));
    let owner = path.parse::<UserId>().map_err(|_| not_found())?;
    let since = params.into_inner().since()?;
    let mut conn = state.db.get().await?;
    let now = dex::sync_watermark(&mut conn).await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    if viewer.blocked.contains(&owner) || User::auth_info(&mut conn, owner).await?.is_none() {
        return Err(not_found());
    }
    let urls = MediaUrls::new(&req, &state.settings);
    let s = sync_one(&mut conn, &viewer, owner, since, &urls).await?;
    Ok(HttpResponse::Ok().json(UserEntriesResponse {
        deleted: s.deleted,
        total_count: s.entries.len(),
        entries: s.entries,
        server_time: server_time(&now),
        user_id: owner,
    }))
}

/// Per friend, how many entries the caller may see and
/// when the latest changed (two queries however many friends).
#[utoipa::path(
    get, path = "/api/v1/dex/entries/friends_overview/", tag = "dex",
    security(("jwt" = [])),
    responses((status = 200, description = "One summary per accepted friend.",
        body = FriendsOverviewResponse))
)]
pub async fn friends_overview(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let friends = Friendship::friends_of(&mut conn, me.id).await?;
    let ids: Vec<UserId> = friends.iter().map(|f| f.id).collect();
    let activity: HashMap<UserId, dex::FriendActivity> = dex::friend_activity(&mut conn, &ids)
        .await?
        .into_iter()
        .map(|a| (a.owner_id, a))
        .collect();
    let rows: Vec<FriendOverview> = friends
        .into_iter()
        .map(|f| {
            let a = activity.get(&f.id);
            FriendOverview {
                friend_code: f.friend_code,
                latest_update: a.and_then(|a| a.latest_update).map(|t| server_time(&t)),
                total_entries: a.map_or(0, |a| a.total_entries),
                user_id: f.id,
                username: f.username,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(FriendsOverviewResponse { friends: rows }))
}

/// Syncs several dexes at once (`{"sync_requests": [{"user_id": "self"|uuid, "last_sync"}]}`):
/// at most 50 requests; each result is keyed by the `user_id` as sent.
#[utoipa::path(
    post, path = "/api/v1/dex/entries/batch_sync/", tag = "dex",
    security(("jwt" = [])),
    request_body = BatchSyncRequest,
    responses(
        (status = 200, description = "Each request's result; a user the caller cannot sync \
            gets an `error` instead.", body = BatchSyncResponse),
    )
)]
pub async fn batch_sync(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Valid<BatchSyncRequest>,
) -> ApiResult<HttpResponse> {
    let requests = body.into_inner().sync_requests.into_inner().0;
    let mut conn = state.db.get().await?;
    let now = dex::sync_watermark(&mut conn).await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    let urls = MediaUrls::new(&req, &state.settings);

    // Resolve every item first, then load all their entries in one query.
    let mut items: Vec<BatchItem> = Vec::with_capacity(requests.len());
    for SyncItemRequest { key, since } in requests {
        let owner = resolve(&mut conn, &viewer, &key).await?;
        items.push((key, owner, since));
    }
    let owners: Vec<UserId> = items
        .iter()
        .filter_map(|(_, o, _)| o.as_ref().ok().copied())
        .collect();
    let full = items
        .iter()
        .any(|(_, o, since)| o.is_ok() && since.is_none());
    let oldest = if full {
        None
    } else {
        items.iter().filter_map(|(_, _, s)| *s).min()
    };
    let rows = if owners.is_empty() {
        Vec::new()
    } else {
        DexEntry::sync_many(&mut conn, &viewer, &owners, oldest).await?
    };
    let mut removed = DexEntry::removed_since_many(&mut conn, &viewer, &delta_asks(&items))
        .await?
        .into_iter();
    let mut results = BTreeMap::new();
    for (key, owner, since) in items {
        let value = match owner {
            Err(error) => BatchSyncResult::Failed {
                error: error.to_owned(),
            },
            Ok(owner) => {
                // In the order of `asks`: one answer per item with an owner and a `since`.
                let deleted = since.and_then(|_| removed.next()).unwrap_or_default();
                batch_result(&rows, owner, since, deleted, &urls)
            }
        };
        results.insert(key, value);
    }
    Ok(HttpResponse::Ok().json(BatchSyncResponse {
        results,
        server_time: server_time(&now),
    }))
}

/// A batch item: its key as sent, its owner (or the error it gets) and its `last_sync`.
type BatchItem = (String, Result<UserId, &'static str>, Option<DateTime<Utc>>);

/// The items that sync changes since a time, as (owner, since), in item order.
fn delta_asks(items: &[BatchItem]) -> Vec<(UserId, DateTime<Utc>)> {
    items
        .iter()
        .filter_map(|(_, owner, since)| Some((*owner.as_ref().ok()?, (*since)?)))
        .collect()
}

/// One synced item of a batch: its owner's rows changed since `since`, and what left the view.
fn batch_result(
    rows: &[DexEntryView],
    owner: UserId,
    since: Option<DateTime<Utc>>,
    deleted: Vec<DexEntryId>,
    urls: &MediaUrls,
) -> BatchSyncResult {
    let entries: Vec<SyncItem> = rows
        .iter()
        .filter(|r| r.entry.owner_id == owner && since.is_none_or(|t| r.entry.updated_at >= t))
        .map(|r| SyncItem::new(r, urls))
        .collect();
    BatchSyncResult::Synced {
        count: entries.len(),
        deleted,
        entries,
    }
}

/// The owner a batch item names, or the error text the item gets.
async fn resolve(
    conn: &mut AsyncPgConnection,
    viewer: &Viewer,
    key: &str,
) -> ApiResult<Result<UserId, &'static str>> {
    if key == "self" {
        return Ok(Ok(viewer.id));
    }
    let Ok(owner) = key.parse::<UserId>() else {
        return Ok(Err("Invalid user_id"));
    };
    if owner == viewer.id || viewer.friends.contains(&owner) {
        return Ok(Ok(owner));
    }
    if viewer.blocked.contains(&owner) || User::auth_info(conn, owner).await?.is_none() {
        return Ok(Err("User not found"));
    }
    if !viewer.friends.contains(&owner) {
        return Ok(Err("Not friends with this user"));
    }
    Ok(Ok(owner))
}
