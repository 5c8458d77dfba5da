//! The computed trees, cached in Redis (shared by every replica) and, for the trees a replica
//! served last, in its memory too; keyed by scope and by the versions of
//! [`biologidex_core::graph_cache`], so the next request after any change never reads a stale tree.
//! One Redis round trip per request: it resolves the current key and returns the body only
//! when this replica's copy is not the current one.
//! Redis trouble fails open: logged, counted (`redis_failures{purpose="graph_cache"}` and
//! `graph_cache_total{result="error"}`), and the tree is computed without the cache.

use std::{
    sync::{Arc, OnceLock},
    time::Duration,
};

use actix_web::web::Bytes;
use biologidex_core::graph_cache::{self, Lookup};
use biologidex_core::ids::UserId;

use super::search::SearchIndex;
use crate::{ApiResult, state::AppState};

/// The memory a replica gives its recent trees' bodies, in KiB (the weight unit below); their
/// search indexes, made after insertion, add a fraction of that and are not weighed.
const LOCAL_KIB: u64 = 256 * 1024;
/// Larger bodies are only kept in Redis.
const LOCAL_MAX_BODY: usize = 64 * 1024 * 1024;

/// A tree's body as this replica holds it, with what searches need made once on first use,
/// so a search reads an index instead of parsing the whole body again.
pub struct CachedTree {
    /// The versioned Redis key this body belongs to.
    key: String,
    pub body: Bytes,
    search: OnceLock<SearchIndex>,
}

impl CachedTree {
    fn new(key: String, body: Bytes) -> Arc<Self> {
        Arc::new(CachedTree {
            key,
            body,
            search: OnceLock::new(),
        })
    }

    /// The search index of this body, parsed from it the first time.
    pub fn search_index(&self) -> ApiResult<&SearchIndex> {
        if let Some(index) = self.search.get() {
            return Ok(index);
        }
        let index = SearchIndex::parse(&self.body)?;
        Ok(self.search.get_or_init(|| index))
    }
}

/// Bodies this replica served lately, by tree name, bounded by their total size (least
/// recently used out first) and by `GRAPH_CACHE_TTL`.
pub struct LocalTrees {
    map: moka::sync::Cache<String, Arc<CachedTree>>,
    /// `GRAPH_CACHE_TTL`, at least a second: here and for the Redis copies.
    ttl: Duration,
}

impl std::fmt::Debug for LocalTrees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalTrees")
            .field("trees", &self.map.entry_count())
            .finish()
    }
}

impl LocalTrees {
    pub fn new(ttl: Duration) -> Self {
        let ttl = ttl.max(Duration::from_secs(1));
        let map = moka::sync::Cache::builder()
            .max_capacity(LOCAL_KIB)
            .weigher(|_: &String, t: &Arc<CachedTree>| {
                u32::try_from(t.body.len() / 1024 + 1).unwrap_or(u32::MAX)
            })
            .eviction_policy(moka::policy::EvictionPolicy::lru())
            .time_to_live(ttl)
            .build();
        LocalTrees { map, ttl }
    }

    fn get(&self, name: &str) -> Option<Arc<CachedTree>> {
        self.map.get(name)
    }

    fn put(&self, name: &str, key: String, body: Bytes) -> Arc<CachedTree> {
        let tree = CachedTree::new(key, body);
        if tree.body.len() <= LOCAL_MAX_BODY {
            self.map.insert(name.to_owned(), tree.clone());
        }
        tree
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
) -> ApiResult<Arc<CachedTree>> {
    let local = use_cache.then(|| state.trees.get(name)).flatten();
    let have = local.as_ref().map(|t| t.key.as_str());
    let redis = &state.redis;
    let fresh = |body: Vec<u8>| CachedTree::new(String::new(), Bytes::from(body));
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
            if let Some(tree) = local {
                return Ok(tree);
            }
            // Cannot happen (no copy was offered); rebuild below.
            return Ok(fresh(build().await?));
        }
        Ok((key, Lookup::Cached(body))) => {
            count(state, "hit");
            return Ok(state.trees.put(name, key, Bytes::from(body)));
        }
        Ok((_, Lookup::Exists)) => {
            // A tree is cached under the current versions: built from the same data, it is
            // the same bytes, so rewriting it would only load Redis.
            return Ok(fresh(build().await?));
        }
        Ok((key, Lookup::Missing)) => {
            if use_cache {
                count(state, "miss");
            }
            key
        }
        Err(e) => {
            failed(state, &e);
            return Ok(fresh(build().await?));
        }
    };
    let body = Bytes::from(build().await?);
    let value = body.clone();
    let k = key.clone();
    let secs = state.trees.ttl.as_secs();
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
        return Ok(CachedTree::new(key, body));
    }
    Ok(state.trees.put(name, key, body))
}
