//! The batch evaluator (`Compiled::eval_mat3_batch`, instructions outer and particles
//! inner) gives bitwise the results of the per-particle evaluator (`Compiled::eval_mat3`)
//! for every law in `tasks/laws/` and for programs using every operator, in f64 and with
//! dual numbers, for batch lengths that are and are not multiples of the chunk length.

use ansatz_grammar::{Compiled, Signature, load};
use ansatz_linalg::{DualSVec64, Real};
use nalgebra::{Matrix3, Rotation3, Vector3};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const LAWS: &[&str] = &[
    "linear",
    "corotated",
    "neohookean",
    "hencky",
    "identity",
    "plasticine",
    "sand",
    "water",
    "imaginary",
];

/// Programs that together use every instruction, with parameter-only operands in every
/// position (broadcast lanes) and parameter-only results.
const PROGRAMS: &[&str] = &[
    "param a = 0.3\nparam b = 1.7\nx = exp(a) + log(b) + sqrt(b) + cbrt(a - 1) + abs(a - 2) + sigmoid(a) + tanh(b)\ny = log1p(a) + expm1(b) + sin(a) * cos(b) + pow(b, a) + b ** a + a ** 3 + (a - 1) ** 2\nreturn x * F + y * F.T",
    "param a = 0.3\nreturn exp(F) + log(abs(F) + 1) + sqrt(abs(F)) + cbrt(F) + sigmoid(F) + tanh(F) + log1p(abs(F)) + expm1(F) + sin(F) * cos(F) - F + F ** 2 + F ** 1 + F ** 3 + abs(F) ** 0.5 + F ** -2 + F ** 0 + abs(F) ** a + a ** F + F ** F",
    "param a = 0.3\nparam b = 1.7\nv = diagonal(F) * b\nm = clamp(F * b, a, 1.5)\nw = where(v > 1.2, v * a, v / b)\nreturn m + diag(w) + min(a, b) * I + max(F * a, F.T * b) + (min(v) + max(F) + max(a * F)) * I",
    "param a = 0.3\nreturn where(F > a, I * a, F) + where(det(F) <= 1, F, a * I) + where(a < F, F, 0) + clamp(F, F.T, 2 * I) + clamp(a, F, 1) + min(F, a) + max(a, F.T)",
    "param a = 0.3\nparam b = 1.7\nA = F * b + a * I\nreturn inv(A) + det(A) * sym(A) + trace(A) * skew(A) + dev(A) * a + transpose(A) @ A",
    "param a = 0.3\nparam b = 1.7\nv = F @ vec3(a, b, 1)\nu = vec3(1, a, b) @ F\nreturn outer(v, u) + (dot(v, u) + v @ u + sum(v) + mean(F) * b + prod(u) + norm(v) + norm(F * a) + dot(F, F * b)) * I + F[0, 1] * a * I + diag(F[2]) * b + v[-1] * I",
    "param a = 0.3\nM = a * I + outer(vec3(1, a, 2), vec3(a, 1, 3))\nw = vec3(a, F[1, 1], 2)\nreturn M @ F + F @ M + outer(w, vec3(1, 2, a)) + (w @ M @ w) * I + diag(M @ w) + (sum(F) + mean(diagonal(F)) + norm(F[0])) * M",
    "param a = 0.3\nparam b = 1.7\nU, sigma, Vh = svd(F * b + a * I)\nR, S = polar(F * a + b * I)\nreturn U @ diag(sigma ** 2) @ Vh + R @ S * a + R * b",
    "param a = 0.3\nreturn a * I",
    "return I",
    "return F",
];

fn source(name: &str) -> String {
    let path = format!("{}/../tasks/laws/{name}.law", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Identity, diagonal, rotated, sheared, inverted and random deformation gradients.
fn test_matrices(n: usize, seed: u64) -> Vec<Matrix3<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![
        Matrix3::identity(),
        Matrix3::from_diagonal(&Vector3::new(1.2, 0.9, 0.8)),
        Matrix3::identity() * 0.9,
        Matrix3::from_diagonal(&Vector3::new(-1.0, 1.0, 1.0)),
    ];
    while out.len() < n {
        let m = match out.len() % 4 {
            0 => Matrix3::from_diagonal(&Vector3::from_fn(|_, _| rng.random_range(0.6..1.4))),
            1 => {
                let axis = Vector3::from_fn(|_, _| rng.random_range(-2.0..2.0));
                let d = Vector3::from_fn(|_, _| rng.random_range(0.6..1.4));
                Rotation3::new(axis).into_inner() * Matrix3::from_diagonal(&d)
            }
            _ => Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.3..0.3)),
        };
        out.push(m);
    }
    out
}

/// Value and derivative bits of every entry.
fn bits<T: Real>(m: &Matrix3<T>) -> Vec<u64> {
    m.iter()
        .flat_map(|x| {
            std::iter::once(x.re().to_bits()).chain((0..T::DIRECTIONS).map(|d| x.eps(d).to_bits()))
        })
        .collect()
}

/// `eval_mat3_batch` on prefixes of `fs` of several lengths equals `eval_mat3` bitwise.
fn assert_batch_equals_single<T: Real>(name: &str, c: &Compiled, fs: &[Matrix3<T>], params: &[T]) {
    let mut single = c.scratch::<T>();
    let expected: Vec<Matrix3<T>> = fs
        .iter()
        .map(|f| c.eval_mat3(f, params, &mut single).expect("mat3 program"))
        .collect();
    let mut batch = c.scratch::<T>();
    for len in [0, 1, 2, 31, 33, 127, 129, 257, fs.len()] {
        let len = len.min(fs.len());
        let mut out = vec![Matrix3::from_element(T::cst(7.0)); len];
        c.eval_mat3_batch(&fs[..len], params, &mut out, &mut batch)
            .expect("mat3 program");
        for (p, (o, e)) in out.iter().zip(&expected).enumerate() {
            assert_eq!(
                bits(o),
                bits(e),
                "{name}: particle {p} of {len} at F = {}\nbatch {o:?}\nsingle {e:?}",
                fs[p].map(|x| x.re())
            );
        }
    }
}

fn check_all(name: &str, c: &Compiled) {
    let fs = test_matrices(300, 11);
    assert_batch_equals_single(name, c, &fs, c.defaults());
    let shifted: Vec<f64> = c.defaults().iter().map(|x| x * 1.1 + 0.01).collect();
    assert_batch_equals_single(name, c, &fs, &shifted);

    let params = Compiled::seed_params::<DualSVec64<3>>(c.defaults());
    let constant: Vec<Matrix3<DualSVec64<3>>> = fs.iter().map(|f| f.map(Real::cst)).collect();
    assert_batch_equals_single(name, c, &constant, &params);
    // F carrying derivatives, as in a gradient rollout.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let varying: Vec<Matrix3<DualSVec64<3>>> = fs
        .iter()
        .map(|f| f.map(|x| DualSVec64::from_fn(x, |_| rng.random_range(-1.0..1.0))))
        .collect();
    assert_batch_equals_single(name, c, &varying, &params);
}

#[test]
fn batch_equals_single_for_every_law() {
    for name in LAWS {
        let law = load(&source(name), &Signature::elastic())
            .unwrap_or_else(|e| panic!("{name}: {}", e.render()));
        check_all(name, law.compiled());
    }
}

#[test]
fn batch_equals_single_for_every_instruction() {
    for src in PROGRAMS {
        let law = load(src, &Signature::elastic()).unwrap_or_else(|e| panic!("{}", e.render()));
        check_all(src, law.compiled());
    }
}

#[test]
fn batch_rejects_misuse() {
    let law = load("param a = 1.0\nreturn a * F", &Signature::elastic()).expect("valid");
    let c = law.compiled();
    let mut s = c.scratch::<f64>();
    let fs = [Matrix3::identity(); 3];
    let mut out = [Matrix3::zeros(); 2];
    assert!(c.eval_mat3_batch(&fs, &[1.0], &mut out, &mut s).is_err());
    let mut out = [Matrix3::zeros(); 3];
    assert!(c.eval_mat3_batch(&fs, &[], &mut out, &mut s).is_err());
    c.eval_mat3_batch(&fs, &[2.0], &mut out, &mut s)
        .expect("valid call");
    assert_eq!(out[2], Matrix3::identity() * 2.0);
}

/// Well-typed programs mixing input-dependent and parameter-only operands of every shape.
fn typed_program() -> impl Strategy<Value = String> {
    let scalar = prop::sample::select(vec![
        "det(F)",
        "trace(F)",
        "p0",
        "p1 * p0",
        "sum(s)",
        "norm(F)",
        "prod(s)",
        "2.5",
        "s[0]",
        "F[1, 2]",
        "dot(v, w)",
        "mean(F)",
        "min(F)",
        "max(v)",
        "log(abs(p1) + 1)",
    ]);
    let vector = prop::sample::select(vec![
        "s",
        "v",
        "w",
        "F @ v",
        "v @ F",
        "diagonal(F)",
        "F[2]",
        "vec3(p0, F[0, 0], 1)",
        "max(s, 0.01)",
        "exp(-abs(v))",
        "vec3(p0, p1, 2)",
    ]);
    let matrix = prop::sample::select(vec![
        "F",
        "I",
        "F @ F.T",
        "U @ Vh",
        "inv(F)",
        "dev(F)",
        "sym(F)",
        "skew(F)",
        "p0 * I",
        "U @ diag(log(max(s, 0.01))) @ Vh",
        "outer(s, w)",
        "diag(v)",
        "R @ S",
        "F.T @ (p1 * I)",
    ]);
    (
        (scalar.clone(), scalar, vector.clone()),
        (vector, matrix.clone(), matrix),
        (-2.0f64..2.0, 0.1f64..2.0),
    )
        .prop_map(|((s1, s2, v1), (v2, m1, m2), (p0, p1))| {
            format!(
                "param p0 = {p0}\nparam p1 = {p1}\nU, s, Vh = svd(F)\nR, S = polar(F)\n\
                 v = F[0] + p0\nw = vec3(1, p1, F[1, 1])\na = {s1} * {s2}\n\
                 b = where(a > 1, exp(-abs(a)), sigmoid(a))\nx = dot({v1}, {v2})\n\
                 return b * ({m1}) + clamp(({m2}) ** 2, -3, p1 * 4) - clamp({s1}, -1, 1) * I \
                 + x * outer({v1}, {v2}) + where(F > p0, F, {m2})"
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn batch_equals_single_for_generated_programs(src in typed_program()) {
        let law = load(&src, &Signature::elastic()).map_err(|e| TestCaseError::fail(format!("{src}\n{}", e.render())))?;
        let c = law.compiled();
        let fs = test_matrices(140, 3);
        assert_batch_equals_single(&src, c, &fs, c.defaults());
        let params = Compiled::seed_params::<DualSVec64<2>>(c.defaults());
        let fd: Vec<Matrix3<DualSVec64<2>>> = fs.iter().map(|f| f.map(|x| DualSVec64::from_fn(x, |d| 0.1 * (d as f64 + x)))).collect();
        assert_batch_equals_single(&src, c, &fd, &params);
    }
}
