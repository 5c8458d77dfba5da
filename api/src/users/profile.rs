//! Reading, editing and deleting accounts. Anyone signed in may read a profile (without its
//! email); only the user themself (or staff) may change or delete it. Users who blocked each
//! other do not see each other.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::error::Missing;
use biologidex_core::ids::UserId;
use biologidex_db::models::{
    accounts::{ProfileChanges, User},
    friendships::Friendship,
};
use serde::Serialize;
use serde_json::Value;

use super::{UserResponse, schema::ProfileUpdateRequest};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    pagination::{Page, page_request},
    request::{from_fields, object},
    state::AppState,
};

/// Every active user the caller may see, newest first, without emails.
///
/// The caller's own entry carries its email (staff see every email). 50 per page.
#[utoipa::path(
    get, path = "/api/v1/users/", tag = "users",
    security(("jwt" = [])),
    params(
        ("page" = Option<String>, Query,
            description = "Page number (1-based) or `last`; out of range is a 404 `Invalid page.`"),
    ),
    responses(
        (status = 200, body = Page<UserResponse>),
        (status = 404, description = "Invalid page.", body = crate::docs::schemas::Detail),
    )
)]
pub async fn list_users(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let hidden = Friendship::blocked_ids(&mut conn, me.id).await?;
    let count = User::count_visible(&mut conn, &hidden).await?;
    let at = page_request(&req, count)?;
    let rows = User::list_page(&mut conn, &hidden, at.offset, at.limit).await?;
    let urls = MediaUrls::new(&req, &state.settings);
    let results = rows
        .into_iter()
        .map(|v| {
            let private = me.may_manage(v.user.id);
            UserResponse::new(v, &urls, private)
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page::new(&req, &state.settings, at, count, results)))
}

/// The caller's own account, email included.
#[utoipa::path(
    get, path = "/api/v1/users/me/", tag = "users",
    security(("jwt" = [])),
    responses((status = 200, body = UserResponse))
)]
pub async fn get_me(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
) -> ApiResult<HttpResponse> {
    // The account and profile authentication loaded for this request, if it read them.
    let view = match me.view {
        Some(view) => std::sync::Arc::unwrap_or_clone(view),
        None => {
            let mut conn = state.db.get().await?;
            User::find(&mut conn, me.id).await?.ok_or(ApiError(
                biologidex_core::Error::InvalidAccessToken("Token is invalid"),
            ))?
        }
    };
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(UserResponse::new(view, &urls, true)))
}

/// Resolves `{pk}` (or `me`) to a user the caller may see.
async fn visible_user(state: &AppState, me: &AuthUser, raw: &str) -> ApiResult<UserId> {
    let id = if raw == "me" { me.id } else { path_uuid(raw)? };
    if id != me.id {
        let mut conn = state.db.get().await?;
        let blocked = Friendship::blocked_ids(&mut conn, me.id).await?;
        if blocked.contains(&id) {
            return Err(ApiError::not_found(Missing::User));
        }
    }
    Ok(id)
}

/// A profile; the email only for the user themself or staff.
///
/// Users who blocked each other are 404 to each other.
#[utoipa::path(
    get, path = "/api/v1/users/{pk}/", tag = "users",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The user's id.")),
    responses((status = 200, body = UserResponse))
)]
pub async fn get_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    // Visibility (blocks) is decided on the primary; another user's profile may come from a
    // replica, the caller's own must show their last edit.
    let id = visible_user(&state, &me, &pk).await?;
    let mut conn = if id == me.id {
        state.db.get().await?
    } else {
        state.read_db().await?
    };
    let view = User::find(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::User))?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(UserResponse::new(view, &urls, me.may_manage(id))))
}

fn profile_changes(body: ProfileUpdateRequest) -> ProfileChanges {
    ProfileChanges {
        bio: body.bio.into_inner().map(|b| b.0),
        avatar: body.avatar.into_option().map(|_| None),
        preferred_card_style: body
            .preferred_card_style
            .into_option()
            .map(|s| s.map_or(Value::Null, |s| s.0)),
    }
}

// Fields in alphabetical order: the order the keys have always had on the wire.
/// The edited fields of a profile.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProfileUpdateResponse {
    /// Absolute URL of the avatar, or null.
    #[schema(required = true)]
    avatar: Option<String>,
    bio: String,
    /// The card style settings as stored.
    preferred_card_style: Value,
}

/// Edit bio, avatar (clear only) and card style; owner or staff.
///
/// Both methods are partial: only the fields sent change.
#[utoipa::path(
    method(put, patch), path = "/api/v1/users/{pk}/", tag = "users",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The user's id.")),
    request_body = ProfileUpdateRequest,
    responses(
        (status = 200, body = ProfileUpdateResponse),
        (status = 403, description = "Not the user themself nor staff.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn update_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let id = visible_user(&state, &me, &pk).await?;
    if !me.may_manage(id) {
        return Err(ApiError(Error::Forbidden));
    }
    // The body is read after the permission checks, as on the old server.
    let body: ProfileUpdateRequest = from_fields(object(body.into_inner())?)?;
    let changes = profile_changes(body);
    let mut conn = state.db.get().await?;
    let view = User::update_profile(&mut conn, id, changes)
        .await?
        .ok_or(ApiError::not_found(Missing::User))?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(ProfileUpdateResponse {
        avatar: urls.public_opt(view.user.avatar.as_deref()),
        bio: view.user.bio,
        preferred_card_style: view.profile.preferred_card_style,
    }))
}

/// Delete the account; owner or staff.
///
/// Its profile, dex entries, friendships, jobs and conversions go with it.
#[utoipa::path(
    delete, path = "/api/v1/users/{pk}/", tag = "users",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The user's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "Not the user themself nor staff.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn delete_user(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = visible_user(&state, &me, &pk).await?;
    if !me.may_manage(id) {
        return Err(ApiError(Error::Forbidden));
    }
    let mut conn = state.db.get().await?;
    if User::delete(&mut conn, id).await? == 0 {
        return Err(ApiError::not_found(Missing::User));
    }
    state.auth_cache.forget(id);
    tracing::info!(user.id = %id, by = %me.id, "user deleted");
    crate::graph::invalidate::user_deleted(&state).await;
    Ok(HttpResponse::NoContent().finish())
}

/// Recomputes the profile counters (`pk` may be `me`).
///
/// `total_catches`, `unique_species` and `last_catch_date` are recounted from the dex; owner
/// or staff.
#[utoipa::path(
    post, path = "/api/v1/users/{pk}/update_stats/", tag = "users",
    security(("jwt" = [])),
    params(("pk" = String, Path, description = "The user's id, or `me`.")),
    responses(
        (status = 200, description = "The user with fresh counters, email included.",
            body = UserResponse),
        (status = 403, description = "Not the user themself nor staff.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn update_stats(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = visible_user(&state, &me, &pk).await?;
    if !me.may_manage(id) {
        return Err(ApiError(Error::Forbidden));
    }
    let mut conn = state.db.get().await?;
    let view = User::recompute_stats(&mut conn, id)
        .await?
        .ok_or(ApiError::not_found(Missing::User))?;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(UserResponse::new(view, &urls, true)))
}
