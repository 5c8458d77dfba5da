//! `process_analysis`: identify the animals in one job's photo. Idempotent: the job is taken
//! with a lease, so a duplicate delivery (or a reaper re-enqueue) of a job that is done,
//! running elsewhere or waiting for its retry does nothing.

use std::time::{Duration, Instant};

use apalis::prelude::{BoxDynError, Data, TaskBuilder, TaskSink};
use biologidex_core::graph_cache;
use biologidex_core::ids::{AnalysisJobId, UserId};
use biologidex_core::{
    jobs::{Job, ProcessAnalysis},
    vision::{Detection, cost::cost_usd, parse_answer},
};
use biologidex_db::models::{
    animals::Animal,
    vision::{
        self as jobs_db, AnalysisJob, CallSlot, DetectedAnimal, JobResult, MAX_ATTEMPTS,
        MAX_PROVIDER_CALLS,
    },
};
use biologidex_media::storage::StorageError;
use chrono::Utc;
use rand::Rng;
use serde_json::Value;
use uuid::Uuid;

use crate::{state::WorkerState, vision::VisionRequest};

/// How long a worker holds a job: longer than a provider call plus matching.
pub const LEASE: Duration = Duration::from_secs(120);
/// Longest side of the image sent to the model.
pub const MODEL_IMAGE_SIDE: u32 = 1024;

/// What a run did (tests and metrics read it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not ours to run now (finished, leased elsewhere, or waiting for a retry).
    Skipped,
    Completed,
    /// A transient failure; the job was re-enqueued to run after the delay.
    RetryScheduled(Duration),
    Failed(String),
}

/// The animal for a detection: when the taxonomy's match is trusted for a model's name
/// (`NameMatch::trusted_taxon`), a verified animal with its full classification, else an
/// unverified one under the model's name (docs/architecture.md#taxonomy-import). Also says
/// whether the animal was created, and whether an existing one was reclassified.
async fn match_animal(
    conn: &mut diesel_async::AsyncPgConnection,
    d: &Detection,
    user: UserId,
) -> biologidex_core::Result<(biologidex_db::models::animals::AnimalView, bool, bool)> {
    use biologidex_taxonomy::matching::{
        MatchOptions, NameSource, match_name, upsert_animal_from_taxon,
    };
    let opts = MatchOptions {
        kingdom: None,
        vernacular_hint: (!d.common_name.is_empty()).then(|| d.common_name.clone()),
    };
    let verdict = match_name(conn, &d.scientific_name, &opts).await?;
    if let Some(taxon) = verdict.trusted_taxon(NameSource::Model) {
        let common = (!d.common_name.is_empty()).then_some(d.common_name.as_str());
        let up = upsert_animal_from_taxon(conn, taxon.id, common, d.confidence).await?;
        if let Some(view) = Animal::find(conn, up.id).await? {
            return Ok((view, up.created, up.changed));
        }
    }
    let (view, created) =
        Animal::for_detection(conn, &d.scientific_name, &d.common_name, user).await?;
    Ok((view, created, false))
}

async fn fail(
    state: &WorkerState,
    id: AnalysisJobId,
    lease: Uuid,
    message: &str,
) -> biologidex_core::Result<Outcome> {
    let mut conn = state.db.get().await?;
    if AnalysisJob::fail(&mut conn, id, lease, message)
        .await?
        .is_none()
    {
        return Ok(late(state, id, "fail"));
    }
    state
        .metrics
        .vision_jobs
        .with_label_values(&["failed"])
        .inc();
    tracing::warn!(analysis_job.id = %id, error = message, "vision job failed");
    Ok(Outcome::Failed(message.to_owned()))
}

/// A write refused because another claim holds the job now (this worker ran past its lease):
/// nothing was changed; counted.
fn late(state: &WorkerState, id: AnalysisJobId, write: &'static str) -> Outcome {
    state
        .metrics
        .vision_late_writes
        .with_label_values(&[write])
        .inc();
    tracing::warn!(analysis_job.id = %id, write, "late write ignored: the job's lease passed to another claim");
    Outcome::Skipped
}

/// Backoff for attempt `n` (0-based): base × 2ⁿ plus up to half a base of jitter.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let factor = 2u32.saturating_pow(u32::try_from(attempt).unwrap_or(0));
    let jitter = rand::rng().random_range(0.0..=0.5);
    base.saturating_mul(factor) + base.mul_f64(jitter)
}

/// How often storing a paid answer is retried while the database is unavailable, and the
/// first wait (doubling; about 30 s in all, well inside the lease).
const STORE_ATTEMPTS: u32 = 6;
const STORE_FIRST_WAIT: Duration = Duration::from_millis(500);

/// What the user reads when the answer could not be stored.
const UNSTORABLE: &str = "The identification could not be saved.";

/// Leaves the job for another attempt after a backoff (a transient failure: the provider or the
/// media store did not answer), showing `sentence` meanwhile.
async fn retry_later(
    state: &WorkerState,
    id: AnalysisJobId,
    lease: Uuid,
    retry_count: i32,
    sentence: &str,
    detail: &str,
) -> biologidex_core::Result<Outcome> {
    let settings = &state.settings;
    let delay = backoff(settings.vision_retry_base, retry_count);
    let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
    let mut conn = state.db.get().await?;
    let scheduled = AnalysisJob::schedule_retry(&mut conn, id, lease, at, sentence).await?;
    drop(conn);
    if scheduled.is_none() {
        return Ok(late(state, id, "schedule_retry"));
    }
    state.metrics.vision_retries.inc();
    // apalis schedules in whole seconds: a second more never wakes it before `at`.
    let task = TaskBuilder::new(ProcessAnalysis {
        analysis_job_id: id,
    })
    .run_after(delay + Duration::from_secs(1))
    .build();
    let mut storage =
        ProcessAnalysis::storage(state.queue_conn.clone(), &settings.redis_key_prefix);
    if let Err(e) = storage.push_task(task).await {
        // The lease expires at the retry time; the reaper re-enqueues it then.
        tracing::warn!(analysis_job.id = %id, error = %e, "retry push failed; left to the reaper");
    }
    tracing::info!(analysis_job.id = %id, delay_ms = delay.as_millis() as u64, error = %detail, "vision retry scheduled");
    Ok(Outcome::RetryScheduled(delay))
}

/// Runs one job to completion, failure or a scheduled retry.
pub async fn run(state: &WorkerState, id: AnalysisJobId) -> biologidex_core::Result<Outcome> {
    let started = Instant::now();
    let mut conn = state.db.get().await?;
    let Some(job) = AnalysisJob::claim(&mut conn, id, LEASE).await? else {
        return Ok(Outcome::Skipped);
    };
    let lease = job.lease_id.unwrap_or_default();
    let settings = &state.settings;
    if let Some(message) =
        AnalysisJob::budget_spent(&mut conn, settings.vision_daily_budget_usd).await?
    {
        drop(conn);
        return fail(state, id, lease, message).await;
    }
    let Some(provider) = state.vision.as_ref() else {
        drop(conn);
        return fail(
            state,
            id,
            lease,
            "Animal identification is not configured on this server (OPENAI_API_KEY is not set).",
        )
        .await;
    };
    let Some((key, _)) = jobs_db::image_file(&mut conn, id).await? else {
        drop(conn);
        return fail(state, id, lease, "This job has no image.").await;
    };
    // No pooled connection is held during the slow provider call.
    drop(conn);
    let stored = match state.storage.get(&key).await {
        Ok(b) => b,
        Err(e @ StorageError::Unavailable(_)) if job.retry_count + 1 < MAX_ATTEMPTS => {
            tracing::warn!(analysis_job.id = %id, error = %e, "media store unavailable; retrying");
            let sentence = "The job's image could not be read yet; retrying.";
            return retry_later(state, id, lease, job.retry_count, sentence, &e.to_string()).await;
        }
        Err(e) => {
            tracing::error!(analysis_job.id = %id, error = %e, "job image unreadable");
            return fail(state, id, lease, "The job's image could not be read.").await;
        }
    };
    let prepared = tokio::task::spawn_blocking(move || {
        biologidex_media::images::for_model(&stored, MODEL_IMAGE_SIDE)
    })
    .await
    .map_err(|e| biologidex_core::Error::Internal(e.into()))?;
    let (image, content_type) = match prepared {
        Ok(p) => p,
        Err(e) => {
            return fail(
                state,
                id,
                lease,
                &format!("The job's image could not be decoded: {e}"),
            )
            .await;
        }
    };

    // Every call is counted before it is made, so no crash or lease expiry can repeat it
    // without bound.
    let mut conn = state.db.get().await?;
    match AnalysisJob::count_call(&mut conn, id, lease).await? {
        CallSlot::Granted => {}
        CallSlot::LeaseLost => return Ok(late(state, id, "call")),
        CallSlot::Exhausted => {
            drop(conn);
            return fail(
                state,
                id,
                lease,
                &format!(
                    "The photo could not be identified (gave up after {MAX_PROVIDER_CALLS} \
                     calls to the vision service)."
                ),
            )
            .await;
        }
    }
    drop(conn);
    let call_started = Instant::now();
    let answer = provider
        .identify(VisionRequest {
            model: job.model_name.clone(),
            detail: job.detail_level.clone(),
            image,
            content_type,
        })
        .await;
    state
        .metrics
        .provider_latency
        .observe(call_started.elapsed().as_secs_f64());
    let answer = match answer {
        Ok(a) => a,
        Err(e) if !e.kind.is_transient() => {
            tracing::warn!(analysis_job.id = %id, error = %e.detail, "vision provider refused");
            return fail(state, id, lease, e.kind.sentence()).await;
        }
        Err(e) if job.retry_count + 1 >= MAX_ATTEMPTS => {
            tracing::warn!(analysis_job.id = %id, error = %e.detail, "vision provider failed; giving up");
            return fail(
                state,
                id,
                lease,
                &format!(
                    "{} (gave up after {MAX_ATTEMPTS} attempts)",
                    e.kind.sentence()
                ),
            )
            .await;
        }
        Err(e) => {
            return retry_later(
                state,
                id,
                lease,
                job.retry_count,
                e.kind.sentence(),
                &e.detail,
            )
            .await;
        }
    };

    let cost = cost_usd(&job.model_name, answer.input_tokens, answer.output_tokens);
    let detections = parse_answer(&answer.text);
    let processing_time = call_started.elapsed().as_secs_f64();
    // The answer is paid for: it is kept and only the writes are retried while the database
    // is unavailable; a refusal of the data itself ends the job.
    let mut wait = STORE_FIRST_WAIT;
    let mut spend_recorded = false;
    let mut attempt = 1;
    let stored = loop {
        let result = store(
            state,
            &job,
            lease,
            &answer,
            &detections,
            cost,
            processing_time,
            &mut spend_recorded,
        )
        .await;
        match result {
            Err(e) if biologidex_core::error::is_transient(&e) && attempt < STORE_ATTEMPTS => {
                tracing::warn!(analysis_job.id = %id, error = %e, attempt, "storing the answer failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            other => break other,
        }
    };
    let reclassified = match stored {
        Ok(Some(reclassified)) => reclassified,
        Ok(None) => return Ok(late(state, id, "complete")),
        Err(e) if biologidex_core::error::is_transient(&e) => return Err(e),
        Err(e) => {
            tracing::error!(analysis_job.id = %id, error = %e, "the answer could not be stored");
            return fail(state, id, lease, UNSTORABLE).await;
        }
    };
    if reclassified {
        // Trees cached with the animal's old classification are stale now.
        if let Err(e) = graph_cache::bump_all(&state.redis, &state.settings).await {
            tracing::warn!(error = %e, "tree caches not invalidated: redis unavailable");
        }
    }
    let m = &state.metrics;
    m.vision_jobs.with_label_values(&["completed"]).inc();
    m.vision_duration.observe(started.elapsed().as_secs_f64());
    m.vision_tokens
        .with_label_values(&["input"])
        .inc_by(u64::from(answer.input_tokens));
    m.vision_tokens
        .with_label_values(&["output"])
        .inc_by(u64::from(answer.output_tokens));
    m.vision_cost
        .with_label_values(&[&job.model_name])
        .inc_by(cost);
    tracing::info!(analysis_job.id = %id, detections = detections.len(), cost_usd = cost, "vision job completed");
    Ok(Outcome::Completed)
}

/// Records the call's cost (once), matches every detection to an animal (most prominent
/// first) and completes the job. `Some(reclassified)` when done, `None` when the lease passed
/// to another claim.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site, every value distinct"
)]
async fn store(
    state: &WorkerState,
    job: &AnalysisJob,
    lease: Uuid,
    answer: &crate::vision::VisionAnswer,
    detections: &[Detection],
    cost: f64,
    processing_time: f64,
    spend_recorded: &mut bool,
) -> biologidex_core::Result<Option<bool>> {
    let mut conn = state.db.get().await?;
    if !*spend_recorded {
        AnalysisJob::record_spend(&mut conn, job.id, cost).await?;
        *spend_recorded = true;
    }
    let mut detected = Vec::with_capacity(detections.len());
    let mut first = None;
    let mut reclassified = false;
    for d in detections {
        let (view, created, changed) = match_animal(&mut conn, d, job.user_id).await?;
        reclassified |= changed;
        if first.is_none() {
            first = Some((view.animal.id, d.confidence));
        }
        detected.push(DetectedAnimal::new(d, &view.animal, created));
    }
    let done = AnalysisJob::complete(
        &mut conn,
        job.id,
        lease,
        &JobResult {
            parsed_prediction: answer.text.replace('\0', ""),
            detected_animals: detected,
            identified_animal_id: first.map(|(a, _)| a),
            confidence_score: first.map(|(_, c)| c),
            cost_usd: cost,
            processing_time,
            input_tokens: i32::try_from(answer.input_tokens).unwrap_or(i32::MAX),
            output_tokens: i32::try_from(answer.output_tokens).unwrap_or(i32::MAX),
            raw_response: strip_nul(answer.raw.clone()),
        },
    )
    .await?;
    Ok(done.map(|_| reclassified))
}

/// The provider's raw answer without NUL characters (jsonb refuses `\u0000`).
fn strip_nul(v: Value) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace('\0', "")),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.replace('\0', ""), strip_nul(v)))
                .collect(),
        ),
        other => other,
    }
}

/// apalis adapter for [`run`]. Job-level failures are recorded on the row, so the task
/// itself only errors on infrastructure trouble (then apalis retries it).
pub async fn process_analysis(
    job: ProcessAnalysis,
    state: Data<WorkerState>,
) -> Result<(), BoxDynError> {
    let started = Instant::now();
    let result = run(&state, job.analysis_job_id).await;
    state.metrics.record(
        ProcessAnalysis::QUEUE.name(),
        result.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    result.map(|_| ()).map_err(Into::into)
}
