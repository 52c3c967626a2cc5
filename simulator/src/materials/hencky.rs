//! The fixed elastic law of every plastic task: SigmaElasticity (spec/sga.md, section 3.2).

use super::{clamp_min, lame, u_diag_wt};
use crate::{MaterialError, apply_pointwise};
use ansatz_linalg::{Real, svd_signed};
use nalgebra::{Matrix3, Vector3};

/// Hencky (StVK in log strain) elasticity with fixed moduli `E = exp(ln 1e5)`, `ν = 0.2`:
/// `τ = U diag(2μ εᵢ + λ Σⱼ εⱼ) Uᵀ`, `εᵢ = ln(max(σᵢ, 1e-5))`, `(U, σ)` from the signed SVD.
///
/// Not trainable: it is not a [`crate::Material`] but the stress stage of the plastic path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hencky {
    /// Shear modulus μ.
    pub mu: f64,
    /// Lamé's first parameter λ.
    pub lambda: f64,
}

impl Default for Hencky {
    fn default() -> Self {
        let (mu, lambda) = lame(1e5f64.ln().exp(), 0.2);
        Self { mu, lambda }
    }
}

impl Hencky {
    /// Floor on the singular values before the logarithm.
    pub const SIGMA_FLOOR: f64 = 1e-5;

    /// Kirchhoff stress of one deformation gradient.
    #[inline]
    pub fn kirchhoff_stress<T: Real>(&self, f: &Matrix3<T>) -> Matrix3<T> {
        let svd = svd_signed(f);
        let eps = svd.sigma.map(|s| clamp_min(s, Self::SIGMA_FLOOR).ln());
        let trace = (eps[0] + eps[1] + eps[2]) * T::cst(self.lambda);
        let two_mu = T::cst(2.0 * self.mu);
        let d = Vector3::new(
            two_mu * eps[0] + trace,
            two_mu * eps[1] + trace,
            two_mu * eps[2] + trace,
        );
        u_diag_wt(&svd.u, &d, &svd.u)
    }

    /// Kirchhoff stress of a batch.
    pub fn apply<T: Real>(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
    ) -> Result<(), MaterialError> {
        apply_pointwise(def_grad, out, |f| self.kirchhoff_stress(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotropic_stretch_is_bulk_log() {
        let h = Hencky::default();
        assert!((h.mu - 41666.67).abs() < 0.01);
        assert!((h.lambda - 27777.78).abs() < 0.01);
        let s: f64 = 1.1;
        let tau = h.kirchhoff_stress(&(Matrix3::identity() * s));
        let k = h.lambda + 2.0 * h.mu / 3.0;
        let expect = Matrix3::identity() * (k * (s * s * s).ln());
        assert!((tau - expect).norm() < 1e-8 * expect.norm(), "{tau}");
    }
}
