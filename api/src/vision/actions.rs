//! Changing one's own jobs: edit settings, delete, retry, select an animal.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_db::models::vision::AnalysisJob;
use uuid::Uuid;

use super::{
    create::enqueue,
    dto::AnalysisJobResponse,
    read,
    schema::{self, SelectAnimalRequest, UpdateAnalysisJobRequest},
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    docs::schemas::RuleError,
    request::{Optional, from_fields, object},
    state::AppState,
};

/// Edits a job's `post_conversion_transformations`, `detail_level` and
/// `selected_animal_index` (PUT and PATCH alike, every field optional). The source conversion
/// cannot be changed (the old server let it point at anyone's conversion). Nothing is
/// reprocessed.
#[utoipa::path(
    method(put, patch), path = "/api/v1/vision/jobs/{pk}/", tag = "vision",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The job's id.")),
    request_body = UpdateAnalysisJobRequest,
    responses((status = 200, body = AnalysisJobResponse))
)]
pub async fn update_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let j = read::load(&state, &me, &pk).await?;
    let body: UpdateAnalysisJobRequest = from_fields(object(body.into_inner())?)?;
    let transformations = body.post_conversion_transformations.into_json();
    let detail = body.detail_level.into_inner().map(|d| d.0);
    let selected = body.selected_animal_index.into_option();
    let mut conn = state.db.get().await?;
    let updated =
        AnalysisJob::update_settings(&mut conn, j.id, transformations, detail, selected).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(read::render(&state, &req, &updated).await?))
}

/// Deletes a job; dex entries made from it keep their images.
#[utoipa::path(
    delete, path = "/api/v1/vision/jobs/{pk}/", tag = "vision",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The job's id.")),
    responses((status = 204, description = "Deleted."))
)]
pub async fn delete_job(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let j = read::load(&state, &me, &pk).await?;
    let mut conn = state.db.get().await?;
    AnalysisJob::delete(&mut conn, j.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Retries a failed job: it goes back to pending with a fresh retry budget and is enqueued
/// again. The request body is ignored.
#[utoipa::path(
    post, path = "/api/v1/vision/jobs/{pk}/retry/", tag = "vision",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The job's id.")),
    responses(
        (status = 200, body = AnalysisJobResponse),
        (status = 400, description = "The job is not `failed`.", body = RuleError),
    )
)]
pub async fn retry_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let j = read::load(&state, &me, &pk).await?;
    let mut conn = state.db.get().await?;
    let job = AnalysisJob::reset_for_retry(&mut conn, j.id).await?;
    drop(conn);
    enqueue(&state, job.id).await;
    Ok(HttpResponse::Ok().json(read::render(&state, &req, &job).await?))
}

/// Chooses one of the job's detections, by `animal_index` or `animal_id` (`0.0` counts as
/// `0`): sets `selected_animal_index` and `identified_animal`.
#[utoipa::path(
    post, path = "/api/v1/vision/jobs/{pk}/select_animal/", tag = "vision",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The job's id.")),
    request_body = SelectAnimalRequest,
    responses(
        (status = 200, body = AnalysisJobResponse),
        (status = 400, description = "No animals were detected, neither field was given, or \
            `animal_index` is out of range (a rule error); or a malformed body (field errors).",
            body = schema::SelectAnimalError),
        (status = 404, description = "No such job, or `animal_id` is not among the detections \
            (then `error` repeats `detail`).", body = crate::docs::schemas::Detail),
    )
)]
pub async fn select_animal(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let j = read::load(&state, &me, &pk).await?;
    let detections = j.detected_animals.as_array().cloned().unwrap_or_default();
    if detections.is_empty() {
        return Err(ApiError::rule("No animals detected in this job"));
    }
    let SelectAnimalRequest {
        animal_index: Optional(index),
        animal_id: Optional(animal_id),
    } = from_fields(object(body.into_inner())?)?;
    let index = match (index, animal_id) {
        (Some(i), _) => usize::try_from(i)
            .ok()
            .filter(|i| *i < detections.len())
            .ok_or_else(|| {
                ApiError::rule(format!(
                    "Invalid animal_index. Must be 0-{}",
                    detections.len() - 1
                ))
            })?,
        (None, Some(id)) => detections
            .iter()
            .position(|d| d["animal_id"].as_str() == Some(id.to_string().as_str()))
            .ok_or_else(|| {
                ApiError(biologidex_core::Error::NotFoundBecause(
                    "Animal ID not found in detected animals".to_owned(),
                ))
            })?,
        (None, None) => {
            return Err(ApiError::rule(
                "Either animal_index or animal_id must be provided",
            ));
        }
    };
    let animal = detections[index]["animal_id"]
        .as_str()
        .and_then(|s| Uuid::try_parse(s).ok().map(biologidex_core::ids::AnimalId));
    let mut conn = state.db.get().await?;
    let job =
        AnalysisJob::select(&mut conn, j.id, i32::try_from(index).unwrap_or(0), animal).await?;
    drop(conn);
    Ok(HttpResponse::Ok().json(read::render(&state, &req, &job).await?))
}
