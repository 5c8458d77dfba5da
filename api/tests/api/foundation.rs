//! Health, readiness, metrics, error mapping, request ids and pagination.

use biologidex_core::error::Missing;
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, middleware, test, web};
use api::{
    ApiError,
    observe::observe,
    pagination::{Page, page_request},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, closed_port, test_settings};

#[tokio::test]
async fn liveness_and_readiness_answer_200_with_a_database() {
    let app = TestApp::spawn().await;
    let res = app.get("/health/").await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"status": "alive"})
    );
    let res = app.get("/ready/").await;
    assert_eq!(res.status(), 200);
    // The old server's body, plus the media store's state (issue 15).
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"status": "ready", "storage": "healthy"})
    );
}

#[tokio::test]
async fn readiness_is_503_when_postgres_is_unreachable() {
    let db = biologidex_db::testing::TestDb::new().await;
    let dead = format!("postgres://nobody:x@127.0.0.1:{}/none", closed_port());
    let app = TestApp::spawn_on(db, &[("DATABASE_URL", dead.as_str())]).await;
    let started = Instant::now();
    let res = app.get("/ready/").await;
    assert_eq!(res.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(2));
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "not_ready");
    assert!(
        !body.to_string().contains("nobody"),
        "no internal text: {body}"
    );
    assert_eq!(app.get("/health/").await.status(), 200);
}

#[tokio::test]
async fn detailed_health_reports_each_component() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/health/").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert_eq!(body["checks"]["database"]["status"], "healthy");
    assert_eq!(body["checks"]["redis"]["status"], "healthy");
    assert_eq!(body["checks"]["storage"]["status"], "healthy");
    // No worker runs for this app's namespace.
    assert_eq!(body["checks"]["queue"]["status"], "degraded");
    assert!(body["checks"]["database"]["response_time_ms"].is_number());
    assert_eq!(body["metadata"]["debug"], false);
}

async fn assert_redis_down_fast(app: &TestApp) {
    for _ in 0..2 {
        let started = Instant::now();
        let res = app.get("/api/v1/health/").await;
        let took = started.elapsed();
        assert_eq!(res.status(), 503);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["checks"]["redis"]["status"], "unhealthy", "{body}");
        assert_eq!(body["checks"]["database"]["status"], "healthy");
        assert!(took < Duration::from_secs(2), "took {took:?}");
    }
    for path in ["/health/", "/ready/"] {
        let started = Instant::now();
        assert_eq!(app.get(path).await.status(), 200, "{path}");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}

#[tokio::test]
async fn detailed_health_reports_redis_on_a_closed_port_as_down_quickly() {
    let redis = format!("redis://127.0.0.1:{}/0", closed_port());
    let app = TestApp::spawn_with(&[("REDIS_URL", redis.as_str())]).await;
    assert_redis_down_fast(&app).await;
}

#[tokio::test]
async fn detailed_health_reports_a_silent_redis_as_down_quickly() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let redis = format!("redis://127.0.0.1:{port}/0");
    let app = TestApp::spawn_with(&[("REDIS_URL", redis.as_str())]).await;
    assert_redis_down_fast(&app).await;
}

#[tokio::test]
async fn unknown_api_paths_and_wrong_methods_get_json_errors() {
    let app = TestApp::spawn().await;
    let res = app.get("/api/v1/no-such-thing/").await;
    assert_eq!(res.status(), 404);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Not found."})
    );

    let res = app.client.post(app.url("/health/")).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"detail": "Method \"POST\" not allowed."})
    );

    // Django's APPEND_SLASH: a path without its slash is redirected, query kept.
    let res = app.get("/api/v1/health?x=1").await;
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], "/api/v1/health/?x=1");
}

#[tokio::test]
async fn security_headers_and_request_ids_are_on_every_response() {
    let app = TestApp::spawn().await;
    let res = app.get("/health/").await;
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert_eq!(res.headers()["referrer-policy"], "same-origin");
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    let res = app
        .client
        .get(app.url("/api/v1/nowhere/"))
        .header("X-Request-ID", "client-id-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "client-id-42");
    // Header injection attempts are replaced, not echoed.
    let res = app
        .client
        .get(app.url("/health/"))
        .header("X-Request-ID", "a b<c>")
        .send()
        .await
        .unwrap();
    assert_ne!(res.headers()["x-request-id"], "a b<c>");
}

#[tokio::test]
async fn metrics_are_labelled_by_route_template_on_both_paths() {
    let app = TestApp::spawn().await;
    app.get("/health/").await;
    app.get("/api/v1/does-not-exist-123/").await;
    for path in ["/metrics", "/metrics/"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(
            text.contains(r#"biologidex_api_http_requests_total{method="GET",route="/health/",status="200"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"route="unmatched",status="404""#));
        assert!(
            !text.contains("does-not-exist-123"),
            "raw paths must not become labels"
        );
        assert!(text.contains("biologidex_api_http_request_duration_seconds_bucket"));
        assert!(text.contains("biologidex_api_http_requests_in_flight"));
        assert!(text.contains(r#"biologidex_api_db_pool_connections{state="idle"}"#));
        assert!(
            text.contains("\nprocess_resident_memory_bytes "),
            "standard process_* names"
        );
        assert!(!text.contains("biologidex_api_process_"));
        assert!(
            text.contains("\nbiologidex_api_db_pool_max_connections 8"),
            "{text}"
        );
        assert!(!text.contains(r#"state="max""#));
        assert!(text.contains("\nbiologidex_api_users "), "business gauges");
        assert!(text.contains("\nbiologidex_api_users_active "));
        assert!(text.contains("\nbiologidex_api_dex_entries "));
        assert!(text.contains("\nbiologidex_api_animals "));
    }
}

async fn boom_panic() -> HttpResponse {
    panic!("secret internal detail /etc/passwd");
}

async fn boom_error() -> Result<HttpResponse, ApiError> {
    Err(anyhow::anyhow!("connection string postgres://user:pw@db").into())
}

#[actix_web::test]
async fn panics_and_internal_errors_become_generic_500s() {
    let app = test::init_service(
        App::new()
            .wrap(middleware::from_fn(observe))
            .route("/panic/", web::get().to(boom_panic))
            .route("/error/", web::get().to(boom_error)),
    )
    .await;
    for path in ["/panic/", "/error/"] {
        // actix turns an error from the middleware chain into its response, as here.
        let res =
            match test::try_call_service(&app, test::TestRequest::get().uri(path).to_request())
                .await
            {
                Ok(res) => res.into_parts().1,
                Err(e) => e.error_response(),
            };
        assert_eq!(res.status(), 500, "{path}");
        assert!(res.headers().contains_key("x-request-id"));
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        let body: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body, json!({"detail": "A server error occurred."}));
    }
}

#[actix_web::test]
async fn field_and_rule_errors_have_drf_shapes() {
    async fn field() -> Result<HttpResponse, ApiError> {
        Err(ApiError::field("email", "Enter a valid email address."))
    }
    async fn rule() -> Result<HttpResponse, ApiError> {
        Err(ApiError::rule(
            "You cannot send a friend request to yourself",
        ))
    }
    async fn missing() -> Result<HttpResponse, ApiError> {
        Err(ApiError::not_found(Missing::DexEntry))
    }
    let app = test::init_service(
        App::new()
            .route("/f/", web::get().to(field))
            .route("/r/", web::get().to(rule))
            .route("/m/", web::get().to(missing)),
    )
    .await;
    let cases = [
        (
            "/f/",
            400,
            json!({"email": ["Enter a valid email address."]}),
        ),
        (
            "/r/",
            400,
            json!({"detail": "You cannot send a friend request to yourself", "error": "You cannot send a friend request to yourself"}),
        ),
        (
            "/m/",
            404,
            json!({"detail": "No DexEntry matches the given query."}),
        ),
    ];
    for (path, status, expected) in cases {
        let res = test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status().as_u16(), status);
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body, expected);
    }
}

async fn numbers(
    req: HttpRequest,
    settings: web::Data<biologidex_core::config::Settings>,
) -> Result<HttpResponse, ApiError> {
    let count = 120;
    let at = page_request(&req, count)?;
    let rows: Vec<i64> = (at.offset..(at.offset + at.limit).min(count)).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &settings, at, count, rows)))
}

#[actix_web::test]
async fn pagination_links_are_absolute_sorted_and_drop_page_one() {
    let settings = test_settings("postgres://unused/x", &[]);
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(settings))
            .route("/items/", web::get().to(numbers)),
    )
    .await;
    let get = |uri: &'static str| {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("Host", "dex.test"))
            .to_request()
    };

    let body: Value = test::call_and_read_body_json(&app, get("/items/?search=a&ordering=x")).await;
    assert_eq!(body["count"], 120);
    assert_eq!(body["results"].as_array().unwrap().len(), 50);
    assert_eq!(
        body["next"],
        "http://dex.test/items/?ordering=x&page=2&search=a"
    );
    assert_eq!(body["previous"], Value::Null);

    let body: Value = test::call_and_read_body_json(&app, get("/items/?page=2")).await;
    assert_eq!(body["previous"], "http://dex.test/items/");
    assert_eq!(body["next"], "http://dex.test/items/?page=3");

    let body: Value = test::call_and_read_body_json(&app, get("/items/?page=last")).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 20);
    assert_eq!(body["next"], Value::Null);
    assert_eq!(body["previous"], "http://dex.test/items/?page=2");

    for bad in ["/items/?page=4", "/items/?page=0", "/items/?page=abc"] {
        let res = test::call_service(&app, get(bad)).await;
        assert_eq!(res.status(), 404, "{bad}");
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body, json!({"detail": "Invalid page."}));
    }
}
