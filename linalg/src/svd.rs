//! Signed ("rotation-variant") 3x3 SVD and polar decomposition with the clamped
//! forward-mode derivative of the SGA reference (as in the SGA reference).
//!
//! The real part is computed by default in `f64` by one-sided Jacobi (Hestenes) rotations
//! on the columns of F, which keeps small singular values accurate to full relative
//! precision ([`SvdMethod::Exact`]). [`SvdMethod::Reference`] computes it as the SGA
//! reference does, with warp's approximate `f32` `svd3` ([`crate::svd_reference_f32`]):
//! that is what it takes to reproduce the reference's plastic losses to 1e-5, since the
//! reference's SVD is itself off by about 1e-7 per call, with a bias that accumulates over
//! the steps. The method is always passed explicitly: the free functions
//! ([`svd_signed_f64`], [`svd_signed`], [`polar`], ...) use [`SvdMethod::Exact`], and the
//! methods of [`SvdMethod`] ([`SvdMethod::signed`], [`SvdMethod::polar`], ...) use the
//! chosen one (a simulator passes its scene's choice down to the laws it calls).
//! The derivative part is then added analytically, one direction at a time: with
//! `P = Uᵀ dF V`, `dσᵢ = Pᵢᵢ`, `dU = U Ω_U`, `dV = V Ω_V`, and for `i ≠ j`
//! `Ω_U,ij = (σⱼ Pᵢⱼ + σᵢ Pⱼᵢ) / Dᵢⱼ`, `Ω_V,ij = (σᵢ Pᵢⱼ + σⱼ Pⱼᵢ) / Dᵢⱼ`,
//! where `Dᵢⱼ = min(σⱼ² − σᵢ², −1e-6)` for `i < j` and `Dⱼᵢ = −Dᵢⱼ`. The clamp keeps the
//! derivative finite at repeated singular values (F = I included). As in the reference,
//! the price is that at (near-)repeated singular values the rotational part of dF is
//! dropped: at F = I, `d(U diag(σ) Vᵀ) = diag(dF)`. Away from a gap of about 1e-3 the
//! derivative is the exact one.

use crate::{Real, mul3, svd_reference_f32};
use nalgebra::{Matrix3, Vector3};

/// The clamp on `σⱼ² − σᵢ²` in the SVD derivative (as in the SGA reference).
pub const SVD_GAP_CLAMP: f64 = 1e-6;

/// A signed singular value decomposition `F = U diag(sigma) Vᵀ`.
///
/// `U` and `V` are rotations (determinant +1), `sigma` is sorted so that
/// `sigma[0] >= sigma[1] >= |sigma[2]|`, and the sign of `det F` is carried by `sigma[2]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Svd<T: Real> {
    /// Left rotation.
    pub u: Matrix3<T>,
    /// Signed singular values, in descending order of magnitude.
    pub sigma: Vector3<T>,
    /// Right rotation (not transposed).
    pub v: Matrix3<T>,
}

type V3 = Vector3<f64>;

/// Which algorithm gives the values of the signed SVD (the derivative formula is the same
/// for both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SvdMethod {
    /// One-sided Jacobi in `f64` to convergence ([`svd_exact_f64`]): exact to rounding.
    #[default]
    Exact,
    /// The SGA reference's own decomposition, warp's approximate `f32` `svd3`
    /// ([`svd_reference_f32`]): reproduces the reference's plastic trajectories and losses
    /// to its rounding, at the price of an error of about 1e-7 relative (more for badly
    /// conditioned matrices).
    Reference,
}

impl SvdMethod {
    /// The name used in task files and reports: `exact` or `reference`.
    pub fn name(self) -> &'static str {
        match self {
            SvdMethod::Exact => "exact",
            SvdMethod::Reference => "reference",
        }
    }

    /// Parses [`SvdMethod::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "exact" => Some(SvdMethod::Exact),
            "reference" => Some(SvdMethod::Reference),
            _ => None,
        }
    }

    /// Signed SVD of a real 3x3 matrix (no derivatives) by this method.
    ///
    /// Never panics and always terminates: a matrix with NaN or infinite entries gives
    /// NaN everywhere.
    ///
    /// ```
    /// use ansatz_linalg::SvdMethod;
    /// use nalgebra::Matrix3;
    /// let i = Matrix3::identity();
    /// assert_eq!(SvdMethod::Exact.signed_f64(&i).sigma[1], 1.0);
    /// // The reference's four approximate Jacobi sweeps in f32 do not reach 1 exactly.
    /// assert_eq!(SvdMethod::Reference.signed_f64(&i).sigma[1], 0.99999976f32 as f64);
    /// ```
    pub fn signed_f64(self, f: &Matrix3<f64>) -> Svd<f64> {
        match self {
            SvdMethod::Exact => svd_exact_f64(f),
            SvdMethod::Reference => svd_reference_f32(f),
        }
    }

    /// Signed SVD with the clamped forward-mode derivative (module docs): the values of
    /// [`SvdMethod::signed_f64`] on the real part, the derivative part added analytically.
    pub fn signed<T: Real>(self, f: &Matrix3<T>) -> Svd<T> {
        with_derivative(f, self.signed_f64(&f.map(|x| x.re())))
    }

    /// Signed SVDs of a batch by this method, calling `out(i, svd)` for each `input(i)`,
    /// `i < n`, in order. Each equals [`SvdMethod::signed_f64`] of the same matrix bit for
    /// bit; the exact method decomposes several matrices at once
    /// ([`crate::svd_exact_f64_each`]), about twice as fast as one at a time.
    pub fn signed_f64_each(
        self,
        n: usize,
        input: impl Fn(usize) -> Matrix3<f64>,
        mut out: impl FnMut(usize, Svd<f64>),
    ) {
        match self {
            SvdMethod::Exact => crate::svd_exact_f64_each(n, input, out),
            SvdMethod::Reference => {
                for i in 0..n {
                    out(i, svd_reference_f32(&input(i)));
                }
            }
        }
    }

    /// [`SvdMethod::signed`] of `input(i)` for every `i < n`, calling `out(i, svd)` in
    /// order: the batched values of [`SvdMethod::signed_f64_each`] with the derivative
    /// part added to each.
    pub fn signed_each<T: Real>(
        self,
        n: usize,
        input: impl Fn(usize) -> Matrix3<T>,
        mut out: impl FnMut(usize, Svd<T>),
    ) {
        self.signed_f64_each(
            n,
            |i| input(i).map(|x| x.re()),
            |i, s| out(i, with_derivative(&input(i), s)),
        );
    }

    /// Polar decomposition `F = R S` from this method's signed SVD: `R = U Vᵀ` (a
    /// rotation) and `S = V diag(σ) Vᵀ` (symmetric; indefinite when `det F < 0`), as the
    /// SGA reference's patched `torch.polar`. Derivatives follow [`SvdMethod::signed`].
    pub fn polar<T: Real>(self, f: &Matrix3<T>) -> (Matrix3<T>, Matrix3<T>) {
        let s = self.signed(f);
        let vt = s.v.transpose();
        let r = mul3(&s.u, &vt);
        let vs = Matrix3::from_fn(|i, j| s.v[(i, j)] * s.sigma[j]);
        (r, mul3(&vs, &vt))
    }
}

/// A decomposition of NaNs, for inputs with NaN or infinite entries.
pub(crate) fn nan_svd() -> Svd<f64> {
    let nan = f64::NAN;
    Svd {
        u: Matrix3::from_element(nan),
        sigma: Vector3::from_element(nan),
        v: Matrix3::from_element(nan),
    }
}

/// Signed SVD of a real 3x3 matrix (no derivatives) by the exact method
/// ([`SvdMethod::Exact`]; [`SvdMethod::signed_f64`] for another).
///
/// Never panics and always terminates: a matrix with NaN or infinite entries gives
/// NaN everywhere.
pub fn svd_signed_f64(f: &Matrix3<f64>) -> Svd<f64> {
    SvdMethod::Exact.signed_f64(f)
}

/// Signed SVD by one-sided Jacobi in `f64`, to convergence (the [`SvdMethod::Exact`]
/// method). NaN or infinite entries give NaN everywhere.
pub fn svd_exact_f64(f: &Matrix3<f64>) -> Svd<f64> {
    crate::jacobi::exact_one(f)
}

/// Directions handled by the fast derivative path; more fall back to dual arithmetic.
const FAST_DIRECTIONS: usize = 8;

/// Signed SVD with the clamped forward-mode derivative (module docs) by the exact method
/// ([`SvdMethod::signed`] for another).
pub fn svd_signed<T: Real>(f: &Matrix3<T>) -> Svd<T> {
    SvdMethod::Exact.signed(f)
}

/// [`svd_signed_f64`] of a batch ([`SvdMethod::signed_f64_each`] with the exact method).
pub fn svd_signed_f64_each(
    n: usize,
    input: impl Fn(usize) -> Matrix3<f64>,
    out: impl FnMut(usize, Svd<f64>),
) {
    SvdMethod::Exact.signed_f64_each(n, input, out)
}

/// [`svd_signed`] of a batch ([`SvdMethod::signed_each`] with the exact method).
pub fn svd_signed_each<T: Real>(
    n: usize,
    input: impl Fn(usize) -> Matrix3<T>,
    out: impl FnMut(usize, Svd<T>),
) {
    SvdMethod::Exact.signed_each(n, input, out)
}

/// Adds the clamped derivative (module docs) of `f`'s derivative directions to `s`, the
/// decomposition of `f`'s real part.
fn with_derivative<T: Real>(f: &Matrix3<T>, s: Svd<f64>) -> Svd<T> {
    if T::DIRECTIONS == 0 {
        return Svd {
            u: s.u.map(T::cst),
            sigma: s.sigma.map(T::cst),
            v: s.v.map(T::cst),
        };
    }
    let sg = s.sigma;
    // 1/D for the pairs (0,1), (0,2), (1,2).
    let inv_d = [(0usize, 1usize), (0, 2), (1, 2)]
        .map(|(i, j)| 1.0 / (sg[j] * sg[j] - sg[i] * sg[i]).min(-SVD_GAP_CLAMP));
    let derivative = |df: &Matrix3<f64>| -> (Matrix3<f64>, V3, Matrix3<f64>) {
        let p = s.u.tr_mul(df) * s.v;
        let mut wu = Matrix3::zeros();
        let mut wv = Matrix3::zeros();
        for (k, (i, j)) in [(0usize, 1usize), (0, 2), (1, 2)].into_iter().enumerate() {
            let x = (sg[j] * p[(i, j)] + sg[i] * p[(j, i)]) * inv_d[k];
            let y = (sg[i] * p[(i, j)] + sg[j] * p[(j, i)]) * inv_d[k];
            wu[(i, j)] = x;
            wu[(j, i)] = -x;
            wv[(i, j)] = y;
            wv[(j, i)] = -y;
        }
        (s.u * wu, p.diagonal(), s.v * wv)
    };
    if T::DIRECTIONS <= FAST_DIRECTIONS {
        let mut du = [Matrix3::zeros(); FAST_DIRECTIONS];
        let mut dsg = [V3::zeros(); FAST_DIRECTIONS];
        let mut dv = [Matrix3::zeros(); FAST_DIRECTIONS];
        for k in 0..T::DIRECTIONS {
            let (a, b, c) = derivative(&f.map(|x| x.eps(k)));
            (du[k], dsg[k], dv[k]) = (a, b, c);
        }
        return Svd {
            u: Matrix3::from_fn(|i, j| T::from_fn(s.u[(i, j)], |k| du[k][(i, j)])),
            sigma: Vector3::from_fn(|i, _| T::from_fn(sg[i], |k| dsg[k][i])),
            v: Matrix3::from_fn(|i, j| T::from_fn(s.v[(i, j)], |k| dv[k][(i, j)])),
        };
    }
    // General path for many directions: the same formula in dual arithmetic (U and V
    // constant, so the derivative part of Uᵀ F V is Uᵀ dF V).
    let u: Matrix3<T> = s.u.map(T::cst);
    let v: Matrix3<T> = s.v.map(T::cst);
    let p = mul3(&mul3(&u.transpose(), f), &v).map(|x| x - x.detach());
    let sigma = Vector3::from_fn(|i, _| T::cst(sg[i]) + p[(i, i)]);
    let mut omega_u = Matrix3::<T>::zeros();
    let mut omega_v = Matrix3::<T>::zeros();
    for (k, (i, j)) in [(0usize, 1usize), (0, 2), (1, 2)].into_iter().enumerate() {
        let (si, sj, d) = (T::cst(sg[i]), T::cst(sg[j]), T::cst(inv_d[k]));
        let x = (sj * p[(i, j)] + si * p[(j, i)]) * d;
        let y = (si * p[(i, j)] + sj * p[(j, i)]) * d;
        omega_u[(i, j)] = x;
        omega_u[(j, i)] = -x;
        omega_v[(i, j)] = y;
        omega_v[(j, i)] = -y;
    }
    Svd {
        u: u + mul3(&u, &omega_u),
        sigma,
        v: v + mul3(&v, &omega_v),
    }
}

/// Polar decomposition `F = R S` by the exact method ([`SvdMethod::polar`], which
/// documents it, for another).
pub fn polar<T: Real>(f: &Matrix3<T>) -> (Matrix3<T>, Matrix3<T>) {
    SvdMethod::Exact.polar(f)
}
