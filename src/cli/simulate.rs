//! `ansatz simulate TASK.toml [--law LAW.law] [--params P.json] --out FILE.npz`: a free
//! rollout of the task's scene (the ground-truth law by default) written as a trajectory
//! NumPy can load (`x`, `v`, `frames`, full states every teacher-forcing interval).

use super::{ProgressTicker, read_params};
use ansatz::kinds::mpm::material::LawFactory;
use ansatz::kinds::mpm::task::{Task, TaskError};
use ansatz_simulator::{MaterialFactory, Recording, rollout};
use std::path::Path;
use std::process::ExitCode;

/// Runs `ansatz simulate`.
pub fn run(
    task: &Path,
    law: Option<&Path>,
    params: Option<&str>,
    out: &Path,
) -> anyhow::Result<ExitCode> {
    let ticker = ProgressTicker::spinner("loading the task");
    let task = Task::load(task);
    ticker.finish();
    let task = task.map_err(super::invalid)?;
    let (law, values) = match law {
        Some(path) => match task.load_law(path) {
            Ok((law, _)) => {
                let values = law.compiled().defaults().to_vec();
                (law, values)
            }
            Err(TaskError::Law { path, message }) => {
                eprintln!("{}: {message}", path.display());
                return Ok(ExitCode::from(super::check::INVALID_LAW));
            }
            Err(e) => return Err(super::invalid(e)),
        },
        None => match &task.truth {
            Some((law, _, values)) => (law.clone(), values.clone()),
            None => (
                task.start.0.clone(),
                task.start.0.compiled().defaults().to_vec(),
            ),
        },
    };
    let values = match params {
        Some(p) => read_params(p, &law)?,
        None => values,
    };
    let factory = LawFactory::new(law.compiled().clone(), task.kind);
    let material = factory.build::<f64>(&values)?;
    let recording = Recording {
        velocities: true,
        states_every: task.loss.teacher_every.or(Some(task.scene.steps.max(1))),
    };
    let ticker = ProgressTicker::spinner(&format!("simulating {} steps", task.scene.steps));
    let traj = rollout::<f64, _>(&task.scene, material.as_ref(), recording);
    ticker.finish();
    let traj = traj?;
    traj.write_npz(out)?;
    eprintln!(
        "wrote {} frames of {} particles to {}",
        traj.frames.len(),
        traj.n_particles(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
