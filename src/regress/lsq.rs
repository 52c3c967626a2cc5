//! Least squares over a law's constants: L-BFGS (argmin, Moré–Thuente line search) on the
//! normalised mean squared error, with gradients from forward-mode dual numbers.
//!
//! The objective is `NMSE(θ) = mean((f(x; θ) − y)²) / var(y)` (for a matrix target, the
//! sum over the nine entries of the squared errors over the sum of the nine variances), so
//! 1 is the constant-mean predictor and 0 is exact. [`minimize`] runs L-BFGS from one start;
//! [`restarts`] adds starts scattered around it and keeps the best.

use argmin::core::{CostFunction, Error, Executor, Gradient};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;

/// A loss with its gradient, or `None` where the law is not finite.
pub type LossGrad = Option<(f64, Vec<f64>)>;

/// The cost of a point where the law is not finite (relative losses: 1 is the mean).
const PENALTY: f64 = 1e6;

/// Below this normalised error the fit has nothing left to gain (floating-point noise of
/// an exact law is around 1e-30).
pub const EXACT: f64 = 1e-28;

/// The result of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    /// The best parameters found.
    pub params: Vec<f64>,
    /// Their normalised mean squared error (`+∞` when no point was finite).
    pub nmse: f64,
    /// Loss-and-gradient evaluations made.
    pub evaluations: usize,
}

/// A loss function: parameters and whether the gradient is wanted.
pub type LossFn<'f> = &'f mut dyn FnMut(&[f64], bool) -> LossGrad;

/// The last point evaluated, its loss and its gradient.
type Cached = Option<(Vec<f64>, f64, Vec<f64>)>;

struct Problem<'f> {
    eval: RefCell<LossFn<'f>>,
    last: RefCell<Cached>,
    best: RefCell<(f64, Vec<f64>)>,
    count: RefCell<usize>,
}

impl Problem<'_> {
    fn at(&self, x: &[f64]) -> (f64, Vec<f64>) {
        if let Some((p, c, g)) = &*self.last.borrow()
            && p.as_slice() == x
        {
            return (*c, g.clone());
        }
        *self.count.borrow_mut() += 1;
        let (c, g) = match (self.eval.borrow_mut())(x, true) {
            Some((c, g)) if c.is_finite() && g.iter().all(|v| v.is_finite()) => (c, g),
            _ => (PENALTY, vec![0.0; x.len()]),
        };
        {
            let mut best = self.best.borrow_mut();
            if c < best.0 {
                *best = (c, x.to_vec());
            }
        }
        *self.last.borrow_mut() = Some((x.to_vec(), c, g.clone()));
        (c, g)
    }
}

/// L-BFGS from `start` for at most `iterations` iterations. `eval(θ, true)` gives the
/// loss and its gradient.
pub fn minimize(
    eval: &mut dyn FnMut(&[f64], bool) -> LossGrad,
    start: &[f64],
    iterations: u64,
) -> Fitted {
    if start.is_empty() {
        let nmse = eval(start, false).map_or(f64::INFINITY, |(c, _)| c);
        return Fitted {
            params: Vec::new(),
            nmse: if nmse.is_finite() {
                nmse
            } else {
                f64::INFINITY
            },
            evaluations: 1,
        };
    }
    let problem = Problem {
        eval: RefCell::new(eval),
        last: RefCell::new(None),
        best: RefCell::new((f64::INFINITY, start.to_vec())),
        count: RefCell::new(0),
    };
    let (c0, _) = problem.at(start);
    if c0 < PENALTY && c0 > EXACT {
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
            .with_tolerance_grad(0.0)
            .and_then(|s| s.with_tolerance_cost(0.0));
        if let Ok(solver) = solver {
            let problem_ref = &problem;
            let _ = Executor::new(problem_ref, solver)
                .configure(|s| {
                    s.param(start.to_vec())
                        .max_iters(iterations)
                        .target_cost(EXACT)
                })
                .run()
                .map(|r| r.state().get_best_cost());
        }
    }
    let (nmse, params) = problem.best.into_inner();
    Fitted {
        params,
        nmse: if nmse < PENALTY { nmse } else { f64::INFINITY },
        evaluations: problem.count.into_inner(),
    }
}

impl CostFunction for &Problem<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.at(x).0)
    }
}

impl Gradient for &Problem<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.at(x).1)
    }
}

/// [`minimize`] from `start` and from `extra` more starts: each parameter multiplied by a
/// random factor in ±[0.1, 10] (log-uniform, random sign for the second half of the
/// starts). Keeps the best.
pub fn restarts(
    eval: &mut dyn FnMut(&[f64], bool) -> LossGrad,
    start: &[f64],
    iterations: u64,
    extra: usize,
    seed: u64,
) -> Fitted {
    let mut best = minimize(eval, start, iterations);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut evaluations = best.evaluations;
    for r in 0..extra {
        if best.nmse <= EXACT {
            break;
        }
        let s: Vec<f64> = start
            .iter()
            .map(|&v| {
                let base = if v == 0.0 { 1.0 } else { v };
                let factor = 10f64.powf(rng.random_range(-1.0..1.0));
                let sign = if r >= extra / 2 && rng.random_bool(0.5) {
                    -1.0
                } else {
                    1.0
                };
                base * factor * sign
            })
            .collect();
        let f = minimize(eval, &s, iterations);
        evaluations += f.evaluations;
        if f.nmse < best.nmse {
            best = f;
        }
    }
    best.evaluations = evaluations;
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_an_exponential_decay_exactly_and_counts_evaluations() {
        let x: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|x| 2.5 * (-0.7 * x).exp()).collect();
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64;
        let mut eval = |p: &[f64], _: bool| -> LossGrad {
            let (mut c, mut g) = (0.0, vec![0.0; 2]);
            for (xi, yi) in x.iter().zip(&y) {
                let e = (-p[1] * xi).exp();
                let r = p[0] * e - yi;
                c += r * r;
                g[0] += 2.0 * r * e;
                g[1] += 2.0 * r * p[0] * e * (-xi);
            }
            let n = x.len() as f64 * var;
            Some((c / n, g.into_iter().map(|v| v / n).collect()))
        };
        let f = restarts(&mut eval, &[1.0, 1.0], 200, 3, 0);
        assert!(f.nmse < 1e-20, "{f:?}");
        assert!((f.params[0] - 2.5).abs() < 1e-9 && (f.params[1] - 0.7).abs() < 1e-9);
        assert!(f.evaluations > 3);
    }

    #[test]
    fn a_law_that_is_never_finite_has_infinite_error() {
        let mut eval = |_: &[f64], _: bool| -> LossGrad { None };
        let f = minimize(&mut eval, &[1.0], 20);
        assert_eq!(f.nmse, f64::INFINITY);
        assert_eq!(f.params, vec![1.0]);
    }
}
