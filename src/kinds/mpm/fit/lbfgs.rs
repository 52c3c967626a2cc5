//! L-BFGS with the Moré–Thuente line search (argmin) over scaled parameters
//! `θ = θ₀ + s ⊙ z`, `sᵢ = |θ₀ᵢ|` when `|θ₀ᵢ| ≥ 100`, else 1 (a step of one unit means the
//! same for a yield stress of 3e4 and for a log-modulus of 13). One rollout gives the loss
//! and its gradient; argmin's separate `cost` and `gradient` calls at the same point share it.

use super::Objective;
use argmin::core::{CostFunction, Error, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use std::cell::RefCell;

/// A failed evaluation inside the line search costs this multiple of the first loss (at
/// least this much), with a zero gradient: the line search backs off.
const PENALTY: f64 = 1e3;

/// The fit stops after this many evaluations without a new best loss.
const STALL: usize = 8;

/// The fit stops once the loss is this small relative to the starting loss (floating-point
/// noise: a law that can reproduce the target reaches about 1e-26 of the start).
const RELATIVE_FLOOR: f64 = 1e-18;

/// The last point evaluated (scaled coordinates), its cost and its scaled gradient.
type Cached = Option<(Vec<f64>, f64, Vec<f64>)>;

struct Problem<'o, 'a> {
    objective: RefCell<&'o mut Objective<'a>>,
    start: Vec<f64>,
    scale: Vec<f64>,
    penalty: f64,
    last: RefCell<Cached>,
    /// Best loss so far and the number of evaluations since it last improved.
    progress: RefCell<(f64, usize)>,
}

impl Problem<'_, '_> {
    fn theta(&self, z: &[f64]) -> Vec<f64> {
        (0..z.len())
            .map(|i| self.start[i] + self.scale[i] * z[i])
            .collect()
    }

    fn eval(&self, z: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        if let Some((zc, c, g)) = self.last.borrow().as_ref()
            && zc.iter().zip(z).all(|(a, b)| a.to_bits() == b.to_bits())
        {
            return Ok((*c, g.clone()));
        }
        if z.iter().any(|x| !x.is_finite()) {
            // Moré–Thuente extrapolates to NaN once the gradient vanishes: converged.
            return Err(Error::msg(
                "the line search left the finite numbers (converged)",
            ));
        }
        let mut objective = self.objective.borrow_mut();
        if !objective.may_continue() {
            return Err(Error::msg(objective.stopped.clone().unwrap_or_default()));
        }
        let e = objective.evaluate(&self.theta(z));
        if objective.stopped.is_some() {
            return Err(Error::msg(objective.stopped.clone().unwrap_or_default()));
        }
        {
            let mut progress = self.progress.borrow_mut();
            if e.ok() && e.loss < progress.0 * (1.0 - 1e-9) {
                *progress = (e.loss, 0);
            } else {
                progress.1 += 1;
                if progress.1 >= STALL {
                    objective.stopped =
                        Some(format!("converged: no progress in {STALL} evaluations"));
                    return Err(Error::msg("converged"));
                }
            }
        }
        let (c, g) = if e.ok() {
            let g = e
                .gradient
                .iter()
                .zip(&self.scale)
                .map(|(g, s)| g * s)
                .collect();
            (e.loss, g)
        } else {
            (self.penalty, vec![0.0; z.len()])
        };
        *self.last.borrow_mut() = Some((z.to_vec(), c, g.clone()));
        Ok((c, g))
    }
}

impl CostFunction for Problem<'_, '_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, z: &Vec<f64>) -> Result<f64, Error> {
        self.eval(z).map(|(c, _)| c)
    }
}

impl Gradient for Problem<'_, '_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, z: &Vec<f64>) -> Result<Vec<f64>, Error> {
        self.eval(z).map(|(_, g)| g)
    }
}

/// Runs L-BFGS from `start`; returns the best parameters found and why it stopped.
pub(super) fn run(objective: &mut Objective<'_>, start: &[f64]) -> (Vec<f64>, String) {
    let settings = objective.settings;
    let n = start.len();
    let scale: Vec<f64> = start
        .iter()
        .map(|v| if v.abs() >= 100.0 { v.abs() } else { 1.0 })
        .collect();
    // The first evaluation decides the penalty, and a failed start ends the fit.
    if !objective.may_continue() {
        return (
            start.to_vec(),
            objective.stopped.clone().unwrap_or_default(),
        );
    }
    let first = objective.evaluate(start);
    if !first.ok() {
        return (
            start.to_vec(),
            first.error.unwrap_or_else(|| "NaN loss".into()),
        );
    }
    if first.loss <= settings.target_loss {
        return (start.to_vec(), "target loss reached at the start".into());
    }
    let scaled_gradient: Vec<f64> = first
        .gradient
        .iter()
        .zip(&scale)
        .map(|(g, s)| g * s)
        .collect();
    let problem = Problem {
        objective: RefCell::new(&mut *objective),
        start: start.to_vec(),
        scale,
        penalty: PENALTY * first.loss.max(1.0),
        last: RefCell::new(Some((vec![0.0; n], first.loss, scaled_gradient))),
        progress: RefCell::new((first.loss, 0)),
    };
    let target = settings.target_loss.max(first.loss * RELATIVE_FLOOR);
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), settings.lbfgs_memory.max(1))
        .with_tolerance_grad(0.0)
        .and_then(|s| s.with_tolerance_cost(0.0));
    let note = match solver {
        Err(e) => format!("L-BFGS setup failed: {e}"),
        Ok(solver) => {
            let result = Executor::new(problem, solver)
                .configure(|s| {
                    s.param(vec![0.0; n])
                        .max_iters(settings.lbfgs_iterations)
                        .target_cost(target)
                })
                .run();
            match result {
                Ok(r) => match r.state().get_termination_reason() {
                    Some(reason) => format!("L-BFGS: {reason}"),
                    None => "L-BFGS stopped".into(),
                },
                Err(e) => format!("L-BFGS stopped: {e}"),
            }
        }
    };
    let note = match &objective.stopped {
        Some(why) => format!("{why} ({note})"),
        None => note,
    };
    let best = objective
        .evaluations
        .iter()
        .filter(|e| e.ok())
        .min_by(|a, b| a.loss.total_cmp(&b.loss))
        .map_or_else(|| start.to_vec(), |e| e.params.clone());
    (best, note)
}
