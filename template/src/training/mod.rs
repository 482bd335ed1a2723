//! Model training: the selectable algorithms and the fitted [`Estimator`](crate::training::Estimator).
//!
//! The schema's target decides the task: class labels are indexes into the schema's class list,
//! so probabilities always come back in schema order whichever classes the training split
//! happened to contain; a numeric target is predicted as one number.

use crate::schema::target::{Targets, Task};
use logistic::LogisticRegression;
use ridge::RidgeRegression;
use tree::{DecisionTree, TreeParams};
pub mod logistic;
pub mod ridge;
pub mod tree;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The learning algorithms a user can choose (`MODEL_ALGORITHM`); each one fits either task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// L2-regularised linear model: multinomial logistic regression ([`logistic`], L-BFGS;
    /// calibrated probabilities) for classes, ridge regression ([`ridge`], solved exactly) for
    /// numbers.
    Linear,
    /// CART decision tree ([`tree`]): non-linear; it predicts the class shares, or the mean
    /// target, of the training rows in the leaf.
    DecisionTree,
}

impl FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "linear" => Ok(Self::Linear),
            "decision_tree" => Ok(Self::DecisionTree),
            other => Err(format!(
                "unknown algorithm `{other}`: expected `linear` or `decision_tree`"
            )),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Linear => "linear",
            Self::DecisionTree => "decision_tree",
        })
    }
}

/// Training parameters; recorded in the model metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hyperparameters {
    pub algorithm: Algorithm,
    /// Logistic regression: maximum L-BFGS iterations (ridge regression is solved exactly).
    pub max_iterations: u64,
    /// Linear models: L2 penalty strength (scikit-learn's `1 / C` for logistic regression,
    /// `alpha` for ridge regression).
    pub l2_penalty: f64,
    /// Decision tree: maximum depth.
    pub max_depth: usize,
    /// Decision tree: minimum training rows per leaf.
    pub min_samples_leaf: usize,
}

impl Default for Hyperparameters {
    fn default() -> Self {
        Self {
            algorithm: Algorithm::Linear,
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
    #[error(transparent)]
    Singular(#[from] ridge::Singular),
}

/// A fitted model. Serialised as JSON inside the model artifact.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "algorithm", rename_all = "snake_case")]
pub enum Estimator {
    LogisticRegression {
        n_classes: usize,
        model: LogisticRegression,
    },
    RidgeRegression {
        model: RidgeRegression,
    },
    /// A classification or a regression tree.
    DecisionTree {
        tree: DecisionTree,
    },
}

impl Estimator {
    /// Fits the chosen algorithm on inputs `x` and targets `y`: class indexes (each below
    /// `task`'s number of classes) or numbers.
    pub fn fit(
        params: &Hyperparameters,
        x: ArrayView2<f64>,
        y: &Targets,
        task: &Task,
        feature_names: &[String],
    ) -> Result<Self, TrainError> {
        if x.nrows() == 0 || x.nrows() != y.len() || x.ncols() != feature_names.len() {
            return Err(TrainError::BadData(format!(
                "{} rows x {} inputs, {} targets, {} feature names",
                x.nrows(),
                x.ncols(),
                y.len(),
                feature_names.len()
            )));
        }
        let tree_params = TreeParams {
            max_depth: params.max_depth,
            min_samples_leaf: params.min_samples_leaf,
        };
        match (y, task) {
            (Targets::Classes(y), Task::Classification { classes }) => {
                let n_classes = classes.len();
                if let Some(bad) = y.iter().find(|&&label| label >= n_classes) {
                    return Err(TrainError::BadData(format!(
                        "label {bad} >= {n_classes} classes"
                    )));
                }
                Ok(match params.algorithm {
                    Algorithm::Linear => {
                        let model =
                            LogisticRegression::fit(x, y, params.l2_penalty, params.max_iterations);
                        tracing::info!(iterations = model.iterations, "logistic regression fitted");
                        Self::LogisticRegression { n_classes, model }
                    }
                    Algorithm::DecisionTree => Self::DecisionTree {
                        tree: DecisionTree::fit_classes(x, y, n_classes, tree_params),
                    },
                })
            }
            (Targets::Values(y), Task::Regression { .. }) => {
                if let Some(bad) = y.iter().find(|v| !v.is_finite()) {
                    return Err(TrainError::BadData(format!("target {bad} is not finite")));
                }
                Ok(match params.algorithm {
                    Algorithm::Linear => Self::RidgeRegression {
                        model: RidgeRegression::fit(x, y, params.l2_penalty)?,
                    },
                    Algorithm::DecisionTree => Self::DecisionTree {
                        tree: DecisionTree::fit_values(x, y, tree_params),
                    },
                })
            }
            _ => Err(TrainError::BadData(
                "the targets do not match the task (class labels for a classification, numbers for a regression)".into(),
            )),
        }
    }

    /// The model's outputs, one row per input row: the probability of every class (schema order)
    /// for a classifier, the predicted value (one column) for a regression.
    pub fn outputs(&self, x: ArrayView2<f64>) -> Array2<f64> {
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
            Self::RidgeRegression { model } => {
                Array2::from_shape_fn((x.nrows(), 1), |(i, _)| model.predict(x.row(i)))
            }
            Self::DecisionTree { tree } => {
                let mut outputs = Array2::zeros((x.nrows(), tree.outputs));
                for (row, mut out) in x.rows().into_iter().zip(outputs.rows_mut()) {
                    out.assign(&ndarray::ArrayView1::from(tree.predict(row)));
                }
                outputs
            }
        }
    }

    /// How much each input drives the model: the tree's normalised impurity decrease, the mean
    /// absolute coefficient across classes for logistic regression, or the absolute coefficient
    /// for ridge regression (inputs are standardised, so coefficients are comparable).
    pub fn feature_importance(&self) -> Vec<f64> {
        match self {
            Self::LogisticRegression { model, .. } => model.feature_importance(),
            Self::RidgeRegression { model } => model.feature_importance(),
            Self::DecisionTree { tree } => tree.feature_importance.clone(),
        }
    }
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

    fn classes(n: usize) -> Task {
        Task::Classification {
            classes: (0..n).map(|c| format!("c{c}")).collect(),
        }
    }

    const ALGORITHMS: [Algorithm; 2] = [Algorithm::Linear, Algorithm::DecisionTree];

    #[test]
    fn both_algorithms_learn_a_separable_problem() {
        let (x, y, names) = toy();
        for algorithm in ALGORITHMS {
            let params = Hyperparameters {
                algorithm,
                ..Default::default()
            };
            let model = Estimator::fit(
                &params,
                x.view(),
                &Targets::Classes(y.clone()),
                &classes(3),
                &names,
            )
            .unwrap();
            let p = model.outputs(x.view());
            let predicted: Vec<usize> = p
                .rows()
                .into_iter()
                .map(|row| argmax(&row.to_vec()))
                .collect();
            assert_eq!(predicted, y, "{algorithm}");
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
    fn both_algorithms_fit_a_numeric_target() {
        let (x, _, names) = toy();
        let y: Vec<f64> = x.rows().into_iter().map(|r| 10.0 + 3.0 * r[0]).collect();
        for algorithm in ALGORITHMS {
            let params = Hyperparameters {
                algorithm,
                l2_penalty: 1e-6,
                ..Default::default()
            };
            let regression = Task::Regression { unit: None };
            let model = Estimator::fit(
                &params,
                x.view(),
                &Targets::Values(y.clone()),
                &regression,
                &names,
            )
            .unwrap();
            let predicted = model.outputs(x.view());
            assert_eq!(predicted.ncols(), 1, "{algorithm}: one value per row");
            for (p, actual) in predicted.column(0).iter().zip(&y) {
                assert!((p - actual).abs() < 0.3, "{algorithm}: {p} vs {actual}");
            }
            let importance = model.feature_importance();
            assert!(importance[0] > importance[1], "{algorithm}: {importance:?}");
        }
    }

    #[test]
    fn classes_missing_from_training_get_zero_probability() {
        let (x, y, names) = toy();
        let model = Estimator::fit(
            &Hyperparameters::default(),
            x.view(),
            &Targets::Classes(y),
            &classes(4),
            &names,
        )
        .unwrap();
        let p = model.outputs(x.view());
        assert_eq!(p.ncols(), 4);
        assert!(p.column(3).iter().all(|v| *v == 0.0));
    }

    #[test]
    fn bad_shapes_and_mismatched_targets_are_rejected() {
        let (x, y, names) = toy();
        let params = Hyperparameters::default();
        let fit = |y: Targets, task: &Task| Estimator::fit(&params, x.view(), &y, task, &names);
        assert!(fit(Targets::Classes(y[..3].to_vec()), &classes(3)).is_err());
        assert!(fit(Targets::Classes(y.clone()), &classes(2)).is_err());
        assert!(fit(Targets::Values(vec![1.0; 9]), &classes(3)).is_err());
    }

    #[test]
    fn algorithm_names_round_trip() {
        for algorithm in ALGORITHMS {
            assert_eq!(algorithm.to_string().parse::<Algorithm>(), Ok(algorithm));
        }
        assert!("svm".parse::<Algorithm>().is_err());
    }
}
