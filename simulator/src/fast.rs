//! The scalar of the simulator's inner loops: a plain `f64`, or a forward-mode dual with
//! its derivative part as a fixed array ([`FastDual`]), without the optional-derivative
//! branches of `num_dual` so that the compiler vectorises the derivative lanes.
//!
//! [`SimScalar`] ties each public scalar (`f64`, `DualSVec64<N>`) to its fast twin; the
//! material sees the public scalar, the grid transfers run on the fast one.

use ansatz_linalg::{DualSVec64, Real};
use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub, SubAssign};

/// Arithmetic the MPM kernels need, implemented by `f64` and [`FastDual`].
pub trait FastScalar:
    Copy
    + Send
    + Sync
    + std::fmt::Debug
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
{
    /// The real part.
    fn re(&self) -> f64;
    /// A constant (zero derivatives).
    fn cst(x: f64) -> Self;
    /// `self · k` for a constant `k`.
    fn scale(self, k: f64) -> Self;
    /// True when the value and every derivative are finite.
    fn is_all_finite(&self) -> bool;
    /// Converts from a public scalar with the same number of derivative directions.
    fn from_real<T: Real>(x: &T) -> Self;
    /// Converts to a public scalar with the same number of derivative directions.
    fn to_real<T: Real>(&self) -> T;
    /// Number of derivative directions (0 for `f64`).
    const DIRECTIONS: usize;
    /// Adds the outer product of the derivative parts with themselves to `acc` (row-major,
    /// `DIRECTIONS × DIRECTIONS`): `acc[i·N + j] += ε_i ε_j`.
    fn add_tangent_gram(&self, acc: &mut [f64]);
}

impl FastScalar for f64 {
    #[inline(always)]
    fn re(&self) -> f64 {
        *self
    }
    #[inline(always)]
    fn cst(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn scale(self, k: f64) -> Self {
        self * k
    }
    #[inline(always)]
    fn is_all_finite(&self) -> bool {
        self.is_finite()
    }
    #[inline(always)]
    fn from_real<T: Real>(x: &T) -> Self {
        x.re()
    }
    #[inline(always)]
    fn to_real<T: Real>(&self) -> T {
        T::cst(*self)
    }
    const DIRECTIONS: usize = 0;
    #[inline(always)]
    fn add_tangent_gram(&self, _acc: &mut [f64]) {}
}

/// A dual number with `N` derivative directions stored inline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FastDual<const N: usize> {
    /// Value.
    pub re: f64,
    /// Derivatives.
    pub eps: [f64; N],
}

impl<const N: usize> Add for FastDual<N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, b: Self) -> Self {
        let mut eps = self.eps;
        for (e, d) in eps.iter_mut().zip(&b.eps) {
            *e += d;
        }
        Self {
            re: self.re + b.re,
            eps,
        }
    }
}

impl<const N: usize> Sub for FastDual<N> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, b: Self) -> Self {
        let mut eps = self.eps;
        for (e, d) in eps.iter_mut().zip(&b.eps) {
            *e -= d;
        }
        Self {
            re: self.re - b.re,
            eps,
        }
    }
}

#[allow(clippy::suspicious_arithmetic_impl)] // the product rule adds
impl<const N: usize> Mul for FastDual<N> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, b: Self) -> Self {
        let mut eps = self.eps;
        for (e, d) in eps.iter_mut().zip(&b.eps) {
            *e = *e * b.re + self.re * d;
        }
        Self {
            re: self.re * b.re,
            eps,
        }
    }
}

#[allow(clippy::suspicious_arithmetic_impl)] // the quotient rule subtracts
impl<const N: usize> Div for FastDual<N> {
    type Output = Self;
    #[inline(always)]
    fn div(self, b: Self) -> Self {
        let inv = 1.0 / b.re;
        let re = self.re * inv;
        let mut eps = self.eps;
        for (e, d) in eps.iter_mut().zip(&b.eps) {
            *e = (*e - re * d) * inv;
        }
        Self { re, eps }
    }
}

impl<const N: usize> Neg for FastDual<N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        let mut eps = self.eps;
        for e in eps.iter_mut() {
            *e = -*e;
        }
        Self { re: -self.re, eps }
    }
}

impl<const N: usize> AddAssign for FastDual<N> {
    #[inline(always)]
    fn add_assign(&mut self, b: Self) {
        self.re += b.re;
        for (e, d) in self.eps.iter_mut().zip(&b.eps) {
            *e += d;
        }
    }
}

impl<const N: usize> SubAssign for FastDual<N> {
    #[inline(always)]
    fn sub_assign(&mut self, b: Self) {
        self.re -= b.re;
        for (e, d) in self.eps.iter_mut().zip(&b.eps) {
            *e -= d;
        }
    }
}

impl<const N: usize> FastScalar for FastDual<N> {
    #[inline(always)]
    fn re(&self) -> f64 {
        self.re
    }
    #[inline(always)]
    fn cst(x: f64) -> Self {
        Self {
            re: x,
            eps: [0.0; N],
        }
    }
    #[inline(always)]
    fn scale(self, k: f64) -> Self {
        let mut eps = self.eps;
        for e in eps.iter_mut() {
            *e *= k;
        }
        Self {
            re: self.re * k,
            eps,
        }
    }
    #[inline(always)]
    fn is_all_finite(&self) -> bool {
        self.re.is_finite() && self.eps.iter().all(|e| e.is_finite())
    }
    #[inline(always)]
    fn from_real<T: Real>(x: &T) -> Self {
        let mut eps = [0.0; N];
        for (i, e) in eps.iter_mut().enumerate() {
            *e = x.eps(i);
        }
        Self { re: x.re(), eps }
    }
    #[inline(always)]
    fn to_real<T: Real>(&self) -> T {
        T::from_fn(self.re, |i| if i < N { self.eps[i] } else { 0.0 })
    }
    const DIRECTIONS: usize = N;
    #[inline(always)]
    fn add_tangent_gram(&self, acc: &mut [f64]) {
        for (row, ei) in acc.chunks_exact_mut(N).zip(&self.eps) {
            for (a, ej) in row.iter_mut().zip(&self.eps) {
                *a += ei * ej;
            }
        }
    }
}

/// A public scalar the simulator runs on: `f64` or `DualSVec64<N>`, each with the fast
/// twin used inside the grid transfers.
pub trait SimScalar: Real {
    /// The scalar of the inner loops, with the same derivative directions.
    type Fast: FastScalar;
}

impl SimScalar for f64 {
    type Fast = f64;
}

impl<const N: usize> SimScalar for DualSVec64<N> {
    type Fast = FastDual<N>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_dual_matches_num_dual() {
        let a = DualSVec64::<2>::from_fn(1.5, |i| [0.3, -2.0][i]);
        let b = DualSVec64::<2>::from_fn(-0.7, |i| [1.1, 0.25][i]);
        let (fa, fb) = (FastDual::<2>::from_real(&a), FastDual::<2>::from_real(&b));
        for (x, y) in [
            (a * b, fa * fb),
            (a / b, fa / fb),
            (a + b, fa + fb),
            (a - b, fa - fb),
            (-a, -fa),
        ] {
            let z: DualSVec64<2> = y.to_real();
            assert!((x.re - z.re).abs() < 1e-15);
            for i in 0..2 {
                assert!((x.eps(i) - z.eps(i)).abs() < 1e-14, "{x:?} {z:?}");
            }
        }
    }
}
