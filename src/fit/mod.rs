//! The inner level of the search: a law's constants fitted by gradient descent through the
//! simulation, with exact gradients from one dual-number rollout per evaluation.
//!
//! * [`Optimizer::Lbfgs`] (default): argmin's L-BFGS with the Moré–Thuente line search.
//!   Parameters of magnitude 100 or more (a yield stress, a raw modulus) are optimised
//!   relative to their starting value so that one step means the same for every parameter.
//!   A failed evaluation (NaN, an exploding state) inside the line search counts as a large
//!   finite penalty, so the search backs off instead of stopping.
//! * [`Optimizer::Adam`]: the SGA reference exactly (spec/sga.md, section 4.2): 30 Adam
//!   updates (lr 3e-2, torch defaults), global-norm gradient clipping at 1, 31 evaluations,
//!   fitness = best loss of the curve; a NaN stops the curve.
//!
//! Every evaluation is recorded ([`Evaluation`]); a fit never fails: a law that cannot be
//! simulated ends with a [`Verdict`] naming the stage and the message, and the curve so far.

mod adam;
pub mod json;
mod lbfgs;

use crate::law::LawFactory;
use crate::task::Task;
use ansatz_grammar::CheckedProgram;
use ansatz_simulator::{LossGradient, MAX_PARAMS, loss_and_gradient};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Which optimiser fits the constants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// L-BFGS with the Moré–Thuente line search (argmin).
    #[default]
    Lbfgs,
    /// The SGA reference's Adam (lr 3e-2, clipping at 1, 30 updates).
    Adam,
}

impl std::str::FromStr for Optimizer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lbfgs" | "l-bfgs" => Ok(Optimizer::Lbfgs),
            "adam" => Ok(Optimizer::Adam),
            other => Err(format!(
                "unknown optimizer {other:?} (expected lbfgs or adam)"
            )),
        }
    }
}

/// Settings of one fit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitSettings {
    /// The optimiser.
    pub optimizer: Optimizer,
    /// Adam learning rate.
    pub adam_lr: f64,
    /// Adam updates (the curve has one more evaluation).
    pub adam_epochs: usize,
    /// Global gradient-norm clip of Adam.
    pub clip_norm: f64,
    /// L-BFGS iterations.
    pub lbfgs_iterations: u64,
    /// L-BFGS memory.
    pub lbfgs_memory: usize,
    /// Stop once the loss is at or below this.
    pub target_loss: f64,
    /// Most evaluations (rollouts).
    pub max_evaluations: usize,
    /// Wall-clock limit, seconds (`null` in JSON: none).
    #[serde(with = "json::inf_null")]
    pub max_seconds: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            optimizer: Optimizer::Lbfgs,
            adam_lr: 3e-2,
            adam_epochs: 30,
            clip_norm: 1.0,
            lbfgs_iterations: 40,
            lbfgs_memory: 7,
            target_loss: 0.0,
            max_evaluations: 200,
            max_seconds: f64::INFINITY,
        }
    }
}

impl FitSettings {
    /// The settings of a task file (defaults where it is silent).
    pub fn from_task(task: &Task) -> Result<FitSettings, String> {
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
        })
    }
}

/// One loss evaluation (one rollout with gradient).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Parameter values, in the law's declaration order.
    #[serde(with = "json::vec_nan_null")]
    pub params: Vec<f64>,
    /// Position loss (the fitted objective); NaN when the evaluation failed.
    #[serde(with = "json::nan_null")]
    pub loss: f64,
    /// Velocity loss (reported only), when the target has velocities.
    pub velocity: Option<f64>,
    /// Gradient of the position loss (empty when the evaluation failed).
    #[serde(with = "json::vec_nan_null")]
    pub gradient: Vec<f64>,
    /// Why the evaluation failed, if it did (e.g. "non-finite particle state at step 312").
    pub error: Option<String>,
    /// Wall time of the evaluation, seconds.
    pub seconds: f64,
}

impl Evaluation {
    /// True when the loss is a finite number.
    pub fn ok(&self) -> bool {
        self.error.is_none() && self.loss.is_finite()
    }
}

/// Where a candidate failed (see ARCHITECTURE.md, "Flow of one candidate").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// The proposer could not produce a text (a model request failed).
    Propose,
    /// The law's text held no law block.
    Extract,
    /// The law does not parse.
    Parse,
    /// The law does not type-check against the signature.
    Type,
    /// The law is a re-spelling of one evaluated before.
    Duplicate,
    /// The simulation failed (NaN, infinite, exploding).
    Simulate,
    /// The fit could not proceed (too many parameters, the optimiser stopped on an error).
    Fit,
    /// A time or evaluation budget ran out before the first evaluation finished.
    Timeout,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Stage::Propose => "propose",
            Stage::Extract => "extract",
            Stage::Parse => "parse",
            Stage::Type => "type",
            Stage::Duplicate => "duplicate",
            Stage::Simulate => "simulate",
            Stage::Fit => "fit",
            Stage::Timeout => "timeout",
        };
        f.write_str(s)
    }
}

/// How a fit ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Verdict {
    /// At least one evaluation succeeded; `note` says why the optimiser stopped.
    Ok {
        /// Why the optimiser stopped.
        note: String,
    },
    /// No usable loss: the stage and the message.
    Failed {
        /// Where it failed.
        stage: Stage,
        /// What happened.
        message: String,
    },
}

/// The record of one fit: everything a proposer is shown, as data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitRecord {
    /// Task name.
    pub task: String,
    /// The optimiser and its settings.
    pub settings: FitSettings,
    /// The law in canonical form.
    pub law: String,
    /// Parameter names, declaration order.
    pub param_names: Vec<String>,
    /// Starting parameter values.
    pub start_params: Vec<f64>,
    /// Every evaluation, in order (Adam: one per epoch; L-BFGS: every rollout).
    pub evaluations: Vec<Evaluation>,
    /// Index of the best evaluation (lowest finite loss), if any.
    pub best: Option<usize>,
    /// The best loss (the fitness; +∞ when nothing succeeded).
    #[serde(with = "json::inf_null")]
    pub fitness: f64,
    /// Parameters after the optimiser (Adam: the last logged epoch; L-BFGS: the best).
    pub final_params: Vec<f64>,
    /// How it ended.
    pub verdict: Verdict,
    /// Wall time of the whole fit, seconds.
    pub seconds: f64,
}

impl FitRecord {
    /// The position-loss curve.
    pub fn loss_curve(&self) -> Vec<f64> {
        self.evaluations.iter().map(|e| e.loss).collect()
    }

    /// The parameters of the best evaluation (the start when nothing succeeded).
    pub fn best_params(&self) -> &[f64] {
        match self.best {
            Some(i) => &self.evaluations[i].params,
            None => &self.start_params,
        }
    }

    /// True when the fit produced a finite fitness.
    pub fn is_ok(&self) -> bool {
        matches!(self.verdict, Verdict::Ok { .. })
    }
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
    let started = Instant::now();
    let compiled = law.compiled();
    let param_names = compiled.param_names().to_vec();
    let start_params = start.map_or_else(|| compiled.defaults().to_vec(), <[f64]>::to_vec);
    let mut record = FitRecord {
        task: task.name().to_string(),
        settings: settings.clone(),
        law: law.program().to_string(),
        param_names,
        start_params: start_params.clone(),
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
    let mut objective = Objective {
        task,
        factory: LawFactory::new(compiled.clone(), task.kind),
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
                stage: Stage::Simulate,
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
