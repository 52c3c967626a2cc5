//! What a proposer learns from a fit, as data ([`Feedback`]) and as the text the SGA
//! reference shows a language model (as in the SGA reference): parameter and loss curves,
//! and the trajectories of the key particles at 10 frames from a free rollout of the final
//! parameters. Numbers are printed like the reference: Python's `%.2f`/`%.4f` of the
//! float32-rounded value, `nan` for NaN.

use super::diagnostics::Diagnostics;
use super::fit::FitRecord;
use super::material::LawFactory;
use super::task::Task;
use crate::law::fit_text::fit_text;
use ansatz_engine::Verdict;
use ansatz_engine::prompt::FeedbackFormat;
use ansatz_grammar::CheckedProgram;
use ansatz_simulator::{MaterialFactory, Recording, Trajectory, rollout};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Number of key frames shown (SGA: `linspace(0, steps, 10)` cast to int).
pub const KEY_FRAMES: usize = 10;

/// Positions and velocities of the key particles at the key frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyStates {
    /// Particle indices.
    pub particles: Vec<usize>,
    /// Frame indices.
    pub frames: Vec<usize>,
    /// `positions[k][f]`: particle `particles[k]` at frame `frames[f]`.
    pub positions: Vec<Vec<[f64; 3]>>,
    /// Same for velocities (empty when the trajectory has none).
    pub velocities: Vec<Vec<[f64; 3]>>,
}

/// The key frames of a rollout of `steps` steps: `linspace(0, steps, 10)` cast to int
/// (0, 111, 222, ..., 888, 1000 for 1000 steps).
pub fn key_frames(steps: usize) -> Vec<usize> {
    let step = steps as f64 / (KEY_FRAMES - 1) as f64;
    (0..KEY_FRAMES)
        .map(|i| {
            if i + 1 == KEY_FRAMES {
                steps
            } else {
                (i as f64 * step) as usize
            }
        })
        .collect()
}

/// The key frames of a task whose target observes only `observed` (sorted frame indices):
/// each of [`key_frames`] moved to the nearest observed frame (the earlier one on a tie),
/// without repeats. A fully observed target keeps `key_frames(steps)`; one observed every
/// 10th frame gets 0, 110, 220, ..., 1000 instead of the two frames of `key_frames` it holds.
pub fn observed_key_frames(steps: usize, observed: &[usize]) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::with_capacity(KEY_FRAMES);
    if observed.is_empty() {
        return out;
    }
    for f in key_frames(steps) {
        let i = observed.partition_point(|&o| o < f);
        let after = observed.get(i).copied();
        let before = i.checked_sub(1).map(|j| observed[j]);
        let nearest = match (before, after) {
            (Some(b), Some(a)) => {
                if f - b <= a - f {
                    b
                } else {
                    a
                }
            }
            (Some(b), None) => b,
            (None, Some(a)) => a,
            (None, None) => continue,
        };
        if out.last() != Some(&nearest) {
            out.push(nearest);
        }
    }
    out
}

impl KeyStates {
    /// The key particles of `traj` at those of `frames` it holds (a task's
    /// [`Task::key_frames`]).
    pub fn from_trajectory(traj: &Trajectory, particles: &[usize], frames: &[usize]) -> KeyStates {
        let frames: Vec<usize> = frames
            .iter()
            .copied()
            .filter(|&f| traj.position_index(f).is_some())
            .collect();
        let pick = |series: &[Vec<nalgebra::Vector3<f64>>]| -> Vec<Vec<[f64; 3]>> {
            particles
                .iter()
                .map(|&p| {
                    frames
                        .iter()
                        .filter_map(|&f| traj.position_index(f))
                        .filter_map(|i| series.get(i).and_then(|frame| frame.get(p)))
                        .map(|v| [v[0], v[1], v[2]])
                        .collect()
                })
                .collect()
        };
        KeyStates {
            particles: particles.to_vec(),
            positions: pick(&traj.positions),
            velocities: traj.velocities.as_deref().map(pick).unwrap_or_default(),
            frames,
        }
    }

    /// The key states of a free rollout (no teacher forcing) of `law` with `params` on the
    /// task's scene; the error message if the rollout fails.
    pub fn simulate(
        task: &Task,
        law: &CheckedProgram,
        params: &[f64],
    ) -> Result<KeyStates, String> {
        let traj = free_rollout(task, law, params)?;
        Ok(KeyStates::from_trajectory(
            &traj,
            &task.key_particles,
            &task.key_frames,
        ))
    }

    /// The "Representative particle trajectories" block.
    pub fn text(&self) -> String {
        let mut s = String::from("#### Representative particle trajectories (versus time)\n\n");
        let tuples = |series: &[[f64; 3]]| -> String {
            let items: Vec<String> = series
                .iter()
                .map(|v| format!("({}, {}, {})", f2(v[0]), f2(v[1]), f2(v[2])))
                .collect();
            format!("[{}]", items.join(", "))
        };
        for (k, pos) in self.positions.iter().enumerate() {
            let _ = writeln!(s, "- Particle {k}");
            let _ = writeln!(s, "    - positions: {}", tuples(pos));
            if let Some(vel) = self.velocities.get(k) {
                let _ = writeln!(s, "    - velocities: {}", tuples(vel));
            }
        }
        s.pop();
        s
    }
}

/// A free rollout (no teacher forcing) of `law` with `params` on the task's scene, with
/// velocities; the error message if it fails.
pub fn free_rollout(
    task: &Task,
    law: &CheckedProgram,
    params: &[f64],
) -> Result<Trajectory, String> {
    let factory = LawFactory::new(law.compiled().clone(), task.kind);
    let material = factory.build::<f64>(params).map_err(|e| e.to_string())?;
    let recording = Recording {
        velocities: true,
        states_every: None,
    };
    rollout::<f64, _>(&task.scene, material.as_ref(), recording).map_err(|e| e.to_string())
}

/// A fit's feedback: the record and, when simulated, the key states of a free rollout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The fit.
    pub record: FitRecord,
    /// Key particle states of a free rollout of the final parameters.
    pub states: Option<KeyStates>,
    /// The default format's diagnostics of that rollout (absent in the `sga` format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Diagnostics>,
}

impl Feedback {
    /// The feedback text in `format`: [`Feedback::text`] for `sga`; otherwise the fit
    /// ([`fit_text`]) and the diagnostics (`output`: what the law returns).
    pub fn text_in(&self, format: FeedbackFormat, output: &str) -> String {
        if format == FeedbackFormat::Sga {
            return self.text();
        }
        if let Verdict::Failed { stage, message } = &self.record.verdict {
            return format!("The program failed at the {stage} stage: {message}");
        }
        let velocity = self.record.evaluations.iter().any(|e| e.velocity.is_some());
        let mut s = fit_text(&self.record, velocity);
        if let Some(d) = &self.diagnostics {
            let d = d.text(output);
            if !d.is_empty() {
                s.push_str("\n\n");
                s.push_str(&d);
            }
        }
        s
    }

    /// The feedback text: the state block (when present), a blank line, the performance
    /// block; or the error text of a failed fit.
    pub fn text(&self) -> String {
        if let Verdict::Failed { stage, message } = &self.record.verdict {
            return format!("The program failed at the {stage} stage: {message}");
        }
        match &self.states {
            Some(states) => format!("{}\n\n{}", states.text(), performance_text(&self.record)),
            None => performance_text(&self.record),
        }
    }
}

/// Python's `%.2f` of the float32-rounded value.
fn f2(x: f64) -> String {
    py_fixed(x, 2)
}

fn py_fixed(x: f64, digits: usize) -> String {
    let x = x as f32;
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{x:.digits$}")
    }
}

/// The performance block of the SGA reference: parameter curves (sorted by name)
/// and loss curves with the values at the best evaluation; for a law without parameters,
/// the single evaluation.
pub fn performance_text(record: &FitRecord) -> String {
    let curve = |values: &mut dyn Iterator<Item = f64>, digits: usize| -> String {
        let v: Vec<String> = values.map(|x| py_fixed(x, digits)).collect();
        format!("[{}]", v.join(", "))
    };
    let evals = &record.evaluations;
    let velocity = |e: &super::fit::Evaluation| e.velocity.unwrap_or(f64::NAN);
    let mut s = String::new();
    if record.param_names.is_empty() {
        s.push_str("#### Evaluation loss (since it is a non-parametric model)\n\n");
        let _ = writeln!(
            s,
            "- position (Key loss): {}",
            curve(&mut evals.iter().map(|e| e.loss), 4)
        );
        let _ = write!(
            s,
            "- velocity: {}",
            curve(&mut evals.iter().map(velocity), 4)
        );
        return s;
    }
    let best = record.best.unwrap_or(0);
    s.push_str("#### Physical parameter training curves (versus iteration)\n\n");
    let mut order: Vec<usize> = (0..record.param_names.len()).collect();
    order.sort_by(|&a, &b| record.param_names[a].cmp(&record.param_names[b]));
    for i in order {
        let best_value = evals.get(best).map_or(f64::NAN, |e| e.params[i]);
        let _ = writeln!(
            s,
            "- {}: {} (Best: {})",
            record.param_names[i],
            curve(&mut evals.iter().map(|e| e.params[i]), 2),
            f2(best_value)
        );
    }
    s.push_str("\n#### Loss training curves (versus iteration)\n\n");
    let best_of = |f: &dyn Fn(&super::fit::Evaluation) -> f64| evals.get(best).map_or(f64::NAN, f);
    let _ = writeln!(
        s,
        "- position (Key loss): {} (Best: {})",
        curve(&mut evals.iter().map(|e| e.loss), 4),
        py_fixed(best_of(&|e| e.loss), 4)
    );
    let _ = write!(
        s,
        "- velocity: {} (Best: {})",
        curve(&mut evals.iter().map(velocity), 4),
        py_fixed(best_of(&velocity), 4)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::{key_frames, observed_key_frames};

    #[test]
    fn key_frames_move_to_the_frames_a_sparse_target_observes() {
        let all: Vec<usize> = (0..=1000).collect();
        assert_eq!(observed_key_frames(1000, &all), key_frames(1000));
        let every_10: Vec<usize> = (0..=100).map(|i| i * 10).collect();
        assert_eq!(
            observed_key_frames(1000, &every_10),
            vec![0, 110, 220, 330, 440, 550, 670, 780, 890, 1000]
        );
        let every_5: Vec<usize> = (0..=200).map(|i| i * 5).collect();
        assert_eq!(
            observed_key_frames(1000, &every_5),
            vec![0, 110, 220, 335, 445, 555, 665, 775, 890, 1000]
        );
        // Fewer observed frames than key frames: each once, in order.
        assert_eq!(
            observed_key_frames(1000, &[0, 500, 1000]),
            vec![0, 500, 1000]
        );
        assert_eq!(observed_key_frames(1000, &[]), Vec::<usize>::new());
    }

    #[test]
    fn a_target_observed_every_10th_frame_shows_ten_key_frames() {
        use crate::kinds::mpm::task::Task;
        use ansatz_engine::problem::Problem;
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let task = Task::load(dir.join("tasks/validation/gent.toml")).expect("task");
        assert_eq!(
            task.key_frames,
            vec![0, 110, 220, 330, 440, 550, 670, 780, 890, 1000]
        );
        let setup = task.brief().setup;
        assert!(
            setup.contains("t = 0, 0.055, 0.11, 0.165, 0.22, 0.275, 0.335, 0.39, 0.445, 0.5 s"),
            "{setup}"
        );
        let line = setup
            .lines()
            .find(|l| l.contains("positions: ["))
            .expect("an observed particle");
        assert_eq!(line.matches('(').count(), 10, "{line}");
    }
}
