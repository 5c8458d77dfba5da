//! Liveness (`/health/`), readiness (`/ready/`, PostgreSQL only, docs/decisions.md#d16), the
//! detailed component report (`/api/v1/health/`) and the Prometheus page (`/metrics/`).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::{HttpResponse, http::header, web};
use biologidex_core::{jobs, redis_util};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{fallback::resource, state::AppState};

/// This domain's part of the OpenAPI document (see `crate::docs`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(liveness, readiness, detailed, metrics, metrics_unslashed))]
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
        .service(resource("/metrics").route(web::get().to(metrics_unslashed)))
        .service(resource("/metrics/").route(web::get().to(metrics)));
}

fn no_cache(status: actix_web::http::StatusCode, body: impl Serialize) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, NO_CACHE))
        .json(body)
}

// Fields of the health bodies are in alphabetical order, the order they always had on the
// wire (they were built as `serde_json` maps, which sort their keys).

/// `{"status": "alive"}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "alive"}))]
pub struct Liveness {
    status: &'static str,
}

/// `{"status": "ready"}`, or `not_ready` with the reason.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "storage": "healthy"}))]
pub struct Readiness {
    /// Why the server is not ready (`database unavailable`); absent when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    error: Option<&'static str>,
    /// `ready` or `not_ready`.
    status: &'static str,
    /// Whether the media store accepts writes: `healthy` or `unhealthy` (reported, never
    /// fatal: reads go on while uploads answer 503).
    storage: &'static str,
}

/// The process is up. No dependencies are touched.
#[utoipa::path(
    get, path = "/health/", tag = "health",
    responses((status = 200, description = "Alive (never cached).", body = Liveness))
)]
async fn liveness() -> HttpResponse {
    no_cache(
        actix_web::http::StatusCode::OK,
        Liveness { status: "alive" },
    )
}

/// Ready to serve: PostgreSQL answers. Redis is deliberately not required.
#[utoipa::path(
    get, path = "/ready/", tag = "health",
    responses(
        (status = 200, description = "Ready (never cached).", body = Readiness),
        (status = 503, description = "PostgreSQL does not answer.", body = Readiness,
            example = json!({"error": "database unavailable", "status": "not_ready", "storage": "healthy"})),
    )
)]
async fn readiness(state: web::Data<AppState>) -> HttpResponse {
    let (db, (store, _)) = tokio::join!(
        biologidex_db::ping(&state.db, CHECK_DEADLINE),
        timed(check_storage(&state))
    );
    let storage = if store.is_ok() {
        "healthy"
    } else {
        "unhealthy"
    };
    match db {
        Ok(()) => no_cache(
            actix_web::http::StatusCode::OK,
            Readiness {
                error: None,
                status: "ready",
                storage,
            },
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unavailable");
            no_cache(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                Readiness {
                    error: Some("database unavailable"),
                    status: "not_ready",
                    storage,
                },
            )
        }
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 100_000.0).round() / 100.0
}

/// One dependency's check.
#[derive(Serialize, ToSchema)]
pub struct HealthComponent {
    /// What failed; absent when healthy.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    error: Option<String>,
    /// How long the check took, in milliseconds (each check gives up after 800 ms).
    response_time_ms: f64,
    /// `healthy` or `unhealthy`; the queue reports `degraded` instead of `unhealthy`.
    status: &'static str,
    /// Queue only, when healthy: jobs waiting in the vision queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    vision_queue_depth: Option<u64>,
    /// Storage only: `local`, `s3` or `gcs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    backend: Option<&'static str>,
    /// Queue only, when healthy: live workers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    workers: Option<u64>,
}

impl HealthComponent {
    fn new<T>(result: &Result<T, String>, took: Duration) -> Self {
        HealthComponent {
            error: result.as_ref().err().cloned(),
            response_time_ms: ms(took),
            status: if result.is_ok() {
                "healthy"
            } else {
                "unhealthy"
            },
            vision_queue_depth: None,
            workers: None,
            backend: None,
        }
    }
}

/// Every dependency's check.
#[derive(Serialize, ToSchema)]
pub struct HealthChecks {
    /// PostgreSQL (`SELECT 1`).
    database: HealthComponent,
    /// Live workers and the vision queue's depth (reported, never fatal).
    queue: HealthComponent,
    /// Redis (a key written and read back).
    redis: HealthComponent,
    /// Media storage is writable (reported, never fatal).
    storage: HealthComponent,
}

/// The deployment.
#[derive(Serialize, ToSchema)]
pub struct HealthMetadata {
    debug: bool,
    environment: String,
    version: String,
}

/// The detailed health report.
#[derive(Serialize, ToSchema)]
pub struct HealthReport {
    checks: HealthChecks,
    metadata: HealthMetadata,
    /// `healthy`, or `unhealthy` when PostgreSQL or Redis failed.
    status: &'static str,
    /// Unix time in seconds.
    timestamp: f64,
    /// Milliseconds for the whole report (the checks run concurrently).
    total_response_time_ms: f64,
}

async fn timed<T, F: Future<Output = Result<T, String>>>(f: F) -> (Result<T, String>, Duration) {
    let started = Instant::now();
    let r = match tokio::time::timeout(CHECK_DEADLINE, f).await {
        Ok(r) => r,
        Err(_) => Err("timed out".to_owned()),
    };
    (r, started.elapsed())
}

async fn check_storage(state: &AppState) -> Result<(), String> {
    state.storage.check_writable().await.map_err(|e| {
        tracing::warn!(error = %e, "health: media storage unavailable");
        "media storage unavailable".to_owned()
    })
}

async fn check_redis(state: &AppState) -> Result<(), String> {
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
            .then_some(())
            .ok_or_else(|| "read back failed".to_owned())
    })
}

/// What the queue check found.
struct QueueState {
    workers: u64,
    depth: u64,
}

/// Live workers (heartbeat within the orphan window) and depth of the vision queue.
async fn check_queue(state: &AppState) -> Result<QueueState, String> {
    let prefix = &state.settings.redis_key_prefix;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let orphaned = jobs::queue_config(prefix, jobs::Queue::Vision).orphaned_duration();
    let since = now.saturating_sub(orphaned.as_secs());
    let sets: Vec<String> = jobs::Queue::ALL
        .iter()
        .map(|q| jobs::queue_config(prefix, *q).workers_set())
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
    let depth = jobs::queue_counts(&state.redis, prefix, jobs::Queue::Vision)
        .await?
        .waiting;
    if workers == 0 {
        return Err(format!("no live workers; vision queue depth {depth}"));
    }
    Ok(QueueState { workers, depth })
}

/// Per-component status. 503 when PostgreSQL or Redis fails; queue and storage only report.
/// Never cached, never throttled. `HEAD` answers the same status without the body.
#[utoipa::path(
    get, path = "/api/v1/health/", tag = "health",
    responses(
        (status = 200, description = "PostgreSQL and Redis are healthy.", body = HealthReport),
        (status = 503, description = "PostgreSQL or Redis failed.", body = HealthReport),
    )
)]
async fn detailed(state: web::Data<AppState>) -> HttpResponse {
    let started = Instant::now();
    let db = timed(biologidex_db::ping(&state.db, CHECK_DEADLINE));
    let redis = timed(check_redis(&state));
    let queue = timed(check_queue(&state));
    let storage = timed(check_storage(&state));
    let ((db, db_t), (redis, redis_t), (queue, queue_t), (storage, storage_t)) =
        tokio::join!(db, redis, queue, storage);
    let healthy = db.is_ok() && redis.is_ok();
    let mut queue_check = HealthComponent::new(&queue, queue_t);
    match queue {
        Ok(q) => {
            queue_check.workers = Some(q.workers);
            queue_check.vision_queue_depth = Some(q.depth);
        }
        Err(_) => queue_check.status = "degraded",
    }
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let body = HealthReport {
        checks: HealthChecks {
            database: HealthComponent::new(&db, db_t),
            queue: queue_check,
            redis: HealthComponent::new(&redis, redis_t),
            storage: HealthComponent {
                backend: Some(state.storage.backend()),
                ..HealthComponent::new(&storage, storage_t)
            },
        },
        metadata: HealthMetadata {
            debug: state.settings.debug,
            environment: state.settings.environment.clone(),
            version: state.settings.version.clone(),
        },
        status: if healthy { "healthy" } else { "unhealthy" },
        timestamp,
        total_response_time_ms: ms(started.elapsed()),
    };
    let status = if healthy {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::SERVICE_UNAVAILABLE
    };
    no_cache(status, body)
}

/// Prometheus text format (`text/plain; version=0.0.4`); pool and queue gauges are refreshed
/// on each scrape.
#[utoipa::path(
    get, path = "/metrics/", tag = "health",
    responses((status = 200, description = "Prometheus exposition.", content_type = "text/plain",
        body = String))
)]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let prefix = &state.settings.redis_key_prefix;
    match jobs::queue_counts(&state.redis, prefix, jobs::Queue::Vision).await {
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
    m.db_pool_max
        .set(i64::from(state.settings.database_pool_size));
    refresh_totals(&state).await;
    HttpResponse::Ok()
        .content_type(biologidex_core::metrics::CONTENT_TYPE)
        .body(biologidex_core::metrics::render(&m.registry))
}

/// Refreshes the business gauges, at most once a minute per process (one statement of four
/// counts; scrapes in between reuse the last values). A database error leaves them as they were.
async fn refresh_totals(state: &AppState) {
    static LAST: std::sync::Mutex<Option<Instant>> = std::sync::Mutex::new(None);
    {
        let mut last = LAST
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < Duration::from_secs(60)) {
            return;
        }
        *last = Some(Instant::now());
    }
    let totals = async {
        let mut conn = state.db.get().await.map_err(|e| e.to_string())?;
        biologidex_db::models::admin::totals(&mut conn)
            .await
            .map_err(|e| e.to_string())
    };
    match tokio::time::timeout(CHECK_DEADLINE, totals).await {
        Ok(Ok(t)) => {
            let m = &state.metrics;
            m.users.set(t.users);
            m.active_users.set(t.active_users);
            m.animals.set(t.animals);
            m.dex_entries.set(t.entries);
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "business gauges not refreshed"),
        Err(_) => tracing::warn!("business gauges not refreshed: timed out"),
    }
}

/// The Prometheus page at `/metrics` too (what scrapers ask for by default).
#[utoipa::path(
    get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus exposition.", content_type = "text/plain",
        body = String))
)]
async fn metrics_unslashed(state: web::Data<AppState>) -> HttpResponse {
    metrics(state).await
}
