//! Media storage behind one trait, used by both binaries for every media path
//! (docs/decisions.md#d29): the local `MEDIA_ROOT` directory by default, or an object store
//! (S3 and S3-compatible services, Google Cloud Storage) through the `object_store` crate, named
//! by `MEDIA_STORAGE_URL`. Keys are relative paths such as `images/ab/cdef....png`; objects are
//! content-addressed, so a write of the same key always carries the same bytes and a retried
//! write is one object.

mod local;
mod object;
pub mod transfer;

use std::{fmt, ops::Range, sync::Arc, time::Duration};

use futures_util::future::BoxFuture;

pub use local::LocalStorage;
pub use object::ObjectStorage;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No object under the key.
    #[error("no stored object {0}")]
    NotFound(String),
    /// A key that could escape the store (`..`, absolute, empty).
    #[error("invalid storage key {0:?}")]
    InvalidKey(String),
    /// The store did not answer or refused (down, unreachable, credentials): retry later.
    #[error("media storage unavailable: {0}")]
    Unavailable(String),
}

/// The result type of storage operations.
pub type StorageResult<T> = Result<T, StorageError>;

/// Where media bytes live.
pub trait Storage: Send + Sync + fmt::Debug {
    /// Writes `bytes` under `key`, atomically: a reader sees the old object or the whole new one.
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, StorageResult<()>>;
    /// Reads the whole object.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<Vec<u8>>>;
    /// Reads `range` of the object (clamped to its end).
    fn get_range<'a>(
        &'a self,
        key: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, StorageResult<Vec<u8>>>;
    /// The object's size in bytes.
    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<u64>>;
    /// Deletes the object; deleting a missing object is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<()>>;
    /// A URL that grants `GET` of the object for `ttl` without credentials, where the store can
    /// sign one (object stores); `None` for the local directory.
    fn signed_url<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, StorageResult<Option<String>>>;
    /// Where the objects live, for logs and the operator's tools (no credentials).
    fn location(&self) -> String;
    /// The kind of store (`local`, `s3`, `gcs`), for the health report.
    fn backend(&self) -> &'static str;
    /// Proves the store accepts writes (health check): writes and deletes a probe object.
    fn check_writable(&self) -> BoxFuture<'_, StorageResult<()>> {
        Box::pin(async move {
            let key = format!(".health/{}", uuid::Uuid::new_v4().simple());
            self.put(&key, b"ok").await?;
            self.delete(&key).await
        })
    }
}

/// Shared handle to the configured storage.
pub type SharedStorage = Arc<dyn Storage>;

/// The configured store: the object store at `url` when one is named, else the directory `root`.
pub fn open(url: Option<&str>, root: &std::path::Path) -> anyhow::Result<SharedStorage> {
    Ok(match url {
        Some(url) => Arc::new(ObjectStorage::from_url(url)?),
        None => Arc::new(LocalStorage::new(root)),
    })
}

/// Refuses keys that could name something outside the store.
fn checked(key: &str) -> StorageResult<&str> {
    use std::path::{Component, Path};
    let safe = !key.is_empty()
        && !key.contains('\\')
        && Path::new(key)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if safe {
        Ok(key)
    } else {
        Err(StorageError::InvalidKey(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keys_are_refused() {
        for bad in [
            "../etc/passwd",
            "/etc/passwd",
            "a/../../x",
            "",
            "a\\..\\b",
            "./a",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
        assert_eq!(checked("images/ab/cd.png").unwrap(), "images/ab/cd.png");
    }
}
