//! The numeric fingerprint of a law: its values at fixed sample inputs with fixed
//! parameter values, quantised and hashed. It is the second deduplication key, beside the
//! e-graph's canonical hash: two spellings of one law that the e-graph does not prove
//! equal within its limits (`mu * (F @ F.T - I) + la * log(J) * I` against
//! `-(mu * (I - F @ F.T)) + I * (log(det(F.T)) * la)`) still share it.
//!
//! * The sample inputs are fixed tables: deformation-gradient-like matrices (rotation ×
//!   stretch × rotation, stretches from 0.3 % to a factor of 2.9, volume ratios from 0.26
//!   to 6.9, so thresholds of plastic laws are crossed both ways), positive
//!   scalars spread over two decades, and vectors.
//! * Parameters are matched by role, not by name or order: the law is evaluated under
//!   every assignment of the fixed parameter values [`PARAM_VALUES`] (each also at the
//!   multiples [`PARAM_SCALES`]) to its parameters
//!   (every permutation, up to [`MAX_PERMUTED`] parameters), and the smallest hash is
//!   the fingerprint. Renaming or reordering parameters does not change it.
//! * Values are quantised relative to the largest magnitude of all the law's values
//!   (`round(x / scale * 1e9)`), so rounding differences between spellings vanish.
//! * A law that is not finite at any sample point (NaN everywhere, like
//!   `(F - F) / (det(F) - det(F))`) has no fingerprint: it never makes another law a
//!   duplicate. Non-finite values at some points are hashed as a marker.
//!
//! ```
//! use ansatz_grammar::{Signature, fingerprint, load};
//! let sig = Signature::elastic();
//! let a = load("param mu = 1\nparam la = 1\nJ = det(F)\nreturn mu * (F @ F.T - I) + la * log(J) * I", &sig).unwrap();
//! let b = load("param la = 3\nparam mu = 2\nreturn -(mu * (I - F @ F.T)) + I * (log(det(F.T)) * la)", &sig).unwrap();
//! let c = load("param mu = 1\nparam la = 1\nreturn mu * (F @ F.T - I) + la * (det(F) - 1) * I", &sig).unwrap();
//! assert_eq!(fingerprint(&a), fingerprint(&b));
//! assert_ne!(fingerprint(&a), fingerprint(&c));
//! assert_eq!(fingerprint(&load("return (F - F) / (det(F) - det(F)) + F", &sig).unwrap()), None);
//! ```

use crate::check::CheckedProgram;
use crate::egraph::canonical::Fnv;
use crate::types::Type;
use crate::value::Value;
use nalgebra::{Matrix3, Rotation3, Unit, Vector3};

/// The parameter values a law is evaluated with (in some order): distinct, positive,
/// away from the usual singular values of moduli (0, 0.5 and 1 for Poisson's ratio).
pub const PARAM_VALUES: [f64; 8] = [0.73, 1.37, 0.29, 2.11, 0.17, 1.63, 0.41, 3.07];

/// The parameter values are also taken at these multiples, so that a threshold a law
/// compares with a parameter (a yield stress, a volume bound) is crossed at some sample
/// point whatever the parameter's scale.
pub const PARAM_SCALES: [f64; 3] = [1.0, 0.1, 10.0];

/// Up to this many parameters every permutation is tried (720 for 6); beyond it, the
/// parameters take the values in declaration order.
pub const MAX_PERMUTED: usize = 6;

/// Number of sample points (and of [`sample_deformation`]s).
pub const POINTS: usize = 8;

/// The fingerprint of a law (64-bit), or `None` when the law is not finite at any sample
/// point or has more parameters than [`PARAM_VALUES`].
pub fn fingerprint(law: &CheckedProgram) -> Option<u64> {
    let c = law.compiled();
    let n = c.param_names().len();
    if n > PARAM_VALUES.len() {
        return None;
    }
    let inputs: Vec<Vec<Value<f64>>> = (0..POINTS)
        .map(|k| {
            c.signature()
                .inputs
                .iter()
                .enumerate()
                .map(|(i, (_, t))| sample(*t, k, i))
                .collect()
        })
        .collect();
    let mut scratch = c.scratch();
    let mut order: Vec<usize> = (0..n).collect();
    let mut best: Option<u64> = None;
    let mut values = Vec::new();
    loop {
        values.clear();
        for scale in PARAM_SCALES {
            let params: Vec<f64> = order.iter().map(|&j| PARAM_VALUES[j] * scale).collect();
            for point in &inputs {
                match c.eval(point, &params, &mut scratch) {
                    Ok(v) => values.extend(v.entries()),
                    Err(_) => return None,
                }
            }
        }
        if let Some(h) = quantised_hash(&values, c.signature().output) {
            best = Some(best.map_or(h, |b| b.min(h)));
        }
        if n > MAX_PERMUTED || !next_permutation(&mut order) {
            break;
        }
    }
    best
}

/// The hash of values quantised relative to their largest magnitude; `None` when none is
/// finite.
fn quantised_hash(values: &[f64], output: Type) -> Option<u64> {
    let scale = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(None, |m: Option<f64>, v| {
            Some(m.map_or(v.abs(), |m| m.max(v.abs())))
        })?;
    let mut h = Fnv::default();
    h.write_bytes(output.name().as_bytes());
    for &v in values {
        let q: i64 = if !v.is_finite() {
            i64::MIN
        } else if scale == 0.0 {
            0
        } else {
            (v / scale * 1e9).round() as i64
        };
        h.write_u64(q as u64);
    }
    // The scale itself (to 9 digits): `2 * law` is not `law`.
    h.write_u64((scale.log2() * 1e9).round() as i64 as u64);
    Some(h.finish())
}

/// The next permutation in lexicographic order; false after the last.
fn next_permutation(order: &mut [usize]) -> bool {
    let Some(i) = order.windows(2).rposition(|w| w[0] < w[1]) else {
        return false;
    };
    let j = order
        .iter()
        .rposition(|&x| x > order[i])
        .expect("a larger element follows");
    order.swap(i, j);
    order[i + 1..].reverse();
    true
}

/// Sample `k` of input `i` of type `t`.
fn sample(t: Type, k: usize, i: usize) -> Value<f64> {
    let k = k + 3 * i;
    match t {
        Type::Scalar => Value::Scalar(SCALARS[k % SCALARS.len()]),
        Type::Vec3 => Value::Vec3(Vector3::from(VECTORS[k % VECTORS.len()])),
        Type::Mat3 => Value::Mat3(sample_deformation(k)),
    }
}

/// Positive scalars over two decades.
const SCALARS: [f64; 11] = [
    0.37, 1.91, 0.083, 4.6, 1.13, 0.52, 7.9, 2.7, 0.21, 1.004, 3.3,
];

/// Vectors with entries of both signs.
const VECTORS: [[f64; 3]; 5] = [
    [0.31, -1.2, 0.77],
    [-0.64, 0.15, 1.9],
    [1.4, 0.52, -0.33],
    [-0.09, -0.88, 0.45],
    [0.72, 1.1, 0.26],
];

/// Sample deformation gradient `k % POINTS`: a rotation, a stretch, a rotation
/// (determinant from 0.26 to 6.9, principal stretches from 0.55 to 2.9).
pub fn sample_deformation(k: usize) -> Matrix3<f64> {
    let k = k % POINTS;
    // Axis (unnormalised), angle, then log-stretches of the left and right factors.
    /// Axis, angle, left log-stretches, right log-stretches, and the last entry.
    type Sample = ([f64; 3], f64, [f64; 3], [f64; 3], f64);
    const DATA: [Sample; POINTS] = [
        (
            [0.3, -0.5, 0.8],
            0.4,
            [0.011, -0.007, 0.004],
            [0.2, 0.9, -0.4],
            1.1,
        ),
        (
            [1.0, 0.2, -0.1],
            1.3,
            [0.09, -0.05, 0.02],
            [-0.6, 0.3, 0.7],
            0.5,
        ),
        (
            [-0.2, 0.7, 0.4],
            2.2,
            [-0.25, 0.18, 0.12],
            [0.5, 0.5, -0.7],
            2.9,
        ),
        (
            [0.6, 0.6, -0.5],
            0.9,
            [0.45, -0.31, -0.2],
            [0.1, -1.0, 0.2],
            1.7,
        ),
        (
            [-0.8, 0.1, 0.6],
            2.7,
            [-0.6, -0.35, -0.4],
            [0.9, 0.1, 0.3],
            0.2,
        ),
        (
            [0.1, -0.9, -0.3],
            0.15,
            [0.003, 0.002, -0.004],
            [0.4, 0.4, 0.8],
            2.4,
        ),
        (
            [0.5, 0.2, 0.9],
            1.8,
            [1.05, 0.4, 0.5],
            [-0.3, 0.8, 0.5],
            0.8,
        ),
        (
            [-0.4, -0.4, 0.7],
            0.6,
            [-0.15, -0.1, 0.3],
            [0.7, -0.2, -0.6],
            3.0,
        ),
    ];
    let (axis_l, angle_l, stretch, axis_r, angle_r) = DATA[k];
    let rot = |a: [f64; 3], angle: f64| {
        Rotation3::from_axis_angle(&Unit::new_normalize(Vector3::from(a)), angle).into_inner()
    };
    let s = Matrix3::from_diagonal(&Vector3::from(stretch).map(f64::exp));
    rot(axis_l, angle_l) * s * rot(axis_r, angle_r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Signature;

    #[test]
    fn permutations_are_all_visited() {
        let mut order = vec![0, 1, 2, 3];
        let mut n = 1;
        while next_permutation(&mut order) {
            n += 1;
        }
        assert_eq!(n, 24);
        assert_eq!(order, vec![3, 2, 1, 0]);
    }

    #[test]
    fn samples_are_proper_deformations() {
        for k in 0..POINTS {
            let f = sample_deformation(k);
            assert!(f.determinant() > 0.2, "{k}: {}", f.determinant());
        }
    }

    #[test]
    fn scale_and_renaming() {
        let sig = Signature::elastic();
        let fp = |s: &str| fingerprint(&crate::load(s, &sig).unwrap());
        let a = fp("param mu = 1\nreturn mu * (F @ F.T - I)");
        assert_eq!(a, fp("param k = 4\nreturn (F @ F.T) * k - k * I"));
        assert_ne!(a, fp("param mu = 1\nreturn mu * (F @ F.T - I) + 0.001 * I"));
        assert_ne!(a, fp("param mu = 1\nreturn mu * (F.T @ F - I)"));
        assert!(a.is_some());
    }
}
