//! Task specs: what to fit and against what. A task file (`tasks/*.toml`) names the scene,
//! the observed motion (a ground-truth law simulated by our simulator, or a trajectory
//! file), the starting law, the signature (elastic or plastic), the loss weights, the
//! teacher-forcing interval and the fit budget. Paths in a task file are relative to it.
//!
//! ```toml
//! kind = "mpm"                   # the default kind (see crate::kinds)
//! name = "jelly"
//! description = "An elastic cube thrown against the floor; find its Kirchhoff stress law."
//! signature = "elastic"          # elastic: F -> tau; plastic: F -> corrected F, then Hencky
//! start = "laws/linear.law"      # the law a search starts from
//!
//! [scene]
//! preset = "sga_cube"            # or "target": particles from frame 0 of the target file
//! # svd = "reference"            # the SGA reference's f32 SVD (default "exact"), to match
//! #                              # reference .npz files of plastic tasks to their rounding
//!
//! [target]
//! law = "laws/neohookean.law"    # simulated to make the observed trajectory ...
//! # params = { youngs_modulus_log = 13.0 }   # ... with these parameter values
//! # file = "observed.npz"        # ... or a trajectory file (positions per frame)
//!
//! [loss]
//! alpha_position = 1e4
//! teacher_every = 100
//!
//! [fit]
//! optimizer = "lbfgs"            # or "adam"
//! ```

use super::material::LawFactory;
use ansatz_grammar::{CheckedProgram, Signature, load};
use ansatz_linalg::SvdMethod;
use ansatz_simulator::{
    LossConfig, MaterialKind, Recording, Scene, SimError, Trajectory, TrajectoryError, rollout,
};
use nalgebra::Vector3;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The particles whose trajectories are shown to proposers (SGA: 9, 90, 900, 999).
pub const KEY_PARTICLES: [usize; 4] = [9, 90, 900, 999];

/// An error loading a task.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The task file is not valid TOML of the task form.
    #[error("{path}: {message}")]
    Spec {
        /// The task file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A law named by the task does not parse or type-check.
    #[error("{path}: {message}")]
    Law {
        /// The law file.
        path: PathBuf,
        /// The rendered error.
        message: String,
    },
    /// The target trajectory file could not be read.
    #[error("{0}")]
    Trajectory(#[from] TrajectoryError),
    /// Simulating the ground truth failed.
    #[error("simulating the ground truth: {0}")]
    Simulation(#[from] SimError),
    /// The observed trajectory does not fit the scene or the loss (a non-finite value, a
    /// frame of the wrong size, a frame index the scene never reaches, a missing state).
    #[error("the target {origin}: {message}")]
    Target {
        /// The trajectory file, or the law simulated.
        origin: String,
        /// What is wrong, with the frame and particle.
        message: String,
    },
}

/// The task file as written (see the module docs).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// The kind of problem: `mpm` (the default; see [`crate::kinds::Kind`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::kinds::Kind>,
    /// Short name (used in file names and reports).
    pub name: String,
    /// One or two sentences for people and for the prompt.
    #[serde(default)]
    pub description: String,
    /// `elastic` or `plastic`.
    pub signature: String,
    /// The starting law (path).
    pub start: PathBuf,
    /// The scene.
    #[serde(default)]
    pub scene: SceneSpec,
    /// The observed motion.
    pub target: TargetSpec,
    /// Loss settings.
    #[serde(default)]
    pub loss: LossSpec,
    /// Fit budget and optimiser.
    #[serde(default)]
    pub fit: FitSpec,
    /// Particles shown in feedback (default 9, 90, 900, 999).
    #[serde(default)]
    pub key_particles: Option<Vec<usize>>,
    /// How a search runs it on a Slurm cluster (read by `search --executor slurm`, see
    /// [`crate::executor::slurm_settings_of_task`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<toml::Table>,
}

/// The scene: a preset with optional overrides.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SceneSpec {
    /// `sga_cube` (default) or `target` (positions and velocities of the target's frame 0).
    #[serde(default)]
    pub preset: Option<String>,
    /// Number of steps.
    pub steps: Option<usize>,
    /// Time step.
    pub dt: Option<f64>,
    /// Gravity vector.
    pub gravity: Option<[f64; 3]>,
    /// Grid nodes per axis.
    pub grid_size: Option<usize>,
    /// Wall thickness in nodes.
    pub bound: Option<usize>,
    /// Volume of one particle.
    pub particle_volume: Option<f64>,
    /// Density.
    pub density: Option<f64>,
    /// Initial rigid velocity: linear part (with `angular_velocity` and `centre`).
    pub linear_velocity: Option<[f64; 3]>,
    /// Initial rigid velocity: angular part.
    pub angular_velocity: Option<[f64; 3]>,
    /// Centre of the rotation (default: the centroid).
    pub centre: Option<[f64; 3]>,
    /// The signed SVD used in the laws and the Hencky stage: `exact` (default) or
    /// `reference` (the SGA reference's approximate f32 decomposition, to reproduce its
    /// plastic trajectories and losses to its rounding when the target is a reference file).
    pub svd: Option<String>,
}

/// The observed motion: a ground-truth law or a trajectory file.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// A law simulated on the scene to give the target.
    pub law: Option<PathBuf>,
    /// Parameter values for `law` (default: the law's own defaults).
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
    /// A trajectory `.npz` (this project's format or an SGA reference file).
    pub file: Option<PathBuf>,
}

/// Loss weights and teacher forcing.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LossSpec {
    /// Weight of the position loss.
    #[serde(default = "default_alpha_position")]
    pub alpha_position: f64,
    /// Weight of the reported velocity loss.
    #[serde(default = "default_alpha_velocity")]
    pub alpha_velocity: f64,
    /// Teacher forcing every this many steps; 0 for a free rollout.
    #[serde(default = "default_teacher_every")]
    pub teacher_every: usize,
}

fn default_alpha_position() -> f64 {
    1e4
}
fn default_alpha_velocity() -> f64 {
    10.0
}
fn default_teacher_every() -> usize {
    100
}

impl Default for LossSpec {
    fn default() -> Self {
        LossSpec {
            alpha_position: default_alpha_position(),
            alpha_velocity: default_alpha_velocity(),
            teacher_every: default_teacher_every(),
        }
    }
}

/// The fit budget and optimiser settings of a task (see [`super::fit::FitSettings`]).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FitSpec {
    /// `lbfgs` (default) or `adam`.
    pub optimizer: Option<String>,
    /// Adam learning rate (3e-2).
    pub adam_lr: Option<f64>,
    /// Adam updates (30; one more evaluation than updates).
    pub adam_epochs: Option<usize>,
    /// Global gradient-norm clip for Adam (1.0).
    pub clip_norm: Option<f64>,
    /// L-BFGS iterations (40).
    pub lbfgs_iterations: Option<u64>,
    /// L-BFGS memory (7).
    pub lbfgs_memory: Option<usize>,
    /// Stop when the loss falls below this (0: never).
    pub target_loss: Option<f64>,
    /// Most loss evaluations (rollouts) of one fit.
    pub max_evaluations: Option<usize>,
    /// Wall-clock limit of one fit, seconds.
    pub max_seconds: Option<f64>,
    /// `warn` (default) or `reject`: what happens to a law that fails a physics check
    /// at screening (`crate::law::physics`).
    pub physics: Option<crate::law::record::PhysicsPolicy>,
    /// Whether an L-BFGS fit starts from the best point of a log grid of the law's moduli
    /// scored on a short horizon (default true; `crate::kinds::mpm::fit::start`).
    pub start_grid: Option<bool>,
}

/// A loaded task: everything resolved, the target trajectory in memory.
#[derive(Clone, Debug)]
pub struct Task {
    /// The spec as written.
    pub spec: TaskSpec,
    /// Directory of the task file (paths resolve against it).
    pub dir: PathBuf,
    /// The signature laws are checked against.
    pub signature: Signature,
    /// Elastic or plastic path of the simulator.
    pub kind: MaterialKind,
    /// The scene.
    pub scene: Scene,
    /// The observed trajectory (with full states at the teacher-forcing frames).
    pub target: Trajectory,
    /// Loss settings.
    pub loss: LossConfig,
    /// The starting law and its source text.
    pub start: (CheckedProgram, String),
    /// The ground-truth law, its source and parameter values, when the target was simulated.
    pub truth: Option<(CheckedProgram, String, Vec<f64>)>,
    /// Particles shown in feedback.
    pub key_particles: Vec<usize>,
    /// Frames shown in feedback: the SGA key frames moved to frames the target observes
    /// ([`super::feedback::observed_key_frames`]).
    pub key_frames: Vec<usize>,
}

impl Task {
    /// Reads and resolves a task file: parses the laws, builds the scene, and simulates
    /// the ground truth or reads the trajectory file.
    pub fn load(path: impl AsRef<Path>) -> Result<Task, TaskError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TaskError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let spec: TaskSpec = toml::from_str(&text).map_err(|e| TaskError::Spec {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Task::from_spec(spec, &dir, path)
    }

    /// Resolves a spec whose relative paths are relative to `dir` (`origin` names the spec
    /// in errors).
    pub fn from_spec(spec: TaskSpec, dir: &Path, origin: &Path) -> Result<Task, TaskError> {
        let spec_error = |message: String| TaskError::Spec {
            path: origin.to_path_buf(),
            message,
        };
        let kind = match spec.signature.as_str() {
            "elastic" => MaterialKind::Elastic,
            "plastic" => MaterialKind::Plastic,
            other => {
                return Err(spec_error(format!(
                    "signature must be \"elastic\" or \"plastic\", not {other:?}"
                )));
            }
        };
        let signature = Signature::named(&spec.signature).map_err(|e| spec_error(e.to_string()))?;
        let start = read_law(&dir.join(&spec.start), &signature)?;
        let loss = LossConfig {
            alpha_position: spec.loss.alpha_position,
            alpha_velocity: spec.loss.alpha_velocity,
            teacher_every: (spec.loss.teacher_every > 0).then_some(spec.loss.teacher_every),
        };
        if !(loss.alpha_position.is_finite() && loss.alpha_position > 0.0) {
            return Err(spec_error("loss.alpha_position must be positive".into()));
        }

        if spec.target.law.is_some() && spec.target.file.is_some() {
            return Err(spec_error(
                "target: give either `law` or `file`, not both".into(),
            ));
        }
        let file_target = match &spec.target.file {
            Some(file) => Some(Trajectory::read_npz(dir.join(file))?),
            None => None,
        };
        let scene = build_scene(&spec.scene, file_target.as_ref()).map_err(spec_error)?;
        scene
            .validate()
            .map_err(|e| spec_error(format!("[scene]: {e}")))?;
        let target_origin = match (&spec.target.file, &spec.target.law) {
            (Some(file), _) => dir.join(file).display().to_string(),
            (None, Some(law)) => format!("simulated with {}", dir.join(law).display()),
            (None, None) => String::new(),
        };
        if let Some(traj) = &file_target {
            check_target(traj, &scene, &loss).map_err(|message| TaskError::Target {
                origin: target_origin.clone(),
                message,
            })?;
        }

        let (target, truth) = match (&spec.target.law, file_target) {
            (Some(_), Some(_)) => {
                return Err(spec_error(
                    "target: give either `law` or `file`, not both".into(),
                ));
            }
            (None, None) => return Err(spec_error("target: give `law` or `file`".into())),
            (None, Some(traj)) => (traj, None),
            (Some(law_path), None) => {
                let (law, src) = read_law(&dir.join(law_path), &signature)?;
                let values = resolve_params(&law, &spec.target.params).map_err(spec_error)?;
                let factory = LawFactory::new(law.compiled().clone(), kind);
                let recording = Recording {
                    velocities: true,
                    states_every: loss.teacher_every.or(Some(scene.steps.max(1))),
                };
                let material = ansatz_simulator::MaterialFactory::build::<f64>(&factory, &values)
                    .map_err(|source| SimError::Material { step: 0, source })?;
                let traj = rollout::<f64, _>(&scene, material.as_ref(), recording)?;
                (traj, Some((law, src, values)))
            }
        };
        target
            .validate(scene.n_particles())
            .map_err(|e| TaskError::Target {
                origin: target_origin,
                message: match e {
                    SimError::InvalidTarget(m) => m,
                    e => e.to_string(),
                },
            })?;
        let key_particles = spec
            .key_particles
            .clone()
            .unwrap_or_else(|| KEY_PARTICLES.to_vec())
            .into_iter()
            .filter(|&p| p < scene.n_particles())
            .collect();
        let key_frames = super::feedback::observed_key_frames(scene.steps, &target.frames);
        Ok(Task {
            spec,
            dir: dir.to_path_buf(),
            signature,
            kind,
            scene,
            target,
            loss,
            start,
            truth,
            key_particles,
            key_frames,
        })
    }

    /// The task's name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Parses and checks a law against this task's signature.
    pub fn load_law(&self, path: &Path) -> Result<(CheckedProgram, String), TaskError> {
        read_law(path, &self.signature)
    }
}

/// Reads a law file and checks it against `signature`.
pub fn read_law(path: &Path, signature: &Signature) -> Result<(CheckedProgram, String), TaskError> {
    let src = std::fs::read_to_string(path).map_err(|source| TaskError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let law = load(&src, signature).map_err(|e| TaskError::Law {
        path: path.to_path_buf(),
        message: e.render(),
    })?;
    Ok((law, src))
}

/// The law's default parameters with `overrides` applied (unknown names are an error).
pub fn resolve_params(
    law: &CheckedProgram,
    overrides: &BTreeMap<String, f64>,
) -> Result<Vec<f64>, String> {
    let params = law.params();
    for name in overrides.keys() {
        if !params.iter().any(|(p, _)| p == name) {
            let known: Vec<&str> = params.iter().map(|(p, _)| p.as_str()).collect();
            return Err(format!(
                "the law has no parameter `{name}` (it has: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    Ok(params
        .iter()
        .map(|(name, default)| overrides.get(name).copied().unwrap_or(*default))
        .collect())
}

/// Checks an observed trajectory read from a file against the scene and the loss: its
/// values (finite, one per particle, named by frame and particle), its frame indices (at least one
/// observed within the scene's steps) and, with teacher forcing, the full states the
/// loss resets to.
fn check_target(traj: &Trajectory, scene: &Scene, loss: &LossConfig) -> Result<(), String> {
    traj.validate(scene.n_particles()).map_err(|e| match e {
        SimError::InvalidTarget(m) => m,
        e => e.to_string(),
    })?;
    // Frames past the scene's steps are not compared (a task may fit the first part of a
    // longer recording); at least one observed frame must lie within them.
    if !traj.frames.iter().any(|&f| f >= 1 && f <= scene.steps) {
        return Err(format!(
            "no observed frame within the scene's {} steps (frames {}..={}; frame k is the \
             state after k steps): nothing to compare a simulation with",
            scene.steps,
            traj.frames.first().copied().unwrap_or(0),
            traj.frames.last().copied().unwrap_or(0)
        ));
    }
    if let Some(k) = loss.teacher_every
        && let Some(step) = (0..scene.steps)
            .step_by(k)
            .find(|&s| traj.state_at(s).is_none())
    {
        return Err(format!(
            "teacher forcing every {k} steps needs the full state (x, v, C, F) of frame \
             {step}, which the file does not have (set loss.teacher_every = 0 for a free \
             rollout)"
        ));
    }
    Ok(())
}

fn build_scene(spec: &SceneSpec, target: Option<&Trajectory>) -> Result<Scene, String> {
    let mut scene = match spec.preset.as_deref().unwrap_or("sga_cube") {
        "sga_cube" => Scene::sga_cube(),
        "target" => {
            let traj = target.ok_or("scene preset \"target\" needs target.file")?;
            if traj.frames.first() != Some(&0) {
                return Err("scene preset \"target\": the trajectory has no frame 0".into());
            }
            let positions = traj.positions[0].clone();
            let velocities = match &traj.velocities {
                Some(v) => v[0].clone(),
                None => vec![Vector3::zeros(); positions.len()],
            };
            let mut scene = Scene::sga_cube();
            scene.steps = traj.frames.last().copied().unwrap_or(0);
            scene.positions = positions;
            scene.velocities = velocities;
            scene
        }
        other => {
            return Err(format!(
                "scene.preset must be \"sga_cube\" or \"target\", not {other:?}"
            ));
        }
    };
    if let Some(v) = spec.steps {
        scene.steps = v;
    }
    if let Some(v) = spec.dt {
        scene.dt = v;
    }
    if let Some(g) = spec.gravity {
        scene.gravity = Vector3::from(g);
    }
    if let Some(v) = spec.grid_size {
        scene.grid_size = v;
    }
    if let Some(v) = spec.bound {
        scene.bound = v;
    }
    if let Some(v) = spec.particle_volume {
        scene.particle_volume = v;
    }
    if let Some(v) = spec.density {
        scene.density = v;
    }
    if let Some(name) = &spec.svd {
        scene.svd = SvdMethod::from_name(name)
            .ok_or_else(|| format!("scene.svd must be \"exact\" or \"reference\", not {name:?}"))?;
    }
    if spec.linear_velocity.is_some() || spec.angular_velocity.is_some() {
        let n = scene.n_particles().max(1) as f64;
        let centroid = scene.positions.iter().sum::<Vector3<f64>>() / n;
        scene.set_rigid_velocity(
            Vector3::from(spec.linear_velocity.unwrap_or_default()),
            Vector3::from(spec.angular_velocity.unwrap_or_default()),
            spec.centre.map(Vector3::from).unwrap_or(centroid),
        );
    }
    Ok(scene)
}
