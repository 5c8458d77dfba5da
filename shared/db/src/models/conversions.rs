//! Image conversions: step one of the two-step upload. A conversion expires after 30 minutes;
//! jobs made from it reference its stored image themselves, so deleting a conversion never
//! deletes a photo a job or a dex entry uses.

use biologidex_core::ids::{ImageConversionId, StoredImageId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::schema::{image_conversions, stored_images};

/// A conversion row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = image_conversions)]
pub struct Conversion {
    pub id: ImageConversionId,
    pub user_id: UserId,
    pub converted_image_id: Option<StoredImageId>,
    pub thumbnail_image_id: Option<StoredImageId>,
    pub original_format: String,
    pub original_size: Option<Value>,
    pub converted_size: Option<Value>,
    pub transformations: Value,
    pub checksum: String,
    pub capture_metadata: Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_in_job: bool,
}

/// A new conversion (its images already stored in the same transaction).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = image_conversions)]
pub struct NewConversion {
    pub user_id: UserId,
    pub converted_image_id: Option<StoredImageId>,
    pub thumbnail_image_id: Option<StoredImageId>,
    pub original_format: String,
    pub original_size: Option<Value>,
    pub converted_size: Option<Value>,
    pub transformations: Value,
    pub checksum: String,
    pub capture_metadata: Value,
}

impl Conversion {
    /// Inserts a conversion.
    pub async fn insert(
        conn: &mut AsyncPgConnection,
        new: &NewConversion,
    ) -> QueryResult<Conversion> {
        diesel::insert_into(image_conversions::table)
            .values(new)
            .returning(Conversion::as_returning())
            .get_result(conn)
            .await
    }

    /// A conversion of `owner`.
    pub async fn find_owned(
        conn: &mut AsyncPgConnection,
        id: ImageConversionId,
        owner: UserId,
    ) -> QueryResult<Option<Conversion>> {
        image_conversions::table
            .find(id)
            .filter(image_conversions::user_id.eq(owner))
            .select(Conversion::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// Storage key of the converted PNG.
    pub async fn image_key(
        conn: &mut AsyncPgConnection,
        image_id: StoredImageId,
    ) -> QueryResult<String> {
        stored_images::table
            .find(image_id)
            .select(stored_images::storage_key)
            .first(conn)
            .await
    }

    /// Marks the conversion used by a job.
    pub async fn mark_used(
        conn: &mut AsyncPgConnection,
        id: ImageConversionId,
    ) -> QueryResult<usize> {
        diesel::update(image_conversions::table.find(id))
            .set(image_conversions::used_in_job.eq(true))
            .execute(conn)
            .await
    }

    /// Deletes conversions that expired before `before` and no job used. Their images go
    /// with the stored-image cleanup once nothing else references them.
    pub async fn delete_expired_unused(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(
            image_conversions::table
                .filter(image_conversions::expires_at.lt(before))
                .filter(image_conversions::used_in_job.eq(false)),
        )
        .execute(conn)
        .await
    }

    /// Deletes used conversions older than `before`: the jobs hold their own image references.
    pub async fn delete_used_older_than(
        conn: &mut AsyncPgConnection,
        before: DateTime<Utc>,
    ) -> QueryResult<usize> {
        diesel::delete(
            image_conversions::table
                .filter(image_conversions::expires_at.lt(before))
                .filter(image_conversions::used_in_job.eq(true)),
        )
        .execute(conn)
        .await
    }
}
