//! A CART decision tree, for classes (Gini impurity) or numbers (variance), written out rather
//! than taken from linfa-trees.
//!
//! linfa-trees 0.8.1 sums class frequencies by iterating a `HashMap`, whose order is random per
//! process; near-equal splits then win or lose by float rounding, so the same data and seed can
//! give different trees. Reproducible training is a promise of this project, so this tree counts
//! in vectors, visits features and thresholds in a fixed order, and breaks ties towards the first
//! candidate. A classification leaf stores its class shares (the predicted probabilities), a
//! regression leaf the mean target of its rows (the predicted value).
//!
//! Each input is sorted once; a split then partitions every sorted list stably, so growing a level
//! costs one pass over the rows per input instead of a sort, and inputs are scanned in parallel.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// One node of the tree; nodes live in a flat vector and refer to children by index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// Rows with `x[feature] < threshold` go to `left`, the others to `right`.
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    /// The prediction for the training rows that reached this leaf: their class shares, or their
    /// mean target (one value).
    Leaf { outputs: Vec<f64>, rows: usize },
}

/// A fitted decision tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    /// Values per leaf: the number of classes, or 1 for a regression tree.
    pub outputs: usize,
    /// `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// Total impurity decrease per input, normalised to sum to 1 (all 0 for a single leaf).
    pub feature_importance: Vec<f64>,
}

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub struct TreeParams {
    pub max_depth: usize,
    pub min_samples_leaf: usize,
}

impl DecisionTree {
    /// Grows a classification tree on inputs `x` and class indexes `y` (each `< n_classes`).
    pub fn fit_classes(
        x: ArrayView2<f64>,
        y: &[usize],
        n_classes: usize,
        params: TreeParams,
    ) -> Self {
        Self::fit(x, &Gini { y, n_classes }, y.len(), params)
    }

    /// Grows a regression tree on inputs `x` and targets `y`.
    pub fn fit_values(x: ArrayView2<f64>, y: &[f64], params: TreeParams) -> Self {
        // Centred targets keep the sums of squares small, so variances do not cancel out.
        let offset = y.iter().sum::<f64>() / y.len().max(1) as f64;
        let centred: Vec<f64> = y.iter().map(|v| v - offset).collect();
        let criterion = Variance {
            y: &centred,
            offset,
        };
        Self::fit(x, &criterion, y.len(), params)
    }

    fn fit<C: Criterion>(
        x: ArrayView2<f64>,
        criterion: &C,
        rows: usize,
        params: TreeParams,
    ) -> Self {
        let columns: Vec<Vec<f64>> = x.columns().into_iter().map(|c| c.to_vec()).collect();
        // Each input's rows sorted once by (value, row); splits then partition these lists stably,
        // so every node scans its rows in sorted order without sorting again.
        let orders: Vec<Vec<u32>> = columns
            .par_iter()
            .map(|values| {
                let mut pairs: Vec<(f64, u32)> = values.iter().copied().zip(0..).collect();
                pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                pairs.into_iter().map(|(_, row)| row).collect()
            })
            .collect();
        let mut builder = Builder {
            columns,
            criterion,
            rows,
            params,
            orders,
            goes_left: vec![false; rows],
            scratch: Vec::with_capacity(rows),
            nodes: Vec::new(),
            importance: vec![0.0; x.ncols()],
        };
        if rows > 0 {
            builder.grow(0..rows, 0);
        }
        let total: f64 = builder.importance.iter().sum();
        if total > 0.0 {
            builder.importance.iter_mut().for_each(|v| *v /= total);
        }
        Self {
            outputs: criterion.outputs(),
            nodes: builder.nodes,
            feature_importance: builder.importance,
        }
    }

    /// The leaf values of one input row: class probabilities, or the predicted value.
    pub fn predict(&self, row: ArrayView1<f64>) -> &[f64] {
        let mut index = 0;
        loop {
            match &self.nodes[index] {
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    index = if row[*feature] < *threshold {
                        *left
                    } else {
                        *right
                    }
                }
                Node::Leaf { outputs, .. } => return outputs,
            }
        }
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| matches!(n, Node::Leaf { .. }))
            .count()
    }
}

/// How a tree measures the impurity of a node's targets, from statistics that rows can be moved
/// in and out of one at a time as a threshold sweeps past them.
trait Criterion: Sync {
    type Stats: Clone + Send;
    /// Values per leaf.
    fn outputs(&self) -> usize;
    fn empty(&self) -> Self::Stats;
    fn add(&self, stats: &mut Self::Stats, row: u32);
    fn remove(&self, stats: &mut Self::Stats, row: u32);
    /// Impurity of `n` rows with these statistics (0 when pure).
    fn impurity(&self, stats: &Self::Stats, n: usize) -> f64;
    /// A leaf's prediction for `n` rows with these statistics.
    fn leaf(&self, stats: &Self::Stats, n: usize) -> Vec<f64>;

    fn stats(&self, rows: &[u32]) -> Self::Stats {
        let mut stats = self.empty();
        rows.iter().for_each(|&r| self.add(&mut stats, r));
        stats
    }
}

/// Classification: Gini impurity of the class counts.
struct Gini<'y> {
    y: &'y [usize],
    n_classes: usize,
}

impl Criterion for Gini<'_> {
    type Stats = Vec<usize>;

    fn outputs(&self) -> usize {
        self.n_classes
    }

    fn empty(&self) -> Vec<usize> {
        vec![0; self.n_classes]
    }

    fn add(&self, counts: &mut Vec<usize>, row: u32) {
        counts[self.y[row as usize]] += 1;
    }

    fn remove(&self, counts: &mut Vec<usize>, row: u32) {
        counts[self.y[row as usize]] -= 1;
    }

    fn impurity(&self, counts: &Vec<usize>, n: usize) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let n = n as f64;
        1.0 - counts.iter().map(|&c| (c as f64 / n).powi(2)).sum::<f64>()
    }

    fn leaf(&self, counts: &Vec<usize>, n: usize) -> Vec<f64> {
        counts.iter().map(|&c| c as f64 / n as f64).collect()
    }
}

/// Regression: variance of the (centred) targets, from their sum and sum of squares.
struct Variance<'y> {
    y: &'y [f64],
    /// What was subtracted from every target; added back in the leaves.
    offset: f64,
}

impl Criterion for Variance<'_> {
    type Stats = (f64, f64);

    fn outputs(&self) -> usize {
        1
    }

    fn empty(&self) -> (f64, f64) {
        (0.0, 0.0)
    }

    fn add(&self, (sum, squares): &mut (f64, f64), row: u32) {
        let y = self.y[row as usize];
        *sum += y;
        *squares += y * y;
    }

    fn remove(&self, (sum, squares): &mut (f64, f64), row: u32) {
        let y = self.y[row as usize];
        *sum -= y;
        *squares -= y * y;
    }

    fn impurity(&self, &(sum, squares): &(f64, f64), n: usize) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let mean = sum / n as f64;
        (squares / n as f64 - mean * mean).max(0.0)
    }

    fn leaf(&self, &(sum, _): &(f64, f64), n: usize) -> Vec<f64> {
        vec![self.offset + sum / n as f64]
    }
}

struct Builder<'c, C> {
    /// The inputs column by column.
    columns: Vec<Vec<f64>>,
    criterion: &'c C,
    rows: usize,
    params: TreeParams,
    /// Per input, all rows in (value, row) order within each node; a node owns the same index
    /// range in every list.
    orders: Vec<Vec<u32>>,
    goes_left: Vec<bool>,
    scratch: Vec<u32>,
    nodes: Vec<Node>,
    importance: Vec<f64>,
}

/// The best split found for a node.
struct Candidate {
    feature: usize,
    threshold: f64,
    impurity: f64,
}

impl<C: Criterion> Builder<'_, C> {
    /// Adds the subtree for the node owning `range` and returns its node index.
    fn grow(&mut self, range: Range<usize>, depth: usize) -> usize {
        let stats = self.criterion.stats(&self.orders[0][range.clone()]);
        let n = range.len();
        let parent = self.criterion.impurity(&stats, n);
        let index = self.nodes.len();
        let split = if depth < self.params.max_depth && parent > 0.0 {
            self.best_split(range.clone(), parent)
        } else {
            None
        };
        let Some(split) = split else {
            self.nodes.push(Node::Leaf {
                outputs: self.criterion.leaf(&stats, n),
                rows: n,
            });
            return index;
        };
        self.importance[split.feature] += n as f64 / self.rows as f64 * (parent - split.impurity);
        let n_left = self.partition(range.clone(), &split);
        // Reserve this node's slot, then fill it in once the children's indexes are known.
        self.nodes.push(Node::Leaf {
            outputs: Vec::new(),
            rows: 0,
        });
        let middle = range.start + n_left;
        let left = self.grow(range.start..middle, depth + 1);
        let right = self.grow(middle..range.end, depth + 1);
        self.nodes[index] = Node::Split {
            feature: split.feature,
            threshold: split.threshold,
            left,
            right,
        };
        index
    }

    /// Moves the node's rows that go left before those that go right in every input's list,
    /// keeping their order; returns how many go left.
    fn partition(&mut self, range: Range<usize>, split: &Candidate) -> usize {
        let values = &self.columns[split.feature];
        let mut n_left = 0;
        for &r in &self.orders[0][range.clone()] {
            let left = values[r as usize] < split.threshold;
            self.goes_left[r as usize] = left;
            n_left += usize::from(left);
        }
        for order in &mut self.orders {
            let rows = &mut order[range.clone()];
            self.scratch.clear();
            self.scratch
                .extend(rows.iter().filter(|&&r| !self.goes_left[r as usize]));
            let mut next = 0;
            for i in 0..rows.len() {
                if self.goes_left[rows[i] as usize] {
                    rows[next] = rows[i];
                    next += 1;
                }
            }
            rows[next..].copy_from_slice(&self.scratch);
        }
        n_left
    }

    /// Scans every input (in parallel) and every threshold between distinct values; keeps the
    /// first split with the lowest weighted impurity, if it improves on the parent.
    fn best_split(&self, range: Range<usize>, parent: f64) -> Option<Candidate> {
        let per_feature: Vec<Option<Candidate>> = (0..self.columns.len())
            .into_par_iter()
            .map(|feature| self.best_split_on(feature, range.clone(), parent))
            .collect();
        let mut best: Option<Candidate> = None;
        for candidate in per_feature.into_iter().flatten() {
            // A margin keeps float noise from overturning an earlier, equally good split.
            if best
                .as_ref()
                .is_none_or(|b| candidate.impurity < b.impurity - 1e-12)
            {
                best = Some(candidate);
            }
        }
        best
    }

    fn best_split_on(&self, feature: usize, range: Range<usize>, parent: f64) -> Option<Candidate> {
        let rows = &self.orders[feature][range];
        let n = rows.len();
        let min_leaf = self.params.min_samples_leaf.max(1);
        let value = |r: u32| self.columns[feature][r as usize];
        let criterion = self.criterion;
        let mut left = criterion.empty();
        let mut right = criterion.stats(rows);
        let mut best: Option<Candidate> = None;
        for i in 0..n.saturating_sub(1) {
            criterion.add(&mut left, rows[i]);
            criterion.remove(&mut right, rows[i]);
            let (n_left, n_right) = (i + 1, n - i - 1);
            let (here, next) = (value(rows[i]), value(rows[i + 1]));
            if here == next || n_left < min_leaf || n_right < min_leaf {
                continue;
            }
            let impurity = (n_left as f64 * criterion.impurity(&left, n_left)
                + n_right as f64 * criterion.impurity(&right, n_right))
                / n as f64;
            let better = best.as_ref().is_none_or(|b| impurity < b.impurity - 1e-12);
            if better && impurity < parent - 1e-12 {
                best = Some(Candidate {
                    feature,
                    threshold: here + (next - here) / 2.0,
                    impurity,
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn splits_on_the_informative_input() {
        let x = array![
            [0.0, 5.0],
            [1.0, 3.0],
            [2.0, 4.0],
            [3.0, 3.0],
            [4.0, 5.0],
            [5.0, 4.0]
        ];
        let y = [0, 0, 0, 1, 1, 1];
        let params = TreeParams {
            max_depth: 3,
            min_samples_leaf: 1,
        };
        let tree = DecisionTree::fit_classes(x.view(), &y, 2, params);
        assert_eq!(tree.leaves(), 2);
        assert_eq!(tree.feature_importance, vec![1.0, 0.0]);
        match &tree.nodes[0] {
            Node::Split {
                feature, threshold, ..
            } => assert_eq!((*feature, *threshold), (0, 2.5)),
            leaf => panic!("expected a split, got {leaf:?}"),
        }
        assert_eq!(tree.predict(array![1.0, 0.0].view()), [1.0, 0.0]);
    }

    #[test]
    fn stopping_rules_hold() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = [0, 1, 0, 1];
        let stump = DecisionTree::fit_classes(
            x.view(),
            &y,
            2,
            TreeParams {
                max_depth: 0,
                min_samples_leaf: 1,
            },
        );
        assert_eq!(stump.nodes.len(), 1);
        assert_eq!(stump.predict(array![0.0].view()), [0.5, 0.5]);
        let wide = DecisionTree::fit_classes(
            x.view(),
            &y,
            2,
            TreeParams {
                max_depth: 10,
                min_samples_leaf: 2,
            },
        );
        for node in &wide.nodes {
            if let Node::Leaf { rows, .. } = node {
                assert!(*rows >= 2);
            }
        }
    }

    #[test]
    fn a_regression_tree_predicts_leaf_means() {
        // y steps from about 10 to about 50 where x crosses 3; the other input is noise.
        let x = array![
            [0.0, 1.0],
            [1.0, 0.0],
            [2.0, 1.0],
            [4.0, 0.0],
            [5.0, 1.0],
            [6.0, 0.0]
        ];
        let y = [9.0, 10.0, 11.0, 49.0, 50.0, 51.0];
        let params = TreeParams {
            max_depth: 1,
            min_samples_leaf: 1,
        };
        let tree = DecisionTree::fit_values(x.view(), &y, params);
        assert_eq!(tree.outputs, 1);
        assert_eq!(tree.leaves(), 2);
        assert_eq!(tree.feature_importance, vec![1.0, 0.0]);
        assert_eq!(tree.predict(array![1.5, 0.0].view()), [10.0]);
        assert_eq!(tree.predict(array![5.5, 1.0].view()), [50.0]);
        let deep = DecisionTree::fit_values(
            x.view(),
            &y,
            TreeParams {
                max_depth: 10,
                min_samples_leaf: 1,
            },
        );
        for (row, expected) in x.rows().into_iter().zip(y) {
            assert!((deep.predict(row)[0] - expected).abs() < 1e-9);
        }
    }
}
