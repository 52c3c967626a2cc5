//! Small, allocation-free 3x3 helpers written out by hand: nalgebra's generic matrix
//! product is several times slower than 27 multiply-adds on dual numbers.

use crate::Real;
use nalgebra::Matrix3;

/// Matrix product `a * b`.
#[inline]
pub fn mul3<T: Real>(a: &Matrix3<T>, b: &Matrix3<T>) -> Matrix3<T> {
    Matrix3::from_fn(|i, j| a[(i, 0)] * b[(0, j)] + a[(i, 1)] * b[(1, j)] + a[(i, 2)] * b[(2, j)])
}

/// Product `aᵀ * b` without forming the transpose.
#[inline]
pub fn mul3_tn<T: Real>(a: &Matrix3<T>, b: &Matrix3<T>) -> Matrix3<T> {
    Matrix3::from_fn(|i, j| a[(0, i)] * b[(0, j)] + a[(1, i)] * b[(1, j)] + a[(2, i)] * b[(2, j)])
}

/// Determinant by cofactor expansion along the first row.
#[inline]
pub fn det3<T: Real>(a: &Matrix3<T>) -> T {
    a[(0, 0)] * (a[(1, 1)] * a[(2, 2)] - a[(1, 2)] * a[(2, 1)])
        - a[(0, 1)] * (a[(1, 0)] * a[(2, 2)] - a[(1, 2)] * a[(2, 0)])
        + a[(0, 2)] * (a[(1, 0)] * a[(2, 1)] - a[(1, 1)] * a[(2, 0)])
}

/// Inverse by the adjugate. The determinant is not checked: a singular matrix gives
/// infinite or NaN entries, which callers detect like any other non-finite value.
#[inline]
pub fn inv3<T: Real>(a: &Matrix3<T>) -> Matrix3<T> {
    let c = |i: usize, j: usize, k: usize, l: usize| a[(i, j)] * a[(k, l)] - a[(i, l)] * a[(k, j)];
    let adj = Matrix3::new(
        c(1, 1, 2, 2),
        -c(0, 1, 2, 2),
        c(0, 1, 1, 2),
        -c(1, 0, 2, 2),
        c(0, 0, 2, 2),
        -c(0, 0, 1, 2),
        c(1, 0, 2, 1),
        -c(0, 0, 2, 1),
        c(0, 0, 1, 1),
    );
    let det = a[(0, 0)] * adj[(0, 0)] + a[(0, 1)] * adj[(1, 0)] + a[(0, 2)] * adj[(2, 0)];
    let inv_det = T::one() / det;
    adj.map(|x| x * inv_det)
}

/// Trace.
#[inline]
pub fn trace3<T: Real>(a: &Matrix3<T>) -> T {
    a[(0, 0)] + a[(1, 1)] + a[(2, 2)]
}

/// Real parts of a matrix.
#[inline]
pub fn re3<T: Real>(a: &Matrix3<T>) -> Matrix3<f64> {
    a.map(|x| x.re())
}

/// A constant matrix (zero derivatives) from `f64` entries.
#[inline]
pub fn from_f64<T: Real>(a: &Matrix3<f64>) -> Matrix3<T> {
    a.map(T::cst)
}
