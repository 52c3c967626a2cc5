//! Dual-number gradients of the evaluator equal central finite differences for programs
//! that together use every operator and function, with parameters flowing through each.

use ansatz_grammar::{Compiled, Signature, load};
use ansatz_linalg::{DualSVec64, gradient};
use nalgebra::Matrix3;

const PROGRAMS: &[&str] = &[
    // elementwise functions and broadcasting
    "param a = 0.3\nparam b = 1.7\nx = exp(a) + log(b) + sqrt(b) + cbrt(a - 1) + abs(a - 2) + sigmoid(a) + tanh(b)\ny = log1p(a) + expm1(b) + sin(a) * cos(b) + pow(b, a) + b ** a + a ** 3 + (a - 1) ** 2\nreturn x * F + y * F.T",
    // selections
    "param a = 0.3\nparam b = 1.7\nv = diagonal(F) * b\nm = clamp(F * b, a, 1.5)\nw = where(v > 1.2, v * a, v / b)\nreturn m + diag(w) + min(a, b) * I + max(F * a, F.T * b) + (min(v) + max(F) + max(a * F)) * I",
    // matrix functions
    "param a = 0.3\nparam b = 1.7\nA = F * b + a * I\nreturn inv(A) + det(A) * sym(A) + trace(A) * skew(A) + dev(A) * a + transpose(A) @ A",
    // vectors, reductions, indexing
    "param a = 0.3\nparam b = 1.7\nv = F @ vec3(a, b, 1)\nu = vec3(1, a, b) @ F\nreturn outer(v, u) + (dot(v, u) + v @ u + sum(v) + mean(F) * b + prod(u) + norm(v) + norm(F * a) + dot(F, F * b)) * I + F[0, 1] * a * I + diag(F[2]) * b + v[-1] * I",
    // decompositions
    "param a = 0.3\nparam b = 1.7\nU, sigma, Vh = svd(F * b + a * I)\nR, S = polar(F * a + b * I)\nreturn U @ diag(sigma ** 2) @ Vh + R @ S * a + R * b",
];

fn test_fs() -> Vec<Matrix3<f64>> {
    vec![
        Matrix3::new(1.1, 0.2, -0.1, 0.05, 0.9, 0.3, -0.2, 0.1, 1.2),
        Matrix3::new(0.8, -0.3, 0.1, 0.2, 1.3, 0.0, 0.1, -0.1, 0.95),
    ]
}

#[test]
fn dual_gradients_equal_central_differences() {
    for src in PROGRAMS {
        let c = load(src, &Signature::elastic())
            .unwrap_or_else(|e| panic!("{}\n{src}", e.render()))
            .into_compiled();
        let th = c.defaults().to_vec();
        let mut s = c.scratch::<f64>();
        let mut sd = c.scratch::<DualSVec64<2>>();
        for f in test_fs() {
            let d = c
                .eval_mat3(
                    &f.map(DualSVec64::<2>::from),
                    &Compiled::seed_params(&th),
                    &mut sd,
                )
                .unwrap();
            let v = c.eval_mat3(&f, &th, &mut s).unwrap();
            for k in 0..9 {
                assert!(
                    (d[k].re - v[k]).abs() <= 1e-14 * (1.0 + v[k].abs()),
                    "{src}: value"
                );
            }
            for i in 0..th.len() {
                let h = 1e-6;
                let mut tp = th.clone();
                tp[i] += h;
                let mut tm = th.clone();
                tm[i] -= h;
                let fd = (c.eval_mat3(&f, &tp, &mut s).unwrap()
                    - c.eval_mat3(&f, &tm, &mut s).unwrap())
                    / (2.0 * h);
                let g = d.map(|x| gradient(&x)[i]);
                assert!(g.iter().all(|x| x.is_finite()), "{src}");
                assert!(
                    (fd - g).norm() <= 1e-6 * fd.norm().max(1.0),
                    "{src}\nparam {i}: fd {fd} dual {g}"
                );
            }
        }
    }
}
