//! Files of the old `MEDIA_ROOT`, copied into this server's content-addressed storage. Each file
//! goes through the upload pipeline (real format check, EXIF orientation applied, metadata such
//! as GPS stripped, PNG), so an imported image is served exactly like a new upload. A file is
//! converted once: `django_import_media` remembers which stored image an old path became, so a
//! file shared by a conversion, a job and an entry, or met again by a later run, is reused.

use std::{
    collections::{BTreeSet, HashMap},
    path::{Component, Path, PathBuf},
};

use diesel::sql_types::{Array, Jsonb, Nullable, Text, Uuid as SqlUuid, VarChar};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::{StreamExt, stream};
use serde::Serialize;
use uuid::Uuid;

use super::report::MediaCounts;
use biologidex_media::{images, storage::SharedStorage};

/// What an old file is used as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A photo of an entry, job or conversion: a `stored_images` row, served by capability URL.
    Image,
    /// A profile picture: public, written under `avatars/` and named by `users.avatar`.
    Avatar,
}

/// An old file once stored here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The `stored_images` row (images only).
    pub image_id: Option<Uuid>,
    pub key: String,
    pub checksum: String,
}

/// Copies old media files into the storage.
pub struct Media {
    root: PathBuf,
    storage: SharedStorage,
    /// Convert and count, but write nothing.
    dry_run: bool,
}

#[derive(diesel::QueryableByName)]
struct Known {
    #[diesel(sql_type = Text)]
    old_path: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    stored_image_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    storage_key: Option<String>,
    #[diesel(sql_type = Nullable<VarChar>)]
    checksum: Option<String>,
}

#[derive(diesel::QueryableByName)]
struct Inserted {
    #[diesel(sql_type = Text)]
    storage_key: String,
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// A converted file, its bytes already written (or dropped in a dry run).
#[derive(Debug, Serialize)]
struct Converted {
    old_path: String,
    storage_key: String,
    checksum: String,
    content_type: &'static str,
    width: u32,
    height: u32,
    byte_size: usize,
}

enum Outcome {
    Done(Converted),
    Missing(String),
    Unreadable(String),
}

/// `old` as a path under `root`, refusing absolute paths and `..` (the old rows are data).
fn under(root: &Path, old: &str) -> Option<PathBuf> {
    let rel = Path::new(old);
    let plain = !old.is_empty()
        && !old.contains('\0')
        && rel.components().all(|c| matches!(c, Component::Normal(_)));
    plain.then(|| root.join(rel))
}

impl Media {
    pub fn new(root: PathBuf, storage: SharedStorage, dry_run: bool) -> Self {
        Media {
            root,
            storage,
            dry_run,
        }
    }

    /// Where `paths` are stored here, copying the ones no run has stored yet (several at once,
    /// on the CPU threads). Missing and unreadable files are counted and left out of the
    /// answer: their rows are imported without the image. Call inside the batch's
    /// transaction: the `stored_images` and bookkeeping rows commit with the rows using them.
    pub async fn resolve(
        &self,
        conn: &mut AsyncPgConnection,
        paths: &BTreeSet<String>,
        purpose: Purpose,
        counts: &mut MediaCounts,
    ) -> anyhow::Result<HashMap<String, Stored>> {
        let mut found = HashMap::new();
        if paths.is_empty() {
            return Ok(found);
        }
        let wanted: Vec<&String> = paths.iter().collect();
        let known: Vec<Known> = diesel::sql_query(
            "SELECT old_path, stored_image_id, storage_key, checksum \
             FROM django_import_media WHERE old_path = ANY($1)",
        )
        .bind::<Array<Text>, _>(&wanted)
        .load(conn)
        .await?;
        for k in known {
            let usable = match purpose {
                Purpose::Image => k.stored_image_id.is_some(),
                Purpose::Avatar => true,
            };
            if let (true, Some(key), Some(checksum)) = (usable, k.storage_key, k.checksum) {
                counts.reused += 1;
                found.insert(
                    k.old_path,
                    Stored {
                        image_id: k.stored_image_id,
                        key,
                        checksum,
                    },
                );
            }
        }
        let todo: Vec<String> = paths
            .iter()
            .filter(|p| !found.contains_key(*p))
            .cloned()
            .collect();
        let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
        let outcomes: Vec<anyhow::Result<Outcome>> = stream::iter(todo)
            .map(|path| self.copy(path, purpose))
            .buffer_unordered(parallel)
            .collect()
            .await;
        let mut done = Vec::new();
        for outcome in outcomes {
            match outcome? {
                Outcome::Done(c) => done.push(c),
                Outcome::Missing(p) => {
                    counts.missing += 1;
                    counts.note(format!("missing file: {p}"));
                }
                Outcome::Unreadable(p) => {
                    counts.unreadable += 1;
                    counts.note(format!("not a readable image: {p}"));
                }
            }
        }
        if done.is_empty() {
            return Ok(found);
        }
        counts.copied += done.len() as u64;
        let rows = serde_json::to_value(&done)?;
        let ids: HashMap<String, Uuid> = if purpose == Purpose::Image {
            // Content-addressed: the same bytes under two old names are one stored image.
            diesel::sql_query(
                "INSERT INTO stored_images AS s \
                     (storage_key, checksum, content_type, width, height, byte_size) \
                 SELECT DISTINCT ON (storage_key) storage_key, checksum, content_type, width, \
                        height, byte_size \
                 FROM jsonb_to_recordset($1) AS r(storage_key text, checksum text, \
                      content_type text, width int, height int, byte_size bigint) \
                 ON CONFLICT (storage_key) DO UPDATE SET storage_key = EXCLUDED.storage_key \
                 RETURNING s.storage_key, s.id",
            )
            .bind::<Jsonb, _>(&rows)
            .load::<Inserted>(conn)
            .await?
            .into_iter()
            .map(|r| (r.storage_key, r.id))
            .collect()
        } else {
            HashMap::new()
        };
        let mut map = Vec::with_capacity(done.len());
        for c in done {
            let image_id = ids.get(&c.storage_key).copied();
            map.push(serde_json::json!({
                "old_path": c.old_path, "stored_image_id": image_id,
                "storage_key": c.storage_key, "checksum": c.checksum,
            }));
            found.insert(
                c.old_path,
                Stored {
                    image_id,
                    key: c.storage_key,
                    checksum: c.checksum,
                },
            );
        }
        diesel::sql_query(
            "INSERT INTO django_import_media (old_path, stored_image_id, storage_key, checksum) \
             SELECT old_path, stored_image_id, storage_key, checksum \
             FROM jsonb_to_recordset($1) AS r(old_path text, stored_image_id uuid, \
                  storage_key text, checksum text) \
             ON CONFLICT (old_path) DO UPDATE SET stored_image_id = EXCLUDED.stored_image_id, \
                 storage_key = EXCLUDED.storage_key, checksum = EXCLUDED.checksum, \
                 imported_at = now()",
        )
        .bind::<Jsonb, _>(&serde_json::Value::Array(map))
        .execute(conn)
        .await?;
        Ok(found)
    }

    /// Reads, converts and (unless a dry run) writes one file. The bytes are dropped as soon as
    /// they are written, so memory is bounded by the files in flight, not the batch.
    async fn copy(&self, old_path: String, purpose: Purpose) -> anyhow::Result<Outcome> {
        let Some(file) = under(&self.root, &old_path) else {
            return Ok(Outcome::Missing(format!(
                "{old_path} (not a relative path)"
            )));
        };
        let bytes = match tokio::fs::read(&file).await {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Outcome::Missing(old_path));
            }
            Err(e) => return Ok(Outcome::Unreadable(format!("{old_path} ({e})"))),
        };
        // A decoder panic (a hostile file) costs this file, not the batch.
        let converted =
            biologidex_core::cpu::run(move || images::convert(&bytes, images::Edits::default()))
                .await;
        let blob = match converted {
            Ok(Ok(c)) => c.image,
            Ok(Err(e)) => return Ok(Outcome::Unreadable(format!("{old_path} ({e})"))),
            Err(e) => return Ok(Outcome::Unreadable(format!("{old_path} ({e})"))),
        };
        let storage_key = match purpose {
            Purpose::Image => blob.key(),
            Purpose::Avatar => format!("avatars/{}.png", blob.checksum),
        };
        if !self.dry_run {
            self.storage
                .put(&storage_key, &blob.bytes)
                .await
                .map_err(|e| anyhow::anyhow!("writing {storage_key} to the media store: {e}"))?;
        }
        Ok(Outcome::Done(Converted {
            old_path,
            storage_key,
            checksum: blob.checksum,
            content_type: blob.content_type,
            width: blob.width,
            height: blob.height,
            byte_size: blob.bytes.len(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_paths_stay_under_the_media_root() {
        let root = Path::new("/m");
        assert_eq!(
            under(root, "dex/original/2026/12/Eichhörnchen_im_Park.png"),
            Some(PathBuf::from(
                "/m/dex/original/2026/12/Eichhörnchen_im_Park.png"
            ))
        );
        for bad in ["", "../etc/passwd", "/etc/passwd", "a/../../b", "a\0b"] {
            assert_eq!(under(root, bad), None, "{bad:?}");
        }
    }
}
