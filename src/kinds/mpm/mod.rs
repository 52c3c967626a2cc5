//! The constitutive-law problem (SGA tasks a to d and the imaginary law): a law maps the
//! deformation gradient to the Kirchhoff stress (elastic) or to the corrected deformation
//! gradient (plastic); its constants are fitted by gradient descent through the
//! differentiable MPM simulator against an observed motion.
//!
//! * [`task`]: the task file (scene, observed motion, starting law, loss, fit budget);
//! * [`material`]: a compiled law as a simulator material;
//! * [`fit`]: the inner fit (L-BFGS or the reference's Adam) and its records;
//! * [`feedback`]: what a proposer reads about a fitted law (loss curves, key particles).

pub mod feedback;
pub mod fit;
pub mod material;
pub mod task;

use crate::law::record::PhysicsPolicy;
use crate::law::{self, LawDetail, physics, prompt};
use ansatz_engine::{
    Brief, Candidate, GoOn, Judged, LedgerError, Problem, Proposal, RunDir, Screening, Stage,
    Verdict,
};
use ansatz_grammar::CheckedProgram;
use ansatz_simulator::MaterialKind;
use feedback::{Feedback, KeyStates};
use fit::{FitSettings, fit};
use task::Task;

const CONTEXT_ELASTIC: &str = include_str!("prompts/context_elastic.md");
const CONTEXT_PLASTIC: &str = include_str!("prompts/context_plastic.md");

/// The brief of a simulation task: SGA's context for `kind` (elastic: F to Kirchhoff
/// stress; plastic: F to corrected F), the task's description (may be empty), the observed
/// key-particle states (the ground-truth state block) if shown, and the format requirements
/// for `kind`.
pub fn brief(kind: MaterialKind, description: &str, observed: Option<&str>) -> Brief {
        let context = match kind {
            MaterialKind::Plastic => CONTEXT_PLASTIC,
            _ => CONTEXT_ELASTIC,
        };
        let mut setup = context.trim_end().to_string();
        if !description.trim().is_empty() {
            setup.push_str("\n\nAbout this task: ");
            setup.push_str(description.trim());
        }
        if let Some(observed) = observed {
            setup.push_str("\n\nThe observed (ground-truth) motion:\n\n");
            setup.push_str(observed.trim_end());
        }
        let (output, extra) = match kind {
            MaterialKind::Plastic => (
                "the corrected deformation gradient",
                "5. Consider whether plasticity is needed at all: `return F` (no correction) \
                 is a valid law.\n",
            ),
            _ => ("the Kirchhoff stress", ""),
        };
        prompt::brief(setup, prompt::format_requirements(output, extra))
}

/// A simulation task: laws are constitutive laws, fitted by gradient descent through the
/// simulator; the feedback shows the key particles of a free rollout of the fitted law.
impl Problem for Task {
    type Detail = LawDetail;
    type Solution = CheckedProgram;
    type Settings = FitSettings;

    fn name(&self) -> &str {
        Task::name(self)
    }

    fn noun(&self) -> &str {
        "law"
    }

    fn duplicate_message(&self, first: usize) -> String {
        law::duplicate_message(first)
    }

    fn start(&self) -> Option<(String, String)> {
        Some((self.spec.start.display().to_string(), self.start.1.clone()))
    }

    fn screen(&self, proposal: &Proposal) -> Screening<LawDetail, CheckedProgram> {
        let mut screening = law::screen(proposal, &self.signature);
        if let Ok(law) = &screening.outcome {
            screening.detail.physics = physics::check(law, self.kind);
        }
        screening
    }

    fn evaluate(
        &self,
        law: CheckedProgram,
        detail: &mut LawDetail,
        settings: &FitSettings,
        go_on: &mut GoOn<'_>,
    ) -> Judged {
        let warning = physics::feedback(&detail.physics);
        if settings.physics == PhysicsPolicy::Reject && !detail.physics.is_empty() {
            let message = warning.clone();
            return Judged {
                fitness: f64::INFINITY,
                feedback: format!("The law was rejected at the physics stage: {message}"),
                verdict: Verdict::Failed {
                    stage: Stage::Physics,
                    message,
                },
            };
        }
        let mut cut = false;
        let record = fit(self, &law, None, settings, &mut |_| {
            let more = go_on();
            cut |= !more;
            more
        });
        if cut {
            // The engine drops a cut evaluation: no feedback rollout for it.
            return detail.finish(record, String::new());
        }
        let states = if record.is_ok() {
            KeyStates::simulate(self, &law, record.best_params()).ok()
        } else {
            None
        };
        let feedback = Feedback { record, states };
        let mut text = feedback.text();
        if !warning.is_empty() {
            text = format!("{warning}\n\n{text}");
        }
        let record = feedback.record;
        if record.fitness.is_finite() {
            text.push_str(&format!(
                "\n\nBest position loss: {:.6e} ({} evaluations)",
                record.fitness,
                record.evaluations.len()
            ));
        }
        detail.finish(record, text)
    }

    fn inner_budget(&self, settings: &FitSettings) -> Option<usize> {
        Some(match settings.optimizer {
            fit::Optimizer::Adam => (settings.adam_epochs + 1).min(settings.max_evaluations),
            fit::Optimizer::Lbfgs => settings.max_evaluations,
        })
    }

    fn brief(&self) -> Brief {
        let observed =
            KeyStates::from_trajectory(&self.target, &self.key_particles, self.scene.steps).text();
        brief(self.kind, &self.spec.description, Some(&observed))
    }

    fn report_section(&self, candidate: &Candidate<LawDetail>) -> String {
        law::report_section(&candidate.detail, &self.signature, |_| String::new())
    }

    fn write_best(&self, run: &RunDir, best: &Candidate<LawDetail>) -> Result<(), LedgerError> {
        law::write_best(run, self.name(), best, &self.signature)
    }
}

impl law::LawProblem for Task {
    fn signature(&self) -> &ansatz_grammar::Signature {
        &self.signature
    }
}

/// The constitutive-law kind (`kind = "mpm"`, the default of task files).
pub struct MpmKind;

impl super::ProblemKind for MpmKind {
    type Problem = Task;

    fn load(path: &std::path::Path) -> Result<(Task, FitSettings), super::KindError> {
        let task = Task::load(path)?;
        let settings = fit::settings_of(&task)?;
        Ok((task, settings))
    }

    fn apply(settings: &mut FitSettings, o: &super::Overrides) -> Result<(), super::KindError> {
        if let Some(optimizer) = o.optimizer {
            settings.optimizer = optimizer;
        }
        if let Some(n) = o.fit_evaluations {
            settings.max_evaluations = n;
        }
        if let Some(p) = o.physics {
            settings.physics = p;
        }
        Ok(())
    }

    fn offline(task: &Task) -> Box<dyn ansatz_engine::Proposer<Task>> {
        Box::new(crate::evolve::EvolveProposer::new(task.kind))
    }

    fn answer(task: &Task, best: &Candidate<LawDetail>) -> String {
        law::fitted_law(&best.detail, &task.signature)
            .map_or_else(String::new, |law| law.program().to_string())
    }
}
