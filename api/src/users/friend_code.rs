//! Friend codes: show mine, look someone up by theirs (case-insensitive).

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::error::Missing;
use biologidex_db::models::{accounts::User, friendships::Friendship};
use serde::Serialize;

use super::schema::FriendCodeRequest;
use crate::{
    ApiError, ApiResult, auth::AuthUser, media::MediaUrls, request::Valid, state::AppState,
};

// Fields in alphabetical order: the order the keys have always had on the wire.
/// The caller's friend code.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FriendCodeResponse {
    /// 8 characters (`A–Z`, `0–9`).
    friend_code: String,
    username: String,
}

// Fields in alphabetical order: the order the keys have always had on the wire.
/// The user a friend code belongs to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FriendCodeMatch {
    /// Absolute URL of the avatar, or null.
    #[schema(required = true)]
    avatar: Option<String>,
    #[schema(value_type = uuid::Uuid)]
    id: biologidex_core::ids::UserId,
    username: String,
}

/// The caller's friend code, to share with friends.
#[utoipa::path(
    get, path = "/api/v1/users/friend_code/", tag = "users",
    security(("jwt" = [])),
    responses((status = 200, body = FriendCodeResponse))
)]
pub async fn get_friend_code(state: web::Data<AppState>, me: AuthUser) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let view = User::find(&mut conn, me.id)
        .await?
        .ok_or(ApiError::not_found(Missing::User))?;
    Ok(HttpResponse::Ok().json(FriendCodeResponse {
        friend_code: view.user.friend_code,
        username: view.user.username,
    }))
}

/// Who owns a friend code.
///
/// The code is matched ignoring case. Users who blocked each other do not find each other.
#[utoipa::path(
    post, path = "/api/v1/users/lookup_friend_code/", tag = "users",
    security(("jwt" = [])),
    request_body = FriendCodeRequest,
    responses(
        (status = 200, body = FriendCodeMatch),
        (status = 404, description = "No user found with this friend code.",
            body = crate::docs::schemas::RuleError),
    )
)]
pub async fn lookup_friend_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Valid<FriendCodeRequest>,
) -> ApiResult<HttpResponse> {
    let code = body.into_inner().friend_code.0;
    let not_found = || {
        ApiError(Error::NotFoundBecause(
            "No user found with this friend code".to_owned(),
        ))
    };
    let mut conn = state.db.get().await?;
    let view = match code.code() {
        Some(code) => User::find_by_friend_code(&mut conn, code).await?,
        None => None,
    }
    .ok_or_else(not_found)?;
    if Friendship::blocked_ids(&mut conn, me.id)
        .await?
        .contains(&view.user.id)
    {
        return Err(not_found());
    }
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(FriendCodeMatch {
        avatar: urls.public_opt(view.user.avatar.as_deref()),
        id: view.user.id,
        username: view.user.username,
    }))
}
