//! The worker's small HTTP server: `/health/` (liveness) and `/metrics/`.

use actix_web::{App, HttpResponse, HttpServer, dev::Server, web};
use serde_json::json;

use crate::metrics::WorkerMetrics;

async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "alive" }))
}

async fn metrics(m: web::Data<WorkerMetrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(biologidex_core::metrics::CONTENT_TYPE)
        .body(biologidex_core::metrics::render(&m.registry))
}

/// Binds `addr` and returns the server (not yet awaited) and its port.
pub fn serve(addr: &str, metrics_data: WorkerMetrics) -> anyhow::Result<(Server, u16)> {
    let data = web::Data::new(metrics_data);
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot bind WORKER_METRICS_BIND={addr}: {e}"))?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/health/", web::get().to(health))
            .route("/health", web::get().to(health))
            .route("/metrics/", web::to(metrics))
            .route("/metrics", web::to(metrics))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok((server, port))
}
