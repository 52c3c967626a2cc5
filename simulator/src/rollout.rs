//! Free rollouts: simulate a scene with a material and record the trajectory.

use crate::{Material, Scene, SimError, Simulator, State, Trajectory};
use ansatz_linalg::Real;

/// What a rollout records besides the positions of every frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recording {
    /// Record velocities at every frame.
    pub velocities: bool,
    /// Record the full state every this many frames (and at the last frame); `None` for
    /// no full states. 100 gives the teacher-forcing frames of the SGA tasks.
    pub states_every: Option<usize>,
}

impl Default for Recording {
    /// Velocities and full states every 100 frames, like the SGA ground truths.
    fn default() -> Self {
        Self {
            velocities: true,
            states_every: Some(100),
        }
    }
}

/// Simulates `scene.steps` steps from the scene's initial state and records frames
/// `0..=steps` (real parts only).
pub fn rollout<T: Real, M: Material<T> + ?Sized>(
    scene: &Scene,
    material: &M,
    recording: Recording,
) -> Result<Trajectory, SimError> {
    let mut sim = Simulator::<T>::new(scene)?;
    let mut state = State::<T>::initial(scene);
    let mut traj = Trajectory::default();
    let record = |traj: &mut Trajectory, state: &State<T>, frame: usize| {
        let re = |v: &nalgebra::Vector3<T>| v.map(|c| c.re());
        traj.frames.push(frame);
        traj.positions.push(state.x.iter().map(re).collect());
        if recording.velocities {
            traj.velocities
                .get_or_insert_with(Vec::new)
                .push(state.v.iter().map(re).collect());
        }
        if let Some(k) = recording.states_every
            && (frame % k.max(1) == 0 || frame == scene.steps)
        {
            traj.states.push((frame, state.to_f64()));
        }
    };
    record(&mut traj, &state, 0);
    for step in 0..scene.steps {
        sim.step(&mut state, material, step)?;
        record(&mut traj, &state, step + 1);
    }
    Ok(traj)
}
