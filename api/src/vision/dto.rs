//! Job response shapes (DRF's `AnalysisJobSerializer` and list serializer). `cost_usd` is a
//! six-decimal string; `conversion_id` is omitted when there is no conversion.
//!
//! Fields are declared in alphabetical order: that is the order the responses have always
//! had on the wire (they were built as `serde_json` maps, which sort their keys).

use biologidex_core::ids::{AnalysisJobId, AnimalId, ImageConversionId, UserId};
use biologidex_db::models::{
    animals::Animal,
    vision::{AnalysisJob, JobStats, JobStatus},
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::{
    json::{ser_datetime, ser_opt_datetime},
    media::{MediaUrls, kind},
};

fn cost(v: Option<f64>) -> Option<String> {
    v.map(|c| format!("{c:.6}"))
}

/// The fields of an animal a job shows (what the camera reads: id, creation_index, names).
#[derive(Serialize, utoipa::ToSchema)]
pub struct JobAnimalDetails {
    /// Taxonomic class.
    class: String,
    common_name: String,
    /// IUCN code (`LC`, `EN`...) or empty.
    conservation_status: String,
    /// The animal's number in the order animals were first recorded (the dex number).
    creation_index: i32,
    description: String,
    family: String,
    genus: String,
    habitat: String,
    #[schema(value_type = Uuid)]
    id: AnimalId,
    kingdom: String,
    /// Taxonomic order.
    order: String,
    phylum: String,
    scientific_name: String,
    species: String,
    subspecies: String,
    /// Checked against the Catalogue of Life.
    verified: bool,
}

impl JobAnimalDetails {
    fn new(a: &Animal) -> Self {
        JobAnimalDetails {
            class: a.class_name.clone(),
            common_name: a.common_name.clone(),
            conservation_status: a.conservation_status.clone(),
            creation_index: a.creation_index,
            description: a.description.clone(),
            family: a.family.clone(),
            genus: a.genus.clone(),
            habitat: a.habitat.clone(),
            id: a.id,
            kingdom: a.kingdom.clone(),
            order: a.order_name.clone(),
            phylum: a.phylum.clone(),
            scientific_name: a.scientific_name.clone(),
            species: a.species.clone(),
            subspecies: a.subspecies.clone(),
            verified: a.verified,
        }
    }
}

/// A vision job in full, for its owner (the client polls this until `status` is `completed`
/// or `failed`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalysisJobResponse {
    /// The identified animal (`identified_animal`), or null.
    animal_details: Option<JobAnimalDetails>,
    #[serde(serialize_with = "ser_opt_datetime")]
    completed_at: Option<DateTime<Utc>>,
    /// The first detection's confidence (0 to 1), or null.
    confidence_score: Option<f64>,
    /// The source conversion; the key is absent when the job has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Uuid>, nullable = false)]
    conversion_id: Option<ImageConversionId>,
    /// Total cost of the model call in US dollars, a string with six decimals, or null.
    cost_usd: Option<String>,
    #[serde(serialize_with = "ser_datetime")]
    created_at: DateTime<Utc>,
    /// `openai`.
    cv_method: String,
    /// Image detail sent to the model (default `auto`).
    detail_level: String,
    /// Every animal the model saw, most prominent first.
    /// Served as stored (rows imported from the old server keep their shape).
    #[schema(value_type = Vec<biologidex_db::models::vision::DetectedAnimal>)]
    detected_animals: Value,
    /// Capability URL of the job's PNG (no token needed), or null.
    dex_compatible_url: Option<String>,
    /// Seconds from creation to completion, or null while unfinished.
    duration: Option<f64>,
    /// Why the job failed; empty otherwise.
    error_message: String,
    #[schema(value_type = Uuid)]
    id: AnalysisJobId,
    /// The first detected animal, or the one chosen with `select_animal`.
    #[schema(value_type = Option<Uuid>)]
    identified_animal: Option<AnimalId>,
    /// The same URL as `dex_compatible_url` for a direct upload that needed no conversion;
    /// null otherwise.
    image: Option<String>,
    /// `completed` (from a conversion) or `unnecessary` (a direct upload).
    image_conversion_status: String,
    input_tokens: Option<i32>,
    model_name: String,
    /// When a transient provider error is retried next, or null.
    #[serde(serialize_with = "ser_opt_datetime")]
    next_retry_at: Option<DateTime<Utc>>,
    output_tokens: Option<i32>,
    /// The model's raw answer.
    parsed_prediction: String,
    /// Stored as given by the client, never applied by the server.
    #[schema(value_type = Object)]
    post_conversion_transformations: Value,
    /// Seconds the model call took, or null.
    processing_time: Option<f64>,
    /// Provider attempts that failed transiently.
    retry_count: i32,
    /// Index into `detected_animals` chosen by the owner, or null.
    selected_animal_index: Option<i32>,
    /// The source conversion's id, or null.
    #[schema(value_type = Option<Uuid>)]
    source_conversion: Option<ImageConversionId>,
    #[serde(serialize_with = "ser_opt_datetime")]
    started_at: Option<DateTime<Utc>>,
    /// `pending`, `processing`, `completed` or `failed`.
    status: JobStatus,
    /// The owner's id.
    #[schema(value_type = Uuid)]
    user: UserId,
}

impl AnalysisJobResponse {
    /// A job in full, with its identified animal when it has one.
    pub fn new(j: &AnalysisJob, animal: Option<&Animal>, urls: &MediaUrls) -> Self {
        let url = urls.capability(kind::JOB, j.image_token.as_deref());
        let direct = j.source_conversion_id.is_none() && j.image_conversion_status != "completed";
        let duration = j
            .completed_at
            .map(|c| (c - j.created_at).num_microseconds().unwrap_or(0) as f64 / 1e6);
        AnalysisJobResponse {
            animal_details: animal.map(JobAnimalDetails::new),
            completed_at: j.completed_at,
            confidence_score: j.confidence_score,
            conversion_id: j.source_conversion_id,
            cost_usd: cost(j.cost_usd),
            created_at: j.created_at,
            cv_method: j.cv_method.clone(),
            detail_level: j.detail_level.clone(),
            detected_animals: j.detected_animals.clone(),
            dex_compatible_url: url.clone(),
            duration,
            error_message: j.error_message.clone(),
            id: j.id,
            identified_animal: j.identified_animal_id,
            image: if direct { url } else { None },
            image_conversion_status: j.image_conversion_status.clone(),
            input_tokens: j.input_tokens,
            model_name: j.model_name.clone(),
            next_retry_at: j.next_retry_at,
            output_tokens: j.output_tokens,
            parsed_prediction: j.parsed_prediction.clone(),
            post_conversion_transformations: j.post_conversion_transformations.clone(),
            processing_time: j.processing_time,
            retry_count: j.retry_count,
            selected_animal_index: j.selected_animal_index,
            source_conversion: j.source_conversion_id,
            started_at: j.started_at,
            status: j.status,
            user: j.user_id,
        }
    }
}

/// A job in lists.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalysisJobListItem {
    #[serde(serialize_with = "ser_opt_datetime")]
    completed_at: Option<DateTime<Utc>>,
    /// US dollars, a string with six decimals, or null.
    cost_usd: Option<String>,
    #[serde(serialize_with = "ser_datetime")]
    created_at: DateTime<Utc>,
    #[schema(value_type = Uuid)]
    id: AnalysisJobId,
    #[schema(value_type = Option<Uuid>)]
    identified_animal: Option<AnimalId>,
    /// The model's raw answer.
    parsed_prediction: String,
    /// `pending`, `processing`, `completed` or `failed`.
    status: JobStatus,
}

impl AnalysisJobListItem {
    pub fn new(j: &AnalysisJob) -> Self {
        AnalysisJobListItem {
            completed_at: j.completed_at,
            cost_usd: cost(j.cost_usd),
            created_at: j.created_at,
            id: j.id,
            identified_animal: j.identified_animal_id,
            parsed_prediction: j.parsed_prediction.clone(),
            status: j.status,
        }
    }
}

/// The caller's job counts per status and totals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnalysisJobStats {
    /// Mean `processing_time` in seconds, or null without any.
    avg_processing_time: Option<f64>,
    completed: i64,
    failed: i64,
    pending: i64,
    processing: i64,
    /// Sum of the jobs' costs in US dollars (a number).
    total_cost_usd: f64,
    total_jobs: i64,
}

impl From<JobStats> for AnalysisJobStats {
    fn from(s: JobStats) -> Self {
        AnalysisJobStats {
            avg_processing_time: s.avg_processing_time,
            completed: s.completed,
            failed: s.failed,
            pending: s.pending,
            processing: s.processing,
            total_cost_usd: s.total_cost_usd,
            total_jobs: s.total_jobs,
        }
    }
}
