//! `POST /vision/jobs/` from a conversion (`conversion_id`) or a direct `image` upload.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::config::Settings;
use biologidex_core::ids::{AnalysisJobId, ImageConversionId, UserId};
use biologidex_core::jobs::ProcessAnalysis;
use biologidex_db::models::{
    conversions::Conversion,
    images,
    vision::{AnalysisJob, NewJob},
};
use biologidex_media::images::Edits;
use biologidex_media::images::convert;
use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use serde_json::{Value, json};

use super::{
    dto::AnalysisJobResponse,
    schema::{self, CreateAnalysisJobRequest},
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    media::MediaUrls,
    request::{from_fields, object},
    state::AppState,
    upload,
};

/// `analysis_jobs.detail_level` is `varchar(20)`.
pub const DETAIL_LEVEL_MAX: usize = 20;

/// Where the job's image comes from.
enum Source {
    Conversion(Box<Conversion>),
    Upload(images::ImageBlob),
}

/// Creates a job from a conversion (`conversion_id`) or a direct `image` upload; it is
/// committed `pending` and then enqueued (a failed push is recovered by the reaper). Past the
/// daily budget the job is created `failed` at once with a clear `error_message`.
#[utoipa::path(
    post, path = "/api/v1/vision/jobs/", tag = "vision",
    security(("jwt" = [])),
    request_body(content(
        (schema::CreateAnalysisJobRequest = "application/json"),
        (schema::CreateAnalysisJobForm = "multipart/form-data"),
    )),
    responses((status = 201, body = AnalysisJobResponse))
)]
pub async fn create_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let settings = &state.settings;
    let input = upload::read(
        &req,
        payload,
        "image",
        settings.max_upload_size_mb * 1024 * 1024,
    )
    .await?;
    let body: CreateAnalysisJobRequest = from_fields(object(input.fields)?)?;
    let conversion_id = body.conversion_id.0.map(ImageConversionId::from);
    let (job, edits) = JobSettings::of(body, settings)?;
    let mut conn = state.db.get().await?;
    let source = source(&mut conn, me.id, conversion_id, input.file, edits).await?;
    let over_budget =
        AnalysisJob::budget_spent(&mut conn, settings.vision_daily_budget_usd).await?;
    let created = insert(&state, &mut conn, me.id, source, job, over_budget).await?;
    tracing::info!(analysis_job.id = %created.id, user.id = %me.id, status = %created.status, "vision job created");
    if over_budget.is_none() {
        enqueue(&state, created.id).await;
    }
    Ok(HttpResponse::Created().json(AnalysisJobResponse::new(
        &created,
        None,
        &MediaUrls::new(&req, &state.settings),
    )))
}

/// What the client chose for the job, with the server's defaults filled in.
struct JobSettings {
    post: Value,
    method: String,
    model: String,
    detail: String,
}

impl JobSettings {
    /// The request's settings and the edits of a direct upload; a model the server does not
    /// allow is a field error.
    fn of(body: CreateAnalysisJobRequest, settings: &Settings) -> ApiResult<(Self, Edits)> {
        let post = body
            .post_conversion_transformations
            .into_option()
            .flatten()
            .map_or_else(|| json!({}), |t| t.0);
        let edits = body
            .transformations
            .into_option()
            .flatten()
            .map(|e| e.0)
            .unwrap_or_default();
        let model = body
            .model_name
            .into_inner()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| settings.openai_model.clone());
        if !settings.openai_allowed_models.contains(&model) {
            return Err(ApiError::field(
                "model_name",
                format!(
                    "Model \"{model}\" is not allowed. Allowed: {}.",
                    settings.openai_allowed_models.join(", ")
                ),
            ));
        }
        let detail = body
            .detail_level
            .into_inner()
            .map(|d| d.0)
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "auto".to_owned());
        let method = body.cv_method.into_inner().unwrap_or_default();
        let job = JobSettings {
            post,
            method: method.name().to_owned(),
            model,
            detail,
        };
        Ok((job, edits))
    }
}

/// The job's image: the caller's unexpired conversion, or the uploaded file converted.
async fn source(
    conn: &mut AsyncPgConnection,
    me: UserId,
    conversion_id: Option<ImageConversionId>,
    file: Option<upload::Upload>,
    edits: Edits,
) -> ApiResult<Source> {
    match (conversion_id, file) {
        (Some(id), _) => {
            let c = Conversion::find_owned(conn, id, me)
                .await?
                .ok_or_else(|| ApiError::field("non_field_errors", NO_CONVERSION))?;
            if Utc::now() > c.expires_at {
                return Err(ApiError::field(
                    "non_field_errors",
                    "Image conversion has expired. Please upload again.",
                ));
            }
            Ok(Source::Conversion(Box::new(c)))
        }
        (None, Some(file)) => {
            let converted = biologidex_core::cpu::run(move || convert(&file.bytes, edits))
                .await?
                .map_err(|e| ApiError::field("image", e.to_string()))?;
            Ok(Source::Upload(converted.image))
        }
        (None, None) => Err(ApiError::field(
            "non_field_errors",
            "Either conversion_id or image must be provided",
        )),
    }
}

const NO_CONVERSION: &str = "Invalid conversion_id or conversion not found";

/// Records the job (and a direct upload's image) in one transaction.
async fn insert(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    me: UserId,
    source: Source,
    job: JobSettings,
    over_budget: Option<&'static str>,
) -> ApiResult<AnalysisJob> {
    let storage = state.storage.clone();
    conn.transaction::<_, ApiError, _>(async |conn| {
        let (conversion, image, conversion_status) = match &source {
            Source::Conversion(c) => {
                Conversion::mark_used(conn, c.id).await?;
                let image = c
                    .converted_image_id
                    .ok_or_else(|| ApiError::field("non_field_errors", NO_CONVERSION))?;
                (Some(c.id), image, "completed")
            }
            Source::Upload(blob) => (
                None,
                images::store(conn, storage.as_ref(), blob).await?,
                "unnecessary",
            ),
        };
        Ok(AnalysisJob::insert(
            conn,
            &NewJob {
                user_id: me,
                source_conversion_id: conversion,
                image_id: image,
                image_conversion_status: conversion_status,
                post_conversion_transformations: job.post,
                cv_method: job.method,
                model_name: job.model,
                detail_level: job.detail,
                failed_with: over_budget.map(str::to_owned),
            },
        )
        .await?)
    })
    .await
}

/// Pushes a committed job; a failure is left to the reaper.
pub async fn enqueue(state: &AppState, id: AnalysisJobId) {
    if let Err(e) = state
        .jobs
        .push(ProcessAnalysis {
            analysis_job_id: id,
        })
        .await
    {
        state
            .metrics
            .redis_failures
            .with_label_values(&["enqueue"])
            .inc();
        tracing::warn!(analysis_job.id = %id, error = %e, "enqueue failed; the reaper will pick the job up");
    }
}
