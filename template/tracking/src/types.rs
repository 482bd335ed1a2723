//! What the MLflow REST API sends and receives, as its JSON spells it (the protobuf messages of
//! MLflow's `service.proto` and `model_registry.proto` in their JSON mapping: snake_case fields,
//! 64-bit integers as numbers, IDs and versions as strings).

use serde::{Deserialize, Serialize, Serializer};

/// A run's tag or a model version's tag: a key and a value that can be changed later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A run's parameter: logged once, MLflow refuses to change its value.
pub type Param = Tag;

/// One value of a run's metric, at a time (milliseconds since the Unix epoch) and a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub key: String,
    #[serde(serialize_with = "proto_double")]
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
}

impl Metric {
    /// `key = value` at `timestamp`, step 0.
    pub fn new(key: impl Into<String>, value: f64, timestamp: i64) -> Self {
        Self {
            key: key.into(),
            value,
            timestamp,
            step: 0,
        }
    }
}

/// JSON has no NaN or infinity; the protobuf JSON mapping that MLflow parses spells them as strings.
fn proto_double<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    match *value {
        v if v.is_nan() => serializer.serialize_str("NaN"),
        f64::INFINITY => serializer.serialize_str("Infinity"),
        f64::NEG_INFINITY => serializer.serialize_str("-Infinity"),
        v => serializer.serialize_f64(v),
    }
}

/// What one `runs/log-batch` request logs. MLflow accepts at most 1000 metrics, 100 params and
/// 100 tags per batch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Batch {
    pub metrics: Vec<Metric>,
    pub params: Vec<Param>,
    pub tags: Vec<Tag>,
}

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Running,
    Scheduled,
    Finished,
    Failed,
    Killed,
}

/// A run's identity, status and artifact location.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RunInfo {
    pub run_id: String,
    pub experiment_id: String,
    pub status: RunStatus,
    /// Where the run's artifacts live, such as `mlflow-artifacts:/1/<run_id>/artifacts`.
    pub artifact_uri: String,
}

/// A version of a registered model.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ModelVersion {
    pub name: String,
    /// A number, as a string.
    pub version: String,
    /// The artifact location the version was registered from.
    pub source: String,
    #[serde(default)]
    pub run_id: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    #[serde(default)]
    pub aliases: Vec<String>,
}

// Request bodies.

#[derive(Serialize)]
pub(crate) struct CreateExperiment<'a> {
    pub name: &'a str,
}

#[derive(Serialize)]
pub(crate) struct CreateRun<'a> {
    pub experiment_id: &'a str,
    pub run_name: &'a str,
    pub start_time: i64,
    pub tags: &'a [Tag],
}

#[derive(Serialize)]
pub(crate) struct LogBatch<'a> {
    pub run_id: &'a str,
    #[serde(flatten)]
    pub batch: &'a Batch,
}

#[derive(Serialize)]
pub(crate) struct UpdateRun<'a> {
    pub run_id: &'a str,
    pub status: RunStatus,
    pub end_time: i64,
}

#[derive(Serialize)]
pub(crate) struct CreateRegisteredModel<'a> {
    pub name: &'a str,
}

#[derive(Serialize)]
pub(crate) struct CreateModelVersion<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub run_id: &'a str,
    pub tags: &'a [Tag],
}

#[derive(Serialize)]
pub(crate) struct SetAlias<'a> {
    pub name: &'a str,
    pub alias: &'a str,
    pub version: &'a str,
}

// Response bodies.

#[derive(Deserialize)]
pub(crate) struct ExperimentResponse {
    pub experiment: ExperimentId,
}

#[derive(Deserialize)]
pub(crate) struct ExperimentId {
    pub experiment_id: String,
}

#[derive(Deserialize)]
pub(crate) struct RunResponse {
    pub run: Run,
}

#[derive(Deserialize)]
pub(crate) struct Run {
    pub info: RunInfo,
}

#[derive(Deserialize)]
pub(crate) struct RunInfoResponse {
    pub run_info: RunInfo,
}

#[derive(Deserialize)]
pub(crate) struct ModelVersionResponse {
    pub model_version: ModelVersion,
}

#[derive(Deserialize)]
pub(crate) struct RegisteredModelResponse {
    pub registered_model: RegisteredModel,
}

#[derive(Deserialize)]
pub(crate) struct RegisteredModel {
    #[serde(default)]
    pub aliases: Vec<Alias>,
}

#[derive(Deserialize)]
pub(crate) struct Alias {
    pub alias: String,
    pub version: String,
}

#[derive(Deserialize)]
pub(crate) struct DownloadUriResponse {
    pub artifact_uri: String,
}

/// An empty answer (`{}`), or one whose content is not needed.
#[derive(Deserialize)]
pub(crate) struct Ignored {}

/// The body of every refused request.
#[derive(Deserialize)]
pub(crate) struct ErrorBody {
    pub error_code: String,
    #[serde(default)]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_are_spelled_as_the_rest_api_expects() {
        let tags = [Tag::new("mlflow.source.name", "train_model")];
        let create = CreateRun {
            experiment_id: "1",
            run_name: "demo-0.1.0",
            start_time: 1_700_000_000_000,
            tags: &tags,
        };
        assert_eq!(
            serde_json::to_value(create).unwrap(),
            json!({"experiment_id": "1", "run_name": "demo-0.1.0", "start_time": 1_700_000_000_000_i64,
                   "tags": [{"key": "mlflow.source.name", "value": "train_model"}]})
        );
        let batch = Batch {
            metrics: vec![Metric::new("test_accuracy", 0.5, 7)],
            params: vec![Param::new("split_seed", "42")],
            tags: vec![],
        };
        assert_eq!(
            serde_json::to_value(LogBatch {
                run_id: "r",
                batch: &batch
            })
            .unwrap(),
            json!({"run_id": "r", "metrics": [{"key": "test_accuracy", "value": 0.5, "timestamp": 7, "step": 0}],
                   "params": [{"key": "split_seed", "value": "42"}], "tags": []})
        );
        let update = UpdateRun {
            run_id: "r",
            status: RunStatus::Finished,
            end_time: 9,
        };
        assert_eq!(
            serde_json::to_value(update).unwrap(),
            json!({"run_id": "r", "status": "FINISHED", "end_time": 9})
        );
    }

    #[test]
    fn non_finite_metrics_use_the_protobuf_spelling() {
        let values: Vec<serde_json::Value> = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.5]
            .into_iter()
            .map(|value| serde_json::to_value(Metric::new("m", value, 0)).unwrap()["value"].clone())
            .collect();
        assert_eq!(
            values,
            [
                json!("NaN"),
                json!("Infinity"),
                json!("-Infinity"),
                json!(1.5)
            ]
        );
    }

    /// Answers as MLflow 3.17.2 sends them, extra fields included.
    #[test]
    fn responses_decode() {
        let run: RunResponse = serde_json::from_value(json!({"run": {
            "info": {"run_uuid": "7da4", "experiment_id": "1", "run_name": "r1", "user_id": "",
                     "status": "RUNNING", "start_time": 1_700_000_000_000_i64,
                     "artifact_uri": "mlflow-artifacts:/1/7da4/artifacts", "lifecycle_stage": "active",
                     "run_id": "7da4"},
            "data": {"tags": [{"key": "mlflow.runName", "value": "r1"}]}, "inputs": {}}}))
        .unwrap();
        assert_eq!(run.run.info.run_id, "7da4");
        assert_eq!(run.run.info.status, RunStatus::Running);
        assert_eq!(
            run.run.info.artifact_uri,
            "mlflow-artifacts:/1/7da4/artifacts"
        );

        let version: ModelVersionResponse = serde_json::from_value(json!({"model_version": {
            "name": "demo", "version": "1", "creation_timestamp": 1, "last_updated_timestamp": 1,
            "current_stage": "None", "description": "", "source": "mlflow-artifacts:/1/7da4/artifacts/model",
            "run_id": "7da4", "status": "READY", "tags": [{"key": "gate", "value": "passed"}],
            "run_link": "", "aliases": ["champion"]}}))
        .unwrap();
        let version = version.model_version;
        assert_eq!(
            (version.version.as_str(), version.run_id.as_str()),
            ("1", "7da4")
        );
        assert_eq!(version.aliases, ["champion"]);
        assert_eq!(version.tags, [Tag::new("gate", "passed")]);

        // A version without tags or aliases leaves the fields out.
        let bare: ModelVersion = serde_json::from_value(json!({"name": "demo", "version": "2",
            "source": "runs:/7da4/model", "status": "READY"}))
        .unwrap();
        assert!(bare.tags.is_empty() && bare.aliases.is_empty() && bare.run_id.is_empty());

        let error: ErrorBody =
            serde_json::from_value(json!({"error_code": "RESOURCE_DOES_NOT_EXIST",
            "message": "Could not find experiment with name 'demo'", "sqlstate": "KAM00",
            "error_class": "RESOURCE_NOT_FOUND"}))
            .unwrap();
        assert_eq!(error.error_code, "RESOURCE_DOES_NOT_EXIST");
        let experiment: ExperimentResponse = serde_json::from_value(json!({"experiment": {
            "experiment_id": "1", "name": "demo", "artifact_location": "mlflow-artifacts:/1",
            "lifecycle_stage": "active", "workspace": "default"}}))
        .unwrap();
        assert_eq!(experiment.experiment.experiment_id, "1");
    }
}
