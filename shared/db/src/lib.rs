//! The PostgreSQL layer: the bb8 pool of async connections, the embedded migrations, the schema,
//! every query (`models`) and the console's actions (`admin`). All SQL of the workspace lives
//! here or in the taxonomy importer. Model functions take a connection, never the pool, so
//! callers own transactions. Feature `test-util` adds one fresh database per test (`testing`).

pub mod admin;
pub mod auth_watch;
pub mod models;
pub mod replica;
pub mod schema;
#[cfg(feature = "test-util")]
pub mod testing;
mod text_enum;

use std::{sync::LazyLock, time::Duration};

use diesel::{Connection, ConnectionError, migration::MigrationVersion};
use diesel_async::{
    AsyncPgConnection,
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{
        AsyncDieselConnectionManager, ManagerConfig, PoolableConnection, RecyclingMethod, bb8,
    },
};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use futures_util::FutureExt;

/// The pool every request and job borrows connections from.
pub type DbPool = bb8::Pool<AsyncPgConnection>;
/// A connection borrowed from [`DbPool`].
pub type DbConn<'a> = bb8::PooledConnection<'a, AsyncPgConnection>;

/// Every migration under `migrations/`, compiled into the binaries.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// Arbitrary but fixed key of the advisory lock that serialises concurrent `migrate` runs.
const MIGRATION_LOCK_KEY: i64 = 0x0B10_1061_DE00_0001;

/// Builds the pool. Connections are opened lazily, so this succeeds while PostgreSQL is down;
/// checkouts then fail after `connect_timeout` instead of hanging.
pub fn build_pool(url: &str, max_size: u32, connect_timeout: Duration) -> DbPool {
    let mut config = ManagerConfig::default();
    config.custom_setup = Box::new(|url| establish_on_driver_runtime(url.to_owned()).boxed());
    // A checkout skips connections PostgreSQL closed (a restart, a terminated backend) and
    // hands out a fresh one instead, without a round trip: the driver task has already seen
    // the socket close, and the check only reads that.
    config.recycling_method = RecyclingMethod::CustomFunction(Box::new(|conn| {
        let broken = PoolableConnection::is_broken(conn);
        async move {
            if broken {
                Err(diesel::result::Error::BrokenTransactionManager)
            } else {
                Ok(())
            }
        }
        .boxed()
    }));
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    bb8::Pool::builder()
        .max_size(max_size)
        .connection_timeout(connect_timeout)
        // The checkout test is the local check above, not a `SELECT 1` (which doubled the
        // statements of a request).
        .test_on_check_out(true)
        .build_unchecked(manager)
}

/// The runtime every pooled connection's driver task runs on. A connection's driver lives on
/// the runtime that opened it, and the pool is shared by all of actix's worker threads (each
/// with its own runtime): opened on a worker, it would die with that worker during a graceful
/// shutdown, under another worker's request. This runtime lives as long as the process.
static DRIVERS: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("db-drivers")
        .enable_all()
        .build()
        .ok()
});

async fn establish_on_driver_runtime(url: String) -> diesel::ConnectionResult<AsyncPgConnection> {
    match DRIVERS.as_ref() {
        Some(rt) => rt
            .spawn(async move {
                <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await
            })
            .await
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))?,
        None => <AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await,
    }
}

type SyncPg = AsyncConnectionWrapper<AsyncPgConnection>;

/// Runs every pending migration under a PostgreSQL advisory lock, so two concurrent runs (two
/// replicas starting at once) apply each migration once. Returns the versions applied here.
/// Blocking: call it from `spawn_blocking` or a plain thread.
pub fn run_migrations_blocking(url: &str) -> anyhow::Result<Vec<String>> {
    use diesel::RunQueryDsl;
    let mut conn = SyncPg::establish(url)?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(MigrationVersion::to_string).collect())
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .execute(&mut conn)?;
    applied
}

/// How many migrations the binaries carry.
pub fn migration_count() -> usize {
    diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .map_or(0, |m| m.len())
}

/// Reverts every applied migration (tests of `down.sql`). Blocking.
pub fn revert_all_migrations_blocking(url: &str) -> anyhow::Result<usize> {
    let mut conn = SyncPg::establish(url)?;
    let reverted = conn
        .revert_all_migrations(MIGRATIONS)
        .map_err(|e| anyhow::anyhow!("revert failed: {e}"))?;
    Ok(reverted.len())
}

/// Runs the migrations on a blocking thread from async code.
pub async fn run_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || run_migrations_blocking(&url)).await?
}

/// `SELECT 1` with a deadline: the readiness probe.
pub async fn ping(pool: &DbPool, deadline: Duration) -> Result<(), String> {
    use diesel_async::RunQueryDsl as _;
    let check = async {
        let mut conn = pool.get().await.map_err(|e| e.to_string())?;
        diesel::sql_query("SELECT 1")
            .execute(&mut conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(deadline, check).await {
        Ok(r) => r,
        Err(_) => Err("timed out".to_owned()),
    }
}
