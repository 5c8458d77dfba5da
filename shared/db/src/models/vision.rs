//! Analysis (vision) jobs. PostgreSQL is the source of truth for a job's state; Redis only
//! carries its id. A worker takes a job with a lease (`locked_until`), so a job delivered
//! twice, or re-enqueued by the reaper while it runs, is processed once.

use std::time::Duration;

use biologidex_core::ids::{AnalysisJobId, AnimalId, ImageConversionId, StoredImageId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::text_enum::text_enum;
use crate::{
    models::animals::Animal,
    schema::{analysis_jobs, stored_images},
};
use biologidex_core::{Error, vision::Detection};

text_enum! {
    /// An analysis job's state.
    pub enum JobStatus {
        Pending = "pending",
        Processing = "processing",
        Completed = "completed",
        Failed = "failed",
    }
}

/// What the user reads when the daily vision budget is spent.
pub const BUDGET_SPENT: &str =
    "The daily vision budget is spent; new photos can be identified tomorrow.";

/// Provider attempts before a transient failure becomes permanent.
pub const MAX_ATTEMPTS: i32 = 3;

/// The job, if `lease` (from `claim`) still holds it.
macro_rules! leased {
    ($id:expr, $lease:expr) => {
        analysis_jobs::table
            .find($id)
            .filter(analysis_jobs::lease_id.eq($lease))
            .filter(analysis_jobs::status.eq(JobStatus::Processing))
    };
}

/// A job row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = analysis_jobs)]
pub struct AnalysisJob {
    pub id: AnalysisJobId,
    pub user_id: UserId,
    pub source_conversion_id: Option<ImageConversionId>,
    pub image_id: Option<StoredImageId>,
    pub image_token: Option<String>,
    pub image_conversion_status: String,
    pub post_conversion_transformations: Value,
    pub status: JobStatus,
    pub cv_method: String,
    pub model_name: String,
    pub detail_level: String,
    pub parsed_prediction: String,
    pub identified_animal_id: Option<AnimalId>,
    pub confidence_score: Option<f64>,
    pub detected_animals: Value,
    pub selected_animal_index: Option<i32>,
    pub cost_usd: Option<f64>,
    pub processing_time: Option<f64>,
    pub input_tokens: Option<i32>,
    pub output_tokens: Option<i32>,
    pub error_message: String,
    pub retry_count: i32,
    pub next_retry_at: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Set by each claim; the claimant's writes are conditional on it.
    pub lease_id: Option<Uuid>,
    /// Provider calls made for the job so far (all retries and reaper passes).
    pub provider_calls: i32,
}

/// Most provider calls one job may cost: two full rounds of attempts (a manual retry starts
/// the second), whatever crashes and lease expiries happen in between.
pub const MAX_PROVIDER_CALLS: i32 = 2 * MAX_ATTEMPTS;

/// Whether a worker may call the provider for a job it claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallSlot {
    Granted,
    /// The job has had its share of calls.
    Exhausted,
    /// Another claim took the job: this worker's lease is gone.
    LeaseLost,
}

/// A new job (its image already stored or shared from a conversion).
#[derive(Debug, Clone)]
pub struct NewJob {
    pub user_id: UserId,
    pub source_conversion_id: Option<ImageConversionId>,
    pub image_id: StoredImageId,
    pub image_conversion_status: &'static str,
    pub post_conversion_transformations: Value,
    pub cv_method: String,
    pub model_name: String,
    pub detail_level: String,
    /// Set when the job must fail at once (e.g. the daily budget is spent).
    pub failed_with: Option<String>,
}

/// The outcome of a successful analysis.
#[derive(Debug, Clone)]
pub struct JobResult {
    pub parsed_prediction: String,
    pub detected_animals: Vec<DetectedAnimal>,
    pub identified_animal_id: Option<AnimalId>,
    pub confidence_score: Option<f64>,
    pub cost_usd: f64,
    pub processing_time: f64,
    pub input_tokens: i32,
    pub output_tokens: i32,
    pub raw_response: Value,
}

/// One animal the model saw, matched to an animal record (created if new): an element of a
/// job's `detected_animals`, written by the worker and served as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DetectedAnimal {
    /// The matched animal's id (the same as `id`).
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub animal_id: AnimalId,
    #[cfg_attr(feature = "openapi", schema(value_type = Uuid))]
    pub id: AnimalId,
    /// Whether this detection created the animal record.
    pub is_new: bool,
    /// The model's confidence, 0 to 1.
    pub confidence: f64,
    /// The name as the model gave it.
    pub scientific_name: String,
    /// The common name as the model gave it.
    pub common_name: String,
    /// The animal's dex number.
    pub creation_index: i32,
    pub kingdom: String,
    pub phylum: String,
    pub class: String,
    pub order: String,
    pub family: String,
    pub genus: String,
    pub species: String,
    pub subspecies: String,
    /// Checked against the Catalogue of Life.
    pub verified: bool,
    pub description: String,
    pub habitat: String,
    /// IUCN code or empty.
    pub conservation_status: String,
}

impl DetectedAnimal {
    /// Detection `d` matched to animal `a`; `is_new` when the match created it.
    pub fn new(d: &Detection, a: &Animal, is_new: bool) -> Self {
        DetectedAnimal {
            animal_id: a.id,
            id: a.id,
            is_new,
            confidence: d.confidence,
            scientific_name: d.scientific_name.clone(),
            common_name: d.common_name.clone(),
            creation_index: a.creation_index,
            kingdom: a.kingdom.clone(),
            phylum: a.phylum.clone(),
            class: a.class_name.clone(),
            order: a.order_name.clone(),
            family: a.family.clone(),
            genus: a.genus.clone(),
            species: a.species.clone(),
            subspecies: a.subspecies.clone(),
            verified: a.verified,
            description: a.description.clone(),
            habitat: a.habitat.clone(),
            conservation_status: a.conservation_status.clone(),
        }
    }
}

/// Per-user counts and totals (one query).
#[derive(Debug, Clone, QueryableByName)]
pub struct JobStats {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub total_jobs: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub pending: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub processing: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub completed: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub failed: i64,
    #[diesel(sql_type = diesel::sql_types::Double)]
    pub total_cost_usd: f64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Double>)]
    pub avg_processing_time: Option<f64>,
}

fn secs(d: Duration) -> f64 {
    // Intervals are bound as fractional seconds.
    d.as_secs_f64()
}

impl AnalysisJob {
    /// Inserts a job (pending, or failed at once with `failed_with`).
    pub async fn insert(conn: &mut AsyncPgConnection, new: &NewJob) -> QueryResult<AnalysisJob> {
        let failed = new.failed_with.is_some();
        diesel::insert_into(analysis_jobs::table)
            .values((
                analysis_jobs::user_id.eq(new.user_id),
                analysis_jobs::source_conversion_id.eq(new.source_conversion_id),
                analysis_jobs::image_id.eq(new.image_id),
                analysis_jobs::image_token.eq(super::dex::new_image_token()),
                analysis_jobs::image_conversion_status.eq(new.image_conversion_status),
                analysis_jobs::post_conversion_transformations
                    .eq(&new.post_conversion_transformations),
                analysis_jobs::cv_method.eq(&new.cv_method),
                analysis_jobs::model_name.eq(&new.model_name),
                analysis_jobs::detail_level.eq(&new.detail_level),
                analysis_jobs::status.eq(if failed {
                    JobStatus::Failed
                } else {
                    JobStatus::Pending
                }),
                analysis_jobs::error_message.eq(new.failed_with.clone().unwrap_or_default()),
                failed.then(|| analysis_jobs::completed_at.eq(diesel::dsl::now)),
            ))
            .returning(AnalysisJob::as_returning())
            .get_result(conn)
            .await
    }

    /// Any job by id (the worker).
    pub async fn find(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
    ) -> QueryResult<Option<AnalysisJob>> {
        analysis_jobs::table
            .find(id)
            .select(AnalysisJob::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// A job of `owner`.
    pub async fn find_owned(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        owner: UserId,
    ) -> QueryResult<Option<AnalysisJob>> {
        analysis_jobs::table
            .find(id)
            .filter(analysis_jobs::user_id.eq(owner))
            .select(AnalysisJob::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// How many of `owner`'s jobs match.
    pub async fn count(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        state: Option<JobStatus>,
        method: Option<&str>,
    ) -> QueryResult<i64> {
        let mut q = analysis_jobs::table
            .filter(analysis_jobs::user_id.eq(owner))
            .count()
            .into_boxed();
        if let Some(s) = state {
            q = q.filter(analysis_jobs::status.eq(s));
        }
        if let Some(m) = method {
            q = q.filter(analysis_jobs::cv_method.eq(m.to_owned()));
        }
        q.get_result(conn).await
    }

    /// A page of `owner`'s jobs; `order` is (column, descending) with created_at or completed_at.
    pub async fn list(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        state: Option<JobStatus>,
        method: Option<&str>,
        order: (&str, bool),
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<AnalysisJob>> {
        let mut q = analysis_jobs::table
            .filter(analysis_jobs::user_id.eq(owner))
            .select(AnalysisJob::as_select())
            .into_boxed();
        if let Some(s) = state {
            q = q.filter(analysis_jobs::status.eq(s));
        }
        if let Some(m) = method {
            q = q.filter(analysis_jobs::cv_method.eq(m.to_owned()));
        }
        q = match order {
            ("completed_at", false) => q.order(analysis_jobs::completed_at.asc()),
            ("completed_at", true) => q.order(analysis_jobs::completed_at.desc()),
            ("created_at", false) => q.order(analysis_jobs::created_at.asc()),
            _ => q.order(analysis_jobs::created_at.desc()),
        };
        q.then_order_by(analysis_jobs::id)
            .offset(offset)
            .limit(limit)
            .load(conn)
            .await
    }

    /// Edits of the fields an owner may change (nothing is reprocessed).
    pub async fn update_settings(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        transformations: Option<Value>,
        detail_level: Option<String>,
        selected_animal_index: Option<Option<i32>>,
    ) -> QueryResult<AnalysisJob> {
        diesel::update(analysis_jobs::table.find(id))
            .set((
                transformations.map(|t| analysis_jobs::post_conversion_transformations.eq(t)),
                detail_level.map(|d| analysis_jobs::detail_level.eq(d)),
                selected_animal_index.map(|s| analysis_jobs::selected_animal_index.eq(s)),
                analysis_jobs::updated_at.eq(diesel::dsl::now),
            ))
            .returning(AnalysisJob::as_returning())
            .get_result(conn)
            .await
    }

    /// Deletes a job (entries made from it keep their images).
    pub async fn delete(conn: &mut AsyncPgConnection, id: AnalysisJobId) -> QueryResult<usize> {
        diesel::delete(analysis_jobs::table.find(id))
            .execute(conn)
            .await
    }

    /// Puts a failed job back to pending with a fresh retry budget.
    pub async fn reset_for_retry(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
    ) -> Result<AnalysisJob, Error> {
        diesel::update(
            analysis_jobs::table
                .find(id)
                .filter(analysis_jobs::status.eq(JobStatus::Failed)),
        )
        .set((
            analysis_jobs::status.eq(JobStatus::Pending),
            analysis_jobs::error_message.eq(""),
            analysis_jobs::retry_count.eq(0),
            analysis_jobs::next_retry_at.eq(None::<DateTime<Utc>>),
            analysis_jobs::locked_until.eq(None::<DateTime<Utc>>),
            analysis_jobs::completed_at.eq(None::<DateTime<Utc>>),
        ))
        .returning(AnalysisJob::as_returning())
        .get_result(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::Rule("Only failed jobs can be retried".to_owned()))
    }

    /// Records the owner's choice among the detections.
    pub async fn select(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        index: i32,
        animal: Option<AnimalId>,
    ) -> QueryResult<AnalysisJob> {
        diesel::update(analysis_jobs::table.find(id))
            .set((
                analysis_jobs::selected_animal_index.eq(Some(index)),
                animal.map(|a| analysis_jobs::identified_animal_id.eq(Some(a))),
            ))
            .returning(AnalysisJob::as_returning())
            .get_result(conn)
            .await
    }

    /// Counts per status and cost/time totals of `owner`'s jobs, in SQL.
    pub async fn stats(conn: &mut AsyncPgConnection, owner: UserId) -> QueryResult<JobStats> {
        diesel::sql_query(
            "SELECT count(*) AS total_jobs, \
                    count(*) FILTER (WHERE status = 'pending') AS pending, \
                    count(*) FILTER (WHERE status = 'processing') AS processing, \
                    count(*) FILTER (WHERE status = 'completed') AS completed, \
                    count(*) FILTER (WHERE status = 'failed') AS failed, \
                    COALESCE(sum(cost_usd), 0)::float8 AS total_cost_usd, \
                    avg(processing_time)::float8 AS avg_processing_time \
             FROM analysis_jobs WHERE user_id = $1",
        )
        .bind::<diesel::sql_types::Uuid, _>(owner)
        .get_result(conn)
        .await
    }

    /// Takes the job for processing under a lease. `None` when it is finished, leased by
    /// another worker, or waiting for its retry time: the caller then does nothing.
    pub async fn claim(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        lease: Duration,
    ) -> QueryResult<Option<AnalysisJob>> {
        let until = Utc::now() + chrono::Duration::from_std(lease).unwrap_or_default();
        // One conditional UPDATE: of two racing workers only one gets the row back.
        diesel::update(
            analysis_jobs::table
                .find(id)
                .filter(analysis_jobs::status.eq_any([JobStatus::Pending, JobStatus::Processing]))
                .filter(
                    analysis_jobs::locked_until
                        .is_null()
                        .or(analysis_jobs::locked_until.lt(diesel::dsl::now)),
                )
                .filter(
                    analysis_jobs::next_retry_at
                        .is_null()
                        .or(analysis_jobs::next_retry_at.le(diesel::dsl::now)),
                ),
        )
        .set((
            analysis_jobs::status.eq(JobStatus::Processing),
            analysis_jobs::started_at.eq(diesel::dsl::now),
            analysis_jobs::locked_until.eq(Some(until)),
            analysis_jobs::next_retry_at.eq(None::<DateTime<Utc>>),
            analysis_jobs::lease_id.eq(Some(Uuid::new_v4())),
        ))
        .returning(AnalysisJob::as_returning())
        .get_result(conn)
        .await
        .optional()
    }

    /// Counts a provider call against the job's limit, if `lease` still holds the job.
    pub async fn count_call(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        lease: Uuid,
    ) -> QueryResult<CallSlot> {
        let counted = diesel::update(
            analysis_jobs::table
                .find(id)
                .filter(analysis_jobs::lease_id.eq(lease))
                .filter(analysis_jobs::provider_calls.lt(MAX_PROVIDER_CALLS)),
        )
        .set(analysis_jobs::provider_calls.eq(analysis_jobs::provider_calls + 1))
        .execute(conn)
        .await?;
        if counted == 1 {
            return Ok(CallSlot::Granted);
        }
        let holder: Option<Option<Uuid>> = analysis_jobs::table
            .find(id)
            .select(analysis_jobs::lease_id)
            .first(conn)
            .await
            .optional()?;
        Ok(if holder == Some(Some(lease)) {
            CallSlot::Exhausted
        } else {
            CallSlot::LeaseLost
        })
    }

    /// Records what an answered provider call cost (the daily budget counts every call).
    pub async fn record_spend(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        cost_usd: f64,
    ) -> QueryResult<usize> {
        use crate::schema::vision_spend;
        diesel::insert_into(vision_spend::table)
            .values((
                vision_spend::job_id.eq(Some(id)),
                vision_spend::cost_usd.eq(cost_usd),
            ))
            .execute(conn)
            .await
    }

    /// Records a successful analysis; `None` (nothing written) when `lease` no longer holds
    /// the job.
    pub async fn complete(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        lease: Uuid,
        r: &JobResult,
    ) -> QueryResult<Option<AnalysisJob>> {
        let detected = serde_json::to_value(&r.detected_animals)
            .map_err(|e| diesel::result::Error::SerializationError(e.into()))?;
        diesel::update(leased!(id, lease))
            .set((
                analysis_jobs::status.eq(JobStatus::Completed),
                analysis_jobs::completed_at.eq(diesel::dsl::now),
                analysis_jobs::locked_until.eq(None::<DateTime<Utc>>),
                analysis_jobs::next_retry_at.eq(None::<DateTime<Utc>>),
                analysis_jobs::error_message.eq(""),
                analysis_jobs::parsed_prediction.eq(&r.parsed_prediction),
                analysis_jobs::detected_animals.eq(&detected),
                analysis_jobs::identified_animal_id.eq(r.identified_animal_id),
                analysis_jobs::confidence_score.eq(r.confidence_score),
                analysis_jobs::cost_usd.eq(Some(r.cost_usd)),
                analysis_jobs::processing_time.eq(Some(r.processing_time)),
                analysis_jobs::input_tokens.eq(Some(r.input_tokens)),
                analysis_jobs::output_tokens.eq(Some(r.output_tokens)),
                analysis_jobs::raw_response.eq(Some(&r.raw_response)),
            ))
            .returning(AnalysisJob::as_returning())
            .get_result(conn)
            .await
            .optional()
    }

    /// Fails the job with a message the owner sees; `None` when `lease` no longer holds it.
    /// Not a retry: `retry_count` stays.
    pub async fn fail(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        lease: Uuid,
        message: &str,
    ) -> QueryResult<Option<AnalysisJob>> {
        diesel::update(leased!(id, lease))
            .set((
                analysis_jobs::status.eq(JobStatus::Failed),
                analysis_jobs::error_message.eq(message),
                analysis_jobs::completed_at.eq(diesel::dsl::now),
                analysis_jobs::locked_until.eq(None::<DateTime<Utc>>),
                analysis_jobs::next_retry_at.eq(None::<DateTime<Utc>>),
            ))
            .returning(AnalysisJob::as_returning())
            .get_result(conn)
            .await
            .optional()
    }

    /// A transient failure: the job stays `processing` (the client keeps polling), counts the
    /// retry and waits until `at`; `None` when `lease` no longer holds it.
    pub async fn schedule_retry(
        conn: &mut AsyncPgConnection,
        id: AnalysisJobId,
        lease: Uuid,
        at: DateTime<Utc>,
        message: &str,
    ) -> QueryResult<Option<AnalysisJob>> {
        diesel::update(leased!(id, lease))
            .set((
                analysis_jobs::next_retry_at.eq(Some(at)),
                // The lease lasts until the retry time so the reaper leaves it alone meanwhile.
                analysis_jobs::locked_until.eq(Some(at)),
                analysis_jobs::error_message.eq(message),
                analysis_jobs::retry_count.eq(analysis_jobs::retry_count + 1),
            ))
            .returning(AnalysisJob::as_returning())
            .get_result(conn)
            .await
            .optional()
    }

    /// Jobs to (re-)enqueue: pending ones older than `pending_grace` with no lease, and
    /// processing ones whose lease (or retry wait) has passed.
    pub async fn reapable(
        conn: &mut AsyncPgConnection,
        pending_grace: Duration,
        limit: i64,
    ) -> QueryResult<Vec<AnalysisJobId>> {
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: AnalysisJobId,
        }
        let rows: Vec<Id> = diesel::sql_query(
            "SELECT id FROM analysis_jobs \
             WHERE (status = 'pending' AND created_at < now() - make_interval(secs => $1) \
                    AND (locked_until IS NULL OR locked_until < now())) \
                OR (status = 'processing' AND locked_until < now()) \
             ORDER BY created_at LIMIT $2",
        )
        .bind::<diesel::sql_types::Double, _>(secs(pending_grace))
        .bind::<diesel::sql_types::BigInt, _>(limit)
        .load(conn)
        .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// USD spent on vision today (UTC): every answered provider call, whatever became of its
    /// job.
    pub async fn spent_today(conn: &mut AsyncPgConnection) -> QueryResult<f64> {
        use crate::schema::vision_spend;
        let sum: Option<f64> = vision_spend::table
            .filter(
                vision_spend::called_at.ge(diesel::dsl::sql::<diesel::sql_types::Timestamptz>(
                    "date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
                )),
            )
            .select(diesel::dsl::sum(vision_spend::cost_usd))
            .first(conn)
            .await?;
        Ok(sum.unwrap_or(0.0))
    }

    /// The message a new job fails with when today's spend has reached `budget` (`None`: no
    /// cap); checked when the job is created and again when a worker takes it
    /// (docs/decisions.md#d13).
    pub async fn budget_spent(
        conn: &mut AsyncPgConnection,
        budget: Option<f64>,
    ) -> QueryResult<Option<&'static str>> {
        let Some(budget) = budget else {
            return Ok(None);
        };
        Ok((Self::spent_today(conn).await? >= budget).then_some(BUDGET_SPENT))
    }

    /// Deletes finished jobs older than `before` that no dex entry was made from (their
    /// images go with the stored-image cleanup when nothing else uses them).
    pub async fn delete_finished_unreferenced(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "DELETE FROM analysis_jobs j WHERE j.status IN ('completed', 'failed') AND j.completed_at < $1 \
               AND NOT EXISTS (SELECT 1 FROM dex_entries d WHERE d.source_vision_job_id = j.id)",
        )
        .bind::<diesel::sql_types::Timestamptz, _>(before)
        .execute(conn)
        .await
    }
}

/// The image of `owner`'s job `job_id` as (stored image id, checksum), if the job is theirs
/// and has one.
pub async fn image_of_owned_job(
    conn: &mut AsyncPgConnection,
    job_id: AnalysisJobId,
    owner: UserId,
) -> QueryResult<Option<(StoredImageId, String)>> {
    analysis_jobs::table
        .inner_join(stored_images::table)
        .filter(analysis_jobs::id.eq(job_id))
        .filter(analysis_jobs::user_id.eq(owner))
        .select((stored_images::id, stored_images::checksum))
        .first(conn)
        .await
        .optional()
}

/// Storage key and content type of a job's image.
pub async fn image_file(
    conn: &mut AsyncPgConnection,
    job_id: AnalysisJobId,
) -> QueryResult<Option<(String, String)>> {
    analysis_jobs::table
        .inner_join(stored_images::table)
        .filter(analysis_jobs::id.eq(job_id))
        .select((stored_images::storage_key, stored_images::content_type))
        .first(conn)
        .await
        .optional()
}

/// The image reachable through a job's capability token: (storage key, content type).
pub async fn image_by_token(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> QueryResult<Option<(String, String)>> {
    analysis_jobs::table
        .inner_join(stored_images::table)
        .filter(analysis_jobs::image_token.eq(token))
        .select((stored_images::storage_key, stored_images::content_type))
        .first(conn)
        .await
        .optional()
}
