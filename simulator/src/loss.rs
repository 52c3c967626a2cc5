//! The SGA loss (as in the SGA reference): position mean squared error averaged over the
//! observed steps, scaled by `alpha_position`, with teacher forcing; the velocity loss is
//! reported beside it (values only).
//!
//! Teacher forcing every `K` steps: before each step `s` with `s % K == 0` the state
//! `(x, v, C, F)` is reset to the target's full state of frame `s`, with zero derivatives,
//! so a rollout is a sum of independent `K`-step segments. The target must hold a full
//! state at each of these frames, else the loss fails with [`SimError::InvalidTarget`].
//! Without teacher forcing the rollout starts from the scene's initial state.
//!
//! Sparse observations: after step `s` the simulated frame `s + 1` is compared with the
//! target only when the target lists positions for frame `s + 1`; the position loss is
//! `α / (S · N · 3) Σ (x − x̂)²` over those `S` observed frames (with every frame observed
//! this is exactly the reference `α / T Σ_s mean((x_{s+1} − x̂_{s+1})²)`). The velocity
//! loss uses the observed frames that carry velocities (`None` if there are none).

use crate::fast::{FastScalar, SimScalar};
use crate::{Material, MaterialFactory, Scene, SimError, Simulator, Trajectory};

/// Loss settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossConfig {
    /// Weight of the position loss (1e4 in most SGA tasks, 1e5 for plasticine).
    pub alpha_position: f64,
    /// Weight of the velocity loss (10), reported only.
    pub alpha_velocity: f64,
    /// Teacher forcing every this many steps (100 in SGA); `None` for a free rollout.
    pub teacher_every: Option<usize>,
}

impl Default for LossConfig {
    /// The SGA settings: α = 1e4, α_v = 10, teacher forcing every 100 steps.
    fn default() -> Self {
        Self {
            alpha_position: 1e4,
            alpha_velocity: 10.0,
            teacher_every: Some(100),
        }
    }
}

/// Unscaled errors at one observed frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameError {
    /// The frame (the state after step `frame − 1`).
    pub frame: usize,
    /// Mean over the `N × 3` entries of the squared position error.
    pub position_mse: f64,
    /// Same for velocities, when the target has them at this frame.
    pub velocity_mse: Option<f64>,
}

/// The result of a loss evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct LossReport<T> {
    /// The position loss; for dual numbers its derivative parts are the exact gradient
    /// with respect to the seeded parameters.
    pub position: T,
    /// Only from [`loss_short_gram`] with dual numbers (else empty): the Gram matrix of the
    /// residuals' tangents, `G_kl = α / (S · N · 3) Σ ∂(x − x̂)/∂θ_k · ∂(x − x̂)/∂θ_l` over the
    /// observed entries (row-major, one row per derivative direction): half the
    /// Gauss–Newton curvature of the position loss. With the gradient `g`, the step `δ`
    /// solving `2 G δ = −g` minimises the linearised loss.
    pub tangent_gram: Vec<f64>,
    /// The velocity loss (value only), if the target has velocities.
    pub velocity: Option<f64>,
    /// Per observed frame errors, in frame order.
    pub frames: Vec<FrameError>,
}

/// The sums one run of consecutive steps contributes to the loss.
struct Segment<F> {
    sum: F,
    gram: Vec<f64>,
    vel_sum: f64,
    vel_frames: usize,
    frames: Vec<FrameError>,
}

/// The step ranges simulated independently: one per teacher-forcing interval, or the whole
/// rollout.
fn segments(steps: usize, config: &LossConfig) -> Result<Vec<(usize, usize)>, SimError> {
    match config.teacher_every {
        Some(0) => Err(SimError::InvalidTarget(
            "teacher_every must be positive".into(),
        )),
        Some(k) => Ok((0..steps)
            .step_by(k)
            .map(|s| (s, (s + k).min(steps)))
            .collect()),
        None => Ok(vec![(0, steps)]),
    }
}

/// Simulates steps `from..to` (from the target's state at `from` under teacher forcing, or
/// from the scene's initial state) and sums the errors of the observed frames.
fn segment<T: SimScalar, M: Material<T> + ?Sized>(
    scene: &Scene,
    material: &M,
    target: &Trajectory,
    config: &LossConfig,
    (from, to): (usize, usize),
    gram: bool,
) -> Result<Segment<T::Fast>, SimError> {
    let directions = <T::Fast as FastScalar>::DIRECTIONS;
    let n = scene.n_particles();
    let mut sim = Simulator::<T>::new(scene)?;
    let mut seg = Segment {
        sum: T::Fast::cst(0.0),
        gram: if gram {
            vec![0.0; directions * directions]
        } else {
            Vec::new()
        },
        vel_sum: 0.0,
        vel_frames: 0,
        frames: Vec::new(),
    };
    for step in from..to {
        if let Some(k) = config.teacher_every
            && step % k == 0
        {
            let Some(observed) = target.state_at(step) else {
                return Err(SimError::InvalidTarget(format!(
                    "teacher forcing at step {step} needs the full state of frame {step}"
                )));
            };
            sim.reset(observed)?;
        }
        sim.advance(material, step)?;
        let frame = step + 1;
        let Some(i) = target.position_index(frame) else {
            continue;
        };
        let mut frame_sum = T::Fast::cst(0.0);
        for (x, xt) in sim.particles.x.iter().zip(&target.positions[i]) {
            for c in 0..3 {
                let d = x[c] - T::Fast::cst(xt[c]);
                frame_sum += d * d;
                if gram {
                    d.add_tangent_gram(&mut seg.gram);
                }
            }
        }
        seg.sum += frame_sum;
        let velocity_mse = target.velocities.as_ref().map(|vs| {
            let se: f64 = sim
                .particles
                .v
                .iter()
                .zip(&vs[i])
                .map(|(v, vt)| (0..3).map(|c| (v[c].re() - vt[c]).powi(2)).sum::<f64>())
                .sum();
            se / (3 * n) as f64
        });
        if let Some(m) = velocity_mse {
            seg.vel_sum += m;
            seg.vel_frames += 1;
        }
        seg.frames.push(FrameError {
            frame,
            position_mse: frame_sum.re() / (3 * n) as f64,
            velocity_mse,
        });
    }
    Ok(seg)
}

/// Adds up the segments in order (the same sums whatever ran them, and in what order).
fn combine<T: SimScalar>(
    scene: &Scene,
    config: &LossConfig,
    parts: Vec<Segment<T::Fast>>,
) -> Result<LossReport<T>, SimError> {
    let n = scene.n_particles();
    let mut sum = T::Fast::cst(0.0);
    let mut tangent_gram: Vec<f64> = Vec::new();
    let (mut vel_sum, mut vel_frames) = (0.0, 0usize);
    let mut frames = Vec::new();
    for seg in parts {
        sum += seg.sum;
        if tangent_gram.is_empty() {
            tangent_gram = vec![0.0; seg.gram.len()];
        }
        for (t, s) in tangent_gram.iter_mut().zip(&seg.gram) {
            *t += s;
        }
        vel_sum += seg.vel_sum;
        vel_frames += seg.vel_frames;
        frames.extend(seg.frames);
    }
    if frames.is_empty() {
        return Err(SimError::InvalidTarget(
            "the target observes none of the simulated frames".into(),
        ));
    }
    let scale = config.alpha_position / (frames.len() * 3 * n) as f64;
    let position: T = sum.scale(scale).to_real();
    if !position.is_all_finite() {
        return Err(SimError::NonFinite {
            step: scene.steps.saturating_sub(1),
            particle: 0,
            quantity: crate::NonFiniteQuantity::Loss,
        });
    }
    tangent_gram.iter_mut().for_each(|t| *t *= scale);
    Ok(LossReport {
        position,
        tangent_gram,
        velocity: (vel_frames > 0).then(|| config.alpha_velocity * vel_sum / vel_frames as f64),
        frames,
    })
}

/// Evaluates the loss of `material` on `scene` against `target` (see the module docs).
pub fn loss<T: SimScalar, M: Material<T> + ?Sized>(
    scene: &Scene,
    material: &M,
    target: &Trajectory,
    config: &LossConfig,
) -> Result<LossReport<T>, SimError> {
    target.validate(scene.n_particles())?;
    let parts = segments(scene.steps, config)?
        .into_iter()
        .map(|range| segment::<T, M>(scene, material, target, config, range, false))
        .collect::<Result<Vec<_>, _>>()?;
    combine(scene, config, parts)
}

/// [`loss`] with the teacher-forced segments simulated in parallel (rayon), each with its
/// own material from `factory.build(params)`. The result equals [`loss`] bit for bit,
/// whatever the number of threads; the first failing segment's error is returned.
pub fn loss_parallel<T: SimScalar + Send + Sync, F: MaterialFactory + Sync + ?Sized>(
    scene: &Scene,
    factory: &F,
    params: &[T],
    target: &Trajectory,
    config: &LossConfig,
) -> Result<LossReport<T>, SimError> {
    target.validate(scene.n_particles())?;
    let ranges = segments(scene.steps, config)?;
    run_parallel(scene, factory, params, target, config, ranges, false)
}

/// A short-horizon estimate of [`loss_parallel`]: the loss over `count` of the
/// teacher-forced segments, spread evenly over the rollout (the `i`-th of `count` is the
/// segment at `(i + 1/2) / count` of the way), or over the first `1/count` of the steps of a
/// free rollout. Each segment starts from the observed state, so the selected segments are
/// exactly the terms they contribute to the full loss (scaled by the frames they observe);
/// `count` at least the number of segments gives [`loss_parallel`]'s value.
pub fn loss_short<T: SimScalar + Send + Sync, F: MaterialFactory + Sync + ?Sized>(
    scene: &Scene,
    factory: &F,
    params: &[T],
    target: &Trajectory,
    config: &LossConfig,
    count: usize,
) -> Result<LossReport<T>, SimError> {
    short(scene, factory, params, target, config, count, false)
}

/// [`loss_short`] with [`LossReport::tangent_gram`] (for dual numbers): the loss, its
/// gradient and its Gauss–Newton curvature in the seeded directions from one rollout.
pub fn loss_short_gram<T: SimScalar + Send + Sync, F: MaterialFactory + Sync + ?Sized>(
    scene: &Scene,
    factory: &F,
    params: &[T],
    target: &Trajectory,
    config: &LossConfig,
    count: usize,
) -> Result<LossReport<T>, SimError> {
    short(scene, factory, params, target, config, count, true)
}

fn short<T: SimScalar + Send + Sync, F: MaterialFactory + Sync + ?Sized>(
    scene: &Scene,
    factory: &F,
    params: &[T],
    target: &Trajectory,
    config: &LossConfig,
    count: usize,
    gram: bool,
) -> Result<LossReport<T>, SimError> {
    target.validate(scene.n_particles())?;
    let count = count.max(1);
    let all = segments(scene.steps, config)?;
    let ranges = if config.teacher_every.is_none() {
        vec![(0, scene.steps.div_ceil(count).min(scene.steps))]
    } else if count >= all.len() {
        all
    } else {
        (0..count)
            .map(|i| all[((2 * i + 1) * all.len()) / (2 * count)])
            .collect()
    };
    run_parallel(scene, factory, params, target, config, ranges, gram)
}

fn run_parallel<T: SimScalar + Send + Sync, F: MaterialFactory + Sync + ?Sized>(
    scene: &Scene,
    factory: &F,
    params: &[T],
    target: &Trajectory,
    config: &LossConfig,
    ranges: Vec<(usize, usize)>,
    gram: bool,
) -> Result<LossReport<T>, SimError> {
    use rayon::prelude::*;
    let parts: Vec<Result<Segment<T::Fast>, SimError>> = ranges
        .into_par_iter()
        .map(|range| {
            let material = factory.build(params).map_err(|source| SimError::Material {
                step: range.0,
                source,
            })?;
            segment::<T, _>(scene, material.as_ref(), target, config, range, gram)
        })
        .collect();
    let parts = parts.into_iter().collect::<Result<Vec<_>, _>>()?;
    combine(scene, config, parts)
}
