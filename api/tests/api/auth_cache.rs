//! The authentication cache: a request authenticated from memory costs no query, and a change
//! that refuses a token (logout, password change, deactivation, deletion) reaches every api
//! process at once, whichever process or tool made it, although the cache may keep a user
//! for a minute here.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestUser};

fn lookups(app: &TestApp, result: &str) -> u64 {
    app.state
        .metrics
        .auth_cache
        .with_label_values(&[result])
        .get()
}

/// Sends `users/me` until `app` answers it from memory (its listener has connected).
async fn until_cached(app: &TestApp, who: &TestUser) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let before = lookups(app, "hit");
        assert_eq!(app.get_as("/api/v1/users/me/", &who.access).await.0, 200);
        if lookups(app, "hit") > before {
            return;
        }
        assert!(Instant::now() < deadline, "never answered from the cache");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// How long `app` keeps accepting `token` (at most 2 s, far below the cache's minute).
async fn refused_after(app: &TestApp, token: &str) -> Duration {
    let start = Instant::now();
    loop {
        let (status, _) = app.get_as("/api/v1/dex/entries/my_entries/", token).await;
        if status == 401 {
            return start.elapsed();
        }
        assert_eq!(status, 200);
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "token still accepted"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn login(app: &TestApp, username: &str, password: &str, id: &str) -> TestUser {
    let (status, body) = app.login(username, password).await;
    assert_eq!(status, 200, "{body}");
    TestUser {
        id: id.to_owned(),
        access: body["access"].as_str().unwrap().to_owned(),
        refresh: body["refresh"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn a_cached_request_makes_no_query_and_the_profile_is_still_fresh() {
    let app = TestApp::spawn_with(&[("AUTH_CACHE_SECONDS", "60")]).await;
    let ash = app.user("ash").await;
    until_cached(&app, &ash).await;
    let hits = lookups(&app, "hit");
    let misses = lookups(&app, "miss") + lookups(&app, "off");
    for _ in 0..5 {
        assert_eq!(app.get_as("/api/v1/animals/", &ash.access).await.0, 200);
    }
    assert_eq!(lookups(&app, "hit"), hits + 5);
    assert_eq!(lookups(&app, "miss") + lookups(&app, "off"), misses);
    // users/me still shows the counters as they are now, not as they were cached.
    app.sql(&format!(
        "UPDATE user_profiles SET total_catches = 7 WHERE user_id = '{}'",
        ash.id
    ))
    .await;
    let (status, me) = app.get_as("/api/v1/users/me/", &ash.access).await;
    assert_eq!(status, 200);
    assert_eq!(me["profile"]["total_catches"], 7, "{me}");
}

#[tokio::test]
async fn every_refusal_reaches_another_api_process_at_once() {
    let a = TestApp::spawn_with(&[("AUTH_CACHE_SECONDS", "60")]).await;
    let b = a.sibling(&[("AUTH_CACHE_SECONDS", "60")]).await;
    let first = a.user("misty").await;
    let id = first.id.clone();

    // Logout on A.
    until_cached(&b, &first).await;
    let (status, _) = a
        .post_as(
            "/api/v1/auth/logout/",
            None,
            json!({"refresh": first.refresh}),
        )
        .await;
    assert_eq!(status, 200);
    let logout = refused_after(&b, &first.access).await;

    // A password change on A.
    let second = login(&a, "misty", PASSWORD, &id).await;
    until_cached(&b, &second).await;
    let (status, body) = a
        .post_as(
            "/api/v1/users/me/password/",
            Some(&second.access),
            json!({"old_password": PASSWORD, "new_password": "brand-new-pass-7",
                   "new_password_confirm": "brand-new-pass-7"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let password = refused_after(&b, &second.access).await;

    // Deactivation by another tool (the console's CLI, psql): straight in the database.
    let third = login(&a, "misty", "brand-new-pass-7", &id).await;
    until_cached(&b, &third).await;
    until_cached(&a, &third).await;
    a.sql(&format!(
        "UPDATE users SET is_active = false WHERE id = '{id}'"
    ))
    .await;
    let deactivation_b = refused_after(&b, &third.access).await;
    let deactivation_a = refused_after(&a, &third.access).await;

    // Deletion, after reactivation.
    a.sql(&format!(
        "UPDATE users SET is_active = true WHERE id = '{id}'"
    ))
    .await;
    let fourth = login(&a, "misty", "brand-new-pass-7", &id).await;
    until_cached(&b, &fourth).await;
    a.sql(&format!("DELETE FROM users WHERE id = '{id}'")).await;
    let deletion = refused_after(&b, &fourth.access).await;

    for (what, took) in [
        ("logout", logout),
        ("password", password),
        ("deactivation seen by b", deactivation_b),
        ("deactivation seen by a", deactivation_a),
        ("deletion", deletion),
    ] {
        assert!(
            took < Duration::from_millis(500),
            "{what}: still accepted for {took:?}"
        );
    }
}

#[tokio::test]
async fn the_process_that_made_a_change_refuses_the_token_on_the_next_request() {
    let app = TestApp::spawn_with(&[("AUTH_CACHE_SECONDS", "60")]).await;
    let u = app.user("brock").await;
    until_cached(&app, &u).await;
    let (status, _) = app
        .post_as("/api/v1/auth/logout/", None, json!({"refresh": u.refresh}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get_as("/api/v1/users/me/", &u.access).await.0, 401);
}

#[tokio::test]
async fn a_zero_lifetime_turns_the_cache_off() {
    let app = TestApp::spawn_with(&[("AUTH_CACHE_SECONDS", "0")]).await;
    let u = app.user("gary").await;
    for _ in 0..3 {
        assert_eq!(app.get_as("/api/v1/users/me/", &u.access).await.0, 200);
    }
    assert_eq!(lookups(&app, "hit"), 0);
    assert!(lookups(&app, "off") >= 3);
}
