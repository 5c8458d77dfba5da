//! Media storage behind a small trait; the local filesystem now, object storage later
//! (docs/decisions.md#d19). Keys are relative paths such as `images/ab/cdef....png`.

use std::{
    io,
    path::{Component, Path, PathBuf},
    sync::Arc,
};

use futures_util::future::BoxFuture;

/// Where media bytes live.
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Writes `bytes` under `key`, replacing any previous content atomically.
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, io::Result<()>>;
    /// Reads the whole object.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Vec<u8>>>;
    /// Deletes the object; deleting a missing object is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>>;
    /// Proves the store accepts writes (health check).
    fn check_writable(&self) -> BoxFuture<'_, io::Result<()>>;
}

/// Shared handle to the configured storage.
pub type SharedStorage = Arc<dyn Storage>;

/// Files under a root directory (`MEDIA_ROOT`).
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
    pub fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        let rel = Path::new(key);
        let safe = !key.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid storage key",
            ));
        }
        Ok(self.root.join(rel))
    }
}

impl Storage for LocalStorage {
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir).await?;
            }
            // Write then rename, so a reader never sees half a file.
            let tmp = path.with_extension(format!("tmp-{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&tmp, bytes).await?;
            tokio::fs::rename(&tmp, &path).await
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Vec<u8>>> {
        Box::pin(async move { tokio::fs::read(self.path_of(key)?).await })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            match tokio::fs::remove_file(self.path_of(key)?).await {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        })
    }

    fn check_writable(&self) -> BoxFuture<'_, io::Result<()>> {
        Box::pin(async move {
            let key = format!(".health/{}", uuid::Uuid::new_v4().simple());
            self.put(&key, b"ok").await?;
            self.delete(&key).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_storage_round_trips_and_refuses_escaping_keys() {
        let dir = std::env::temp_dir().join(format!("bdx-storage-{}", uuid::Uuid::new_v4()));
        let store = LocalStorage::new(&dir);
        store.put("a/b/c.png", b"png").await.unwrap();
        assert_eq!(store.get("a/b/c.png").await.unwrap(), b"png");
        store.delete("a/b/c.png").await.unwrap();
        store.delete("a/b/c.png").await.unwrap();
        assert!(store.get("a/b/c.png").await.is_err());
        for bad in ["../etc/passwd", "/etc/passwd", "a/../../x", ""] {
            assert!(store.put(bad, b"x").await.is_err(), "{bad}");
        }
        store.check_writable().await.unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
