//! make_reports: figures in reports/figures/ and a summary in reports/report.md.

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::Model;
use {{crate_name}}::config;
use {{crate_name}}::data::manifest::SilverManifest;
use {{crate_name}}::data::manifest::{self, GoldManifest, MANIFEST_FILE};
use {{crate_name}}::evaluation::{GateReport, Metrics};
use {{crate_name}}::reports::{self, ReportInputs};
use {{crate_name}}::schema::target::Task;
use {{crate_name}}::utils::{fs, logging, paths};

/// Draw the figures (SVG) of the model's task and write reports/report.md linking them: feature
/// importance always; the confusion matrix and class distribution (and the ROC curve with two
/// classes) for a classifier; predicted vs actual values and residuals for a regression.
#[derive(Parser)]
#[command(version, about, after_help = config::PRECEDENCE)]
struct Cli {
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
    let layers = cli.step.datasets.datasets_dir.workspace()?;
    for layer in [paths::SILVER, paths::GOLD] {
        layers.pull_file(&format!("{layer}/{MANIFEST_FILE}"))?;
    }
    let datasets = layers.path();
    let reports_dir = cli.step.reports.reports_dir;
    let figures = paths::figures(&reports_dir);

    let model = Model::load(local_model.path())
        .context("cannot load the model (train it first with train_model)")?;
    let silver: Option<SilverManifest> = manifest::read("silver", &paths::silver(datasets)).ok();
    let gold: Option<GoldManifest> = manifest::read("gold", &paths::gold(datasets)).ok();
    // The gate verdict is optional: reports can be drawn before test_model has run.
    let gate: Option<GateReport> = std::fs::read(paths::metrics(&reports_dir))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|json| serde_json::from_value(json.get("gate")?.clone()).ok());

    let m = &model.metadata;
    let mut outputs = vec![(
        reports::FEATURE_IMPORTANCE_SVG,
        reports::feature_importance_svg(m)?,
    )];
    match &m.metrics {
        Metrics::Classification(metrics) => {
            outputs.push((
                reports::CONFUSION_MATRIX_SVG,
                reports::confusion_matrix_svg(&metrics.classes, &metrics.confusion_matrix)?,
            ));
            if let Some(gold) = &gold {
                outputs.push((
                    reports::CLASS_DISTRIBUTION_SVG,
                    reports::class_distribution_svg(gold)?,
                ));
            }
            if let Some(binary) = &metrics.binary {
                outputs.push((reports::ROC_CURVE_SVG, reports::roc_curve_svg(binary)?));
            }
        }
        Metrics::Regression(metrics) => {
            let target = &m.feature_schema.target;
            let unit = match m.task() {
                Task::Regression { unit } => unit.as_deref(),
                Task::Classification { .. } => None,
            };
            outputs.push((
                reports::PREDICTED_VS_ACTUAL_SVG,
                reports::predicted_vs_actual_svg(metrics, target, unit)?,
            ));
            outputs.push((
                reports::RESIDUALS_SVG,
                reports::residuals_svg(metrics, target, unit)?,
            ));
        }
    }
    for (file, svg) in &outputs {
        let path = figures.join(file);
        fs::write_atomic(&path, svg.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let report = reports::render_markdown(&ReportInputs {
        metadata: m,
        silver: silver.as_ref(),
        gold: gold.as_ref(),
        gate: gate.as_ref(),
    });
    let path = paths::report(&reports_dir);
    fs::write_atomic(&path, report.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote {} and {} figures in {}",
        path.display(),
        outputs.len(),
        figures.display()
    );
    Ok(())
}
