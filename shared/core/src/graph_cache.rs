//! Versions that key the cached taxonomic trees, so a change is never followed by a stale
//! tree: every change that affects a user's tree increments that user's version (the owner
//! and their friends for a dex change, both parties for a friendship change), an animal edit
//! increments an epoch every tree depends on, and any change at all increments the version
//! of the staff-only global trees. A cache key includes the versions it was computed under,
//! so old entries are simply never read again and expire with `GRAPH_CACHE_TTL`.
//!
//! Increment *after* the change is committed: a tree computed from older data is then stored
//! under a key no one asks for any more.

use crate::{config::Settings, ids::UserId, redis_util};

/// Version keys outlive any cached tree by far; a key that expires restarts at 0, long after
/// every tree stored under the old numbers is gone.
const VERSION_TTL_SECS: u64 = 7 * 24 * 3600;

fn user_key(settings: &Settings, user: UserId) -> String {
    settings.redis_key(&format!("graph:ver:user:{user}"))
}

fn epoch_key(settings: &Settings) -> String {
    settings.redis_key("graph:ver:epoch")
}

fn global_key(settings: &Settings) -> String {
    settings.redis_key("graph:ver:global")
}

/// Builds the versioned key of a cached tree and, if `read`, fetches it: one round trip.
const LOOKUP: &str = r"
local v = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3])
local key
if ARGV[2] == 'g' then
  key = ARGV[1] .. ':g' .. (v[3] or '0')
else
  key = ARGV[1] .. ':u' .. (v[1] or '0') .. '.e' .. (v[2] or '0')
end
if ARGV[3] == '1' then
  if ARGV[4] == key then
    return {key, false, 1}
  end
  return {key, redis.call('GET', key), 0}
end
if redis.call('EXISTS', key) == 1 then
  return {key, false, 2}
end
return {key, false, 0}
";

/// What [`lookup`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// The caller's copy (`have`) is the current one.
    Current,
    /// The current body, cached.
    Cached(Vec<u8>),
    /// A body is cached under the current key (not asked to read it).
    Exists,
    /// Nothing cached under the current key (or not asked to read).
    Missing,
}

/// The Redis key of `viewer`'s cached tree named `name` under the current versions (global
/// trees follow the global version) and, when `read`, its cached body, unless `have` (the key
/// of a copy the caller holds) is already the current key. Without `read`, says whether a body
/// exists under the current key.
pub async fn lookup(
    pool: &redis_util::RedisPool,
    settings: &Settings,
    viewer: UserId,
    name: &str,
    global: bool,
    read: bool,
    have: Option<&str>,
) -> Result<(String, Lookup), String> {
    let script = redis::Script::new(LOOKUP);
    let mut call = script.prepare_invoke();
    call.key(user_key(settings, viewer))
        .key(epoch_key(settings))
        .key(global_key(settings))
        .arg(settings.redis_key(&format!("graph:tree:{name}")))
        .arg(if global { "g" } else { "u" })
        .arg(if read { "1" } else { "0" })
        .arg(have.unwrap_or_default());
    let (key, body, current): (String, Option<Vec<u8>>, i64) =
        redis_util::run(pool, async move |c| call.invoke_async(c).await).await?;
    let found = match (current, body) {
        (1, _) => Lookup::Current,
        (2, _) => Lookup::Exists,
        (_, Some(body)) => Lookup::Cached(body),
        _ => Lookup::Missing,
    };
    Ok((key, found))
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
    users: &[UserId],
) -> Result<(), String> {
    let mut keys: Vec<String> = users.iter().map(|u| user_key(settings, *u)).collect();
    keys.push(global_key(settings));
    bump(pool, keys).await
}

/// Every tree changed (an animal was edited or deleted).
pub async fn bump_all(pool: &redis_util::RedisPool, settings: &Settings) -> Result<(), String> {
    bump(pool, vec![epoch_key(settings), global_key(settings)]).await
}
