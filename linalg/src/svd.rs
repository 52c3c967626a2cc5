//! Signed ("rotation-variant") 3x3 SVD and polar decomposition with the clamped
//! forward-mode derivative of the SGA reference (spec/sga.md, section 1.6).
//!
//! The real part is computed in `f64` by one-sided Jacobi (Hestenes) rotations on the
//! columns of F, which keeps small singular values accurate to full relative precision.
//! The derivative part is then added analytically: with `P = Uᵀ dF V`,
//! `dσᵢ = Pᵢᵢ`, `dU = U Ω_U`, `dV = V Ω_V`, and for `i ≠ j`
//! `Ω_U,ij = (σⱼ Pᵢⱼ + σᵢ Pⱼᵢ) / Dᵢⱼ`, `Ω_V,ij = (σᵢ Pᵢⱼ + σⱼ Pⱼᵢ) / Dᵢⱼ`,
//! where `Dᵢⱼ = min(σⱼ² − σᵢ², −1e-6)` for `i < j` and `Dⱼᵢ = −Dᵢⱼ`. The clamp keeps the
//! derivative finite at repeated singular values (F = I included). As in the reference,
//! the price is that at (near-)repeated singular values the rotational part of dF is
//! dropped: at F = I, `d(U diag(σ) Vᵀ) = diag(dF)`. Away from a gap of about 1e-3 the
//! derivative is the exact one.

use crate::{Real, mul3, mul3_tn};
use nalgebra::{Matrix3, Vector3};

/// The clamp on `σⱼ² − σᵢ²` in the SVD derivative (spec/sga.md, section 1.6).
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

/// Largest number of Jacobi sweeps; 3x3 matrices converge in 3–5 (quadratically).
const MAX_SWEEPS: usize = 12;

/// Signed SVD of a real 3x3 matrix (no derivatives).
///
/// Never panics and always terminates: a matrix with NaN or infinite entries gives
/// NaN singular values.
pub fn svd_signed_f64(f: &Matrix3<f64>) -> Svd<f64> {
    if !f.iter().all(|x| x.is_finite()) {
        let nan = f64::NAN;
        return Svd {
            u: Matrix3::from_element(nan),
            sigma: Vector3::from_element(nan),
            v: Matrix3::from_element(nan),
        };
    }
    let mut a = *f;
    let mut v = Matrix3::<f64>::identity();
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
            let alpha = a.column(p).norm_squared();
            let beta = a.column(q).norm_squared();
            let gamma = a.column(p).dot(&a.column(q));
            if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                continue;
            }
            rotated = true;
            // Rotation that zeroes the (p, q) entry of AᵀA.
            let zeta = (beta - alpha) / (2.0 * gamma);
            let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
            let c = 1.0 / (1.0 + t * t).sqrt();
            let s = c * t;
            for k in 0..3 {
                let (ap, aq) = (a[(k, p)], a[(k, q)]);
                a[(k, p)] = c * ap - s * aq;
                a[(k, q)] = s * ap + c * aq;
                let (vp, vq) = (v[(k, p)], v[(k, q)]);
                v[(k, p)] = c * vp - s * vq;
                v[(k, q)] = s * vp + c * vq;
            }
        }
        if !rotated {
            break;
        }
    }
    // Sort columns by norm, descending (stable, so equal norms keep their order).
    let norms = Vector3::new(a.column(0).norm(), a.column(1).norm(), a.column(2).norm());
    let mut order = [0usize, 1, 2];
    order.sort_by(|&i, &j| norms[j].total_cmp(&norms[i]));
    let mut b = Matrix3::<f64>::zeros();
    let mut vs = Matrix3::<f64>::zeros();
    for (dst, &src) in order.iter().enumerate() {
        b.set_column(dst, &a.column(src));
        vs.set_column(dst, &v.column(src));
    }
    // Keep V a rotation: a permutation may have flipped its orientation.
    if vs.determinant() < 0.0 {
        vs.set_column(2, &(-vs.column(2)));
        b.set_column(2, &(-b.column(2)));
    }
    // U from the columns of B = F V; the third column completes a rotation and the
    // signed third singular value carries the sign of det F.
    let scale = norms.max();
    let tiny = scale * 1e-300_f64.max(f64::EPSILON * 1e-3);
    let s0 = b.column(0).norm();
    let u0 = if s0 > tiny && s0 > 0.0 {
        b.column(0) / s0
    } else {
        Vector3::x()
    };
    let mut u1 = b.column(1) - u0 * u0.dot(&b.column(1));
    let s1n = u1.norm();
    if s1n > tiny && s1n > 0.0 {
        u1 /= s1n;
    } else {
        u1 = any_orthogonal(&u0);
    }
    // Magnitudes are the sorted column norms, so the order holds exactly; only the
    // third value takes a sign (that of det F).
    let s1 = b.column(1).norm();
    let u2 = u0.cross(&u1);
    let s2 = b.column(2).norm().copysign(u2.dot(&b.column(2)));
    let mut u = Matrix3::<f64>::zeros();
    u.set_column(0, &u0);
    u.set_column(1, &u1);
    u.set_column(2, &u2);
    Svd {
        u,
        sigma: Vector3::new(s0, s1, s2),
        v: vs,
    }
}

/// A unit vector orthogonal to the unit vector `a`.
fn any_orthogonal(a: &Vector3<f64>) -> Vector3<f64> {
    let axis = if a.x.abs() <= a.y.abs() && a.x.abs() <= a.z.abs() {
        Vector3::x()
    } else if a.y.abs() <= a.z.abs() {
        Vector3::y()
    } else {
        Vector3::z()
    };
    let w = a.cross(&axis);
    w / w.norm()
}

/// Signed SVD with the clamped forward-mode derivative (module docs). For `f64` this is
/// [`svd_signed_f64`]; for dual numbers the derivative part is added analytically.
pub fn svd_signed<T: Real>(f: &Matrix3<T>) -> Svd<T> {
    let re = f.map(|x| x.re());
    let s = svd_signed_f64(&re);
    let u: Matrix3<T> = s.u.map(T::cst);
    let v: Matrix3<T> = s.v.map(T::cst);
    if T::DIRECTIONS == 0 {
        return Svd {
            u,
            sigma: s.sigma.map(T::cst),
            v,
        };
    }
    // P = Uᵀ F V in T; its derivative part is Uᵀ dF V (U and V are constants here).
    let p_full = mul3(&mul3_tn(&u, f), &v);
    let p = p_full.map(|x| x - x.detach());
    let sg = s.sigma;
    let sigma = Vector3::new(
        T::cst(sg[0]) + p[(0, 0)],
        T::cst(sg[1]) + p[(1, 1)],
        T::cst(sg[2]) + p[(2, 2)],
    );
    let mut omega_u = Matrix3::<T>::zeros();
    let mut omega_v = Matrix3::<T>::zeros();
    for (i, j) in [(0usize, 1usize), (0, 2), (1, 2)] {
        let d = (sg[j] * sg[j] - sg[i] * sg[i]).min(-SVD_GAP_CLAMP);
        let inv_d = T::cst(1.0 / d);
        let (si, sj) = (T::cst(sg[i]), T::cst(sg[j]));
        let wu = (sj * p[(i, j)] + si * p[(j, i)]) * inv_d;
        let wv = (si * p[(i, j)] + sj * p[(j, i)]) * inv_d;
        omega_u[(i, j)] = wu;
        omega_u[(j, i)] = -wu;
        omega_v[(i, j)] = wv;
        omega_v[(j, i)] = -wv;
    }
    Svd {
        u: u + mul3(&u, &omega_u),
        sigma,
        v: v + mul3(&v, &omega_v),
    }
}

/// Polar decomposition `F = R S` from the signed SVD: `R = U Vᵀ` (a rotation) and
/// `S = V diag(σ) Vᵀ` (symmetric; indefinite when `det F < 0`), as the SGA reference's
/// patched `torch.polar`. Derivatives follow [`svd_signed`].
pub fn polar<T: Real>(f: &Matrix3<T>) -> (Matrix3<T>, Matrix3<T>) {
    let s = svd_signed(f);
    let vt = s.v.transpose();
    let r = mul3(&s.u, &vt);
    let vs = Matrix3::from_fn(|i, j| s.v[(i, j)] * s.sigma[j]);
    (r, mul3(&vs, &vt))
}
