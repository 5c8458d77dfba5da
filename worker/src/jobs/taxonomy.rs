//! Taxonomy jobs: a Catalogue of Life import (`taxonomy.import`), the same code as
//! `biologidex-api import-col`.

use std::time::Instant;

use apalis::prelude::{AbortError, BoxDynError, Data};
use biologidex_core::jobs::{Job, RunTaxonomyImport};
use biologidex_db::models::taxonomy::{ImportJob, ImportStatus};
use biologidex_taxonomy::{
    cache,
    import::{self, ImportError, ImportOptions, ImportReport},
};

use crate::state::WorkerState;

/// Runs the import job unless it already completed or was cancelled (then `None`: a redelivered
/// job is a no-op). An interrupted run starts over from the file; the previous taxonomy stays in
/// place until the new one is complete.
pub async fn run_taxonomy_import(
    state: &WorkerState,
    job: RunTaxonomyImport,
) -> Result<Option<ImportReport>, ImportError> {
    let row = {
        let mut conn = state.db.get().await?;
        ImportJob::find(&mut conn, job.import_job_id)
            .await?
            .ok_or(ImportError::JobNotFound(job.import_job_id))?
    };
    if matches!(
        row.status,
        ImportStatus::Completed | ImportStatus::Cancelled
    ) {
        tracing::info!(import_job.id = %row.id, status = %row.status, "taxonomy import already finished");
        return Ok(None);
    }
    let report = import::run_import(
        &state.db,
        &state.settings.database_url,
        job.import_job_id,
        &ImportOptions::default(),
    )
    .await?;
    cache::invalidate(&state.redis, &state.settings).await;
    Ok(Some(report))
}

/// apalis adapter for [`run_taxonomy_import`]: a malformed release is not retried.
pub async fn taxonomy_import(
    job: RunTaxonomyImport,
    state: Data<WorkerState>,
) -> Result<(), BoxDynError> {
    let started = Instant::now();
    let result = run_taxonomy_import(&state, job).await;
    state.metrics.record(
        RunTaxonomyImport::QUEUE.name(),
        result.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    match result {
        Ok(_) => Ok(()),
        Err(e) if e.is_permanent() => Err(AbortError::new(e).into()),
        Err(e) => Err(e.into()),
    }
}
