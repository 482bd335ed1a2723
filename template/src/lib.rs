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

// The modules in their dependency order: each uses only the ones declared above it (the project's
// tests/architecture.rs fails when one reaches up), so any prefix of this list builds on its own.
// One declaration per paragraph, so that rustfmt keeps this order instead of sorting them.

/// The binaries' exit status and progress bars, paths, hashing, atomic writes, timestamps and
/// memory figures.
pub mod utils;

/// Folders in a local directory or (feature `cloud`) an object store, worked on through a local copy.
pub mod storage;

/// The dataset schema (`config/schema.toml`), the values of a record and the task of the target.
pub mod schema;

/// Imputation, encoding and scaling, fitted on the training split only.
pub mod features;

/// The medallion pipeline (bronze, silver, gold) and the data dictionary.
pub mod data;

/// Learning algorithms: logistic and ridge regression, and a decision tree for classes or numbers.
pub mod training;

/// Metrics of a classifier or a regression, and the quality gate.
pub mod evaluation;

/// The model directory: training a model from gold, save/load with checksums, metadata, and the
/// single prediction path.
pub mod artifact;

/// Batch prediction of CSV or Parquet files, streamed and parallel.
pub mod batch;

/// SVG figures and the markdown report.
pub mod reports;
{%- if mlflow %}

/// MLflow experiment tracking{% if api %} and model registry{% endif %} for the pipeline binaries (MLFLOW_TRACKING_URI).
pub mod tracking;
{%- endif %}

/// The binaries' settings: clap argument groups, each flag and its variable declared once.
pub mod config;

pub use artifact::{ArtifactError, Model, ModelMetadata, Prediction};
pub use features::RawRecord;
pub use schema::{FeatureSchema, RecordError, Schema};
