//! Reading entries, with the visibility rules applied in SQL for every route.

use biologidex_core::error::Missing;

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_db::models::dex::{DexEntry, EntryQuery, Viewer};

use super::{
    dto::{EntryDetail, EntryListItem},
    schema::{ByAnimalQuery, EntryListQuery},
    viewer,
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    pagination::{Page, load_page, page_request},
    request::ValidQuery,
    state::AppState,
};

const RECENT: i64 = 20;
/// Bare-array lists are bounded (the old server's were not).
const MAX_ARRAY: i64 = 500;

/// Lists every entry the caller may see; filters `animal`, `visibility`,
/// `is_favorite`; `search`; `ordering` (catch_date, created_at).
#[utoipa::path(
    get, path = "/api/v1/dex/entries/", tag = "dex",
    security(("jwt" = [])),
    params(
        EntryListQuery,
        ("page" = Option<String>, Query,
            description = "1-based page number, or `last` (50 per page)."),
    ),
    responses(
        (status = 200, description = "The caller's entries, their friends' `friends` and \
            `public` entries and everyone else's `public` entries (blocked users excluded).",
            body = crate::pagination::Page<EntryListItem>),
        (status = 400, description = "Malformed `animal` or unknown `visibility`.",
            body = crate::docs::schemas::FieldErrors),
        (status = 404, description = "No such page (`Invalid page.`).",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn list_entries(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    params: ValidQuery<EntryListQuery>,
) -> ApiResult<HttpResponse> {
    let query = params.into_inner().into_query()?;
    let mut conn = state.db.get().await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    let count = DexEntry::count_visible(&mut conn, &viewer, &query).await?;
    let at = page_request(&req, count)?;
    let rows = DexEntry::list_visible(&mut conn, &viewer, &query, at.offset, at.limit).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let results: Vec<EntryListItem> = rows.iter().map(|r| EntryListItem::new(r, &urls)).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// One entry the caller may see.
#[utoipa::path(
    get, path = "/api/v1/dex/entries/{pk}/", tag = "dex",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The entry's id.")),
    responses((status = 200, description = "The entry; its location only for its owner.",
        body = EntryDetail))
)]
pub async fn get_entry(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.db.get().await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    let row = DexEntry::find_visible(&mut conn, &viewer, id)
        .await?
        .ok_or(ApiError::not_found(Missing::DexEntry))?;
    let creators = viewer::creators(&mut conn, std::slice::from_ref(&row)).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(EntryDetail::new(&row, me.id, &urls, &creators)))
}

/// The caller's entries, paginated, newest catch first.
#[utoipa::path(
    get, path = "/api/v1/dex/entries/my_entries/", tag = "dex",
    security(("jwt" = [])),
    params(("page" = Option<String>, Query,
        description = "1-based page number, or `last` (50 per page).")),
    responses(
        (status = 200, description = "One page of the caller's entries.",
            body = crate::pagination::Page<EntryListItem>),
        (status = 404, description = "No such page (`Invalid page.`).",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn my_entries(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let (at, count, rows) = load_page(
        &req,
        &mut *conn,
        async |c, at| DexEntry::page_own(c, me.id, at.offset, at.limit).await,
        async |c| DexEntry::count_own(c, me.id).await,
    )
    .await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let results: Vec<EntryListItem> = rows.iter().map(|r| EntryListItem::new(r, &urls)).collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// The caller's favourites (a bare array).
#[utoipa::path(
    get, path = "/api/v1/dex/entries/favorites/", tag = "dex",
    security(("jwt" = [])),
    responses((status = 200, description = "The caller's favourite entries, newest catch \
        first (at most 500).", body = Vec<EntryListItem>))
)]
pub async fn favorites(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let rows = DexEntry::list_own(&mut conn, me.id, true, 0, MAX_ARRAY).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let items: Vec<EntryListItem> = rows.iter().map(|r| EntryListItem::new(r, &urls)).collect();
    Ok(HttpResponse::Ok().json(items))
}

/// The 20 newest catches of the caller and their friends.
#[utoipa::path(
    get, path = "/api/v1/dex/entries/recent/", tag = "dex",
    security(("jwt" = [])),
    responses((status = 200, description = "The caller's entries and their friends' \
        `friends` and `public` entries, newest catch first (at most 20).",
        body = Vec<EntryListItem>))
)]
pub async fn recent(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    let rows = DexEntry::recent(&mut conn, &viewer, RECENT).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let items: Vec<EntryListItem> = rows.iter().map(|r| EntryListItem::new(r, &urls)).collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Visible entries of one animal (a bare array).
#[utoipa::path(
    get, path = "/api/v1/dex/entries/by_animal/", tag = "dex",
    security(("jwt" = [])),
    params(ByAnimalQuery),
    responses(
        (status = 200, description = "The entries of the animal the caller may see (as in the \
            list), newest catch first (at most 500).", body = Vec<EntryListItem>),
        (status = 400, description = "`animal_id` missing (a rule error, `animal_id parameter \
            required`) or malformed (a field error).",
            body = crate::animals::schema::RuleOrFieldErrors),
    )
)]
pub async fn by_animal(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    query: ValidQuery<ByAnimalQuery>,
) -> ApiResult<HttpResponse> {
    let animal = query
        .into_inner()
        .animal_id
        .into_inner()
        .ok_or_else(|| ApiError::rule("animal_id parameter required"))?
        .0;
    let mut conn = state.db.get().await?;
    let viewer = Viewer::load(&mut conn, me.id).await?;
    let q = EntryQuery {
        animal: Some(animal),
        ..EntryQuery::default()
    };
    let rows = DexEntry::list_visible(&mut conn, &viewer, &q, 0, MAX_ARRAY).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let items: Vec<EntryListItem> = rows.iter().map(|r| EntryListItem::new(r, &urls)).collect();
    Ok(HttpResponse::Ok().json(items))
}
