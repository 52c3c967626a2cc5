//! The inner level of the search: a law's constants fitted by gradient descent through the
//! simulation, with exact gradients from one dual-number rollout per evaluation.
//!
//! * [`Optimizer::Lbfgs`] (default): argmin's L-BFGS with the Moré–Thuente line search.
//!   Parameters of magnitude 100 or more (a yield stress, a raw modulus) are optimised
//!   relative to their starting value so that one step means the same for every parameter.
//!   A failed evaluation (NaN, an exploding state) inside the line search counts as a large
//!   finite penalty, so the search backs off instead of stopping.
//! * [`Optimizer::Adam`]: the SGA reference exactly (the SGA paper's inner loop): 30 Adam
//!   updates (lr 3e-2, torch defaults), global-norm gradient clipping at 1, 31 evaluations,
//!   fitness = best loss of the curve; a NaN stops the curve.
//!
//! Every evaluation is recorded ([`Evaluation`]); a fit never fails: a law that cannot be
//! simulated ends with a [`Verdict`] naming the stage and the message, and the curve so far.

mod adam;
mod lbfgs;
pub mod start;

use super::material::LawFactory;
use super::task::Task;
pub use crate::law::record::{
    Evaluation, FitRecord, FitSettings, Optimizer, PhysicsPolicy, RefineStart,
};
use ansatz_engine::{Stage, Verdict};
use ansatz_grammar::CheckedProgram;
use ansatz_simulator::{LossGradient, MAX_PARAMS, loss_and_gradient};
use std::time::Instant;

/// The fit settings of a task file (defaults where it is silent).
pub fn settings_of(task: &Task) -> Result<FitSettings, String> {
    let spec = &task.spec.fit;
    let d = FitSettings::default();
    Ok(FitSettings {
        optimizer: match &spec.optimizer {
            Some(name) => name.parse()?,
            None => d.optimizer,
        },
        adam_lr: spec.adam_lr.unwrap_or(d.adam_lr),
        adam_epochs: spec.adam_epochs.unwrap_or(d.adam_epochs),
        clip_norm: spec.clip_norm.unwrap_or(d.clip_norm),
        lbfgs_iterations: spec.lbfgs_iterations.unwrap_or(d.lbfgs_iterations),
        lbfgs_memory: spec.lbfgs_memory.unwrap_or(d.lbfgs_memory),
        target_loss: spec.target_loss.unwrap_or(d.target_loss),
        max_evaluations: spec.max_evaluations.unwrap_or(d.max_evaluations),
        max_seconds: spec.max_seconds.unwrap_or(d.max_seconds),
        feedback: d.feedback,
        physics: spec.physics.unwrap_or(d.physics),
        library: d.library,
        start_grid: spec.start_grid.unwrap_or(d.start_grid),
    })
}

/// Evaluates losses of one law on one task, counting and timing them, honouring the
/// budget and reporting each evaluation to an observer.
pub(crate) struct Objective<'a> {
    task: &'a Task,
    factory: LawFactory,
    settings: &'a FitSettings,
    started: Instant,
    pub(crate) evaluations: Vec<Evaluation>,
    observer: &'a mut dyn FnMut(&Evaluation) -> bool,
    /// Set when the observer asked to stop or the budget ran out.
    pub(crate) stopped: Option<String>,
}

impl Objective<'_> {
    /// True while more evaluations are allowed.
    pub(crate) fn may_continue(&mut self) -> bool {
        if self.stopped.is_some() {
            return false;
        }
        if self.evaluations.len() >= self.settings.max_evaluations {
            self.stopped = Some(format!(
                "evaluation budget of {} reached",
                self.settings.max_evaluations
            ));
        } else if self.started.elapsed().as_secs_f64() >= self.settings.max_seconds {
            self.stopped = Some(format!(
                "time budget of {} s reached",
                self.settings.max_seconds
            ));
        }
        self.stopped.is_none()
    }

    /// One rollout with gradient at `params`, recorded. Non-finite parameters are not
    /// simulated: the evaluation fails at once.
    pub(crate) fn evaluate(&mut self, params: &[f64]) -> Evaluation {
        let t = Instant::now();
        if params.iter().any(|p| !p.is_finite()) {
            let eval = Evaluation {
                params: params.to_vec(),
                loss: f64::NAN,
                velocity: None,
                gradient: Vec::new(),
                error: Some("the optimiser produced a non-finite parameter value".into()),
                seconds: 0.0,
            };
            self.evaluations.push(eval.clone());
            return eval;
        }
        let result = loss_and_gradient(
            &self.task.scene,
            &self.factory,
            params,
            &self.task.target,
            &self.task.loss,
        );
        let seconds = t.elapsed().as_secs_f64();
        let eval = match result {
            Ok(LossGradient { loss, gradient }) if gradient.iter().all(|g| g.is_finite()) => {
                Evaluation {
                    params: params.to_vec(),
                    loss: loss.position,
                    velocity: loss.velocity,
                    gradient,
                    error: None,
                    seconds,
                }
            }
            Ok(_) => Evaluation {
                params: params.to_vec(),
                loss: f64::NAN,
                velocity: None,
                gradient: Vec::new(),
                error: Some("the gradient is not finite".into()),
                seconds,
            },
            Err(e) => Evaluation {
                params: params.to_vec(),
                loss: f64::NAN,
                velocity: None,
                gradient: Vec::new(),
                error: Some(e.to_string()),
                seconds,
            },
        };
        if !(self.observer)(&eval) && self.stopped.is_none() {
            self.stopped = Some("stopped on request".into());
        }
        self.evaluations.push(eval.clone());
        eval
    }
}

/// Fits the parameters of `law` on `task`, starting from `start` (the law's defaults when
/// `None`). `observer` sees every evaluation as it finishes and may return `false` to stop
/// (the record then holds the curve so far). Never fails: problems end up in the verdict.
pub fn fit(
    task: &Task,
    law: &CheckedProgram,
    start: Option<&[f64]>,
    settings: &FitSettings,
    observer: &mut dyn FnMut(&Evaluation) -> bool,
) -> FitRecord {
    fit_with(task, law, start, settings, observer, &mut || true)
}

/// [`fit`], with `go_on` asked before each short-horizon rollout of the start (the grid
/// and the Gauss–Newton steps): when it says `false` the fit ends there, before its first
/// evaluation, with a [`Stage::Timeout`] verdict.
pub fn fit_with(
    task: &Task,
    law: &CheckedProgram,
    start: Option<&[f64]>,
    settings: &FitSettings,
    observer: &mut dyn FnMut(&Evaluation) -> bool,
    go_on: &mut dyn FnMut() -> bool,
) -> FitRecord {
    let started = Instant::now();
    let compiled = law.compiled();
    let param_names = compiled.param_names().to_vec();
    let mut start_params = start.map_or_else(|| compiled.defaults().to_vec(), <[f64]>::to_vec);
    let mut record = FitRecord {
        task: task.name().to_string(),
        settings: settings.clone(),
        law: law.program().to_string(),
        param_names,
        start_params: start_params.clone(),
        grid: None,
        refine: None,
        evaluations: Vec::new(),
        best: None,
        fitness: f64::INFINITY,
        final_params: start_params.clone(),
        verdict: Verdict::Failed {
            stage: Stage::Fit,
            message: String::new(),
        },
        seconds: 0.0,
    };
    if start_params.len() != compiled.defaults().len() {
        record.verdict = Verdict::Failed {
            stage: Stage::Fit,
            message: format!(
                "{} starting values for {} parameters",
                start_params.len(),
                compiled.defaults().len()
            ),
        };
        return record;
    }
    if start_params.len() > MAX_PARAMS {
        record.verdict = Verdict::Failed {
            stage: Stage::Fit,
            message: format!(
                "the law has {} parameters; at most {MAX_PARAMS} can be fitted",
                start_params.len()
            ),
        };
        return record;
    }
    if start_params.iter().any(|p| !p.is_finite()) {
        record.verdict = Verdict::Failed {
            stage: Stage::Fit,
            message: "a starting parameter value is not finite".into(),
        };
        return record;
    }
    let factory = LawFactory::new(compiled.clone(), task.kind);
    if settings.start_grid && settings.optimizer == Optimizer::Lbfgs && !start_params.is_empty() {
        let mut in_time = || started.elapsed().as_secs_f64() < settings.max_seconds && go_on();
        if let Some((moved, grid)) = start::grid(task, &factory, law, &start_params, &mut in_time)
        {
            start_params = moved;
            record.start_params = start_params.clone();
            record.final_params = start_params.clone();
            record.grid = Some(grid);
        }
        // Then a few Gauss–Newton steps on the same short horizon: the fit starts near the
        // short-horizon optimum instead of a grid point.
        let before = record.grid.as_ref().map_or_else(
            || start::short_loss(task, &factory, &start_params),
            |g| g.loss_after,
        );
        if before.is_finite() && in_time() {
            let r = start::refine(
                task,
                &factory,
                law,
                &start_params,
                before,
                start::REFINE_STEPS,
                &mut in_time,
            );
            if r.loss < before {
                start_params = r.params;
                record.start_params = start_params.clone();
                record.final_params = start_params.clone();
            }
            record.refine = Some(RefineStart {
                gauss_newton: r.gauss_newton,
                trials: r.trials,
                loss_before: before,
                loss_after: r.loss.min(before),
            });
        }
    }
    if !go_on() {
        record.verdict = Verdict::Failed {
            stage: Stage::Timeout,
            message: "stopped before the fit's first evaluation".into(),
        };
        record.seconds = started.elapsed().as_secs_f64();
        return record;
    }
    let mut objective = Objective {
        task,
        factory,
        settings,
        started,
        evaluations: Vec::new(),
        observer,
        stopped: None,
    };
    let (final_params, note) = match (settings.optimizer, start_params.is_empty()) {
        (_, true) => {
            objective.evaluate(&start_params);
            (
                start_params.clone(),
                "no parameters: one evaluation".to_string(),
            )
        }
        (Optimizer::Adam, false) => adam::run(&mut objective, &start_params),
        (Optimizer::Lbfgs, false) => lbfgs::run(&mut objective, &start_params),
    };
    let note = match &record.grid {
        Some(g) if g.log10_factors.iter().any(|&l| l != 0.0) => format!(
            "{note}; started with the moduli moved by 10^{:?} (the best of {} short-horizon \
             losses over {} segments: {:.3e}, against {:.3e} at the law's values)",
            g.log10_factors, g.points, g.segments, g.loss_after, g.loss_before
        ),
        _ => note,
    };
    let note = match &record.refine {
        Some(r) if r.loss_after < r.loss_before => format!(
            "{note}; {} Gauss–Newton steps on the short horizon took its loss from {:.3e} to \
             {:.3e} before the fit",
            r.gauss_newton, r.loss_before, r.loss_after
        ),
        _ => note,
    };
    record.evaluations = objective.evaluations;
    record.final_params = final_params;
    record.best = record
        .evaluations
        .iter()
        .enumerate()
        .filter(|(_, e)| e.ok())
        .min_by(|a, b| a.1.loss.total_cmp(&b.1.loss))
        .map(|(i, _)| i);
    record.fitness = record
        .best
        .map_or(f64::INFINITY, |i| record.evaluations[i].loss);
    record.verdict = match record.best {
        Some(_) => Verdict::Ok { note },
        None => match record.evaluations.first() {
            Some(first) => Verdict::Failed {
                stage: Stage::Evaluate,
                message: first
                    .error
                    .clone()
                    .unwrap_or_else(|| "the loss is not finite".into()),
            },
            None => Verdict::Failed {
                stage: Stage::Timeout,
                message: note,
            },
        },
    };
    record.seconds = started.elapsed().as_secs_f64();
    record
}
