//! Where the folders of the settings live: a local directory, or (feature `cloud`) a prefix in an
//! object store: `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`.
//!
//! Every step reads and writes a local directory, so the layers' manifests and hashes, and the
//! refusal of a tampered file, work the same wherever the folder lives. For a folder in an object
//! store, a [`Workspace`] is a temporary local copy: a step pulls the subfolders it reads before
//! its work and pushes the ones it wrote after it. Pushing uploads data files before the manifests
//! and checksums that name them, then removes the objects the step no longer wrote, so a reader
//! never finds a manifest naming a file that is not there yet.
//!
//! Credentials and endpoints come from the object store's usual environment variables (`AWS_*`,
//! `GOOGLE_*`, `AZURE_*`), read by the `object_store` crate.

use std::fmt;
use std::path::{Path, PathBuf};

#[cfg(feature = "cloud")]
pub use remote::Remote;

/// A folder setting: a local directory, or a prefix in an object store.
#[derive(Debug, Clone)]
pub enum Folder {
    Local(PathBuf),
    #[cfg(feature = "cloud")]
    Remote(Remote),
}

/// The URL schemes of object stores.
const SCHEMES: [&str; 3] = ["s3://", "gs://", "az://"];

/// A folder setting's value: an object-store URL (see [`SCHEMES`]) or a local path.
pub fn parse_folder(value: &str) -> Result<Folder, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("expected a folder path or an s3://, gs:// or az:// URL".to_owned());
    }
    if SCHEMES.iter().any(|scheme| value.starts_with(scheme)) {
        #[cfg(feature = "cloud")]
        return Remote::parse(value).map(Folder::Remote);
        #[cfg(not(feature = "cloud"))]
        return Err(format!(
            "`{value}` is in an object store, which this build cannot reach: build with the `cloud` feature (`make ... FEATURES=cloud`, or cargo's `--features cloud`)"
        ));
    }
    if value.contains("://") {
        return Err(format!(
            "`{value}`: expected a folder path or an s3://, gs:// or az:// URL"
        ));
    }
    Ok(Folder::Local(PathBuf::from(value)))
}

impl Folder {
    /// The folder `name` inside this one.
    pub fn join(&self, name: &str) -> Folder {
        match self {
            Self::Local(dir) => Self::Local(dir.join(name)),
            #[cfg(feature = "cloud")]
            Self::Remote(remote) => Self::Remote(remote.join(name)),
        }
    }

    /// A local directory to work in: the folder itself, or a temporary copy of a remote one
    /// (empty until [`Workspace::pull`]).
    pub fn workspace(&self) -> Result<Workspace, StorageError> {
        match self {
            Self::Local(dir) => Ok(Workspace {
                dir: dir.clone(),
                #[cfg(feature = "cloud")]
                remote: None,
            }),
            #[cfg(feature = "cloud")]
            Self::Remote(remote) => remote.workspace(),
        }
    }
}

impl fmt::Display for Folder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Local(dir) => write!(f, "{}", dir.display()),
            #[cfg(feature = "cloud")]
            Self::Remote(remote) => write!(f, "{remote}"),
        }
    }
}

/// The local directory a step reads and writes for a [`Folder`].
#[derive(Debug)]
pub struct Workspace {
    dir: PathBuf,
    /// The remote folder this is a copy of, and the temporary directory holding the copy.
    #[cfg(feature = "cloud")]
    remote: Option<(Remote, tempfile::TempDir)>,
}

impl Workspace {
    /// The local directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Downloads the subfolder `sub` (`""`: everything) of a remote folder into this copy,
    /// replacing what the copy had there. Nothing to do for a local folder.
    pub fn pull(&self, sub: &str) -> Result<(), StorageError> {
        #[cfg(feature = "cloud")]
        if let Some((remote, _)) = &self.remote {
            return remote.download(sub, &self.dir);
        }
        let _ = sub;
        Ok(())
    }

    /// Downloads the file `relative` of a remote folder into this copy, if the folder has it.
    /// Nothing to do for a local folder.
    pub fn pull_file(&self, relative: &str) -> Result<(), StorageError> {
        #[cfg(feature = "cloud")]
        if let Some((remote, _)) = &self.remote {
            return remote.download_file(relative, &self.dir);
        }
        let _ = relative;
        Ok(())
    }

    /// Uploads the subfolder `sub` (`""`: everything) of this copy to the remote folder, which
    /// then holds exactly those files under `sub`. Nothing to do for a local folder.
    pub fn push(&self, sub: &str) -> Result<(), StorageError> {
        #[cfg(feature = "cloud")]
        if let Some((remote, _)) = &self.remote {
            return remote.upload(&self.dir, sub);
        }
        let _ = sub;
        Ok(())
    }
}

/// An object store could not be read or written. One line.
#[derive(Debug, thiserror::Error)]
#[error("{location}: {message}")]
pub struct StorageError {
    /// The URL or local path concerned.
    pub location: String,
    pub message: String,
}

#[cfg(feature = "cloud")]
mod remote {
    use futures::TryStreamExt;
    use object_store::path::Path as ObjectPath;
    use object_store::{ObjectStore, ObjectStoreExt, RetryConfig};
    use std::fmt;
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::runtime::Runtime;

    use super::{StorageError, Workspace};
    use crate::utils::fs;

    /// Files uploaded last: they name the other files of their folder.
    const INDEX_FILES: [&str; 2] = ["manifest.json", "SHA256SUMS"];

    /// A prefix in an object store.
    #[derive(Clone)]
    pub struct Remote {
        /// The URL as given, without a trailing `/`.
        url: String,
        store: Arc<dyn ObjectStore>,
        prefix: ObjectPath,
        /// The store's HTTP client lives on this runtime; the steps themselves are not async.
        runtime: Arc<Runtime>,
    }

    impl fmt::Debug for Remote {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_tuple("Remote").field(&self.url).finish()
        }
    }

    impl fmt::Display for Remote {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(&self.url)
        }
    }

    impl Remote {
        /// `s3://bucket/prefix`, `gs://bucket/prefix` or `az://container/prefix`, with the
        /// store's settings from the environment. Nothing is sent yet.
        pub(super) fn parse(url: &str) -> Result<Self, String> {
            let url = url.trim_end_matches('/').to_owned();
            let (scheme, rest) = url.split_once("://").unwrap_or_default();
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(format!(
                    "`{url}` names no bucket: expected {scheme}://<bucket>/<prefix>"
                ));
            }
            // A few quick retries: an unreachable store fails a step in seconds, not minutes.
            let retry = RetryConfig {
                max_retries: 3,
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            };
            let bucket_url = format!("{scheme}://{bucket}");
            let store: Result<Arc<dyn ObjectStore>, object_store::Error> = match scheme {
                "s3" => object_store::aws::AmazonS3Builder::from_env()
                    .with_url(bucket_url)
                    .with_retry(retry)
                    .build()
                    .map(|store| Arc::new(store) as _),
                "gs" => object_store::gcp::GoogleCloudStorageBuilder::from_env()
                    .with_url(bucket_url)
                    .with_retry(retry)
                    .build()
                    .map(|store| Arc::new(store) as _),
                _ => object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_url(bucket_url)
                    .with_retry(retry)
                    .build()
                    .map(|store| Arc::new(store) as _),
            };
            let store = store.map_err(|err| format!("`{url}`: {}", first_line(&err)))?;
            let prefix = ObjectPath::parse(prefix)
                .map_err(|err| format!("`{url}`: {}", first_line(&err)))?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|err| format!("cannot start the I/O runtime: {err}"))?;
            Ok(Self {
                url,
                store,
                prefix,
                runtime: Arc::new(runtime),
            })
        }

        pub(super) fn join(&self, name: &str) -> Self {
            Self {
                url: format!("{}/{name}", self.url),
                prefix: self.key(name),
                ..self.clone()
            }
        }

        pub(super) fn workspace(&self) -> Result<Workspace, StorageError> {
            let copy = tempfile::Builder::new()
                .prefix("remote-folder-")
                .tempdir()
                .map_err(|err| StorageError {
                    location: std::env::temp_dir().display().to_string(),
                    message: err.to_string(),
                })?;
            Ok(Workspace {
                dir: copy.path().to_owned(),
                remote: Some((self.clone(), copy)),
            })
        }

        /// The key of `relative` (`/`-separated, may be empty) below the prefix.
        fn key(&self, relative: &str) -> ObjectPath {
            relative
                .split('/')
                .filter(|part| !part.is_empty())
                .fold(self.prefix.clone(), |key, part| key.join(part))
        }

        fn url_of(&self, key: &ObjectPath) -> String {
            let scheme_and_bucket = self
                .url
                .strip_suffix(self.prefix.as_ref())
                .unwrap_or(&self.url)
                .trim_end_matches('/');
            format!("{scheme_and_bucket}/{key}")
        }

        fn fail(&self, key: &ObjectPath, err: impl fmt::Display) -> StorageError {
            StorageError {
                location: self.url_of(key),
                message: first_line(&err),
            }
        }

        /// Every object below `relative`, as keys.
        fn list(&self, relative: &str) -> Result<Vec<ObjectPath>, StorageError> {
            let below = self.key(relative);
            self.runtime
                .block_on(
                    self.store
                        .list(Some(&below))
                        .map_ok(|meta| meta.location)
                        .try_collect(),
                )
                .map_err(|err| self.fail(&below, err))
        }

        pub(super) fn download(&self, sub: &str, dir: &Path) -> Result<(), StorageError> {
            let local_sub = dir.join(sub);
            if local_sub.exists() {
                std::fs::remove_dir_all(&local_sub).map_err(|err| StorageError {
                    location: local_sub.display().to_string(),
                    message: err.to_string(),
                })?;
            }
            for key in self.list(sub)? {
                if !self.fetch(&key, dir)? {
                    return Err(self.fail(&key, "deleted while it was being read; try again"));
                }
            }
            Ok(())
        }

        pub(super) fn download_file(&self, relative: &str, dir: &Path) -> Result<(), StorageError> {
            self.fetch(&self.key(relative), dir).map(drop)
        }

        /// Downloads the object `key` to its place below `dir`; false if there is no such object.
        fn fetch(&self, key: &ObjectPath, dir: &Path) -> Result<bool, StorageError> {
            let fetched = self
                .runtime
                .block_on(async { self.store.get(key).await?.bytes().await });
            let bytes = match fetched {
                Ok(bytes) => bytes,
                Err(object_store::Error::NotFound { .. }) => return Ok(false),
                Err(err) => return Err(self.fail(key, err)),
            };
            let relative: Vec<String> = key
                .prefix_match(&self.prefix)
                .into_iter()
                .flatten()
                .map(|part| part.as_ref().to_owned())
                .collect();
            let path = dir.join(relative.join("/"));
            fs::write_atomic(&path, &bytes).map_err(|err| StorageError {
                location: path.display().to_string(),
                message: err.to_string(),
            })?;
            Ok(true)
        }

        pub(super) fn upload(&self, dir: &Path, sub: &str) -> Result<(), StorageError> {
            let mut files = Vec::new();
            collect_files(&dir.join(sub), sub, &mut files).map_err(|err| StorageError {
                location: dir.join(sub).display().to_string(),
                message: err.to_string(),
            })?;
            // Data first, the files that name them last.
            files.sort_by_key(|relative: &String| {
                let name = relative.rsplit('/').next().unwrap_or_default();
                (INDEX_FILES.contains(&name), relative.clone())
            });
            let mut uploaded = Vec::new();
            for relative in &files {
                let path = dir.join(relative);
                let bytes = std::fs::read(&path).map_err(|err| StorageError {
                    location: path.display().to_string(),
                    message: err.to_string(),
                })?;
                let key = self.key(relative);
                self.runtime
                    .block_on(self.store.put(&key, bytes.into()))
                    .map_err(|err| self.fail(&key, err))?;
                uploaded.push(key);
            }
            for key in self.list(sub)? {
                if !uploaded.contains(&key) {
                    self.runtime
                        .block_on(self.store.delete(&key))
                        .map_err(|err| self.fail(&key, err))?;
                }
            }
            Ok(())
        }
    }

    /// The files below `dir`, as `/`-separated paths starting with `relative`.
    fn collect_files(dir: &Path, relative: &str, out: &mut Vec<String>) -> std::io::Result<()> {
        if !dir.exists() {
            return Ok(());
        }
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if relative.is_empty() {
                name
            } else {
                format!("{relative}/{name}")
            };
            if entry.file_type()?.is_dir() {
                collect_files(&entry.path(), &child, out)?;
            } else {
                out.push(child);
            }
        }
        Ok(())
    }

    /// The first line of an error, without the XML body some stores append to their status.
    fn first_line(err: &impl fmt::Display) -> String {
        let text = err.to_string();
        let line = text.lines().next().unwrap_or_default();
        line.split_once(": <?xml")
            .map_or(line, |(status, _)| status)
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_local_folders() {
        let folder = parse_folder(" src/datasets ").unwrap();
        assert!(matches!(&folder, Folder::Local(dir) if dir == Path::new("src/datasets")));
        assert_eq!(folder.join("gold").to_string(), "src/datasets/gold");
        let workspace = folder.workspace().unwrap();
        assert_eq!(workspace.path(), Path::new("src/datasets"));
        workspace.pull("gold").unwrap();
        workspace.push("gold").unwrap();
    }

    #[test]
    fn other_urls_are_refused() {
        for bad in ["", "http://example.org/data", "file:///tmp/x"] {
            let err = parse_folder(bad).unwrap_err();
            assert!(err.contains("s3://, gs:// or az://"), "{bad}: {err}");
        }
    }

    #[cfg(not(feature = "cloud"))]
    #[test]
    fn object_stores_need_the_cloud_feature() {
        let err = parse_folder("s3://bucket/datasets").unwrap_err();
        assert!(err.contains("build with the `cloud` feature"), "{err}");
    }

    #[cfg(feature = "cloud")]
    #[test]
    fn object_store_urls_are_remote_folders() {
        let folder = parse_folder("s3://bucket/team/datasets/").unwrap();
        assert_eq!(folder.to_string(), "s3://bucket/team/datasets");
        assert_eq!(
            folder.join("gold").to_string(),
            "s3://bucket/team/datasets/gold"
        );
        assert!(
            parse_folder("s3:///datasets")
                .unwrap_err()
                .contains("names no bucket")
        );
    }
}
