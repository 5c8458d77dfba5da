//! `GET /taxonomy/search/`: the manual-entry search of the client.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_db::models::taxa::{SearchParams, Taxa};
use serde::Serialize;

use super::{
    dto::{self, TaxonMinimalResponse},
    params::QueryParams,
    schema::TaxonomyQueryError,
};
use crate::{ApiError, ApiResult, auth::MaybeAuthUser, state::AppState};

/// Longest search term accepted.
const MAX_TERM: usize = 100;
/// Results returned without `limit`, and at most.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;

fn search_params(req: &HttpRequest) -> ApiResult<SearchParams> {
    let q = QueryParams::new(req);
    let limit = match q.int("limit")? {
        None => DEFAULT_LIMIT,
        Some(n) if n < 1 => {
            return Err(ApiError::field(
                "limit",
                "Ensure this value is greater than or equal to 1.",
            ));
        }
        Some(n) => n.min(MAX_LIMIT),
    };
    let params = SearchParams {
        q: q.bounded_text("q", MAX_TERM)?,
        genus: q.bounded_text("genus", MAX_TERM)?,
        species: q.bounded_text("species", MAX_TERM)?,
        common_name: q.bounded_text("common_name", MAX_TERM)?,
        rank: q.bounded_text("rank", 50)?.map(|r| r.to_lowercase()),
        kingdom: q.bounded_text("kingdom", MAX_TERM)?,
        limit,
    };
    if params.q.is_none()
        && params.genus.is_none()
        && params.species.is_none()
        && params.common_name.is_none()
    {
        return Err(ApiError::rule(
            "At least one search parameter is required (q, genus, species, or common_name)",
        ));
    }
    Ok(params)
}

/// Search results: not paginated, at most `limit`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = TaxonSearchResponse)]
pub struct SearchResponse {
    /// The number of results returned (not the number of matches).
    count: usize,
    results: Vec<TaxonMinimalResponse>,
}

/// Searches accepted taxa by name.
///
/// Every given filter must hold (`q` looks in scientific and common names; `genus`, `species`
/// and `common_name` in their own fields; `rank` and `kingdom` narrow). At least one of `q`,
/// `genus`, `species` and `common_name` is required. Best-classified first, then by name;
/// `count` is the number returned. Anyone may call it.
#[utoipa::path(
    get, path = "/api/v1/taxonomy/search/", tag = "taxonomy",
    security((), ("jwt" = [])),
    params(
        ("q" = Option<String>, Query, max_length = 100,
            description = "Text in the scientific name or a common name (any case)."),
        ("genus" = Option<String>, Query, max_length = 100, description = "Text in the genus."),
        ("species" = Option<String>, Query, max_length = 100,
            description = "Text in the specific epithet."),
        ("common_name" = Option<String>, Query, max_length = 100,
            description = "Text in a common name."),
        ("rank" = Option<String>, Query, max_length = 50,
            description = "Only taxa of this rank (`species`, `genus`...; any case)."),
        ("kingdom" = Option<String>, Query, max_length = 100,
            description = "Only taxa of this kingdom (exact name, any case)."),
        ("limit" = Option<i64>, Query, minimum = 1,
            description = "Results to return: default 20, values above 100 count as 100."),
    ),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, description = "No search term (`q`, `genus`, `species` or `common_name`), \
            or a parameter too long or `limit` not a positive integer.",
            body = TaxonomyQueryError),
    )
)]
pub async fn search_taxa(
    state: web::Data<AppState>,
    req: HttpRequest,
    _caller: MaybeAuthUser,
) -> ApiResult<HttpResponse> {
    let params = search_params(&req)?;
    let mut conn = state.read_db().await?;
    let rows = Taxa::search(&mut conn, &params).await?;
    let results = dto::minimal(&mut conn, rows).await?;
    Ok(HttpResponse::Ok().json(SearchResponse {
        count: results.len(),
        results,
    }))
}
