//! The authenticated-user extractors. Authentication runs before permissions: an invalid token
//! is a 401 even on endpoints anonymous callers may use.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use biologidex_core::Error;
use biologidex_db::models::accounts::{User, UserView};
use uuid::Uuid;

use super::jwt::Rejection;
use crate::{ApiError, state::AppState};

/// A caller with a valid access token for an active account.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub username: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    /// The caller's account and profile, loaded by the same query that authenticated them.
    pub view: std::sync::Arc<UserView>,
}

impl AuthUser {
    /// May this caller act on `user`'s account?
    pub fn may_manage(&self, user: Uuid) -> bool {
        self.id == user || self.is_staff
    }
}

/// The bearer token of the request, if it sent one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme == "Bearer" && !token.trim().is_empty()).then(|| token.trim())
}

async fn authenticate(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
) -> Result<AuthUser, ApiError> {
    let claims = state.jwt.verify_access(req, token).map_err(|r| {
        ApiError(Error::InvalidAccessToken(match r {
            Rejection::Expired => "Token is expired",
            Rejection::Invalid => "Token is invalid",
        }))
    })?;
    let mut conn = state.db.get().await?;
    let found = User::find_for_access(&mut conn, claims.user_id, claims.family_id).await?;
    // A password change refuses access tokens issued before it, a logout those of its login.
    let valid_after = |v: &UserView| v.user.tokens_valid_after.timestamp_micros() as f64 / 1e6;
    match found {
        Some((v, false)) if v.user.is_active && claims.iat >= valid_after(&v) => Ok(AuthUser {
            id: v.user.id,
            username: v.user.username.clone(),
            is_staff: v.user.is_staff,
            is_superuser: v.user.is_superuser,
            view: std::sync::Arc::new(v),
        }),
        _ => Err(ApiError(Error::InvalidAccessToken("Token is invalid"))),
    }
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError(Error::Internal(anyhow::anyhow!("AppState missing"))))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let token = bearer(&req).ok_or(ApiError(Error::Unauthorized))?;
            authenticate(&state, &req, token).await
        })
    }
}

/// The caller if a token was sent (anonymous otherwise); a bad token is still a 401.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            match bearer(&req) {
                None => Ok(MaybeAuthUser(None)),
                Some(token) => authenticate(&state, &req, token)
                    .await
                    .map(|u| MaybeAuthUser(Some(u))),
            }
        })
    }
}
