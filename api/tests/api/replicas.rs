//! Read replicas: catalogue reads go to a replica, writes and the caller's own reads to the
//! primary, and a replica that is down is skipped. The "replica" here is a second database of
//! its own, so where each read went shows in its answer; a real streaming replica made with
//! pg_basebackup is exercised by ops/ci/topology.sh.

use std::time::{Duration, Instant};

use biologidex_db::testing::TestDb;

use crate::helpers::{TestApp, closed_port};

/// The value of one sample of the app's `/metrics` (0 when absent).
async fn metric(app: &TestApp, sample: &str) -> f64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.trim().parse().ok())
        .unwrap_or(0.0)
}

async fn until_usable(app: &TestApp, replica: &str, want: f64) {
    let sample = format!("biologidex_api_db_replica_usable{{replica=\"{replica}\"}}");
    until(app, &sample, want).await;
}

/// Waits (at most 10 s) until the watcher has set `sample` to `want`.
async fn until(app: &TestApp, sample: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(app, sample).await != want {
        assert!(Instant::now() < deadline, "{sample} never became {want}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn names(page: &serde_json::Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["scientific_name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn catalogue_reads_go_to_the_replica_and_own_reads_stay_on_the_primary() {
    let replica = TestDb::new().await;
    let app = TestApp::spawn_with(&[("DATABASE_REPLICA_URLS", replica.url())]).await;
    let label = "127.0.0.1:5432";
    until_usable(&app, label, 1.0).await;
    let ash = app.user("ash").await;
    // A write lands on the primary ...
    app.animal(&ash, "Vulpes vulpes").await;
    // ... and the replica (here: a database of its own) has something else.
    {
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        let mut conn = AsyncPgConnection::establish(replica.url()).await.unwrap();
        diesel::sql_query("INSERT INTO animals (scientific_name, common_name, creation_index) VALUES ('Replica only', 'r', 1)")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let before = metric(
        &app,
        &format!("biologidex_api_db_reads_total{{target=\"{label}\"}}"),
    )
    .await;
    let (s, page) = app.get_as("/api/v1/animals/", &ash.access).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(names(&page), ["Replica only"]);
    let after = metric(
        &app,
        &format!("biologidex_api_db_reads_total{{target=\"{label}\"}}"),
    )
    .await;
    assert_eq!(after - before, 1.0);
    // The caller's own profile and entries come from the primary.
    let (_, me) = app.get_as("/api/v1/users/me/", &ash.access).await;
    assert_eq!(me["username"], "ash");
    let (_, own) = app
        .get_as(&format!("/api/v1/users/{}/", ash.id), &ash.access)
        .await;
    assert_eq!(own["username"], "ash", "{own}");
    let (s, mine) = app
        .get_as("/api/v1/dex/entries/my_entries/", &ash.access)
        .await;
    assert_eq!((s, mine["count"].as_i64()), (200, Some(0)));
    app.animal(&ash, "Panthera leo").await;
    let (_, page) = app.get_as("/api/v1/animals/", &ash.access).await;
    assert_eq!(names(&page), ["Replica only"], "still the replica's");
}

#[tokio::test]
async fn a_replica_that_is_down_is_skipped_and_reads_fall_back_to_the_primary() {
    let dead = format!(
        "postgres://biologidex:biologidex@127.0.0.1:{}/none",
        closed_port()
    );
    let app = TestApp::spawn_with(&[("DATABASE_REPLICA_URLS", dead.as_str())]).await;
    let label = dead
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let ash = app.user("ash").await;
    app.animal(&ash, "Vulpes vulpes").await;
    let started = Instant::now();
    let (s, page) = app.get_as("/api/v1/animals/", &ash.access).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(names(&page), ["Vulpes vulpes"]);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let lag = format!("biologidex_api_db_replica_lag_seconds{{replica=\"{label}\"}}");
    until(&app, &lag, -1.0).await;
    until_usable(&app, &label, 0.0).await;
    assert!(metric(&app, "biologidex_api_db_reads_total{target=\"primary\"}").await >= 1.0);
}
