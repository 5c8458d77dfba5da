//! Refresh-token records (one per issued refresh token; a family per login).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::refresh_tokens;

/// Deletes records whose token has expired: they can never be presented again.
pub async fn purge_expired(conn: &mut AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(diesel::dsl::now)))
        .execute(conn)
        .await
}
