//! The SVD of the SGA reference, step for step: warp 1.1.0's `svd3` (McAdams et al. 2011,
//! after E. Jang's port) in `f32`, followed by the SGA kernel's sign fix. Four fixed Jacobi sweeps with approximate Givens quaternions on `AᵀA`,
//! a sort of the columns of `B = A V`, and a Givens QR of `B`; σ is the diagonal of R.
//!
//! This decomposition is approximate (four sweeps, single precision: the reconstruction
//! error is about 5e-7 for well-conditioned matrices and can reach 1e-2 for others). It
//! exists to reproduce the reference's trajectories and losses to its own rounding; the
//! default [`crate::svd_signed_f64`] is exact to `f64` precision.

use crate::Svd;
use nalgebra::{Matrix3, Vector3};

const GAMMA: f32 = 5.828_427; // 3 + 2√2
const C_STAR: f32 = 0.923_879_5; // cos π/8
const S_STAR: f32 = 0.382_683_43; // sin π/8
const QR_EPS: f32 = 1e-6;
const SWEEPS: usize = 4;

/// Symmetric 3x3 matrix as (s11, s21, s22, s31, s32, s33).
struct Sym {
    s11: f32,
    s21: f32,
    s22: f32,
    s31: f32,
    s32: f32,
    s33: f32,
}

/// One approximate Jacobi conjugation on the (0, 1) pair, accumulating the rotation in
/// the quaternion `q = [x, y, z, w]`; `(x, y, z)` names the quaternion components of
/// the pair, and the matrix is re-arranged so the next pair comes to (0, 1).
fn conjugate(x: usize, y: usize, z: usize, s: &mut Sym, q: &mut [f32; 4]) {
    let mut ch = 2.0 * (s.s11 - s.s22);
    let mut sh = s.s21;
    let exact = GAMMA * sh * sh < ch * ch;
    let w = 1.0 / (ch * ch + sh * sh).sqrt();
    if exact {
        ch *= w;
        sh *= w;
    } else {
        ch = C_STAR;
        sh = S_STAR;
    }
    let scale = ch * ch + sh * sh;
    let a = (ch * ch - sh * sh) / scale;
    let b = (2.0 * sh * ch) / scale;
    let Sym {
        s11,
        s21,
        s22,
        s31,
        s32,
        s33,
    } = *s;
    let n11 = a * (a * s11 + b * s21) + b * (a * s21 + b * s22);
    let n21 = a * (-b * s11 + a * s21) + b * (-b * s21 + a * s22);
    let n22 = -b * (-b * s11 + a * s21) + a * (-b * s21 + a * s22);
    let n31 = a * s31 + b * s32;
    let n32 = -b * s31 + a * s32;
    let n33 = s33;
    let tmp = [q[0] * sh, q[1] * sh, q[2] * sh];
    let shw = sh * q[3];
    for c in q.iter_mut() {
        *c *= ch;
    }
    q[z] += shw;
    q[3] -= tmp[z];
    q[x] += tmp[y];
    q[y] -= tmp[x];
    *s = Sym {
        s11: n22,
        s21: n32,
        s22: n33,
        s31: n21,
        s32: n31,
        s33: n11,
    };
}

fn quat_to_mat(q: &[f32; 4]) -> [[f32; 3]; 3] {
    let (x, y, z, w) = (q[0], q[1], q[2], q[3]);
    let (qxx, qyy, qzz) = (x * x, y * y, z * z);
    let (qxz, qxy, qyz) = (x * z, x * y, y * z);
    let (qwx, qwy, qwz) = (w * x, w * y, w * z);
    [
        [
            1.0 - 2.0 * (qyy + qzz),
            2.0 * (qxy - qwz),
            2.0 * (qxz + qwy),
        ],
        [
            2.0 * (qxy + qwz),
            1.0 - 2.0 * (qxx + qzz),
            2.0 * (qyz - qwx),
        ],
        [
            2.0 * (qxz - qwy),
            2.0 * (qyz + qwx),
            1.0 - 2.0 * (qxx + qyy),
        ],
    ]
}

/// Rows `x, y` rotated by the Givens quaternion `(ch, sh)`: `(a x + b y, −b x + a y)` with
/// `a = 1 − 2 sh²`, `b = 2 ch sh`, in warp's order of operations.
fn givens_rows(sh: f32, ch: f32, x: &[f32; 3], y: &[f32; 3]) -> ([f32; 3], [f32; 3]) {
    let (a, b) = (1.0 - 2.0 * sh * sh, 2.0 * ch * sh);
    (
        std::array::from_fn(|k| a * x[k] + b * y[k]),
        std::array::from_fn(|k| -b * x[k] + a * y[k]),
    )
}

fn qr_givens(a1: f32, a2: f32) -> (f32, f32) {
    let rho = (a1 * a1 + a2 * a2).sqrt();
    let mut sh = if rho > QR_EPS { a2 } else { 0.0 };
    let mut ch = a1.abs() + rho.max(QR_EPS);
    if a1 < 0.0 {
        std::mem::swap(&mut sh, &mut ch);
    }
    let w = 1.0 / (ch * ch + sh * sh).sqrt();
    (ch * w, sh * w)
}

/// Swaps columns `i` and `j` of `m` when `c`, negating the one moved to `j`
/// (warp's `condNegSwap`: X ← Y, Y ← −X).
fn cond_neg_swap(c: bool, m: &mut [[f32; 3]; 3], i: usize, j: usize) {
    if c {
        for row in m.iter_mut() {
            let z = -row[i];
            row[i] = row[j];
            row[j] = z;
        }
    }
}

/// The reference SVD (module docs) of `f`, rounded to `f32` on entry; the result is
/// returned in `f64` with the convention of [`Svd`]. NaN or infinite entries give NaN
/// everywhere (entries beyond the `f32` range overflow to the same).
pub fn svd_reference_f32(f: &Matrix3<f64>) -> Svd<f64> {
    if !f.iter().all(|x| x.is_finite()) {
        return crate::svd::nan_svd();
    }
    let a: [[f32; 3]; 3] = std::array::from_fn(|i| std::array::from_fn(|j| f[(i, j)] as f32));
    // AᵀA, as warp's multAtB.
    let ata = |i: usize, j: usize| a[0][i] * a[0][j] + a[1][i] * a[1][j] + a[2][i] * a[2][j];
    let mut s = Sym {
        s11: ata(0, 0),
        s21: ata(1, 0),
        s22: ata(1, 1),
        s31: ata(2, 0),
        s32: ata(2, 1),
        s33: ata(2, 2),
    };
    let mut q = [0.0f32, 0.0, 0.0, 1.0];
    for _ in 0..SWEEPS {
        conjugate(0, 1, 2, &mut s, &mut q);
        conjugate(1, 2, 0, &mut s, &mut q);
        conjugate(2, 0, 1, &mut s, &mut q);
    }
    let mut v = quat_to_mat(&q);
    let mut b: [[f32; 3]; 3] = std::array::from_fn(|i| {
        std::array::from_fn(|j| a[i][0] * v[0][j] + a[i][1] * v[1][j] + a[i][2] * v[2][j])
    });
    // Sort the columns of B (and V) by squared norm, descending.
    let rho =
        |b: &[[f32; 3]; 3], j: usize| b[0][j] * b[0][j] + b[1][j] * b[1][j] + b[2][j] * b[2][j];
    let (mut r1, mut r2, mut r3) = (rho(&b, 0), rho(&b, 1), rho(&b, 2));
    let c = r1 < r2;
    cond_neg_swap(c, &mut b, 0, 1);
    cond_neg_swap(c, &mut v, 0, 1);
    if c {
        std::mem::swap(&mut r1, &mut r2);
    }
    let c = r1 < r3;
    cond_neg_swap(c, &mut b, 0, 2);
    cond_neg_swap(c, &mut v, 0, 2);
    if c {
        std::mem::swap(&mut r1, &mut r3);
    }
    let c = r2 < r3;
    cond_neg_swap(c, &mut b, 1, 2);
    cond_neg_swap(c, &mut v, 1, 2);
    // QR by three Givens rotations, each applied to two rows of B (then R); σ = diag(R).
    let (ch1, sh1) = qr_givens(b[0][0], b[1][0]);
    (b[0], b[1]) = givens_rows(sh1, ch1, &b[0], &b[1]);
    let (ch2, sh2) = qr_givens(b[0][0], b[2][0]);
    (b[0], b[2]) = givens_rows(sh2, ch2, &b[0], &b[2]);
    let (ch3, sh3) = qr_givens(b[1][1], b[2][1]);
    (b[1], b[2]) = givens_rows(sh3, ch3, &b[1], &b[2]);
    let (s1, s2, s3) = (b[0][0], b[1][1], b[2][2]);
    let (sh12, sh22, sh32) = (sh1 * sh1, sh2 * sh2, sh3 * sh3);
    let u = [
        [
            (-1.0 + 2.0 * sh12) * (-1.0 + 2.0 * sh22),
            4.0 * ch2 * ch3 * (-1.0 + 2.0 * sh12) * sh2 * sh3
                + 2.0 * ch1 * sh1 * (-1.0 + 2.0 * sh32),
            4.0 * ch1 * ch3 * sh1 * sh3
                - 2.0 * ch2 * (-1.0 + 2.0 * sh12) * sh2 * (-1.0 + 2.0 * sh32),
        ],
        [
            2.0 * ch1 * sh1 * (1.0 - 2.0 * sh22),
            -8.0 * ch1 * ch2 * ch3 * sh1 * sh2 * sh3 + (-1.0 + 2.0 * sh12) * (-1.0 + 2.0 * sh32),
            -2.0 * ch3 * sh3
                + 4.0 * sh1 * (ch3 * sh1 * sh3 + ch1 * ch2 * sh2 * (-1.0 + 2.0 * sh32)),
        ],
        [
            2.0 * ch2 * sh2,
            2.0 * ch3 * (1.0 - 2.0 * sh22) * sh3,
            (-1.0 + 2.0 * sh22) * (-1.0 + 2.0 * sh32),
        ],
    ];
    let mut um = Matrix3::from_fn(|i, j| u[i][j] as f64);
    let mut vm = Matrix3::from_fn(|i, j| v[i][j] as f64);
    let mut sigma = Vector3::new(s1 as f64, s2 as f64, s3 as f64);
    // The SGA kernel's sign fix (in f32 in the reference; the determinants' signs agree).
    if um.determinant() < 0.0 {
        um.column_mut(2).neg_mut();
        sigma[2] = -sigma[2];
    }
    if vm.determinant() < 0.0 {
        vm.column_mut(2).neg_mut();
        sigma[2] = -sigma[2];
    }
    Svd {
        u: um,
        sigma,
        v: vm,
    }
}
