//! The material trait: what a constitutive law must provide to drive the simulator.

use crate::MaterialError;
use ansatz_linalg::{Real, Svd, SvdMethod};
use nalgebra::Matrix3;

/// What the simulator passes to a material at every step: the scene's choices that a law
/// must follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepContext {
    /// How signed SVDs and polar decompositions are computed ([`crate::Scene::svd`]).
    pub svd: SvdMethod,
}

/// Which path of the reference step a material takes (as in the SGA reference).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MaterialKind {
    /// The law maps F to the Kirchhoff stress τ; F is not changed.
    Elastic,
    /// The law maps F to a corrected F̃ (return mapping). The fixed Hencky law
    /// ([`crate::materials::Hencky`]) gives τ from F̃, and F̃ replaces F in the state.
    Plastic,
}

/// A constitutive law evaluated on a batch of deformation gradients, generic over the
/// scalar `T` (`f64`, or a dual number carrying derivatives with respect to the law's
/// parameters).
///
/// The simulator calls [`Material::apply`] once per step with the deformation gradients of
/// all particles, so an interpreted law can loop instructions-outer, particles-inner.
/// Hand-written laws usually implement it with [`apply_pointwise`].
///
/// ```
/// use ansatz_simulator::{Material, MaterialError, MaterialKind, StepContext, apply_pointwise};
/// use ansatz_linalg::Real;
/// use nalgebra::Matrix3;
///
/// /// τ = k (F Fᵀ − I): a toy elastic law with one parameter.
/// struct Toy<T> { k: T }
/// impl<T: Real> Material<T> for Toy<T> {
///     fn kind(&self) -> MaterialKind { MaterialKind::Elastic }
///     fn apply(
///         &self,
///         f: &[Matrix3<T>],
///         out: &mut [Matrix3<T>],
///         _ctx: StepContext,
///     ) -> Result<(), MaterialError> {
///         apply_pointwise(f, out, |f| (f * f.transpose() - Matrix3::identity()) * self.k)
///     }
/// }
/// let toy = Toy { k: 2.0 };
/// let mut tau = [Matrix3::zeros()];
/// toy.apply(&[Matrix3::identity() * 2.0], &mut tau, StepContext::default()).unwrap();
/// assert_eq!(tau[0], Matrix3::identity() * 6.0);
/// ```
pub trait Material<T: Real> {
    /// Elastic (F → τ) or plastic (F → F̃).
    fn kind(&self) -> MaterialKind;

    /// Evaluates the law on every deformation gradient of `def_grad`, writing the Kirchhoff
    /// stress (elastic) or the corrected deformation gradient (plastic) into `out`, which
    /// has the same length; `ctx` carries the scene's choices a law must follow (how to
    /// decompose: [`StepContext::svd`]). Non-finite outputs need not be reported here: the
    /// simulator checks them and stops the rollout with an error naming the step.
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError>;
}

impl<T: Real, M: Material<T> + ?Sized> Material<T> for &M {
    fn kind(&self) -> MaterialKind {
        (**self).kind()
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        (**self).apply(def_grad, out, ctx)
    }
}

impl<T: Real, M: Material<T> + ?Sized> Material<T> for Box<M> {
    fn kind(&self) -> MaterialKind {
        (**self).kind()
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), MaterialError> {
        (**self).apply(def_grad, out, ctx)
    }
}

/// Applies a per-particle law to a batch: `out[p] = law(&def_grad[p])`, after checking that
/// the lengths agree.
#[inline]
pub fn apply_pointwise<T: Real>(
    def_grad: &[Matrix3<T>],
    out: &mut [Matrix3<T>],
    law: impl Fn(&Matrix3<T>) -> Matrix3<T>,
) -> Result<(), MaterialError> {
    check_batch(def_grad.len(), out.len())?;
    for (f, o) in def_grad.iter().zip(out.iter_mut()) {
        *o = law(f);
    }
    Ok(())
}

/// Applies a per-particle law that needs the signed SVD of F to a batch:
/// `out[p] = law(&def_grad[p], &method.signed(&def_grad[p]))`, after checking that the
/// lengths agree. The decompositions are computed several at a time
/// ([`SvdMethod::signed_each`]), with the same results as one at a time.
#[inline]
pub fn apply_with_svd<T: Real>(
    def_grad: &[Matrix3<T>],
    out: &mut [Matrix3<T>],
    method: SvdMethod,
    law: impl Fn(&Matrix3<T>, &Svd<T>) -> Matrix3<T>,
) -> Result<(), MaterialError> {
    check_batch(def_grad.len(), out.len())?;
    method.signed_each(
        def_grad.len(),
        |p| def_grad[p],
        |p, svd| out[p] = law(&def_grad[p], &svd),
    );
    Ok(())
}

/// The error for a batch whose outputs do not match its inputs in number.
#[inline]
pub fn check_batch(inputs: usize, outputs: usize) -> Result<(), MaterialError> {
    if inputs == outputs {
        Ok(())
    } else {
        Err(MaterialError::BatchLength { inputs, outputs })
    }
}
