//! The constitutive-law problem (SGA tasks a to d and the imaginary law): a law maps the
//! deformation gradient to the Kirchhoff stress (elastic) or to the corrected deformation
//! gradient (plastic); its constants are fitted by gradient descent through the
//! differentiable MPM simulator against an observed motion.
//!
//! * [`task`]: the task file (scene, observed motion, starting law, loss, fit budget);
//! * [`material`]: a compiled law as a simulator material;
//! * [`fit`]: the inner fit (L-BFGS or the reference's Adam) and its records;
//! * [`feedback`]: what a proposer reads about a fitted law (loss curves, key particles).

pub mod diagnostics;
pub mod feedback;
pub mod fit;
pub mod material;
pub mod task;

use crate::law::record::PhysicsPolicy;
use crate::law::{self, LawDetail, physics, prompt};
use ansatz_engine::prompt::FeedbackFormat;
use ansatz_engine::{
    Brief, Candidate, GoOn, Judged, LedgerError, Problem, Proposal, RunDir, Screening, Stage,
    Verdict,
};
use ansatz_grammar::CheckedProgram;
use ansatz_simulator::MaterialKind;
use diagnostics::Diagnostics;
use feedback::{Feedback, KeyStates};
use fit::FitSettings;
use task::Task;

const CONTEXT_ELASTIC: &str = include_str!("prompts/context_elastic.md");
const CONTEXT_PLASTIC: &str = include_str!("prompts/context_plastic.md");

/// The brief of a simulation task: SGA's context for `kind` (elastic: F to Kirchhoff
/// stress; plastic: F to corrected F), the task's description (may be empty), the observed
/// key-particle states (the ground-truth state block) if shown, and the format requirements
/// for `kind`.
pub fn brief(kind: MaterialKind, description: &str, observed: Option<&str>) -> Brief {
    brief_with_scene(kind, description, None, observed)
}

/// [`brief`] with the scene's physical facts (`scene`, see [`scene_facts`]) after the
/// context.
pub fn brief_with_scene(
    kind: MaterialKind,
    description: &str,
    scene: Option<&str>,
    observed: Option<&str>,
) -> Brief {
    let context = match kind {
        MaterialKind::Plastic => CONTEXT_PLASTIC,
        _ => CONTEXT_ELASTIC,
    };
    let mut setup = context.trim_end().to_string();
    if let Some(scene) = scene {
        setup.push_str("\n\n");
        setup.push_str(scene.trim_end());
    }
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
    let card = match kind {
        MaterialKind::Plastic => prompt::Card::Plastic,
        _ => prompt::Card::Elastic,
    };
    prompt::brief(setup, prompt::format_requirements(card, output, extra))
}

/// What the loss a law is fitted to measures (a bullet of the scene's facts): the model
/// sessions of the prompt measurement could not match the loss to the free rollout's error
/// table (BENCHMARKS.md, "What the model reads").
pub fn loss_facts(loss: &ansatz_simulator::LossConfig) -> String {
    use ansatz_engine::prompt::num;
    let restart = match loss.teacher_every {
        Some(k) => format!(
            ", the simulation restarted from the observed state (positions, velocities, F) \
             every {k} steps (not the free rollout of the error tables)"
        ),
        None => " of the free rollout".into(),
    };
    format!(
        "- The loss: {} x the mean squared position error per coordinate at the observed \
         frames{restart}; velocities are not fitted. In 64-bit floating point: an exact law \
         can reach the target.",
        num(loss.alpha_position, 4)
    )
}

/// The physical facts of a scene: particles, size, density, mass, time step, duration,
/// gravity, the domain, and the times of the key frames the observed block shows.
pub fn scene_facts(scene: &ansatz_simulator::Scene, key_frames: &[usize]) -> String {
    use ansatz_engine::prompt::num;
    let n = scene.positions.len();
    let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for p in &scene.positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    let v3 = |v: [f64; 3]| format!("({}, {}, {})", num(v[0], 4), num(v[1], 4), num(v[2], 4));
    let mean_v = scene
        .velocities
        .iter()
        .fold(nalgebra::Vector3::zeros(), |a, v| a + v)
        / n.max(1) as f64;
    let spins = scene.velocities.iter().any(|v| (v - mean_v).norm() > 1e-9);
    let mass = scene.density * scene.particle_volume;
    let times: Vec<String> = key_frames
        .iter()
        .map(|&f| num(f as f64 * scene.dt, 4))
        .collect();
    format!(
        "### Scene\n\n\
         - The body: {n} particles spanning {} to {} (SI units; the domain is the unit cube \
         [0, 1]^3 on a {g}^3 grid, with walls {b} cells thick that stop motion into them).\n\
         - Density {} kg/m^3, particle volume {} m^3, particle mass {} kg, total mass {} kg.\n\
         - Initial velocity: {} m/s on average{}.\n\
         - Gravity {} m/s^2.\n\
         - Time step {} s, {} steps: {} s of motion. The key frames shown below are at t = {} s.",
        v3(lo),
        v3(hi),
        num(scene.density, 4),
        num(scene.particle_volume, 4),
        num(mass, 4),
        num(mass * n as f64, 4),
        v3([mean_v[0], mean_v[1], mean_v[2]]),
        if spins {
            ", plus a spin (it varies across the body)"
        } else {
            ""
        },
        v3([scene.gravity[0], scene.gravity[1], scene.gravity[2]]),
        num(scene.dt, 4),
        scene.steps,
        num(scene.dt * scene.steps as f64, 4),
        times.join(", "),
        g = scene.grid_size,
        b = scene.bound,
    )
}

/// What a law of `kind` returns, as the feedback names it.
fn output_of(kind: MaterialKind) -> &'static str {
    match kind {
        MaterialKind::Plastic => "corrected F",
        _ => "Kirchhoff stress",
    }
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
        // Asked by the fit's start (between short rollouts) and after each evaluation.
        let cut = std::cell::Cell::new(false);
        let go_on = std::cell::RefCell::new(go_on);
        let ask = || {
            let more = (go_on.borrow_mut())();
            if !more {
                cut.set(true);
            }
            more
        };
        let record = fit::fit_with(self, &law, None, settings, &mut |_| ask(), &mut || ask());
        if cut.get() {
            // The engine drops a cut evaluation: no feedback rollout for it.
            return detail.finish(record, String::new());
        }
        let rollout = if record.is_ok() {
            feedback::free_rollout(self, &law, record.best_params()).ok()
        } else {
            None
        };
        let full = settings.feedback == FeedbackFormat::Full;
        let feedback = Feedback {
            states: rollout.as_ref().map(|traj| {
                KeyStates::from_trajectory(traj, &self.key_particles, &self.key_frames)
            }),
            diagnostics: rollout
                .as_ref()
                .filter(|_| full)
                .map(|traj| Diagnostics::new(self, &law, record.best_params(), traj)),
            record,
        };
        let mut text = feedback.text_in(settings.feedback, output_of(self.kind));
        if !warning.is_empty() {
            text = format!("{warning}\n\n{text}");
        }
        let record = feedback.record;
        if record.fitness.is_finite() && !full {
            text.push_str(&format!(
                "\n\nBest position loss: {:.6e} ({} evaluations)",
                record.fitness,
                record.evaluations.len()
            ));
        }
        detail.finish(record, text)
    }

    /// The short-horizon loss ([`fit::start`]) after the Levenberg–Marquardt steps
    /// ([`fit::start::refine`]) from the best point of the grid of the law's moduli (from
    /// its own values when it has none, or the grid is off): the grid finds the basin, the
    /// steps tell near-equal laws apart.
    fn prescreen(&self, law: &CheckedProgram, settings: &FitSettings) -> Option<f64> {
        let factory = material::LawFactory::new(law.compiled().clone(), self.kind);
        let defaults = law.compiled().defaults().to_vec();
        let grid = settings
            .start_grid
            .then(|| fit::start::grid(self, &factory, law, &defaults, &mut || true))
            .flatten();
        let (start, loss) = match grid {
            Some((params, g)) => (params, g.loss_after),
            None => {
                let loss = fit::start::short_loss(self, &factory, &defaults);
                (defaults, loss)
            }
        };
        if !loss.is_finite() {
            return Some(loss);
        }
        Some(
            fit::start::refine(
                self,
                &factory,
                law,
                &start,
                loss,
                fit::start::REFINE_STEPS,
                &mut || true,
            )
            .loss,
        )
    }

    fn inner_budget(&self, settings: &FitSettings) -> Option<usize> {
        Some(match settings.optimizer {
            fit::Optimizer::Adam => (settings.adam_epochs + 1).min(settings.max_evaluations),
            fit::Optimizer::Lbfgs => settings.max_evaluations,
        })
    }

    fn brief(&self) -> Brief {
        let observed =
            KeyStates::from_trajectory(&self.target, &self.key_particles, &self.key_frames).text();
        let scene = format!(
            "{}\n{}",
            scene_facts(&self.scene, &self.key_frames),
            loss_facts(&self.loss)
        );
        brief_with_scene(
            self.kind,
            &self.spec.description,
            Some(&scene),
            Some(&observed),
        )
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

    /// On the short horizon of the start grid ([`fit::start::gains`]).
    fn gains(&self, law: &CheckedProgram, params: &[f64], which: &[usize]) -> Option<Vec<law::Gain>> {
        let factory = material::LawFactory::new(law.compiled().clone(), self.kind);
        fit::start::gains(self, &factory, params, which)
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
        if let Some(f) = o.feedback {
            settings.feedback = f;
        }
        if let Some(p) = o.physics {
            settings.physics = p;
        }
        if o.no_library {
            settings.library = false;
        }
        if o.no_start_grid {
            settings.start_grid = false;
        }
        Ok(())
    }

    fn offline(task: &Task, settings: &FitSettings) -> Box<dyn ansatz_engine::Proposer<Task>> {
        let mut proposer = crate::evolve::EvolveProposer::new(task.kind);
        proposer.config.library = settings.library;
        Box::new(proposer)
    }

    fn answer(task: &Task, best: &Candidate<LawDetail>) -> String {
        law::fitted_law(&best.detail, &task.signature)
            .map_or_else(String::new, |law| law.program().to_string())
    }
}
