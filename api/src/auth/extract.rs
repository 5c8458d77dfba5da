//! The authenticated-user extractors. Authentication runs before permissions: an invalid token
//! is a 401 even on endpoints anonymous callers may use.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use biologidex_core::Error;
use biologidex_core::ids::UserId;
use biologidex_db::models::accounts::{AuthInfo, User, UserView};
use uuid::Uuid;

use super::jwt::Rejection;
use crate::{ApiError, state::AppState};

/// A caller with a valid access token for an active account.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: UserId,
    pub username: String,
    pub is_staff: bool,
    pub is_superuser: bool,
    /// The caller's account and profile when authentication read them for this request
    /// (`None` when it answered from the cache).
    pub view: Option<std::sync::Arc<UserView>>,
}

impl AuthUser {
    /// May this caller act on `user`'s account?
    pub fn may_manage(&self, user: UserId) -> bool {
        self.id == user || self.is_staff
    }

    fn new(info: &AuthInfo, view: Option<UserView>) -> Self {
        AuthUser {
            id: info.id,
            username: info.username.clone(),
            is_staff: info.is_staff,
            is_superuser: info.is_superuser,
            view: view.map(std::sync::Arc::new),
        }
    }
}

/// The bearer token of the request, if it sent one.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme == "Bearer" && !token.trim().is_empty()).then(|| token.trim())
}

fn invalid() -> ApiError {
    ApiError(Error::InvalidAccessToken("Token is invalid"))
}

/// An active account that has not refused tokens issued at `iat` since.
fn admits(info: &AuthInfo, iat: f64) -> bool {
    // A password change refuses access tokens issued before it, a logout those of its login.
    info.is_active && iat >= info.tokens_valid_after.timestamp_micros() as f64 / 1e6
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
    // A token without a family (issued before families were in access tokens) matches none.
    let family = claims.family_id.unwrap_or_else(Uuid::nil);
    if let Some(info) = state.auth_cache.get(claims.user_id, family) {
        state.metrics.auth_cache.with_label_values(&["hit"]).inc();
        return admits(&info, claims.iat)
            .then(|| AuthUser::new(&info, None))
            .ok_or_else(invalid);
    }
    let ticket = state.auth_cache.ticket();
    let result = if ticket.is_some() { "miss" } else { "off" };
    state.metrics.auth_cache.with_label_values(&[result]).inc();
    let mut conn = state.db.get().await?;
    let found = User::find_for_access(&mut conn, claims.user_id, Some(family)).await?;
    let Some((view, false)) = found else {
        return Err(invalid());
    };
    let info = AuthInfo::of(&view.user);
    if !admits(&info, claims.iat) {
        return Err(invalid());
    }
    if let Some(ticket) = ticket {
        state.auth_cache.store(ticket, family, &info);
    }
    Ok(AuthUser::new(&info, Some(view)))
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
