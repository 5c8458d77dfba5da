//! Moving a local media folder into the configured store (`biologidex-api media upload-local`):
//! every file keeps its key (its path under the folder). An object already there with the same
//! size is skipped, so an interrupted run is resumed by running it again.

use std::path::{Path, PathBuf};

use futures_util::{StreamExt, stream};

use super::{Storage, StorageError};

/// What a transfer did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Files written to the store.
    pub copied: u64,
    /// Files the store already held with the same size.
    pub skipped: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Files that could not be read or written, with the reason.
    pub failed: Vec<String>,
}

/// Files under `root` that are media objects: not the health probes, not half-written
/// temporary files of the local store.
fn media_files(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(root)?;
        let Some(key) = rel
            .to_str()
            .map(|k| k.replace(std::path::MAIN_SEPARATOR, "/"))
        else {
            anyhow::bail!("{}: not a UTF-8 path", entry.path().display());
        };
        let temporary = key.starts_with(".health/")
            || entry
                .path()
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.starts_with("tmp-"));
        if !temporary {
            files.push((key, entry.path().to_owned()));
        }
    }
    files.sort();
    Ok(files)
}

/// Copies every media file under `root` into `dest`, `parallel` at a time.
pub async fn upload_folder(
    root: &Path,
    dest: &dyn Storage,
    parallel: usize,
) -> anyhow::Result<Transfer> {
    let root = root.to_owned();
    let files = tokio::task::spawn_blocking(move || media_files(&root)).await??;
    let results: Vec<_> = stream::iter(files)
        .map(|(key, path)| async move {
            let outcome = copy_one(&key, &path, dest).await;
            (key, outcome)
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    let mut report = Transfer::default();
    for (key, outcome) in results {
        match outcome {
            Ok(Some(n)) => {
                report.copied += 1;
                report.bytes += n;
            }
            Ok(None) => report.skipped += 1,
            Err(e) => report.failed.push(format!("{key}: {e}")),
        }
    }
    report.failed.sort();
    Ok(report)
}

/// Writes one file unless the store holds it already; the bytes written, or `None` if skipped.
async fn copy_one(key: &str, path: &Path, dest: &dyn Storage) -> anyhow::Result<Option<u64>> {
    let len = tokio::fs::metadata(path).await?.len();
    match dest.size(key).await {
        Ok(size) if size == len => return Ok(None),
        Ok(_) | Err(StorageError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let bytes = tokio::fs::read(path).await?;
    dest.put(key, &bytes).await?;
    Ok(Some(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::LocalStorage;

    #[tokio::test]
    async fn a_folder_is_copied_once_and_resumed_runs_skip_what_is_there() {
        let base = std::env::temp_dir().join(format!("bdx-transfer-{}", uuid::Uuid::new_v4()));
        let (from, to) = (base.join("from"), base.join("to"));
        let src = LocalStorage::new(&from);
        src.put("images/ab/ab01.png", b"one").await.unwrap();
        src.put("avatars/cd.png", b"two!").await.unwrap();
        std::fs::create_dir_all(from.join(".health")).unwrap();
        std::fs::write(from.join(".health/probe"), b"x").unwrap();
        std::fs::write(from.join("images/ab/x.tmp-123"), b"half").unwrap();
        let dest = LocalStorage::new(&to);
        let first = upload_folder(&from, &dest, 4).await.unwrap();
        assert_eq!((first.copied, first.skipped, first.bytes), (2, 0, 7));
        assert!(first.failed.is_empty(), "{:?}", first.failed);
        assert_eq!(dest.get("avatars/cd.png").await.unwrap(), b"two!");
        assert!(dest.size(".health/probe").await.is_err());
        // A partial object (different size) is rewritten; the rest is skipped.
        dest.put("avatars/cd.png", b"tw").await.unwrap();
        let again = upload_folder(&from, &dest, 4).await.unwrap();
        assert_eq!((again.copied, again.skipped), (1, 1));
        assert_eq!(dest.get("avatars/cd.png").await.unwrap(), b"two!");
        std::fs::remove_dir_all(base).unwrap();
    }
}
