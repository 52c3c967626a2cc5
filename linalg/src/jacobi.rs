//! The exact signed SVD's kernel: one-sided Jacobi (Hestenes) rotations on the columns of
//! F, for several matrices at once in lock step ([`svd_exact_f64_each`]).
//!
//! Each rotation needs two square roots and two divisions in a chain, so one matrix at a
//! time is bound by their latency; several independent matrices interleave them (and the
//! compiler may put lanes in vector registers). Every lane performs exactly the arithmetic
//! of a lone matrix: a lane stops rotating when it has converged, skipped rotations are
//! selects rather than rotations by zero, so a matrix's decomposition is bit for bit the
//! same whatever batch it is in ([`crate::svd_exact_f64`] is the one-lane case).

use crate::Svd;
use nalgebra::{Matrix3, Vector3};

/// Largest number of Jacobi sweeps; 3x3 matrices converge in 3–5 (quadratically).
const MAX_SWEEPS: usize = 12;

/// After a sweep in which every column pair was already this close to orthogonal
/// (relative cosine), quadratic convergence has made them orthogonal to rounding.
const CONVERGED: f64 = 1e-8;

/// Matrices decomposed together by [`svd_exact_f64_each`].
pub(crate) const LANES: usize = 8;

type V3 = Vector3<f64>;

/// Columns of A (`a[col][row]`) and of V, one array entry per lane.
struct Lanes<const L: usize> {
    a: [[[f64; L]; 3]; 3],
    v: [[[f64; L]; 3]; 3],
}

#[inline(always)]
fn dot<const L: usize>(x: &[[f64; L]; 3], y: &[[f64; L]; 3], l: usize) -> f64 {
    x[0][l] * y[0][l] + x[1][l] * y[1][l] + x[2][l] * y[2][l]
}

/// Rotates every lane's columns to orthogonality; `active[l]` false lanes are left alone.
#[inline(always)]
fn jacobi<const L: usize>(m: &mut Lanes<L>, active: [bool; L]) {
    let mut done = active.map(|a| !a);
    for _ in 0..MAX_SWEEPS {
        if done.iter().all(|&d| d) {
            break;
        }
        let mut worst = [0.0f64; L];
        for (p, q) in [(0usize, 1usize), (0, 2), (1, 2)] {
            let mut c = [1.0f64; L];
            let mut s = [0.0f64; L];
            let mut rotate = [false; L];
            // Branch-free over the lanes (selects, not jumps), so that they can share
            // vector instructions; a lane that does not rotate keeps its columns exactly.
            for l in 0..L {
                let alpha = dot(&m.a[p], &m.a[p], l);
                let beta = dot(&m.a[q], &m.a[q], l);
                let gamma = dot(&m.a[p], &m.a[q], l);
                // Squared relative non-orthogonality, without a square root or a division.
                let g2 = gamma * gamma;
                let ab = alpha * beta;
                let r = !done[l] & (g2 > f64::EPSILON * f64::EPSILON * ab) & (gamma != 0.0);
                rotate[l] = r;
                let ratio = g2 / ab;
                worst[l] = if r & (g2 > worst[l] * ab) {
                    ratio
                } else {
                    worst[l]
                };
                // Rotation that zeroes the (p, q) entry of AᵀA: tan θ = t.
                let tau = beta - alpha;
                let t = 2.0 * gamma * 1.0f64.copysign(tau)
                    / (tau.abs() + (tau * tau + 4.0 * g2).sqrt());
                c[l] = 1.0 / (1.0 + t * t).sqrt();
                s[l] = c[l] * t;
            }
            for cols in [&mut m.a, &mut m.v] {
                let [cp, cq] = cols.get_disjoint_mut([p, q]).expect("p < q");
                for (rp, rq) in cp.iter_mut().zip(cq.iter_mut()) {
                    for l in 0..L {
                        let (xp, xq) = (rp[l], rq[l]);
                        let (np, nq) = (xp * c[l] - xq * s[l], xp * s[l] + xq * c[l]);
                        rp[l] = if rotate[l] { np } else { xp };
                        rq[l] = if rotate[l] { nq } else { xq };
                    }
                }
            }
        }
        for l in 0..L {
            if worst[l] <= CONVERGED * CONVERGED {
                done[l] = true;
            }
        }
    }
}

type Cols<const L: usize> = [[[f64; L]; 3]; 3];

#[inline(always)]
fn sel(c: bool, x: f64, y: f64) -> f64 {
    if c { x } else { y }
}

/// `x × y` of lane `l`.
#[inline(always)]
fn cross<const L: usize>(x: &[[f64; L]; 3], y: &[[f64; L]; 3], l: usize) -> [f64; 3] {
    [
        x[1][l] * y[2][l] - x[2][l] * y[1][l],
        x[2][l] * y[0][l] - x[0][l] * y[2][l],
        x[0][l] * y[1][l] - x[1][l] * y[0][l],
    ]
}

/// Sorting, the sign convention and U for every lane's converged columns (`a` = F V,
/// `v` = V), branch-free over the lanes like [`jacobi`]. Returns `(u, sigma, v)` columns.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // rows and lanes read best as indices
fn finish<const L: usize>(m: &mut Lanes<L>) -> (Cols<L>, [[f64; L]; 3]) {
    let a = &mut m.a;
    let v = &mut m.v;
    let mut norms = [[0.0f64; L]; 3];
    for (c, n) in norms.iter_mut().enumerate() {
        for l in 0..L {
            n[l] = dot(&a[c], &a[c], l).sqrt();
        }
    }
    // Sort the columns by norm, descending: a stable three-element bubble sort, swapping
    // only where the later norm is strictly larger (norms are finite here).
    for (i, j) in [(0usize, 1usize), (1, 2), (0, 1)] {
        for l in 0..L {
            let swap = norms[j][l] > norms[i][l];
            let (ni, nj) = (norms[i][l], norms[j][l]);
            norms[i][l] = sel(swap, nj, ni);
            norms[j][l] = sel(swap, ni, nj);
            for cols in [&mut *a, &mut *v] {
                for r in 0..3 {
                    let (xi, xj) = (cols[i][r][l], cols[j][r][l]);
                    cols[i][r][l] = sel(swap, xj, xi);
                    cols[j][r][l] = sel(swap, xi, xj);
                }
            }
        }
    }
    let mut u = [[[0.0f64; L]; 3]; 3];
    let mut sigma = [[0.0f64; L]; 3];
    let mut fallback = [false; L];
    for l in 0..L {
        // Keep V a rotation: the permutation may have flipped its orientation. Negating
        // the third column of V negates the third column of B = F V with it.
        let c01 = cross(&v[0], &v[1], l);
        let flip = c01[0] * v[2][0][l] + c01[1] * v[2][1][l] + c01[2] * v[2][2][l] < 0.0;
        for r in 0..3 {
            v[2][r][l] = sel(flip, -v[2][r][l], v[2][r][l]);
            a[2][r][l] = sel(flip, -a[2][r][l], a[2][r][l]);
        }
        // U from the columns of B; its third column completes a rotation, and the third
        // singular value takes the sign of det F. Magnitudes are the sorted column norms.
        let s0 = norms[0][l];
        let positive = s0 > 0.0;
        for r in 0..3 {
            u[0][r][l] = sel(positive, a[0][r][l] / s0, if r == 0 { 1.0 } else { 0.0 });
        }
        let d = dot(&u[0], &a[1], l);
        for r in 0..3 {
            u[1][r][l] = a[1][r][l] - u[0][r][l] * d;
        }
        let u1n = dot(&u[1], &u[1], l).sqrt();
        let ok = u1n > s0 * 1e-18 && u1n > 0.0;
        fallback[l] = !ok;
        for r in 0..3 {
            u[1][r][l] /= u1n;
        }
        sigma[0][l] = s0;
        sigma[1][l] = norms[1][l];
    }
    for l in 0..L {
        if fallback[l] {
            let u0 = V3::new(u[0][0][l], u[0][1][l], u[0][2][l]);
            let w = any_orthogonal(&u0);
            for r in 0..3 {
                u[1][r][l] = w[r];
            }
        }
    }
    for l in 0..L {
        let u2 = cross(&u[0], &u[1], l);
        for r in 0..3 {
            u[2][r][l] = u2[r];
        }
        let sign = u2[0] * a[2][0][l] + u2[1] * a[2][1][l] + u2[2] * a[2][2][l];
        sigma[2][l] = norms[2][l].copysign(sign);
    }
    (u, sigma)
}

/// A unit vector orthogonal to the unit vector `a`.
fn any_orthogonal(a: &V3) -> V3 {
    let axis = if a.x.abs() <= a.y.abs() && a.x.abs() <= a.z.abs() {
        V3::x()
    } else if a.y.abs() <= a.z.abs() {
        V3::y()
    } else {
        V3::z()
    };
    let w = a.cross(&axis);
    w / w.norm()
}

/// Decomposes up to `L` matrices (`fs[l]` for `l < count`), calling `out` for each.
#[inline(always)]
fn decompose<const L: usize>(
    fs: &[Matrix3<f64>; L],
    count: usize,
    base: usize,
    out: &mut impl FnMut(usize, Svd<f64>),
) {
    let finite: [bool; L] =
        std::array::from_fn(|l| l < count && fs[l].iter().all(|x| x.is_finite()));
    let mut m = Lanes {
        a: [[[0.0; L]; 3]; 3],
        v: [[[0.0; L]; 3]; 3],
    };
    for l in 0..L {
        for col in 0..3 {
            for r in 0..3 {
                m.a[col][r][l] = if finite[l] { fs[l][(r, col)] } else { 0.0 };
                m.v[col][r][l] = if r == col { 1.0 } else { 0.0 };
            }
        }
    }
    jacobi(&mut m, finite);
    let (u, sigma) = finish(&mut m);
    for l in 0..count {
        let svd = if finite[l] {
            Svd {
                u: Matrix3::from_fn(|r, c| u[c][r][l]),
                sigma: Vector3::new(sigma[0][l], sigma[1][l], sigma[2][l]),
                v: Matrix3::from_fn(|r, c| m.v[c][r][l]),
            }
        } else {
            crate::svd::nan_svd()
        };
        out(base + l, svd);
    }
}

/// The exact signed SVD of one matrix (the one-lane case of the kernel).
pub(crate) fn exact_one(f: &Matrix3<f64>) -> Svd<f64> {
    let mut result = None;
    decompose::<1>(&[*f], 1, 0, &mut |_, s| result = Some(s));
    result.unwrap_or_else(crate::svd::nan_svd)
}

/// Exact signed SVDs of `n` matrices, `input(i)` for `i < n`, calling `out(i, svd)` in
/// order of `i`. Each result equals [`crate::svd_exact_f64`] of the same matrix bit for
/// bit; decomposing several at once is about twice as fast.
pub fn svd_exact_f64_each(
    n: usize,
    input: impl Fn(usize) -> Matrix3<f64>,
    mut out: impl FnMut(usize, Svd<f64>),
) {
    let mut base = 0;
    while base < n {
        let count = (n - base).min(LANES);
        let fs: [Matrix3<f64>; LANES] = std::array::from_fn(|l| {
            if l < count {
                input(base + l)
            } else {
                Matrix3::identity()
            }
        });
        decompose::<LANES>(&fs, count, base, &mut out);
        base += count;
    }
}
