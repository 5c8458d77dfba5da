//! Versions that key the cached taxonomic trees, so a change is never followed by a stale
//! tree: every change that affects a user's tree increments that user's version (the owner
//! and their friends for a dex change, both parties for a friendship change), an animal edit
//! increments an epoch every tree depends on, and any change at all increments the version
//! of the staff-only global trees. A cache key includes the versions it was computed under,
//! so old entries are simply never read again and expire with `GRAPH_CACHE_TTL`.
//!
//! Increment *after* the change is committed: a tree computed from older data is then stored
//! under a key no one asks for any more.

use uuid::Uuid;

use crate::{config::Settings, redis_util};

/// Version keys outlive any cached tree by far; a key that expires restarts at 0, long after
/// every tree stored under the old numbers is gone.
const VERSION_TTL_SECS: u64 = 7 * 24 * 3600;

fn user_key(settings: &Settings, user: Uuid) -> String {
    settings.redis_key(&format!("graph:ver:user:{user}"))
}

fn epoch_key(settings: &Settings) -> String {
    settings.redis_key("graph:ver:epoch")
}

fn global_key(settings: &Settings) -> String {
    settings.redis_key("graph:ver:global")
}

/// The versions a viewer's trees depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeVersions {
    /// Changes to the viewer's or their friends' entries and friendships.
    pub user: u64,
    /// Animal edits (every tree).
    pub epoch: u64,
    /// Any change (global trees).
    pub global: u64,
}

/// Reads a viewer's versions (one round trip).
pub async fn versions(
    pool: &redis_util::RedisPool,
    settings: &Settings,
    viewer: Uuid,
) -> Result<TreeVersions, String> {
    let keys = [
        user_key(settings, viewer),
        epoch_key(settings),
        global_key(settings),
    ];
    let v: Vec<Option<u64>> = redis_util::run(pool, async move |c| {
        redis::cmd("MGET").arg(&keys).query_async(c).await
    })
    .await?;
    let get = |i: usize| v.get(i).copied().flatten().unwrap_or(0);
    Ok(TreeVersions {
        user: get(0),
        epoch: get(1),
        global: get(2),
    })
}

async fn bump(pool: &redis_util::RedisPool, keys: Vec<String>) -> Result<(), String> {
    redis_util::run(pool, async move |c| {
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("INCR")
                .arg(key)
                .ignore()
                .cmd("EXPIRE")
                .arg(key)
                .arg(VERSION_TTL_SECS)
                .ignore();
        }
        pipe.query_async::<()>(c).await
    })
    .await
}

/// The trees of `users` (and every global tree) changed.
pub async fn bump_users(
    pool: &redis_util::RedisPool,
    settings: &Settings,
    users: &[Uuid],
) -> Result<(), String> {
    let mut keys: Vec<String> = users.iter().map(|u| user_key(settings, *u)).collect();
    keys.push(global_key(settings));
    bump(pool, keys).await
}

/// Every tree changed (an animal was edited or deleted).
pub async fn bump_all(pool: &redis_util::RedisPool, settings: &Settings) -> Result<(), String> {
    bump(pool, vec![epoch_key(settings), global_key(settings)]).await
}
