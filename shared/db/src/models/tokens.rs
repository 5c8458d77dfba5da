//! Refresh-token records: one per issued refresh token, grouped in a family per login.
//! Refreshing adds a token to the family; the presented one stays valid until its own expiry
//! (the shipped client re-sends its login token on every start, docs/decisions.md#d4). Logout and a
//! password change revoke whole families.

use biologidex_core::ids::UserId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::schema::refresh_tokens;

/// A refresh-token record.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshToken {
    pub jti: Uuid,
    pub user_id: UserId,
    pub family_id: Uuid,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Records a newly issued refresh token.
pub async fn record(
    conn: &mut AsyncPgConnection,
    jti: Uuid,
    user_id: UserId,
    family_id: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::jti.eq(jti),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
}

/// The record of a presented token, if any.
pub async fn find(conn: &mut AsyncPgConnection, jti: Uuid) -> QueryResult<Option<RefreshToken>> {
    refresh_tokens::table
        .find(jti)
        .select(RefreshToken::as_select())
        .first(conn)
        .await
        .optional()
}

/// Revokes every token of a family (logout).
pub async fn revoke_family(conn: &mut AsyncPgConnection, family_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Revokes every token of a user (password change).
pub async fn revoke_all_for_user(
    conn: &mut AsyncPgConnection,
    user_id: UserId,
) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await
}

/// Deletes records whose token has expired: they can never be presented again.
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(diesel::dsl::now)))
        .execute(conn)
        .await
}
