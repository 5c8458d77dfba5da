//! Browsing the taxonomy: the list, one taxon, its lineage and children, statistics and data
//! sources. Everyone may call these; a bad token is still a 401.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::error::Missing;
use biologidex_db::models::{
    taxa::{MAX_DESCENDANTS, Taxa, TaxonomyStats},
    taxonomy::TaxonomySource,
};
use biologidex_taxonomy::cache;
use serde::Serialize;

use super::{
    dto::{self, SourceResponse, StatsResponse, TaxonDetailResponse, TaxonMinimalResponse},
    schema::TaxonChildrenQuery,
};
use crate::{
    ApiError, ApiResult,
    auth::MaybeAuthUser,
    docs::schemas::{Detail, FieldErrors},
    ids::path_uuid,
    pagination::{Page, page_request},
    request::ValidQuery,
    state::AppState,
};

/// A taxon's children: the pagination envelope with what was asked and whether the
/// descendants were cut at 10,000.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TaxonChildrenPage)]
pub struct ChildrenResponse {
    /// Children (or descendants, at most 10,000) in all pages.
    count: i64,
    /// True for direct children, false for all descendants.
    direct_only: bool,
    /// True when there were more than 10,000 descendants (only the first are listed).
    truncated: bool,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<TaxonMinimalResponse>,
}

/// The statistics, from the cache when Redis has them.
async fn stats(state: &AppState) -> ApiResult<TaxonomyStats> {
    if let Some(s) = cache::get_stats(&state.redis, &state.settings).await {
        return Ok(s);
    }
    let mut conn = state.read_db().await?;
    let s = Taxa::stats(&mut conn).await?;
    cache::put_stats(&state.redis, &state.settings, &s).await;
    Ok(s)
}

/// Lists accepted taxa by scientific name, paginated.
///
/// 50 per page; `count` is the number of accepted taxa (from the cached statistics).
#[utoipa::path(
    get, path = "/api/v1/taxonomy/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(super::schema::PageQuery),
    responses(
        (status = 200, body = Page<TaxonMinimalResponse>),
        (status = 404, description = "No such page (`Invalid page.`).", body = Detail),
    )
)]
pub async fn list_taxa(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    // The count comes with the (cached) statistics: counting millions of rows per page is slow.
    let count = stats(&state).await?.total_taxa;
    let at = page_request(&req, count)?;
    let mut conn = state.read_db().await?;
    let rows = Taxa::list_page(&mut conn, at.offset, at.limit).await?;
    let results = dto::minimal(&mut conn, rows).await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// One accepted taxon with its names, distributions and hierarchy.
#[utoipa::path(
    get, path = "/api/v1/taxonomy/{pk}/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The taxon's id.")),
    responses((status = 200, body = TaxonDetailResponse))
)]
pub async fn get_taxon(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.read_db().await?;
    let taxon = Taxa::find_listed(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::Taxonomy))?;
    Ok(HttpResponse::Ok().json(dto::detail(&mut conn, taxon).await?))
}

/// The taxon and its ancestors, root first (a bare array).
#[utoipa::path(
    get, path = "/api/v1/taxonomy/{pk}/lineage/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The taxon's id.")),
    responses((status = 200, body = Vec<TaxonMinimalResponse>))
)]
pub async fn get_lineage(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.read_db().await?;
    Taxa::find_summary(&mut conn, id)
        .await?
        .filter(|t| t.is_listed())
        .ok_or(ApiError::not_found(Missing::Taxonomy))?;
    let lineage = Taxa::lineage(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(dto::minimal(&mut conn, lineage).await?))
}

/// A taxon's direct children, or all its descendants, paginated.
///
/// Direct children by scientific name, or (`direct=false`) every descendant breadth first (at
/// most 10,000: `truncated` says when there were more), 50 per page.
#[utoipa::path(
    get, path = "/api/v1/taxonomy/{pk}/children/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(
        ("pk" = Uuid, Path, description = "The taxon's id."),
        TaxonChildrenQuery,
        super::schema::PageQuery,
    ),
    responses(
        (status = 200, body = ChildrenResponse),
        (status = 400, description = "`direct` is not a boolean.", body = FieldErrors),
        (status = 404, description = "No such accepted taxon, or no such page.", body = Detail),
    )
)]
pub async fn list_children(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
    query: ValidQuery<TaxonChildrenQuery>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let direct = query.into_inner().direct.into_inner().unwrap_or(true);
    let mut conn = state.read_db().await?;
    Taxa::find_summary(&mut conn, id)
        .await?
        .filter(|t| t.is_listed())
        .ok_or(ApiError::not_found(Missing::Taxonomy))?;
    let (count, truncated) = if direct {
        (Taxa::count_children(&mut conn, id).await?, false)
    } else {
        let n = Taxa::count_descendants(&mut conn, id, MAX_DESCENDANTS + 1).await?;
        (n.min(MAX_DESCENDANTS), n > MAX_DESCENDANTS)
    };
    let at = page_request(&req, count)?;
    let rows = if direct {
        Taxa::children(&mut conn, id, at.offset, at.limit).await?
    } else {
        Taxa::descendants(&mut conn, id, MAX_DESCENDANTS, at.offset, at.limit).await?
    };
    let results = dto::minimal(&mut conn, rows).await?;
    let page = Page::new(&req, &state.settings, at, count, results);
    Ok(HttpResponse::Ok().json(ChildrenResponse {
        count: page.count,
        direct_only: direct,
        truncated,
        next: page.next,
        previous: page.previous,
        results: page.results,
    }))
}

/// Counts of taxa, kingdoms, species, genera, families and sources.
///
/// Cached for an hour; an import clears the cache.
#[utoipa::path(
    get, path = "/api/v1/taxonomy/stats/", tag = "taxonomy",
    security((), ("jwt" = [])),
    responses((status = 200, body = StatsResponse))
)]
pub async fn get_stats(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(StatsResponse::from(stats(&state).await?)))
}

/// Lists the active data sources by priority, then name, paginated.
#[utoipa::path(
    get, path = "/api/v1/sources/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(super::schema::PageQuery),
    responses(
        (status = 200, body = Page<SourceResponse>),
        (status = 404, description = "No such page (`Invalid page.`).", body = Detail),
    )
)]
pub async fn list_sources(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.read_db().await?;
    let count = TaxonomySource::count_active(&mut conn).await?;
    let at = page_request(&req, count)?;
    let rows = TaxonomySource::list_active(&mut conn, at.offset, at.limit).await?;
    let results: Vec<SourceResponse> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// One active data source.
#[utoipa::path(
    get, path = "/api/v1/sources/{pk}/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The data source's id.")),
    responses((status = 200, body = SourceResponse))
)]
pub async fn get_source(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.read_db().await?;
    let source = TaxonomySource::find_active(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::DataSource))?;
    Ok(HttpResponse::Ok().json(SourceResponse::from(source)))
}
