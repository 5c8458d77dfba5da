//! `POST /api/v1/users/`: registration (anyone; works when authenticated too).

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::domain::password;
use biologidex_db::models::accounts::{NewUser, User};

use super::{
    UserResponse,
    fields::{Email, NewPassword, Username},
    schema::RegisterRequest,
};
use crate::{
    ApiError, ApiResult,
    media::MediaUrls,
    request::{Required, Valid},
    state::AppState,
};

/// Creates an account with a profile and a friend code. No tokens: the client logs in next.
#[utoipa::path(
    post, path = "/api/v1/users/", tag = "users",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account, email included.", body = UserResponse),
    )
)]
pub async fn register_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Valid<RegisterRequest, { crate::input::CREDENTIALS_MAX }>,
) -> ApiResult<HttpResponse> {
    let RegisterRequest {
        username: Required(Username(name)),
        email: Required(Email(mail)),
        password: Required(NewPassword(pw)),
        password_confirm: Required(confirm),
    } = body.into_inner();
    // DRF checks the confirmation only once every field is valid.
    if pw != confirm {
        return Err(ApiError::field("password", "Password fields didn't match."));
    }
    let hash = biologidex_core::cpu::run(move || password::hash(&pw)).await??;
    let mut conn = state.db.get().await?;
    let view = User::create(
        &mut conn,
        &NewUser {
            username: name,
            email: mail,
            password_hash: hash,
            is_staff: false,
            is_superuser: false,
        },
    )
    .await?;
    tracing::info!(user.id = %view.user.id, "user registered");
    let urls = MediaUrls::new(&req, &state.settings);
    Ok(HttpResponse::Created().json(UserResponse::new(view, &urls, true)))
}
