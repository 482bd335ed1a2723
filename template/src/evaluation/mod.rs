//! Model evaluation and the quality gate that decides whether a model may ship. A classifier is
//! measured by accuracy, macro-F1, per-class precision/recall and the confusion matrix (plus ROC AUC
//! and log loss with two classes); a regression by RMSE, MAE and R^2.

use crate::schema::target::{Targets, Task};
use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

/// Points kept of a ROC curve: enough to draw it, few enough for metrics.json on any data size.
const ROC_POINTS: usize = 101;

/// `(actual, predicted)` pairs kept for a regression's figures, whatever the data size.
const FIGURE_POINTS: usize = 500;

/// Held-out metrics of a model, as its task measures them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum Metrics {
    Classification(ClassificationMetrics),
    Regression(RegressionMetrics),
}

impl Metrics {
    /// Rows evaluated.
    pub fn rows(&self) -> u64 {
        match self {
            Self::Classification(m) => m.rows,
            Self::Regression(m) => m.rows,
        }
    }

    /// The headline figures, `name value` pairs in the order reports show them.
    pub fn headline(&self) -> Vec<(&'static str, f64)> {
        match self {
            Self::Classification(m) => vec![("accuracy", m.accuracy), ("macro_f1", m.macro_f1)],
            Self::Regression(m) => vec![("r2", m.r2), ("rmse", m.rmse), ("mae", m.mae)],
        }
    }
}

/// How close a regression's predictions are to the actual values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionMetrics {
    pub rows: u64,
    /// Root mean squared error, in the target's unit.
    pub rmse: f64,
    /// Mean absolute error, in the target's unit.
    pub mae: f64,
    /// Coefficient of determination: 1 - SSE / SST; 1 is perfect, 0 is no better than always
    /// predicting the mean, below 0 is worse (0 when the actual values are all equal).
    pub r2: f64,
    /// What always predicting the mean of the evaluated rows would score (its R^2 is 0).
    pub baseline: RegressionBaseline,
    /// Up to 500 `(actual, predicted)` pairs, evenly spaced over the evaluated rows in their
    /// order, to draw figures from.
    pub points: Vec<(f64, f64)>,
}

/// The constant-prediction baseline of a regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionBaseline {
    /// The mean of the evaluated rows' actual values.
    pub value: f64,
    pub rmse: f64,
    pub mae: f64,
}

/// Compares predicted with actual values (one per row).
pub fn evaluate_values(actual: &[f64], predicted: &[f64]) -> RegressionMetrics {
    assert_eq!(actual.len(), predicted.len(), "one prediction per row");
    let n = actual.len().max(1) as f64;
    let mean = actual.iter().sum::<f64>() / n;
    let errors = |prediction: &dyn Fn(usize) -> f64| {
        let (mut squares, mut absolute) = (0.0, 0.0);
        for (i, a) in actual.iter().enumerate() {
            let error = a - prediction(i);
            squares += error * error;
            absolute += error.abs();
        }
        (squares, absolute)
    };
    let (sse, absolute) = errors(&|i| predicted[i]);
    let (sst, baseline_absolute) = errors(&|_| mean);
    let step = actual.len().div_ceil(FIGURE_POINTS).max(1);
    RegressionMetrics {
        rows: actual.len() as u64,
        rmse: (sse / n).sqrt(),
        mae: absolute / n,
        r2: if sst > 0.0 { 1.0 - sse / sst } else { 0.0 },
        baseline: RegressionBaseline {
            value: mean,
            rmse: (sst / n).sqrt(),
            mae: baseline_absolute / n,
        },
        points: (0..actual.len())
            .step_by(step)
            .map(|i| (actual[i], predicted[i]))
            .collect(),
    }
}

/// Evaluates a model's outputs (see [`crate::training::Estimator::outputs`]) against the actual
/// targets of the same rows.
pub fn evaluate_outputs(task: &Task, actual: &Targets, outputs: ArrayView2<f64>) -> Metrics {
    match actual {
        Targets::Classes(actual) => {
            Metrics::Classification(evaluate_probabilities(task.classes(), actual, outputs))
        }
        Targets::Values(actual) => {
            Metrics::Regression(evaluate_values(actual, &outputs.column(0).to_vec()))
        }
    }
}

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Rows of this class in the evaluated data.
    pub support: u64,
}

/// Metrics of a classifier on labelled data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationMetrics {
    pub rows: u64,
    pub accuracy: f64,
    /// Unweighted mean of the per-class F1 scores: every class counts, however rare.
    pub macro_f1: f64,
    pub per_class: Vec<ClassMetrics>,
    pub classes: Vec<String>,
    /// `confusion_matrix[actual][predicted]`, in class order.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// What always predicting the most frequent class would score: a model must beat it to have
    /// learned anything, and it shows what a threshold means on unbalanced data.
    pub baseline: Baseline,
    /// Score-based metrics of a two-class problem; absent for more classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<BinaryMetrics>,
}

/// How well a two-class model ranks and scores rows, from its probability of the positive class
/// (the schema's last listed category, such as `yes` in `["no", "yes"]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinaryMetrics {
    pub positive_class: String,
    /// Area under the ROC curve: the chance that a random positive row scores above a random
    /// negative one (ties count half); 0.5 is guessing. Absent when one class has no rows.
    pub roc_auc: Option<f64>,
    /// Mean negative log-likelihood of the actual classes (probabilities clipped to
    /// [1e-15, 1 - 1e-15]); lower is better.
    pub log_loss: f64,
    /// `(false positive rate, true positive rate)` from the highest threshold to the lowest, at
    /// most 101 points evenly spaced along the distinct thresholds, always with both ends.
    pub roc_curve: Vec<(f64, f64)>,
}

/// The majority-class baseline on the same rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The most frequent class among the evaluated rows (the first in class order on a tie).
    pub class: String,
    pub accuracy: f64,
    pub macro_f1: f64,
}

/// Compares predicted with actual class indexes (into `classes`).
///
/// Precision of a class that is never predicted is 0 (not NaN), as is recall of an absent class.
pub fn evaluate(
    classes: &[String],
    actual: &[usize],
    predicted: &[usize],
) -> ClassificationMetrics {
    assert_eq!(actual.len(), predicted.len(), "one prediction per row");
    let k = classes.len();
    let mut matrix = vec![vec![0u64; k]; k];
    for (&a, &p) in actual.iter().zip(predicted) {
        matrix[a][p] += 1;
    }
    let ratio = |num: u64, den: u64| {
        if den == 0 {
            0.0
        } else {
            num as f64 / den as f64
        }
    };
    let per_class: Vec<ClassMetrics> = (0..k)
        .map(|c| {
            let tp = matrix[c][c];
            let support: u64 = matrix[c].iter().sum();
            let predicted_c: u64 = matrix.iter().map(|row| row[c]).sum();
            let precision = ratio(tp, predicted_c);
            let recall = ratio(tp, support);
            let f1 = if precision + recall == 0.0 {
                0.0
            } else {
                2.0 * precision * recall / (precision + recall)
            };
            ClassMetrics {
                class: classes[c].clone(),
                precision,
                recall,
                f1,
                support,
            }
        })
        .collect();
    let correct: u64 = (0..k).map(|c| matrix[c][c]).sum();
    let majority = (0..k)
        .rev()
        .max_by_key(|&c| per_class[c].support)
        .unwrap_or(0);
    // Always predicting the majority class: its precision is its share, its recall 1, and every
    // other class scores an F1 of 0.
    let share = ratio(
        per_class.get(majority).map_or(0, |m| m.support),
        actual.len() as u64,
    );
    let baseline = Baseline {
        class: classes.get(majority).cloned().unwrap_or_default(),
        accuracy: share,
        macro_f1: if share == 0.0 {
            0.0
        } else {
            2.0 * share / (share + 1.0) / k.max(1) as f64
        },
    };
    ClassificationMetrics {
        rows: actual.len() as u64,
        accuracy: ratio(correct, actual.len() as u64),
        macro_f1: per_class.iter().map(|m| m.f1).sum::<f64>() / k.max(1) as f64,
        per_class,
        classes: classes.to_vec(),
        confusion_matrix: matrix,
        baseline,
        binary: None,
    }
}

/// [`evaluate`] from class probabilities (one row per row, one column per class in `classes`
/// order): the predicted class is the most probable one, and a two-class problem also gets
/// [`BinaryMetrics`].
pub fn evaluate_probabilities(
    classes: &[String],
    actual: &[usize],
    probabilities: ArrayView2<f64>,
) -> ClassificationMetrics {
    let predicted: Vec<usize> = probabilities
        .rows()
        .into_iter()
        .map(|row| crate::training::argmax(&row.to_vec()))
        .collect();
    let mut metrics = evaluate(classes, actual, &predicted);
    if classes.len() == 2 {
        let scores: Vec<f64> = probabilities.column(1).to_vec();
        let positive: Vec<bool> = actual.iter().map(|&a| a == 1).collect();
        metrics.binary = Some(binary_metrics(&classes[1], &positive, &scores));
    }
    metrics
}

fn binary_metrics(positive_class: &str, positive: &[bool], scores: &[f64]) -> BinaryMetrics {
    let log_loss = positive
        .iter()
        .zip(scores)
        .map(|(&is_positive, &p)| {
            let p = p.clamp(1e-15, 1.0 - 1e-15);
            -(if is_positive { p } else { 1.0 - p }).ln()
        })
        .sum::<f64>()
        / positive.len().max(1) as f64;

    // Rows by decreasing score; each distinct score is one threshold of the curve.
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let n_positive = positive.iter().filter(|&&p| p).count() as f64;
    let n_negative = positive.len() as f64 - n_positive;
    let (mut tp, mut fp, mut area) = (0.0, 0.0, 0.0);
    let mut curve = vec![(0.0, 0.0)];
    let mut i = 0;
    while i < order.len() {
        let (tp_before, fp_before) = (tp, fp);
        let score = scores[order[i]];
        while i < order.len() && scores[order[i]] == score {
            if positive[order[i]] {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            i += 1;
        }
        // Trapezoid under this step: tied rows count half, as in the rank statistic.
        area += (fp - fp_before) * (tp + tp_before) / 2.0;
        curve.push((fp, tp));
    }
    let rate = |(fp, tp): (f64, f64)| {
        (
            if n_negative > 0.0 {
                fp / n_negative
            } else {
                0.0
            },
            if n_positive > 0.0 {
                tp / n_positive
            } else {
                0.0
            },
        )
    };
    let step = (curve.len() - 1).div_ceil(ROC_POINTS - 1).max(1);
    let last = curve.len() - 1;
    let roc_curve = (0..curve.len())
        .filter(|&j| j % step == 0 || j == last)
        .map(|j| rate(curve[j]))
        .collect();
    BinaryMetrics {
        positive_class: positive_class.to_owned(),
        roc_auc: (n_positive > 0.0 && n_negative > 0.0).then(|| area / (n_positive * n_negative)),
        log_loss,
        roc_curve,
    }
}

/// The limits a model must respect (`GATE_*` settings); the gate applies those of its task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub min_accuracy: f64,
    pub min_macro_f1: f64,
    pub min_r2: f64,
    /// No limit when absent (an error's scale depends on the target).
    pub max_rmse: Option<f64>,
    pub max_mae: Option<f64>,
}

/// Whether a metric must reach its threshold or stay under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    AtLeast,
    AtMost,
}

impl Bound {
    /// The comparison a passing value makes with its threshold.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::AtLeast => ">=",
            Self::AtMost => "<=",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::AtLeast => value >= threshold,
            Self::AtMost => value <= threshold,
        }
    }
}

/// One threshold of a task, with the setting that configures it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub metric: &'static str,
    pub setting: &'static str,
    pub bound: Bound,
    /// `None`: not limited.
    pub threshold: Option<f64>,
}

impl Limit {
    /// Whether this limit lets through something that `other` (the same metric's) would refuse.
    pub fn is_laxer_than(&self, other: &Limit) -> bool {
        match (self.threshold, other.threshold) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(mine), Some(theirs)) => !self.bound.holds(mine, theirs),
        }
    }
}

impl Thresholds {
    /// The limits that apply to metrics of this kind, in the order of [`Metrics::headline`].
    pub fn limits(&self, metrics: &Metrics) -> Vec<Limit> {
        let limit = |metric, setting, bound, threshold| Limit {
            metric,
            setting,
            bound,
            threshold,
        };
        match metrics {
            Metrics::Classification(_) => vec![
                limit(
                    "accuracy",
                    "GATE_MIN_ACCURACY",
                    Bound::AtLeast,
                    Some(self.min_accuracy),
                ),
                limit(
                    "macro_f1",
                    "GATE_MIN_MACRO_F1",
                    Bound::AtLeast,
                    Some(self.min_macro_f1),
                ),
            ],
            Metrics::Regression(_) => vec![
                limit("r2", "GATE_MIN_R2", Bound::AtLeast, Some(self.min_r2)),
                limit("rmse", "GATE_MAX_RMSE", Bound::AtMost, self.max_rmse),
                limit("mae", "GATE_MAX_MAE", Bound::AtMost, self.max_mae),
            ],
        }
    }
}

/// One metric compared with its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateCheck {
    pub metric: String,
    pub value: f64,
    pub bound: Bound,
    pub threshold: f64,
    pub passed: bool,
}

/// The gate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    pub passed: bool,
    pub checks: Vec<GateCheck>,
}

/// The gate's verdict on one exact model, kept in its directory (`gate.json`) by `test_model` so
/// that promotion can check it. It names the model by checksum and the test split by hash, so a
/// verdict cannot be mistaken for one about another model or split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRecord {
    /// `<name>-<version>` of the evaluated model.
    pub model: String,
    /// SHA-256 of the model's `SHA256SUMS`: the exact artifact evaluated (the API reports the same
    /// value as the served model's `checksum`).
    pub model_checksum: String,
    /// SHA-256 of the gold test split the metrics were computed on.
    pub test_data_sha256: String,
    /// The thresholds the model was held to.
    pub thresholds: Thresholds,
    pub gate: GateReport,
    pub evaluated_at: String,
}

impl GateReport {
    /// The failed checks as `metric value < threshold` (or `>`), comma-separated (empty if none
    /// failed).
    pub fn failures(&self) -> String {
        self.checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| {
                let failed = match c.bound {
                    Bound::AtLeast => "<",
                    Bound::AtMost => ">",
                };
                format!("{} {:.4} {failed} {:.4}", c.metric, c.value, c.threshold)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Checks `metrics` against the `thresholds` of their task; the gate passes only if every check
/// does (an absent threshold is no check).
pub fn quality_gate(metrics: &Metrics, thresholds: &Thresholds) -> GateReport {
    let checks: Vec<GateCheck> = thresholds
        .limits(metrics)
        .into_iter()
        .zip(metrics.headline())
        .filter_map(|(limit, (_, value))| {
            let threshold = limit.threshold?;
            Some(GateCheck {
                metric: limit.metric.to_owned(),
                value,
                bound: limit.bound,
                threshold,
                passed: limit.bound.holds(value, threshold),
            })
        })
        .collect();
    GateReport {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

/// The metrics as a plain-text table, for terminals and logs.
pub fn format_metrics(metrics: &Metrics) -> String {
    match metrics {
        Metrics::Classification(m) => format_classification(m),
        Metrics::Regression(m) => format!(
            "rows: {}\nR^2: {:.4}\nRMSE: {:.4}\nMAE: {:.4}\nbaseline (always the mean, {:.4}): RMSE {:.4}, MAE {:.4}\n",
            m.rows, m.r2, m.rmse, m.mae, m.baseline.value, m.baseline.rmse, m.baseline.mae
        ),
    }
}

fn format_classification(metrics: &ClassificationMetrics) -> String {
    let baseline = &metrics.baseline;
    let mut out = format!(
        "rows: {}\naccuracy: {:.4}\nmacro F1: {:.4}\nbaseline (always `{}`): accuracy {:.4}, macro F1 {:.4}\n\n{:<16} {:>9} {:>9} {:>9} {:>8}\n",
        metrics.rows,
        metrics.accuracy,
        metrics.macro_f1,
        baseline.class,
        baseline.accuracy,
        baseline.macro_f1,
        "class",
        "precision",
        "recall",
        "f1",
        "support"
    );
    for m in &metrics.per_class {
        out += &format!(
            "{:<16} {:>9.4} {:>9.4} {:>9.4} {:>8}\n",
            m.class, m.precision, m.recall, m.f1, m.support
        );
    }
    out += "\nconfusion matrix (rows: actual, columns: predicted)\n";
    out += &format!("{:<16}", "");
    for class in &metrics.classes {
        out += &format!(" {class:>12}");
    }
    out.push('\n');
    for (class, row) in metrics.classes.iter().zip(&metrics.confusion_matrix) {
        out += &format!("{class:<16}");
        for count in row {
            out += &format!(" {count:>12}");
        }
        out.push('\n');
    }
    if let Some(binary) = &metrics.binary {
        let auc = binary.roc_auc.map_or_else(
            || "undefined (one class only)".to_owned(),
            |auc| format!("{auc:.4}"),
        );
        out += &format!(
            "\npositive class `{}`: ROC AUC {auc}, log loss {:.4}\n",
            binary.positive_class, binary.log_loss
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn metrics_match_a_hand_computed_example() {
        let actual = [0, 0, 0, 1, 1, 2];
        let predicted = [0, 0, 1, 1, 1, 0];
        let m = evaluate(&classes(), &actual, &predicted);
        assert_eq!(
            m.confusion_matrix,
            vec![vec![2, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let a = &m.per_class[0];
        assert!((a.precision - 2.0 / 3.0).abs() < 1e-12 && (a.recall - 2.0 / 3.0).abs() < 1e-12);
        // Class c is never predicted correctly: precision and recall are 0, not NaN.
        assert_eq!((m.per_class[2].precision, m.per_class[2].f1), (0.0, 0.0));
        let b_f1 = 2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0);
        assert!((m.macro_f1 - (2.0 / 3.0 + b_f1) / 3.0).abs() < 1e-12);
        // Always predicting `a` (3 of 6 rows): accuracy 1/2; a's F1 is 2/3, b's and c's are 0.
        assert_eq!(m.baseline.class, "a");
        assert!((m.baseline.accuracy - 0.5).abs() < 1e-12);
        assert!((m.baseline.macro_f1 - (2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn binary_scores_match_hand_computed_values() {
        let no_yes = vec!["no".to_owned(), "yes".to_owned()];
        // Positives score 0.9, 0.4 and 0.35; negatives 0.8, 0.4 and 0.1. Of the 9 positive-negative
        // pairs the positive ranks higher in 5 and ties in 1: AUC = (5 + 0.5) / 9.
        let actual = [1, 0, 1, 0, 1, 0];
        let p_yes = [0.9, 0.8, 0.4, 0.4, 0.35, 0.1];
        let probabilities =
            ndarray::Array2::from_shape_fn(
                (6, 2),
                |(i, c)| if c == 1 { p_yes[i] } else { 1.0 - p_yes[i] },
            );
        let m = evaluate_probabilities(&no_yes, &actual, probabilities.view());
        let binary = m.binary.expect("two classes");
        assert_eq!(binary.positive_class, "yes");
        assert!((binary.roc_auc.unwrap() - 5.5 / 9.0).abs() < 1e-12);
        let expected_log_loss = -[0.9f64, 0.2, 0.4, 0.6, 0.35, 0.9]
            .iter()
            .map(|p| p.ln())
            .sum::<f64>()
            / 6.0;
        assert!((binary.log_loss - expected_log_loss).abs() < 1e-12);
        assert_eq!(
            binary.roc_curve,
            [
                (0.0, 0.0),
                (0.0, 1.0 / 3.0),
                (1.0 / 3.0, 1.0 / 3.0),
                (2.0 / 3.0, 2.0 / 3.0),
                (2.0 / 3.0, 1.0),
                (1.0, 1.0)
            ]
        );
        // Predicted classes follow the larger probability (0.4 < 0.5: `no`).
        assert_eq!(m.confusion_matrix, vec![vec![2, 1], vec![2, 1]]);

        let three = evaluate_probabilities(&classes(), &[0, 1, 2], ndarray::Array2::eye(3).view());
        assert!(three.binary.is_none() && three.accuracy == 1.0);
    }

    #[test]
    fn a_long_roc_curve_is_thinned_with_both_ends_kept() {
        let n = 1000;
        let actual: Vec<usize> = (0..n).map(|i| i % 2).collect();
        let probabilities = ndarray::Array2::from_shape_fn((n, 2), |(i, c)| {
            let p = i as f64 / n as f64;
            if c == 1 { p } else { 1.0 - p }
        });
        let classes = vec!["a".to_owned(), "b".to_owned()];
        let curve = evaluate_probabilities(&classes, &actual, probabilities.view())
            .binary
            .unwrap()
            .roc_curve;
        assert!(curve.len() <= ROC_POINTS, "{}", curve.len());
        assert_eq!((curve[0], *curve.last().unwrap()), ((0.0, 0.0), (1.0, 1.0)));
    }

    #[test]
    fn regression_metrics_match_hand_computed_values() {
        // Errors 1, -1, 2 and 0: SSE 6, |e| sum 4; actual mean 5, SST 9 + 1 + 1 + 9 = 20.
        let m = evaluate_values(&[2.0, 4.0, 6.0, 8.0], &[1.0, 5.0, 4.0, 8.0]);
        assert_eq!(m.rows, 4);
        assert!((m.rmse - (6.0f64 / 4.0).sqrt()).abs() < 1e-12);
        assert!((m.mae - 1.0).abs() < 1e-12);
        assert!((m.r2 - (1.0 - 6.0 / 20.0)).abs() < 1e-12);
        assert_eq!(m.baseline.value, 5.0);
        assert!((m.baseline.rmse - 5.0f64.sqrt()).abs() < 1e-12);
        assert!((m.baseline.mae - 2.0).abs() < 1e-12);
        assert_eq!(m.points, [(2.0, 1.0), (4.0, 5.0), (6.0, 4.0), (8.0, 8.0)]);
        // Constant actual values: R^2 is 0, not NaN.
        assert_eq!(evaluate_values(&[3.0, 3.0], &[3.0, 4.0]).r2, 0.0);
        let many: Vec<f64> = (0..10_000).map(f64::from).collect();
        assert!(evaluate_values(&many, &many).points.len() <= FIGURE_POINTS);
    }

    fn thresholds() -> Thresholds {
        Thresholds {
            min_accuracy: 0.9,
            min_macro_f1: 0.5,
            min_r2: 0.5,
            max_rmse: None,
            max_mae: Some(1.0),
        }
    }

    #[test]
    fn gate_fails_when_a_metric_is_below_threshold() {
        let m = Metrics::Classification(evaluate(&classes(), &[0, 1, 2, 2], &[0, 1, 2, 1]));
        let report = quality_gate(&m, &thresholds());
        assert!(!report.passed);
        assert!(!report.checks[0].passed && report.checks[1].passed);
        assert_eq!(report.failures(), "accuracy 0.7500 < 0.9000");
        let lenient = Thresholds {
            min_accuracy: 0.75,
            ..thresholds()
        };
        assert!(quality_gate(&m, &lenient).passed);
    }

    #[test]
    fn a_regression_gate_checks_r2_and_the_error_limits_that_are_set() {
        let m = Metrics::Regression(evaluate_values(
            &[2.0, 4.0, 6.0, 8.0],
            &[1.0, 5.0, 4.0, 8.0],
        ));
        let report = quality_gate(&m, &thresholds());
        let checked: Vec<&str> = report.checks.iter().map(|c| c.metric.as_str()).collect();
        assert_eq!(checked, ["r2", "mae"], "no RMSE limit is set");
        assert!(report.passed, "R^2 0.7 >= 0.5 and MAE 1 <= 1");
        let strict = Thresholds {
            max_mae: Some(0.5),
            ..thresholds()
        };
        let report = quality_gate(&m, &strict);
        assert!(!report.passed);
        assert_eq!(report.failures(), "mae 1.0000 > 0.5000");
    }

    #[test]
    fn a_limit_is_laxer_when_it_lets_more_through() {
        let m = Metrics::Regression(evaluate_values(&[1.0], &[1.0]));
        let configured = thresholds().limits(&m);
        let recorded = Thresholds {
            min_r2: 0.4,
            max_mae: None,
            max_rmse: Some(2.0),
            ..thresholds()
        }
        .limits(&m);
        let laxer: Vec<bool> = recorded
            .iter()
            .zip(&configured)
            .map(|(r, c)| r.is_laxer_than(c))
            .collect();
        assert_eq!(
            laxer,
            [true, false, true],
            "r2 0.4 < 0.5; any RMSE limit is fine; no MAE limit"
        );
    }

    #[test]
    fn table_lists_every_class() {
        let text = format_metrics(&Metrics::Classification(evaluate(
            &classes(),
            &[0, 1, 2],
            &[0, 1, 2],
        )));
        assert!(text.contains("accuracy: 1.0000"));
        assert!(text.contains("baseline (always `a`): accuracy 0.3333"));
        assert!(["a", "b", "c"].iter().all(|c| text.contains(c)));
    }
}
