//! The taxonomy statistics cache in Redis (`taxonomy:hierarchy_stats`, as the old server named
//! it). Reads fail open; an import invalidates it.

use std::time::Duration;

use biologidex_core::{config::Settings, redis_util};
use biologidex_db::models::taxa::TaxonomyStats;

/// Key suffix of the statistics (prefixed with the deployment's Redis key prefix).
pub const STATS_KEY: &str = "taxonomy:hierarchy_stats";
/// How long statistics are cached.
pub const STATS_TTL: Duration = Duration::from_secs(3600);

/// The cached statistics, if Redis has them.
pub async fn get_stats(
    redis: &redis_util::RedisPool,
    settings: &Settings,
) -> Option<TaxonomyStats> {
    let key = settings.redis_key(STATS_KEY);
    let raw: Option<String> = redis_util::run(redis, async move |c| {
        redis::cmd("GET").arg(&key).query_async(c).await
    })
    .await
    .map_err(|e| tracing::warn!(error = %e, "taxonomy stats cache unavailable"))
    .ok()
    .flatten();
    raw.and_then(|r| serde_json::from_str(&r).ok())
}

/// Caches the statistics (best effort).
pub async fn put_stats(redis: &redis_util::RedisPool, settings: &Settings, stats: &TaxonomyStats) {
    let key = settings.redis_key(STATS_KEY);
    let Ok(value) = serde_json::to_string(stats) else {
        return;
    };
    let ttl = STATS_TTL.as_secs();
    if let Err(e) = redis_util::run(redis, async move |c| {
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
        tracing::warn!(error = %e, "cannot cache taxonomy stats");
    }
}

/// Drops the cached statistics (best effort).
pub async fn invalidate(redis: &redis_util::RedisPool, settings: &Settings) {
    let key = settings.redis_key(STATS_KEY);
    if let Err(e) = redis_util::run(redis, async move |c| {
        redis::cmd("DEL").arg(&key).query_async::<()>(c).await
    })
    .await
    {
        tracing::warn!(error = %e, "cannot invalidate the taxonomy stats cache; it expires within an hour");
    }
}

/// Drops the cached statistics from a process that has no Redis pool of its own (the CLI).
pub async fn invalidate_after_import(settings: &Settings) {
    match redis_util::build_pool(&settings.redis_url, 1) {
        Ok(pool) => invalidate(&pool, settings).await,
        Err(e) => tracing::warn!(error = %e, "cannot invalidate the taxonomy stats cache"),
    }
}
