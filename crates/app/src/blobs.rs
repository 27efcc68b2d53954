//! Where uploaded files live: a folder on this machine (the default, under
//! the data folder) or a bucket of any S3-compatible service
//! (`s3://bucket/prefix`, configured by the usual `AWS_*` variables).

use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::stream::BoxStream;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt as _};
use secrecy::{ExposeSecret as _, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("file storage {0}: {1}")]
    Open(String, String),
    #[error("file storage: {0}")]
    Io(#[from] object_store::Error),
}

#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// For logs: `local` or `s3`.
    pub kind: &'static str,
}

impl Blobs {
    /// `s3://bucket[/prefix]` (configured by `env`: `AWS_*` variables), or a
    /// folder (created when missing).
    pub fn open(storage: &str, env: &[(String, SecretString)]) -> Result<Self, BlobError> {
        let failed = |e: &dyn std::fmt::Display| BlobError::Open(storage.to_owned(), e.to_string());
        if let Some(rest) = storage.strip_prefix("s3://") {
            crate::tls::install();
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let mut builder = AmazonS3Builder::new().with_bucket_name(bucket);
            for (name, value) in env {
                let key: AmazonS3ConfigKey = name.to_ascii_lowercase().parse().map_err(|e| failed(&e))?;
                builder = builder.with_config(key, value.expose_secret());
            }
            let s3 = builder.build().map_err(|e| failed(&e))?;
            let store: Arc<dyn ObjectStore> = match prefix.trim_matches('/') {
                "" => Arc::new(s3),
                prefix => Arc::new(PrefixStore::new(s3, prefix)),
            };
            return Ok(Self { store, kind: "s3" });
        }
        std::fs::create_dir_all(storage).map_err(|e| failed(&e))?;
        let local = LocalFileSystem::new_with_prefix(storage).map_err(|e| failed(&e))?;
        Ok(Self { store: Arc::new(local), kind: "local" })
    }

    pub async fn put(&self, name: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store.put(&Path::from(name), bytes.into()).await?;
        Ok(())
    }

    /// The file's bytes, `None` when there is no such file.
    pub async fn get(&self, name: &str) -> Result<Option<Bytes>, BlobError> {
        let path = Path::parse(name).map_err(|e| BlobError::Io(e.into()))?;
        match self.store.get(&path).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The size of a file, `None` when there is none.
    pub async fn size(&self, name: &str) -> Result<Option<u64>, BlobError> {
        let path = Path::parse(name).map_err(|e| BlobError::Io(e.into()))?;
        match self.store.head(&path).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A file's bytes (those of `range` only, when given) as they are read,
    /// never whole in memory; `None` when there is no such file.
    pub async fn stream(
        &self,
        name: &str,
        range: Option<std::ops::Range<u64>>,
    ) -> Result<Option<BoxStream<'static, Result<Bytes, object_store::Error>>>, BlobError> {
        let path = Path::parse(name).map_err(|e| BlobError::Io(e.into()))?;
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        match self.store.get_opts(&path, options).await {
            Ok(found) => Ok(Some(found.into_stream())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The names of the files under `prefix`.
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        Ok(self.list_dated(prefix).await?.into_iter().map(|(name, _)| name).collect())
    }

    /// The files under `prefix`, with when each was written.
    pub async fn list_dated(&self, prefix: &str) -> Result<Vec<(String, DateTime<Utc>)>, BlobError> {
        let mut files = Vec::new();
        let mut listing = self.store.list(Some(&Path::from(prefix)));
        while let Some(meta) = futures_util::StreamExt::next(&mut listing).await {
            let meta = meta?;
            files.push((meta.location.to_string(), meta.last_modified));
        }
        Ok(files)
    }

    /// Removes a file; one already gone is fine.
    pub async fn delete(&self, name: &str) -> Result<(), BlobError> {
        match self.store.delete(&Path::from(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
