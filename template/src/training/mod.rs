//! Model training: the selectable algorithms and the fitted [`Classifier`](crate::training::Classifier).
//!
//! Class labels are indexes into the schema's class list, so probabilities always come back in
//! schema order, whichever classes the training split happened to contain.

use crate::artifact::{Model, ModelMetadata};
use crate::data::gold::GoldData;
use crate::evaluation::evaluate_probabilities;
use logistic::LogisticRegression;
use tree::{DecisionTree, TreeParams};
pub mod logistic;
pub mod tree;

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The learning algorithms a user can choose (`MODEL_ALGORITHM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Multinomial logistic regression ([`logistic`], L2-regularised, L-BFGS): calibrated
    /// probabilities, linear.
    LogisticRegression,
    /// CART decision tree ([`tree`]): non-linear; probabilities are the class shares in the leaf.
    DecisionTree,
}

impl FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "logistic_regression" => Ok(Self::LogisticRegression),
            "decision_tree" => Ok(Self::DecisionTree),
            other => Err(format!(
                "unknown algorithm `{other}`: expected `logistic_regression` or `decision_tree`"
            )),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LogisticRegression => "logistic_regression",
            Self::DecisionTree => "decision_tree",
        })
    }
}

/// Training parameters; recorded in the model metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    pub algorithm: Algorithm,
    /// Logistic regression: maximum L-BFGS iterations.
    pub max_iterations: u64,
    /// Logistic regression: L2 penalty strength (scikit-learn's `1 / C`).
    pub l2_penalty: f64,
    /// Decision tree: maximum depth.
    pub max_depth: usize,
    /// Decision tree: minimum training rows per leaf.
    pub min_samples_leaf: usize,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::LogisticRegression,
            max_iterations: 200,
            l2_penalty: 0.1,
            max_depth: 5,
            min_samples_leaf: 1,
        }
    }
}

/// Training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("the training data is empty or its shape is inconsistent: {0}")]
    BadData(String),
}

/// A fitted model. Serialised as JSON inside the model artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Classifier {
    LogisticRegression {
        n_classes: usize,
        model: LogisticRegression,
    },
    DecisionTree {
        tree: DecisionTree,
    },
}

impl Classifier {
    /// Fits the chosen algorithm on inputs `x` and class indexes `y` (each `< n_classes`).
    pub fn fit(
        params: &Hyperparameters,
        x: ArrayView2<f64>,
        y: &[usize],
        n_classes: usize,
        feature_names: &[String],
    ) -> Result<Self, TrainError> {
        if x.nrows() == 0 || x.nrows() != y.len() || x.ncols() != feature_names.len() {
            return Err(TrainError::BadData(format!(
                "{} rows x {} inputs, {} labels, {} feature names",
                x.nrows(),
                x.ncols(),
                y.len(),
                feature_names.len()
            )));
        }
        if let Some(bad) = y.iter().find(|&&label| label >= n_classes) {
            return Err(TrainError::BadData(format!(
                "label {bad} >= {n_classes} classes"
            )));
        }
        match params.algorithm {
            Algorithm::LogisticRegression => {
                let model = LogisticRegression::fit(x, y, params.l2_penalty, params.max_iterations);
                tracing::info!(iterations = model.iterations, "logistic regression fitted");
                Ok(Self::LogisticRegression { n_classes, model })
            }
            Algorithm::DecisionTree => {
                let params = TreeParams {
                    max_depth: params.max_depth,
                    min_samples_leaf: params.min_samples_leaf,
                };
                let tree = DecisionTree::fit(x, y, n_classes, params);
                Ok(Self::DecisionTree { tree })
            }
        }
    }

    /// The algorithm of this model.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::LogisticRegression { .. } => Algorithm::LogisticRegression,
            Self::DecisionTree { .. } => Algorithm::DecisionTree,
        }
    }

    /// Class probabilities, one row per input row and one column per class (schema order).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Array2<f64> {
        match self {
            Self::LogisticRegression { n_classes, model } => {
                let mut probabilities = Array2::zeros((x.nrows(), *n_classes));
                for (row, mut out) in x.rows().into_iter().zip(probabilities.rows_mut()) {
                    let out = out
                        .as_slice_mut()
                        .expect("rows of a new array are contiguous");
                    match row.as_slice() {
                        Some(row) => model.predict_proba_into(row, out),
                        None => model.predict_proba_into(&row.to_vec(), out),
                    }
                }
                probabilities
            }
            Self::DecisionTree { tree } => {
                let mut probabilities = Array2::zeros((x.nrows(), tree.n_classes));
                for (i, row) in x.rows().into_iter().enumerate() {
                    probabilities
                        .row_mut(i)
                        .assign(&ArrayView1::from(tree.predict_proba(row)));
                }
                probabilities
            }
        }
    }

    /// The most probable class of each row (ties go to the first class in schema order).
    pub fn predict(&self, x: ArrayView2<f64>) -> Vec<usize> {
        self.predict_proba(x)
            .rows()
            .into_iter()
            .map(|p| argmax(p.as_slice().unwrap_or(&p.to_vec())))
            .collect()
    }

    /// How much each input drives the model: the tree's normalised impurity decrease, or the mean
    /// absolute coefficient across classes for logistic regression (inputs are standardised, so
    /// coefficients are comparable).
    pub fn feature_importance(&self) -> Vec<f64> {
        match self {
            Self::LogisticRegression { model, .. } => model.feature_importance(),
            Self::DecisionTree { tree } => tree.feature_importance.clone(),
        }
    }
}

/// Fits a model on the gold training split, evaluates it on the test split and assembles the
/// artifact (preprocessing, classifier and metadata) ready for [`Model::save`].
pub fn train(
    gold: &GoldData,
    params: &Hyperparameters,
    name: &str,
    version: &str,
    git_commit: Option<String>,
) -> Result<Model, TrainError> {
    let schema = gold.preprocessor.schema();
    let classes = schema.classes().to_vec();
    let features = gold.preprocessor.feature_names();
    let classifier = Classifier::fit(
        params,
        gold.train_x.view(),
        &gold.train_y,
        classes.len(),
        &features,
    )?;
    let metrics = evaluate_probabilities(
        &classes,
        &gold.test_y,
        classifier.predict_proba(gold.test_x.view()).view(),
    );
    let metadata = ModelMetadata {
        name: name.to_owned(),
        version: version.to_owned(),
        algorithm: params.algorithm.to_string(),
        hyperparameters: params.clone(),
        classes,
        feature_schema: schema.feature_schema(),
        feature_importance: features
            .iter()
            .cloned()
            .zip(classifier.feature_importance())
            .collect(),
        encoded_features: features,
        training_data_sha256: gold.manifest.train.sha256.clone(),
        test_data_sha256: gold.manifest.test.sha256.clone(),
        schema_sha256: schema.fingerprint(),
        split_seed: gold.manifest.split_seed,
        train_rows: gold.train_y.len() as u64,
        metrics,
        crate_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit,
        created_at: crate::utils::time::now_rfc3339(),
    };
    Ok(Model {
        metadata,
        preprocessor: gold.preprocessor.clone(),
        classifier,
    })
}

/// The current git commit of the working directory, if it is a git checkout with at least one
/// commit and git is installed.
pub fn git_commit() -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(output.stdout).ok()?.trim().to_owned();
    (output.status.success() && !commit.is_empty()).then_some(commit)
}

/// Index of the largest value; the first one wins a tie.
pub fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn toy() -> (Array2<f64>, Vec<usize>, Vec<String>) {
        // Two well separated blobs per class along the first input.
        let x = array![
            [-2.0, 0.1],
            [-2.2, -0.1],
            [-1.9, 0.0],
            [0.0, 0.2],
            [0.1, -0.2],
            [-0.1, 0.0],
            [2.0, 0.1],
            [2.1, 0.0],
            [1.9, -0.1]
        ];
        let y = vec![0, 0, 0, 1, 1, 1, 2, 2, 2];
        (x, y, vec!["a".into(), "b".into()])
    }

    #[test]
    fn both_algorithms_learn_a_separable_problem() {
        let (x, y, names) = toy();
        for algorithm in [Algorithm::LogisticRegression, Algorithm::DecisionTree] {
            let params = Hyperparameters {
                algorithm,
                min_samples_leaf: 1,
                ..Default::default()
            };
            let model = Classifier::fit(&params, x.view(), &y, 3, &names).unwrap();
            assert_eq!(model.predict(x.view()), y, "{algorithm}");
            let p = model.predict_proba(x.view());
            for row in p.rows() {
                assert!(
                    (row.sum() - 1.0).abs() < 1e-9,
                    "{algorithm}: probabilities sum to 1"
                );
            }
            assert_eq!(model.feature_importance().len(), 2);
        }
    }

    #[test]
    fn classes_missing_from_training_get_zero_probability() {
        let (x, y, names) = toy();
        let model = Classifier::fit(&Hyperparameters::default(), x.view(), &y, 4, &names).unwrap();
        let p = model.predict_proba(x.view());
        assert_eq!(p.ncols(), 4);
        assert!(p.column(3).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn bad_shapes_are_rejected() {
        let (x, y, names) = toy();
        let params = Hyperparameters::default();
        assert!(Classifier::fit(&params, x.view(), &y[..3], 3, &names).is_err());
        assert!(Classifier::fit(&params, x.view(), &y, 2, &names).is_err());
    }

    #[test]
    fn algorithm_names_round_trip() {
        for algorithm in [Algorithm::LogisticRegression, Algorithm::DecisionTree] {
            assert_eq!(algorithm.to_string().parse::<Algorithm>(), Ok(algorithm));
        }
        assert!("svm".parse::<Algorithm>().is_err());
    }
}
