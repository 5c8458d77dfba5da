//! The worker's Prometheus metrics (its own registry, served on `WORKER_METRICS_BIND`).

use prometheus::{
    CounterVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec,
    Opts, Registry,
};

/// Every metric the worker exports.
#[derive(Debug, Clone)]
pub struct WorkerMetrics {
    pub registry: Registry,
    pub jobs: IntCounterVec,
    pub job_duration: HistogramVec,
    pub cron_ticks: IntCounterVec,
    pub vision_jobs: IntCounterVec,
    pub vision_duration: Histogram,
    pub provider_latency: Histogram,
    pub vision_tokens: IntCounterVec,
    pub vision_cost: CounterVec,
    pub vision_retries: IntCounter,
    pub vision_late_writes: IntCounterVec,
    pub queue_depth: IntGaugeVec,
    pub queue_dead: IntGaugeVec,
}

impl WorkerMetrics {
    /// Builds and registers the metrics.
    pub fn new() -> anyhow::Result<Self> {
        let registry = biologidex_core::metrics::new_registry("biologidex_worker");
        let jobs = IntCounterVec::new(
            Opts::new("jobs_total", "Jobs finished, by queue and outcome"),
            &["queue", "outcome"],
        )?;
        let job_duration = HistogramVec::new(
            HistogramOpts::new("job_duration_seconds", "Job run time by queue").buckets(vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
            ]),
            &["queue"],
        )?;
        let cron_ticks = IntCounterVec::new(
            Opts::new(
                "cron_ticks_total",
                "Cron ticks by task and outcome (enqueued, skipped, failed)",
            ),
            &["task", "outcome"],
        )?;
        let vision_jobs = IntCounterVec::new(
            Opts::new(
                "vision_jobs_total",
                "Vision jobs finished, by status (completed, failed)",
            ),
            &["status"],
        )?;
        let vision_duration = Histogram::with_opts(
            HistogramOpts::new(
                "vision_job_duration_seconds",
                "Claim to completion of a vision job",
            )
            .buckets(vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
            ]),
        )?;
        let provider_latency = Histogram::with_opts(
            HistogramOpts::new(
                "vision_provider_latency_seconds",
                "Vision provider call latency",
            )
            .buckets(vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0,
            ]),
        )?;
        let vision_tokens = IntCounterVec::new(
            Opts::new("vision_tokens_total", "Tokens billed, by kind"),
            &["kind"],
        )?;
        let vision_cost = CounterVec::new(
            Opts::new("vision_cost_usd_total", "Vision spend in USD, by model"),
            &["model"],
        )?;
        let vision_retries = IntCounter::new(
            "vision_retries_total",
            "Transient provider failures retried",
        )?;
        let vision_late_writes = IntCounterVec::new(
            Opts::new(
                "vision_late_writes_total",
                "Job writes refused because the job's lease had passed to another claim, by write",
            ),
            &["write"],
        )?;
        let queue_depth = IntGaugeVec::new(
            Opts::new("queue_depth", "Jobs waiting, by queue"),
            &["queue"],
        )?;
        let queue_dead = IntGaugeVec::new(
            Opts::new("queue_dead_jobs", "Jobs apalis gave up on, by queue"),
            &["queue"],
        )?;
        registry.register(Box::new(vision_jobs.clone()))?;
        registry.register(Box::new(vision_duration.clone()))?;
        registry.register(Box::new(provider_latency.clone()))?;
        registry.register(Box::new(vision_tokens.clone()))?;
        registry.register(Box::new(vision_cost.clone()))?;
        registry.register(Box::new(vision_retries.clone()))?;
        registry.register(Box::new(vision_late_writes.clone()))?;
        registry.register(Box::new(queue_depth.clone()))?;
        registry.register(Box::new(queue_dead.clone()))?;
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(job_duration.clone()))?;
        registry.register(Box::new(cron_ticks.clone()))?;
        Ok(WorkerMetrics {
            registry,
            jobs,
            job_duration,
            cron_ticks,
            vision_jobs,
            vision_duration,
            provider_latency,
            vision_tokens,
            vision_cost,
            vision_retries,
            vision_late_writes,
            queue_depth,
            queue_dead,
        })
    }

    /// Records one finished job.
    pub fn record(&self, queue: &str, ok: bool, seconds: f64) {
        let outcome = if ok { "ok" } else { "error" };
        self.jobs.with_label_values(&[queue, outcome]).inc();
        self.job_duration
            .with_label_values(&[queue])
            .observe(seconds);
    }
}
