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
    let key = match graph_cache::lookup(
        &state.redis,
        &state.settings,
        viewer,
        base,
        global,
        use_cache,
    )
    .await
    {
        Ok((_, Some(body))) => {
            state.metrics.graph_cache.with_label_values(&["hit"]).inc();
            return Ok(body);
        }
        Ok((key, None)) => {
            if use_cache {
                state.metrics.graph_cache.with_label_values(&["miss"]).inc();
            }
            key
        }
        Err(e) => {
            failed(state, &e);
            return build().await;
        }
    };
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
