//! Hand-written Rust versions of the SGA laws (as in the SGA reference).
//!
//! Every material is generic over the scalar `T`, keeps its parameters as `T` fields
//! (so a gradient rollout seeds them as dual variables, see [`seed_params`]), has the
//! reference defaults in `Default`, and a constructor `from_params` taking the parameters
//! in the order of its `PARAM_NAMES`. `where`/`max` follow the reference: the derivative
//! is the one of the branch taken.

mod elastic;
mod hencky;
mod plastic;

pub use elastic::{Corotated, Linear, NeoHookean};
pub use hencky::Hencky;
pub use plastic::{DruckerPrager, Identity, Mixture, VonMises, Water, sand_alpha};

use crate::MaterialError;
use ansatz_linalg::Real;
use nalgebra::{Matrix3, Vector3};

pub use ansatz_linalg::seed_params;

/// Lamé parameters `(μ, λ)` from Young's modulus `E` and Poisson's ratio `ν`:
/// `μ = E / (2(1+ν))`, `λ = E ν / ((1+ν)(1−2ν))`.
#[inline]
pub fn lame<T: Real>(youngs: T, poisson: T) -> (T, T) {
    let one = T::one();
    let two = T::cst(2.0);
    let mu = youngs / (two * (one + poisson));
    let lambda = youngs * poisson / ((one + poisson) * (one - two * poisson));
    (mu, lambda)
}

/// `1 / (1 + exp(−x))`.
#[inline]
pub fn sigmoid<T: Real>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// `max(x, floor)` with the derivative of the branch taken (0 when clamped).
#[inline]
pub(crate) fn clamp_min<T: Real>(x: T, floor: f64) -> T {
    if x.re() > floor { x } else { T::cst(floor) }
}

/// Euclidean norm of a 3-vector; its derivative at the zero vector is taken as 0
/// (torch's subgradient), so it never produces `0 · ∞`.
#[inline]
pub(crate) fn norm3<T: Real>(v: &Vector3<T>) -> T {
    let sq = v[0] * v[0] + v[1] * v[1] + v[2] * v[2];
    let r = sq.re().sqrt();
    sq.chain(r, if r > 0.0 { 0.5 / r } else { 0.0 })
}

/// `U diag(s) Wᵀ`.
#[inline]
pub(crate) fn u_diag_wt<T: Real>(u: &Matrix3<T>, s: &Vector3<T>, w: &Matrix3<T>) -> Matrix3<T> {
    Matrix3::from_fn(|i, j| {
        u[(i, 0)] * s[0] * w[(j, 0)] + u[(i, 1)] * s[1] * w[(j, 1)] + u[(i, 2)] * s[2] * w[(j, 2)]
    })
}

/// Checks the length of a parameter slice and returns it as an array.
pub(crate) fn take_params<T: Real, const K: usize>(
    material: &'static str,
    params: &[T],
) -> Result<[T; K], MaterialError> {
    params
        .try_into()
        .map_err(|_| MaterialError::ParameterCount {
            material,
            expected: K,
            got: params.len(),
        })
}
