//! A CART decision tree (Gini impurity), written out rather than taken from linfa-trees.
//!
//! linfa-trees 0.8.1 sums class frequencies by iterating a `HashMap`, whose order is random per
//! process; near-equal splits then win or lose by float rounding, so the same data and seed can
//! give different trees. Reproducible training is a promise of this project, so this tree counts
//! classes in vectors, visits features and thresholds in a fixed order, and breaks ties towards the
//! first candidate. Leaves store class shares, which are the predicted probabilities.
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
    /// Class shares of the training rows that reached this leaf.
    Leaf {
        probabilities: Vec<f64>,
        rows: usize,
    },
}

/// A fitted decision tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionTree {
    pub n_classes: usize,
    /// `nodes[0]` is the root.
    pub nodes: Vec<Node>,
    /// Total Gini decrease per input, normalised to sum to 1 (all 0 for a single leaf).
    pub feature_importance: Vec<f64>,
}

/// Stopping rules.
#[derive(Debug, Clone, Copy)]
pub struct TreeParams {
    pub max_depth: usize,
    pub min_samples_leaf: usize,
}

impl DecisionTree {
    /// Grows a tree on inputs `x` and class indexes `y` (each `< n_classes`).
    pub fn fit(x: ArrayView2<f64>, y: &[usize], n_classes: usize, params: TreeParams) -> Self {
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
            y,
            n_classes,
            params,
            orders,
            goes_left: vec![false; y.len()],
            scratch: Vec::with_capacity(y.len()),
            nodes: Vec::new(),
            importance: vec![0.0; x.ncols()],
        };
        if !y.is_empty() {
            builder.grow(0..y.len(), 0);
        }
        let total: f64 = builder.importance.iter().sum();
        if total > 0.0 {
            builder.importance.iter_mut().for_each(|v| *v /= total);
        }
        Self {
            n_classes,
            nodes: builder.nodes,
            feature_importance: builder.importance,
        }
    }

    /// Class probabilities of one input row.
    pub fn predict_proba(&self, row: ArrayView1<f64>) -> &[f64] {
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
                Node::Leaf { probabilities, .. } => return probabilities,
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

struct Builder<'y> {
    /// The inputs column by column.
    columns: Vec<Vec<f64>>,
    y: &'y [usize],
    n_classes: usize,
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

impl Builder<'_> {
    /// Adds the subtree for the node owning `range` and returns its node index.
    fn grow(&mut self, range: Range<usize>, depth: usize) -> usize {
        let counts = self.counts(&self.orders[0][range.clone()]);
        let n = range.len();
        let parent = gini(&counts, n);
        let index = self.nodes.len();
        let split = if depth < self.params.max_depth && parent > 0.0 {
            self.best_split(range.clone(), parent)
        } else {
            None
        };
        let Some(split) = split else {
            self.nodes.push(Node::Leaf {
                probabilities: counts.iter().map(|&c| c as f64 / n as f64).collect(),
                rows: n,
            });
            return index;
        };
        self.importance[split.feature] +=
            n as f64 / self.y.len() as f64 * (parent - split.impurity);
        let n_left = self.partition(range.clone(), &split);
        // Reserve this node's slot, then fill it in once the children's indexes are known.
        self.nodes.push(Node::Leaf {
            probabilities: Vec::new(),
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

    fn counts(&self, rows: &[u32]) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes];
        for &r in rows {
            counts[self.y[r as usize]] += 1;
        }
        counts
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
    /// first split with the lowest weighted Gini impurity, if it improves on the parent.
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
        let mut left = vec![0usize; self.n_classes];
        let mut right = self.counts(rows);
        let mut best: Option<Candidate> = None;
        for i in 0..n.saturating_sub(1) {
            let class = self.y[rows[i] as usize];
            left[class] += 1;
            right[class] -= 1;
            let (n_left, n_right) = (i + 1, n - i - 1);
            let (here, next) = (value(rows[i]), value(rows[i + 1]));
            if here == next || n_left < min_leaf || n_right < min_leaf {
                continue;
            }
            let impurity = (n_left as f64 * gini(&left, n_left)
                + n_right as f64 * gini(&right, n_right))
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

fn gini(counts: &[usize], n: usize) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as f64;
    1.0 - counts.iter().map(|&c| (c as f64 / n).powi(2)).sum::<f64>()
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
        let tree = DecisionTree::fit(x.view(), &y, 2, params);
        assert_eq!(tree.leaves(), 2);
        assert_eq!(tree.feature_importance, vec![1.0, 0.0]);
        match &tree.nodes[0] {
            Node::Split {
                feature, threshold, ..
            } => assert_eq!((*feature, *threshold), (0, 2.5)),
            leaf => panic!("expected a split, got {leaf:?}"),
        }
        assert_eq!(tree.predict_proba(array![1.0, 0.0].view()), [1.0, 0.0]);
    }

    #[test]
    fn stopping_rules_hold() {
        let x = array![[0.0], [1.0], [2.0], [3.0]];
        let y = [0, 1, 0, 1];
        let stump = DecisionTree::fit(
            x.view(),
            &y,
            2,
            TreeParams {
                max_depth: 0,
                min_samples_leaf: 1,
            },
        );
        assert_eq!(stump.nodes.len(), 1);
        assert_eq!(stump.predict_proba(array![0.0].view()), [0.5, 0.5]);
        let wide = DecisionTree::fit(
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
}
