//! train_model: fits a model on the gold training split and writes `src/models/<name>-<version>/`.

use anyhow::Result;
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use {{crate_name}}::data::gold;
use {{crate_name}}::training::{self, Algorithm};
use {{crate_name}}::utils::config::Settings;
use {{crate_name}}::utils::{logging, paths};

/// Train a classifier on the gold layer and save it with its preprocessing, metadata and checksums.
///
/// Settings come from flags, then the environment, then config/.env (see config/.env.example).
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// `logistic_regression` or `decision_tree` [env: MODEL_ALGORITHM]
    #[arg(long)]
    algorithm: Option<Algorithm>,
    /// Logistic regression: maximum iterations [env: LOGREG_MAX_ITERATIONS]
    #[arg(long)]
    max_iterations: Option<u64>,
    /// Logistic regression: L2 penalty [env: LOGREG_L2_PENALTY]
    #[arg(long)]
    l2_penalty: Option<f64>,
    /// Decision tree: maximum depth [env: TREE_MAX_DEPTH]
    #[arg(long)]
    max_depth: Option<usize>,
    /// Decision tree: minimum training rows per leaf [env: TREE_MIN_SAMPLES_LEAF]
    #[arg(long)]
    min_samples_leaf: Option<usize>,
    /// Model name [env: MODEL_NAME]
    #[arg(long)]
    name: Option<String>,
    /// Model version [env: MODEL_VERSION]
    #[arg(long)]
    model_version: Option<String>,
    /// Folder of the data layers [env: DATASETS_DIR]
    #[arg(long)]
    datasets_dir: Option<PathBuf>,
    /// Folder receiving model directories [env: MODELS_DIR]
    #[arg(long)]
    models_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    logging::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<()> {
    let mut settings = Settings::load()?;
    logging::init(&settings.log_filter);
    let h = &mut settings.hyperparameters;
    h.algorithm = cli.algorithm.unwrap_or(h.algorithm);
    h.max_iterations = cli.max_iterations.unwrap_or(h.max_iterations);
    h.l2_penalty = cli.l2_penalty.unwrap_or(h.l2_penalty);
    h.max_depth = cli.max_depth.unwrap_or(h.max_depth);
    h.min_samples_leaf = cli.min_samples_leaf.unwrap_or(h.min_samples_leaf);
    settings.model_name = cli.name.unwrap_or(settings.model_name);
    settings.model_version = cli.model_version.unwrap_or(settings.model_version);
    settings.datasets_dir = cli.datasets_dir.unwrap_or(settings.datasets_dir);
    settings.models_dir = cli.models_dir.unwrap_or(settings.models_dir);

    let bar = logging::progress_bar(3, "train_model");
    bar.set_message("load gold");
    let data = gold::load(&paths::gold(&settings.datasets_dir))?;
    bar.inc(1);

    bar.set_message(format!("fit {}", settings.hyperparameters.algorithm));
    let model = training::train(
        &data,
        &settings.hyperparameters,
        &settings.model_name,
        &settings.model_version,
        training::git_commit(),
    )?;
    bar.inc(1);

    bar.set_message("save");
    let dir = settings.model_dir();
    model.save(&dir)?;
    bar.finish_and_clear();

    let m = &model.metadata.metrics;
    tracing::info!(dir = %dir.display(), accuracy = m.accuracy, macro_f1 = m.macro_f1, "model saved");
    println!(
        "{} trained on {} rows: test accuracy {:.4}, macro-F1 {:.4} -> {}",
        model.metadata.algorithm,
        model.metadata.train_rows,
        m.accuracy,
        m.macro_f1,
        dir.display()
    );
    Ok(())
}
