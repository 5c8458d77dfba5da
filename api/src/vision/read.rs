//! Reading one's own jobs.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use serde_json::{Value, json};
use shared::db::models::{
    animals::Animal,
    vision::{self, AnalysisJob, status},
};

use super::dto::{job, job_item};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    pagination::{Page, page_request},
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
        .ok_or(ApiError::not_found("AnalysisJob"))
}

/// The full JSON of a job for its owner.
pub async fn render(state: &AppState, req: &HttpRequest, j: &AnalysisJob) -> ApiResult<Value> {
    let animal = match j.identified_animal_id {
        Some(a) => {
            let mut conn = state.db.get().await?;
            Animal::find(&mut conn, a).await?.map(|v| v.animal)
        }
        None => None,
    };
    Ok(job(
        j,
        animal.as_ref(),
        &MediaUrls::new(req, &state.settings),
    ))
}

/// `GET /vision/jobs/{pk}/`: the owner's job (the client polls this).
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
    state_filter: Option<&str>,
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
    let results: Vec<Value> = rows.iter().map(job_item).collect();
    Ok(HttpResponse::Ok().json(Page::new(req, &state.settings, at, count, results)))
}

/// `GET /vision/jobs/`: the caller's jobs; filters `status`, `cv_method`; `ordering`.
pub async fn list_jobs(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    params: web::Query<HashMap<String, String>>,
) -> ApiResult<HttpResponse> {
    let st = params
        .get("status")
        .filter(|s| !s.is_empty())
        .map(String::as_str);
    if let Some(s) = st
        && !status::ALL.contains(&s)
    {
        return Err(ApiError::field(
            "status",
            format!("Select a valid choice. {s} is not one of the available choices."),
        ));
    }
    let method = params
        .get("cv_method")
        .filter(|s| !s.is_empty())
        .map(String::as_str);
    let order =
        crate::animals::read::ordering(params.get("ordering"), &["created_at", "completed_at"]);
    let order = order
        .first()
        .map_or(("created_at", true), |(c, d)| (c.as_str(), *d));
    page(&state, &req, &me, st, method, order).await
}

async fn bare(state: &AppState, me: &AuthUser, which: &str) -> ApiResult<HttpResponse> {
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
    Ok(HttpResponse::Ok().json(rows.iter().map(job_item).collect::<Vec<_>>()))
}

/// `GET /vision/jobs/pending/` (a bare array).
pub async fn pending_jobs(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    bare(&state, &me, status::PENDING).await
}

/// `GET /vision/jobs/processing/` (a bare array).
pub async fn processing_jobs(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    bare(&state, &me, status::PROCESSING).await
}

/// `GET /vision/jobs/failed/` (a bare array).
pub async fn failed_jobs(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    bare(&state, &me, status::FAILED).await
}

/// `GET /vision/jobs/completed/` (paginated).
pub async fn completed_jobs(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    page(
        &state,
        &req,
        &me,
        Some(status::COMPLETED),
        None,
        ("created_at", true),
    )
    .await
}

/// `GET /vision/jobs/stats/`: counts and totals computed in SQL.
pub async fn job_stats(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let s = AnalysisJob::stats(&mut conn, me.id).await?;
    Ok(HttpResponse::Ok().json(json!({
        "total_jobs": s.total_jobs,
        "pending": s.pending,
        "processing": s.processing,
        "completed": s.completed,
        "failed": s.failed,
        "total_cost_usd": s.total_cost_usd,
        "avg_processing_time": s.avg_processing_time,
    })))
}

/// `GET /vision/jobs/{pk}/dex-image/`: the job's PNG, for its owner only (the old view had
/// no authentication at all).
pub async fn dex_image(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let j = load(&state, &me, &pk).await?;
    let mut conn = state.db.get().await?;
    let (key, content_type) = vision::image_file(&mut conn, j.id)
        .await?
        .ok_or(ApiError::not_found("AnalysisJob"))?;
    drop(conn);
    let bytes = state
        .storage
        .get(&key)
        .await
        .map_err(|e| ApiError::from(anyhow::anyhow!("job image {key} unreadable: {e}")))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"dex_{}.png\"", j.id),
        ))
        .body(bytes))
}
