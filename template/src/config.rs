//! The batch binaries' settings: clap argument groups that each binary flattens into its command
//! line, so each flag and its variable are declared once, here.
//!
//! Precedence: command-line flag > environment variable > `config/.env` > built-in default. A flag
//! and its variable go through the same parser from the settings crate (`{{crate_name}}_settings`,
//! which the servers use too), so a bad value gets the same message by either route, naming the
//! variable and the expected form. Every variable is documented in `config/.env.example`; a test
//! checks that file against [`all_settings`].
{%- if api %}
//! `API_*`{% if web_ui %} and `UI_*`{% endif %} settings belong to the api{% if web_ui %} and ui{% endif %} crate{% if web_ui %}s{% endif %}.
{%- endif %}

use clap::{Args, Command, CommandFactory, FromArgMatches};
use std::path::{Path, PathBuf};

use crate::data::ingest::DataSource;
use crate::data::layers::{self, Layers, SilverStep};
use crate::data::{self, DataError};
use crate::evaluation::Thresholds;
use crate::schema::{Schema, SchemaError};
use crate::storage::{Folder, parse_folder};
use crate::training::{Algorithm, Hyperparameters};
use crate::utils::paths;

// One import per line: the crate name in the path makes a long list wrap differently per project.
use {{crate_name}}_settings::parse_delimiter;
use {{crate_name}}_settings::parse_fraction;
use {{crate_name}}_settings::parse_model_name;
use {{crate_name}}_settings::parse_model_version;
use {{crate_name}}_settings::parse_non_negative;
use {{crate_name}}_settings::parse_non_negative_number;
use {{crate_name}}_settings::parse_positive;
use {{crate_name}}_settings::parse_unit_interval;
{%- if mlflow %}
{%- if api %}
use {{crate_name}}_tracking::settings::parse_alias;
{%- endif %}
use {{crate_name}}_tracking::settings::parse_experiment_name;
use {{crate_name}}_tracking::settings::parse_tracking_uri;
{%- endif %}

/// The log filter and format, which every binary has (`LogSettings::init` starts logging).
pub use {{crate_name}}_settings::LogSettings;
/// The `after_help` of every binary: where the settings come from.
pub use {{crate_name}}_settings::PRECEDENCE;
/// A settings group's built-in defaults, whatever the environment says.
pub use {{crate_name}}_settings::defaults;

/// Parses a binary's command line `C` over the environment and `config/.env`. On a bad flag or
/// setting, or `--help`, clap prints the message and exits; an unreadable `config/.env` is an error.
pub fn load<C: CommandFactory + FromArgMatches>() -> anyhow::Result<C> {
    {{crate_name}}_settings::load(Path::new(paths::ENV_FILE))
}

/// Every setting of the batch binaries, each group once: what `config/.env.example` documents.
pub fn all_settings() -> Command {
    let command = Command::new("settings");
    // The model, the data layers, the reports folder and the log filter.
    let command = ModelStep::augment_args(command);
    let command = SourceSettings::augment_args(command);
    let command = CsvDelimiter::augment_args(command);
    let command = TrainingSettings::augment_args(command);
    let command = GateSettings::augment_args(command);
{%- if api %}
    let command = PromoteTarget::augment_args(command);
{%- endif %}
{%- if mlflow %}
    let command = TrackingServer::augment_args(command);
    let command = TrackingExperiment::augment_args(command);
{%- if api %}
    let command = RegistrySettings::augment_args(command);
{%- endif %}
{%- endif %}
    PredictInput::augment_args(command)
}

/// The folder of the bronze, silver and gold layers.
#[derive(Debug, Clone, Args)]
pub struct DatasetsDir {
    /// Folder of the data layers: a path, or an s3://, gs:// or az:// URL (feature `cloud`)
    #[arg(
        long,
        env = "DATASETS_DIR",
        value_name = "DATASETS_DIR",
        default_value = paths::DATASETS_DIR,
        value_parser = parse_folder
    )]
    pub datasets_dir: Folder,
}

/// The folder of metrics, predictions, the report and its figures.
#[derive(Debug, Clone, Args)]
pub struct ReportsDir {
    /// Folder of metrics.json, predictions.csv, report.md and figures/
    #[arg(
        long,
        env = "REPORTS_DIR",
        value_name = "REPORTS_DIR",
        default_value = paths::REPORTS_DIR
    )]
    pub reports_dir: PathBuf,
}

/// Where the dataset comes from and how it is split (`make_dataset`).
#[derive(Debug, Clone, Args)]
pub struct SourceSettings {
    /// Data source: `sample`, a CSV path, or an http(s) URL
    #[arg(
        long,
        env = "DATA_SOURCE",
        value_name = "DATA_SOURCE",
        default_value = "sample",
        value_parser = parse_source
    )]
    pub source: DataSource,
    /// Schema file describing the CSV [default: config/schema.toml if it exists, else the bundled
    /// penguins schema]
    #[arg(long, env = "DATA_SCHEMA", value_name = "DATA_SCHEMA")]
    pub schema: Option<PathBuf>,
    /// Seed of the train/test split
    #[arg(
        long,
        env = "SPLIT_SEED",
        value_name = "SPLIT_SEED",
        default_value_t = 42,
        value_parser = parse_non_negative::<u64>
    )]
    pub seed: u64,
    /// Share of each class held out for testing, strictly between 0 and 1
    #[arg(
        long,
        env = "TEST_FRACTION",
        value_name = "TEST_FRACTION",
        default_value_t = 0.2,
        value_parser = parse_fraction
    )]
    pub test_fraction: f64,
    /// Folder receiving data_dictionary.md
    #[arg(
        long,
        env = "REFERENCE_DIR",
        value_name = "REFERENCE_DIR",
        default_value = paths::REFERENCE_DIR
    )]
    pub reference_dir: PathBuf,
}

/// What make_dataset reads and where it writes the layers; make_dataset_cluster shares them.
#[derive(Debug, Clone, Args)]
pub struct DatasetSettings {
    #[command(flatten)]
    pub source: SourceSettings,
    #[command(flatten)]
    pub delimiter: CsvDelimiter,
    #[command(flatten)]
    pub datasets: DatasetsDir,
}

impl DatasetSettings {
    /// The schema to validate with (DATA_SCHEMA, else config/schema.toml, else the bundled one).
    pub fn schema(&self) -> Result<Schema, SchemaError> {
        let (schema, origin) = data::resolve_schema(self.source.schema.as_deref())?;
        tracing::info!(schema = %origin, "schema loaded");
        Ok(schema)
    }

    /// Writes the bronze, silver and gold layers, silver with `silver`.
    pub fn build_layers(&self, schema: &Schema, silver: SilverStep) -> Result<Layers, DataError> {
        let inputs = layers::Inputs {
            source: &self.source.source,
            schema,
            delimiter: self.delimiter.delimiter,
            test_fraction: self.source.test_fraction,
            seed: self.source.seed,
        };
        layers::build(&self.datasets.datasets_dir, &inputs, silver)
    }
}

/// The field delimiter of CSV input.
#[derive(Debug, Clone, Args)]
pub struct CsvDelimiter {
    /// CSV field delimiter: one character, or `tab`
    #[arg(
        long,
        env = "CSV_DELIMITER",
        value_name = "CSV_DELIMITER",
        default_value = ",",
        value_parser = parse_delimiter
    )]
    pub delimiter: u8,
}

/// A trained model's name and version, which make its directory's name.
#[derive(Debug, Clone, Args)]
pub struct ModelId {
    /// Model name: letters, digits, `-` or `_` [default: the package name]
    #[arg(
        long = "name",
        env = "MODEL_NAME",
        value_name = "MODEL_NAME",
        default_value = env!("CARGO_PKG_NAME"),
        hide_default_value = true,
        value_parser = parse_model_name
    )]
    pub name: String,
    /// Model version: letters, digits, `.`, `-` or `_` [default: the package version]
    #[arg(
        long,
        env = "MODEL_VERSION",
        value_name = "MODEL_VERSION",
        default_value = env!("CARGO_PKG_VERSION"),
        hide_default_value = true,
        value_parser = parse_model_version
    )]
    pub model_version: String,
    /// Folder of the trained model directories: a path, or an s3://, gs:// or az:// URL (feature
    /// `cloud`)
    #[arg(
        long,
        env = "MODELS_DIR",
        value_name = "MODELS_DIR",
        default_value = paths::MODELS_DIR,
        value_parser = parse_folder
    )]
    pub models_dir: Folder,
}

impl ModelId {
    /// `MODELS_DIR/MODEL_NAME-MODEL_VERSION`.
    pub fn model_dir(&self) -> Folder {
        self.models_dir
            .join(&paths::model_dir_name(&self.name, &self.model_version))
    }
}

/// The model a step works on: the configured one, or `--model-dir`.
#[derive(Debug, Clone, Args)]
pub struct ModelChoice {
    /// Model directory [default: MODELS_DIR/MODEL_NAME-MODEL_VERSION]
    #[arg(long, value_parser = parse_folder)]
    pub model_dir: Option<Folder>,
    #[command(flatten)]
    pub id: ModelId,
}

impl ModelChoice {
    /// `--model-dir`, else the configured model's directory.
    pub fn model_dir(&self) -> Folder {
        self.model_dir
            .clone()
            .unwrap_or_else(|| self.id.model_dir())
    }
}

/// What the steps after training share: the model, the data layers, the reports folder and the
/// log filter (`test_model`, `predict_model`, `make_reports`).
#[derive(Debug, Clone, Args)]
pub struct ModelStep {
    #[command(flatten)]
    pub model: ModelChoice,
    #[command(flatten)]
    pub datasets: DatasetsDir,
    #[command(flatten)]
    pub reports: ReportsDir,
    #[command(flatten)]
    pub log: LogSettings,
}

/// The algorithm and its hyperparameters (`train_model`).
#[derive(Debug, Clone, Args)]
pub struct TrainingSettings {
    /// `linear` (logistic regression for a categorical target, ridge regression for a numeric
    /// one) or `decision_tree`
    #[arg(
        long,
        env = "MODEL_ALGORITHM",
        value_name = "MODEL_ALGORITHM",
        default_value_t = Hyperparameters::default().algorithm
    )]
    pub algorithm: Algorithm,
    /// Logistic regression: maximum L-BFGS iterations (ridge regression is solved exactly)
    #[arg(
        long,
        env = "LINEAR_MAX_ITERATIONS",
        value_name = "LINEAR_MAX_ITERATIONS",
        default_value_t = Hyperparameters::default().max_iterations,
        value_parser = parse_positive::<u64>
    )]
    pub max_iterations: u64,
    /// Linear models: L2 penalty (0 disables it)
    #[arg(
        long,
        env = "LINEAR_L2_PENALTY",
        value_name = "LINEAR_L2_PENALTY",
        default_value_t = Hyperparameters::default().l2_penalty,
        value_parser = parse_non_negative_number
    )]
    pub l2_penalty: f64,
    /// Decision tree: maximum depth
    #[arg(
        long,
        env = "TREE_MAX_DEPTH",
        value_name = "TREE_MAX_DEPTH",
        default_value_t = Hyperparameters::default().max_depth,
        value_parser = parse_positive::<usize>
    )]
    pub max_depth: usize,
    /// Decision tree: minimum training rows per leaf
    #[arg(
        long,
        env = "TREE_MIN_SAMPLES_LEAF",
        value_name = "TREE_MIN_SAMPLES_LEAF",
        default_value_t = Hyperparameters::default().min_samples_leaf,
        value_parser = parse_positive::<usize>
    )]
    pub min_samples_leaf: usize,
}

impl TrainingSettings {
    /// The hyperparameters these settings choose.
    pub fn hyperparameters(&self) -> Hyperparameters {
        Hyperparameters {
            algorithm: self.algorithm,
            max_iterations: self.max_iterations,
            l2_penalty: self.l2_penalty,
            max_depth: self.max_depth,
            min_samples_leaf: self.min_samples_leaf,
        }
    }
}

/// The quality gate's thresholds (`test_model`{% if api %}, and `promote_model`, which refuses laxer ones{% endif %}).
#[derive(Debug, Clone, Args)]
pub struct GateSettings {
    /// Minimum accuracy on the held-out test split, from 0 to 1
    #[arg(
        long,
        env = "GATE_MIN_ACCURACY",
        value_name = "GATE_MIN_ACCURACY",
        default_value_t = 0.9,
        value_parser = parse_unit_interval
    )]
    pub min_accuracy: f64,
    /// Minimum macro-F1 on the held-out test split, from 0 to 1
    #[arg(
        long,
        env = "GATE_MIN_MACRO_F1",
        value_name = "GATE_MIN_MACRO_F1",
        default_value_t = 0.9,
        value_parser = parse_unit_interval
    )]
    pub min_macro_f1: f64,
    /// Regression: minimum R^2 on the held-out test split, from 0 to 1
    #[arg(
        long,
        env = "GATE_MIN_R2",
        value_name = "GATE_MIN_R2",
        default_value_t = 0.5,
        value_parser = parse_unit_interval
    )]
    pub min_r2: f64,
    /// Regression: maximum RMSE on the held-out test split, in the target's unit [default: no
    /// limit]
    #[arg(
        long,
        env = "GATE_MAX_RMSE",
        value_name = "GATE_MAX_RMSE",
        value_parser = parse_non_negative_number
    )]
    pub max_rmse: Option<f64>,
    /// Regression: maximum MAE on the held-out test split, in the target's unit [default: no
    /// limit]
    #[arg(
        long,
        env = "GATE_MAX_MAE",
        value_name = "GATE_MAX_MAE",
        value_parser = parse_non_negative_number
    )]
    pub max_mae: Option<f64>,
}

impl GateSettings {
    /// The thresholds a model must respect (those of its task apply).
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            min_accuracy: self.min_accuracy,
            min_macro_f1: self.min_macro_f1,
            min_r2: self.min_r2,
            max_rmse: self.max_rmse,
            max_mae: self.max_mae,
        }
    }
}

/// The file `predict_model` scores.
#[derive(Debug, Clone, Args)]
pub struct PredictInput {
    /// Input file, CSV or `.parquet` [default: DATASETS_DIR/gold/test_raw.parquet, the held-out
    /// rows]
    #[arg(long, env = "PREDICT_INPUT", value_name = "PREDICT_INPUT")]
    pub input: Option<PathBuf>,
}
{%- if api %}

/// Where `promote_model` installs the model the API serves.
#[derive(Debug, Clone, Args)]
pub struct PromoteTarget {
    /// Destination directory: a path, or an s3://, gs:// or az:// URL (feature `cloud`)
    #[arg(
        long,
        env = "PROMOTE_DIR",
        value_name = "PROMOTE_DIR",
        default_value = paths::PROMOTED_MODEL_DIR,
        value_parser = parse_folder
    )]
    pub to: Folder,
}
{%- endif %}
{%- if mlflow %}

/// The MLflow tracking server (`train_model`, `test_model`{% if api %}, `promote_model`, the API{% endif %}).
#[derive(Debug, Clone, Args)]
pub struct TrackingServer {
    /// MLflow tracking server, http(s)://host:port [default: none, MLflow is not used]
    #[arg(
        long,
        env = "MLFLOW_TRACKING_URI",
        value_name = "MLFLOW_TRACKING_URI",
        value_parser = parse_tracking_uri
    )]
    pub tracking_uri: Option<String>,
}

/// The MLflow experiment of the training runs (`train_model`).
#[derive(Debug, Clone, Args)]
pub struct TrackingExperiment {
    /// MLflow experiment to log training runs to, created if missing [default: the package name]
    #[arg(
        long = "experiment",
        env = "MLFLOW_EXPERIMENT_NAME",
        value_name = "MLFLOW_EXPERIMENT_NAME",
        default_value = env!("CARGO_PKG_NAME"),
        hide_default_value = true,
        value_parser = parse_experiment_name
    )]
    pub experiment: String,
}
{%- if api %}

/// Where `promote_model` registers the promoted model in MLflow's model registry.
#[derive(Debug, Clone, Args)]
pub struct RegistrySettings {
    /// Registered model that promoted models become versions of: letters, digits, `-` or `_`
    /// [default: the package name]
    #[arg(
        long,
        env = "MLFLOW_REGISTERED_MODEL",
        value_name = "MLFLOW_REGISTERED_MODEL",
        default_value = env!("CARGO_PKG_NAME"),
        hide_default_value = true,
        value_parser = parse_model_name
    )]
    pub registered_model: String,
    /// Alias of the registered model that points at the promoted version
    #[arg(
        long,
        env = "MLFLOW_ALIAS",
        value_name = "MLFLOW_ALIAS",
        default_value = "champion",
        value_parser = parse_alias
    )]
    pub alias: String,
}
{%- endif %}
{%- endif %}

fn parse_source(value: &str) -> Result<DataSource, String> {
    if value.trim().is_empty() {
        return Err("expected `sample`, a file path, or an http(s) URL".to_owned());
    }
    Ok(DataSource::parse(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use {{crate_name}}_settings::check_env_file;

    /// Parses `args` with the settings of every binary, ignoring the process environment.
    fn parse(args: &[&str]) -> Result<clap::ArgMatches, clap::Error> {
        let argv = std::iter::once("settings").chain(args.iter().copied());
        all_settings()
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(argv)
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let model: ModelChoice = defaults();
        let name = format!("{}-{}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
        assert_eq!(
            model.model_dir().to_string(),
            Path::new(paths::MODELS_DIR)
                .join(name)
                .display()
                .to_string()
        );
        let training: TrainingSettings = defaults();
        assert_eq!(training.hyperparameters(), Hyperparameters::default());
        let source: SourceSettings = defaults();
        assert_eq!(source.source, DataSource::Sample);
        assert_eq!((source.seed, source.test_fraction), (42, 0.2));
        assert_eq!(defaults::<CsvDelimiter>().delimiter, b',');
        assert_eq!(defaults::<LogSettings>().log_filter, "info");
        assert_eq!(defaults::<PredictInput>().input, None);
{%- if mlflow %}
        assert_eq!(defaults::<TrackingServer>().tracking_uri, None);
        let experiment: TrackingExperiment = defaults();
        assert_eq!(experiment.experiment, env!("CARGO_PKG_NAME"));
{%- if api %}
        let registry: RegistrySettings = defaults();
        assert_eq!(registry.registered_model, env!("CARGO_PKG_NAME"));
        assert_eq!(registry.alias, "champion");
{%- endif %}
{%- endif %}
    }

    #[test]
    fn values_are_parsed() {
        let source = SourceSettings::from_arg_matches(
            &parse(&["--source", "https://example.org/data.csv", "--seed", "7"]).unwrap(),
        )
        .unwrap();
        assert_eq!(
            source.source,
            DataSource::Url("https://example.org/data.csv".into())
        );
        assert_eq!(source.seed, 7);
        let matches = parse(&["--delimiter", "tab", "--algorithm", "decision_tree"]).unwrap();
        assert_eq!(
            CsvDelimiter::from_arg_matches(&matches).unwrap().delimiter,
            b'\t'
        );
        let training = TrainingSettings::from_arg_matches(&matches).unwrap();
        assert_eq!(training.algorithm, Algorithm::DecisionTree);
        let model = ModelChoice::from_arg_matches(&parse(&["--model-dir", "m"]).unwrap()).unwrap();
        assert_eq!(model.model_dir().to_string(), "m");
{%- if mlflow %}
        let server = TrackingServer::from_arg_matches(
            &parse(&["--tracking-uri", "http://mlflow:5000/"]).unwrap(),
        )
        .unwrap();
        assert_eq!(server.tracking_uri.as_deref(), Some("http://mlflow:5000"));
{%- endif %}
    }

    #[test]
    fn a_bad_value_names_the_setting_and_the_expected_form() {
        for (args, setting, expected) in [
            (
                &["--test-fraction", "1.5"][..],
                "TEST_FRACTION",
                "strictly between 0 and 1",
            ),
            (&["--seed=-1"], "SPLIT_SEED", "from 0 up"),
            (
                &["--delimiter", ";;"],
                "CSV_DELIMITER",
                "single ASCII character",
            ),
            (&["--name", "../x"], "MODEL_NAME", "letters, digits"),
            (
                &["--model-version", ".1"],
                "MODEL_VERSION",
                "not starting with `.`",
            ),
            (&["--algorithm", "svm"], "MODEL_ALGORITHM", "decision_tree"),
            (
                &["--max-iterations", "0"],
                "LINEAR_MAX_ITERATIONS",
                "positive",
            ),
            (&["--l2-penalty=-1"], "LINEAR_L2_PENALTY", "from 0 up"),
            (
                &["--max-depth", "0"],
                "TREE_MAX_DEPTH",
                "positive whole number",
            ),
            (
                &["--min-samples-leaf", "x"],
                "TREE_MIN_SAMPLES_LEAF",
                "positive",
            ),
            (&["--min-accuracy", "5"], "GATE_MIN_ACCURACY", "from 0 to 1"),
            (&["--min-macro-f1=-1"], "GATE_MIN_MACRO_F1", "from 0 to 1"),
            (&["--min-r2", "2"], "GATE_MIN_R2", "from 0 to 1"),
            (&["--max-rmse=-3"], "GATE_MAX_RMSE", "from 0 up"),
            (&["--max-mae", "x"], "GATE_MAX_MAE", "from 0 up"),
            (&["--log", "loud=very"], "RUST_LOG", "a log filter"),
            (&["--source", ""], "DATA_SOURCE", "`sample`"),
{%- if mlflow %}
            (
                &["--tracking-uri", "localhost:5000"],
                "MLFLOW_TRACKING_URI",
                "http(s):// URL",
            ),
            (&["--experiment", " "], "MLFLOW_EXPERIMENT_NAME", "1 to 500"),
{%- if api %}
            (
                &["--registered-model", "a/b"],
                "MLFLOW_REGISTERED_MODEL",
                "letters, digits",
            ),
            (&["--alias", "latest"], "MLFLOW_ALIAS", "MLflow reserves"),
{%- endif %}
{%- endif %}
        ] {
            let message = parse(args).unwrap_err().to_string();
            assert!(
                message.contains(setting) && message.contains(expected),
                "{args:?}: {message}"
            );
        }
    }

    #[test]
    fn env_example_documents_and_accepts_every_setting() {
        let example = include_str!("../config/.env.example");
        check_env_file(all_settings(), example).unwrap();
    }
{%- if dvc %}

    /// params.yaml, the DVC stages' settings, starts at the built-in defaults.
    #[test]
    fn dvc_params_start_at_the_defaults() {
        let mut section = "";
        let mut params = std::collections::BTreeMap::new();
        for line in include_str!("../params.yaml").lines() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            match line.strip_prefix("  ") {
                Some(entry) => {
                    let (key, value) = entry.split_once(": ").expect("`key: value`");
                    params.insert(format!("{section}.{key}"), value.to_owned());
                }
                None => section = line.trim_end_matches(':'),
            }
        }
        let source: SourceSettings = defaults();
        let model: ModelId = defaults();
        let training: TrainingSettings = defaults();
        let gate: GateSettings = defaults();
        let expected = [
            ("data.seed", source.seed.to_string()),
            ("data.test_fraction", source.test_fraction.to_string()),
            ("model.name", model.name),
            ("model.version", model.model_version),
            ("train.algorithm", training.algorithm.to_string()),
            ("train.max_iterations", training.max_iterations.to_string()),
            ("train.l2_penalty", training.l2_penalty.to_string()),
            ("train.max_depth", training.max_depth.to_string()),
            (
                "train.min_samples_leaf",
                training.min_samples_leaf.to_string(),
            ),
            ("gate.min_accuracy", gate.min_accuracy.to_string()),
            ("gate.min_macro_f1", gate.min_macro_f1.to_string()),
            ("gate.min_r2", gate.min_r2.to_string()),
        ]
        .map(|(key, value)| (key.to_owned(), value))
        .into();
        assert_eq!(params, expected);
    }
{%- endif %}
}
