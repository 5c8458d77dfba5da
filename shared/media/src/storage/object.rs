//! An object store (S3, S3-compatible servers, Google Cloud Storage) through `object_store`.
//! Credentials, region and endpoint come from the variables `object_store` reads itself
//! (`AWS_*`, `GOOGLE_*`); requests are path-style unless `AWS_VIRTUAL_HOSTED_STYLE_REQUEST`.
//! Retries and timeouts are short, so an outage is an error within seconds, not a hung upload.

use std::{ops::Range, sync::Arc, time::Duration};

use futures_util::future::BoxFuture;
use object_store::{
    BackoffConfig, ClientConfigKey, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    aws::{AmazonS3Builder, AmazonS3ConfigKey},
    gcp::{GoogleCloudStorageBuilder, GoogleConfigKey},
    path::Path,
    signer::{Method, Signer},
};

use super::{Storage, StorageError, StorageResult, checked};

/// Objects under `prefix` in one bucket.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    signer: Arc<dyn Signer>,
    prefix: String,
    url: String,
    backend: &'static str,
}

const CONNECT_TIMEOUT: &str = "3s";
const REQUEST_TIMEOUT: &str = "30s";

fn retry() -> RetryConfig {
    RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
    }
}

impl ObjectStorage {
    /// The store named by `url`: `s3://bucket/prefix` or `gs://bucket/prefix`, configured from
    /// the environment.
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        Self::from_url_opts(url, &[])
    }

    /// `from_url` with `object_store` options (`aws_endpoint`, `aws_access_key_id`, ...) that
    /// win over the environment's.
    pub fn from_url_opts(url: &str, opts: &[(&str, &str)]) -> anyhow::Result<Self> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            anyhow::anyhow!(
                "MEDIA_STORAGE_URL {url:?}: expected s3://bucket/prefix or gs://bucket/prefix"
            )
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        anyhow::ensure!(!bucket.is_empty(), "MEDIA_STORAGE_URL {url:?}: no bucket");
        let prefix = prefix.trim_matches('/').to_owned();
        if !prefix.is_empty() {
            checked(&prefix)
                .map_err(|_| anyhow::anyhow!("MEDIA_STORAGE_URL {url:?}: invalid prefix"))?;
        }
        // The same steps for both builders: the environment, then the URL, short retries,
        // the caller's options, and timeouts where nobody set one.
        macro_rules! configured {
            ($builder:ty, $key:ident, $prefix:literal) => {{
                let mut b = <$builder>::new();
                // The builder's own `from_env`, except that an empty value counts as unset, as
                // for every other variable of this server.
                for (name, value) in std::env::vars() {
                    if name.starts_with($prefix) && !value.trim().is_empty() {
                        if let Ok(key) = name.to_ascii_lowercase().parse::<$key>() {
                            b = b.with_config(key, value);
                        }
                    }
                }
                let mut b = b.with_url(url).with_retry(retry());
                for (key, value) in opts {
                    b = b.with_config(key.parse()?, *value);
                }
                for (key, default) in [
                    (ClientConfigKey::ConnectTimeout, CONNECT_TIMEOUT),
                    (ClientConfigKey::Timeout, REQUEST_TIMEOUT),
                ] {
                    let key = $key::Client(key);
                    if b.get_config_value(&key).is_none() {
                        b = b.with_config(key, default);
                    }
                }
                Arc::new(b.build()?)
            }};
        }
        let (store, signer, backend): (Arc<dyn ObjectStore>, Arc<dyn Signer>, _) = match scheme {
            "s3" | "s3a" => {
                let s3 = configured!(AmazonS3Builder, AmazonS3ConfigKey, "AWS_");
                (s3.clone(), s3, "s3")
            }
            "gs" => {
                let gcs = configured!(GoogleCloudStorageBuilder, GoogleConfigKey, "GOOGLE_");
                (gcs.clone(), gcs, "gcs")
            }
            other => anyhow::bail!(
                "MEDIA_STORAGE_URL {url:?}: unsupported scheme {other:?} (use s3:// or gs://)"
            ),
        };
        Ok(ObjectStorage {
            store,
            signer,
            prefix,
            url: url.to_owned(),
            backend,
        })
    }

    fn path(&self, key: &str) -> StorageResult<Path> {
        let key = checked(key)?;
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        Path::parse(full).map_err(|_| StorageError::InvalidKey(key.to_owned()))
    }
}

fn error(key: &str, e: object_store::Error) -> StorageError {
    match e {
        object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_owned()),
        other => StorageError::Unavailable(format!("{key}: {other}")),
    }
}

impl Storage for ObjectStorage {
    fn put<'a>(&'a self, key: &'a str, bytes: &'a [u8]) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            let path = self.path(key)?;
            // One request: an object store's put is atomic, and a retry of the same
            // content-addressed key writes the same object again.
            let payload = PutPayload::from(bytes.to_vec());
            self.store
                .put(&path, payload)
                .await
                .map(drop)
                .map_err(|e| error(key, e))
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            let got = self.store.get(&path).await.map_err(|e| error(key, e))?;
            let bytes = got.bytes().await.map_err(|e| error(key, e))?;
            Ok(bytes.to_vec())
        })
    }

    fn get_range<'a>(
        &'a self,
        key: &'a str,
        range: Range<u64>,
    ) -> BoxFuture<'a, StorageResult<Vec<u8>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            if range.start >= range.end {
                return Ok(Vec::new());
            }
            let bytes = self
                .store
                .get_range(&path, range)
                .await
                .map_err(|e| error(key, e))?;
            Ok(bytes.to_vec())
        })
    }

    fn size<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<u64>> {
        Box::pin(async move {
            let path = self.path(key)?;
            let meta = self.store.head(&path).await.map_err(|e| error(key, e))?;
            Ok(meta.size)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, StorageResult<()>> {
        Box::pin(async move {
            let path = self.path(key)?;
            match self.store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(error(key, e)),
            }
        })
    }

    fn signed_url<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, StorageResult<Option<String>>> {
        Box::pin(async move {
            let path = self.path(key)?;
            let url = self
                .signer
                .signed_url(Method::GET, &path, ttl)
                .await
                .map_err(|e| error(key, e))?;
            Ok(Some(url.to_string()))
        })
    }

    fn backend(&self) -> &'static str {
        self.backend
    }

    fn location(&self) -> String {
        self.url.clone()
    }
}
