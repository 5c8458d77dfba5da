//! The worker's Prometheus metrics (its own registry, served on `WORKER_METRICS_BIND`).

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Every metric the worker exports.
#[derive(Debug, Clone)]
pub struct WorkerMetrics {
    pub registry: Registry,
    pub jobs: IntCounterVec,
    pub job_duration: HistogramVec,
    pub cron_ticks: IntCounterVec,
}

impl WorkerMetrics {
    /// Builds and registers the metrics.
    pub fn new() -> anyhow::Result<Self> {
        let registry = shared::metrics::new_registry("biologidex_worker");
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
        registry.register(Box::new(jobs.clone()))?;
        registry.register(Box::new(job_duration.clone()))?;
        registry.register(Box::new(cron_ticks.clone()))?;
        Ok(WorkerMetrics {
            registry,
            jobs,
            job_duration,
            cron_ticks,
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
