//! test_model: the quality gate. Evaluates a saved model on the held-out gold test split.

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde::Serialize;
use std::process::ExitCode;

use {{crate_name}}::artifact::{self, Model};
use {{crate_name}}::config;
use {{crate_name}}::data::gold;
use {{crate_name}}::evaluation::GateReport;
use {{crate_name}}::evaluation::{self, GateRecord, Metrics};
{%- if mlflow %}
use {{crate_name}}::tracking;
{%- endif %}
use {{crate_name}}::utils::{fs, logging, paths, time};

/// Evaluate a trained model on the held-out test split and fail if a metric is below its threshold.
///
/// Prints the task's metrics (a classifier's accuracy, macro-F1, per-class precision/recall and
/// confusion matrix; a regression's R^2, RMSE and MAE), and writes
/// reports/metrics.json and the verdict, gate.json, into the model directory (promotion checks it).
/// Exit code 1 means the gate failed (or the model could not be evaluated).
{%- if mlflow %}
/// With MLFLOW_TRACKING_URI set, the verdict is also logged to the model's MLflow run.
{%- endif %}
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
    #[command(flatten)]
    gate: config::GateSettings,
    #[command(flatten)]
    step: config::ModelStep,
{%- if mlflow %}
    #[command(flatten)]
    tracking: config::TrackingServer,
{%- endif %}
}

#[derive(Serialize)]
struct MetricsFile<'a> {
    model: String,
    model_dir: String,
    /// SHA-256 of the model's SHA256SUMS, as in gate.json.
    model_checksum: &'a str,
    test_data_sha256: &'a str,
    evaluated_at: &'a str,
    metrics: &'a Metrics,
    gate: &'a GateReport,
}

fn main() -> ExitCode {
    logging::exit_code(config::load().and_then(run))
}

fn run(cli: Cli) -> Result<()> {
    cli.step.log.init();
    let thresholds = cli.gate.thresholds();
    let model_dir = cli.step.model.model_dir();
    let local_model = model_dir.workspace()?;
    local_model.pull("")?;
    let layers = cli.step.datasets.datasets_dir.workspace()?;
    layers.pull(paths::GOLD)?;

    let (model, checksum) = Model::load_with_checksum(local_model.path())
        .context("cannot load the model (train it first with train_model)")?;
    let gold = gold::GoldLayer::open(&paths::gold(layers.path()))?;
    // Scoring on a different split than the one held out at training time could leak training rows.
    if gold.manifest.test.sha256 != model.metadata.test_data_sha256 {
        bail!(
            "the gold test split changed since {} was trained; retrain it (train_model) before evaluating",
            model_dir
        );
    }

    let (test_x, test_y) = gold.test()?;
    let outputs = model.estimator.outputs(test_x.view());
    let metrics = evaluation::evaluate_outputs(model.metadata.task(), &test_y, outputs.view());
    let gate = evaluation::quality_gate(&metrics, &thresholds);

    let record = GateRecord {
        model: format!("{}-{}", model.metadata.name, model.metadata.version),
        model_checksum: checksum,
        test_data_sha256: gold.manifest.test.sha256.clone(),
        thresholds,
        gate,
        evaluated_at: time::now_rfc3339(),
    };
    let path = paths::metrics(&cli.step.reports.reports_dir);
    let file = MetricsFile {
        model: record.model.clone(),
        model_dir: model_dir.to_string(),
        model_checksum: &record.model_checksum,
        test_data_sha256: &record.test_data_sha256,
        evaluated_at: &record.evaluated_at,
        metrics: &metrics,
        gate: &record.gate,
    };
    fs::write_json_atomic(&path, &file)
        .with_context(|| format!("cannot write {}", path.display()))?;
    // The verdict, failed or passed, stays with the model it is about.
    artifact::write_gate_record(local_model.path(), &record)?;
    local_model.push("")?;
    let gate = &record.gate;

    print!("{}", evaluation::format_metrics(&metrics));
    println!();
    for check in &gate.checks {
        println!(
            "gate {:<10} {:.4} {} {:.4}: {}",
            check.metric,
            check.value,
            check.bound.symbol(),
            check.threshold,
            if check.passed { "pass" } else { "FAIL" }
        );
    }
    println!("metrics written to {}", path.display());
    println!(
        "gate result written to {}",
        model_dir.join(artifact::GATE_FILE)
    );
{%- if mlflow %}
    // Logged before a failed gate stops the step: a failure is worth recording too.
    if let Some(uri) = &cli.tracking.tracking_uri {
        let run = tracking::log_gate(uri, local_model.path(), &record)?;
        println!("gate result logged to MLflow run {}", run.run_id);
    }
{%- endif %}
    if !gate.passed {
        bail!("quality gate failed: {}", gate.failures());
    }
    Ok(())
}
