//! The project's core library: everything the pipeline binaries, the tests and the API share.
//!
//! Read it as a table of contents; each step of `make all` maps to a module:
//!
//! | step | binary | module |
//! |---|---|---|
//! | ingest -> bronze -> silver -> gold | `make_dataset` | [`data`], [`features`] |
//! | train | `train_model` | [`training`], [`artifact`] |
//! | evaluate (quality gate) | `test_model` | [`evaluation`] |
//! | batch predict | `predict_model` | [`batch`] |
//! | figures and report | `make_reports` | [`reports`] |
{%- if api %}
//! | promote to the API | `promote_model` | [`artifact::promote`] |
{%- endif %}

/// The model directory: save/load with checksums, metadata, and the single prediction path.
pub mod artifact;
/// Batch prediction of CSV or Parquet files, streamed and parallel.
pub mod batch;
/// The medallion pipeline (bronze, silver, gold), the dataset schema and the data dictionary.
pub mod data;
/// Metrics of a classifier or a regression, and the quality gate.
pub mod evaluation;
/// Imputation, encoding and scaling, fitted on the training split only.
pub mod features;
/// SVG figures and the markdown report.
pub mod reports;
/// Folders in a local directory or (feature `cloud`) an object store, worked on through a local copy.
pub mod storage;
{%- if mlflow %}
/// MLflow experiment tracking{% if api %} and model registry{% endif %} for the pipeline binaries (MLFLOW_TRACKING_URI).
pub mod tracking;
{%- endif %}
/// Learning algorithms: logistic and ridge regression, and a decision tree for classes or numbers.
pub mod training;
/// Settings, logging, paths, hashing, atomic writes and timestamps.
pub mod utils;

pub use artifact::{ArtifactError, Model, ModelMetadata, Prediction};
pub use data::schema::{FeatureSchema, RecordError, Schema};
pub use features::RawRecord;
