//! make_reports: figures in reports/figures/ and a summary in reports/report.md.

use anyhow::{Context, Result};
use clap::Parser;
use std::process::ExitCode;

use {{crate_name}}::Model;
use {{crate_name}}::data::manifest::SilverManifest;
use {{crate_name}}::data::manifest::{self, GoldManifest};
use {{crate_name}}::evaluation::GateReport;
use {{crate_name}}::reports::{self, ReportInputs};
use {{crate_name}}::utils::config;
use {{crate_name}}::utils::{fs, logging, paths};

/// Draw the confusion matrix, feature importance and class distribution figures (SVG) and write
/// reports/report.md linking them.
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
    let model_dir = cli.step.model.model_dir();
    let datasets = cli.step.datasets.datasets_dir;
    let reports_dir = cli.step.reports.reports_dir;
    let figures = paths::figures(&reports_dir);

    let model = Model::load(&model_dir)
        .context("cannot load the model (train it first with train_model)")?;
    let silver: Option<SilverManifest> = manifest::read("silver", &paths::silver(&datasets)).ok();
    let gold: Option<GoldManifest> = manifest::read("gold", &paths::gold(&datasets)).ok();
    // The gate verdict is optional: reports can be drawn before test_model has run.
    let gate: Option<GateReport> = std::fs::read(reports_dir.join("metrics.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|json| serde_json::from_value(json.get("gate")?.clone()).ok());

    let m = &model.metadata;
    let mut outputs = vec![
        (
            reports::CONFUSION_MATRIX_SVG,
            reports::confusion_matrix_svg(&m.classes, &m.metrics.confusion_matrix)?,
        ),
        (
            reports::FEATURE_IMPORTANCE_SVG,
            reports::feature_importance_svg(m)?,
        ),
    ];
    if let Some(gold) = &gold {
        outputs.push((
            reports::CLASS_DISTRIBUTION_SVG,
            reports::class_distribution_svg(gold)?,
        ));
    }
    if let Some(binary) = &m.metrics.binary {
        outputs.push((reports::ROC_CURVE_SVG, reports::roc_curve_svg(binary)?));
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
    let path = reports_dir.join("report.md");
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
