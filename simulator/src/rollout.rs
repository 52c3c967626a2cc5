//! Free rollouts: simulate a scene with a material and record the trajectory.

use crate::fast::{FastScalar, SimScalar};
use crate::{Material, Scene, SimError, Simulator, Trajectory};
use nalgebra::Vector3;

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
pub fn rollout<T: SimScalar, M: Material<T> + ?Sized>(
    scene: &Scene,
    material: &M,
    recording: Recording,
) -> Result<Trajectory, SimError> {
    let mut sim = Simulator::<T>::new(scene)?;
    let mut traj = Trajectory::default();
    let record = |traj: &mut Trajectory, sim: &Simulator<T>, frame: usize| {
        let re = |v: &[T::Fast; 3]| Vector3::new(v[0].re(), v[1].re(), v[2].re());
        traj.frames.push(frame);
        traj.positions
            .push(sim.particles.x.iter().map(re).collect());
        if recording.velocities {
            traj.velocities
                .get_or_insert_with(Vec::new)
                .push(sim.particles.v.iter().map(re).collect());
        }
        if let Some(k) = recording.states_every
            && (frame.is_multiple_of(k.max(1)) || frame == scene.steps)
        {
            traj.states.push((frame, sim.state().to_f64()));
        }
    };
    record(&mut traj, &sim, 0);
    for step in 0..scene.steps {
        sim.advance(material, step)?;
        record(&mut traj, &sim, step + 1);
    }
    Ok(traj)
}
