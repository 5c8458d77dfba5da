//! Reading friendships: every row (paginated), one row, friends, pending and sent requests.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::error::Missing;
use biologidex_db::models::friendships::Friendship;
use serde::Serialize;

use super::dto::{self, FriendUserResponse, FriendshipResponse};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    pagination::{Page, page_request},
    state::AppState,
};

/// The caller's friends.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FriendsResponse {
    /// Number of friends.
    count: usize,
    friends: Vec<FriendUserResponse>,
}

/// Unanswered friend requests.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RequestsResponse {
    /// Number of requests.
    count: usize,
    requests: Vec<FriendshipResponse>,
}

/// Every row the caller is a party to, newest first.
///
/// Rows of any status. 50 per page.
#[utoipa::path(
    get, path = "/api/v1/social/friendships/", tag = "friendships",
    security(("jwt" = [])),
    params(
        ("page" = Option<String>, Query,
            description = "Page number (1-based) or `last`; out of range is a 404 `Invalid page.`"),
    ),
    responses(
        (status = 200, body = Page<FriendshipResponse>),
        (status = 404, description = "Invalid page.", body = crate::docs::schemas::Detail),
    )
)]
pub async fn list_friendships(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let count = Friendship::count_for_user(&mut conn, me.id).await?;
    let at = page_request(&req, count)?;
    let rows = Friendship::list_for_user(&mut conn, me.id, at.offset, at.limit).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let results = dto::friendships(&mut conn, rows, &urls).await?;
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// One row, for its parties only.
#[utoipa::path(
    get, path = "/api/v1/social/friendships/{pk}/", tag = "friendships",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The friendship's id.")),
    responses((status = 200, body = FriendshipResponse))
)]
pub async fn get_friendship(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.db.get().await?;
    let row = Friendship::find_for_party(&mut conn, id, me.id)
        .await?
        .ok_or(ApiError::not_found(Missing::Friendship))?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(dto::friendship(&mut conn, row, &urls).await?))
}

/// Accepted friends with their counters (one query).
///
/// Newest account first. Not paginated.
#[utoipa::path(
    get, path = "/api/v1/social/friendships/friends/", tag = "friendships",
    security(("jwt" = [])),
    responses((status = 200, body = FriendsResponse))
)]
pub async fn list_friends(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let friends: Vec<_> = Friendship::friends_of(&mut conn, me.id)
        .await?
        .into_iter()
        .map(|f| FriendUserResponse::new(f, &urls))
        .collect();
    Ok(HttpResponse::Ok().json(FriendsResponse {
        count: friends.len(),
        friends,
    }))
}

async fn pending(
    state: &AppState,
    req: &HttpRequest,
    me: &AuthUser,
    received: bool,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let rows = Friendship::pending(&mut conn, me.id, received).await?;
    let urls = MediaUrls::new(req, &state.settings);
    let requests = dto::friendships(&mut conn, rows, &urls).await?;
    Ok(HttpResponse::Ok().json(RequestsResponse {
        count: requests.len(),
        requests,
    }))
}

/// Requests the caller received and has not answered.
///
/// Newest first. Not paginated.
#[utoipa::path(
    get, path = "/api/v1/social/friendships/pending/", tag = "friendships",
    security(("jwt" = [])),
    responses((status = 200, body = RequestsResponse))
)]
pub async fn list_pending(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    pending(&state, &req, &me, true).await
}

/// The caller's unanswered requests.
///
/// Newest first. Not paginated.
#[utoipa::path(
    get, path = "/api/v1/social/friendships/sent/", tag = "friendships",
    security(("jwt" = [])),
    responses((status = 200, body = RequestsResponse))
)]
pub async fn list_sent(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    pending(&state, &req, &me, false).await
}
