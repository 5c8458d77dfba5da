#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

//! The worker binary against real PostgreSQL and Redis: consumes a queued job, serves health
//! and metrics, drains on SIGTERM; cron ticks enqueue once across replicas.

use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use apalis::prelude::TaskSink;
use biologidex_core::{
    config::Settings,
    jobs::{Job, PurgeExpiredTokens},
};
use biologidex_db::testing::{TestDb, redis_prefix, redis_url};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Count> = diesel::sql_query(sql).load(&mut conn).await.unwrap();
    rows[0].n
}

async fn seed_tokens(url: &str) {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(
        "WITH u AS (INSERT INTO users (username, email, password_hash, friend_code) \
                    VALUES ('ash', 'ash@example.com', 'x', 'ABCDEFGH') RETURNING id) \
         INSERT INTO refresh_tokens (user_id, family_id, expires_at) \
         SELECT u.id, gen_random_uuid(), e FROM u, \
                (VALUES (now() - interval '1 day'), (now() - interval '1 minute'), (now() + interval '1 day')) t(e)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn_worker(db_url: &str, prefix: &str, port: u16, cron: bool) -> Child {
    Command::new(env!("CARGO_BIN_EXE_biologidex-worker"))
        .env_clear()
        .env("DATABASE_URL", db_url)
        .env("REDIS_URL", redis_url())
        .env("REDIS_KEY_PREFIX", prefix)
        .env(
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        )
        .env("WORKER_METRICS_BIND", format!("127.0.0.1:{port}"))
        .env("WORKER_RUN_CRON", cron.to_string())
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn settings(db_url: &str, prefix: &str) -> Settings {
    let redis = redis_url();
    Settings::from_map(&HashMap::from([
        (
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        ),
        ("DATABASE_URL", db_url),
        ("REDIS_URL", redis.as_str()),
        ("REDIS_KEY_PREFIX", prefix),
    ]))
    .unwrap()
}

async fn wait_for<F: AsyncFnMut() -> bool>(limit: Duration, mut f: F) -> bool {
    let started = Instant::now();
    while started.elapsed() < limit {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn the_worker_consumes_a_queued_job_serves_metrics_and_drains_on_sigterm() {
    let db = TestDb::new().await;
    seed_tokens(db.url()).await;
    let prefix = redis_prefix();
    let port = free_port();
    let mut child = spawn_worker(db.url(), &prefix, port, false);
    let http = reqwest::Client::new();
    let health = format!("http://127.0.0.1:{port}/health/");
    assert!(
        wait_for(Duration::from_secs(10), async || http
            .get(&health)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200))
        .await,
        "worker health never answered"
    );

    // Push as the api does: same payload type, same namespaced queue.
    let conn = apalis_redis::connect(redis_url()).await.unwrap();
    let mut storage = PurgeExpiredTokens::storage(conn, &prefix);
    storage.push(PurgeExpiredTokens).await.unwrap();
    let expired = "SELECT count(*) AS n FROM refresh_tokens WHERE expires_at < now()";
    assert!(
        wait_for(Duration::from_secs(10), async || count(db.url(), expired)
            .await
            == 0)
        .await,
        "the job never ran"
    );
    assert_eq!(
        count(db.url(), "SELECT count(*) AS n FROM refresh_tokens").await,
        1,
        "valid tokens stay"
    );

    let metrics = http
        .get(format!("http://127.0.0.1:{port}/metrics/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"biologidex_worker_jobs_total{outcome="ok",queue="accounts.purge-expired-tokens"} 1"#
        ),
        "{metrics}"
    );

    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "worker did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(status.success(), "exit {status:?}: {err}");
}

#[tokio::test]
async fn a_cron_tick_is_enqueued_once_however_many_replicas_see_it() {
    let db = TestDb::new().await;
    let prefix = redis_prefix();
    let a = worker::state::WorkerState::connect(settings(db.url(), &prefix))
        .await
        .unwrap();
    let b = worker::state::WorkerState::connect(settings(db.url(), &prefix))
        .await
        .unwrap();
    let task = worker::schedule::PURGE_EXPIRED_TOKENS;
    let tick = 1_790_000_000;
    assert!(
        worker::jobs::cron::enqueue_once(&a, task, tick, PurgeExpiredTokens)
            .await
            .unwrap()
    );
    assert!(
        !worker::jobs::cron::enqueue_once(&b, task, tick, PurgeExpiredTokens)
            .await
            .unwrap()
    );
    assert!(
        worker::jobs::cron::enqueue_once(&b, task, tick + 3600, PurgeExpiredTokens)
            .await
            .unwrap()
    );

    let config = biologidex_core::jobs::queue_config(&prefix, PurgeExpiredTokens::QUEUE);
    let mut conn = apalis_redis::connect(redis_url()).await.unwrap();
    let (active, scheduled): (i64, i64) = redis::pipe()
        .cmd("LLEN")
        .arg(config.active_jobs_list())
        .cmd("ZCARD")
        .arg(config.scheduled_jobs_set())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(active + scheduled, 2);
}

#[test]
fn every_cron_expression_parses() {
    for task in worker::schedule::ALL {
        worker::monitor::parse_schedule(task.expression).unwrap();
    }
}

fn sample_release() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/coldp-sample")
}

#[tokio::test]
async fn a_taxonomy_import_job_runs_once_and_a_redelivery_is_a_no_op() {
    use biologidex_core::jobs::RunTaxonomyImport;
    use worker::jobs::taxonomy::run_taxonomy_import;

    let db = TestDb::new().await;
    let state = worker::state::WorkerState::connect(settings(db.url(), &redis_prefix()))
        .await
        .unwrap();
    let job = biologidex_taxonomy::import::create_col_job(&state.db, &sample_release())
        .await
        .unwrap();
    let payload = RunTaxonomyImport {
        import_job_id: job.id,
    };
    let report = run_taxonomy_import(&state, payload.clone())
        .await
        .unwrap()
        .expect("the first delivery imports");
    assert_eq!(report.counts.name_usages, 1020);
    assert!(
        run_taxonomy_import(&state, payload)
            .await
            .unwrap()
            .is_none(),
        "a redelivered completed job does nothing"
    );
    assert_eq!(
        count(
            db.url(),
            "SELECT count(*) AS n FROM taxonomy_import_jobs WHERE status = 'completed'"
        )
        .await,
        1
    );
    assert_eq!(
        count(db.url(), "SELECT count(*) AS n FROM taxa").await,
        1020
    );
}

#[tokio::test]
async fn a_malformed_release_aborts_the_job_without_retries() {
    use apalis::prelude::{AbortError, Data};
    use biologidex_core::jobs::RunTaxonomyImport;

    let db = TestDb::new().await;
    let state = worker::state::WorkerState::connect(settings(db.url(), &redis_prefix()))
        .await
        .unwrap();
    let empty = std::env::temp_dir().join(format!("empty-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&empty).unwrap();
    let job = biologidex_taxonomy::import::create_col_job(&state.db, &empty)
        .await
        .unwrap();
    let err = worker::jobs::taxonomy::taxonomy_import(
        RunTaxonomyImport {
            import_job_id: job.id,
        },
        Data::new(state),
    )
    .await
    .expect_err("no NameUsage.tsv");
    assert!(err.downcast_ref::<AbortError>().is_some(), "{err}");
    assert_eq!(
        count(
            db.url(),
            "SELECT count(*) AS n FROM taxonomy_import_jobs WHERE status = 'failed' \
             AND error_log->>'fatal_error' LIKE '%no NameUsage.tsv%'"
        )
        .await,
        1
    );
}
