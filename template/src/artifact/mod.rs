//! The model artifact: a directory holding the fitted preprocessing, the estimator, the metadata
//! and a `SHA256SUMS` file. [`Model`](crate::artifact::Model) is what serving loads; its
//! [`outputs`](crate::artifact::Model::outputs) is the one path from validated rows to class
//! probabilities or predicted values, shared by the API (one record or a batch) and batch scoring.

use crate::data::gold::GoldData;
use crate::evaluation::{GateRecord, Limit, Metrics, Thresholds, evaluate_outputs};
use crate::features::{Preprocessor, RawRecord};
use crate::schema::target::Task;
use crate::schema::{FeatureSchema, RecordError, Schema, Value};
use crate::training::{Estimator, Hyperparameters, TrainError, argmax};
use crate::utils::{fs, hashing, time};
use ndarray::Array2;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The fitted estimator (JSON).
pub const MODEL_FILE: &str = "model.json";
/// The fitted preprocessing (JSON).
pub const PREPROCESSOR_FILE: &str = "preprocessor.json";
/// The [`ModelMetadata`] (JSON).
pub const METADATA_FILE: &str = "metadata.json";
/// Checksums of the three files above, in `sha256sum` format (`sha256sum -c SHA256SUMS` works).
pub const CHECKSUMS_FILE: &str = "SHA256SUMS";

/// The files that make a model, each listed in [`CHECKSUMS_FILE`].
pub const ARTIFACT_FILES: [&str; 3] = [MODEL_FILE, PREPROCESSOR_FILE, METADATA_FILE];

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
    /// The algorithm (`hyperparameters.algorithm`) and its settings.
    pub hyperparameters: Hyperparameters,
    /// Raw inputs a client sends, the target and the task.
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

impl ModelMetadata {
    /// What the model predicts.
    pub fn task(&self) -> &Task {
        &self.feature_schema.task
    }
}

/// The prediction for one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The record's text columns (identifiers) as sent, to join the prediction back.
    pub identifiers: BTreeMap<String, String>,
}

/// What a model predicts for one record, by task.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    /// The most probable class and the probability of every class.
    Class {
        class: String,
        probabilities: BTreeMap<String, f64>,
    },
    /// The predicted number.
    Value { value: f64 },
}

/// A trained model: preprocessing plus estimator plus metadata.
#[derive(Debug, Clone)]
pub struct Model {
    pub metadata: ModelMetadata,
    pub preprocessor: Preprocessor,
    pub estimator: Estimator,
}

impl Model {
    /// Fits a model on the gold training split, evaluates it on the test split and assembles the
    /// artifact (preprocessing, estimator and metadata) ready for [`Model::save`].
    pub fn train(
        gold: &GoldData,
        params: &Hyperparameters,
        name: &str,
        version: &str,
        git_commit: Option<String>,
    ) -> Result<Self, TrainError> {
        let schema = gold.preprocessor.schema();
        let task = schema.task();
        let features = gold.preprocessor.feature_names();
        let estimator =
            Estimator::fit(params, gold.train_x.view(), &gold.train_y, &task, &features)?;
        let metrics = evaluate_outputs(
            &task,
            &gold.test_y,
            estimator.outputs(gold.test_x.view()).view(),
        );
        let metadata = ModelMetadata {
            name: name.to_owned(),
            version: version.to_owned(),
            hyperparameters: params.clone(),
            feature_schema: schema.feature_schema(),
            feature_importance: features
                .iter()
                .cloned()
                .zip(estimator.feature_importance())
                .collect(),
            encoded_features: features,
            training_data_sha256: gold.manifest.train.sha256.clone(),
            test_data_sha256: gold.manifest.test.sha256.clone(),
            schema_sha256: schema.fingerprint(),
            split_seed: gold.manifest.split_seed,
            train_rows: gold.train_y.len() as u64,
            metrics,
            crate_version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit,
            created_at: crate::utils::time::now_rfc3339(),
        };
        Ok(Self {
            metadata,
            preprocessor: gold.preprocessor.clone(),
            estimator,
        })
    }

    /// Loads a model directory, refusing it unless every file matches `SHA256SUMS`.
    ///
    /// Returns [`ArtifactError::Missing`] for an absent file, [`ArtifactError::ChecksumMismatch`]
    /// for a modified one, and [`ArtifactError::Corrupt`] for unreadable content.
    pub fn load(dir: &Path) -> Result<Self, ArtifactError> {
        Self::load_with_checksum(dir).map(|(model, _)| model)
    }

    /// [`Model::load`], also returning the artifact's checksum: the SHA-256 of the `SHA256SUMS`
    /// that was verified, one value that changes whenever any file of the model does.
    pub fn load_with_checksum(dir: &Path) -> Result<(Self, String), ArtifactError> {
        let checksums_path = dir.join(CHECKSUMS_FILE);
        let sums_bytes = read(&checksums_path)?;
        let checksums = parse_checksums(&sums_bytes).ok_or_else(|| ArtifactError::Corrupt {
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
            estimator: decode(dir, MODEL_FILE, &contents[MODEL_FILE])?,
        };
        if model.metadata.encoded_features != model.preprocessor.feature_names() {
            return Err(ArtifactError::Corrupt {
                path: dir.join(METADATA_FILE),
                message: "the metadata's features differ from the preprocessor's".into(),
            });
        }
        Ok((model, hashing::sha256_hex(&sums_bytes)))
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
            (MODEL_FILE, to_json(&self.estimator)),
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
        let outputs = self.outputs(&row);
        Ok(self.prediction(&row, outputs.row(0).as_slice().expect("contiguous")))
    }

    /// The model's outputs for validated rows given one after another, one row each: class
    /// probabilities (schema class order), or the predicted value (one column). The single path
    /// from values to predictions, for one record or a batch.
    pub fn outputs(&self, rows: &[Value]) -> Array2<f64> {
        self.estimator
            .outputs(self.preprocessor.transform(rows).view())
    }

    /// The outcome that one row of [`Model::outputs`] stands for.
    pub fn outcome(&self, outputs: &[f64]) -> Outcome {
        match self.metadata.task() {
            Task::Classification { classes } => Outcome::Class {
                class: classes[argmax(outputs)].clone(),
                probabilities: classes
                    .iter()
                    .cloned()
                    .zip(outputs.iter().copied())
                    .collect(),
            },
            Task::Regression { .. } => Outcome::Value { value: outputs[0] },
        }
    }

    /// Turns a validated row and its [`Model::outputs`] row into a [`Prediction`].
    pub fn prediction(&self, row: &[Value], outputs: &[f64]) -> Prediction {
        Prediction {
            outcome: self.outcome(outputs),
            identifiers: self
                .schema()
                .text_columns()
                .filter_map(|(index, column)| match &row[index] {
                    Value::Text(text) => Some((column.name.clone(), text.to_string())),
                    _ => None,
                })
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

/// The current git commit of the working directory, if it is a git checkout with at least one
/// commit and git is installed.
pub fn git_commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}

/// The quality gate's verdict on the model (a [`GateRecord`], JSON), written by
/// `test_model`. It is not listed in `SHA256SUMS`, since evaluating a model does not change it;
/// instead it names the checksum of the model it judged and the test split it used.
pub const GATE_FILE: &str = "gate.json";

/// The key of metadata.json that records a promotion overriding the gate ([`GateOverride`]).
pub const GATE_OVERRIDE_KEY: &str = "gate_override";

/// Writes `record` as the model directory's gate result ([`GATE_FILE`]), atomically.
pub fn write_gate_record(dir: &Path, record: &GateRecord) -> Result<(), ArtifactError> {
    let path = dir.join(GATE_FILE);
    fs::write_json_atomic(&path, record).map_err(|source| ArtifactError::Io { path, source })
}

/// Why promotion refuses a model: its gate result is missing, failed, or is not about it.
#[derive(Debug, thiserror::Error)]
pub enum GateRefusal {
    #[error(
        "it has no quality gate result ({path} is missing): run the gate on it first (test_model, `make evaluate`)"
    )]
    Missing { path: PathBuf },
    #[error(
        "its gate result {path} is unreadable ({message}): run the gate again (test_model, `make evaluate`)"
    )]
    Unreadable { path: PathBuf, message: String },
    #[error(
        "its gate result {path} is about another model (checksum {recorded}, this model's is {actual}): run the gate on this model (test_model, `make evaluate`)"
    )]
    OtherModel {
        path: PathBuf,
        recorded: String,
        actual: String,
    },
    #[error(
        "its gate result {path} was computed on another test split (sha256 {recorded}, the model's held-out split is {expected}): run the gate again (test_model, `make evaluate`)"
    )]
    OtherSplit {
        path: PathBuf,
        recorded: String,
        expected: String,
    },
    #[error("it failed the quality gate on {evaluated_at}: {failures}")]
    Failed {
        evaluated_at: String,
        failures: String,
    },
    #[error(
        "its gate held {metric} to {recorded}, laxer than the configured {configured} ({setting}): run the gate with the configured thresholds (test_model, `make evaluate`)"
    )]
    LaxThreshold {
        metric: &'static str,
        setting: &'static str,
        recorded: String,
        configured: String,
    },
}

/// Checks that `dir`'s gate result is about this exact model (`checksum`, from
/// [`Model::load_with_checksum`]) and its held-out test split, that it passed, and that it held the
/// model to thresholds at least as strict as `thresholds`.
pub fn check_gate(
    dir: &Path,
    model: &Model,
    checksum: &str,
    thresholds: &Thresholds,
) -> Result<GateRecord, GateRefusal> {
    let path = dir.join(GATE_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(GateRefusal::Missing { path });
        }
        Err(err) => {
            return Err(GateRefusal::Unreadable {
                path,
                message: err.to_string(),
            });
        }
    };
    let record: GateRecord =
        serde_json::from_slice(&bytes).map_err(|err| GateRefusal::Unreadable {
            path: path.clone(),
            message: err.to_string(),
        })?;
    if record.model_checksum != checksum {
        return Err(GateRefusal::OtherModel {
            path,
            recorded: record.model_checksum,
            actual: checksum.to_owned(),
        });
    }
    if record.test_data_sha256 != model.metadata.test_data_sha256 {
        return Err(GateRefusal::OtherSplit {
            path,
            recorded: record.test_data_sha256,
            expected: model.metadata.test_data_sha256.clone(),
        });
    }
    if !record.gate.passed || record.gate.checks.iter().any(|c| !c.passed) {
        let failures = record.gate.failures();
        return Err(GateRefusal::Failed {
            evaluated_at: record.evaluated_at,
            failures: if failures.is_empty() {
                "the record says it failed".to_owned()
            } else {
                failures
            },
        });
    }
    let configured = thresholds.limits(&model.metadata.metrics);
    for (recorded, configured) in record
        .thresholds
        .limits(&model.metadata.metrics)
        .iter()
        .zip(configured)
    {
        if recorded.is_laxer_than(&configured) {
            let describe = |limit: &Limit| match limit.threshold {
                Some(threshold) => format!("{} {threshold}", limit.bound.symbol()),
                None => "no limit".to_owned(),
            };
            return Err(GateRefusal::LaxThreshold {
                metric: configured.metric,
                setting: configured.setting,
                recorded: describe(recorded),
                configured: describe(&configured),
            });
        }
    }
    Ok(record)
}

/// Recorded under [`GATE_OVERRIDE_KEY`] in the metadata.json of a model promoted although the
/// gate refused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateOverride {
    /// Why the gate refused the model.
    pub refused_because: String,
    /// Checksum of the trained model that was promoted (the promoted copy's differs, since its
    /// metadata carries this record).
    pub source_checksum: String,
    pub overridden_at: String,
}

/// The metadata.json of an overridden promotion: the model's metadata plus [`GateOverride`].
#[derive(Serialize)]
struct OverriddenMetadata<'a> {
    #[serde(flatten)]
    metadata: &'a ModelMetadata,
    gate_override: &'a GateOverride,
}

/// The gate override recorded in a model directory's metadata.json, if any.
pub fn gate_override(dir: &Path) -> Result<Option<GateOverride>, ArtifactError> {
    let bytes = read(&dir.join(METADATA_FILE))?;
    let metadata: serde_json::Value = decode(dir, METADATA_FILE, &bytes)?;
    metadata
        .get(GATE_OVERRIDE_KEY)
        .map(|value| {
            serde_json::from_value(value.clone()).map_err(|err| ArtifactError::Corrupt {
                path: dir.join(METADATA_FILE),
                message: err.to_string(),
            })
        })
        .transpose()
}

/// A promotion refused, or one that could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum PromoteError {
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    #[error(transparent)]
    Gate(#[from] GateRefusal),
}

/// What vouches for a promoted model.
#[derive(Debug, Clone, PartialEq)]
pub enum GateVerdict {
    /// The model passed the gate; its gate result was promoted with it.
    Passed(GateRecord),
    /// The gate refused the model and the override was recorded in its metadata.
    Overridden(GateOverride),
}

/// A promoted model, as loaded from the serving location.
#[derive(Debug, Clone)]
pub struct Promoted {
    pub model: Model,
    /// The promoted artifact's checksum (what the API reports).
    pub checksum: String,
    pub gate: GateVerdict,
}

/// Installs a verified model that passed the quality gate (see [`check_gate`]) at `target` (the
/// serving location), replacing the previous one atomically once the copy verifies, and returns it
/// as the API will load it. Its files and its gate result are copied byte for byte, so the served
/// checksum is the trained model's.
///
/// A model the gate refuses is not copied: the [`GateRefusal`] says why. With
/// `allow_failed_gate` it is installed anyway, with a [`GateOverride`] added to its metadata (and
/// `SHA256SUMS` updated to match). A model whose checksums do not verify is never installed.
pub fn promote(
    source: &Path,
    target: &Path,
    thresholds: &Thresholds,
    allow_failed_gate: bool,
) -> Result<Promoted, PromoteError> {
    let (model, checksum) = Model::load_with_checksum(source)?;
    let overridden = match check_gate(source, &model, &checksum, thresholds) {
        Ok(_) => None,
        Err(refusal) if !allow_failed_gate => return Err(refusal.into()),
        Err(refusal) => Some(GateOverride {
            refused_because: refusal.to_string(),
            source_checksum: checksum.clone(),
            overridden_at: time::now_rfc3339(),
        }),
    };
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| ArtifactError::Io { path, source }
    };
    // The bytes copied must be the ones verified (the source could change meanwhile).
    let sums = read(&source.join(CHECKSUMS_FILE))?;
    let same_sums = hashing::sha256_hex(&sums) == checksum;
    let expected = parse_checksums(&sums).unwrap_or_default();
    let mut files = Vec::new();
    for file in ARTIFACT_FILES {
        let path = source.join(file);
        let bytes = read(&path)?;
        let actual = hashing::sha256_hex(&bytes);
        if !same_sums || expected.get(file) != Some(&actual) {
            return Err(ArtifactError::ChecksumMismatch {
                path,
                expected: expected.get(file).cloned().unwrap_or_default(),
                actual,
            }
            .into());
        }
        files.push((file, bytes));
    }
    files.push((CHECKSUMS_FILE, sums));
    if let Some(record) = &overridden {
        let metadata = to_json(&OverriddenMetadata {
            metadata: &model.metadata,
            gate_override: record,
        });
        files.retain(|(file, _)| *file != METADATA_FILE && *file != CHECKSUMS_FILE);
        files.push((METADATA_FILE, metadata));
        let sums: String = files
            .iter()
            .map(|(file, bytes)| format!("{}  {file}\n", hashing::sha256_hex(bytes)))
            .collect();
        files.push((CHECKSUMS_FILE, sums.into_bytes()));
    }
    // The gate result travels with the model: after an override it shows what the gate said.
    match std::fs::read(source.join(GATE_FILE)) {
        Ok(bytes) => files.push((GATE_FILE, bytes)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io(&source.join(GATE_FILE))(err).into()),
    }

    let staging = fs::staging_dir(target).map_err(io(target))?;
    let staged = stage(&staging, &files, overridden, thresholds);
    if staged.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    let promoted = staged?;
    fs::replace_dir(&staging, target).map_err(io(target))?;
    Ok(promoted)
}

/// Writes the promoted files into `staging` and checks them as the API will read them, before
/// anything replaces the served model.
fn stage(
    staging: &Path,
    files: &[(&str, Vec<u8>)],
    overridden: Option<GateOverride>,
    thresholds: &Thresholds,
) -> Result<Promoted, PromoteError> {
    for (file, bytes) in files {
        let path = staging.join(file);
        fs::write_atomic(&path, bytes).map_err(|source| ArtifactError::Io { path, source })?;
    }
    let (model, checksum) = Model::load_with_checksum(staging)?;
    let gate = match overridden {
        Some(record) => GateVerdict::Overridden(record),
        None => GateVerdict::Passed(check_gate(staging, &model, &checksum, thresholds)?),
    };
    Ok(Promoted {
        model,
        checksum,
        gate,
    })
}
