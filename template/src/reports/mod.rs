//! Reports: SVG figures and `reports/report.md`.
//!
//! Figures are drawn with plotters' SVG backend and its built-in font metrics, so no font files or
//! system libraries are needed; text is left to the viewer's sans-serif font.

use crate::artifact::ModelMetadata;
use crate::data::manifest::{GoldManifest, SilverManifest};
use crate::evaluation::{
    BinaryMetrics, ClassificationMetrics, GateReport, Metrics, RegressionMetrics,
};
use crate::schema::target::Task;
use crate::training::Algorithm;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::fmt::Write;

/// File names of the figures, inside `reports/figures/`.
pub const CONFUSION_MATRIX_SVG: &str = "confusion_matrix.svg";
pub const FEATURE_IMPORTANCE_SVG: &str = "feature_importance.svg";
pub const CLASS_DISTRIBUTION_SVG: &str = "class_distribution.svg";
pub const ROC_CURVE_SVG: &str = "roc_curve.svg";
pub const PREDICTED_VS_ACTUAL_SVG: &str = "predicted_vs_actual.svg";
pub const RESIDUALS_SVG: &str = "residuals.svg";

/// A figure could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("cannot draw figure: {0}")]
pub struct ReportError(String);

fn draw_error<E: std::fmt::Debug>(err: E) -> ReportError {
    ReportError(format!("{err:?}"))
}

fn text(size: u32, h: HPos) -> TextStyle<'static> {
    ("sans-serif", size)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(h, VPos::Center))
}

/// The confusion matrix as a heat map: rows are actual classes, columns predicted ones.
pub fn confusion_matrix_svg(
    classes: &[String],
    matrix: &[Vec<u64>],
) -> Result<String, ReportError> {
    let k = classes.len().max(1) as i32;
    let cell = 90;
    let (left, top) = (140, 70);
    let size = ((left + cell * k + 30) as u32, (top + cell * k + 60) as u32);
    let max = matrix.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        root.draw(&Text::new(
            "Confusion matrix (rows: actual, columns: predicted)",
            (10, 20),
            text(16, HPos::Left),
        ))
        .map_err(draw_error)?;
        for (i, row) in matrix.iter().enumerate() {
            let y = top + cell * i as i32;
            root.draw(&Text::new(
                classes[i].clone(),
                (left - 10, y + cell / 2),
                text(13, HPos::Right),
            ))
            .map_err(draw_error)?;
            for (j, &count) in row.iter().enumerate() {
                let x = left + cell * j as i32;
                let shade = count as f64 / max;
                let fill = RGBColor(
                    255 - (200.0 * shade) as u8,
                    255 - (120.0 * shade) as u8,
                    255,
                );
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    fill.filled(),
                ))
                .map_err(draw_error)?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell, y + cell)],
                    BLACK.stroke_width(1),
                ))
                .map_err(draw_error)?;
                root.draw(&Text::new(
                    count.to_string(),
                    (x + cell / 2, y + cell / 2),
                    text(16, HPos::Center),
                ))
                .map_err(draw_error)?;
            }
        }
        for (j, class) in classes.iter().enumerate() {
            let x = left + cell * j as i32 + cell / 2;
            root.draw(&Text::new(
                class.clone(),
                (x, top - 15),
                text(13, HPos::Center),
            ))
            .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// A horizontal bar chart of labelled values (largest first is up to the caller).
pub fn bar_chart_svg(title: &str, bars: &[(String, f64)]) -> Result<String, ReportError> {
    let (left, top, bar, width) = (220, 50, 26, 360);
    let size = (
        (left + width + 90) as u32,
        (top + bar * bars.len().max(1) as i32 + 30) as u32,
    );
    let max = bars
        .iter()
        .map(|(_, v)| v.abs())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        root.draw(&Text::new(title.to_owned(), (10, 20), text(16, HPos::Left)))
            .map_err(draw_error)?;
        for (i, (label, value)) in bars.iter().enumerate() {
            let y = top + bar * i as i32;
            let length = (value.abs() / max * f64::from(width)) as i32;
            root.draw(&Text::new(
                label.clone(),
                (left - 8, y + bar / 2),
                text(12, HPos::Right),
            ))
            .map_err(draw_error)?;
            root.draw(&Rectangle::new(
                [(left, y + 3), (left + length.max(1), y + bar - 3)],
                RGBColor(70, 130, 180).filled(),
            ))
            .map_err(draw_error)?;
            root.draw(&Text::new(
                format_value(*value),
                (left + length + 6, y + bar / 2),
                text(12, HPos::Left),
            ))
            .map_err(draw_error)?;
        }
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e9 {
        format!("{value:.0}")
    } else {
        format!("{value:.3}")
    }
}

/// The ROC curve of a two-class model, with the diagonal of guessing for comparison.
pub fn roc_curve_svg(binary: &BinaryMetrics) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (480, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let auc = binary
            .roc_auc
            .map_or_else(|| "undefined".to_owned(), |auc| format!("{auc:.4}"));
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!(
                    "ROC curve, positive class `{}` (AUC {auc})",
                    binary.positive_class
                ),
                ("sans-serif", 16),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .draw()
            .map_err(draw_error)?;
        // Plain paths: plotters' series types need features the project does not compile.
        let guessing = PathElement::new(vec![(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.3));
        let curve = PathElement::new(binary.roc_curve.clone(), BLUE.stroke_width(2));
        chart.draw_series([guessing, curve]).map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// A regression's predictions against the actual values, with the line of perfect predictions.
pub fn predicted_vs_actual_svg(
    regression: &RegressionMetrics,
    target: &str,
    unit: Option<&str>,
) -> Result<String, ReportError> {
    let label = |what: &str| match unit {
        Some(unit) => format!("{what} {target} ({unit})"),
        None => format!("{what} {target}"),
    };
    let points = &regression.points;
    let (low, high) = span(points.iter().flat_map(|&(a, p)| [a, p]));
    scatter_svg(
        &format!("Predicted vs actual {target} (R^2 {:.4})", regression.r2),
        (&label("actual"), low..high),
        (&label("predicted"), low..high),
        points,
        [(low, low), (high, high)],
    )
}

/// A regression's residuals (actual - predicted) against its predictions, around zero: a pattern
/// shows what the model misses.
pub fn residuals_svg(
    regression: &RegressionMetrics,
    target: &str,
    unit: Option<&str>,
) -> Result<String, ReportError> {
    let residuals: Vec<(f64, f64)> = regression
        .points
        .iter()
        .map(|&(actual, predicted)| (predicted, actual - predicted))
        .collect();
    let (x_low, x_high) = span(residuals.iter().map(|r| r.0));
    let (y_low, y_high) = span(residuals.iter().map(|r| r.1).chain([0.0]));
    let in_unit = unit.map_or_else(String::new, |unit| format!(" ({unit})"));
    scatter_svg(
        &format!(
            "Residuals (RMSE {:.4}, MAE {:.4})",
            regression.rmse, regression.mae
        ),
        (&format!("predicted {target}{in_unit}"), x_low..x_high),
        (&format!("actual - predicted{in_unit}"), y_low..y_high),
        &residuals,
        [(x_low, 0.0), (x_high, 0.0)],
    )
}

/// The smallest and largest value, widened by 5 % (or by 1 when they are equal) so that no point
/// sits on the frame.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
        (low.min(v), high.max(v))
    });
    if !low.is_finite() {
        return (0.0, 1.0);
    }
    let margin = if high > low { (high - low) * 0.05 } else { 1.0 };
    (low - margin, high + margin)
}

/// Points on x/y axes with a reference line through `line`.
fn scatter_svg(
    title: &str,
    (x_label, x_range): (&str, std::ops::Range<f64>),
    (y_label, y_range): (&str, std::ops::Range<f64>),
    points: &[(f64, f64)],
    line: [(f64, f64); 2],
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (560, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(x_range, y_range)
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .draw()
            .map_err(draw_error)?;
        chart
            .draw_series([PathElement::new(line.to_vec(), BLACK.mix(0.4))])
            .map_err(draw_error)?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 3, BLUE.mix(0.5).filled())),
            )
            .map_err(draw_error)?;
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// Feature importance, most important first.
pub fn feature_importance_svg(metadata: &ModelMetadata) -> Result<String, ReportError> {
    let mut bars = metadata.feature_importance.clone();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    let title = match (metadata.hyperparameters.algorithm, metadata.task()) {
        (Algorithm::Linear, Task::Classification { .. }) => {
            "Feature importance (mean |coefficient|, standardised inputs)"
        }
        (Algorithm::Linear, Task::Regression { .. }) => {
            "Feature importance (|coefficient|, standardised inputs)"
        }
        (Algorithm::DecisionTree, _) => "Feature importance (impurity decrease)",
    };
    bar_chart_svg(title, &bars)
}

/// Rows per class in the train and test splits.
pub fn class_distribution_svg(gold: &GoldManifest) -> Result<String, ReportError> {
    let mut bars = Vec::new();
    for split in ["train", "test"] {
        if let Some(counts) = gold.class_counts.get(split) {
            bars.extend(
                counts
                    .iter()
                    .map(|(class, n)| (format!("{class} ({split})"), *n as f64)),
            );
        }
    }
    bar_chart_svg("Class distribution (rows per class and split)", &bars)
}

/// Everything `report.md` summarises.
pub struct ReportInputs<'a> {
    pub metadata: &'a ModelMetadata,
    pub silver: Option<&'a SilverManifest>,
    pub gold: Option<&'a GoldManifest>,
    pub gate: Option<&'a GateReport>,
}

/// Renders `reports/report.md`, linking the figures in `figures/`.
pub fn render_markdown(inputs: &ReportInputs) -> String {
    let m = inputs.metadata;
    let mut md = String::new();
    let _ = writeln!(md, "# Model report: {}-{}\n", m.name, m.version);
    let _ = writeln!(
        md,
        "<!-- Generated by `make_reports`; re-run it instead of editing. -->\n"
    );
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| algorithm | `{}` |", m.hyperparameters.algorithm);
    let _ = writeln!(md, "| trained at | {} |", m.created_at);
    let _ = writeln!(
        md,
        "| git commit | {} |",
        m.git_commit
            .as_deref()
            .unwrap_or("(unknown: not a git checkout, or no commit yet)")
    );
    let _ = writeln!(
        md,
        "| training data sha256 | `{}` |",
        m.training_data_sha256
    );
    let _ = writeln!(md, "| schema sha256 | `{}` |", m.schema_sha256);
    let _ = writeln!(md, "| split seed | {} |", m.split_seed);

    let _ = writeln!(md, "\n## Data\n");
    if let Some(silver) = inputs.silver {
        let r = &silver.rows;
        let _ = writeln!(
            md,
            "Bronze held {} rows: {} valid and distinct (silver), {} quarantined (see `src/datasets/silver/quarantine.csv`), {} duplicates removed.\n",
            r.bronze_rows, r.silver_rows, r.quarantined, r.duplicates
        );
    }
    if let Some(gold) = inputs.gold {
        let _ = writeln!(
            md,
            "Gold: {} training rows, {} test rows, {} model inputs.\n",
            gold.train.rows,
            gold.test.rows,
            gold.features.len()
        );
    }
    let _ = writeln!(
        md,
        "Predicted: `{}`, by {}.\n",
        m.feature_schema.target,
        m.task().describe()
    );
    match &m.metrics {
        Metrics::Classification(metrics) => {
            let _ = writeln!(
                md,
                "![Class distribution](figures/{CLASS_DISTRIBUTION_SVG})\n"
            );
            classification_section(&mut md, metrics);
        }
        Metrics::Regression(metrics) => regression_section(&mut md, metrics),
    }

    let _ = writeln!(md, "## Quality gate\n");
    match inputs.gate {
        Some(gate) => {
            let _ = writeln!(
                md,
                "**{}**\n",
                if gate.passed { "PASSED" } else { "FAILED" }
            );
            let _ = writeln!(
                md,
                "| metric | value | required | result |\n|---|---|---|---|"
            );
            for c in &gate.checks {
                let _ = writeln!(
                    md,
                    "| {} | {:.4} | {} {:.4} | {} |",
                    c.metric,
                    c.value,
                    c.bound.symbol(),
                    c.threshold,
                    if c.passed { "pass" } else { "fail" }
                );
            }
        }
        None => {
            let _ = writeln!(md, "Not evaluated yet: run `test_model` (`make evaluate`).");
        }
    }
    let _ = writeln!(
        md,
        "\n## Feature importance\n\n![Feature importance](figures/{FEATURE_IMPORTANCE_SVG})"
    );
    md
}

fn classification_section(md: &mut String, metrics: &ClassificationMetrics) {
    let _ = writeln!(md, "## Held-out metrics\n");
    let _ = writeln!(
        md,
        "| | accuracy | macro-F1 |\n|---|---|---|\n| model | **{:.4}** | **{:.4}** |\n| baseline: always `{}` | {:.4} | {:.4} |\n",
        metrics.accuracy,
        metrics.macro_f1,
        metrics.baseline.class,
        metrics.baseline.accuracy,
        metrics.baseline.macro_f1
    );
    let _ = writeln!(
        md,
        "On {} test rows. The baseline predicts the most frequent class for every row: a model that does not beat it has learned nothing.\n",
        metrics.rows
    );
    let _ = writeln!(
        md,
        "| class | precision | recall | F1 | support |\n|---|---|---|---|---|"
    );
    for c in &metrics.per_class {
        let _ = writeln!(
            md,
            "| {} | {:.4} | {:.4} | {:.4} | {} |",
            c.class, c.precision, c.recall, c.f1, c.support
        );
    }
    let _ = writeln!(
        md,
        "\n![Confusion matrix](figures/{CONFUSION_MATRIX_SVG})\n"
    );
    if let Some(binary) = &metrics.binary {
        let auc = binary.roc_auc.map_or_else(
            || "undefined (one class only)".to_owned(),
            |auc| format!("{auc:.4}"),
        );
        let _ = writeln!(
            md,
            "Positive class `{}`: ROC AUC **{auc}**, log loss **{:.4}**.\n\n![ROC curve](figures/{ROC_CURVE_SVG})\n",
            binary.positive_class, binary.log_loss
        );
    }
}

fn regression_section(md: &mut String, metrics: &RegressionMetrics) {
    let _ = writeln!(md, "## Held-out metrics\n");
    let _ = writeln!(
        md,
        "| | R^2 | RMSE | MAE |\n|---|---|---|---|\n| model | **{:.4}** | **{:.4}** | **{:.4}** |\n| baseline: always the mean ({:.4}) | 0 | {:.4} | {:.4} |\n",
        metrics.r2,
        metrics.rmse,
        metrics.mae,
        metrics.baseline.value,
        metrics.baseline.rmse,
        metrics.baseline.mae
    );
    let _ = writeln!(
        md,
        "On {} test rows. The baseline predicts the mean for every row: a model that does not beat it has learned nothing.\n",
        metrics.rows
    );
    let _ = writeln!(
        md,
        "![Predicted vs actual](figures/{PREDICTED_VS_ACTUAL_SVG})\n\n![Residuals](figures/{RESIDUALS_SVG})\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_self_contained_svg() {
        let classes = vec!["a".to_owned(), "b".to_owned()];
        let svg = confusion_matrix_svg(&classes, &[vec![5, 1], vec![0, 7]]).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // plotters writes each text node's content on its own line.
        assert!(svg.contains("\n7\n") && svg.contains("\na\n"), "{svg}");
        assert!(!svg.contains("http://fonts") && !svg.contains("<image"));
        let bars = bar_chart_svg("t", &[("x".into(), 0.5), ("y".into(), 2.0)]).unwrap();
        assert!(
            bars.contains("\n0.500\n") && bars.contains("\n2\n"),
            "{bars}"
        );
    }

    #[test]
    fn a_roc_curve_is_drawn_through_its_points() {
        let binary = BinaryMetrics {
            positive_class: "yes".into(),
            roc_auc: Some(0.75),
            log_loss: 0.5,
            roc_curve: vec![(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)],
        };
        let svg = roc_curve_svg(&binary).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("AUC 0.7500"),
            "{svg}"
        );
        // The curve is one polyline through its four points (the axes and the diagonal have two).
        let polylines: Vec<&str> = svg
            .split("<polyline")
            .skip(1)
            .filter_map(|p| p.split("points=\"").nth(1)?.split('"').next())
            .collect();
        assert!(
            polylines
                .iter()
                .any(|points| points.split_whitespace().count() == 4),
            "{svg}"
        );
    }

    #[test]
    fn regression_figures_plot_every_point() {
        let regression = crate::evaluation::evaluate_values(&[1.0, 2.0, 4.0], &[1.5, 2.0, 3.0]);
        for svg in [
            predicted_vs_actual_svg(&regression, "mass", Some("g")).unwrap(),
            residuals_svg(&regression, "mass", Some("g")).unwrap(),
        ] {
            assert!(svg.starts_with("<svg") && svg.contains("mass"), "{svg}");
            assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
        }
    }
}
