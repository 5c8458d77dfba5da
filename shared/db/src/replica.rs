//! Read replicas (`DATABASE_REPLICA_URLS`): reads that need not see the caller's own last
//! write go to a streaming replica; everything else stays on the primary. A watcher measures
//! each replica's replay lag every second; a replica that is down, not streaming, or further
//! behind than `DATABASE_REPLICA_MAX_LAG_SECONDS` is skipped until it catches up, and with no
//! usable replica reads fall back to the primary. Routing and lag are Prometheus metrics.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use diesel::{QueryableByName, sql_types::Double};
use diesel_async::pooled_connection::bb8::RunError;
use prometheus::{GaugeVec, IntCounterVec, IntGaugeVec, Opts, Registry};

use crate::{DbConn, DbPool, build_pool};

/// How often the watcher measures the replicas, and how long one measurement may take.
const WATCH_EVERY: Duration = Duration::from_secs(1);
/// A checkout from a replica gives up quickly: the primary is the fallback.
const REPLICA_CHECKOUT: Duration = Duration::from_secs(1);

struct Member {
    pool: DbPool,
    /// `host:port` of the URL (never its password), the metrics' label.
    label: String,
    usable: AtomicBool,
    /// Set by the first measurement, which is always logged.
    measured: AtomicBool,
}

/// The primary and the replicas, with the routing between them.
pub struct ReadRouter {
    primary: DbPool,
    members: Vec<Member>,
    next: AtomicUsize,
    max_lag: Duration,
    reads: IntCounterVec,
    lag: GaugeVec,
    usable: IntGaugeVec,
}

impl std::fmt::Debug for ReadRouter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let labels: Vec<_> = self.members.iter().map(|m| m.label.as_str()).collect();
        f.debug_struct("ReadRouter")
            .field("replicas", &labels)
            .finish()
    }
}

/// `host:port` of a PostgreSQL URL.
fn label_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    host.split(['/', '?']).next().unwrap_or(host).to_owned()
}

/// Whether a replica measured at `lag` (None: down or not streaming) may serve reads.
pub fn usable(lag: Option<Duration>, max_lag: Duration) -> bool {
    lag.is_some_and(|l| l <= max_lag)
}

#[derive(QueryableByName)]
struct Lag {
    #[diesel(sql_type = diesel::sql_types::Nullable<Double>)]
    seconds: Option<f64>,
}

/// Replay lag in seconds: 0 when everything received is replayed (an idle primary writes
/// nothing, so the last replay time alone would grow), else the age of the last replayed
/// transaction. NULL when in recovery with no WAL receiver (cut off from the primary; only the
/// row and its `pid` are visible without `pg_read_all_stats`, `status` is not). A server
/// that is not in recovery (a primary named as a replica) has no lag.
const LAG_SQL: &str = "SELECT CASE \
    WHEN NOT pg_is_in_recovery() THEN 0::float8 \
    WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE pid IS NOT NULL) THEN NULL \
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8 \
    ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END AS seconds";

async fn measure(pool: &DbPool) -> Option<Duration> {
    use diesel_async::RunQueryDsl as _;
    let check = async {
        let mut conn = pool.get().await.ok()?;
        let lag: Lag = diesel::sql_query(LAG_SQL)
            .get_result(&mut conn)
            .await
            .ok()?;
        lag.seconds
    };
    let seconds = tokio::time::timeout(WATCH_EVERY, check).await.ok()??;
    Some(Duration::from_secs_f64(seconds.max(0.0)))
}

impl ReadRouter {
    /// Routes over `replica_urls` (none: every read on the primary). Pools open lazily; every
    /// replica counts as unusable until the watcher has measured it.
    pub fn new(
        primary: DbPool,
        replica_urls: &[String],
        pool_size: u32,
        max_lag: Duration,
    ) -> anyhow::Result<Arc<Self>> {
        let members = replica_urls
            .iter()
            .map(|url| Member {
                pool: build_pool(url, pool_size, REPLICA_CHECKOUT),
                label: label_of(url),
                usable: AtomicBool::new(false),
                measured: AtomicBool::new(false),
            })
            .collect();
        let reads = IntCounterVec::new(
            Opts::new(
                "db_reads_total",
                "Read-only checkouts by where they went (primary or a replica's host:port)",
            ),
            &["target"],
        )?;
        let lag = GaugeVec::new(
            Opts::new(
                "db_replica_lag_seconds",
                "Replay lag of each replica at its last measurement (-1: down or not streaming)",
            ),
            &["replica"],
        )?;
        let usable = IntGaugeVec::new(
            Opts::new(
                "db_replica_usable",
                "1 when the replica serves reads, 0 when it is skipped",
            ),
            &["replica"],
        )?;
        Ok(Arc::new(ReadRouter {
            primary,
            members,
            next: AtomicUsize::new(0),
            max_lag,
            reads,
            lag,
            usable,
        }))
    }

    /// Adds the routing metrics to `registry`.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.reads.clone()))?;
        registry.register(Box::new(self.lag.clone()))?;
        registry.register(Box::new(self.usable.clone()))
    }

    /// A connection for a read that may lag behind: a usable replica (round robin), else the
    /// primary.
    pub async fn read(&self) -> Result<DbConn<'_>, RunError> {
        let n = self.members.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for i in 0..n {
            let member = &self.members[(start + i) % n];
            if !member.usable.load(Ordering::Relaxed) {
                continue;
            }
            match member.pool.get().await {
                Ok(conn) => {
                    self.reads.with_label_values(&[&member.label]).inc();
                    return Ok(conn);
                }
                Err(e) => {
                    tracing::warn!(replica = %member.label, error = %e, "replica checkout failed; skipping it");
                    self.mark(member, None);
                }
            }
        }
        self.reads.with_label_values(&["primary"]).inc();
        self.primary.get().await
    }

    fn mark(&self, member: &Member, lag: Option<Duration>) {
        let ok = usable(lag, self.max_lag);
        let was = member.usable.swap(ok, Ordering::Relaxed);
        let first = !member.measured.swap(true, Ordering::Relaxed);
        if was != ok || first {
            if ok {
                tracing::info!(replica = %member.label, "replica serves reads");
            } else {
                tracing::warn!(replica = %member.label, lag_seconds = lag.map(|l| l.as_secs_f64()), "replica skipped: down, not streaming or lagging");
            }
        }
        self.lag
            .with_label_values(&[&member.label])
            .set(lag.map_or(-1.0, |l| l.as_secs_f64()));
        self.usable
            .with_label_values(&[&member.label])
            .set(i64::from(ok));
    }

    /// Measures every replica once.
    async fn measure_all(&self) {
        for member in &self.members {
            let lag = measure(&member.pool).await;
            self.mark(member, lag);
        }
    }

    /// Measures the replicas every second, for as long as the process runs.
    pub fn watch(self: &Arc<Self>) {
        if self.members.is_empty() {
            return;
        }
        let router = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(WATCH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(router) = router.upgrade() else {
                    return;
                };
                router.measure_all().await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_never_carry_the_password() {
        assert_eq!(
            label_of("postgres://u:secret@db-2:5433/bdx?sslmode=require"),
            "db-2:5433"
        );
        assert_eq!(label_of("postgres://db-3/bdx"), "db-3");
    }

    #[test]
    fn a_replica_serves_while_its_lag_is_within_the_bound() {
        let bound = Duration::from_secs(5);
        assert!(usable(Some(Duration::ZERO), bound));
        assert!(usable(Some(Duration::from_secs(5)), bound));
        assert!(!usable(Some(Duration::from_millis(5001)), bound));
        assert!(!usable(None, bound));
    }
}
