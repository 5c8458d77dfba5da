//! The vision routes' request bodies and job list query: what their handlers parse (through
//! `crate::request`) and what the OpenAPI document shows. The multipart form of `create` is
//! described separately: its text parts are parsed as [`CreateAnalysisJobRequest`], its
//! `image` part is the file.

use biologidex_db::models::vision::JobStatus;
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::create::DETAIL_LEVEL_MAX;
use crate::{
    docs::schemas::{FieldErrors, RuleError},
    images::parse_edits,
    request::{
        Chars, FieldValue, Nullable, Optional, Param, RawText, Refusal, choice, filter_choice,
    },
};
use biologidex_media::images::Edits;

/// A new job from a conversion (`POST /api/v1/images/convert/`), as JSON. Either
/// `conversion_id` or, in a multipart body, `image` is required.
#[derive(Deserialize, ToSchema)]
pub struct CreateAnalysisJobRequest {
    /// One of the caller's unexpired conversions (a used one may be used again).
    #[schema(value_type = Option<Uuid>, required = false)]
    pub conversion_id: Optional<Uuid>,
    /// Stored with the job as given (e.g. `{"rotation": 90}`), never applied; an object or a
    /// JSON string. Default `{}`.
    #[schema(value_type = Option<Object>, required = false)]
    pub post_conversion_transformations: Nullable<JsonText>,
    /// Edits applied to a directly uploaded `image` before analysis (ignored with a
    /// conversion): `{"rotation": 0|90|180|270, "crop": {"x", "y", "width", "height"}}`, an
    /// object or a JSON string.
    #[schema(value_type = Option<Object>, required = false)]
    pub transformations: Nullable<ImageEdits>,
    /// `openai` (the default and only method).
    #[schema(value_type = Option<String>, required = false, example = "openai")]
    pub cv_method: Optional<CvMethod>,
    /// One of the server's allowed models (`OPENAI_ALLOWED_MODELS`); default the server's
    /// model (`OPENAI_MODEL`).
    #[schema(value_type = Option<String>, required = false)]
    pub model_name: Optional<String>,
    /// Image detail sent to the model, at most 20 characters; default `auto`.
    #[schema(value_type = Option<String>, required = false, max_length = 20, example = "auto")]
    pub detail_level: Optional<Chars<DETAIL_LEVEL_MAX>>,
}

/// A JSON value, or a string holding JSON text (multipart parts are always strings).
#[derive(Debug, Clone, Default)]
pub struct JsonText(pub Value);

impl FieldValue for JsonText {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match value {
            Value::String(s) => serde_json::from_str(&s)
                .map(JsonText)
                .map_err(|_| vec!["Value must be valid JSON.".to_owned()]),
            other => Ok(JsonText(other)),
        }
    }
}

/// The edits of a directly uploaded image (`transformations`), checked as they are read.
#[derive(Debug, Clone, Default)]
pub struct ImageEdits(pub Edits);

impl FieldValue for ImageEdits {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        parse_edits(Some(value))
            .map(|(edits, _)| ImageEdits(edits))
            .map_err(|m| vec![m])
    }
}

/// The recognition method; only `openai` exists.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CvMethod {
    #[default]
    Openai,
}

impl CvMethod {
    /// The stored name.
    pub fn name(self) -> &'static str {
        match self {
            CvMethod::Openai => "openai",
        }
    }
}

impl FieldValue for CvMethod {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        choice(value)
    }
}

/// A new job from a direct image upload (the legacy path), as a multipart form. Text fields
/// are strings; the JSON ones carry JSON text.
#[derive(ToSchema)]
pub struct CreateAnalysisJobForm {
    /// The photo (JPEG, PNG...; at most `MAX_UPLOAD_SIZE_MB`). It is converted to PNG, with
    /// EXIF orientation and `transformations` applied. Required unless `conversion_id` is given.
    #[schema(value_type = Option<String>, format = Binary)]
    pub image: Option<String>,
    /// One of the caller's unexpired conversions, instead of `image`.
    pub conversion_id: Option<Uuid>,
    /// JSON text of an object stored with the job, never applied.
    pub post_conversion_transformations: Option<String>,
    /// JSON text: `{"rotation": 0|90|180|270, "crop": {"x", "y", "width", "height"}}`,
    /// applied to `image`.
    pub transformations: Option<String>,
    /// `openai` (the default and only method).
    pub cv_method: Option<String>,
    /// One of the server's allowed models; default the server's model.
    pub model_name: Option<String>,
    /// At most 20 characters; default `auto`.
    #[schema(max_length = 20)]
    pub detail_level: Option<String>,
}

/// The settings an owner may change; every field is optional (PUT and PATCH alike). Nothing
/// is reprocessed.
#[derive(Deserialize, ToSchema)]
pub struct UpdateAnalysisJobRequest {
    /// Replaces the stored object (never applied).
    #[schema(value_type = Option<Object>, required = false)]
    pub post_conversion_transformations: Nullable<Value>,
    /// At most 20 characters.
    #[schema(value_type = String, required = false, max_length = 20)]
    pub detail_level: Optional<Chars<DETAIL_LEVEL_MAX>>,
    /// Index into `detected_animals`, or null to clear it (not checked against them; use
    /// `select_animal` to also change `identified_animal`).
    #[schema(value_type = Option<i32>, required = false)]
    pub selected_animal_index: Nullable<i32>,
}

/// The detection the owner chooses: by index or by animal id (the index wins when both are
/// given).
#[derive(Deserialize, ToSchema)]
pub struct SelectAnimalRequest {
    /// Index into `detected_animals` (`0.0` is accepted as `0`).
    #[schema(value_type = i64, required = false, minimum = 0)]
    pub animal_index: Optional<i64>,
    /// The `animal_id` of one of the detections.
    #[schema(value_type = Uuid, required = false)]
    pub animal_id: Optional<Uuid>,
}

/// A 400 of `select_animal`: a broken rule, or field errors for a malformed body.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum SelectAnimalError {
    Rule(RuleError),
    Fields(FieldErrors),
}

/// A job state as a list filter (django-filter's message for another value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusFilter(pub JobStatus);

impl Default for StatusFilter {
    fn default() -> Self {
        StatusFilter(JobStatus::Pending)
    }
}

impl FieldValue for StatusFilter {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        filter_choice(value, JobStatus::parse).map(StatusFilter)
    }
}

/// The job list's filters and ordering (`page` is read by the pagination).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobListQuery {
    /// Only jobs in this state: `pending`, `processing`, `completed` or `failed`.
    #[param(value_type = Option<String>)]
    pub status: Param<StatusFilter>,
    /// Only jobs of this method (`openai`).
    #[param(value_type = Option<String>)]
    pub cv_method: Param<RawText>,
    /// `created_at` or `completed_at`, `-` first for descending; default `-created_at`.
    #[param(value_type = Option<String>)]
    pub ordering: Param<RawText>,
}

impl JobListQuery {
    /// The state filter, the method filter and the (first valid) ordering column.
    pub fn parts(&self) -> (Option<JobStatus>, Option<&str>, (&str, bool)) {
        let raw = self.ordering.0.as_ref().map(|t| t.0.clone());
        let order = crate::animals::read::ordering(raw.as_ref(), &["created_at", "completed_at"]);
        let order = match order.first() {
            Some((c, d)) if c == "completed_at" => ("completed_at", *d),
            Some((_, d)) => ("created_at", *d),
            None => ("created_at", true),
        };
        (
            self.status.0.map(|s| s.0),
            self.cv_method.0.as_ref().map(|m| m.0.as_str()),
            order,
        )
    }
}
