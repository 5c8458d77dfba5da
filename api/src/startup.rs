//! Builds the actix application: state, middleware and every domain's routes in one list.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_cors::Cors;
use actix_web::{
    App, HttpServer,
    dev::Server,
    http::StatusCode,
    middleware::{self, DefaultHeaders},
    web,
};
use biologidex_core::config::Settings;
use biologidex_db::replica::ReadRouter;
use biologidex_media::storage::SharedStorage;

use crate::{
    ApiError, admin, animals, auth, auth::cache::AuthCache, auth::jwt::Jwt, dex, docs, fallback,
    graph, health, images, landing, media, metrics::ApiMetrics, observe::observe, queue::JobQueue,
    social, state::AppState, taxonomy, throttle::throttle, users, vision,
};

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

/// How long in-flight requests may finish after SIGTERM/SIGINT: under the 40 s systemd
/// (`TimeoutStopSec`) and compose (`stop_grace_period`) give the process before SIGKILL.
pub const SHUTDOWN_DRAIN: Duration = Duration::from_secs(35);

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// How long a checkout from the database pool may wait before the request fails with 503.
const DB_CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

impl Application {
    /// Builds state and binds `settings.bind_address` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let storage = biologidex_media::storage::open(
            settings.media_storage_url.as_deref(),
            &settings.media_root,
        )?;
        Self::build_with_storage(settings, storage).await
    }

    /// `build` with a store made by the caller (tests give an object store its endpoint).
    pub async fn build_with_storage(
        settings: Settings,
        storage: SharedStorage,
    ) -> anyhow::Result<Application> {
        let db = biologidex_db::build_pool(
            &settings.database_url,
            settings.database_pool_size,
            DB_CHECKOUT_TIMEOUT,
        );
        let reads = ReadRouter::new(
            db.clone(),
            &settings.database_replica_urls,
            settings.database_pool_size,
            settings.database_replica_max_lag,
        )?;
        let metrics = ApiMetrics::new()?;
        reads.register(&metrics.registry)?;
        reads.watch();
        let state = AppState {
            db,
            reads,
            redis: biologidex_core::redis_util::build_pool(&settings.redis_url, 32)?,
            storage,
            metrics,
            jwt: Arc::new(Jwt::new(settings.secret_bytes())),
            auth_cache: Arc::new(AuthCache::new(settings.auth_cache_ttl)),
            trees: Arc::new(graph::LocalTrees::new(settings.graph_cache_ttl)),
            jobs: Arc::new(JobQueue::new(
                &settings.redis_url,
                &settings.redis_key_prefix,
            )),
            settings: Arc::new(settings),
        };
        tokio::spawn(biologidex_db::auth_watch::listen(
            state.settings.database_url.clone(),
            Arc::downgrade(&state.auth_cache),
        ));
        let listener = TcpListener::bind(&state.settings.bind_address)
            .map_err(|e| anyhow::anyhow!("cannot bind {}: {e}", state.settings.bind_address))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone())?;
        Ok(Application {
            port,
            server,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state the server runs with (tests reach the pools through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until stopped through [`Application::handle`] (no signal handling: tests).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }

    /// A handle that stops the server (`stop(true)` drains in-flight requests).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or SIGINT (Ctrl-C), then drains in-flight requests for up to
    /// [`SHUTDOWN_DRAIN`]. Both are graceful: actix's own handling stops at once on SIGINT.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!(
                drain_secs = SHUTDOWN_DRAIN.as_secs(),
                "shutdown signal: draining"
            );
            handle.stop(true).await;
        });
        self.server.await
    }
}

fn cors(settings: &Settings) -> Cors {
    let base = Cors::default()
        .allow_any_method()
        .allow_any_header()
        .supports_credentials()
        .max_age(3600);
    if settings.cors_allowed_origins.is_empty() && settings.debug {
        return base.allow_any_origin();
    }
    settings
        .cors_allowed_origins
        .iter()
        .fold(base, |cors, origin| cors.allowed_origin(origin))
}

/// Mounts every route: the single overview of the URL space.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Health sits outside the throttled scope (and before it: the scope claims /api/v1).
    health::routes(cfg);
    media::routes(cfg);
    docs::routes(cfg);
    admin::routes(cfg);
    landing::routes(cfg);
    cfg.service(
        web::scope("/api/v1")
            .wrap(middleware::from_fn(throttle))
            .configure(auth::routes)
            .configure(animals::routes)
            .configure(dex::routes)
            .configure(images::routes)
            .configure(vision::routes)
            .configure(users::routes)
            .configure(social::routes)
            .configure(taxonomy::routes)
            .configure(graph::routes),
    );
}

fn run(listener: TcpListener, state: AppState) -> anyhow::Result<Server> {
    let limit = state.settings.max_upload_size_mb * 1024 * 1024;
    let http_workers = state.settings.http_workers;
    let state_data = web::Data::new(state.clone());
    let metrics = web::Data::new(state.metrics.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state_data.clone())
            .app_data(metrics.clone())
            .app_data(web::PayloadConfig::new(limit))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                // A malformed id in a path is "not found", as DRF answers it.
                actix_web::error::InternalError::from_response(
                    err,
                    ApiError::detail(StatusCode::NOT_FOUND, "Not found."),
                )
                .into()
            }))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                let msg = err.to_string();
                actix_web::error::InternalError::from_response(
                    err,
                    ApiError::detail(StatusCode::BAD_REQUEST, msg),
                )
                .into()
            }))
            .wrap(cors(&state.settings))
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("Cross-Origin-Opener-Policy", "same-origin")),
            )
            .wrap(middleware::from_fn(crate::input::refuse_nul_uri))
            .wrap(middleware::from_fn(observe))
            .configure(routes)
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_DRAIN.as_secs());
    let server = match http_workers {
        Some(n) => server.workers(n),
        None => server,
    };
    Ok(server.run())
}
