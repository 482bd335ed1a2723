//! A typed client of the MLflow REST API: experiment tracking (experiments, runs, params, metrics,
//! tags, artifacts) and the model registry (registered models, versions, aliases).
//!
//! MLflow has no maintained Rust client that covers the registry, so this crate speaks the REST API
//! of `mlflow server` directly: `/api/2.0/mlflow/...` for tracking and the registry, and the
//! artifact proxy `/api/2.0/mlflow-artifacts/artifacts/...` for files, so artifacts go through the
//! tracking server whatever storage it uses behind it. It is tested against MLflow 3.17.2.
//!
//! | module | job |
//! |---|---|
//! | [`client`] | [`MlflowClient`]: one blocking method per REST call, and the one [`Error`] type |
//! | [`types`] | the request and response bodies, as the API spells them |
//! | [`settings`] | the values MLflow accepts (tracking URI, experiment name, alias, `models:/` URI), as clap value parsers |
//!
//! It depends on neither the core library nor a web framework, so any crate of the workspace can
//! use it.

pub mod client;
pub mod settings;
pub mod types;

pub use client::{Error, MlflowClient};
pub use settings::ModelUri;
pub use types::{Batch, Metric, ModelVersion, Param, RunInfo, RunStatus, Tag};

/// Now, in milliseconds since the Unix epoch: MLflow's unit for run times and metric timestamps.
pub fn timestamp_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
