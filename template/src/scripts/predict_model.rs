//! predict_model: batch predictions for a CSV or Parquet file in the raw schema, through the
//! validation the API applies (see the library's `batch` module).

use anyhow::{Context, Result};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use {{crate_name}}::Model;
use {{crate_name}}::batch;
use {{crate_name}}::data::gold;
use {{crate_name}}::utils::config::{Settings, parse_delimiter};
use {{crate_name}}::utils::{logging, paths};

/// Predict every row of a raw-schema CSV or Parquet file (target column optional) and write a CSV
/// of predictions.
///
/// Output columns: the row's position (`line` in a CSV, `row` in a Parquet file), the actual class
/// when the input has it, prediction, one probability per class, and error. An invalid row gets its
/// error message instead of a prediction; the batch goes on.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Input file, CSV or `.parquet` [default: DATASETS_DIR/gold/test_raw.parquet, the held-out rows]
    #[arg(long)]
    input: Option<PathBuf>,
    /// Output CSV [default: REPORTS_DIR/predictions.csv]
    #[arg(long)]
    output: Option<PathBuf>,
    /// Model directory [default: MODELS_DIR/MODEL_NAME-MODEL_VERSION]
    #[arg(long)]
    model_dir: Option<PathBuf>,
    /// Input delimiter: one character, or `tab` [env: CSV_DELIMITER]
    #[arg(long, value_parser = delimiter)]
    delimiter: Option<u8>,
}

fn delimiter(value: &str) -> Result<u8, String> {
    parse_delimiter(value).ok_or_else(|| "expected a single ASCII character, or `tab`".to_owned())
}

fn main() -> ExitCode {
    logging::exit_code(run(Cli::parse()))
}

fn run(cli: Cli) -> Result<()> {
    let settings = Settings::load()?;
    logging::init(&settings.log_filter);
    let model_dir = cli.model_dir.unwrap_or_else(|| settings.model_dir());
    let input = cli
        .input
        .unwrap_or_else(|| paths::gold(&settings.datasets_dir).join(gold::TEST_RAW_FILE));
    let output = cli
        .output
        .unwrap_or_else(|| settings.reports_dir.join("predictions.csv"));
    let delimiter = cli.delimiter.unwrap_or(settings.csv_delimiter);

    let model = Model::load(&model_dir)
        .context("cannot load the model (train it first with train_model)")?;
    let summary = batch::predict_file(&model, &input, delimiter, &output)
        .with_context(|| format!("cannot predict {}", input.display()))?;

    println!(
        "{} rows: {} predicted, {} invalid -> {}",
        summary.predicted + summary.invalid,
        summary.predicted,
        summary.invalid,
        output.display()
    );
    if let Some(accuracy) = summary.accuracy() {
        println!("accuracy on rows with a known class: {accuracy:.4}");
    }
    Ok(())
}
