//! `POST /api/v1/auth/login/`: username and password for a token pair and the user.

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::error::Missing;
use biologidex_core::{
    Error,
    domain::password::{self, Verified},
};
use biologidex_db::models::accounts::User;
use serde::Serialize;
use uuid::Uuid;

use super::schema::LoginRequest;
use super::tokens::issue_pair;
use crate::{
    ApiError, ApiResult,
    media::MediaUrls,
    request::{Required, Valid},
    state::AppState,
    users::UserResponse,
};

/// Checks the password on the password threads (argon2 costs tens of milliseconds).
async fn check_password(pw: String, stored: Option<String>) -> ApiResult<Verified> {
    let verified = biologidex_core::cpu::run(move || match stored {
        Some(stored) => password::verify(&pw, &stored),
        None => {
            password::verify_dummy(&pw);
            Verified::Mismatch
        }
    })
    .await?;
    Ok(verified)
}

/// A successful login: the token pair and the user, as the client stores them.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Refresh token (30 days).
    refresh: String,
    /// Access token (24 h): `Authorization: Bearer <access>`.
    access: String,
    user: UserResponse,
}

/// Logs in; legacy Django hashes are upgraded to argon2id on success.
#[utoipa::path(
    post, path = "/api/v1/auth/login/", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong username or password, or an inactive account.",
            body = crate::docs::schemas::Detail),
    )
)]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Valid<LoginRequest, { crate::input::CREDENTIALS_MAX }>,
) -> ApiResult<HttpResponse> {
    let LoginRequest {
        username: Required(username),
        password: Required(pw),
    } = body.into_inner();

    let mut conn = state.db.get().await?;
    let user = User::find_by_username(&mut conn, &username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let verified = check_password(pw.clone(), stored).await?;
    let user = match (user, verified) {
        (Some(u), Verified::Ok | Verified::OkNeedsUpgrade) if u.is_active => u,
        _ => return Err(ApiError(Error::BadCredentials)),
    };
    if verified == Verified::OkNeedsUpgrade {
        let hash = biologidex_core::cpu::run(move || password::hash(&pw)).await??;
        User::set_password_hash(&mut conn, user.id, &hash, None).await?;
        tracing::info!(user.id = %user.id, "legacy password hash upgraded to argon2id");
    }
    let pair = issue_pair(&state, &mut conn, user.id, Uuid::new_v4()).await?;
    User::touch_last_login(&mut conn, user.id).await?;
    let view = User::find(&mut conn, user.id)
        .await?
        .ok_or(ApiError::not_found(Missing::User))?;
    tracing::info!(user.id = %user.id, "login");
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Ok().json(LoginResponse {
        refresh: pair.refresh,
        access: pair.access,
        user: UserResponse::new(view, &urls, true),
    }))
}
