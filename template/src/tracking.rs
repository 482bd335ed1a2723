//! MLflow experiment tracking{% if api %} and model registry{% endif %} for the pipeline binaries, over the REST client
//! of the `tracking/` crate. Nothing here runs unless `MLFLOW_TRACKING_URI` is set.
//!
//! - `train_model` creates or reuses the experiment and starts a run before it trains (so an
//!   unreachable server stops the step before any work), then logs to the run every
//!   hyperparameter, the split and the data hashes (params), the training and held-out metrics,
//!   the git commit, model version and checksum and the gold manifest's hash (tags) and the model
//!   directory (artifacts, under `model/`), and marks it FINISHED, or FAILED when training or
//!   logging fails. It leaves [`RUN_FILE`] in the model directory.
//! - `test_model` logs the quality gate's verdict to that run (metric `gate_passed`, tag `gate`,
//!   artifact `model/gate.json`).
{%- if api %}
//! - `promote_model` registers the promoted model as a version of the registered model, from the
//!   run's `model/` artifacts, and points the alias at it.
//! - The API can serve the version an alias points at (`API_MODEL_URI=models:/<name>@<alias>`):
//!   [`RegistryModel`] finds the version and downloads its model directory.
{%- endif %}
//!
//! [`RUN_FILE`] hands the run over from one step to the next without a search on the server. Like
//! `gate.json` it is not listed in `SHA256SUMS`, since logging a model does not change it; it names
//! the checksum of the model it is about instead{% if api %}, and promotion does not copy it{% endif %}.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

use crate::artifact::{self, {% if api %}GateVerdict, {% endif %}Model{% if api %}, Promoted{% endif %}};
use crate::data::gold::GoldData;
use crate::data::manifest::MANIFEST_FILE;
use crate::evaluation::{self, GateRecord, Metrics};
use crate::utils::{fs, hashing};

// One import per line: the crate name in the path makes a long list wrap differently per project.
use {{crate_name}}_tracking::Batch;
use {{crate_name}}_tracking::Error as MlflowError;
use {{crate_name}}_tracking::Metric;
use {{crate_name}}_tracking::MlflowClient;
{%- if api %}
use {{crate_name}}_tracking::ModelUri;
use {{crate_name}}_tracking::ModelVersion;
{%- endif %}
use {{crate_name}}_tracking::Param;
use {{crate_name}}_tracking::RunInfo;
use {{crate_name}}_tracking::RunStatus;
use {{crate_name}}_tracking::Tag;
use {{crate_name}}_tracking::timestamp_millis;

/// The run record `train_model` leaves in the model directory ([`RunRecord`], JSON).
pub const RUN_FILE: &str = "mlflow_run.json";

/// The folder of a run's artifacts that holds the model directory: a registered version's source.
pub const MODEL_ARTIFACTS: &str = "model";

/// The tag of runs and registered versions holding the model's checksum (the SHA-256 of its
/// `SHA256SUMS`).
const CHECKSUM_TAG: &str = "model_checksum";

/// The MLflow run a trained model was logged to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The server the run was logged to.
    pub tracking_uri: String,
    pub experiment_id: String,
    pub run_id: String,
    /// The run's artifact location; the model directory is in its `model/` folder.
    pub artifact_uri: String,
    /// The checksum of the model logged: the SHA-256 of its `SHA256SUMS`.
    pub model_checksum: String,
}

impl RunRecord {
    /// The run's page in the MLflow web UI.
    pub fn url(&self) -> String {
        format!(
            "{}/#/experiments/{}/runs/{}",
            self.tracking_uri, self.experiment_id, self.run_id
        )
    }
}

/// Tracking failed. Every message is one line that says what to do.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error(
        "MLflow tracking server {uri} (MLFLOW_TRACKING_URI): {error}{}",
        advice(error)
    )]
    Server { uri: String, error: MlflowError },
    #[error(
        "the model has no MLflow run ({path} is missing): it was trained without MLFLOW_TRACKING_URI; train it again with it set (train_model, `make train`)"
    )]
    NoRun { path: PathBuf },
    #[error("{path} is unreadable ({message}): train the model again (train_model, `make train`)")]
    BadRecord { path: PathBuf, message: String },
    #[error(
        "{path} is about another model (checksum {recorded}, this model's is {actual}): train it again (train_model, `make train`)"
    )]
    OtherModel {
        path: PathBuf,
        recorded: String,
        actual: String,
    },
{%- if api %}
    #[error(
        "version {version} of the registered model {name} holds another model (its SHA256SUMS hashes to {found}, the promoted model's checksum is {expected}); the alias was not moved"
    )]
    VersionMismatch {
        name: String,
        version: String,
        found: String,
        expected: String,
    },
    #[error(
        "{uri}: the alias is not set; promote a model with MLFLOW_TRACKING_URI set first (promote_model, `make promote`)"
    )]
    AliasNotSet { uri: ModelUri },
    #[error(
        "{uri} points at version {version}, whose SHA256SUMS hashes to {found} while the version's model_checksum tag says {expected}; it is not served"
    )]
    ChecksumTag {
        uri: ModelUri,
        version: String,
        found: String,
        expected: String,
    },
{%- endif %}
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
}

fn advice(error: &MlflowError) -> &'static str {
    match error {
        MlflowError::Unreachable { .. } => {
            "; start it, or leave MLFLOW_TRACKING_URI empty to work without tracking"
        }
        _ => "",
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrackingError + '_ {
    move |err| TrackingError::Io {
        path: path.to_owned(),
        message: err.to_string(),
    }
}

/// The client of `MLFLOW_TRACKING_URI`, whose errors name the setting.
#[derive(Debug)]
struct Server {
    client: MlflowClient,
}

impl Server {
    fn connect(tracking_uri: &str) -> Result<Self, TrackingError> {
        MlflowClient::new(tracking_uri)
            .map(|client| Self { client })
            .map_err(|error| TrackingError::Server {
                uri: tracking_uri.to_owned(),
                error,
            })
    }

    fn call<T>(&self, result: Result<T, MlflowError>) -> Result<T, TrackingError> {
        result.map_err(|error| TrackingError::Server {
            uri: self.client.tracking_uri().to_owned(),
            error,
        })
    }
}

/// A run that `train_model` started and has not finished yet.
pub struct TrainingRun {
    server: Server,
    info: RunInfo,
}

/// Creates or reuses the experiment and starts a run named `run_name` in it.
pub fn start_run(
    tracking_uri: &str,
    experiment: &str,
    run_name: &str,
) -> Result<TrainingRun, TrackingError> {
    let server = Server::connect(tracking_uri)?;
    let experiment_id = server.call(server.client.get_or_create_experiment(experiment))?;
    let tags = [Tag::new("mlflow.source.name", "train_model")];
    let info = server.call(server.client.create_run(
        &experiment_id,
        run_name,
        timestamp_millis(),
        &tags,
    ))?;
    Ok(TrainingRun { server, info })
}

impl TrainingRun {
    /// Logs a trained model saved in `dir` (params, training and held-out metrics, tags, the
    /// directory's files), marks the run FINISHED and writes [`RUN_FILE`] into `dir`. When logging
    /// fails the run is marked FAILED.
    pub fn finish(
        self,
        model: &Model,
        dir: &Path,
        gold: &GoldData,
        gold_dir: &Path,
    ) -> Result<RunRecord, TrackingError> {
        let logged = self.log(model, dir, gold, gold_dir);
        if logged.is_err() {
            self.fail();
        }
        logged
    }

    /// Marks the run FAILED. Best effort: the error that stopped the step is the one to report.
    pub fn fail(&self) {
        let client = &self.server.client;
        let _ = client.update_run(&self.info.run_id, RunStatus::Failed, timestamp_millis());
    }

    fn log(
        &self,
        model: &Model,
        dir: &Path,
        gold: &GoldData,
        gold_dir: &Path,
    ) -> Result<RunRecord, TrackingError> {
        let (server, run) = (&self.server, &self.info);
        let metadata = &model.metadata;
        let checksums = dir.join(artifact::CHECKSUMS_FILE);
        let model_checksum = hashing::sha256_file(&checksums).map_err(io(&checksums))?;
        let manifest = gold_dir.join(MANIFEST_FILE);
        let gold_manifest = hashing::sha256_file(&manifest).map_err(io(&manifest))?;

        let train_outputs = model.estimator.outputs(gold.train_x.view());
        let training =
            evaluation::evaluate_outputs(metadata.task(), &gold.train_y, train_outputs.view());
        let now = timestamp_millis();
        let mut metrics = Vec::new();
        for (split, measured) in [("train", &training), ("test", &metadata.metrics)] {
            metrics.extend(split_metrics(split, measured, now));
        }

        // Every hyperparameter, whatever the algorithm: a run compares with any other.
        let hyperparameters = serde_json::to_value(&metadata.hyperparameters)
            .expect("hyperparameters are a plain struct");
        let mut params: Vec<Param> = hyperparameters
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, value)| match value {
                serde_json::Value::String(text) => Param::new(key, text),
                other => Param::new(key, other.to_string()),
            })
            .collect();
        params.extend([
            Param::new("split_seed", metadata.split_seed.to_string()),
            Param::new("test_fraction", gold.manifest.test_fraction.to_string()),
            Param::new("training_data_sha256", &metadata.training_data_sha256),
            Param::new("test_data_sha256", &metadata.test_data_sha256),
            Param::new("schema_sha256", &metadata.schema_sha256),
        ]);

        let mut tags = vec![
            Tag::new("model_name", &metadata.name),
            Tag::new("model_version", &metadata.version),
            Tag::new(CHECKSUM_TAG, &model_checksum),
            Tag::new("gold_manifest_sha256", gold_manifest),
        ];
        if let Some(commit) = &metadata.git_commit {
            // MLflow's own tag, which its web UI shows as the run's source version.
            tags.push(Tag::new("mlflow.source.git.commit", commit));
        }
        let batch = Batch {
            metrics,
            params,
            tags,
        };
        server.call(server.client.log_batch(&run.run_id, &batch))?;

        for (name, bytes) in model_files(dir)? {
            let path = format!("{MODEL_ARTIFACTS}/{name}");
            server.call(
                server
                    .client
                    .upload_artifact(&run.artifact_uri, &path, &bytes),
            )?;
        }
        server.call(server.client.update_run(
            &run.run_id,
            RunStatus::Finished,
            timestamp_millis(),
        ))?;

        let record = RunRecord {
            tracking_uri: server.client.tracking_uri().to_owned(),
            experiment_id: run.experiment_id.clone(),
            run_id: run.run_id.clone(),
            artifact_uri: run.artifact_uri.clone(),
            model_checksum,
        };
        let path = dir.join(RUN_FILE);
        fs::write_json_atomic(&path, &record).map_err(io(&path))?;
        Ok(record)
    }
}

/// `<split>_<metric>` for each headline metric, and `<split>_rows`.
fn split_metrics(split: &str, metrics: &Metrics, timestamp: i64) -> Vec<Metric> {
    let mut out: Vec<Metric> = metrics
        .headline()
        .into_iter()
        .map(|(name, value)| Metric::new(format!("{split}_{name}"), value, timestamp))
        .collect();
    out.push(Metric::new(
        format!("{split}_rows"),
        metrics.rows() as f64,
        timestamp,
    ));
    out
}

/// The files of a model directory, by name, in name order.
fn model_files(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, TrackingError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            files.push((
                path.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
                bytes,
            ));
        }
    }
    files.sort();
    Ok(files)
}

/// The run record of the model in `dir`.
pub fn read_run_record(dir: &Path) -> Result<RunRecord, TrackingError> {
    let path = dir.join(RUN_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(TrackingError::NoRun { path });
        }
        Err(err) => return Err(io(&path)(err)),
    };
    serde_json::from_slice(&bytes).map_err(|err| TrackingError::BadRecord {
        path,
        message: err.to_string(),
    })
}

/// Refuses a run record about another model than the one whose checksum is `checksum`.
fn check_model(dir: &Path, record: &RunRecord, checksum: &str) -> Result<(), TrackingError> {
    if record.model_checksum == checksum {
        return Ok(());
    }
    Err(TrackingError::OtherModel {
        path: dir.join(RUN_FILE),
        recorded: record.model_checksum.clone(),
        actual: checksum.to_owned(),
    })
}

/// Logs the quality gate's verdict on the model in `dir` to its run: the metric `gate_passed` (1
/// or 0), the tag `gate` (`passed`, or `failed: ...` with the failures) and `model/gate.json`.
pub fn log_gate(
    tracking_uri: &str,
    dir: &Path,
    gate: &GateRecord,
) -> Result<RunRecord, TrackingError> {
    let record = read_run_record(dir)?;
    check_model(dir, &record, &gate.model_checksum)?;
    let server = Server::connect(tracking_uri)?;
    let passed = gate.gate.passed;
    let verdict = if passed {
        "passed".to_owned()
    } else {
        format!("failed: {}", gate.gate.failures())
    };
    let batch = Batch {
        metrics: vec![Metric::new(
            "gate_passed",
            f64::from(u8::from(passed)),
            timestamp_millis(),
        )],
        params: Vec::new(),
        tags: vec![Tag::new("gate", verdict)],
    };
    server.call(server.client.log_batch(&record.run_id, &batch))?;
    let path = dir.join(artifact::GATE_FILE);
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let name = format!("{MODEL_ARTIFACTS}/{}", artifact::GATE_FILE);
    server.call(
        server
            .client
            .upload_artifact(&record.artifact_uri, &name, &bytes),
    )?;
    Ok(record)
}

{%- if api %}

/// A promotion's registration in the model registry, checked before anything is copied.
pub struct Registration {
    server: Server,
    dir: PathBuf,
    record: RunRecord,
}

/// A registered version the alias points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredVersion {
    pub name: String,
    pub version: String,
    pub alias: String,
    /// False when the alias already pointed at a version of this run with the same tags.
    pub created: bool,
    /// The version's page in the MLflow web UI.
    pub url: String,
}

/// Before promoting the model in `dir`: it has a run record, and its run exists on the server. So
/// an unreachable server, or a model trained without tracking, stops promotion before it copies
/// anything.
pub fn prepare_registration(tracking_uri: &str, dir: &Path) -> Result<Registration, TrackingError> {
    let record = read_run_record(dir)?;
    let server = Server::connect(tracking_uri)?;
    server.call(server.client.get_run(&record.run_id))?;
    Ok(Registration {
        server,
        dir: dir.to_owned(),
        record,
    })
}

impl Registration {
    /// Registers the promoted model as a version of the registered model `name`, from its run's
    /// `model/` artifacts (tags `model_checksum` and `gate`: `passed` or `overridden: ...`), and
    /// points `alias` at it once the version's `SHA256SUMS` is the promoted model's. A version of
    /// this run with the same tags that `alias` already points at is kept rather than duplicated.
    pub fn register(
        self,
        promoted: &Promoted,
        name: &str,
        alias: &str,
    ) -> Result<RegisteredVersion, TrackingError> {
        let (server, record) = (&self.server, &self.record);
        // The trained model's checksum: an overridden promotion adds a record to the served copy.
        let (checksum, gate) = match &promoted.gate {
            GateVerdict::Passed(gate) => (&gate.model_checksum, "passed".to_owned()),
            GateVerdict::Overridden(gate) => (
                &gate.source_checksum,
                format!("overridden: {}", gate.refused_because),
            ),
        };
        check_model(&self.dir, record, checksum)?;
        let client = &server.client;
        server.call(client.ensure_registered_model(name))?;

        let source = format!(
            "{}/{MODEL_ARTIFACTS}",
            record.artifact_uri.trim_end_matches('/')
        );
        let tags = [Tag::new(CHECKSUM_TAG, checksum), Tag::new("gate", gate)];
        let current = server.call(client.model_version_by_alias(name, alias))?;
        let (version, created) = match current {
            Some(version)
                if version.run_id == record.run_id
                    && version.source == source
                    && tags.iter().all(|tag| version.tags.contains(tag)) =>
            {
                (version.version, false)
            }
            _ => {
                let version = client.create_model_version(name, &source, &record.run_id, &tags);
                (server.call(version)?.version, true)
            }
        };

        // The alias is what serving will download: it moves only to the bytes that were promoted.
        let uri = server.call(client.model_version_download_uri(name, &version))?;
        let sums = server.call(client.download_artifact(&uri, artifact::CHECKSUMS_FILE))?;
        let found = hashing::sha256_hex(&sums);
        if &found != checksum {
            return Err(TrackingError::VersionMismatch {
                name: name.to_owned(),
                version,
                found,
                expected: checksum.clone(),
            });
        }
        server.call(client.set_alias(name, alias, &version))?;
        Ok(RegisteredVersion {
            url: format!(
                "{}/#/models/{name}/versions/{version}",
                client.tracking_uri()
            ),
            name: name.to_owned(),
            version,
            alias: alias.to_owned(),
            created,
        })
    }
}

/// A registered model's version named by an alias, to serve it: MLflow is asked which version the
/// alias points at, and that version's model directory is downloaded through the artifact proxy.
#[derive(Debug)]
pub struct RegistryModel {
    server: Server,
    uri: ModelUri,
}

impl RegistryModel {
    /// `uri` on the server `tracking_uri`. Nothing is sent yet.
    pub fn new(tracking_uri: &str, uri: ModelUri) -> Result<Self, TrackingError> {
        Ok(Self {
            server: Server::connect(tracking_uri)?,
            uri,
        })
    }

    /// `models:/<name>@<alias>`.
    pub fn uri(&self) -> &ModelUri {
        &self.uri
    }

    /// The version the alias points at now.
    pub fn aliased_version(&self) -> Result<ModelVersion, TrackingError> {
        let (server, uri) = (&self.server, &self.uri);
        server
            .call(server.client.model_version_by_alias(&uri.name, &uri.alias))?
            .ok_or_else(|| TrackingError::AliasNotSet { uri: uri.clone() })
    }

    /// Downloads the model directory of `version` into `dir`, replacing it: `SHA256SUMS` and the
    /// files it lists. When the version carries the `model_checksum` tag that `promote_model`
    /// sets, `SHA256SUMS` must hash to it; loading the model then checks each file against it.
    pub fn download(&self, version: &ModelVersion, dir: &Path) -> Result<(), TrackingError> {
        let client = &self.server.client;
        let location = self
            .server
            .call(client.model_version_download_uri(&self.uri.name, &version.version))?;
        let staging = fs::staging_dir(dir).map_err(io(dir))?;
        for file in [artifact::CHECKSUMS_FILE]
            .into_iter()
            .chain(artifact::ARTIFACT_FILES)
        {
            let bytes = self
                .server
                .call(client.download_artifact(&location, file))?;
            if file == artifact::CHECKSUMS_FILE {
                self.check_tag(version, &hashing::sha256_hex(&bytes))?;
            }
            let path = staging.join(file);
            fs::write_atomic(&path, &bytes).map_err(io(&path))?;
        }
        fs::replace_dir(&staging, dir).map_err(io(dir))
    }

    fn check_tag(&self, version: &ModelVersion, checksum: &str) -> Result<(), TrackingError> {
        match version.tags.iter().find(|tag| tag.key == CHECKSUM_TAG) {
            Some(tag) if tag.value != checksum => Err(TrackingError::ChecksumTag {
                uri: self.uri.clone(),
                version: version.version.clone(),
                found: checksum.to_owned(),
                expected: tag.value.clone(),
            }),
            _ => Ok(()),
        }
    }
}
{%- endif %}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RunRecord {
        RunRecord {
            tracking_uri: "http://127.0.0.1:5000".into(),
            experiment_id: "1".into(),
            run_id: "abc".into(),
            artifact_uri: "mlflow-artifacts:/1/abc/artifacts".into(),
            model_checksum: "0".repeat(64),
        }
    }

    #[test]
    fn the_run_record_round_trips_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_run_record(dir.path()).unwrap_err();
        assert!(matches!(err, TrackingError::NoRun { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("trained without MLFLOW_TRACKING_URI"),
            "{err}"
        );

        fs::write_json_atomic(&dir.path().join(RUN_FILE), &record()).unwrap();
        let read = read_run_record(dir.path()).unwrap();
        assert_eq!(read, record());
        assert_eq!(read.url(), "http://127.0.0.1:5000/#/experiments/1/runs/abc");
        check_model(dir.path(), &read, &"0".repeat(64)).unwrap();
        let err = check_model(dir.path(), &read, &"1".repeat(64)).unwrap_err();
        assert!(err.to_string().contains("is about another model"), "{err}");

        std::fs::write(dir.path().join(RUN_FILE), "{").unwrap();
        let err = read_run_record(dir.path()).unwrap_err();
        assert!(matches!(err, TrackingError::BadRecord { .. }), "{err}");
    }

    #[test]
    fn an_unreachable_server_is_one_line_naming_the_setting() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let uri = format!("http://127.0.0.1:{port}");
        let message = start_run(&uri, "demo", "demo-0.1.0")
            .err()
            .unwrap()
            .to_string();
        assert!(
            message.starts_with(&format!(
                "MLflow tracking server {uri} (MLFLOW_TRACKING_URI): unreachable: "
            )) && message.ends_with("leave MLFLOW_TRACKING_URI empty to work without tracking"),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }

    #[test]
    fn metrics_are_named_by_split() {
        let metrics = Metrics::Regression(evaluation::evaluate_values(&[1.0, 2.0], &[1.0, 3.0]));
        let names: Vec<String> = split_metrics("test", &metrics, 5)
            .into_iter()
            .map(|metric| metric.key)
            .collect();
        assert_eq!(names, ["test_r2", "test_rmse", "test_mae", "test_rows"]);
    }
}
