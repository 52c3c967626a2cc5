//! A differentiable 3D MLS-MPM simulator (APIC transfer, quadratic B-splines) that
//! reproduces the SGA reference step by step (as in the SGA reference), generic over
//! the scalar: `f64` for values, `DualSVec64<N>` for values plus the exact gradient with
//! respect to up to 8 law parameters from a single rollout.
//!
//! * [`Scene`]: particles and constants as data; [`Scene::sga_cube`] is the SGA scene.
//!   [`Scene::svd`] chooses the laws' SVD: exact (default) or the reference's own
//!   approximate `f32` one, to match the reference's plastic numbers to their rounding.
//! * [`Material`]: the constitutive law (elastic F → τ, or plastic F → F̃ followed by the
//!   fixed [`materials::Hencky`] law); [`materials`] holds hand-written SGA laws.
//! * [`Simulator`], [`rollout`]: stepping and free rollouts. The grid transfers run on a
//!   fast twin of the scalar ([`SimScalar`]: `f64`, or [`FastDual`] for `DualSVec64<N>`);
//!   only F and the stress cross to the material's scalar each step.
//! * [`loss`], [`loss_and_gradient`]: the teacher-forced SGA loss and its gradient.
//! * [`Trajectory`]: observed or simulated frames; `.npz` files NumPy can read.
//!
//! ```
//! use ansatz_simulator::{LossConfig, Recording, Scene, loss, rollout, materials};
//! use ansatz_linalg::{DualSVec64, Real};
//!
//! // A short scene, a ground truth from the neo-Hookean law, and the gradient of the
//! // loss of the linear law with respect to its two parameters.
//! let mut scene = Scene::sga_cube();
//! scene.steps = 20;
//! let recording = Recording { velocities: true, states_every: Some(10) };
//! let truth = rollout::<f64, _>(&scene, &materials::NeoHookean::default(), recording).unwrap();
//! let theta = materials::seed_params::<DualSVec64<2>>(&[10.0, -1.0]);
//! let law = materials::Linear::from_params(&theta).unwrap();
//! let config = LossConfig { teacher_every: Some(10), ..LossConfig::default() };
//! let report = loss(&scene, &law, &truth, &config).unwrap();
//! assert!(report.position.re() > 0.0);
//! assert!(report.position.eps(0) != 0.0 && report.position.eps(1) != 0.0);
//! ```
#![warn(missing_docs)]

mod error;
mod fast;
mod gradient;
mod loss;
mod material;
pub mod materials;
mod mpm;
pub mod npy;
pub mod npz;
mod rollout;
mod scene;
mod state;
mod trajectory;

pub use error::{MaterialError, NonFiniteQuantity, SimError, TrajectoryError};
pub use fast::{FastDual, FastScalar, SimScalar};
pub use gradient::{LossGradient, MAX_PARAMS, MaterialFactory, Preset, loss_and_gradient};
pub use loss::{
    FrameError, LossConfig, LossReport, loss, loss_parallel, loss_short, loss_short_gram,
};
pub use material::{
    Material, MaterialKind, StepContext, apply_pointwise, apply_with_svd, check_batch,
};
pub use mpm::Simulator;
pub use rollout::{Recording, rollout};
pub use scene::Scene;
pub use state::State;
pub use trajectory::Trajectory;
