//! Plastic SGA templates (as in the SGA reference): they return the corrected
//! deformation gradient F̃, from which the fixed [`super::Hencky`] law gives the stress.

use super::{clamp_min, lame, norm3, take_params, u_diag_wt};
use crate::{Material, MaterialError, MaterialKind, StepContext, apply_pointwise, apply_with_svd};
use ansatz_linalg::{Real, Svd, det3};
use nalgebra::{Matrix3, Vector3};

/// Drucker–Prager α from a friction angle in degrees: `√(2/3) · 2 sin φ / (3 − sin φ)`
/// (25° gives 0.267765043).
pub fn sand_alpha(friction_angle_deg: f64) -> f64 {
    let s = friction_angle_deg.to_radians().sin();
    (2.0f64 / 3.0).sqrt() * 2.0 * s / (3.0 - s)
}

/// No plasticity: `F̃ = F`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Identity;

impl<T: Real> Material<T> for Identity {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Plastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        _ctx: StepContext,
    ) -> Result<(), MaterialError> {
        apply_pointwise(def_grad, out, |f| *f)
    }
}

/// Von Mises return mapping ("plasticine"), θ = (youngs_modulus_log, poissons_ratio,
/// yield_stress), `μ = E / (2(1+ν))`: `σ ← max(σ, 0.01)`, `ε = ln σ`, `ε̄ = ε − mean ε`,
/// `n = ‖ε̄‖ + 1e-5`, `Δγ = n − yield / (2μ)`; if `Δγ > 0`, `σ ← exp(ε − (Δγ/n) ε̄)`;
/// `F̃ = U diag(σ) Vᵀ`. Defaults (13, 0.25, 3e4).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VonMises<T> {
    /// `ln E`.
    pub youngs_modulus_log: T,
    /// `ν` (raw, no sigmoid).
    pub poissons_ratio: T,
    /// Yield stress.
    pub yield_stress: T,
}

impl<T: Real> VonMises<T> {
    /// Parameter names, in the order of [`Self::from_params`].
    pub const PARAM_NAMES: [&'static str; 3] =
        ["youngs_modulus_log", "poissons_ratio", "yield_stress"];
    /// Reference default (and plasticine ground-truth) values.
    pub const DEFAULTS: [f64; 3] = [13.0, 0.25, 3e4];

    /// From `[youngs_modulus_log, poissons_ratio, yield_stress]`.
    pub fn from_params(params: &[T]) -> Result<Self, MaterialError> {
        let [youngs_modulus_log, poissons_ratio, yield_stress] = take_params("von_mises", params)?;
        Ok(Self {
            youngs_modulus_log,
            poissons_ratio,
            yield_stress,
        })
    }

    /// `yield / (2μ)`, the threshold on `‖ε̄‖`.
    fn threshold(&self) -> T {
        let (mu, _) = lame(self.youngs_modulus_log.exp(), self.poissons_ratio);
        self.yield_stress / (T::cst(2.0) * mu)
    }
}

impl<T: Real> Default for VonMises<T> {
    fn default() -> Self {
        let [a, b, c] = Self::DEFAULTS.map(T::cst);
        Self {
            youngs_modulus_log: a,
            poissons_ratio: b,
            yield_stress: c,
        }
    }
}

/// Von Mises projection of one SVD, given the threshold `yield / (2μ)`.
#[inline]
fn von_mises_project<T: Real>(svd: &Svd<T>, threshold: T) -> Matrix3<T> {
    let sigma = svd.sigma.map(|s| clamp_min(s, 0.01));
    let eps = sigma.map(|s| s.ln());
    let mean = (eps[0] + eps[1] + eps[2]) / T::cst(3.0);
    let dev = eps.map(|e| e - mean);
    let n = norm3(&dev) + T::cst(1e-5);
    let dgamma = n - threshold;
    let sigma = if dgamma.re() > 0.0 {
        let k = dgamma / n;
        Vector3::new(
            (eps[0] - k * dev[0]).exp(),
            (eps[1] - k * dev[1]).exp(),
            (eps[2] - k * dev[2]).exp(),
        )
    } else {
        sigma
    };
    u_diag_wt(&svd.u, &sigma, &svd.v)
}

impl<T: Real> Material<T> for VonMises<T> {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Plastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let threshold = self.threshold();
        apply_with_svd(def_grad, out, ctx.svd, |_, svd| {
            von_mises_project(svd, threshold)
        })
    }
}

/// Drucker–Prager return mapping ("sand"), θ = (youngs_modulus_log, poissons_ratio,
/// alpha, cohesion): `σ ← max(σ, 0.05)`, `ε = ln σ`, `t = Σε`, `ε̂ = ε − t/3`, `n = ‖ε̂‖`,
/// `s = t − 3 cohesion`; if `s < 0`: `Δγ = n + ((3λ+2μ)/(2μ)) s α`,
/// `ε ← ε − (max(Δγ, 0)/n) ε̂`, else `ε ← (cohesion, cohesion, cohesion)`;
/// `F̃ = U diag(exp ε) Vᵀ`. Defaults (10, 0.1, [`sand_alpha`]`(25)`, 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DruckerPrager<T> {
    /// `ln E`.
    pub youngs_modulus_log: T,
    /// `ν` (raw).
    pub poissons_ratio: T,
    /// Friction coefficient α.
    pub alpha: T,
    /// Cohesion.
    pub cohesion: T,
}

impl<T: Real> DruckerPrager<T> {
    /// Parameter names, in the order of [`Self::from_params`].
    pub const PARAM_NAMES: [&'static str; 4] =
        ["youngs_modulus_log", "poissons_ratio", "alpha", "cohesion"];

    /// Reference defaults (the sand ground truth).
    pub fn defaults() -> [f64; 4] {
        [10.0, 0.1, sand_alpha(25.0), 0.0]
    }

    /// From `[youngs_modulus_log, poissons_ratio, alpha, cohesion]`.
    pub fn from_params(params: &[T]) -> Result<Self, MaterialError> {
        let [youngs_modulus_log, poissons_ratio, alpha, cohesion] =
            take_params("drucker_prager", params)?;
        Ok(Self {
            youngs_modulus_log,
            poissons_ratio,
            alpha,
            cohesion,
        })
    }

    /// `(3λ + 2μ) / (2μ) · α`.
    fn scale(&self) -> T {
        let (mu, lambda) = lame(self.youngs_modulus_log.exp(), self.poissons_ratio);
        let two_mu = T::cst(2.0) * mu;
        (T::cst(3.0) * lambda + two_mu) / two_mu * self.alpha
    }
}

impl<T: Real> Default for DruckerPrager<T> {
    fn default() -> Self {
        let [a, b, c, d] = Self::defaults().map(T::cst);
        Self {
            youngs_modulus_log: a,
            poissons_ratio: b,
            alpha: c,
            cohesion: d,
        }
    }
}

/// Drucker–Prager projection of one SVD, given `scale = (3λ+2μ)/(2μ) α` and the cohesion.
#[inline]
fn drucker_prager_project<T: Real>(svd: &Svd<T>, scale: T, cohesion: T) -> Matrix3<T> {
    let eps = svd.sigma.map(|s| clamp_min(s, 0.05).ln());
    let trace = eps[0] + eps[1] + eps[2];
    let s = trace - T::cst(3.0) * cohesion;
    let eps_new = if s.re() < 0.0 {
        let dev = eps.map(|e| e - trace / T::cst(3.0));
        let n = norm3(&dev);
        let dgamma = n + scale * s;
        if dgamma.re() > 0.0 {
            let k = dgamma / n;
            eps - dev * k
        } else {
            // max(Δγ, 0) = 0 (zero derivative): ε is unchanged.
            eps
        }
    } else {
        Vector3::from_element(cohesion)
    };
    u_diag_wt(&svd.u, &eps_new.map(|e| e.exp()), &svd.v)
}

impl<T: Real> Material<T> for DruckerPrager<T> {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Plastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let scale = self.scale();
        let cohesion = self.cohesion;
        apply_with_svd(def_grad, out, ctx.svd, |_, svd| {
            drucker_prager_project(svd, scale, cohesion)
        })
    }
}

/// Weakly compressible fluid: `F̃ = (det F)^(1/3) I` (NaN for `det F < 0`, like torch.pow).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Water;

#[inline]
fn water_project<T: Real>(f: &Matrix3<T>) -> Matrix3<T> {
    let j = det3(f);
    let value = j.re().powf(1.0 / 3.0);
    let root = j.chain(value, value / (3.0 * j.re()));
    Matrix3::from_diagonal_element(root)
}

impl<T: Real> Material<T> for Water {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Plastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        _ctx: StepContext,
    ) -> Result<(), MaterialError> {
        apply_pointwise(def_grad, out, water_project)
    }
}

/// The rebuttal ("imaginary") law: `F̃ = 0.5 F̃_vonmises + 0.3 F̃_druckerprager + 0.2 F̃_water`,
/// each on the same F with shared θ = (youngs_modulus_log, poissons_ratio, yield_stress,
/// alpha, cohesion). Defaults (10, 0.1, 3e4, [`sand_alpha`]`(25)`, 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mixture<T> {
    /// `ln E`, shared.
    pub youngs_modulus_log: T,
    /// `ν` (raw), shared.
    pub poissons_ratio: T,
    /// Von Mises yield stress.
    pub yield_stress: T,
    /// Drucker–Prager α.
    pub alpha: T,
    /// Drucker–Prager cohesion.
    pub cohesion: T,
}

impl<T: Real> Mixture<T> {
    /// Parameter names, in the order of [`Self::from_params`].
    pub const PARAM_NAMES: [&'static str; 5] = [
        "youngs_modulus_log",
        "poissons_ratio",
        "yield_stress",
        "alpha",
        "cohesion",
    ];

    /// Reference defaults (the rebuttal ground truth).
    pub fn defaults() -> [f64; 5] {
        [10.0, 0.1, 3e4, sand_alpha(25.0), 0.0]
    }

    /// From `[youngs_modulus_log, poissons_ratio, yield_stress, alpha, cohesion]`.
    pub fn from_params(params: &[T]) -> Result<Self, MaterialError> {
        let [
            youngs_modulus_log,
            poissons_ratio,
            yield_stress,
            alpha,
            cohesion,
        ] = take_params("mixture", params)?;
        Ok(Self {
            youngs_modulus_log,
            poissons_ratio,
            yield_stress,
            alpha,
            cohesion,
        })
    }
}

impl<T: Real> Default for Mixture<T> {
    fn default() -> Self {
        let [a, b, c, d, e] = Self::defaults().map(T::cst);
        Self {
            youngs_modulus_log: a,
            poissons_ratio: b,
            yield_stress: c,
            alpha: d,
            cohesion: e,
        }
    }
}

impl<T: Real> Material<T> for Mixture<T> {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Plastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let vm = VonMises {
            youngs_modulus_log: self.youngs_modulus_log,
            poissons_ratio: self.poissons_ratio,
            yield_stress: self.yield_stress,
        };
        let dp = DruckerPrager {
            youngs_modulus_log: self.youngs_modulus_log,
            poissons_ratio: self.poissons_ratio,
            alpha: self.alpha,
            cohesion: self.cohesion,
        };
        let (threshold, scale) = (vm.threshold(), dp.scale());
        let (a, b, c) = (T::cst(0.5), T::cst(0.3), T::cst(0.2));
        apply_with_svd(def_grad, out, ctx.svd, |f, svd| {
            von_mises_project(svd, threshold) * a
                + drucker_prager_project(svd, scale, self.cohesion) * b
                + water_project(f) * c
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_match_spec() {
        assert!((sand_alpha(25.0) - 0.267765043).abs() < 1e-9);
        let vm = VonMises::<f64>::default();
        assert!((vm.threshold() - 0.084762).abs() < 1e-6);
        let dp = DruckerPrager::<f64>::default();
        assert!((dp.scale() / dp.alpha - 1.375).abs() < 1e-9);
    }

    #[test]
    fn small_strains_are_not_projected_by_von_mises() {
        let f = Matrix3::new(1.01, 0.002, 0.0, 0.0, 0.99, 0.001, 0.0, 0.0, 1.0);
        let mut out = [Matrix3::zeros()];
        VonMises::<f64>::default()
            .apply(&[f], &mut out, StepContext::default())
            .unwrap();
        assert!((out[0] - f).norm() < 1e-10);
    }

    #[test]
    fn water_is_isotropic() {
        let f = Matrix3::new(1.2, 0.1, 0.0, 0.0, 0.9, 0.0, 0.0, 0.05, 1.0);
        let mut out = [Matrix3::zeros()];
        Water.apply(&[f], &mut out, StepContext::default()).unwrap();
        let j: f64 = f.determinant();
        assert!((out[0] - Matrix3::identity() * j.cbrt()).norm() < 1e-14);
    }
}
