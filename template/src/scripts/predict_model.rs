//! predict_model: batch predictions for a CSV or Parquet file in the raw schema, through the
//! validation the API applies (see the library's `batch` module).

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

use {{crate_name}}::Model;
use {{crate_name}}::batch;
use {{crate_name}}::config;
use {{crate_name}}::data::gold;
use {{crate_name}}::schema::target::Task;
use {{crate_name}}::utils::{logging, paths};

/// Predict every row of a raw-schema CSV or Parquet file (target column optional) and write a CSV
/// of predictions.
///
/// Output columns: the row's position (`line` in a CSV, `row` in a Parquet file), the actual class
/// when the input has it, prediction, one probability per class, and error. An invalid row gets its
/// error message instead of a prediction; the batch goes on. The exit code is 1 when no row could
/// be predicted (the output is still written, with the reasons).
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    input: config::PredictInput,
    /// Output CSV [default: REPORTS_DIR/predictions.csv]
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    delimiter: config::CsvDelimiter,
    #[command(flatten)]
    step: config::ModelStep,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.step.log.init();
    let local_model = cli.step.model.model_dir().workspace()?;
    local_model.pull("")?;
    let held_out = cli.input.input.is_none();
    let layers = cli.step.datasets.datasets_dir.workspace()?;
    if held_out {
        layers.pull_file(&format!("{}/{}", paths::GOLD, gold::TEST_RAW_FILE))?;
    }
    let input = cli
        .input
        .input
        .unwrap_or_else(|| paths::gold(layers.path()).join(gold::TEST_RAW_FILE));
    let output = cli
        .output
        .unwrap_or_else(|| paths::predictions(&cli.step.reports.reports_dir));

    let model = Model::load(local_model.path())
        .context("cannot load the model (train it first with train_model)")?;
    let summary = batch::predict_file(&model, &input, cli.delimiter.delimiter, &output)
        .with_context(|| format!("cannot predict {}", input.display()))?;

    let rows = summary.predicted + summary.invalid;
    println!(
        "{rows} rows: {} predicted, {} invalid -> {}",
        summary.predicted,
        summary.invalid,
        output.display()
    );
    let score = match model.metadata.task() {
        Task::Classification { .. } => summary
            .accuracy()
            .map(|accuracy| format!("accuracy {accuracy:.4}")),
        Task::Regression { .. } => summary
            .errors()
            .map(|(rmse, mae)| format!("RMSE {rmse:.4}, MAE {mae:.4}")),
    };
    if let Some(score) = score {
        if held_out {
            println!("{score} on the {} held-out rows", summary.labelled);
        } else {
            println!(
                "{score} on the {} rows of {} with a known {}",
                summary.labelled,
                input.display(),
                model.metadata.feature_schema.target
            );
        }
    }
    if rows == 0 {
        bail!("{} has no rows to predict", input.display());
    }
    if summary.predicted == 0 {
        bail!(
            "no row of {} could be predicted: all {rows} are invalid (the reasons are in {})",
            input.display(),
            output.display()
        );
    }
    Ok(())
}
