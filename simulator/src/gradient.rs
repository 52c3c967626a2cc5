//! Loss and exact gradient for a run-time number of parameters: the scalar is chosen by a
//! match on the parameter count (`f64` for none, `DualSVec64<N>` for N = 1..=8).

use crate::fast::SimScalar;
use crate::materials::{
    Corotated, DruckerPrager, Identity, Linear, Mixture, NeoHookean, VonMises, Water,
};
use crate::{
    LossConfig, LossReport, Material, MaterialError, Scene, SimError, Trajectory, loss_parallel,
};
use ansatz_linalg::{DualSVec64, Real};

/// Largest number of parameters [`loss_and_gradient`] differentiates in one rollout.
pub const MAX_PARAMS: usize = 8;

/// Builds a material from parameter values of any scalar type; the root crate implements
/// it for compiled law programs.
pub trait MaterialFactory {
    /// The material with parameters `params` (in the factory's parameter order).
    fn build<T: Real>(&self, params: &[T]) -> Result<Box<dyn Material<T> + '_>, MaterialError>;
}

/// Position loss, velocity loss and per-frame errors (values), with the gradient of the
/// position loss with respect to `params`, from one dual-number rollout.
#[derive(Clone, Debug, PartialEq)]
pub struct LossGradient {
    /// The loss values (real parts).
    pub loss: LossReport<f64>,
    /// `∂ loss.position / ∂ params[i]`.
    pub gradient: Vec<f64>,
}

/// Evaluates the loss of `factory.build(params)` and its exact gradient (forward mode,
/// one dual direction per parameter). At most [`MAX_PARAMS`] parameters. The
/// teacher-forced segments run in parallel ([`crate::loss_parallel`]).
pub fn loss_and_gradient<F: MaterialFactory + Sync + ?Sized>(
    scene: &Scene,
    factory: &F,
    params: &[f64],
    target: &Trajectory,
    config: &LossConfig,
) -> Result<LossGradient, SimError> {
    fn run<T: SimScalar + Send + Sync, F: MaterialFactory + Sync + ?Sized>(
        scene: &Scene,
        factory: &F,
        params: &[f64],
        target: &Trajectory,
        config: &LossConfig,
    ) -> Result<LossGradient, SimError> {
        let seeded: Vec<T> = crate::materials::seed_params(params);
        let report = loss_parallel(scene, factory, &seeded, target, config)?;
        let gradient = (0..params.len()).map(|i| report.position.eps(i)).collect();
        Ok(LossGradient {
            loss: LossReport {
                position: report.position.re(),
                tangent_gram: report.tangent_gram,
                velocity: report.velocity,
                frames: report.frames,
            },
            gradient,
        })
    }
    match params.len() {
        0 => run::<f64, F>(scene, factory, params, target, config),
        1 => run::<DualSVec64<1>, F>(scene, factory, params, target, config),
        2 => run::<DualSVec64<2>, F>(scene, factory, params, target, config),
        3 => run::<DualSVec64<3>, F>(scene, factory, params, target, config),
        4 => run::<DualSVec64<4>, F>(scene, factory, params, target, config),
        5 => run::<DualSVec64<5>, F>(scene, factory, params, target, config),
        6 => run::<DualSVec64<6>, F>(scene, factory, params, target, config),
        7 => run::<DualSVec64<7>, F>(scene, factory, params, target, config),
        8 => run::<DualSVec64<8>, F>(scene, factory, params, target, config),
        got => Err(SimError::Material {
            step: 0,
            source: MaterialError::ParameterCount {
                material: "loss_and_gradient",
                expected: MAX_PARAMS,
                got,
            },
        }),
    }
}

/// The hand-written materials as a [`MaterialFactory`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// [`Linear`] (2 parameters).
    Linear,
    /// [`Corotated`] (2 parameters).
    Corotated,
    /// [`NeoHookean`] (2 parameters).
    NeoHookean,
    /// [`Identity`] (no parameters).
    Identity,
    /// [`VonMises`] (3 parameters).
    VonMises,
    /// [`DruckerPrager`] (4 parameters).
    DruckerPrager,
    /// [`Water`] (no parameters).
    Water,
    /// [`Mixture`] (5 parameters).
    Mixture,
}

impl Preset {
    /// The reference default parameters, in `from_params` order.
    pub fn defaults(self) -> Vec<f64> {
        match self {
            Preset::Linear => Linear::<f64>::DEFAULTS.to_vec(),
            Preset::Corotated => Corotated::<f64>::DEFAULTS.to_vec(),
            Preset::NeoHookean => NeoHookean::<f64>::DEFAULTS.to_vec(),
            Preset::Identity | Preset::Water => Vec::new(),
            Preset::VonMises => VonMises::<f64>::DEFAULTS.to_vec(),
            Preset::DruckerPrager => DruckerPrager::<f64>::defaults().to_vec(),
            Preset::Mixture => Mixture::<f64>::defaults().to_vec(),
        }
    }
}

impl MaterialFactory for Preset {
    fn build<T: Real>(&self, params: &[T]) -> Result<Box<dyn Material<T> + '_>, MaterialError> {
        let none = |material: &'static str| {
            if params.is_empty() {
                Ok(())
            } else {
                Err(MaterialError::ParameterCount {
                    material,
                    expected: 0,
                    got: params.len(),
                })
            }
        };
        Ok(match self {
            Preset::Linear => Box::new(Linear::from_params(params)?),
            Preset::Corotated => Box::new(Corotated::from_params(params)?),
            Preset::NeoHookean => Box::new(NeoHookean::from_params(params)?),
            Preset::Identity => {
                none("identity")?;
                Box::new(Identity)
            }
            Preset::VonMises => Box::new(VonMises::from_params(params)?),
            Preset::DruckerPrager => Box::new(DruckerPrager::from_params(params)?),
            Preset::Water => {
                none("water")?;
                Box::new(Water)
            }
            Preset::Mixture => Box::new(Mixture::from_params(params)?),
        })
    }
}
