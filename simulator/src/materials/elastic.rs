//! Elastic SGA templates (as in the SGA reference): they return the Kirchhoff stress τ.
//! All three share θ = (youngs_modulus_log, poissons_ratio_sigmoid),
//! `E = exp(θ₀)`, `ν = 0.49 · sigmoid(θ₁)`.

use super::{lame, sigmoid, take_params};
use crate::{Material, MaterialError, MaterialKind, StepContext, apply_pointwise, apply_with_svd};
use ansatz_linalg::{Real, det3, mul3, trace3};
use nalgebra::Matrix3;

/// `(μ, λ)` of the elastic templates from `(youngs_modulus_log, poissons_ratio_sigmoid)`.
#[inline]
fn moduli<T: Real>(youngs_modulus_log: T, poissons_ratio_sigmoid: T) -> (T, T) {
    lame(
        youngs_modulus_log.exp(),
        T::cst(0.49) * sigmoid(poissons_ratio_sigmoid),
    )
}

macro_rules! elastic_template {
    ($(#[$doc:meta])* $name:ident, $label:literal, $defaults:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name<T> {
            /// `ln E`.
            pub youngs_modulus_log: T,
            /// `ν = 0.49 · sigmoid(poissons_ratio_sigmoid)`.
            pub poissons_ratio_sigmoid: T,
        }

        impl<T: Real> $name<T> {
            /// Parameter names, in the order of [`Self::from_params`].
            pub const PARAM_NAMES: [&'static str; 2] =
                ["youngs_modulus_log", "poissons_ratio_sigmoid"];
            /// Reference default parameter values.
            pub const DEFAULTS: [f64; 2] = $defaults;

            /// From `[youngs_modulus_log, poissons_ratio_sigmoid]`.
            pub fn from_params(params: &[T]) -> Result<Self, MaterialError> {
                let [youngs_modulus_log, poissons_ratio_sigmoid] = take_params($label, params)?;
                Ok(Self { youngs_modulus_log, poissons_ratio_sigmoid })
            }
        }

        impl<T: Real> Default for $name<T> {
            fn default() -> Self {
                Self {
                    youngs_modulus_log: T::cst(Self::DEFAULTS[0]),
                    poissons_ratio_sigmoid: T::cst(Self::DEFAULTS[1]),
                }
            }
        }
    };
}

elastic_template!(
    /// Linear elasticity: `P = μ(F + Fᵀ − 2I) + λ(tr F − 3)I`, `τ = P Fᵀ`.
    /// Defaults θ = (10, −1).
    Linear, "linear", [10.0, -1.0]
);
elastic_template!(
    /// Fixed corotated: `R = U Vᵀ`, `J = σ₁σ₂σ₃`, `τ = 2μ(F − R)Fᵀ + λJ(J−1)I`.
    /// Defaults θ = (10, −1).
    Corotated, "corotated", [10.0, -1.0]
);
elastic_template!(
    /// Neo-Hookean: `τ = μ(F Fᵀ − I) + λ ln(det F) I`. Defaults θ = (13, 0).
    NeoHookean, "neohookean", [13.0, 0.0]
);

impl<T: Real> Material<T> for Linear<T> {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Elastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        _ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let (mu, lambda) = moduli(self.youngs_modulus_log, self.poissons_ratio_sigmoid);
        let two = T::cst(2.0);
        let three = T::cst(3.0);
        apply_pointwise(def_grad, out, |f| {
            let mut p = (f + f.transpose()) * mu;
            let diag = lambda * (trace3(f) - three) - two * mu;
            for i in 0..3 {
                p[(i, i)] += diag;
            }
            mul3(&p, &f.transpose())
        })
    }
}

impl<T: Real> Material<T> for Corotated<T> {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Elastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let (mu, lambda) = moduli(self.youngs_modulus_log, self.poissons_ratio_sigmoid);
        let two = T::cst(2.0);
        apply_with_svd(def_grad, out, ctx.svd, |f, svd| {
            let r = mul3(&svd.u, &svd.v.transpose());
            let j = svd.sigma[0] * svd.sigma[1] * svd.sigma[2];
            let mut tau = mul3(&(f - r), &f.transpose()) * (two * mu);
            let vol = lambda * j * (j - T::one());
            for i in 0..3 {
                tau[(i, i)] += vol;
            }
            tau
        })
    }
}

impl<T: Real> Material<T> for NeoHookean<T> {
    fn kind(&self) -> MaterialKind {
        MaterialKind::Elastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        _ctx: StepContext,
    ) -> Result<(), MaterialError> {
        let (mu, lambda) = moduli(self.youngs_modulus_log, self.poissons_ratio_sigmoid);
        apply_pointwise(def_grad, out, |f| {
            let mut tau = mul3(f, &f.transpose()) * mu;
            let vol = lambda * det3(f).ln() - mu;
            for i in 0..3 {
                tau[(i, i)] += vol;
            }
            tau
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_spec_moduli() {
        let (mu, lambda) = moduli(10.0, -1.0);
        assert!((mu - 9730.88).abs() < 0.01, "{mu}");
        assert!((lambda - 3482.57).abs() < 0.01, "{lambda}");
        let (mu, lambda) = moduli(13.0, 0.0);
        assert!((mu - 177676.06).abs() < 0.01, "{mu}");
        assert!((lambda - 170708.37).abs() < 0.01, "{lambda}");
    }

    #[test]
    fn laws_vanish_at_rest() {
        let f = [Matrix3::<f64>::identity()];
        let mut out = [Matrix3::from_element(1.0)];
        let laws: [&dyn Material<f64>; 3] = [
            &Linear::default(),
            &Corotated::default(),
            &NeoHookean::default(),
        ];
        for law in laws {
            law.apply(&f, &mut out, StepContext::default()).unwrap();
            assert!(out[0].norm() < 1e-9, "{}", out[0]);
        }
    }
}
