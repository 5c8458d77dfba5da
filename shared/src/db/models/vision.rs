//! Analysis (vision) jobs.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{analysis_jobs, stored_images};

/// The image of `owner`'s job `job_id` as (stored image id, checksum), if the job is theirs
/// and has one.
pub async fn image_of_owned_job(
    conn: &mut AsyncPgConnection,
    job_id: Uuid,
    owner: Uuid,
) -> QueryResult<Option<(Uuid, String)>> {
    analysis_jobs::table
        .inner_join(stored_images::table)
        .filter(analysis_jobs::id.eq(job_id))
        .filter(analysis_jobs::user_id.eq(owner))
        .select((stored_images::id, stored_images::checksum))
        .first(conn)
        .await
        .optional()
}

/// Does `owner` have a job with this id (with or without an image)?
pub async fn owns_job(
    conn: &mut AsyncPgConnection,
    job_id: Uuid,
    owner: Uuid,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        analysis_jobs::table
            .filter(analysis_jobs::id.eq(job_id))
            .filter(analysis_jobs::user_id.eq(owner)),
    ))
    .get_result(conn)
    .await
}

/// The image reachable through a job's capability token: (storage key, content type).
pub async fn image_by_token(
    conn: &mut AsyncPgConnection,
    token: &str,
) -> QueryResult<Option<(String, String)>> {
    analysis_jobs::table
        .inner_join(stored_images::table)
        .filter(analysis_jobs::image_token.eq(token))
        .select((stored_images::storage_key, stored_images::content_type))
        .first(conn)
        .await
        .optional()
}
