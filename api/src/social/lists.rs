//! Reading friendships: every row (paginated), one row, friends, pending and sent requests.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use shared::db::models::friendships::Friendship;

use super::dto::{self, FriendUserResponse};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    pagination::{Page, page_request},
    state::AppState,
};

/// `GET /social/friendships/`: every row the caller is a party to, newest first.
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

/// `GET /social/friendships/{pk}/`: one row, for its parties only.
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
        .ok_or(ApiError::not_found("Friendship"))?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(dto::friendship(&mut conn, row, &urls).await?))
}

/// `GET /social/friendships/friends/`: accepted friends with their counters (one query).
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
    Ok(HttpResponse::Ok().json(json!({ "count": friends.len(), "friends": friends })))
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
    Ok(HttpResponse::Ok().json(json!({ "count": requests.len(), "requests": requests })))
}

/// `GET /social/friendships/pending/`: requests the caller received and has not answered.
pub async fn list_pending(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    pending(&state, &req, &me, true).await
}

/// `GET /social/friendships/sent/`: the caller's unanswered requests.
pub async fn list_sent(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    pending(&state, &req, &me, false).await
}
