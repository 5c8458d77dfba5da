//! `POST /api/v1/users/`: registration (anyone; works when authenticated too).

use actix_web::{HttpRequest, HttpResponse, web};
use biologidex_core::domain::{email, password, username};
use biologidex_db::models::accounts::{NewUser, User};

use super::UserResponse;
use crate::{ApiResult, input::Body, media::MediaUrls, state::AppState};

/// Creates an account with a profile and a friend code. No tokens: the client logs in next.
#[utoipa::path(
    post, path = "/api/v1/users/", tag = "users",
    request_body = super::schema::RegisterRequest,
    responses(
        (status = 201, description = "The new account, email included.", body = UserResponse),
    )
)]
pub async fn register_user(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: crate::input::Json<{ crate::input::CREDENTIALS_MAX }>,
) -> ApiResult<HttpResponse> {
    let mut body = Body::new(
        body.into_inner(),
        &["username", "email", "password", "password_confirm"],
    )?;
    let name = body
        .required_str("username")
        .and_then(|raw| match username::parse(&raw) {
            Ok(n) => Some(n),
            Err(errs) => {
                body.errors("username", errs);
                None
            }
        });
    let mail = body
        .required_str("email")
        .and_then(|raw| match email::parse(&raw) {
            Ok(e) => Some(e),
            Err(errs) => {
                body.errors("email", errs);
                None
            }
        });
    let pw = body.required_str("password");
    if let Some(pw) = &pw {
        body.errors("password", password::strength_errors(pw));
    }
    let confirm = body.required_str("password_confirm");
    // DRF checks the confirmation only once every field is valid.
    if body.is_clean() && pw != confirm {
        body.error("password", "Password fields didn't match.");
    }
    body.finish()?;
    let (Some(name), Some(mail), Some(pw)) = (name, mail, pw) else {
        return Err(anyhow::anyhow!("validated registration fields missing").into());
    };
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
