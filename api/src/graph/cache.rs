//! The computed trees, cached in Redis (shared by every replica) and, for the trees a replica
//! served last, in its memory too; keyed by scope and by the versions of
//! [`biologidex_core::graph_cache`], so the next request after any change never reads a stale tree.
//! One Redis round trip per request: it resolves the current key and returns the body only
//! when this replica's copy is not the current one.
//! Redis trouble fails open: logged, counted (`redis_failures{purpose="graph_cache"}` and
//! `graph_cache_total{result="error"}`), and the tree is computed without the cache.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use actix_web::web::Bytes;
use biologidex_core::graph_cache::{self, Lookup};
use biologidex_core::ids::UserId;

use crate::{ApiResult, state::AppState};

/// Most trees a replica keeps in memory.
const LOCAL_ENTRIES: usize = 1024;
/// Larger bodies are only kept in Redis.
const LOCAL_MAX_BODY: usize = 4 * 1024 * 1024;

struct Entry {
    key: String,
    body: Bytes,
    at: Instant,
}

/// Bodies this replica served lately, by tree name (with the versioned key they belong to).
#[derive(Default)]
pub struct LocalTrees {
    map: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for LocalTrees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalTrees")
    }
}

impl LocalTrees {
    fn get(&self, name: &str, ttl: Duration) -> Option<(String, Bytes)> {
        let map = self.map.lock().ok()?;
        map.get(name)
            .filter(|e| e.at.elapsed() < ttl)
            .map(|e| (e.key.clone(), e.body.clone()))
    }

    fn put(&self, name: &str, key: String, body: Bytes, ttl: Duration) {
        if body.len() > LOCAL_MAX_BODY {
            return;
        }
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        if map.len() >= LOCAL_ENTRIES && !map.contains_key(name) {
            map.retain(|_, e| e.at.elapsed() < ttl);
            if map.len() >= LOCAL_ENTRIES {
                map.clear();
            }
        }
        let at = Instant::now();
        map.insert(name.to_owned(), Entry { key, body, at });
    }
}

fn count(state: &AppState, result: &str) {
    state.metrics.graph_cache.with_label_values(&[result]).inc();
}

fn failed(state: &AppState, e: &str) {
    count(state, "error");
    state
        .metrics
        .redis_failures
        .with_label_values(&["graph_cache"])
        .inc();
    tracing::warn!(error = %e, "tree cache skipped: redis unavailable");
}

/// The cached body named `name` for `viewer`, or `build()`'s, which is then stored.
/// `use_cache = false` skips the read but still stores the fresh tree when none is cached
/// under the current versions.
pub async fn fetch_or_build(
    state: &AppState,
    viewer: UserId,
    name: &str,
    global: bool,
    use_cache: bool,
    build: impl AsyncFnOnce() -> ApiResult<Vec<u8>>,
) -> ApiResult<Bytes> {
    let ttl = state.settings.graph_cache_ttl.max(Duration::from_secs(1));
    let local = use_cache.then(|| state.trees.get(name, ttl)).flatten();
    let have = local.as_ref().map(|(k, _)| k.as_str());
    let redis = &state.redis;
    let key = match graph_cache::lookup(
        redis,
        &state.settings,
        viewer,
        name,
        global,
        use_cache,
        have,
    )
    .await
    {
        Ok((_, Lookup::Current)) => {
            count(state, "hit");
            if let Some((_, body)) = local {
                return Ok(body);
            }
            // Cannot happen (no copy was offered); rebuild below.
            return Ok(Bytes::from(build().await?));
        }
        Ok((key, Lookup::Cached(body))) => {
            count(state, "hit");
            let body = Bytes::from(body);
            state.trees.put(name, key, body.clone(), ttl);
            return Ok(body);
        }
        Ok((_, Lookup::Exists)) => {
            // A tree is cached under the current versions: built from the same data, it is
            // the same bytes, so rewriting it would only load Redis.
            return Ok(Bytes::from(build().await?));
        }
        Ok((key, Lookup::Missing)) => {
            if use_cache {
                count(state, "miss");
            }
            key
        }
        Err(e) => {
            failed(state, &e);
            return Ok(Bytes::from(build().await?));
        }
    };
    let body = Bytes::from(build().await?);
    let value = body.clone();
    let k = key.clone();
    let secs = ttl.as_secs();
    if let Err(e) = biologidex_core::redis_util::run(redis, async move |c| {
        redis::cmd("SET")
            .arg(&k)
            .arg(value.as_ref())
            .arg("EX")
            .arg(secs)
            .query_async::<()>(c)
            .await
    })
    .await
    {
        failed(state, &e);
    } else {
        state.trees.put(name, key, body.clone(), ttl);
    }
    Ok(body)
}
