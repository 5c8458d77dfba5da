//! Rate limits shared across api replicas through Redis. Hourly windows keep a window
//! boundary from falling inside a test.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn anonymous_limits_are_shared_by_replicas_and_answer_429_with_retry_after() {
    let a = TestApp::spawn_with(&[("THROTTLE_ANON_RATE", "3/hour")]).await;
    let b = a.sibling(&[("THROTTLE_ANON_RATE", "3/hour")]).await;
    for app in [&a, &b, &a] {
        let res = app.send(Method::GET, "/api/v1/users/", None, None).await;
        assert_eq!(res.status(), 401, "counted but not throttled yet");
    }
    let res = b.send(Method::GET, "/api/v1/users/", None, None).await;
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&wait), "{wait}");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body["detail"],
        format!("Request was throttled. Expected available in {wait} seconds.")
    );
    // Health is never throttled.
    assert_eq!(a.get("/api/v1/health/").await.status(), 200);
}

#[tokio::test]
async fn login_has_a_stricter_per_ip_limit() {
    let app = TestApp::spawn_with(&[("THROTTLE_LOGIN_RATE", "2/hour")]).await;
    app.register("lance").await;
    assert_eq!(app.login("lance", "wrong-guess-1").await.0, 401);
    // Registration counted too: this is the third credential request.
    let (status, _) = app.login("lance", PASSWORD).await;
    assert_eq!(status, 429);
    // Other endpoints are unaffected.
    assert_eq!(
        app.send(Method::GET, "/api/v1/users/", None, None)
            .await
            .status(),
        401
    );
}

#[tokio::test]
async fn authenticated_users_are_limited_per_user_not_per_ip() {
    let app = TestApp::spawn_with(&[("THROTTLE_USER_RATE", "3/hour")]).await;
    let a = app.user("amy").await;
    let b = app.user("ben").await;
    for _ in 0..3 {
        assert_eq!(app.get_as("/api/v1/users/me/", &a.access).await.0, 200);
    }
    assert_eq!(app.get_as("/api/v1/users/me/", &a.access).await.0, 429);
    assert_eq!(app.get_as("/api/v1/users/me/", &b.access).await.0, 200);
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = TestApp::spawn_with(&[("THROTTLE_ANON_RATE", "2/hour")]).await;
    for i in 0..2 {
        let res = app
            .client
            .get(app.url("/api/v1/users/"))
            .header("X-Forwarded-For", format!("10.0.0.{i}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = app
        .client
        .get(app.url("/api/v1/users/"))
        .header("X-Forwarded-For", "10.9.9.9")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "a spoofed header must not buy a new budget"
    );

    let proxied = TestApp::spawn_with(&[
        ("THROTTLE_ANON_RATE", "1/hour"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    for ip in ["10.1.1.1", "10.1.1.2"] {
        let res = proxied
            .client
            .get(proxied.url("/api/v1/users/"))
            .header("X-Forwarded-For", ip)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            401,
            "each client behind the proxy has its own budget"
        );
    }
    let res = proxied
        .client
        .get(proxied.url("/api/v1/users/"))
        .header("X-Forwarded-For", "10.1.1.1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn forwarded_for_is_honoured_from_a_peer_within_a_trusted_cidr_range() {
    // The test client connects from 127.0.0.1, inside 127.0.0.0/8; hops inside 10.0.0.0/8 are
    // proxies too, so the client is the last hop outside both ranges.
    let app = TestApp::spawn_with(&[
        ("THROTTLE_ANON_RATE", "1/hour"),
        ("TRUSTED_PROXIES", "127.0.0.0/8, 10.0.0.0/8"),
    ])
    .await;
    let get = |forwarded: &'static str| {
        app.client
            .get(app.url("/api/v1/users/"))
            .header("X-Forwarded-For", forwarded)
            .send()
    };
    let res = get("203.0.113.7, 10.2.3.4").await.unwrap();
    assert_eq!(res.status(), 401);
    let res = get("198.51.100.1").await.unwrap();
    assert_eq!(
        res.status(),
        401,
        "another client behind the proxies has its own budget"
    );
    let res = get("203.0.113.7, 10.5.6.7").await.unwrap();
    assert_eq!(
        res.status(),
        429,
        "the same client through another trusted hop shares its budget"
    );
}

#[tokio::test]
async fn a_dead_redis_fails_open() {
    let port = crate::helpers::closed_port();
    let redis = format!("redis://127.0.0.1:{port}/0");
    let app = TestApp::spawn_with(&[
        ("THROTTLE_ANON_RATE", "1/hour"),
        ("REDIS_URL", redis.as_str()),
    ])
    .await;
    for _ in 0..3 {
        let (status, _) = app.post_as("/api/v1/users/", None, json!({})).await;
        assert_eq!(status, 400, "served, not throttled and not 500");
    }
    let metrics = app.get("/metrics/").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"biologidex_api_redis_failures_total{purpose="throttle"} 3"#),
        "{metrics}"
    );
}
