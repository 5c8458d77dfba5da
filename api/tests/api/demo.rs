//! `biologidex-api seed-demo` populates a world a newcomer can look at.

use std::process::Command;

use crate::helpers::TestApp;

#[tokio::test]
async fn seed_demo_creates_players_friends_entries_and_a_tree() {
    let app = TestApp::spawn().await;
    let sample =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata/coldp-sample");
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
            .args(["seed-demo", "--taxonomy"])
            .arg(&sample)
            .env_clear()
            .env("DATABASE_URL", app.db.url())
            .env(
                "SECRET_KEY",
                "a-long-enough-secret-key-for-tests-0123456789",
            )
            .env("MEDIA_ROOT", &app.state.settings.media_root)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    };
    let out = run();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    let password = err
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("ash").map(|rest| {
                rest.split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        })
        .unwrap();
    let (status, login) = app.login("ash", &password).await;
    assert_eq!(status, 200, "{login}");
    let token = login["access"].as_str().unwrap();
    let (_, friends) = app
        .get_as("/api/v1/social/friendships/friends/", token)
        .await;
    assert_eq!(friends["count"], 2);
    let (_, dex) = app.get_as("/api/v1/dex/entries/my_entries/", token).await;
    assert_eq!(dex["count"], 4);
    let (_, sync) = app.get_as("/api/v1/dex/entries/sync_entries/", token).await;
    let (status, _) = app
        .fetch(sync["entries"][0]["dex_compatible_url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200, "demo photos are served");
    let (status, tree) = app.get_as("/api/v1/graph/tree/", token).await;
    assert_eq!(status, 200);
    assert!(tree["nodes"].as_array().unwrap().len() > 5, "{tree}");
    // A second run changes nothing.
    let again = run();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("nothing to do"));
}

#[tokio::test]
async fn seed_demo_loads_the_built_in_sample_from_any_directory() {
    let app = TestApp::spawn().await;
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_biologidex-api"))
            .arg("seed-demo")
            .args(extra)
            .env_clear()
            .env("DATABASE_URL", app.db.url())
            .env(
                "SECRET_KEY",
                "a-long-enough-secret-key-for-tests-0123456789",
            )
            .env("MEDIA_ROOT", &app.state.settings.media_root)
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap()
    };
    let out = run(&["--taxonomy", "/nonexistent/release"]);
    assert!(
        !out.status.success(),
        "a missing release is an error, not a skip"
    );
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("from the built-in sample release"), "{err}");
    use diesel::QueryDsl;
    use diesel_async::RunQueryDsl;
    let mut conn = app.state.db.get().await.unwrap();
    let taxa: i64 = biologidex_db::schema::taxa::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert!(taxa > 100, "{taxa} taxa");
}
