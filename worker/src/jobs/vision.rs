//! `process_analysis`: identify the animals in one job's photo. Idempotent: the job is taken
//! with a lease, so a duplicate delivery (or a reaper re-enqueue) of a job that is done,
//! running elsewhere or waiting for its retry does nothing.

use std::time::{Duration, Instant};

use apalis::prelude::{BoxDynError, Data, TaskBuilder, TaskSink};
use chrono::Utc;
use rand::Rng;
use serde_json::{Value, json};
use shared::{
    db::models::{
        animals::Animal,
        vision::{self as jobs_db, AnalysisJob, JobResult, MAX_ATTEMPTS},
    },
    graph_cache,
    jobs::{Job, ProcessAnalysis},
    vision::{Detection, cost::cost_usd, parse_answer},
};
use uuid::Uuid;

use crate::{
    state::WorkerState,
    vision::{ProviderError, VisionRequest},
};

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

fn animal_json(d: &Detection, a: &Animal, created: bool) -> Value {
    json!({
        "scientific_name": d.scientific_name,
        "common_name": d.common_name,
        "confidence": d.confidence,
        "animal_id": a.id,
        "is_new": created,
        "id": a.id,
        "creation_index": a.creation_index,
        "kingdom": a.kingdom,
        "phylum": a.phylum,
        "class": a.class_name,
        "order": a.order_name,
        "family": a.family,
        "genus": a.genus,
        "species": a.species,
        "subspecies": a.subspecies,
        "verified": a.verified,
        "description": a.description,
        "habitat": a.habitat,
        "conservation_status": a.conservation_status,
    })
}

/// The animal for a detection: through the taxonomy (exact, synonym, vernacular or a close
/// fuzzy match, not ambiguous) when the catalogue knows the name — a verified animal with its
/// full classification — else an unverified one under the model's name (§4.9). Also says
/// whether the animal was created, and whether an existing one was reclassified.
async fn match_animal(
    conn: &mut diesel_async::AsyncPgConnection,
    d: &Detection,
    user: Uuid,
) -> shared::Result<(shared::db::models::animals::AnimalView, bool, bool)> {
    use shared::taxonomy::matching::{
        MatchOptions, MatchType, match_name, upsert_animal_from_taxon,
    };
    let opts = MatchOptions {
        kingdom: None,
        vernacular_hint: (!d.common_name.is_empty()).then(|| d.common_name.clone()),
    };
    let verdict = match_name(conn, &d.scientific_name, &opts).await?;
    let trusted = matches!(
        verdict.match_type,
        MatchType::Exact | MatchType::Synonym | MatchType::Vernacular | MatchType::Fuzzy
    ) && !verdict.ambiguous
        && verdict.confidence >= 0.8;
    if let (true, Some(taxon)) = (trusted, verdict.taxon.as_ref()) {
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

async fn fail(state: &WorkerState, id: Uuid, message: &str) -> shared::Result<Outcome> {
    let mut conn = state.db.get().await?;
    AnalysisJob::fail(&mut conn, id, message).await?;
    state
        .metrics
        .vision_jobs
        .with_label_values(&["failed"])
        .inc();
    tracing::warn!(analysis_job.id = %id, error = message, "vision job failed");
    Ok(Outcome::Failed(message.to_owned()))
}

/// Backoff for attempt `n` (0-based): base × 2ⁿ plus up to half a base of jitter.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let factor = 2u32.saturating_pow(u32::try_from(attempt).unwrap_or(0));
    let jitter = rand::rng().random_range(0.0..=0.5);
    base.saturating_mul(factor) + base.mul_f64(jitter)
}

/// Runs one job to completion, failure or a scheduled retry.
pub async fn run(state: &WorkerState, id: Uuid) -> shared::Result<Outcome> {
    let started = Instant::now();
    let mut conn = state.db.get().await?;
    let Some(job) = AnalysisJob::claim(&mut conn, id, LEASE).await? else {
        return Ok(Outcome::Skipped);
    };
    let settings = &state.settings;
    if let Some(budget) = settings.vision_daily_budget_usd
        && AnalysisJob::spent_today(&mut conn).await? >= budget
    {
        drop(conn);
        return fail(
            state,
            id,
            "The daily vision budget is spent; new photos can be identified tomorrow.",
        )
        .await;
    }
    let Some(provider) = state.vision.as_ref() else {
        drop(conn);
        return fail(
            state,
            id,
            "Animal identification is not configured on this server (OPENAI_API_KEY is not set).",
        )
        .await;
    };
    let Some((key, _)) = jobs_db::image_file(&mut conn, id).await? else {
        drop(conn);
        return fail(state, id, "This job has no image.").await;
    };
    // No pooled connection is held during the slow provider call.
    drop(conn);
    let stored = match state.storage.get(&key).await {
        Ok(b) => b,
        Err(e) => {
            return fail(
                state,
                id,
                &format!("The job's image could not be read: {e}"),
            )
            .await;
        }
    };
    let prepared =
        tokio::task::spawn_blocking(move || shared::images::for_model(&stored, MODEL_IMAGE_SIDE))
            .await
            .map_err(|e| shared::Error::Internal(e.into()))?;
    let (image, content_type) = match prepared {
        Ok(p) => p,
        Err(e) => {
            return fail(
                state,
                id,
                &format!("The job's image could not be decoded: {e}"),
            )
            .await;
        }
    };

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
        Err(ProviderError::Permanent(msg)) => return fail(state, id, &msg).await,
        Err(ProviderError::Transient(msg)) if job.retry_count + 1 >= MAX_ATTEMPTS => {
            return fail(
                state,
                id,
                &format!("{msg} (gave up after {MAX_ATTEMPTS} attempts)"),
            )
            .await;
        }
        Err(ProviderError::Transient(msg)) => {
            let delay = backoff(settings.vision_retry_base, job.retry_count);
            let at = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            let mut conn = state.db.get().await?;
            AnalysisJob::schedule_retry(&mut conn, id, at, &msg).await?;
            drop(conn);
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
            tracing::info!(analysis_job.id = %id, delay_ms = delay.as_millis() as u64, error = %msg, "vision retry scheduled");
            return Ok(Outcome::RetryScheduled(delay));
        }
    };

    // Match every detection to an animal, most prominent first.
    let detections = parse_answer(&answer.text);
    let mut conn = state.db.get().await?;
    let mut detected = Vec::with_capacity(detections.len());
    let mut first = None;
    let mut reclassified = false;
    for d in &detections {
        let (view, created, changed) = match_animal(&mut conn, d, job.user_id).await?;
        reclassified |= changed;
        if first.is_none() {
            first = Some((view.animal.id, d.confidence));
        }
        detected.push(animal_json(d, &view.animal, created));
    }
    let cost = cost_usd(&job.model_name, answer.input_tokens, answer.output_tokens);
    AnalysisJob::complete(
        &mut conn,
        id,
        &JobResult {
            parsed_prediction: answer.text.clone(),
            detected_animals: Value::Array(detected),
            identified_animal_id: first.map(|(a, _)| a),
            confidence_score: first.map(|(_, c)| c),
            cost_usd: cost,
            processing_time: call_started.elapsed().as_secs_f64(),
            input_tokens: i32::try_from(answer.input_tokens).unwrap_or(i32::MAX),
            output_tokens: i32::try_from(answer.output_tokens).unwrap_or(i32::MAX),
            raw_response: answer.raw,
        },
    )
    .await?;
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

/// apalis adapter for [`run`]. Job-level failures are recorded on the row, so the task
/// itself only errors on infrastructure trouble (then apalis retries it).
pub async fn process_analysis(
    job: ProcessAnalysis,
    state: Data<WorkerState>,
) -> Result<(), BoxDynError> {
    let started = Instant::now();
    let result = run(&state, job.analysis_job_id).await;
    state.metrics.record(
        ProcessAnalysis::QUEUE,
        result.is_ok(),
        started.elapsed().as_secs_f64(),
    );
    result.map(|_| ()).map_err(Into::into)
}
