//! Browsing the taxonomy: the list, one taxon, its lineage and children, statistics and data
//! sources. Everyone may call these; a bad token is still a 401.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use shared::{
    db::models::{
        taxa::{MAX_DESCENDANTS, Taxa, TaxonomyStats},
        taxonomy::TaxonomySource,
    },
    taxonomy::cache,
};

use super::{
    dto::{self, SourceResponse},
    params::QueryParams,
};
use crate::{
    ApiError, ApiResult,
    auth::MaybeAuthUser,
    ids::path_uuid,
    pagination::{Page, page_request},
    state::AppState,
};

const NOT_FOUND: &str = "Taxonomy";

/// The statistics, from the cache when Redis has them.
async fn stats(state: &AppState) -> ApiResult<TaxonomyStats> {
    if let Some(s) = cache::get_stats(&state.redis, &state.settings).await {
        return Ok(s);
    }
    let mut conn = state.db.get().await?;
    let s = Taxa::stats(&mut conn).await?;
    cache::put_stats(&state.redis, &state.settings, &s).await;
    Ok(s)
}

/// `GET /taxonomy/`: accepted taxa by scientific name, paginated.
pub async fn list_taxa(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    // The count comes with the (cached) statistics: counting millions of rows per page is slow.
    let count = stats(&state).await?.total_taxa;
    let at = page_request(&req, count)?;
    let mut conn = state.db.get().await?;
    let rows = Taxa::list_page(&mut conn, at.offset, at.limit).await?;
    let results = dto::minimal(&mut conn, rows).await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// `GET /taxonomy/{pk}/`: one accepted taxon with names, distributions and hierarchy.
pub async fn get_taxon(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.db.get().await?;
    let taxon = Taxa::find_listed(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(NOT_FOUND))?;
    Ok(HttpResponse::Ok().json(dto::detail(&mut conn, taxon).await?))
}

/// `GET /taxonomy/{pk}/lineage/`: the taxon and its ancestors, root first (a bare array).
pub async fn get_lineage(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.db.get().await?;
    Taxa::find_summary(&mut conn, id)
        .await?
        .filter(|t| t.is_listed())
        .ok_or(ApiError::not_found(NOT_FOUND))?;
    let lineage = Taxa::lineage(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(dto::minimal(&mut conn, lineage).await?))
}

/// `GET /taxonomy/{pk}/children/?direct=true|false&page=n`: direct children by name, or every
/// descendant breadth first (at most 10,000), 50 per page.
pub async fn list_children(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let direct = QueryParams::new(&req).boolean("direct")?.unwrap_or(true);
    let mut conn = state.db.get().await?;
    Taxa::find_summary(&mut conn, id)
        .await?
        .filter(|t| t.is_listed())
        .ok_or(ApiError::not_found(NOT_FOUND))?;
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
    Ok(HttpResponse::Ok().json(json!({
        "count": page.count,
        "direct_only": direct,
        "truncated": truncated,
        "next": page.next,
        "previous": page.previous,
        "results": page.results,
    })))
}

/// `GET /taxonomy/stats/`: counts of taxa, kingdoms, species, genera, families and sources
/// (cached for an hour; an import clears the cache).
pub async fn get_stats(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(stats(&state).await?))
}

/// `GET /sources/`: active data sources by priority, paginated.
pub async fn list_sources(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let count = TaxonomySource::count_active(&mut conn).await?;
    let at = page_request(&req, count)?;
    let rows = TaxonomySource::list_active(&mut conn, at.offset, at.limit).await?;
    let results: Vec<SourceResponse> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// `GET /sources/{pk}/`: one active data source.
pub async fn get_source(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.db.get().await?;
    let source = TaxonomySource::find_active(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found("DataSource"))?;
    Ok(HttpResponse::Ok().json(SourceResponse::from(source)))
}
