//! What the default feedback adds so that laws can be told apart near the optimum: where in
//! time the free rollout leaves the observed motion (the position error per frame), the
//! particles it misses most, and the law's response to standard deformations at its fitted
//! constants.

use super::material::LawFactory;
use super::task::Task;
use ansatz_engine::prompt::num;
use ansatz_grammar::CheckedProgram;
use ansatz_simulator::{Material, MaterialFactory, MaterialKind, StepContext, Trajectory};
use nalgebra::{Matrix3, Vector3};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Frames at which the position error is reported (evenly spaced, first and last included).
pub const ERROR_FRAMES: usize = 11;
/// Particles named as the worst.
pub const WORST_PARTICLES: usize = 3;

/// The position error of a free rollout at one frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FrameError {
    /// The frame.
    pub frame: usize,
    /// Its time, seconds.
    pub time: f64,
    /// Root mean square distance to the observed positions over all particles.
    pub rms: f64,
}

/// A particle the rollout misses most.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorstParticle {
    /// Particle index.
    pub particle: usize,
    /// Its starting position.
    pub start: [f64; 3],
    /// Root mean square distance to its observed positions over the reported frames.
    pub rms: f64,
    /// The time of its largest distance, seconds.
    pub worst_time: f64,
}

/// The output of a law for one standard deformation gradient.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// What the deformation is.
    pub name: String,
    /// The law's output (stress or corrected F), row-major; None when not finite.
    pub output: Option<[f64; 9]>,
}

/// The diagnostics of one fitted law.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Position error versus time.
    pub frames: Vec<FrameError>,
    /// The particles missed most.
    pub worst: Vec<WorstParticle>,
    /// Responses to the standard deformations.
    pub responses: Vec<Response>,
}

/// The standard deformations: their names and deformation gradients.
pub fn standard_deformations() -> Vec<(&'static str, Matrix3<f64>)> {
    let diag = |a: f64, b: f64, c: f64| Matrix3::from_diagonal(&Vector3::new(a, b, c));
    let mut shear = Matrix3::identity();
    shear[(0, 1)] = 0.1;
    vec![
        ("stretch x 1.1", diag(1.1, 1.0, 1.0)),
        ("compress x 0.9", diag(0.9, 1.0, 1.0)),
        ("stretch x 1.5", diag(1.5, 1.0, 1.0)),
        ("simple shear 0.1 (F01)", shear),
        ("uniform J = 1.1", diag(1.0, 1.0, 1.0) * 1.1f64.cbrt()),
        ("uniform J = 0.9", diag(1.0, 1.0, 1.0) * 0.9f64.cbrt()),
    ]
}

/// The law's output at each standard deformation, at `params`.
pub fn responses(law: &CheckedProgram, kind: MaterialKind, params: &[f64]) -> Vec<Response> {
    let factory = LawFactory::new(law.compiled().clone(), kind);
    let deformations = standard_deformations();
    let material = factory.build::<f64>(params).ok();
    deformations
        .into_iter()
        .map(|(name, f)| {
            let mut out = [Matrix3::zeros()];
            let ok = material
                .as_ref()
                .is_some_and(|m| m.apply(&[f], &mut out, StepContext::default()).is_ok());
            let m = out[0];
            let output = (ok && m.iter().all(|v| v.is_finite()))
                .then(|| std::array::from_fn(|k| m[(k / 3, k % 3)]));
            Response {
                name: name.to_string(),
                output,
            }
        })
        .collect()
}

/// The positions of every particle at one frame.
type Positions = Vec<Vector3<f64>>;

impl Diagnostics {
    /// The diagnostics of `rollout` (a free rollout of the law at `params`) against the
    /// task's observed motion.
    pub fn new(task: &Task, law: &CheckedProgram, params: &[f64], rollout: &Trajectory) -> Self {
        let steps = task.scene.steps;
        let wanted: Vec<usize> = (0..ERROR_FRAMES)
            .map(|i| i * steps / (ERROR_FRAMES - 1))
            .collect();
        let pairs: Vec<(usize, &Positions, &Positions)> = wanted
            .iter()
            .filter_map(|&f| {
                let a = rollout.positions.get(rollout.position_index(f)?)?;
                let b = task.target.positions.get(task.target.position_index(f)?)?;
                (a.len() == b.len() && !a.is_empty()).then_some((f, a, b))
            })
            .collect();
        let n = pairs.first().map_or(0, |(_, a, _)| a.len());
        let time = |f: usize| f as f64 * task.scene.dt;
        let frames = pairs
            .iter()
            .map(|(f, a, b)| {
                let sum: f64 = a.iter().zip(*b).map(|(x, y)| (x - y).norm_squared()).sum();
                FrameError {
                    frame: *f,
                    time: time(*f),
                    rms: (sum / n as f64).sqrt(),
                }
            })
            .collect();
        let mut per_particle: Vec<WorstParticle> = (0..n)
            .map(|p| {
                let d: Vec<f64> = pairs.iter().map(|(_, a, b)| (a[p] - b[p]).norm()).collect();
                let (k, _) = d
                    .iter()
                    .enumerate()
                    .max_by(|x, y| x.1.total_cmp(y.1))
                    .unwrap_or((0, &0.0));
                let s = task.scene.positions.get(p).copied().unwrap_or_default();
                WorstParticle {
                    particle: p,
                    start: [s[0], s[1], s[2]],
                    rms: (d.iter().map(|v| v * v).sum::<f64>() / d.len().max(1) as f64).sqrt(),
                    worst_time: pairs.get(k).map_or(0.0, |(f, _, _)| time(*f)),
                }
            })
            .collect();
        per_particle.sort_by(|a, b| b.rms.total_cmp(&a.rms).then(a.particle.cmp(&b.particle)));
        per_particle.truncate(WORST_PARTICLES);
        Diagnostics {
            frames,
            worst: per_particle,
            responses: responses(law, task.kind, params),
        }
    }

    /// The text of the diagnostics (`output`: what the law returns, for the table head).
    pub fn text(&self, output: &str) -> String {
        let mut s = String::new();
        if !self.frames.is_empty() {
            s.push_str(
                "#### Where the motion goes wrong (free rollout at the best constants)\n\n\
                 Position error (RMS over all particles; the box is 1 wide) versus time:\n\n",
            );
            let times: Vec<String> = self.frames.iter().map(|f| num(f.time, 3)).collect();
            let errors: Vec<String> = self.frames.iter().map(|f| num(f.rms, 3)).collect();
            let _ = writeln!(s, "| t (s) | {} |", times.join(" | "));
            let _ = writeln!(s, "|---|{}", "---|".repeat(times.len()));
            let _ = writeln!(s, "| error | {} |", errors.join(" | "));
            if !self.worst.is_empty() {
                s.push_str("\nParticles missed most (RMS distance over the frames):");
                for w in &self.worst {
                    let _ = write!(
                        s,
                        " #{} (starts at ({}, {}, {})): {}, worst at t = {} s;",
                        w.particle,
                        num(w.start[0], 3),
                        num(w.start[1], 3),
                        num(w.start[2], 3),
                        num(w.rms, 3),
                        num(w.worst_time, 3)
                    );
                }
                s.pop();
                s.push('\n');
            }
            s.push('\n');
        }
        if !self.responses.is_empty() {
            let _ = writeln!(
                s,
                "#### Response to standard deformations (at the best constants)\n\n\
                 | deformation | {output}: [xx, yy, zz], xy |\n|---|---|"
            );
            for r in &self.responses {
                let value = match &r.output {
                    Some(m) => format!(
                        "[{}, {}, {}], {}",
                        num(m[0], 4),
                        num(m[4], 4),
                        num(m[8], 4),
                        num(m[1], 4)
                    ),
                    None => "not finite".into(),
                };
                let _ = writeln!(s, "| {} | {value} |", r.name);
            }
        }
        s.trim_end().to_string()
    }
}
