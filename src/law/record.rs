//! What a law's fit records, whatever fits it (a simulation, a table): the settings of the
//! inner optimiser, every evaluation, and the fit's record as the ledger keeps it.

use ansatz_engine::Verdict;
use ansatz_engine::json;
use ansatz_engine::prompt::FeedbackFormat;
use serde::{Deserialize, Serialize};

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

/// What happens to a law that fails a physics check at screening (see
/// [`crate::law::physics`]): it is fitted with a warning in its feedback, or rejected
/// before any rollout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhysicsPolicy {
    /// Fit it anyway; the failed checks head its feedback (the default: linear
    /// elasticity, a useful approximation, is not frame-indifferent).
    #[default]
    Warn,
    /// Reject it at the physics stage, without a rollout.
    Reject,
}

impl std::str::FromStr for PhysicsPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "warn" => Ok(PhysicsPolicy::Warn),
            "reject" => Ok(PhysicsPolicy::Reject),
            other => Err(format!(
                "unknown physics setting {other:?} (expected warn or reject)"
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
    /// Which feedback text a fit gives (`sga`: the paper's).
    #[serde(default)]
    pub feedback: FeedbackFormat,
    /// What happens to a law that fails a physics check (simulation tasks only).
    #[serde(default)]
    pub physics: PhysicsPolicy,
    /// Whether the offline proposer may seed from its library of classical forms (read by
    /// the proposer, not the fit; `--no-library` turns it off). Written only when off.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub library: bool,
    /// Whether an L-BFGS fit first moves the law's moduli over a log grid scored on a short
    /// horizon and starts from the best point (`--no-start-grid` turns it off). Written
    /// only when off.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub start_grid: bool,
}

fn default_true() -> bool {
    true
}

fn is_true(value: &bool) -> bool {
    *value
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
            feedback: FeedbackFormat::default(),
            physics: PhysicsPolicy::Warn,
            library: true,
            start_grid: true,
        }
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
    /// The grid of moduli that chose `start_params` from the law's own values, when one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<GridStart>,
    /// The Levenberg–Marquardt steps on the short horizon that followed the grid, when
    /// they ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refine: Option<RefineStart>,
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

/// How a parameter moves on the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Modulus {
    /// Used as `exp(p)`: moved by `+ log s`.
    Log,
    /// A magnitude of 100 or more: multiplied by `s`.
    Raw,
}

/// What the grid did (kept in the fit record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GridStart {
    /// The parameters moved, by index, and how.
    pub moduli: Vec<(usize, Modulus)>,
    /// Short-horizon losses computed.
    pub points: usize,
    /// Segments per short-horizon loss.
    pub segments: usize,
    /// The short-horizon loss at the law's own values (`null`: not finite).
    #[serde(with = "json::inf_null")]
    pub loss_before: f64,
    /// The best short-horizon loss of the grid.
    #[serde(with = "json::inf_null")]
    pub loss_after: f64,
    /// The factor of each moved modulus at the best point (log10), in `moduli`'s order.
    pub log10_factors: Vec<f64>,
}

/// What the short-horizon Levenberg–Marquardt steps before a fit did (kept in the record).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RefineStart {
    /// Dual rollouts (gradient and Gauss–Newton curvature) on the short horizon.
    pub gauss_newton: usize,
    /// Plain short-horizon rollouts (trial points).
    pub trials: usize,
    /// The short-horizon loss before the steps.
    #[serde(with = "json::inf_null")]
    pub loss_before: f64,
    /// The short-horizon loss after them.
    #[serde(with = "json::inf_null")]
    pub loss_after: f64,
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

#[cfg(test)]
mod tests {
    use super::FitSettings;

    #[test]
    fn the_library_setting_is_written_only_when_off() {
        let on = FitSettings::default();
        let text = serde_json::to_string(&on).expect("serialises");
        assert!(!text.contains("library"), "{text}");
        let back: FitSettings = serde_json::from_str(&text).expect("parses");
        assert!(
            back.library,
            "runs recorded before the switch keep the library"
        );
        let off = FitSettings {
            library: false,
            ..on
        };
        let text = serde_json::to_string(&off).expect("serialises");
        assert!(text.contains("\"library\":false"), "{text}");
        assert_eq!(
            serde_json::from_str::<FitSettings>(&text).expect("parses"),
            off
        );
    }

    #[test]
    fn no_library_reaches_the_settings_of_law_kinds_only() {
        use crate::kinds::{Kind, Overrides, ProblemKind, mpm};
        let overrides = Overrides {
            no_library: true,
            ..Overrides::default()
        };
        let mut settings = FitSettings::default();
        overrides.check(Kind::Mpm).expect("applies");
        mpm::MpmKind::apply(&mut settings, &overrides).expect("applies");
        assert!(!settings.library);
        overrides.check(Kind::Table).expect("applies");
        for kind in [Kind::Ehrlich, Kind::Molecules] {
            let e = overrides
                .check(kind)
                .expect_err("does not apply")
                .to_string();
            assert!(
                e.contains("--no-library")
                    && e.contains("law (mpm, table)")
                    && e.contains(kind.name()),
                "{e}"
            );
        }
    }
}
