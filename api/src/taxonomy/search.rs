//! `GET /taxonomy/search/`: the manual-entry search of the client.

use actix_web::{HttpResponse, web};
use biologidex_db::models::taxa::Taxa;
use serde::Serialize;

use super::{
    dto::{self, TaxonMinimalResponse},
    schema::{TaxonSearchQuery, TaxonomyQueryError},
};
use crate::{ApiResult, auth::MaybeAuthUser, request::ValidQuery, state::AppState};

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
    params(TaxonSearchQuery),
    responses(
        (status = 200, body = SearchResponse),
        (status = 400, description = "No search term (`q`, `genus`, `species` or `common_name`), \
            or a parameter too long or `limit` not a positive integer.",
            body = TaxonomyQueryError),
    )
)]
pub async fn search_taxa(
    state: web::Data<AppState>,
    _caller: MaybeAuthUser,
    query: ValidQuery<TaxonSearchQuery>,
) -> ApiResult<HttpResponse> {
    let params = query.into_inner().into_params()?;
    let mut conn = state.read_db().await?;
    let rows = Taxa::search(&mut conn, &params).await?;
    let results = dto::minimal(&mut conn, rows).await?;
    Ok(HttpResponse::Ok().json(SearchResponse {
        count: results.len(),
        results,
    }))
}
