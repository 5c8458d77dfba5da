//! Test support (feature `test-util`): a fresh PostgreSQL database per test, cloned from a
//! migrated template, and a Redis namespace per test. Tests run in parallel.

use std::time::{SystemTime, UNIX_EPOCH};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;

const TEMPLATE_LOCK_KEY: i64 = 0x0B10_1061_DE00_0002;
/// Leftover test databases older than this are swept when a template is built.
const LEFTOVER_AGE_SECS: u64 = 3600;

/// The admin URL tests create databases through (`TEST_DATABASE_URL`).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://biologidex:biologidex@127.0.0.1:5432/postgres".to_owned())
}

/// The Redis URL tests use (`TEST_REDIS_URL`, database 15 by default).
pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/15".to_owned())
}

/// A key prefix no other test shares.
pub fn redis_prefix() -> String {
    format!("test-{}", uuid::Uuid::new_v4().simple())
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    format!("{prefix}/{db}{query}")
}

/// Named after a hash of every migration file (computed by `build.rs`), so editing a
/// migration yields a fresh template and stale ones are swept. The names of the migrations
/// compiled in are hashed too: worktrees sharing one target directory share `build.rs`'s
/// output, which may then describe another worktree's migrations.
fn template_name() -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let names =
        diesel::migration::MigrationSource::<diesel::pg::Pg>::migrations(&crate::MIGRATIONS)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>())
            .unwrap_or_default();
    for b in names.join(",").bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!(
        "bdx_template_{}{:04x}",
        env!("BDX_MIGRATIONS_HASH"),
        hash & 0xffff
    )
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

async fn admin() -> AsyncPgConnection {
    AsyncPgConnection::establish(&admin_url())
        .await
        .unwrap_or_else(|e| panic!("cannot reach TEST_DATABASE_URL ({}): {e}", admin_url()))
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> diesel::QueryResult<usize> {
    diesel::sql_query(sql).execute(conn).await
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    datname: String,
}

async fn ensure_template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let prefix = template_name();
            let mut conn = admin().await;
            exec(
                &mut conn,
                &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK_KEY})"),
            )
            .await
            .unwrap_or_else(|e| panic!("advisory lock: {e}"));
            let existing: Vec<Name> = diesel::sql_query(
                "SELECT datname::text AS datname FROM pg_database \
                 WHERE datname LIKE 'bdx\\_template\\_%' OR datname LIKE 'bdx\\_test\\_%'",
            )
            .load(&mut conn)
            .await
            .unwrap_or_default();
            // Templates are named `<hash>_<creation time>` so that checkouts with other
            // migrations (other branches on the same machine) keep theirs until they are stale.
            let found = existing
                .iter()
                .find(|d| {
                    d.datname.starts_with(&format!("{prefix}_"))
                        && !d.datname.ends_with("_building")
                })
                .map(|d| d.datname.clone());
            let name = match found {
                Some(name) => name,
                None => {
                    let name = format!("{prefix}_{}", now_secs());
                    sweep(&mut conn, &existing, &prefix).await;
                    build_template(&mut conn, &name).await;
                    name
                }
            };
            drop(
                exec(
                    &mut conn,
                    &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK_KEY})"),
                )
                .await,
            );
            name
        })
        .await
}

/// Drops test databases left by crashed runs (older than an hour) and templates of other
/// migration sets older than a day.
async fn sweep(conn: &mut AsyncPgConnection, existing: &[Name], keep_prefix: &str) {
    let cutoff = now_secs().saturating_sub(LEFTOVER_AGE_SECS);
    let template_cutoff = now_secs().saturating_sub(24 * LEFTOVER_AGE_SECS);
    for d in existing {
        let stale = if d.datname.starts_with("bdx_template_") {
            let created = d
                .datname
                .rsplit('_')
                .next()
                .and_then(|t| t.parse::<u64>().ok());
            // An unsuffixed name is an older layout: always rebuildable.
            d.datname == keep_prefix
                || (!d.datname.starts_with(keep_prefix)
                    && created.is_none_or(|t| t < template_cutoff))
        } else {
            d.datname
                .trim_start_matches("bdx_test_")
                .split('_')
                .next()
                .and_then(|ts| ts.parse::<u64>().ok())
                .is_some_and(|ts| ts < cutoff)
        };
        if stale {
            let name = &d.datname;
            // A template must stop being one before it can be dropped.
            drop(
                exec(
                    conn,
                    &format!("ALTER DATABASE \"{name}\" IS_TEMPLATE false"),
                )
                .await,
            );
            drop(
                exec(
                    conn,
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                )
                .await,
            );
        }
    }
}

async fn build_template(conn: &mut AsyncPgConnection, name: &str) {
    let building = format!("{name}_building");
    drop(
        exec(
            conn,
            &format!("DROP DATABASE IF EXISTS \"{building}\" WITH (FORCE)"),
        )
        .await,
    );
    exec(conn, &format!("CREATE DATABASE \"{building}\""))
        .await
        .unwrap_or_else(|e| panic!("create template: {e}"));
    let url = with_database(&admin_url(), &building);
    tokio::task::spawn_blocking(move || crate::run_migrations_blocking(&url))
        .await
        .unwrap_or_else(|e| panic!("migration thread: {e}"))
        .unwrap_or_else(|e| panic!("migrating the template: {e}"));
    // Renaming only after a complete migration means a crash never leaves a half template.
    exec(
        conn,
        &format!("ALTER DATABASE \"{building}\" RENAME TO \"{name}\""),
    )
    .await
    .unwrap_or_else(|e| panic!("rename template: {e}"));
    // Any role with CREATEDB may clone a template, not only the role that built it.
    exec(conn, &format!("ALTER DATABASE \"{name}\" IS_TEMPLATE true"))
        .await
        .unwrap_or_else(|e| panic!("mark template: {e}"));
}

/// A database of its own for one test; dropped (forcefully) when this value is dropped.
#[derive(Debug)]
pub struct TestDb {
    name: String,
    url: String,
}

impl TestDb {
    /// Clones the migrated template into a new database.
    pub async fn new() -> TestDb {
        let template = ensure_template().await;
        let name = format!("bdx_test_{}_{}", now_secs(), uuid::Uuid::new_v4().simple());
        let mut conn = admin().await;
        exec(
            &mut conn,
            &format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\""),
        )
        .await
        .unwrap_or_else(|e| panic!("clone template: {e}"));
        let url = with_database(&admin_url(), &name);
        TestDb { name, url }
    }

    /// An empty database with no migrations applied (migration tests).
    pub async fn empty() -> TestDb {
        let name = format!("bdx_test_{}_{}", now_secs(), uuid::Uuid::new_v4().simple());
        let mut conn = admin().await;
        exec(&mut conn, &format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap_or_else(|e| panic!("create database: {e}"));
        let url = with_database(&admin_url(), &name);
        TestDb { name, url }
    }

    /// Connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Database name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop cannot await and may run inside a runtime: use a thread with its own runtime.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(&admin_url()).await {
                    drop(exec(&mut conn, &sql).await);
                }
            });
        });
        drop(handle.join());
    }
}
