//! Multinomial logistic regression, fitted with L-BFGS on the mean cross-entropy plus an L2 penalty
//! on the coefficients: `mean(loss) + l2_penalty / (2 n) * |W|^2`, the objective scikit-learn's
//! `LogisticRegression(C = 1 / l2_penalty)` minimises, with its stopping rule (every gradient
//! component below [`GRADIENT_TOLERANCE`]).
//!
//! One pass over the rows computes the loss and its gradient together, on all cores, in blocks of
//! [`BLOCK_ROWS`] rows (only a block's scores are ever held, never n x k arrays). Blocks have a fixed
//! size and their partial sums are added in block order, so the fitted model is bit for bit the
//! same on any number of threads.

use super::argmax;
use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Stop when no component of the mean-loss gradient exceeds this (scikit-learn's default `tol`).
pub const GRADIENT_TOLERANCE: f64 = 1e-4;
/// L-BFGS history length.
const MEMORY: usize = 10;
/// Rows per parallel block of the loss pass; fixed so the summation order never changes.
const BLOCK_ROWS: usize = 4096;

/// A fitted model: one coefficient row and intercept per class seen in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticRegression {
    /// The schema class index of each fitted class (classes absent from training get probability 0).
    pub classes: Vec<usize>,
    pub n_features: usize,
    /// `coefficients[k * n_features + j]`: fitted class `k`, input `j`.
    pub coefficients: Vec<f64>,
    pub intercepts: Vec<f64>,
    /// L-BFGS iterations the fit took.
    pub iterations: u64,
}

impl LogisticRegression {
    /// Fits inputs `x` (contiguous rows) to class indexes `y`.
    pub fn fit(x: ArrayView2<f64>, y: &[usize], l2_penalty: f64, max_iterations: u64) -> Self {
        let n_features = x.ncols();
        let mut classes: Vec<usize> = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let mut compact = vec![0; classes.last().map_or(0, |c| c + 1)];
        for (k, &class) in classes.iter().enumerate() {
            compact[class] = k;
        }
        let labels: Vec<u32> = y.iter().map(|&class| compact[class] as u32).collect();
        let k = classes.len();
        let mut theta = vec![0.0; k * (n_features + 1)];
        let mut iterations = 0;
        if k > 1 {
            // One contiguous slice per input (free when `x` is stored column by column, as gold is).
            let transposed = x.t();
            let columns = transposed.as_standard_layout();
            let objective = Objective {
                columns: columns.as_slice().expect("standard layout is contiguous"),
                labels: &labels,
                n_features,
                n_classes: k,
                l2_penalty,
            };
            iterations = lbfgs(&objective, &mut theta, max_iterations);
        }
        let mut coefficients = Vec::with_capacity(k * n_features);
        let mut intercepts = Vec::with_capacity(k);
        for class in theta.chunks_exact(n_features + 1) {
            coefficients.extend_from_slice(&class[..n_features]);
            intercepts.push(class[n_features]);
        }
        Self {
            classes,
            n_features,
            coefficients,
            intercepts,
            iterations,
        }
    }

    /// Writes the probability of every schema class for one input row into `out` (zeroed first).
    pub fn predict_proba_into(&self, row: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        let scores: Vec<f64> = self
            .coefficients
            .chunks_exact(self.n_features)
            .zip(&self.intercepts)
            .map(|(w, b)| b + dot(w, row))
            .collect();
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        for (&class, e) in self.classes.iter().zip(exps) {
            out[class] = e / sum;
        }
    }

    /// Mean absolute coefficient of each input across classes.
    pub fn feature_importance(&self) -> Vec<f64> {
        let k = self.classes.len() as f64;
        (0..self.n_features)
            .map(|j| {
                self.coefficients
                    .iter()
                    .skip(j)
                    .step_by(self.n_features)
                    .map(|c| c.abs())
                    .sum::<f64>()
                    / k
            })
            .collect()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The penalised mean cross-entropy over parameters laid out class by class as
/// `[w_0 .. w_{d-1}, intercept]`.
struct Objective<'a> {
    /// The inputs column by column: input `j` of row `r` is `columns[j * n + r]`.
    columns: &'a [f64],
    labels: &'a [u32],
    n_features: usize,
    n_classes: usize,
    l2_penalty: f64,
}

impl Objective<'_> {
    /// The objective at `theta`; its gradient goes into `gradient`.
    fn evaluate(&self, theta: &[f64], gradient: &mut [f64]) -> f64 {
        let (d, n) = (self.n_features, self.labels.len());
        let blocks: Vec<usize> = (0..n).step_by(BLOCK_ROWS).collect();
        let partials: Vec<(f64, Vec<f64>)> = blocks
            .par_iter()
            .map(|&start| {
                let end = (start + BLOCK_ROWS).min(n);
                let column = |j: usize| &self.columns[j * n + start..j * n + end];
                self.block(theta, column, &self.labels[start..end])
            })
            .collect();
        gradient.fill(0.0);
        let mut loss = 0.0;
        for (block_loss, block_gradient) in partials {
            loss += block_loss;
            for (g, b) in gradient.iter_mut().zip(block_gradient) {
                *g += b;
            }
        }
        let n = n as f64;
        loss /= n;
        for (g, t) in gradient
            .chunks_exact_mut(d + 1)
            .zip(theta.chunks_exact(d + 1))
        {
            for (g, w) in g[..d].iter_mut().zip(&t[..d]) {
                *g = *g / n + self.l2_penalty / n * w;
                loss += self.l2_penalty / (2.0 * n) * w * w;
            }
            g[d] /= n;
        }
        loss
    }

    /// Summed loss and gradient of one block of rows. Every loop runs over contiguous rows, so it
    /// vectorises; `exp` and `ln` are the only per-row scalar work left.
    fn block<'c>(
        &self,
        theta: &[f64],
        column: impl Fn(usize) -> &'c [f64],
        labels: &[u32],
    ) -> (f64, Vec<f64>) {
        let (d, k, rows) = (self.n_features, self.n_classes, labels.len());
        // scores[c * rows + r]: class c's score of row r, then its residual p - y.
        let mut scores = vec![0.0; k * rows];
        for (class, scores) in theta.chunks_exact(d + 1).zip(scores.chunks_exact_mut(rows)) {
            scores.fill(class[d]);
            for (j, &w) in class[..d].iter().enumerate() {
                for (s, x) in scores.iter_mut().zip(column(j)) {
                    *s += w * x;
                }
            }
        }
        // Each row's loss is max + ln(sum) - label score. Every sum lies in [1, k], so the sums of
        // `log_batch` rows are multiplied before one `ln` (their product stays below 2^700, far from
        // overflow): `ln` per row would cost as much as the rest of the pass.
        let log_batch = (700.0 / (k as f64).log2()) as usize;
        let mut loss = 0.0;
        let mut product = 1.0;
        let mut row = vec![0.0; k];
        for (r, &label) in labels.iter().enumerate() {
            for (c, score) in row.iter_mut().enumerate() {
                *score = scores[c * rows + r];
            }
            let top = argmax(&row);
            let max = row[top];
            let mut sum = 0.0;
            for (c, score) in row.iter_mut().enumerate() {
                // exp(0) = 1 for the top class: one exp fewer per row.
                *score = if c == top { 1.0 } else { (*score - max).exp() };
                sum += *score;
            }
            loss += max - scores[label as usize * rows + r];
            product *= sum;
            if (r + 1) % log_batch == 0 {
                loss += product.ln();
                product = 1.0;
            }
            for (c, p) in row.iter().enumerate() {
                scores[c * rows + r] = p / sum - f64::from(u8::from(c == label as usize));
            }
        }
        loss += product.ln();
        let mut gradient = vec![0.0; theta.len()];
        for (residuals, g) in scores
            .chunks_exact(rows)
            .zip(gradient.chunks_exact_mut(d + 1))
        {
            for (j, g) in g[..d].iter_mut().enumerate() {
                *g = sum_of_products(residuals, column(j));
            }
            g[d] = residuals.iter().sum();
        }
        (loss, gradient)
    }
}

/// `sum(a[i] * b[i])` with four running sums, so it vectorises; the order is fixed, so the result is too.
fn sum_of_products(a: &[f64], b: &[f64]) -> f64 {
    let mut sums = [0.0; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (a, b) in a4.zip(b4) {
        for i in 0..4 {
            sums[i] += a[i] * b[i];
        }
    }
    (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail
}

/// Minimises the objective from `theta` in place; returns the iterations taken.
fn lbfgs(objective: &Objective, theta: &mut [f64], max_iterations: u64) -> u64 {
    let p = theta.len();
    let mut gradient = vec![0.0; p];
    let mut loss = objective.evaluate(theta, &mut gradient);
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::with_capacity(MEMORY);
    let (mut candidate, mut candidate_gradient) = (vec![0.0; p], vec![0.0; p]);
    for iteration in 0..max_iterations {
        if gradient.iter().all(|g| g.abs() <= GRADIENT_TOLERANCE) {
            return iteration;
        }
        let direction = search_direction(&gradient, &history);
        let slope = dot(&direction, &gradient);
        // Backtracking line search with the Armijo condition.
        let mut step = 1.0;
        let accepted = loop {
            for ((c, t), d) in candidate.iter_mut().zip(theta.iter()).zip(&direction) {
                *c = t + step * d;
            }
            let candidate_loss = objective.evaluate(&candidate, &mut candidate_gradient);
            if candidate_loss <= loss + 1e-4 * step * slope {
                break Some(candidate_loss);
            }
            step *= 0.5;
            if step < 1e-10 {
                break None;
            }
        };
        let Some(candidate_loss) = accepted else {
            return iteration;
        };
        let s: Vec<f64> = candidate
            .iter()
            .zip(theta.iter())
            .map(|(c, t)| c - t)
            .collect();
        let y: Vec<f64> = candidate_gradient
            .iter()
            .zip(&gradient)
            .map(|(c, g)| c - g)
            .collect();
        let curvature = dot(&s, &y);
        if curvature > 1e-10 {
            if history.len() == MEMORY {
                history.pop_front();
            }
            history.push_back((s, y, 1.0 / curvature));
        }
        let decrease = (loss - candidate_loss) / loss.abs().max(candidate_loss.abs()).max(1.0);
        theta.copy_from_slice(&candidate);
        gradient.copy_from_slice(&candidate_gradient);
        loss = candidate_loss;
        // scikit-learn's second stopping rule: the objective no longer moves.
        if decrease <= 64.0 * f64::EPSILON {
            return iteration + 1;
        }
    }
    max_iterations
}

/// The L-BFGS two-loop recursion: `-H g` for the inverse Hessian estimate `H` of the history; a
/// scaled steepest descent step before there is any history.
fn search_direction(gradient: &[f64], history: &VecDeque<(Vec<f64>, Vec<f64>, f64)>) -> Vec<f64> {
    let mut q = gradient.to_vec();
    let mut alphas = Vec::with_capacity(history.len());
    for (s, y, rho) in history.iter().rev() {
        let alpha = rho * dot(s, &q);
        q.iter_mut().zip(y).for_each(|(q, y)| *q -= alpha * y);
        alphas.push(alpha);
    }
    let scale = match history.back() {
        Some((_, y, rho)) => 1.0 / (rho * dot(y, y)),
        None => 1.0 / dot(gradient, gradient).sqrt().max(1.0),
    };
    q.iter_mut().for_each(|q| *q *= scale);
    for ((s, y, rho), alpha) in history.iter().zip(alphas.into_iter().rev()) {
        let beta = rho * dot(y, &q);
        q.iter_mut()
            .zip(s)
            .for_each(|(q, s)| *q += (alpha - beta) * s);
    }
    q.iter_mut().for_each(|q| *q = -*q);
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Two overlapping Gaussian-like clouds per input: a problem with a unique, finite optimum.
    fn noisy_problem() -> (Array2<f64>, Vec<usize>) {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        let n = 10_000;
        let mut x = Vec::with_capacity(n * 2);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let class = i % 3;
            x.push(class as f64 + 2.0 * next());
            x.push(-(class as f64) + 2.0 * next());
            y.push(class);
        }
        (Array2::from_shape_vec((n, 2), x).unwrap(), y)
    }

    #[test]
    fn converges_to_a_stationary_point_of_the_penalised_mean_loss() {
        let (x, y) = noisy_problem();
        let model = LogisticRegression::fit(x.view(), &y, 1.0, 500);
        assert!(
            model.iterations < 500,
            "converged in {} iterations",
            model.iterations
        );
        // Rebuild the parameters and check the gradient directly.
        let theta: Vec<f64> = model
            .coefficients
            .chunks_exact(2)
            .zip(&model.intercepts)
            .flat_map(|(w, b)| [w[0], w[1], *b])
            .collect();
        let mut gradient = vec![0.0; theta.len()];
        with_objective(1.0, |objective| objective.evaluate(&theta, &mut gradient));
        assert!(
            gradient.iter().all(|g| g.abs() <= GRADIENT_TOLERANCE),
            "{gradient:?}"
        );
    }

    /// Runs `check` on the objective of [`noisy_problem`] with the given penalty.
    fn with_objective<T>(l2_penalty: f64, check: impl FnOnce(&Objective) -> T) -> T {
        let (x, y) = noisy_problem();
        let labels: Vec<u32> = y.iter().map(|&c| c as u32).collect();
        let transposed = x.t();
        let columns = transposed.as_standard_layout();
        check(&Objective {
            columns: columns.as_slice().unwrap(),
            labels: &labels,
            n_features: 2,
            n_classes: 3,
            l2_penalty,
        })
    }

    #[test]
    fn gradient_matches_finite_differences() {
        with_objective(10.0, |objective| {
            let theta = vec![0.3, -0.2, 0.1, -0.5, 0.4, 0.0, 0.2, 0.1, -0.3];
            let mut gradient = vec![0.0; theta.len()];
            objective.evaluate(&theta, &mut gradient);
            let mut scratch = vec![0.0; theta.len()];
            for i in 0..theta.len() {
                let h = 1e-6;
                let (mut up, mut down) = (theta.clone(), theta.clone());
                up[i] += h;
                down[i] -= h;
                let numeric = (objective.evaluate(&up, &mut scratch)
                    - objective.evaluate(&down, &mut scratch))
                    / (2.0 * h);
                assert!(
                    (numeric - gradient[i]).abs() < 1e-6,
                    "parameter {i}: {numeric} vs {}",
                    gradient[i]
                );
            }
        });
    }

    #[test]
    fn the_fit_does_not_depend_on_the_number_of_threads() {
        let (x, y) = noisy_problem();
        let fit_with = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| LogisticRegression::fit(x.view(), &y, 1.0, 100))
        };
        assert_eq!(fit_with(1), fit_with(3));
    }
}
