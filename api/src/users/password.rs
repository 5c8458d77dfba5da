//! `POST /users/me/password/`: change the password. Every refresh token and every access
//! token issued before the change stop working; the response carries a fresh pair.

use actix_web::{HttpResponse, web};
use biologidex_core::domain::password::{self, Verified};
use biologidex_core::error::{FieldErrors, Missing};
use biologidex_db::models::{accounts::User, tokens};
use diesel_async::AsyncConnection;
use serde::Serialize;
use uuid::Uuid;

use crate::{
    ApiError, ApiResult,
    auth::{AuthUser, tokens::issue_pair},
    request::{Optional, Required, Valid},
    state::AppState,
    users::schema::PasswordChangeRequest,
};

// Fields in alphabetical order: the order the keys have always had on the wire.
/// A changed password: the confirmation and a fresh token pair.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PasswordChangedResponse {
    /// Access token (24 h) issued after the change.
    access: String,
    /// `Password changed.`
    detail: &'static str,
    /// Refresh token (30 days) issued after the change.
    refresh: String,
}

/// Changes the caller's password after checking the old one.
///
/// Every token issued before the change stops working; the response carries a fresh pair.
#[utoipa::path(
    post, path = "/api/v1/users/me/password/", tag = "users",
    security(("jwt" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 200, body = PasswordChangedResponse),
    )
)]
pub async fn change_password(
    state: web::Data<AppState>,
    me: AuthUser,
    body: Valid<PasswordChangeRequest, { crate::input::CREDENTIALS_MAX }>,
) -> ApiResult<HttpResponse> {
    let PasswordChangeRequest {
        old_password: Required(old),
        new_password: Required(new),
        new_password_confirm: Optional(confirm),
    } = body.into_inner();
    // Both problems at once, as DRF reports them.
    let mut errors = FieldErrors::new();
    let weak = password::strength_errors(&new);
    if !weak.is_empty() {
        errors.insert("new_password".to_owned(), weak);
    }
    if confirm.is_some_and(|c| c != new) {
        errors.insert(
            "new_password_confirm".to_owned(),
            vec!["The two password fields didn't match.".to_owned()],
        );
    }
    if !errors.is_empty() {
        return Err(ApiError(biologidex_core::Error::Validation(errors)));
    }

    let mut conn = state.db.get().await?;
    let user = User::find(&mut conn, me.id)
        .await?
        .ok_or(ApiError::not_found(Missing::User))?;
    let stored = user.user.password_hash;
    let ok = biologidex_core::cpu::run(move || password::verify(&old, &stored)).await?;
    if ok == Verified::Mismatch {
        return Err(ApiError::field(
            "old_password",
            "Your old password was entered incorrectly. Please enter it again.",
        ));
    }
    let hash = biologidex_core::cpu::run(move || password::hash(&new)).await??;
    conn.transaction::<_, ApiError, _>(async |conn| {
        // Locked before the cut-off is taken: a refresh in flight finishes first, and its
        // pair is then both older than the cut-off and revoked below.
        User::lock_auth_info(conn, me.id, true).await?;
        User::set_password_hash(conn, me.id, &hash, Some(chrono::Utc::now())).await?;
        tokens::revoke_all_for_user(conn, me.id).await?;
        Ok(())
    })
    .await?;
    state.auth_cache.forget(me.id);
    let pair = issue_pair(&state, &mut conn, me.id, Uuid::new_v4()).await?;
    tracing::info!(user.id = %me.id, "password changed; all tokens revoked");
    Ok(HttpResponse::Ok().json(PasswordChangedResponse {
        access: pair.access,
        detail: "Password changed.",
        refresh: pair.refresh,
    }))
}
