//! Liveness (`/health/`), readiness (`/ready/`, PostgreSQL only, DECISIONS 16), the detailed
//! component report (`/api/v1/health/`) and the Prometheus page (`/metrics/`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{HttpResponse, http::header, web};
use serde_json::{Value, json};
use shared::{jobs, redis_util};

use crate::{fallback::resource, state::AppState};

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths())]
pub struct Doc;

/// Deadline of each dependency check: a dead dependency answers "down" fast, never hangs.
const CHECK_DEADLINE: Duration = Duration::from_millis(800);
const NO_CACHE: &str = "max-age=0, no-cache, no-store, must-revalidate, private";

/// Mounts the health and metrics routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/health/").route(web::get().to(liveness)))
        .service(resource("/ready/").route(web::get().to(readiness)))
        .service(
            resource("/api/v1/health/")
                .route(web::get().to(detailed))
                .route(web::head().to(detailed)),
        )
        .service(resource("/metrics").route(web::get().to(metrics)))
        .service(resource("/metrics/").route(web::get().to(metrics)));
}

fn no_cache(status: actix_web::http::StatusCode, body: Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, NO_CACHE))
        .json(body)
}

/// The process is up. No dependencies are touched.
async fn liveness() -> HttpResponse {
    no_cache(
        actix_web::http::StatusCode::OK,
        json!({ "status": "alive" }),
    )
}

/// Ready to serve: PostgreSQL answers. Redis is deliberately not required.
async fn readiness(state: web::Data<AppState>) -> HttpResponse {
    match shared::db::ping(&state.db, CHECK_DEADLINE).await {
        Ok(()) => no_cache(
            actix_web::http::StatusCode::OK,
            json!({ "status": "ready" }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            no_cache(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "not_ready", "error": "database unavailable" }),
            )
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

fn component(result: Result<Value, String>, took: Duration) -> (bool, Value) {
    let mut body = match &result {
        Ok(extra) => {
            let mut v = json!({ "status": "healthy" });
            if let (Some(obj), Some(more)) = (v.as_object_mut(), extra.as_object()) {
                obj.extend(more.clone());
            }
            v
        }
        Err(e) => json!({ "status": "unhealthy", "error": e }),
    };
    body["response_time_ms"] = json!(ms(took));
    (result.is_ok(), body)
}

async fn timed<F: Future<Output = Result<Value, String>>>(
    f: F,
) -> (Result<Value, String>, Duration) {
    let started = Instant::now();
    let r = match tokio::time::timeout(CHECK_DEADLINE, f).await {
        Ok(r) => r,
        Err(_) => Err("timed out".to_owned()),
    };
    (r, started.elapsed())
}

async fn check_redis(state: &AppState) -> Result<Value, String> {
    let key = state.settings.redis_key("health_check_test");
    redis_util::run(&state.redis, async move |c| {
        let (_, v): ((), Option<String>) = redis::pipe()
            .cmd("SET")
            .arg(&key)
            .arg("ok")
            .arg("EX")
            .arg(1)
            .cmd("GET")
            .arg(&key)
            .query_async(c)
            .await?;
        Ok(v)
    })
    .await
    .and_then(|v| {
        (v.as_deref() == Some("ok"))
            .then(|| json!({}))
            .ok_or_else(|| "read back failed".to_owned())
    })
}

/// Live workers (heartbeat within the orphan window) and depth of the vision queue.
async fn check_queue(state: &AppState) -> Result<Value, String> {
    let prefix = &state.settings.redis_key_prefix;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let orphaned = jobs::queue_config(prefix, jobs::VISION_QUEUE).orphaned_duration();
    let since = now.saturating_sub(orphaned.as_secs());
    let sets: Vec<String> = jobs::ALL_QUEUES
        .iter()
        .map(|q| jobs::queue_config(prefix, q).workers_set())
        .collect();
    let workers = redis_util::run(&state.redis, async move |c| {
        let mut pipe = redis::pipe();
        for set in &sets {
            pipe.cmd("ZCOUNT").arg(set).arg(since).arg("+inf");
        }
        let counts: Vec<u64> = pipe.query_async(c).await?;
        Ok(counts.into_iter().sum::<u64>())
    })
    .await?;
    let depth = jobs::queue_counts(&state.redis, prefix, jobs::VISION_QUEUE)
        .await?
        .waiting;
    if workers == 0 {
        return Err(format!("no live workers; vision queue depth {depth}"));
    }
    Ok(json!({ "workers": workers, "vision_queue_depth": depth }))
}

/// Per-component status. 503 when PostgreSQL or Redis fails; queue and storage only report.
async fn detailed(state: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let db = timed(async {
        shared::db::ping(&state.db, CHECK_DEADLINE)
            .await
            .map(|()| json!({}))
    });
    let redis = timed(check_redis(&state));
    let queue = timed(check_queue(&state));
    let storage = timed(async {
        state
            .storage
            .check_writable()
            .await
            .map(|()| json!({}))
            .map_err(|e| e.to_string())
    });
    let ((db, db_t), (redis, redis_t), (queue, queue_t), (storage, storage_t)) =
        tokio::join!(db, redis, queue, storage);
    let (db_ok, db) = component(db, db_t);
    let (redis_ok, redis) = component(redis, redis_t);
    let (_, mut queue) = component(queue, queue_t);
    if queue["status"] == "unhealthy" {
        queue["status"] = json!("degraded");
    }
    let (_, storage) = component(storage, storage_t);
    let healthy = db_ok && redis_ok;
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let body = json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "timestamp": timestamp,
        "checks": { "database": db, "redis": redis, "queue": queue, "storage": storage },
        "metadata": {
            "environment": state.settings.environment,
            "version": state.settings.version,
            "debug": state.settings.debug,
        },
        "total_response_time_ms": ms(started.elapsed()),
    });
    let status = if healthy {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE
    };
    no_cache(status, body)
}

/// Prometheus text format; pool and queue gauges are refreshed on each scrape.
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let prefix = &state.settings.redis_key_prefix;
    match jobs::queue_counts(&state.redis, prefix, jobs::VISION_QUEUE).await {
        Ok(c) => {
            let depth = i64::try_from(c.waiting).unwrap_or(i64::MAX);
            state.metrics.vision_queue_depth.set(depth);
        }
        Err(_) => state
            .metrics
            .redis_failures
            .with_label_values(&["metrics"])
            .inc(),
    }
    let pool = state.db.state();
    let m = &state.metrics;
    m.db_pool
        .with_label_values(&["idle"])
        .set(i64::from(pool.idle_connections));
    m.db_pool.with_label_values(&["active"]).set(i64::from(
        pool.connections.saturating_sub(pool.idle_connections),
    ));
    m.db_pool
        .with_label_values(&["max"])
        .set(i64::from(state.settings.database_pool_size));
    HttpResponse::Ok()
        .content_type(shared::metrics::CONTENT_TYPE)
        .body(shared::metrics::render(&m.registry))
}
