//! Settings, resolved with the precedence CLI flag > environment > `config/.env` > default.
//!
//! Binaries load [`Settings`] once, then overwrite fields from their CLI flags. Every setting is
//! documented in `config/.env.example`; a test keeps that file and [`SETTINGS`] in step.
{%- if api %}
//! `API_*`{% if web_ui %} and `UI_*`{% endif %} settings belong to the api{% if web_ui %} and ui{% endif %} crate{% if web_ui %}s{% endif %}.
{%- endif %}

use crate::training::Hyperparameters;
use crate::utils::paths;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Every setting this crate reads, with the form a value must take.
pub const SETTINGS: &[(&str, &str)] = &[
    ("DATA_SOURCE", "`sample`, a file path, or an http(s) URL"),
    ("DATA_SCHEMA", "a path to a schema TOML file"),
    ("CSV_DELIMITER", "a single ASCII character, or `tab`"),
    ("DATASETS_DIR", "a directory path"),
    ("MODELS_DIR", "a directory path"),
    ("REPORTS_DIR", "a directory path"),
    ("REFERENCE_DIR", "a directory path"),
    ("SPLIT_SEED", "a non-negative integer"),
    ("TEST_FRACTION", "a number strictly between 0 and 1"),
    ("MODEL_NAME", "letters, digits, `-` or `_`"),
    ("MODEL_VERSION", "letters, digits, `.`, `-` or `_`"),
    (
        "MODEL_ALGORITHM",
        "`logistic_regression` or `decision_tree`",
    ),
    ("LOGREG_MAX_ITERATIONS", "a positive integer"),
    ("LOGREG_L2_PENALTY", "a non-negative number"),
    ("TREE_MAX_DEPTH", "a positive integer"),
    ("TREE_MIN_SAMPLES_LEAF", "a positive integer"),
    ("GATE_MIN_ACCURACY", "a number between 0 and 1"),
    ("GATE_MIN_MACRO_F1", "a number between 0 and 1"),
{%- if api %}
    ("PROMOTE_DIR", "a directory path"),
{%- endif %}
    (
        "RUST_LOG",
        "a log filter such as `info` or `warn,my_crate=debug`",
    ),
];

/// A setting whose value could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The value does not have the expected form.
    #[error("invalid value `{value}` for setting {key}: expected {expected}")]
    Invalid {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    /// The `.env` file exists but cannot be read or parsed.
    #[error("cannot read settings file {path}: {message}")]
    EnvFile { path: PathBuf, message: String },
}

/// Where the dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The Palmer penguins CSV compiled into the binaries, so the default works offline.
    Sample,
    /// A local CSV file.
    File(PathBuf),
    /// A CSV downloaded over http(s).
    Url(String),
}

impl DataSource {
    /// Interprets `sample`, `http(s)://...` or anything else as a path.
    pub fn parse(value: &str) -> Self {
        let value = value.trim();
        if value.eq_ignore_ascii_case("sample") {
            Self::Sample
        } else if value.starts_with("http://") || value.starts_with("https://") {
            Self::Url(value.to_owned())
        } else {
            Self::File(PathBuf::from(value))
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sample => f.write_str("sample:penguins.csv"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Url(url) => f.write_str(url),
        }
    }
}

/// All settings, with their defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub data_source: DataSource,
    /// `None` means `config/schema.toml` if present, else the bundled penguins schema.
    pub data_schema: Option<PathBuf>,
    pub csv_delimiter: u8,
    pub datasets_dir: PathBuf,
    pub models_dir: PathBuf,
    pub reports_dir: PathBuf,
    pub reference_dir: PathBuf,
    pub split_seed: u64,
    pub test_fraction: f64,
    pub model_name: String,
    pub model_version: String,
    pub hyperparameters: Hyperparameters,
    pub gate_min_accuracy: f64,
    pub gate_min_macro_f1: f64,
{%- if api %}
    /// Where `promote_model` installs the model the API serves.
    pub promote_dir: PathBuf,
{%- endif %}
    /// Log filter (`RUST_LOG`), honoured from `config/.env` as well as the environment.
    pub log_filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            data_source: DataSource::Sample,
            data_schema: None,
            csv_delimiter: b',',
            datasets_dir: PathBuf::from(paths::DATASETS_DIR),
            models_dir: PathBuf::from(paths::MODELS_DIR),
            reports_dir: PathBuf::from(paths::REPORTS_DIR),
            reference_dir: PathBuf::from(paths::REFERENCE_DIR),
            split_seed: 42,
            test_fraction: 0.2,
            model_name: env!("CARGO_PKG_NAME").to_owned(),
            model_version: env!("CARGO_PKG_VERSION").to_owned(),
            hyperparameters: Hyperparameters::default(),
            gate_min_accuracy: 0.9,
            gate_min_macro_f1: 0.9,
{%- if api %}
            promote_dir: PathBuf::from(paths::PROMOTED_MODEL_DIR),
{%- endif %}
            log_filter: "info".to_owned(),
        }
    }
}

impl Settings {
    /// Loads settings from the environment, falling back to `config/.env` (if present) and defaults.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_with_env_file(Path::new(paths::ENV_FILE))
    }

    /// Like [`Settings::load`] with another `.env` file. A missing file is not an error.
    pub fn load_with_env_file(env_file: &Path) -> Result<Self, ConfigError> {
        let file_values = read_env_file(env_file)?;
        // The process environment wins over the file, which is why the file is not loaded into it.
        Self::from_lookup(|key| {
            std::env::var(key)
                .ok()
                .or_else(|| file_values.get(key).cloned())
        })
    }

    /// Builds settings from any key lookup; tests use a map instead of the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| {
            lookup(key)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut s = Self::default();
        let mut h = s.hyperparameters.clone();

        if let Some(v) = get("DATA_SOURCE") {
            s.data_source = DataSource::parse(&v);
        }
        s.data_schema = get("DATA_SCHEMA").map(PathBuf::from);
        if let Some(v) = get("CSV_DELIMITER") {
            s.csv_delimiter = parse_delimiter(&v).ok_or_else(|| invalid("CSV_DELIMITER", &v))?;
        }
        set_path(&get, "DATASETS_DIR", &mut s.datasets_dir);
        set_path(&get, "MODELS_DIR", &mut s.models_dir);
        set_path(&get, "REPORTS_DIR", &mut s.reports_dir);
        set_path(&get, "REFERENCE_DIR", &mut s.reference_dir);
{%- if api %}
        set_path(&get, "PROMOTE_DIR", &mut s.promote_dir);
{%- endif %}
        set_parsed(&get, "SPLIT_SEED", &mut s.split_seed, |_| true)?;
        set_parsed(&get, "TEST_FRACTION", &mut s.test_fraction, |f| {
            *f > 0.0 && *f < 1.0
        })?;
        if let Some(v) = get("MODEL_NAME") {
            s.model_name = valid_name(&v, false).ok_or_else(|| invalid("MODEL_NAME", &v))?;
        }
        if let Some(v) = get("MODEL_VERSION") {
            s.model_version = valid_name(&v, true).ok_or_else(|| invalid("MODEL_VERSION", &v))?;
        }
        set_parsed(&get, "MODEL_ALGORITHM", &mut h.algorithm, |_| true)?;
        set_parsed(&get, "LOGREG_MAX_ITERATIONS", &mut h.max_iterations, |n| {
            *n > 0
        })?;
        set_parsed(&get, "LOGREG_L2_PENALTY", &mut h.l2_penalty, |f: &f64| {
            f.is_finite() && *f >= 0.0
        })?;
        set_parsed(&get, "TREE_MAX_DEPTH", &mut h.max_depth, |n| *n > 0)?;
        set_parsed(
            &get,
            "TREE_MIN_SAMPLES_LEAF",
            &mut h.min_samples_leaf,
            |n| *n > 0,
        )?;
        set_parsed(
            &get,
            "GATE_MIN_ACCURACY",
            &mut s.gate_min_accuracy,
            unit_interval,
        )?;
        set_parsed(
            &get,
            "GATE_MIN_MACRO_F1",
            &mut s.gate_min_macro_f1,
            unit_interval,
        )?;
        if let Some(v) = get("RUST_LOG") {
            s.log_filter = v;
        }
        s.hyperparameters = h;
        Ok(s)
    }

    /// The directory of the model named by `model_name` and `model_version`.
    pub fn model_dir(&self) -> PathBuf {
        paths::model_dir(&self.models_dir, &self.model_name, &self.model_version)
    }
}

/// Parses a CSV delimiter: one ASCII character, or the word `tab`.
pub fn parse_delimiter(value: &str) -> Option<u8> {
    if value.eq_ignore_ascii_case("tab") || value == "\\t" {
        return Some(b'\t');
    }
    match value.as_bytes() {
        [byte] if byte.is_ascii() && *byte != b'"' && *byte != b'\n' => Some(*byte),
        _ => None,
    }
}

fn unit_interval(value: &f64) -> bool {
    (0.0..=1.0).contains(value)
}

fn valid_name(value: &str, allow_dot: bool) -> Option<String> {
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || (allow_dot && c == '.'));
    (ok && !value.starts_with('.')).then(|| value.to_owned())
}

fn expected(key: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, form)| *form)
        .unwrap_or("a valid value")
}

fn invalid(key: &'static str, value: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        value: value.to_owned(),
        expected: expected(key),
    }
}

fn set_path(get: &impl Fn(&str) -> Option<String>, key: &str, target: &mut PathBuf) {
    if let Some(v) = get(key) {
        *target = PathBuf::from(v);
    }
}

fn set_parsed<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    key: &'static str,
    target: &mut T,
    valid: impl Fn(&T) -> bool,
) -> Result<(), ConfigError> {
    if let Some(v) = get(key) {
        match v.parse::<T>() {
            Ok(parsed) if valid(&parsed) => *target = parsed,
            _ => return Err(invalid(key, &v)),
        }
    }
    Ok(())
}

fn read_env_file(path: &Path) -> Result<HashMap<String, String>, ConfigError> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let to_error = |err: dotenvy::Error| ConfigError::EnvFile {
        path: path.to_owned(),
        message: err.to_string(),
    };
    dotenvy::from_path_iter(path)
        .map_err(to_error)?
        .map(|item| item.map_err(to_error))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::training::Algorithm;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|key| map.get(key).cloned())
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        assert_eq!(settings(&[]).unwrap(), Settings::default());
    }

    #[test]
    fn values_are_parsed() {
        let s = settings(&[
            ("DATA_SOURCE", "https://example.org/data.csv"),
            ("CSV_DELIMITER", "tab"),
            ("SPLIT_SEED", "7"),
            ("TEST_FRACTION", "0.3"),
            ("MODEL_ALGORITHM", "decision_tree"),
        ])
        .unwrap();
        assert_eq!(
            s.data_source,
            DataSource::Url("https://example.org/data.csv".into())
        );
        assert_eq!(s.csv_delimiter, b'\t');
        assert_eq!(s.split_seed, 7);
        assert_eq!(s.test_fraction, 0.3);
        assert_eq!(s.hyperparameters.algorithm, Algorithm::DecisionTree);
    }

    #[test]
    fn bad_value_names_the_setting_and_the_expected_form() {
        let err = settings(&[("TEST_FRACTION", "1.5")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("TEST_FRACTION"), "{err}");
        assert!(err.contains("strictly between 0 and 1"), "{err}");
        let err = settings(&[("MODEL_ALGORITHM", "svm")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MODEL_ALGORITHM") && err.contains("decision_tree"),
            "{err}"
        );
        assert!(settings(&[("MODEL_NAME", "../escape")]).is_err());
    }

    #[test]
    fn environment_wins_over_env_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, "SPLIT_SEED=5\nTEST_FRACTION=0.25\n").unwrap();
        let values = read_env_file(&file).unwrap();
        let s = Settings::from_lookup(|key| {
            (key == "SPLIT_SEED")
                .then(|| "9".to_owned())
                .or_else(|| values.get(key).cloned())
        })
        .unwrap();
        assert_eq!(s.split_seed, 9);
        assert_eq!(s.test_fraction, 0.25);
    }

    #[test]
    fn env_example_documents_every_setting() {
        let example = include_str!("../../config/.env.example");
        for (key, _) in SETTINGS {
            assert!(
                example.contains(&format!("{key}=")),
                "config/.env.example does not document {key}"
            );
        }
        // The example itself must parse, or a fresh project would fail at start-up.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(&file, example).unwrap();
        let values = read_env_file(&file).unwrap();
        Settings::from_lookup(|key| values.get(key).cloned()).unwrap();
    }
}
