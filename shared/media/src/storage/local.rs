//! Files under a root directory (`MEDIA_ROOT`), the default store.

use std::{io, ops::Range, path::PathBuf, time::Duration};

use futures_util::future::BoxFuture;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::{Storage, StorageError, StorageResult, checked};

/// Files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// A store rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStorage { root: root.into() }
    }

    /// The file path of `key`, refusing keys that could escape the root.
    pub fn path_of(&self, key: &str) -> StorageResult<PathBuf> {
        Ok(self.root.join(checked(key)?))
    }
}

fn error(key: &str, e: io::Error) -> StorageError {
    match e.kind() {
        io::ErrorKind::NotFound => StorageError::NotFound(key.to_owned()),
        _ => StorageError::Unavailable(format!("{key}: {e}")),
    }
}

impl Storage for LocalStorage {
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let write = async {
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                // Write then rename, so a reader never sees half a file.
                let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
                tokio::fs::write(&tmp, bytes).await?;
                tokio::fs::rename(&tmp, &path).await
            };
            write.await.map_err(|e| error(key, e))
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<Vec<u8>>> {
        Box::pin(async move {
            tokio::fs::read(self.path_of(key)?)
                .await
                .map_err(|e| error(key, e))
        })
    }

    fn get_range<'a>(
        &'a self,
        key: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, StorageResult<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let read = async {
                let mut file = tokio::fs::File::open(path).await?;
                file.seek(io::SeekFrom::Start(range.start)).await?;
                let mut out = Vec::new();
                file.take(range.end.saturating_sub(range.start))
                    .read_to_end(&mut out)
                    .await?;
                Ok(out)
            };
            read.await.map_err(|e| error(key, e))
        })
    }

    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<u64>> {
        Box::pin(async move {
            let meta = tokio::fs::metadata(self.path_of(key)?)
                .await
                .map_err(|e| error(key, e))?;
            Ok(meta.len())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path_of(key)?).await {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other.map_err(|e| error(key, e)),
            }
        })
    }

    fn signed_url<'a>(
        &'a self,
        _key: &'a str,
        _ttl: Duration,
    ) -> BoxFuture<'a, StorageResult<Option<String>>> {
        Box::pin(async { Ok(None) })
    }

    fn backend(&self) -> &'static str {
        "local"
    }

    fn location(&self) -> String {
        format!("directory {}", self.root.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_storage_round_trips_and_refuses_escaping_keys() {
        let dir = std::env::temp_dir().join(format!("bdx-storage-{}", uuid::Uuid::new_v4()));
        let store = LocalStorage::new(&dir);
        store.put("a/b/c.png", b"png-bytes").await.unwrap();
        assert_eq!(store.get("a/b/c.png").await.unwrap(), b"png-bytes");
        assert_eq!(store.size("a/b/c.png").await.unwrap(), 9);
        assert_eq!(store.get_range("a/b/c.png", 4..9).await.unwrap(), b"bytes");
        assert_eq!(store.get_range("a/b/c.png", 4..99).await.unwrap(), b"bytes");
        store.delete("a/b/c.png").await.unwrap();
        store.delete("a/b/c.png").await.unwrap();
        assert!(matches!(
            store.get("a/b/c.png").await,
            Err(StorageError::NotFound(_))
        ));
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../x", ""] {
            assert!(matches!(
                store.put(bad, b"x").await,
                Err(StorageError::InvalidKey(_))
            ));
        }
        store.check_writable().await.unwrap();
        assert!(
            store
                .signed_url("a", Duration::from_secs(1))
                .await
                .unwrap()
                .is_none()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
