//! Where everything lives, relative to the project root (the working directory of every binary).

use std::path::{Path, PathBuf};

/// Default folder holding the bronze, silver and gold layers.
pub const DATASETS_DIR: &str = "src/datasets";
/// Default folder receiving trained model directories `<name>-<version>/`.
pub const MODELS_DIR: &str = "src/models";
/// Default folder for metrics, predictions, `report.md` and `figures/`.
pub const REPORTS_DIR: &str = "reports";
/// Default folder for the data dictionary and the dataset and model cards.
pub const REFERENCE_DIR: &str = "reference";
/// Default location of the dataset schema.
pub const SCHEMA_FILE: &str = "config/schema.toml";
/// Default location of the settings file.
pub const ENV_FILE: &str = "config/.env";
{%- if api %}
/// Default promotion target: the model directory the API serves.
pub const PROMOTED_MODEL_DIR: &str = "api/models/current";
{%- endif %}

/// The layer folders inside a datasets folder.
pub const BRONZE: &str = "bronze";
pub const SILVER: &str = "silver";
pub const GOLD: &str = "gold";

/// The bronze layer folder inside a datasets folder.
pub fn bronze(datasets: &Path) -> PathBuf {
    datasets.join(BRONZE)
}

/// The silver layer folder inside a datasets folder.
pub fn silver(datasets: &Path) -> PathBuf {
    datasets.join(SILVER)
}

/// The gold layer folder inside a datasets folder.
pub fn gold(datasets: &Path) -> PathBuf {
    datasets.join(GOLD)
}

/// The directory of one trained model inside a models folder: `<name>-<version>`.
pub fn model_dir_name(name: &str, version: &str) -> String {
    format!("{name}-{version}")
}

/// The figures folder inside a reports folder.
pub fn figures(reports: &Path) -> PathBuf {
    reports.join("figures")
}

/// The held-out metrics and gate verdict `test_model` writes inside a reports folder.
pub fn metrics(reports: &Path) -> PathBuf {
    reports.join("metrics.json")
}

/// The batch predictions `predict_model` writes by default inside a reports folder.
pub fn predictions(reports: &Path) -> PathBuf {
    reports.join("predictions.csv")
}

/// The markdown report `make_reports` writes inside a reports folder.
pub fn report(reports: &Path) -> PathBuf {
    reports.join("report.md")
}
