//! Ridge regression: least squares with an L2 penalty, solved exactly.
//!
//! It minimises scikit-learn's `Ridge` objective, `|y - X w - b|^2 + alpha |w|^2` with an
//! unpenalised intercept `b`: centring the inputs and the target removes `b`, and the normal
//! equations `(Xc' Xc + alpha I) w = Xc' yc` are solved by a Cholesky factorisation. Each entry of
//! `Xc' Xc` is one sum over the rows, computed in row order, so the result does not depend on the
//! number of threads.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// A fitted ridge regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RidgeRegression {
    /// One weight per input (inputs are standardised, so weights are comparable).
    pub coefficients: Vec<f64>,
    pub intercept: f64,
}

/// The normal equations have no unique solution.
#[derive(Debug, thiserror::Error)]
#[error(
    "the inputs are collinear, so least squares has no unique solution: use an L2 penalty above 0"
)]
pub struct Singular;

impl RidgeRegression {
    /// Fits inputs `x` (one row per sample) to targets `y` with penalty `alpha` (>= 0).
    pub fn fit(x: ArrayView2<f64>, y: &[f64], alpha: f64) -> Result<Self, Singular> {
        let (n, p) = x.dim();
        let mean = |values: ArrayView1<f64>| values.iter().sum::<f64>() / n as f64;
        let x_means: Vec<f64> = x.columns().into_iter().map(mean).collect();
        let y_mean = y.iter().sum::<f64>() / n as f64;
        // Upper triangle of Xc'Xc and Xc'yc: one ordered sum per entry, entries in parallel.
        let pairs: Vec<(usize, usize)> = (0..p).flat_map(|j| (j..p).map(move |k| (j, k))).collect();
        let gram: Vec<f64> = pairs
            .par_iter()
            .map(|&(j, k)| centred_dot(x.column(j), x_means[j], x.column(k), x_means[k]))
            .collect();
        let moments: Vec<f64> = (0..p)
            .into_par_iter()
            .map(|j| centred_dot(x.column(j), x_means[j], ArrayView1::from(y), y_mean))
            .collect();
        let mut a = vec![0.0; p * p];
        for (&(j, k), value) in pairs.iter().zip(gram) {
            a[j * p + k] = value;
            a[k * p + j] = value;
        }
        for j in 0..p {
            a[j * p + j] += alpha;
        }
        let coefficients = cholesky_solve(&mut a, &moments, p).ok_or(Singular)?;
        let intercept = y_mean
            - coefficients
                .iter()
                .zip(&x_means)
                .map(|(w, m)| w * m)
                .sum::<f64>();
        Ok(Self {
            coefficients,
            intercept,
        })
    }

    /// The predicted value of one input row.
    pub fn predict(&self, row: ArrayView1<f64>) -> f64 {
        self.intercept
            + self
                .coefficients
                .iter()
                .zip(row)
                .map(|(w, x)| w * x)
                .sum::<f64>()
    }

    /// The absolute weight of each input: the change in the prediction per standard deviation.
    pub fn feature_importance(&self) -> Vec<f64> {
        self.coefficients.iter().map(|w| w.abs()).collect()
    }
}

/// `sum((a - a_mean) * (b - b_mean))`, in row order.
fn centred_dot(a: ArrayView1<f64>, a_mean: f64, b: ArrayView1<f64>, b_mean: f64) -> f64 {
    a.iter()
        .zip(b)
        .map(|(u, v)| (u - a_mean) * (v - b_mean))
        .sum()
}

/// Solves `A w = b` for a symmetric `p x p` matrix `a` (row-major, overwritten by its Cholesky
/// factor); `None` unless `A` is positive definite.
fn cholesky_solve(a: &mut [f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    // A = L L', L stored in the lower triangle.
    let scale = (0..p).map(|j| a[j * p + j].abs()).fold(0.0, f64::max);
    for j in 0..p {
        let diagonal = a[j * p + j] - (0..j).map(|k| a[j * p + k].powi(2)).sum::<f64>();
        // A pivot lost to rounding means the matrix is singular, not merely small.
        if diagonal <= scale * 1e-12 {
            return None;
        }
        let pivot = diagonal.sqrt();
        a[j * p + j] = pivot;
        for i in j + 1..p {
            let dot: f64 = (0..j).map(|k| a[i * p + k] * a[j * p + k]).sum();
            a[i * p + j] = (a[i * p + j] - dot) / pivot;
        }
    }
    // L z = b, then L' w = z.
    let mut z = vec![0.0; p];
    for i in 0..p {
        let dot: f64 = (0..i).map(|k| a[i * p + k] * z[k]).sum();
        z[i] = (b[i] - dot) / a[i * p + i];
    }
    let mut w = vec![0.0; p];
    for i in (0..p).rev() {
        let dot: f64 = (i + 1..p).map(|k| a[k * p + i] * w[k]).sum();
        w[i] = (z[i] - dot) / a[i * p + i];
    }
    Some(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::gold::SplitMix64;
    use ndarray::Array2;

    /// `y = 3 + 2 x0 - 1.5 x1 + 0 x2 + noise` on 2,000 seeded rows.
    fn synthetic(noise: f64) -> (Array2<f64>, Vec<f64>) {
        let mut rng = SplitMix64::new(42);
        let x = Array2::from_shape_fn((2000, 3), |_| rng.unit() * 4.0 - 2.0);
        let y = x
            .rows()
            .into_iter()
            .map(|r| 3.0 + 2.0 * r[0] - 1.5 * r[1] + noise * (rng.unit() - 0.5))
            .collect();
        (x, y)
    }

    #[test]
    fn recovers_known_coefficients() {
        let (x, y) = synthetic(0.2);
        let model = RidgeRegression::fit(x.view(), &y, 1e-3).unwrap();
        for (fitted, truth) in model.coefficients.iter().zip([2.0, -1.5, 0.0]) {
            assert!((fitted - truth).abs() < 0.01, "{fitted} vs {truth}");
        }
        assert!((model.intercept - 3.0).abs() < 0.01, "{}", model.intercept);
        assert!((model.predict(x.row(0)) - y[0]).abs() < 0.2);
    }

    #[test]
    fn the_penalty_shrinks_weights_towards_zero() {
        let (x, y) = synthetic(0.0);
        let exact = RidgeRegression::fit(x.view(), &y, 0.0).unwrap();
        assert!((exact.coefficients[0] - 2.0).abs() < 1e-9);
        let shrunk = RidgeRegression::fit(x.view(), &y, 1e4).unwrap();
        assert!(shrunk.coefficients[0].abs() < exact.coefficients[0].abs() / 2.0);
    }

    #[test]
    fn collinear_inputs_need_a_penalty() {
        let x = ndarray::array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
        let y = [1.0, 2.0, 3.0];
        assert!(RidgeRegression::fit(x.view(), &y, 0.0).is_err());
        assert!(RidgeRegression::fit(x.view(), &y, 0.1).is_ok());
    }
}
