//! The fixed elastic law of every plastic task: SigmaElasticity (as in the SGA reference).

use super::{clamp_min, lame, u_diag_wt};
use crate::{MaterialError, check_batch};
use ansatz_linalg::{Real, SVD_GAP_CLAMP, Svd, SvdMethod, re3, svd_signed_f64};

/// Derivative directions of the fast derivative path (the simulator's maximum).
const DIRECTIONS_MAX: usize = 8;
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
    ///
    /// The value comes from the signed SVD of the real part. The derivative is the
    /// composition of the Hencky formula with the clamped SVD derivative of
    /// [`ansatz_linalg::svd_signed`] (exact; as in the SGA reference), written out per direction
    /// in `f64`: with `P = Uᵀ dF V`, `τ = U diag(h) Uᵀ`, `hᵢ = 2μ εᵢ + λ Σ ε`,
    /// `dτ = U M Uᵀ`, `Mᵢᵢ = dhᵢ` (from `dσᵢ = Pᵢᵢ`, zero where the σ floor is active)
    /// and `Mᵢⱼ = Ω_U,ij (hⱼ − hᵢ)` with the clamped `Ω_U`. Same result as evaluating the
    /// formula in dual arithmetic on `svd_signed`, several times cheaper. The batch
    /// ([`Hencky::apply`]) takes the decomposition method of its scene.
    #[inline]
    pub fn kirchhoff_stress<T: Real>(&self, f: &Matrix3<T>) -> Matrix3<T> {
        self.kirchhoff_stress_from(f, &svd_signed_f64(&re3(f)), SvdMethod::Exact)
    }

    /// [`Hencky::kirchhoff_stress`] given `svd`, the signed SVD of `f`'s real part by
    /// `method` (which also decomposes on the dual-arithmetic fallback).
    #[inline]
    fn kirchhoff_stress_from<T: Real>(
        &self,
        f: &Matrix3<T>,
        svd: &Svd<f64>,
        method: SvdMethod,
    ) -> Matrix3<T> {
        let (u, v, sg) = (svd.u, svd.v, svd.sigma);
        let clamped = sg.map(|s| s.max(Self::SIGMA_FLOOR));
        let eps = clamped.map(f64::ln);
        let two_mu = 2.0 * self.mu;
        let trace = self.lambda * (eps[0] + eps[1] + eps[2]);
        let h = eps.map(|e| two_mu * e + trace);
        let tau = u * Matrix3::from_diagonal(&h) * u.transpose();
        if T::DIRECTIONS == 0 {
            return tau.map(T::cst);
        }
        if T::DIRECTIONS > DIRECTIONS_MAX {
            // More directions than the fast path holds: dual arithmetic on the signed SVD.
            return self.kirchhoff_stress_dual(f, method);
        }
        const PAIRS: [(usize, usize); 3] = [(0, 1), (0, 2), (1, 2)];
        let inv_d = PAIRS.map(|(i, j)| 1.0 / (sg[j] * sg[j] - sg[i] * sg[i]).min(-SVD_GAP_CLAMP));
        let mut d_tau = [Matrix3::<f64>::zeros(); DIRECTIONS_MAX];
        for (k, out) in d_tau.iter_mut().enumerate().take(T::DIRECTIONS) {
            let df = f.map(|x| x.eps(k));
            let p = u.tr_mul(&df) * v;
            // dε = dσ / σ where the floor is inactive.
            let de = Vector3::from_fn(|i, _| {
                if sg[i] > Self::SIGMA_FLOOR {
                    p[(i, i)] / clamped[i]
                } else {
                    0.0
                }
            });
            let dtrace = self.lambda * (de[0] + de[1] + de[2]);
            let mut m = Matrix3::from_diagonal(&de.map(|x| two_mu * x + dtrace));
            for (pair, &(i, j)) in PAIRS.iter().enumerate() {
                let omega = (sg[j] * p[(i, j)] + sg[i] * p[(j, i)]) * inv_d[pair];
                let mij = omega * (h[j] - h[i]);
                m[(i, j)] = mij;
                m[(j, i)] = mij;
            }
            *out = u * m * u.transpose();
        }
        Matrix3::from_fn(|i, j| T::from_fn(tau[(i, j)], |k| d_tau[k][(i, j)]))
    }

    /// The same stress in plain dual arithmetic on the signed SVD by `method`
    /// ([`SvdMethod::signed`]; the reference path).
    pub fn kirchhoff_stress_dual<T: Real>(&self, f: &Matrix3<T>, method: SvdMethod) -> Matrix3<T> {
        let svd = method.signed(f);
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

    /// Kirchhoff stress of a batch, the decompositions by `svd`.
    pub fn apply<T: Real>(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        svd: SvdMethod,
    ) -> Result<(), MaterialError> {
        check_batch(def_grad.len(), out.len())?;
        // The decompositions several at a time (same results as one at a time).
        svd.signed_f64_each(
            def_grad.len(),
            |p| re3(&def_grad[p]),
            |p, d| out[p] = self.kirchhoff_stress_from(&def_grad[p], &d, svd),
        );
        Ok(())
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

    #[test]
    fn fast_derivative_equals_dual_arithmetic() {
        use ansatz_linalg::DualSVec64;
        let h = Hencky::default();
        let base = [
            Matrix3::new(1.1, 0.2, -0.05, 0.03, 0.92, 0.1, -0.02, 0.04, 1.05),
            Matrix3::new(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0),
            Matrix3::new(1.02, 0.0, 0.0, 0.0, 1.02, 0.0, 0.0, 0.0, 0.97),
        ];
        let dirs = [
            Matrix3::new(0.3, -0.1, 0.2, 0.05, 0.1, -0.3, 0.2, 0.1, -0.2),
            Matrix3::new(-0.1, 0.4, 0.0, 0.2, -0.2, 0.1, 0.0, 0.3, 0.1),
        ];
        for f in base {
            let fd =
                Matrix3::from_fn(|i, j| DualSVec64::<2>::from_fn(f[(i, j)], |k| dirs[k][(i, j)]));
            let fast = h.kirchhoff_stress(&fd);
            let slow = h.kirchhoff_stress_dual(&fd, SvdMethod::Exact);
            for (a, b) in fast.iter().zip(slow.iter()) {
                assert!((a.re - b.re).abs() < 1e-9 * h.mu, "{a:?} {b:?}");
                for k in 0..2 {
                    let (x, y) = (a.eps(k), b.eps(k));
                    assert!((x - y).abs() < 1e-7 * (1.0 + x.abs()) * h.mu, "{f} {x} {y}");
                }
            }
        }
    }
}
