//! Stored image files: content-addressed (the key is derived from the SHA-256), shared by every
//! row that uses the same bytes. The RESTRICT foreign keys make the database the reference
//! count: a stored image cannot be deleted while anything points at it.

use biologidex_core::ids::StoredImageId;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::schema::stored_images;
use biologidex_media::storage::Storage;

pub use biologidex_media::blob::ImageBlob;

/// Records `blob` and writes its file. Call inside the transaction that inserts the row which
/// references it. Bytes already stored are only locked `FOR KEY SHARE`: a concurrent cleanup's
/// delete waits for this transaction and then meets the new reference, while other writers of
/// the same bytes do not wait for each other (a shared picture no longer serialises uploads).
/// A row always has its file (both are written in one transaction), so a known image is not
/// written again. New bytes are inserted, and their file written, under the new row's lock.
pub async fn store(
    conn: &mut AsyncPgConnection,
    storage: &dyn Storage,
    blob: &ImageBlob,
) -> anyhow::Result<StoredImageId> {
    let key = blob.key();
    loop {
        let known: Option<StoredImageId> = stored_images::table
            .filter(stored_images::storage_key.eq(&key))
            .select(stored_images::id)
            .for_key_share()
            .first(conn)
            .await
            .optional()?;
        if let Some(id) = known {
            return Ok(id);
        }
        let inserted: Option<StoredImageId> = diesel::insert_into(stored_images::table)
            .values((
                stored_images::storage_key.eq(&key),
                stored_images::checksum.eq(&blob.checksum),
                stored_images::content_type.eq(blob.content_type),
                stored_images::width.eq(i32::try_from(blob.width).ok()),
                stored_images::height.eq(i32::try_from(blob.height).ok()),
                stored_images::byte_size.eq(i64::try_from(blob.bytes.len()).unwrap_or(i64::MAX)),
            ))
            .on_conflict(stored_images::storage_key)
            .do_nothing()
            .returning(stored_images::id)
            .get_result(conn)
            .await
            .optional()?;
        if let Some(id) = inserted {
            storage.put(&key, &blob.bytes).await?;
            return Ok(id);
        }
        // Another transaction stored the same bytes in between: lock its row instead.
    }
}

/// Checksum of a stored image.
pub async fn checksum(conn: &mut AsyncPgConnection, id: StoredImageId) -> QueryResult<String> {
    stored_images::table
        .find(id)
        .select(stored_images::checksum)
        .first(conn)
        .await
}

/// Deletes stored images older than `before` that nothing references, with their files.
/// Returns how many went. Each deletion and its file removal share a transaction, and the
/// foreign keys refuse to delete an image something points at.
pub async fn delete_unreferenced(
    conn: &mut AsyncPgConnection,
    storage: &dyn Storage,
    before: DateTime<Utc>,
    batch: i64,
) -> anyhow::Result<usize> {
    #[derive(QueryableByName)]
    struct Candidate {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: StoredImageId,
    }
    let candidates: Vec<Candidate> = diesel::sql_query(
        "SELECT s.id FROM stored_images s \
         WHERE s.created_at < $1 \
           AND NOT EXISTS (SELECT 1 FROM dex_entries d WHERE d.image_id = s.id) \
           AND NOT EXISTS (SELECT 1 FROM analysis_jobs j WHERE j.image_id = s.id) \
           AND NOT EXISTS (SELECT 1 FROM image_conversions c WHERE c.original_image_id = s.id \
                            OR c.converted_image_id = s.id OR c.thumbnail_image_id = s.id) \
         LIMIT $2",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(before)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .load(conn)
    .await?;
    let mut deleted = 0;
    for c in candidates {
        let result = conn
            .transaction::<_, anyhow::Error, _>(async |conn| {
                let key: Option<String> = diesel::delete(stored_images::table.find(c.id))
                    .returning(stored_images::storage_key)
                    .get_result(conn)
                    .await
                    .optional()?;
                if let Some(key) = &key {
                    storage.delete(key).await?;
                }
                Ok(key.is_some())
            })
            .await;
        match result {
            Ok(true) => deleted += 1,
            Ok(false) => {}
            // Referenced again since it was picked (the foreign key refused): keep it.
            Err(e) => tracing::debug!(stored_image.id = %c.id, error = %e, "stored image kept"),
        }
    }
    Ok(deleted)
}
