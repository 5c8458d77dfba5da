//! Reading one's own jobs.

use biologidex_core::error::Missing;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use biologidex_db::models::{
    animals::Animal,
    vision::{self, AnalysisJob, JobStatus},
};

use super::{
    dto::{AnalysisJobListItem, AnalysisJobResponse, AnalysisJobStats},
    schema::JobListQuery,
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    docs::schemas::Detail,
    ids::path_uuid,
    media::MediaUrls,
    pagination::{Page, page_request},
    request::ValidQuery,
    state::AppState,
};

/// Bare-array lists are bounded (the old ones were not).
const MAX_ARRAY: i64 = 100;

/// A job of the caller.
pub async fn load(state: &AppState, me: &AuthUser, raw: &str) -> ApiResult<AnalysisJob> {
    let id = path_uuid(raw)?;
    let mut conn = state.db.get().await?;
    AnalysisJob::find_owned(&mut conn, id, me.id)
        .await?
        .ok_or(ApiError::not_found(Missing::AnalysisJob))
}

/// The full JSON of a job for its owner.
pub async fn render(
    state: &AppState,
    req: &HttpRequest,
    j: &AnalysisJob,
) -> ApiResult<AnalysisJobResponse> {
    let animal = match j.identified_animal_id {
        Some(a) => {
            let mut conn = state.db.get().await?;
            Animal::find(&mut conn, a).await?.map(|v| v.animal)
        }
        None => None,
    };
    Ok(AnalysisJobResponse::new(
        j,
        animal.as_ref(),
        &MediaUrls::new(req, &state.settings),
    ))
}

/// The owner's job, with its detections once completed (the client polls this).
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/{pk}/", tag = "vision",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The job's id.")),
    responses((status = 200, body = AnalysisJobResponse))
)]
pub async fn get_job(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let j = load(&state, &me, &pk).await?;
    Ok(HttpResponse::Ok().json(render(&state, &req, &j).await?))
}

async fn page(
    state: &AppState,
    req: &HttpRequest,
    me: &AuthUser,
    state_filter: Option<JobStatus>,
    method: Option<&str>,
    order: (&str, bool),
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let count = AnalysisJob::count(&mut conn, me.id, state_filter, method).await?;
    let at = page_request(req, count)?;
    let rows = AnalysisJob::list(
        &mut conn,
        me.id,
        state_filter,
        method,
        order,
        at.offset,
        at.limit,
    )
    .await?;
    let results: Vec<AnalysisJobListItem> = rows.iter().map(AnalysisJobListItem::new).collect();
    Ok(HttpResponse::Ok().json(Page::new(req, &state.settings, at, count, results)))
}

/// The caller's jobs, newest first (paginated); filters `status`, `cv_method`; `ordering`.
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/", tag = "vision",
    security(("jwt" = [])),
    params(
        JobListQuery,
        ("page" = Option<String>, Query, description = "Page number (50 per page), or `last`."),
    ),
    responses(
        (status = 200, body = Page<AnalysisJobListItem>),
        (status = 400, description = "Unknown `status`.", body = crate::docs::schemas::FieldErrors),
        (status = 404, description = "Invalid page.", body = Detail),
    )
)]
pub async fn list_jobs(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    params: ValidQuery<JobListQuery>,
) -> ApiResult<HttpResponse> {
    let query = params.into_inner();
    let (st, method, order) = query.parts();
    page(&state, &req, &me, st, method, order).await
}

async fn bare(state: &AppState, me: &AuthUser, which: JobStatus) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let rows = AnalysisJob::list(
        &mut conn,
        me.id,
        Some(which),
        None,
        ("created_at", true),
        0,
        MAX_ARRAY,
    )
    .await?;
    Ok(HttpResponse::Ok().json(
        rows.iter()
            .map(AnalysisJobListItem::new)
            .collect::<Vec<_>>(),
    ))
}

/// The caller's pending jobs, newest first (a bare array of at most 100).
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/pending/", tag = "vision",
    security(("jwt" = [])),
    responses((status = 200, body = Vec<AnalysisJobListItem>))
)]
pub async fn pending_jobs(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    bare(&state, &me, JobStatus::Pending).await
}

/// The caller's jobs being processed, newest first (a bare array of at most 100).
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/processing/", tag = "vision",
    security(("jwt" = [])),
    responses((status = 200, body = Vec<AnalysisJobListItem>))
)]
pub async fn processing_jobs(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    bare(&state, &me, JobStatus::Processing).await
}

/// The caller's failed jobs, newest first (a bare array of at most 100).
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/failed/", tag = "vision",
    security(("jwt" = [])),
    responses((status = 200, body = Vec<AnalysisJobListItem>))
)]
pub async fn failed_jobs(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    bare(&state, &me, JobStatus::Failed).await
}

/// The caller's completed jobs, newest first (paginated).
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/completed/", tag = "vision",
    security(("jwt" = [])),
    params(("page" = Option<String>, Query, description = "Page number (50 per page), or `last`.")),
    responses(
        (status = 200, body = Page<AnalysisJobListItem>),
        (status = 404, description = "Invalid page.", body = Detail),
    )
)]
pub async fn completed_jobs(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    page(
        &state,
        &req,
        &me,
        Some(JobStatus::Completed),
        None,
        ("created_at", true),
    )
    .await
}

/// The caller's job counts per status, total cost and mean processing time.
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/stats/", tag = "vision",
    security(("jwt" = [])),
    responses((status = 200, body = AnalysisJobStats))
)]
pub async fn job_stats(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let s = AnalysisJob::stats(&mut conn, me.id).await?;
    Ok(HttpResponse::Ok().json(AnalysisJobStats::from(s)))
}

/// The job's PNG, for its owner only (the old view had no authentication at all).
#[utoipa::path(
    get, path = "/api/v1/vision/jobs/{pk}/dex-image/", tag = "vision",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The job's id.")),
    responses((status = 200, description = "The image (`Content-Disposition: inline; filename=\"dex_<id>.png\"`).",
        content_type = "image/png", body = crate::media::Png,
        headers(("Cache-Control" = String, description = "`private, max-age=3600`"))))
)]
pub async fn dex_image(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let j = load(&state, &me, &pk).await?;
    let mut conn = state.db.get().await?;
    let (key, content_type) = vision::image_file(&mut conn, j.id)
        .await?
        .ok_or(ApiError::not_found(Missing::AnalysisJob))?;
    drop(conn);
    let bytes = state.storage.get(&key).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"dex_{}.png\"", j.id),
        ))
        .body(bytes))
}
