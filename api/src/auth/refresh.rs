//! `POST /auth/refresh/` and `POST /auth/logout/`. A refresh returns a new pair in the same
//! family; the presented token stays valid until its own expiry (the shipped client keeps its
//! login token, docs/wire-compatibility.md#m1). Logout revokes the whole family.

use actix_web::{HttpResponse, web};
use biologidex_core::Error;
use biologidex_db::models::{accounts::User, tokens};
use diesel_async::AsyncConnection;
use serde::Serialize;

use super::schema::RefreshRequest;
use super::{
    jwt::{Claims, Rejection, TokenType},
    tokens::issue_pair,
};
use crate::{ApiError, ApiResult, docs::schemas::Message, request::Valid, state::AppState};

/// A fresh token pair.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RefreshResponse {
    access: String,
    refresh: String,
}

fn invalid(detail: &'static str) -> ApiError {
    ApiError(Error::InvalidRefreshToken(detail))
}

fn refresh_claims(state: &AppState, body: RefreshRequest) -> ApiResult<Claims> {
    state
        .jwt
        .verify(&body.refresh.0, TokenType::Refresh)
        .map_err(|r| match r {
            Rejection::Expired => invalid("Token is expired"),
            Rejection::Invalid => invalid("Token is invalid"),
        })
}

/// The presented refresh token's claims and record (which must exist).
async fn presented(
    state: &AppState,
    conn: &mut diesel_async::AsyncPgConnection,
    body: RefreshRequest,
) -> ApiResult<(Claims, tokens::RefreshToken)> {
    let claims = refresh_claims(state, body)?;
    let jti = claims
        .jti_uuid()
        .ok_or_else(|| invalid("Token is invalid"))?;
    let record = tokens::find(conn, jti)
        .await?
        .ok_or_else(|| invalid("Token is invalid"))?;
    Ok((claims, record))
}

/// Exchanges a refresh token for a new access token and refresh token.
#[utoipa::path(
    post, path = "/api/v1/auth/refresh/", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = RefreshResponse),
        (status = 401, description = "Expired, invalid or revoked refresh token.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Valid<RefreshRequest, { crate::input::CREDENTIALS_MAX }>,
) -> ApiResult<HttpResponse> {
    let claims = refresh_claims(&state, body.into_inner())?;
    let jti = claims
        .jti_uuid()
        .ok_or_else(|| invalid("Token is invalid"))?;
    let mut conn = state.db.get().await?;
    let pair = conn
        .transaction::<_, ApiError, _>(async |conn| {
            // The user row first: a password change either committed before (the record then
            // reads revoked) or waits for this pair and revokes it too.
            let user = User::lock_auth_info(conn, claims.user_id, false).await?;
            let record = tokens::find(conn, jti)
                .await?
                .ok_or_else(|| invalid("Token is invalid"))?;
            if record.revoked_at.is_some() {
                return Err(invalid("Token is blacklisted"));
            }
            if record.user_id != claims.user_id {
                return Err(invalid("Token is invalid"));
            }
            match user {
                Some(u) if u.is_active => {}
                _ => return Err(invalid("No active account found for the given token.")),
            }
            issue_pair(&state, conn, record.user_id, record.family_id).await
        })
        .await?;
    Ok(HttpResponse::Ok().json(RefreshResponse {
        access: pair.access,
        refresh: pair.refresh,
    }))
}

/// Revokes every refresh token issued from the same login.
#[utoipa::path(
    post, path = "/api/v1/auth/logout/", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = Message),
        (status = 401, description = "Expired or invalid refresh token.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn logout(
    state: web::Data<AppState>,
    body: Valid<RefreshRequest, { crate::input::CREDENTIALS_MAX }>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db.get().await?;
    let (_, record) = presented(&state, &mut conn, body.into_inner()).await?;
    tokens::revoke_family(&mut conn, record.family_id).await?;
    state.auth_cache.forget(record.user_id);
    tracing::info!(user.id = %record.user_id, "logout");
    Ok(HttpResponse::Ok().json(Message::new("Successfully logged out.")))
}
