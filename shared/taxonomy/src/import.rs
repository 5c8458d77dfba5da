//! The Catalogue of Life (ColDP) importer, shared by `biologidex-api import-col` and the
//! worker's `taxonomy.import` job. One import at a time (a PostgreSQL advisory lock):
//!
//! 1. **load** (`stage`): stream the release into staging tables with `COPY`, then fill
//!    `<table>_next` copies of the taxonomy tables with set-based SQL, and commit;
//! 2. **build** (`swap`): rebuild the live tables' indexes, keys and triggers on the copies,
//!    several statements in parallel;
//! 3. **swap**: one short transaction drops the live tables, renames the copies in and marks the
//!    job completed.
//!
//! Readers see the previous taxonomy until the swap commits, and a crash at any point leaves it
//! intact: the leftover copies are dropped by the next run, which starts again from the file.

use biologidex_core::error::Missing;
use std::{
    path::Path,
    sync::Mutex,
    time::{Duration, Instant},
};

use biologidex_core::ids::TaxonomyImportJobId;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_postgres::{Client, error::SqlState};

use super::{
    coldp::Release,
    rows::MapContext,
    stage::{self, BadRowPolicy, LoadCounts, Loader},
    swap::{self, SwapPlan},
};
use biologidex_db::{
    DbPool,
    models::taxonomy::{COL_CODE, ImportJob, ImportStatus, TaxonomySource},
};

/// Row issues kept in a job's error log (the counts are always complete).
pub const MAX_ISSUES: usize = 100;
/// Arbitrary but fixed key of the advisory lock held for a whole import.
pub const IMPORT_LOCK_KEY: i64 = 0x0B10_1061_DE00_0003;

/// Why an import did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The release is unusable (missing file or column, corrupt archive, too many bad rows):
    /// retrying will not help. The previous taxonomy is untouched.
    #[error("{0}")]
    Malformed(String),
    /// Another import holds the lock.
    #[error("another taxonomy import is running")]
    Busy,
    /// The job row does not exist.
    #[error("taxonomy import job {0} not found")]
    JobNotFound(TaxonomyImportJobId),
    /// The database failed or went away; the import can be run again.
    #[error("taxonomy import failed: {0}")]
    Database(anyhow::Error),
}

impl ImportError {
    /// True when running the same job again cannot succeed.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            ImportError::Malformed(_) | ImportError::JobNotFound(_)
        )
    }
}

impl From<tokio_postgres::Error> for ImportError {
    fn from(e: tokio_postgres::Error) -> Self {
        // Data and integrity errors come from the release, not from the database's health.
        match e.as_db_error() {
            Some(db)
                if db.code().code().starts_with("22") || db.code().code().starts_with("23") =>
            {
                ImportError::Malformed(format!("the release has invalid data: {}", db.message()))
            }
            Some(db) => ImportError::Database(anyhow::anyhow!(
                "{} ({}){}",
                db.message(),
                db.code().code(),
                db.detail().map(|d| format!(": {d}")).unwrap_or_default()
            )),
            None => ImportError::Database(e.into()),
        }
    }
}

impl From<diesel::result::Error> for ImportError {
    fn from(e: diesel::result::Error) -> Self {
        ImportError::Database(e.into())
    }
}

impl From<diesel_async::pooled_connection::bb8::RunError> for ImportError {
    fn from(e: diesel_async::pooled_connection::bb8::RunError) -> Self {
        ImportError::Database(e.into())
    }
}

impl From<ImportError> for biologidex_core::Error {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::JobNotFound(_) => biologidex_core::Error::NotFound(Missing::ImportJob),
            other => biologidex_core::Error::Internal(anyhow::anyhow!(other)),
        }
    }
}

/// A bad or unresolved row: file, 1-based line number and what is wrong.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RowIssue {
    pub file: String,
    pub line: u64,
    pub message: String,
}

/// Issues collected during an import (the first [`MAX_ISSUES`] of each kind) and their counts.
#[derive(Debug, Default)]
pub struct Journal {
    /// Rows that were skipped as bad.
    pub issues: Vec<RowIssue>,
    /// Rows imported without a link, or skipped because what they point at is absent.
    pub warnings: Vec<RowIssue>,
    pub bad_rows: u64,
    pub unresolved: u64,
    /// Seconds spent in each step, in order.
    pub timings: Vec<(String, f64)>,
    last_lap: Option<Instant>,
}

impl Journal {
    /// An empty journal whose first lap starts now.
    pub fn start() -> Journal {
        Journal {
            last_lap: Some(Instant::now()),
            ..Journal::default()
        }
    }

    /// Records the time since the previous lap (or since the first call) under `step`.
    pub fn lap(&mut self, step: &str) {
        let now = Instant::now();
        let secs = self
            .last_lap
            .map_or(0.0, |t| now.duration_since(t).as_secs_f64());
        self.last_lap = Some(now);
        tracing::info!(step, duration_s = secs, "taxonomy import step");
        self.timings.push((step.to_owned(), secs));
    }

    /// Takes over what another journal (of a concurrent step) collected.
    pub fn absorb(&mut self, other: Journal) {
        self.add_issues(other.issues);
        self.add_warnings(other.warnings);
        self.bad_rows += other.bad_rows;
        self.unresolved += other.unresolved;
        self.timings.extend(other.timings);
    }

    /// Records a step timed elsewhere.
    pub fn timed(&mut self, step: String, secs: f64) {
        self.timings.push((step, secs));
    }

    /// Keeps issues up to the cap.
    pub fn add_issues(&mut self, issues: impl IntoIterator<Item = RowIssue>) {
        let room = MAX_ISSUES.saturating_sub(self.issues.len());
        self.issues.extend(issues.into_iter().take(room));
    }

    /// Keeps warnings up to the cap.
    pub fn add_warnings(&mut self, issues: impl IntoIterator<Item = RowIssue>) {
        let room = MAX_ISSUES.saturating_sub(self.warnings.len());
        self.warnings.extend(issues.into_iter().take(room));
    }

    fn error_log(&self, fatal: Option<&str>) -> Value {
        let mut log = json!({
            "bad_rows": self.bad_rows,
            "unresolved_references": self.unresolved,
            "errors": self.issues,
            "warnings": self.warnings,
        });
        if let Some(msg) = fatal {
            log["fatal_error"] = json!(msg);
        }
        log
    }
}

/// Writes progress to the job row; failures to do so are logged, never fatal.
pub struct Progress {
    pool: DbPool,
    job_id: TaxonomyImportJobId,
    status: Mutex<ImportStatus>,
    started: Instant,
}

impl Progress {
    fn new(pool: DbPool, job_id: TaxonomyImportJobId) -> Progress {
        Progress {
            pool,
            job_id,
            status: Mutex::new(ImportStatus::Processing),
            started: Instant::now(),
        }
    }

    fn set_status(&self, status: ImportStatus) {
        if let Ok(mut s) = self.status.lock() {
            *s = status;
        }
    }

    async fn write(&self, progress: Value, counts: (i64, i64, i64)) {
        let status = self.status.lock().map_or(ImportStatus::Processing, |s| *s);
        let result = async {
            let mut conn = self.pool.get().await.map_err(anyhow::Error::from)?;
            ImportJob::record_progress(&mut conn, self.job_id, status, &progress, counts)
                .await
                .map_err(anyhow::Error::from)
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(import_job.id = %self.job_id, error = %e, "cannot record import progress");
        }
    }

    /// A new phase (no counters).
    pub async fn phase(&self, phase: &str) {
        tracing::info!(import_job.id = %self.job_id, phase, "taxonomy import phase");
        let elapsed = self.started.elapsed().as_secs_f64();
        self.write(json!({ "phase": phase, "elapsed_s": elapsed }), (0, 0, 0))
            .await;
    }

    /// Reading a file: rows so far, bad rows, bytes read of the total.
    pub async fn report_file(&self, file: &str, rows: u64, bad: u64, bytes: u64, total: u64) {
        let percent = if total > 0 {
            (bytes as f64 * 100.0 / total as f64).min(100.0)
        } else {
            0.0
        };
        let value = json!({
            "phase": "reading",
            "file": file,
            "rows": rows,
            "bad_rows": bad,
            "bytes_read": bytes,
            "bytes_total": total,
            "percent": (percent * 10.0).round() / 10.0,
            "elapsed_s": self.started.elapsed().as_secs_f64(),
        });
        self.write(value, ((rows + bad) as i64, rows as i64, bad as i64))
            .await;
    }
}

/// Tunables of an import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// When a file counts as corrupt.
    pub bad_rows: BadRowPolicy,
    /// Connections used to build indexes in parallel (at least 1).
    pub connections: usize,
    /// `work_mem` of the import's sessions (hash joins over the staged release).
    pub work_mem: String,
    /// `maintenance_work_mem` of the import's sessions (index builds).
    pub maintenance_work_mem: String,
    /// `temp_buffers` of the session that stages the release (local buffers of the staging
    /// tables; only what is used is allocated).
    pub temp_buffers: String,
    /// How long the swap waits for readers to let go of the live tables, per attempt.
    pub swap_lock_timeout: Duration,
    /// Swap attempts before giving up.
    pub swap_attempts: u32,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            bad_rows: BadRowPolicy {
                max_fraction: 0.01,
                min_tolerated: 100,
            },
            connections: 2,
            work_mem: "256MB".to_owned(),
            maintenance_work_mem: "1GB".to_owned(),
            temp_buffers: "1GB".to_owned(),
            swap_lock_timeout: Duration::from_secs(5),
            swap_attempts: 5,
        }
    }
}

/// What an import did.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub job_id: TaxonomyImportJobId,
    pub version: String,
    pub counts: LoadCounts,
    pub bad_rows: u64,
    pub unresolved_references: u64,
    pub errors: Vec<RowIssue>,
    pub warnings: Vec<RowIssue>,
    pub duration_s: f64,
}

fn sql_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

async fn connect(url: &str, opts: &ImportOptions, main: bool) -> Result<Client, ImportError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "taxonomy import connection closed");
        }
    });
    // synchronous_commit off: a crash loses at most the last commits, and the import is re-run.
    let mut setup = format!(
        "SET synchronous_commit = off; SET statement_timeout = 0; SET lock_timeout = 0;
         SET idle_in_transaction_session_timeout = 0; SET client_min_messages = warning;
         SET max_parallel_maintenance_workers = 0; SET jit = off;
         SET work_mem = {}; SET maintenance_work_mem = {};",
        sql_literal(&opts.work_mem),
        sql_literal(&opts.maintenance_work_mem)
    );
    if main {
        // Must precede the first use of a temporary table in the session.
        setup.push_str(&format!(
            "SET temp_buffers = {};",
            sql_literal(&opts.temp_buffers)
        ));
    }
    client.batch_execute(&setup).await?;
    Ok(client)
}

/// Creates a `pending` job for the ColDP release at `path` under the Catalogue of Life source
/// (created on first use).
pub async fn create_col_job(pool: &DbPool, path: &Path) -> Result<ImportJob, ImportError> {
    let path = std::fs::canonicalize(path)
        .map_err(|e| ImportError::Malformed(format!("{}: {e}", path.display())))?;
    let size = std::fs::metadata(&path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let mut conn = pool.get().await?;
    let source = TaxonomySource::get_or_create_col(&mut conn).await?;
    Ok(ImportJob::create(
        &mut conn,
        source.id,
        &path.to_string_lossy(),
        size.map(|b| b as f64 / 1_048_576.0),
    )
    .await?)
}

/// Creates a job for `path` and runs it.
pub async fn import_path(
    pool: &DbPool,
    database_url: &str,
    path: &Path,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let job = create_col_job(pool, path).await?;
    run_import(pool, database_url, job.id, opts).await
}

/// Runs an import job (its row says which release). Records failure on the row; the previous
/// taxonomy stays in place on any error.
pub async fn run_import(
    pool: &DbPool,
    database_url: &str,
    job_id: TaxonomyImportJobId,
    opts: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let job = {
        let mut conn = pool.get().await?;
        ImportJob::find(&mut conn, job_id)
            .await?
            .ok_or(ImportError::JobNotFound(job_id))?
    };
    let main = connect(database_url, opts, true).await?;
    let locked: bool = main
        .query_one("SELECT pg_try_advisory_lock($1)", &[&IMPORT_LOCK_KEY])
        .await?
        .get(0);
    if !locked {
        return Err(ImportError::Busy);
    }
    let mut journal = Journal::start();
    let result = import_locked(pool, database_url, &main, &job, opts, &mut journal).await;
    if let Err(e) = &result {
        tracing::error!(import_job.id = %job_id, error = %e, "taxonomy import failed");
        drop(main.batch_execute("ROLLBACK").await);
        drop(main.batch_execute(&swap::drop_next_sql()).await);
        let log = journal.error_log(Some(&e.to_string()));
        match pool.get().await {
            Ok(mut conn) => {
                if let Err(err) = ImportJob::mark_failed(&mut conn, job_id, &log).await {
                    tracing::error!(import_job.id = %job_id, error = %err, "cannot mark the import failed");
                }
            }
            Err(err) => {
                tracing::error!(import_job.id = %job_id, error = %err, "cannot mark the import failed");
            }
        }
    }
    drop(
        main.execute("SELECT pg_advisory_unlock($1)", &[&IMPORT_LOCK_KEY])
            .await,
    );
    result
}

async fn import_locked(
    pool: &DbPool,
    database_url: &str,
    main: &Client,
    job: &ImportJob,
    opts: &ImportOptions,
    journal: &mut Journal,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let release = {
        let path = std::path::PathBuf::from(&job.file_path);
        tokio::task::spawn_blocking(move || Release::open(&path))
            .await
            .map_err(|e| ImportError::Database(e.into()))?
            .map_err(|e| ImportError::Malformed(e.0))?
    };
    {
        let mut conn = pool.get().await?;
        let meta = json!({ "release": release.metadata, "bytes_total": release.total_size() });
        ImportJob::mark_started(&mut conn, job.id, &release.metadata.version, &meta).await?;
    }
    let progress = Progress::new(pool.clone(), job.id);
    progress.phase("preparing").await;
    main.batch_execute(&swap::drop_next_sql()).await?;

    let ranks = main
        .query("SELECT name::text, id FROM taxonomic_ranks", &[])
        .await?
        .iter()
        .map(|r| (r.get::<_, String>(0), r.get::<_, i16>(1)))
        .collect();
    let code: String = main
        .query_one(
            "SELECT short_code::text FROM taxonomy_sources WHERE id = $1",
            &[&job.source_id],
        )
        .await?
        .get(0);
    let ctx = MapContext {
        source_id: job.source_id,
        ranks,
        url_template: (code == COL_CODE)
            .then(|| "https://www.catalogueoflife.org/data/taxon/{id}".to_owned()),
    };
    let plan = SwapPlan::load(main).await?;
    journal.lap("prepare");

    // 1. Load.
    let loader = Loader {
        client: main,
        release: &release,
        ctx: &ctx,
        policy: opts.bad_rows,
        progress: &progress,
    };
    let mut counts = stage::load_taxa(&loader, job.id.uuid(), journal).await?;

    // 2. While the main connection loads the files that point at taxa, the others already
    // build the new taxa table's indexes (the slowest part); then all build the rest.
    progress.set_status(ImportStatus::Importing);
    let mut extra = Vec::new();
    for _ in 1..opts.connections.max(1) {
        extra.push(connect(database_url, opts, false).await?);
    }
    let queue = swap::Queue::new(plan.index_statements(|t| t == "taxa"));
    let helpers = futures_util::future::try_join_all(extra.iter().map(|c| queue.drain(c)));
    let mut child_journal = Journal::start();
    let main_part = async {
        stage::load_children(&loader, job.id.uuid(), &mut child_journal, &mut counts).await?;
        progress.phase("building indexes").await;
        Ok::<_, ImportError>(queue.drain(main).await?)
    };
    let (helped, mine) = tokio::join!(helpers, main_part);
    journal.absorb(child_journal);
    let mine = mine?;
    let helped = helped?;
    let loaded_s = started.elapsed().as_secs_f64();
    journal.lap("children and taxa indexes");
    for (sql, secs) in helped.into_iter().flatten().chain(mine) {
        journal.timed(sql, secs);
    }
    let mut clients: Vec<&Client> = vec![main];
    clients.extend(extra.iter());
    for (sql, secs) in plan.build(&clients, &["taxa"]).await? {
        journal.timed(sql, secs);
    }
    journal.lap("indexes and keys");
    drop(extra);
    let built_s = started.elapsed().as_secs_f64();

    // 3. Swap, and complete the job in the same transaction.
    progress.phase("swapping").await;
    let records_total = (counts.name_usages
        + counts.vernacular_names
        + counts.distributions
        + counts.name_relations) as u64;
    let mut report = ImportReport {
        job_id: job.id,
        version: release.metadata.version.clone(),
        counts,
        bad_rows: journal.bad_rows,
        unresolved_references: journal.unresolved,
        errors: journal.issues.clone(),
        warnings: journal.warnings.clone(),
        duration_s: 0.0,
    };
    let steps: Vec<Value> = journal
        .timings
        .iter()
        .map(|(step, secs)| json!({ "step": step, "s": (secs * 1000.0).round() / 1000.0 }))
        .collect();
    let timings = json!({
        "load_s": loaded_s,
        "indexes_s": built_s - loaded_s,
        "steps": steps,
    });
    swap_in(main, &plan, opts, &report, records_total, journal, timings).await?;
    report.duration_s = started.elapsed().as_secs_f64();
    tracing::info!(
        import_job.id = %job.id,
        name_usages = report.counts.name_usages,
        bad_rows = report.bad_rows,
        duration_s = report.duration_s,
        "taxonomy import completed"
    );
    Ok(report)
}

async fn swap_in(
    main: &Client,
    plan: &SwapPlan,
    opts: &ImportOptions,
    report: &ImportReport,
    records_total: u64,
    journal: &Journal,
    timings: Value,
) -> Result<(), ImportError> {
    let statements = plan.swap_statements(opts.swap_lock_timeout).join(";\n");
    let error_log = journal.error_log(None).to_string();
    let metadata = json!({ "counts": report.counts, "timings": timings }).to_string();
    let progress = json!({ "phase": "completed" }).to_string();
    let total = (records_total + journal.bad_rows) as i64;
    let imported = records_total as i64;
    let failed = journal.bad_rows as i64;
    let mut attempt = 0;
    loop {
        attempt += 1;
        main.batch_execute("BEGIN").await?;
        let result = async {
            main.batch_execute(&statements).await?;
            main.execute(
                "UPDATE taxonomy_import_jobs SET status = 'completed', completed_at = now(), \
                 records_total = $2, records_imported = $3, records_failed = $4, \
                 error_log = $5::text::jsonb, \
                 metadata = jsonb_set(metadata || $6::text::jsonb, '{progress}', $7::text::jsonb) \
                 WHERE id = $1",
                &[
                    &report.job_id.uuid(),
                    &total,
                    &imported,
                    &failed,
                    &error_log,
                    &metadata,
                    &progress,
                ],
            )
            .await?;
            main.batch_execute("COMMIT").await
        }
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(e)
                if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
                    && attempt < opts.swap_attempts =>
            {
                drop(main.batch_execute("ROLLBACK").await);
                tracing::warn!(
                    attempt,
                    "taxonomy swap waited too long for readers; retrying"
                );
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
