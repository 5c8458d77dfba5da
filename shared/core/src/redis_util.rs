//! Redis access for caches, rate limits, locks and health. Every call has a short deadline:
//! losing Redis must never stall a request (callers fail open, docs/decisions.md#d16).

use std::time::Duration;

use bb8_redis::RedisConnectionManager;

/// Pool of Redis connections (caches, rate limits, locks, health).
pub type RedisPool = bb8::Pool<RedisConnectionManager>;

/// Deadline of one Redis round trip, connection included.
pub const REDIS_DEADLINE: Duration = Duration::from_millis(500);

/// Builds the pool lazily: it succeeds while Redis is down.
pub fn build_pool(url: &str, max_size: u32) -> anyhow::Result<RedisPool> {
    let manager = RedisConnectionManager::new(url)?;
    Ok(bb8::Pool::builder()
        .max_size(max_size)
        .connection_timeout(REDIS_DEADLINE)
        .build_unchecked(manager))
}

/// Runs one command (or pipeline) against the pool within [`REDIS_DEADLINE`].
pub async fn run<T, F>(pool: &RedisPool, f: F) -> Result<T, String>
where
    F: for<'c> AsyncFnOnce(&'c mut redis::aio::MultiplexedConnection) -> redis::RedisResult<T>,
{
    let work = async {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        f(&mut conn).await.map_err(|e| e.to_string())
    };
    match tokio::time::timeout(REDIS_DEADLINE, work).await {
        Ok(r) => r,
        Err(_) => Err("redis timed out".to_owned()),
    }
}

/// Takes a lock for `ttl` with `SET NX`; true when this caller got it. Used so that scaled
/// workers never run the same cron tick twice (docs/decisions.md#d17).
pub async fn try_lock(pool: &RedisPool, key: &str, ttl: Duration) -> Result<bool, String> {
    let key = key.to_owned();
    run(pool, async move |c| {
        let set: Option<String> = redis::cmd("SET")
            .arg(&key)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis() as u64)
            .query_async(c)
            .await?;
        Ok(set.is_some())
    })
    .await
}
