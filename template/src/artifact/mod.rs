//! The model artifact: a directory holding the fitted preprocessing, the classifier, the metadata
//! and a `SHA256SUMS` file. [`Model`](crate::artifact::Model) is what serving loads; its
//! [`probabilities`](crate::artifact::Model::probabilities) is the one path from validated rows to
//! class probabilities, shared by the API (one record or a batch) and batch scoring.

use crate::data::schema::{FeatureSchema, RecordError, Schema, Value};
use crate::evaluation::Metrics;
use crate::features::{Preprocessor, RawRecord};
use crate::training::{Classifier, Hyperparameters, argmax};
use crate::utils::{fs, hashing};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The fitted classifier (JSON).
pub const MODEL_FILE: &str = "model.json";
/// The fitted preprocessing (JSON).
pub const PREPROCESSOR_FILE: &str = "preprocessor.json";
/// The [`ModelMetadata`] (JSON).
pub const METADATA_FILE: &str = "metadata.json";
/// Checksums of the three files above, in `sha256sum` format (`sha256sum -c SHA256SUMS` works).
pub const CHECKSUMS_FILE: &str = "SHA256SUMS";

const ARTIFACT_FILES: [&str; 3] = [MODEL_FILE, PREPROCESSOR_FILE, METADATA_FILE];

/// A model directory that cannot be loaded or written.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("model file {path} is missing")]
    Missing { path: PathBuf },
    #[error(
        "model file {path} does not match its checksum (expected {expected}, found {actual}): the artifact is corrupt or was modified"
    )]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("model file {path} is corrupt: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Everything known about how a model was made. Served as-is by the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    pub name: String,
    pub version: String,
    pub algorithm: String,
    pub hyperparameters: Hyperparameters,
    /// Classes in probability order.
    pub classes: Vec<String>,
    /// Raw inputs a client sends.
    pub feature_schema: FeatureSchema,
    /// Model inputs after preprocessing.
    pub encoded_features: Vec<String>,
    /// SHA-256 of the gold training file.
    pub training_data_sha256: String,
    /// SHA-256 of the gold test file the metrics were computed on.
    pub test_data_sha256: String,
    pub schema_sha256: String,
    pub split_seed: u64,
    pub train_rows: u64,
    /// Held-out metrics at training time.
    pub metrics: Metrics,
    pub feature_importance: Vec<(String, f64)>,
    pub crate_version: String,
    /// Commit of the project when trained, if it was a git checkout.
    pub git_commit: Option<String>,
    pub created_at: String,
}

/// The prediction for one record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most probable class.
    pub class: String,
    /// Probability of every class.
    pub probabilities: BTreeMap<String, f64>,
}

/// A trained model: preprocessing plus classifier plus metadata.
#[derive(Debug, Clone)]
pub struct Model {
    pub metadata: ModelMetadata,
    pub preprocessor: Preprocessor,
    pub classifier: Classifier,
}

impl Model {
    /// Loads a model directory, refusing it unless every file matches `SHA256SUMS`.
    ///
    /// Returns [`ArtifactError::Missing`] for an absent file, [`ArtifactError::ChecksumMismatch`]
    /// for a modified one, and [`ArtifactError::Corrupt`] for unreadable content.
    pub fn load(dir: &Path) -> Result<Self, ArtifactError> {
        let checksums_path = dir.join(CHECKSUMS_FILE);
        let checksums = read(&checksums_path)?;
        let checksums = parse_checksums(&checksums).ok_or_else(|| ArtifactError::Corrupt {
            path: checksums_path.clone(),
            message: "expected one `<sha256>  <file>` line per artifact file".into(),
        })?;
        let mut contents = BTreeMap::new();
        for file in ARTIFACT_FILES {
            let path = dir.join(file);
            let expected = checksums.get(file).ok_or_else(|| ArtifactError::Corrupt {
                path: checksums_path.clone(),
                message: format!("no checksum for {file}"),
            })?;
            let bytes = read(&path)?;
            let actual = hashing::sha256_hex(&bytes);
            if &actual != expected {
                return Err(ArtifactError::ChecksumMismatch {
                    path,
                    expected: expected.clone(),
                    actual,
                });
            }
            contents.insert(file, bytes);
        }
        let model = Self {
            metadata: decode(dir, METADATA_FILE, &contents[METADATA_FILE])?,
            preprocessor: decode(dir, PREPROCESSOR_FILE, &contents[PREPROCESSOR_FILE])?,
            classifier: decode(dir, MODEL_FILE, &contents[MODEL_FILE])?,
        };
        if model.metadata.encoded_features != model.preprocessor.feature_names() {
            return Err(ArtifactError::Corrupt {
                path: dir.join(METADATA_FILE),
                message: "the metadata's features differ from the preprocessor's".into(),
            });
        }
        Ok(model)
    }

    /// Writes the model directory atomically (staged next to `dir`, then swapped in).
    pub fn save(&self, dir: &Path) -> Result<(), ArtifactError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ArtifactError::Io { path, source }
        };
        let staging = fs::staging_dir(dir).map_err(io(dir))?;
        let mut sums = String::new();
        for (file, bytes) in [
            (MODEL_FILE, to_json(&self.classifier)),
            (PREPROCESSOR_FILE, to_json(&self.preprocessor)),
            (METADATA_FILE, to_json(&self.metadata)),
        ] {
            let path = staging.join(file);
            fs::write_atomic(&path, &bytes).map_err(io(&path))?;
            sums += &format!("{}  {file}\n", hashing::sha256_hex(&bytes));
        }
        let path = staging.join(CHECKSUMS_FILE);
        fs::write_atomic(&path, sums.as_bytes()).map_err(io(&path))?;
        fs::replace_dir(&staging, dir).map_err(io(dir))
    }

    /// Metadata: version, algorithm, lineage, metrics.
    pub fn metadata(&self) -> &ModelMetadata {
        &self.metadata
    }

    /// The raw input fields (names, kinds, categories, ranges) for validation and forms.
    pub fn feature_schema(&self) -> &FeatureSchema {
        &self.metadata.feature_schema
    }

    /// The full dataset schema the model was trained with.
    pub fn schema(&self) -> &Schema {
        self.preprocessor.schema()
    }

    /// Predicts one raw record (column name -> JSON number, string or null).
    ///
    /// Every feature field must be present; `null` or a missing-value token is imputed as in
    /// training. Fields the model does not use (the target, extra columns) are ignored. The error
    /// names the offending field.
    pub fn predict(&self, record: &RawRecord) -> Result<Prediction, RecordError> {
        let row = self.preprocessor.parse_record(record)?;
        let probabilities = self.probabilities(&row);
        Ok(self.prediction(probabilities.row(0).as_slice().expect("contiguous")))
    }

    /// Class probabilities (one row per input row, schema class order) of validated rows given
    /// one after another: the single path from values to probabilities, for one record or a batch.
    pub fn probabilities(&self, rows: &[Value]) -> Array2<f64> {
        self.classifier
            .predict_proba(self.preprocessor.transform(rows).view())
    }

    /// Turns class probabilities (schema order) into a [`Prediction`].
    pub fn prediction(&self, probabilities: &[f64]) -> Prediction {
        let classes = &self.metadata.classes;
        Prediction {
            class: classes[argmax(probabilities)].clone(),
            probabilities: classes
                .iter()
                .cloned()
                .zip(probabilities.iter().copied())
                .collect(),
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ArtifactError> {
    std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ArtifactError::Missing {
            path: path.to_owned(),
        },
        _ => ArtifactError::Io {
            path: path.to_owned(),
            source,
        },
    })
}

fn decode<T: serde::de::DeserializeOwned>(
    dir: &Path,
    file: &str,
    bytes: &[u8],
) -> Result<T, ArtifactError> {
    serde_json::from_slice(bytes).map_err(|err| ArtifactError::Corrupt {
        path: dir.join(file),
        message: err.to_string(),
    })
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).expect("model parts always serialise");
    bytes.push(b'\n');
    bytes
}

fn parse_checksums(bytes: &[u8]) -> Option<BTreeMap<String, String>> {
    let text = std::str::from_utf8(bytes).ok()?;
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (hash, file) = line.split_once("  ")?;
            (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| (file.trim().to_owned(), hash.to_owned()))
        })
        .collect()
}

/// Copies a verified model directory byte for byte to `target` (the serving location),
/// replacing the previous one atomically, and returns the promoted model as loaded from `target`.
pub fn promote(source: &Path, target: &Path) -> Result<Model, ArtifactError> {
    Model::load(source)?;
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArtifactError::Io { path, source }
    };
    let staging = fs::staging_dir(target).map_err(io(target))?;
    for file in ARTIFACT_FILES.into_iter().chain([CHECKSUMS_FILE]) {
        let bytes = read(&source.join(file))?;
        fs::write_atomic(&staging.join(file), &bytes).map_err(io(&staging.join(file)))?;
    }
    fs::replace_dir(&staging, target).map_err(io(target))?;
    // What the API will read must verify too.
    Model::load(target)
}
