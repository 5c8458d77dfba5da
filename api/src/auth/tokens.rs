//! Issuing token pairs: every refresh token is recorded in its login's family.

use biologidex_core::ids::UserId;
use biologidex_db::models::tokens;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::jwt::TokenType;
use crate::{ApiResult, state::AppState};

/// A fresh access and refresh token.
#[derive(Debug)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
    pub refresh_expires: DateTime<Utc>,
}

/// Issues a pair for `user_id` in `family` (a new login passes a new family).
pub async fn issue_pair(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    user_id: UserId,
    family: Uuid,
) -> ApiResult<TokenPair> {
    let settings = &state.settings;
    let (access, _) = state.jwt.issue_in_family(
        TokenType::Access,
        user_id,
        Uuid::new_v4(),
        Some(family),
        settings.jwt_access_lifetime,
    )?;
    let jti = Uuid::new_v4();
    let (refresh, refresh_expires) = state.jwt.issue(
        TokenType::Refresh,
        user_id,
        jti,
        settings.jwt_refresh_lifetime,
    )?;
    tokens::record(conn, jti, user_id, family, refresh_expires).await?;
    Ok(TokenPair {
        access,
        refresh,
        refresh_expires,
    })
}
