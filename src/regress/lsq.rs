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
use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

/// A loss with its gradient, or `None` where the law is not finite.
pub type LossGrad = Option<(f64, Vec<f64>)>;

/// The cost of a point where the law is not finite (relative losses: 1 is the mean).
const PENALTY: f64 = 1e6;

/// Below this normalised error the fit has nothing left to gain (floating-point noise of
/// an exact law is around 1e-30).
pub const EXACT: f64 = 1e-28;

/// Evaluations allowed per L-BFGS iteration by default (the Moré–Thuente line search
/// needs a few per iteration; this is generous).
pub const EVALUATIONS_PER_ITERATION: usize = 20;

/// Default wall-clock bound of one call of [`minimize`] or [`restarts`], seconds.
pub const MAX_SECONDS: f64 = 300.0;

/// The bounds of a fit, enforced at every evaluation, inside the line search too: once one
/// is reached the cost function returns an error, which ends argmin's executor.
#[derive(Clone, Copy, Debug)]
pub struct Limits<'s> {
    /// Most loss evaluations per start (cached points are not counted).
    pub evaluations: usize,
    /// No evaluation is started after this instant.
    pub deadline: Instant,
    /// Set (by the loss function or anyone else) to stop the fit at the next evaluation.
    pub stop: Option<&'s Cell<bool>>,
}

impl Limits<'_> {
    /// The default bounds for `iterations` L-BFGS iterations: [`EVALUATIONS_PER_ITERATION`]
    /// evaluations an iteration, [`MAX_SECONDS`] from now, no stop flag.
    pub fn for_iterations(iterations: u64) -> Self {
        let iterations = usize::try_from(iterations).unwrap_or(usize::MAX);
        Limits {
            evaluations: iterations
                .saturating_mul(EVALUATIONS_PER_ITERATION)
                .saturating_add(1),
            deadline: deadline_in(MAX_SECONDS),
            stop: None,
        }
    }

    /// [`Limits::for_iterations`], with no evaluation started after `deadline` either.
    pub fn until(iterations: u64, deadline: Instant) -> Self {
        let limits = Limits::for_iterations(iterations);
        Limits {
            deadline: deadline.min(limits.deadline),
            ..limits
        }
    }

    fn stopped(&self) -> bool {
        self.stop.is_some_and(Cell::get)
    }

    fn out_of_time(&self) -> bool {
        Instant::now() >= self.deadline
    }
}

/// The instant `seconds` from now (capped at [`MAX_SECONDS`]; NaN or negative: now).
pub fn deadline_in(seconds: f64) -> Instant {
    let s = if seconds.is_nan() {
        0.0
    } else {
        seconds.clamp(0.0, MAX_SECONDS)
    };
    Instant::now() + Duration::from_secs_f64(s)
}

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

struct Problem<'f, 's> {
    eval: RefCell<LossFn<'f>>,
    last: RefCell<Cached>,
    best: RefCell<(f64, Vec<f64>)>,
    count: RefCell<usize>,
    limits: Limits<'s>,
}

impl Problem<'_, '_> {
    /// The loss and gradient at `x`, or an error once a bound of the fit is reached (the
    /// error ends the line search and the solver; a constant penalty would not).
    fn at(&self, x: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        if let Some((p, c, g)) = &*self.last.borrow()
            && p.as_slice() == x
        {
            return Ok((*c, g.clone()));
        }
        if self.limits.stopped() {
            return Err(Error::msg("the fit was stopped"));
        }
        if *self.count.borrow() >= self.limits.evaluations {
            return Err(Error::msg("the evaluation budget of the fit is spent"));
        }
        if self.limits.out_of_time() {
            return Err(Error::msg("the wall-clock budget of the fit is spent"));
        }
        *self.count.borrow_mut() += 1;
        let r = (self.eval.borrow_mut())(x, true);
        let (c, g) = match r {
            Some((c, g)) if c.is_finite() && g.iter().all(|v| v.is_finite()) => (c, g),
            // Refused because the caller stopped (its own budget, its observer).
            None if self.limits.stopped() => return Err(Error::msg("the fit was stopped")),
            _ => (PENALTY, vec![0.0; x.len()]),
        };
        {
            let mut best = self.best.borrow_mut();
            if c < best.0 {
                *best = (c, x.to_vec());
            }
        }
        *self.last.borrow_mut() = Some((x.to_vec(), c, g.clone()));
        Ok((c, g))
    }
}

/// L-BFGS from `start` for at most `iterations` iterations, within the default
/// [`Limits::for_iterations`]. `eval(θ, true)` gives the loss and its gradient.
pub fn minimize(
    eval: &mut dyn FnMut(&[f64], bool) -> LossGrad,
    start: &[f64],
    iterations: u64,
) -> Fitted {
    minimize_within(eval, start, iterations, &Limits::for_iterations(iterations))
}

/// [`minimize`] within `limits`: at most `limits.evaluations` calls of `eval`, none
/// started after the deadline or once the stop flag is set.
pub fn minimize_within(
    eval: &mut dyn FnMut(&[f64], bool) -> LossGrad,
    start: &[f64],
    iterations: u64,
    limits: &Limits<'_>,
) -> Fitted {
    if start.is_empty() {
        if limits.evaluations == 0 || limits.stopped() || limits.out_of_time() {
            return Fitted {
                params: Vec::new(),
                nmse: f64::INFINITY,
                evaluations: 0,
            };
        }
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
        limits: *limits,
    };
    if let Ok((c0, _)) = problem.at(start)
        && c0 < PENALTY
        && c0 > EXACT
    {
        let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
            .with_tolerance_grad(0.0)
            .and_then(|s| s.with_tolerance_cost(0.0));
        if let Ok(solver) = solver {
            let problem_ref = &problem;
            // An error here is a spent budget or a stop: the best point so far stands.
            let _ = Executor::new(problem_ref, solver)
                .configure(|s| {
                    s.param(start.to_vec())
                        .max_iters(iterations)
                        .target_cost(EXACT)
                })
                .run();
        }
    }
    let (nmse, params) = problem.best.into_inner();
    Fitted {
        params,
        nmse: if nmse < PENALTY { nmse } else { f64::INFINITY },
        evaluations: problem.count.into_inner(),
    }
}

impl CostFunction for &Problem<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, x: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.at(x)?.0)
    }
}

impl Gradient for &Problem<'_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, x: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.at(x)?.1)
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
    restarts_within(
        eval,
        start,
        iterations,
        extra,
        seed,
        &Limits::for_iterations(iterations),
    )
}

/// [`restarts`] within `limits`: each start gets at most `limits.evaluations`
/// evaluations; the deadline and the stop flag are shared by all of them.
pub fn restarts_within(
    eval: &mut dyn FnMut(&[f64], bool) -> LossGrad,
    start: &[f64],
    iterations: u64,
    extra: usize,
    seed: u64,
    limits: &Limits<'_>,
) -> Fitted {
    let mut best = minimize_within(eval, start, iterations, limits);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut evaluations = best.evaluations;
    for r in 0..extra {
        if best.nmse <= EXACT || limits.stopped() || limits.out_of_time() {
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
        let f = minimize_within(eval, &s, iterations, limits);
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

    /// Runs `f` on its own thread; fails (instead of hanging) past `seconds`.
    fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(seconds))
            .expect("the fit did not finish within its bounds")
    }

    /// The NMSE of `law(row, θ)` on `rows` against `y`, with a central-difference
    /// gradient; `None` where it is not finite (as [`super::super::problem`] does).
    fn nmse_of(
        law: impl Fn(&[f64], &[f64]) -> f64,
        rows: &[Vec<f64>],
        y: &[f64],
    ) -> impl Fn(&[f64]) -> LossGrad {
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / y.len() as f64;
        let (rows, y) = (rows.to_vec(), y.to_vec());
        let cost = move |p: &[f64]| -> f64 {
            rows.iter()
                .zip(&y)
                .map(|(r, yi)| (law(r, p) - yi).powi(2))
                .sum::<f64>()
                / (y.len() as f64 * var)
        };
        move |p: &[f64]| -> LossGrad {
            let c = cost(p);
            let mut g = vec![0.0; p.len()];
            for (k, gk) in g.iter_mut().enumerate() {
                let h = 1e-7 * p[k].abs().max(1e-3);
                let (mut a, mut b) = (p.to_vec(), p.to_vec());
                a[k] += h;
                b[k] -= h;
                *gk = (cost(&a) - cost(&b)) / (2.0 * h);
            }
            (c.is_finite() && g.iter().all(|v| v.is_finite())).then_some((c, g))
        }
    }

    /// The fit of `ansatz regress` (problem.rs): the loss refuses (`None`) once `cap`
    /// evaluations per start are spent, setting the stop flag. Returns the evaluations
    /// made, the cap on them and the fit.
    fn capped_fit(
        loss: impl Fn(&[f64]) -> LossGrad,
        start: &[f64],
        cap: usize,
        extra: usize,
        seconds: f64,
    ) -> (usize, usize, Fitted) {
        let stopped = Cell::new(false);
        let calls = Cell::new(0usize);
        let total = cap * (extra + 1);
        let mut eval = |p: &[f64], _: bool| -> LossGrad {
            if stopped.get() || calls.get() >= total {
                stopped.set(true);
                return None;
            }
            calls.set(calls.get() + 1);
            loss(p)
        };
        let limits = Limits {
            evaluations: cap,
            deadline: deadline_in(seconds),
            stop: Some(&stopped),
        };
        let f = restarts_within(&mut eval, start, cap as u64, extra, 0, &limits);
        (calls.get(), total, f)
    }

    /// Rows (strain, temp, D) and the damage-and-temperature law of the issue.
    fn damage_table() -> (Vec<Vec<f64>>, Vec<f64>) {
        let mut rows = Vec::new();
        let mut y = Vec::new();
        for i in 0..40 {
            let strain = 0.3 * i as f64 / 39.0;
            let temp = 250.0 + 2.5 * i as f64;
            let d = 0.1 + 0.02 * (i % 7) as f64;
            let r = 1.0 - (-strain / 0.02).exp();
            let noise = 0.05 * (7.3 * i as f64).sin();
            y.push(r * (3.0 - 0.01 * temp + 2e-5 * temp * temp) * (1.0 - d * strain) + noise);
            rows.push(vec![strain, temp, d]);
        }
        (rows, y)
    }

    fn damage_law(r: &[f64], p: &[f64]) -> f64 {
        let (strain, temp, d) = (r[0], r[1], r[2]);
        let rr = 1.0 - (-strain / (p[0].abs() + 1e-4)).exp();
        rr * (p[1] + p[2] * temp + p[3] * temp * temp) * (1.0 - d * strain)
    }

    #[test]
    fn the_damage_law_of_the_issue_ends_within_its_evaluation_cap() {
        // It used to hang in the Moré–Thuente line search once the cap was reached.
        for cap in [3, 5, 8, 13, 21, 34, 55, 89, 200] {
            let (calls, total, f) = within(60, move || {
                let (rows, y) = damage_table();
                let loss = nmse_of(damage_law, &rows, &y);
                capped_fit(loss, &[0.01, 1.0, 0.0, 0.0], cap, 3, 30.0)
            });
            assert!(calls <= total, "{calls} > {total}");
            assert!(f.evaluations <= total, "{f:?}");
            assert!(f.nmse.is_finite(), "{f:?}");
        }
    }

    #[test]
    fn a_refusing_loss_without_a_stop_flag_ends_within_the_default_bound() {
        // The loss refuses after 7 calls but nobody tells the fit: the constant penalty
        // with zero gradient must end the line search, not loop on it.
        let f = within(60, || {
            let (rows, y) = damage_table();
            let loss = nmse_of(damage_law, &rows, &y);
            let mut calls = 0;
            let mut eval = |p: &[f64], _: bool| -> LossGrad {
                calls += 1;
                if calls > 7 { None } else { loss(p) }
            };
            minimize(&mut eval, &[0.01, 1.0, 0.0, 0.0], 10)
        });
        assert!(f.evaluations <= 10 * EVALUATIONS_PER_ITERATION + 1, "{f:?}");
        assert!(f.nmse.is_finite(), "{f:?}");
    }

    #[test]
    fn a_law_constant_in_one_parameter_ends_within_its_evaluation_cap() {
        for cap in [5, 20, 100] {
            let (calls, total, f) = within(60, move || {
                let (rows, y) = damage_table();
                let law = |r: &[f64], p: &[f64]| p[0] * r[0] + p[1] * r[1] + 0.0 * p[2];
                capped_fit(nmse_of(law, &rows, &y), &[1.0, 1.0, 1.0], cap, 3, 30.0)
            });
            assert!(
                calls <= total && f.evaluations <= total,
                "{calls} {total} {f:?}"
            );
            assert!(f.nmse.is_finite(), "{f:?}");
        }
    }

    #[test]
    fn a_law_that_is_nan_in_a_region_ends_within_its_evaluation_cap() {
        for cap in [5, 20, 100] {
            let (calls, total, f) = within(60, move || {
                let (rows, y) = damage_table();
                // NaN for p0 < 0 or p1 * temp < 0, and the best p0 is near 0.
                let law = |r: &[f64], p: &[f64]| p[0].sqrt() * r[0] + (p[1] * r[1]).ln();
                capped_fit(nmse_of(law, &rows, &y), &[0.5, 1.0], cap, 3, 30.0)
            });
            assert!(
                calls <= total && f.evaluations <= total,
                "{calls} {total} {f:?}"
            );
        }
    }

    #[test]
    fn a_fit_ends_at_its_deadline_and_at_its_stop_flag() {
        let (calls, f, seconds) = within(60, || {
            let (rows, y) = damage_table();
            let loss = nmse_of(damage_law, &rows, &y);
            let calls = Cell::new(0usize);
            let mut eval = |p: &[f64], _: bool| -> LossGrad {
                calls.set(calls.get() + 1);
                std::thread::sleep(std::time::Duration::from_millis(5));
                loss(p)
            };
            let limits = Limits {
                evaluations: usize::MAX,
                deadline: deadline_in(0.2),
                stop: None,
            };
            let t = Instant::now();
            let f = restarts_within(&mut eval, &[0.01, 1.0, 0.0, 0.0], u64::MAX, 3, 0, &limits);
            (calls.get(), f, t.elapsed().as_secs_f64())
        });
        assert!(
            seconds < 5.0 && calls < 1000,
            "{seconds} s, {calls} calls, {f:?}"
        );
        // A stop flag raised by the loss ends the fit at the next evaluation.
        let f = within(60, || {
            let (rows, y) = damage_table();
            let loss = nmse_of(damage_law, &rows, &y);
            let stop = Cell::new(false);
            let calls = Cell::new(0usize);
            let mut eval = |p: &[f64], _: bool| -> LossGrad {
                calls.set(calls.get() + 1);
                stop.set(calls.get() >= 4);
                loss(p)
            };
            let limits = Limits {
                evaluations: usize::MAX,
                deadline: deadline_in(30.0),
                stop: Some(&stop),
            };
            restarts_within(&mut eval, &[0.01, 1.0, 0.0, 0.0], u64::MAX, 3, 0, &limits)
        });
        assert_eq!(f.evaluations, 4, "{f:?}");
    }

    #[test]
    fn a_law_that_is_never_finite_has_infinite_error() {
        let mut eval = |_: &[f64], _: bool| -> LossGrad { None };
        let f = minimize(&mut eval, &[1.0], 20);
        assert_eq!(f.nmse, f64::INFINITY);
        assert_eq!(f.params, vec![1.0]);
    }
}
