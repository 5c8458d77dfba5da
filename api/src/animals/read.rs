//! Reading the catalogue.

use biologidex_core::error::Missing;

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_db::models::animals::Animal;

use super::{
    dto::{AnimalListResponse, AnimalResponse, PopularAnimal, TaxonomicTree, taxonomic_tree},
    schema::AnimalListQuery,
};
use crate::{
    ApiError, ApiResult,
    auth::{AuthUser, MaybeAuthUser},
    ids::path_uuid,
    pagination::{Page, load_page},
    request::ValidQuery,
    state::AppState,
};

const RECENT: i64 = 20;

/// Most terms one `search` may have: each adds a pattern match over several columns.
pub const MAX_SEARCH_TERMS: usize = 10;
/// Longest search term (no column searched is longer).
pub const MAX_SEARCH_TERM: usize = 200;

/// Splits DRF search text into terms (whitespace and commas), bounded in count and length.
pub fn search_terms(raw: Option<&String>) -> ApiResult<Vec<String>> {
    let terms: Vec<String> = raw
        .map(|s| {
            s.split(|c: char| c.is_whitespace() || c == ',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if terms.len() > MAX_SEARCH_TERMS {
        return Err(ApiError::field(
            "search",
            format!("Ensure this field has no more than {MAX_SEARCH_TERMS} terms."),
        ));
    }
    if terms.iter().any(|t| t.chars().count() > MAX_SEARCH_TERM) {
        return Err(ApiError::field(
            "search",
            format!("Ensure each term has no more than {MAX_SEARCH_TERM} characters."),
        ));
    }
    Ok(terms)
}

/// Parses `ordering=a,-b` keeping only allowed columns (others are ignored, as DRF does).
pub fn ordering(raw: Option<&String>, allowed: &[&str]) -> Vec<(String, bool)> {
    raw.map(|s| {
        s.split(',')
            .filter_map(|t| {
                let t = t.trim();
                let (name, desc) = t.strip_prefix('-').map_or((t, false), |n| (n, true));
                allowed.contains(&name).then(|| (name.to_owned(), desc))
            })
            .collect()
    })
    .unwrap_or_default()
}

/// Lists animals. Filters `conservation_status`, `verified`, `kingdom`, `phylum`, `family`;
/// `search`; `ordering` (creation_index, created_at, scientific_name). Anyone may call it.
#[utoipa::path(
    get, path = "/api/v1/animals/", tag = "animals",
    security((), ("jwt" = [])),
    params(
        AnimalListQuery,
        ("page" = Option<String>, Query,
            description = "1-based page number, or `last` (50 per page)."),
    ),
    responses(
        (status = 200, description = "One page of animals.",
            body = crate::pagination::Page<AnimalListResponse>),
        (status = 400, description = "Unknown `conservation_status`.",
            body = crate::docs::schemas::FieldErrors),
        (status = 404, description = "No such page (`Invalid page.`).",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn list_animals(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
    params: ValidQuery<AnimalListQuery>,
) -> ApiResult<HttpResponse> {
    let query = params.into_inner().into_query()?;
    let mut conn = state.read_db().await?;
    let (at, count, rows) = load_page(
        &req,
        &mut *conn,
        async |c, at| Animal::list(c, &query, at.offset, at.limit).await,
        async |c| Animal::count(c, &query).await,
    )
    .await?;
    let results: Vec<AnimalListResponse> = rows.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// One animal with its discovery count. Anyone may call it.
#[utoipa::path(
    get, path = "/api/v1/animals/{pk}/", tag = "animals",
    security((), ("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The animal's id.")),
    responses((status = 200, description = "The animal.", body = AnimalResponse))
)]
pub async fn get_animal(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.read_db().await?;
    let view = Animal::find(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::Animal))?;
    let discovered = Animal::discovery_count(&mut conn, id).await?;
    Ok(HttpResponse::Ok().json(AnimalResponse::new(view, discovered)))
}

/// The 20 newest animals (a bare array), for any signed-in user.
#[utoipa::path(
    get, path = "/api/v1/animals/recent/", tag = "animals",
    security(("jwt" = [])),
    responses((status = 200, description = "The 20 most recently created animals, newest first.",
        body = Vec<AnimalListResponse>))
)]
pub async fn recent_animals(state: web::Data<AppState>, _me: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.read_db().await?;
    let rows: Vec<AnimalListResponse> = Animal::recent(&mut conn, RECENT)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(rows))
}

/// The 20 most caught animals with `capture_count` (a bare array).
#[utoipa::path(
    get, path = "/api/v1/animals/popular/", tag = "animals",
    security(("jwt" = [])),
    responses((status = 200, description = "The 20 animals with the most dex entries, most \
        caught first.", body = Vec<PopularAnimal>))
)]
pub async fn popular_animals(state: web::Data<AppState>, _me: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.read_db().await?;
    let rows: Vec<PopularAnimal> = Animal::popular(&mut conn, RECENT)
        .await?
        .into_iter()
        .map(|(view, n)| PopularAnimal::new(view, n))
        .collect();
    Ok(HttpResponse::Ok().json(rows))
}

/// The classification of one animal.
#[utoipa::path(
    get, path = "/api/v1/animals/{pk}/taxonomy/", tag = "animals",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The animal's id.")),
    responses((status = 200, description = "The animal's classification.", body = TaxonomicTree))
)]
pub async fn animal_taxonomy(
    state: web::Data<AppState>,
    _me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.read_db().await?;
    let view = Animal::find(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::Animal))?;
    Ok(HttpResponse::Ok().json(taxonomic_tree(&view.animal)))
}
