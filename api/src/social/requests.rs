//! Changing friendships: send a request, answer one, unfriend, and check a relation.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::Error;
use biologidex_core::error::Missing;
use biologidex_core::ids::UserId;
use biologidex_db::models::{
    accounts::User,
    dex::DexEntry,
    friendships::{Friendship, FriendshipStatus, RequestOutcome},
};
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use super::{
    dto,
    schema::{FriendRequest, RespondRequest},
};
use crate::{
    ApiError, ApiResult,
    auth::AuthUser,
    ids::path_uuid,
    media::MediaUrls,
    request::{Optional, Required, Valid, from_fields, object},
    state::AppState,
};

/// Ask someone to be friends.
///
/// The code wins when both are sent. Asking someone who already asked you makes you friends
/// (200); otherwise 201. Asking again after a rejection starts a new request.
#[utoipa::path(
    post, path = "/api/v1/social/friendships/send_request/", tag = "friendships",
    security(("jwt" = [])),
    request_body = FriendRequest,
    responses(
        (status = 201, description = "A new pending request.", body = dto::FriendshipResponse),
        (status = 200, description = "The other user had already asked the caller: their \
            request is now accepted.", body = dto::FriendshipResponse),
        (status = 400, description = "Unknown user or code (field errors), or a rule: asking \
            yourself, already friends, a request already pending, or blocked.",
            body = crate::docs::schemas::BadRequest),
    )
)]
pub async fn send_friend_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Valid<FriendRequest>,
) -> ApiResult<HttpResponse> {
    let FriendRequest {
        friend_code: Optional(code),
        user_id: Optional(user_id),
        to_user_id: Optional(to_user_id),
    } = body.into_inner();
    let by_id = user_id.or(to_user_id);

    let mut conn = state.db.get().await?;
    let target = match (code, by_id) {
        (Some(code), _) => match code.code() {
            Some(code) => User::find_by_friend_code(&mut conn, code).await?,
            None => None,
        }
        .map(|v| v.user.id)
        .ok_or_else(|| ApiError::field("friend_code", "No user found with this friend code"))?,
        (None, Some(id)) => User::find(&mut conn, id.into())
            .await?
            .filter(|v| v.user.is_active)
            .map(|v| v.user.id)
            .ok_or_else(|| ApiError::field("user_id", "No user found with this ID"))?,
        (None, None) => {
            return Err(ApiError::field(
                "non_field_errors",
                "Either friend_code or user_id must be provided",
            ));
        }
    };
    let (row, outcome) = Friendship::send_request(&mut conn, me.id, target).await?;
    crate::graph::invalidate::friendship_changed(&state, me.id, target).await;
    tracing::info!(friendship.id = %row.id, user.id = %me.id, outcome = ?outcome, "friend request");
    let urls = MediaUrls::new(&req, &state.settings);
    let body = dto::friendship(&mut conn, row, &urls).await?;
    Ok(match outcome {
        RequestOutcome::Created => HttpResponse::Created().json(body),
        RequestOutcome::AcceptedTheirs => HttpResponse::Ok().json(body),
    })
}

/// The recipient accepts, rejects or blocks.
///
/// Blocking ends a friendship: friends-only dex entries leave each other's view.
#[utoipa::path(
    post, path = "/api/v1/social/friendships/{pk}/respond/", tag = "friendships",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The friendship's id.")),
    request_body = RespondRequest,
    responses(
        (status = 200, description = "The row with its new status.", body = dto::FriendshipResponse),
        (status = 400, description = "An invalid `action` (field error), or accepting or \
            rejecting a request that is no longer pending.",
            body = crate::docs::schemas::BadRequest),
        (status = 403, description = "The caller sent the request: only the recipient may answer.",
            body = crate::docs::schemas::RuleError),
    )
)]
pub async fn respond_to_request(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    pk: web::Path<String>,
    body: crate::input::Json,
) -> ApiResult<HttpResponse> {
    let id = path_uuid(&pk)?;
    let mut conn = state.db.get().await?;
    let row = Friendship::find_for_party(&mut conn, id, me.id)
        .await?
        .ok_or(ApiError::not_found(Missing::Friendship))?;
    // The recipient check comes before body validation, as on the old server.
    if row.to_user_id != me.id {
        return Err(ApiError(Error::ForbiddenBecause(
            "Only the recipient can respond to this request".to_owned(),
        )));
    }
    let RespondRequest {
        action: Required(action),
    } = from_fields(object(body.into_inner())?)?;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            // Read again under a lock: an unfriend or another answer may have changed the row.
            let row = Friendship::lock(conn, row.id)
                .await?
                .filter(|r| r.to_user_id == me.id)
                .ok_or(ApiError::not_found(Missing::Friendship))?;
            let was_friends = row.status == FriendshipStatus::Accepted;
            let row = Friendship::respond(conn, &row, me.id, action).await?;
            if was_friends && row.status == FriendshipStatus::Blocked {
                DexEntry::on_friendship_ended(conn, row.from_user_id, row.to_user_id).await?;
            }
            Ok(row)
        })
        .await?;
    tracing::info!(friendship.id = %row.id, status = %row.status, "friend request answered");
    crate::graph::invalidate::friendship_changed(&state, row.from_user_id, row.to_user_id).await;
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(dto::friendship(&mut conn, row, &urls).await?))
}

/// Ends a friendship. `pk` is the friendship id or the other user's id
/// (docs/wire-compatibility.md#m2).
///
/// Either party may delete the row, whatever its status, except a blocked user (the block
/// stays). Ending a friendship hides friends-only dex entries from each other again.
#[utoipa::path(
    delete, path = "/api/v1/social/friendships/{pk}/unfriend/", tag = "friendships",
    security(("jwt" = [])),
    params(("pk" = Uuid, Path, description = "The friendship's id, or the other user's id.")),
    responses((status = 204, description = "The row is deleted."))
)]
pub async fn unfriend(
    state: web::Data<AppState>,
    me: AuthUser,
    pk: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let key = path_uuid(&pk).map_err(|_| ApiError::not_found(Missing::Friendship))?;
    let mut conn = state.db.get().await?;
    let row = conn
        .transaction::<_, ApiError, _>(async |conn| {
            let row = Friendship::remove(conn, me.id, key).await?;
            if row.status == FriendshipStatus::Accepted {
                // Friends-only entries leave each other's view; their image URLs are revoked.
                DexEntry::on_friendship_ended(conn, row.from_user_id, row.to_user_id).await?;
            }
            Ok(row)
        })
        .await?;
    tracing::info!(friendship.id = %row.id, user.id = %me.id, "friendship removed");
    crate::graph::invalidate::friendship_changed(&state, row.from_user_id, row.to_user_id).await;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(serde::Deserialize)]
pub struct CheckQuery {
    user_id: Option<String>,
}

// Fields in alphabetical order: the order the keys have always had on the wire.
/// The caller's relation with another user.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CheckResponse {
    /// Whether they are friends (an accepted row either way).
    is_friends: bool,
    /// A pending request between them, in either direction, or null.
    #[schema(required = true)]
    pending_request: Option<dto::FriendshipResponse>,
    #[schema(value_type = Uuid)]
    user_id: UserId,
    username: String,
}

/// Are we friends, and is a request pending either way?
#[utoipa::path(
    get, path = "/api/v1/social/friendships/check/", tag = "friendships",
    security(("jwt" = [])),
    params(("user_id" = Uuid, Query, description = "The other user's id (required).")),
    responses(
        (status = 200, body = CheckResponse),
        (status = 400, description = "`user_id` missing (a rule error) or not a UUID (a field \
            error).", body = crate::docs::schemas::BadRequest),
        (status = 404, description = "No such user, or a block between the two.",
            body = crate::docs::schemas::RuleError),
    )
)]
pub async fn check_friendship(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    query: web::Query<CheckQuery>,
) -> ApiResult<HttpResponse> {
    let raw = query
        .user_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::rule("user_id parameter required"))?;
    let other = Uuid::try_parse(raw)
        .map(UserId)
        .map_err(|_| ApiError::field("user_id", "Must be a valid UUID."))?;
    let not_found = || ApiError(Error::NotFoundBecause("User not found".to_owned()));
    let mut conn = state.db.get().await?;
    let user = User::find(&mut conn, other).await?.ok_or_else(not_found)?;
    let row = Friendship::between(&mut conn, me.id, other).await?;
    if row
        .as_ref()
        .is_some_and(|r| r.status == FriendshipStatus::Blocked)
    {
        return Err(not_found());
    }
    let is_friends = row
        .as_ref()
        .is_some_and(|r| r.status == FriendshipStatus::Accepted);
    let urls = MediaUrls::new(&req, &state.settings);
    let pending_request = match row.filter(|r| r.status == FriendshipStatus::Pending) {
        Some(r) => Some(dto::friendship(&mut conn, r, &urls).await?),
        None => None,
    };
    Ok(HttpResponse::Ok().json(CheckResponse {
        is_friends,
        pending_request,
        user_id: other,
        username: user.user.username,
    }))
}
