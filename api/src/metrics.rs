//! The api's Prometheus metrics: requests by method, route template and status, latency,
//! requests in flight, the database pool (connections by state and the pool's maximum), the
//! old server's business gauges (users, active users, animals, dex entries), plus the
//! standard `process_*` metrics.

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// Every metric the api exports, in one registry.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    pub registry: Registry,
    pub requests: IntCounterVec,
    pub latency: HistogramVec,
    pub in_flight: IntGauge,
    pub db_pool: IntGaugeVec,
    /// The pool's maximum size (its own gauge, so ratios need no label juggling).
    pub db_pool_max: IntGauge,
    /// Totals refreshed at most once a minute on scrape (`health::metrics`).
    pub users: IntGauge,
    pub active_users: IntGauge,
    pub animals: IntGauge,
    pub dex_entries: IntGauge,
    pub redis_failures: IntCounterVec,
    /// Taxonomic tree cache lookups by result: hit, miss or error.
    pub graph_cache: IntCounterVec,
    /// Authentications by source: hit (memory), miss (database, then remembered), off
    /// (database; the cache is disabled or not listening).
    pub auth_cache: IntCounterVec,
    pub vision_queue_depth: IntGauge,
}

impl ApiMetrics {
    /// Builds and registers the metrics.
    pub fn new() -> anyhow::Result<Self> {
        let registry = biologidex_core::metrics::new_registry("biologidex_api");
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route template and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ),
            &["method", "route"],
        )?;
        let in_flight = IntGauge::new("http_requests_in_flight", "Requests being served")?;
        let db_pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let db_pool_max = IntGauge::new(
            "db_pool_max_connections",
            "Most connections the pool may open",
        )?;
        let users = IntGauge::new("users", "Registered users")?;
        let active_users = IntGauge::new("users_active", "Users whose account is active")?;
        let animals = IntGauge::new("animals", "Animals in the catalogue")?;
        let dex_entries = IntGauge::new("dex_entries", "Dex entries of every user")?;
        let redis_failures = IntCounterVec::new(
            Opts::new(
                "redis_failures_total",
                "Redis calls that failed open, by purpose",
            ),
            &["purpose"],
        )?;
        let graph_cache = IntCounterVec::new(
            Opts::new(
                "graph_cache_lookups_total",
                "Taxonomic tree cache lookups by result (hit, miss, error)",
            ),
            &["result"],
        )?;
        let auth_cache = IntCounterVec::new(
            Opts::new(
                "auth_cache_lookups_total",
                "Authentications by source (hit, miss, off)",
            ),
            &["result"],
        )?;
        let vision_queue_depth =
            IntGauge::new("vision_queue_depth", "Vision jobs waiting in Redis")?;
        registry.register(Box::new(vision_queue_depth.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(in_flight.clone()))?;
        registry.register(Box::new(db_pool.clone()))?;
        registry.register(Box::new(db_pool_max.clone()))?;
        registry.register(Box::new(users.clone()))?;
        registry.register(Box::new(active_users.clone()))?;
        registry.register(Box::new(animals.clone()))?;
        registry.register(Box::new(dex_entries.clone()))?;
        registry.register(Box::new(redis_failures.clone()))?;
        registry.register(Box::new(graph_cache.clone()))?;
        registry.register(Box::new(auth_cache.clone()))?;
        Ok(ApiMetrics {
            registry,
            requests,
            latency,
            in_flight,
            db_pool,
            db_pool_max,
            users,
            active_users,
            animals,
            dex_entries,
            redis_failures,
            graph_cache,
            auth_cache,
            vision_queue_depth,
        })
    }
}
