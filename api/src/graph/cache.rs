//! The computed trees in Redis, keyed by scope and by the versions of
//! [`shared::graph_cache`], so the next request after any change never reads a stale tree.
//! Redis trouble fails open: logged, counted (`redis_failures{purpose="graph_cache"}` and
//! `graph_cache_total{result="error"}`), and the tree is computed without the cache.

use shared::graph_cache;
use uuid::Uuid;

use crate::{ApiResult, state::AppState};

fn failed(state: &AppState, e: &str) {
    state
        .metrics
        .graph_cache
        .with_label_values(&["error"])
        .inc();
    state
        .metrics
        .redis_failures
        .with_label_values(&["graph_cache"])
        .inc();
    tracing::warn!(error = %e, "tree cache skipped: redis unavailable");
}

/// The cached body under `base` for `viewer`, or `build()`'s, which is then stored.
/// `use_cache = false` skips the read but still stores the fresh tree.
pub async fn fetch_or_build(
    state: &AppState,
    viewer: Uuid,
    base: &str,
    global: bool,
    use_cache: bool,
    build: impl AsyncFnOnce() -> ApiResult<Vec<u8>>,
) -> ApiResult<Vec<u8>> {
    let key = match graph_cache::versions(&state.redis, &state.settings, viewer).await {
        Ok(v) if global => state
            .settings
            .redis_key(&format!("graph:tree:{base}:g{}", v.global)),
        Ok(v) => state
            .settings
            .redis_key(&format!("graph:tree:{base}:u{}.e{}", v.user, v.epoch)),
        Err(e) => {
            failed(state, &e);
            return build().await;
        }
    };
    if use_cache {
        let k = key.clone();
        match shared::redis_util::run(&state.redis, async move |c| {
            redis::cmd("GET")
                .arg(&k)
                .query_async::<Option<Vec<u8>>>(c)
                .await
        })
        .await
        {
            Ok(Some(body)) => {
                state.metrics.graph_cache.with_label_values(&["hit"]).inc();
                return Ok(body);
            }
            Ok(None) => {
                state.metrics.graph_cache.with_label_values(&["miss"]).inc();
            }
            Err(e) => {
                failed(state, &e);
                return build().await;
            }
        }
    }
    let body = build().await?;
    let ttl = state.settings.graph_cache_ttl.as_secs().max(1);
    let value = body.clone();
    if let Err(e) = shared::redis_util::run(&state.redis, async move |c| {
        redis::cmd("SET")
            .arg(&key)
            .arg(value)
            .arg("EX")
            .arg(ttl)
            .query_async::<()>(c)
            .await
    })
    .await
    {
        failed(state, &e);
    }
    Ok(body)
}
