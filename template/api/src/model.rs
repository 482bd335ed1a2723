//! The served model and its hot reload.
//!
//! The current model sits behind an `Arc`: a request clones the `Arc` once and keeps using that model
//! even if a reload swaps in another one meanwhile, so in-flight requests never fail or mix two
//! models. A reload that fails verification leaves the current model in place.
//!
//! The model comes from a [`ModelSource`]: a local model directory{% if mlflow %}, or the version an alias of
//! MLflow's model registry points at, downloaded into a temporary directory{% endif %}.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use crate::config::Config;
use {{crate_name}}::artifact::{ArtifactError, CHECKSUMS_FILE, Model};
use {{crate_name}}::features::Step;
use {{crate_name}}::schema::target::Task;
use {{crate_name}}::storage::Folder;
#[cfg(feature = "cloud")]
use {{crate_name}}::storage::{Remote, StorageError};
{%- if mlflow %}
use {{crate_name}}::tracking::{RegistryModel, TrackingError};
{%- endif %}
use {{crate_name}}::utils::hashing;
use {{crate_name}}_service::wire::ModelRef;

/// A model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot load the model from {dir}: {source}{hint}")]
    Artifact {
        dir: PathBuf,
        #[source]
        source: ArtifactError,
        hint: &'static str,
    },
{%- if mlflow %}
    #[error("cannot load the model from MLflow's registry: {0}")]
    Registry(TrackingError),
{%- endif %}
    #[cfg(feature = "cloud")]
    #[error("cannot load the model from {0}")]
    Storage(#[from] StorageError),
}
{%- if mlflow %}

// Not `#[from]`, which would also make it the error's source: the message already says it once.
impl From<TrackingError> for LoadError {
    fn from(err: TrackingError) -> Self {
        Self::Registry(err)
    }
}
{%- endif %}

/// Where the served model comes from; every reload reads it again.
#[derive(Debug)]
pub enum ModelSource {
    /// A model directory, or a directory whose `current/` subdirectory is the model.
    Dir(PathBuf),
    /// The same in an object store, downloaded into a temporary directory at each load.
    #[cfg(feature = "cloud")]
    Remote(Remote),
{%- if mlflow %}
    /// The version an alias of a registered model points at; each version is downloaded into
    /// `downloads/<version>/` and verified before it is served.
    Registry {
        model: RegistryModel,
        downloads: tempfile::TempDir,
    },
{%- endif %}
}

impl ModelSource {
    /// The source the settings name: {% if mlflow %}API_MODEL_URI when it is set, else {% endif %}API_MODEL_DIR.
    pub fn configured(config: &Config) -> Result<Self, LoadError> {
{%- if mlflow %}
        if let (Some(uri), Some(tracking_uri)) = (&config.model_uri, &config.tracking.tracking_uri)
        {
            let downloads = tempfile::Builder::new()
                .prefix("registered-model-")
                .tempdir()
                .map_err(|err| TrackingError::Io {
                    path: std::env::temp_dir(),
                    message: err.to_string(),
                })?;
            return Ok(Self::Registry {
                model: RegistryModel::new(tracking_uri, uri.clone())?,
                downloads,
            });
        }
{%- endif %}
        Ok(match &config.model_dir {
            Folder::Local(dir) => Self::Dir(dir.clone()),
            #[cfg(feature = "cloud")]
            Folder::Remote(remote) => Self::Remote(remote.clone()),
        })
    }

    /// Fetches the model (downloading a registry version) and loads and verifies it.
    fn load(&self) -> Result<ServedModel, LoadError> {
        match self {
            Self::Dir(dir) => ServedModel::load(&resolve_model_dir(dir)),
            #[cfg(feature = "cloud")]
            Self::Remote(remote) => {
                let copy = Folder::Remote(remote.clone()).workspace()?;
                copy.pull("")?;
                ServedModel::load(&resolve_model_dir(copy.path()))
            }
{%- if mlflow %}
            Self::Registry { model, downloads } => {
                let version = model.aliased_version()?;
                let dir = downloads.path().join(&version.version);
                model.download(&version, &dir)?;
                tracing::info!(
                    uri = %model.uri(),
                    version = %version.version,
                    "downloaded the registered model version"
                );
                ServedModel::load(&dir)
            }
{%- endif %}
        }
    }
{%- if mlflow %}

    /// Whether the source now holds another model than `served`: a registry alias that points at
    /// another version than the one `served` was downloaded from. A directory is only read again
    /// on a reload.
    fn has_moved(&self, served: &ServedModel) -> Result<bool, LoadError> {
        match self {
            Self::Dir(_) => Ok(false),
            #[cfg(feature = "cloud")]
            Self::Remote(_) => Ok(false),
            Self::Registry { model, downloads } => {
                let version = model.aliased_version()?;
                Ok(served.dir != downloads.path().join(version.version))
            }
        }
    }
{%- endif %}
}

/// A verified model with what the API reports about it.
#[derive(Debug)]
pub struct ServedModel {
    pub model: Model,
    /// The directory it was loaded from.
    pub dir: PathBuf,
    /// SHA-256 of the artifact's `SHA256SUMS`: one value that changes whenever any file does.
    pub checksum: String,
    /// When this process loaded it (seconds since the Unix epoch).
    pub loaded_at: u64,
    /// A valid example record: the training medians and modes (what the model imputes for a
    /// missing value). Used for the API docs and as the web form's defaults.
    pub example: Map<String, Value>,
}

impl ServedModel {
    /// Loads and verifies the model in `dir`.
    fn load(dir: &Path) -> Result<Self, LoadError> {
        let fail = |source: ArtifactError| {
            let hint = if matches!(source, ArtifactError::Missing { .. }) {
                " (train and promote a model first: `make all promote`)"
            } else {
                ""
            };
            LoadError::Artifact {
                dir: dir.to_owned(),
                source,
                hint,
            }
        };
        let model = Model::load(dir).map_err(fail)?;
        let sums = dir.join(CHECKSUMS_FILE);
        let checksum = hashing::sha256_file(&sums).map_err(|source| {
            fail(ArtifactError::Io {
                path: sums.clone(),
                source,
            })
        })?;
        let loaded_at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let example = example_record(&model);
        Ok(Self {
            model,
            dir: dir.to_owned(),
            checksum,
            loaded_at,
            example,
        })
    }

    /// Model name from its metadata.
    pub fn name(&self) -> &str {
        &self.model.metadata.name
    }

    /// Model version from its metadata.
    pub fn version(&self) -> &str {
        &self.model.metadata.version
    }

    /// The unit of a regression's predicted number, when the schema gives one.
    pub fn unit(&self) -> Option<&str> {
        match self.model.metadata.task() {
            Task::Regression { unit } => unit.as_deref(),
            Task::Classification { .. } => None,
        }
    }
}

/// Answers name the model that gave them.
impl From<&ServedModel> for ModelRef {
    fn from(served: &ServedModel) -> Self {
        Self {
            name: served.name().to_owned(),
            version: served.version().to_owned(),
            checksum: served.checksum.clone(),
        }
    }
}

/// `dir` itself if it holds a model; else `dir/current` if that does. `make promote`
/// (`promote_model`) installs into `api/models/current` while API_MODEL_DIR defaults to
/// `api/models`, which the container image copies whole; a trained model's own directory can be
/// served as it is.
fn resolve_model_dir(dir: &Path) -> PathBuf {
    let nested = dir.join("current");
    if !dir.join(CHECKSUMS_FILE).exists() && nested.join(CHECKSUMS_FILE).exists() {
        nested
    } else {
        dir.to_owned()
    }
}

fn example_record(model: &Model) -> Map<String, Value> {
    model
        .preprocessor
        .steps()
        .iter()
        .map(|step| match step {
            Step::Numeric { column, median, .. } => (column.clone(), Value::from(*median)),
            Step::Categorical {
                column,
                categories,
                mode,
                ..
            } => (column.clone(), Value::from(categories[*mode].clone())),
        })
        .collect()
}

/// A successful reload: the model it replaced and the one now served.
#[derive(Debug)]
pub struct Swapped {
    pub previous: Arc<ServedModel>,
    pub current: Arc<ServedModel>,
}

/// Holds the current model; cheap to share across requests.
#[derive(Debug)]
pub struct ModelStore {
    source: ModelSource,
    current: RwLock<Arc<ServedModel>>,
    /// Serialises reloads, so two concurrent ones cannot finish in the wrong order.
    reloading: Mutex<()>,
}

impl ModelStore {
    /// Loads the model of `source`, which later reloads read again; fails if it is missing or
    /// does not verify.
    pub fn open(source: ModelSource) -> Result<Self, LoadError> {
        Ok(Self {
            current: RwLock::new(Arc::new(source.load()?)),
            source,
            reloading: Mutex::new(()),
        })
    }

    /// The model to use for one request.
    pub fn current(&self) -> Arc<ServedModel> {
        // A poisoned lock only means a thread panicked while holding it; the Arc inside is intact.
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Loads the model source again and swaps it in if it verifies; otherwise keeps the current
    /// model and returns why. Blocking (file and network I/O): call it from a blocking thread.
    pub fn reload(&self) -> Result<Swapped, LoadError> {
        let _guard = self.reloading.lock().unwrap_or_else(|e| e.into_inner());
        let current = Arc::new(self.source.load()?);
        let previous = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(|e| e.into_inner()),
            Arc::clone(&current),
        );
        Ok(Swapped { previous, current })
    }
{%- if mlflow %}

    /// Whether the source has moved on from the served model (see [`ModelSource::has_moved`]).
    /// Blocking (network I/O): call it from a blocking thread.
    pub fn has_moved(&self) -> Result<bool, LoadError> {
        self.source.has_moved(&self.current())
    }
{%- endif %}
}
