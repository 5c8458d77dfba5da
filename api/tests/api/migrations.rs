//! Migrations: every `down.sql` works, and `biologidex-api migrate` is safe to repeat and to
//! run twice at once. Also the binary's configuration errors.

use std::process::{Command, Output};

use biologidex_db::testing::TestDb;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

async fn table_count(url: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<Count> = diesel::sql_query(
        "SELECT count(*) AS n FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    rows[0].n
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let db = TestDb::empty().await;
    let url = db.url().to_owned();
    let (applied, after_up, reverted, after_down, reapplied) = {
        let u = url.clone();
        let applied =
            tokio::task::spawn_blocking(move || biologidex_db::run_migrations_blocking(&u))
                .await
                .unwrap()
                .unwrap();
        let after_up = table_count(&url).await;
        let u = url.clone();
        let reverted =
            tokio::task::spawn_blocking(move || biologidex_db::revert_all_migrations_blocking(&u))
                .await
                .unwrap()
                .unwrap();
        let after_down = table_count(&url).await;
        let u = url.clone();
        let reapplied =
            tokio::task::spawn_blocking(move || biologidex_db::run_migrations_blocking(&u))
                .await
                .unwrap()
                .unwrap();
        (applied, after_up, reverted, after_down, reapplied)
    };
    assert!(applied.len() >= 9);
    assert!(after_up >= 17, "{after_up} tables");
    assert_eq!(reverted, applied.len());
    assert_eq!(after_down, 0, "down.sql files leave tables behind");
    assert_eq!(reapplied, applied);
    assert_eq!(table_count(&url).await, after_up);
}

fn migrate(url: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .arg("migrate")
        .env_clear()
        .env("DATABASE_URL", url)
        .env(
            "SECRET_KEY",
            "a-long-enough-secret-key-for-tests-0123456789",
        )
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: std::process::Child) -> Output {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn migrate_runs_twice_concurrently_and_then_again_without_harm() {
    let db = TestDb::empty().await;
    let url = db.url().to_owned();
    let (a, b) = (migrate(&url), migrate(&url));
    let (a, b) = tokio::task::spawn_blocking(move || (finish(a), finish(b)))
        .await
        .unwrap();
    drop((a, b));
    let tables = table_count(&url).await;
    assert!(tables >= 17);
    let again = tokio::task::spawn_blocking({
        let url = url.clone();
        move || finish(migrate(&url))
    })
    .await
    .unwrap();
    drop(again);
    assert_eq!(table_count(&url).await, tables);
    let mut conn = AsyncPgConnection::establish(&url).await.unwrap();
    let rows: Vec<Count> =
        diesel::sql_query("SELECT count(*) AS n FROM __diesel_schema_migrations")
            .load(&mut conn)
            .await
            .unwrap();
    assert_eq!(rows[0].n as usize, biologidex_db::migration_count());
}

#[test]
fn the_binary_refuses_to_start_without_a_secret_key_with_one_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .arg("serve")
        .env_clear()
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("SECRET_KEY"), "{err}");

    let out = Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
        .arg("serve")
        .env_clear()
        .env("SECRET_KEY", "change-me")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("placeholder"));
}
