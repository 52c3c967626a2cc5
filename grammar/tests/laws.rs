//! Every law in `tasks/laws/` parses, type-checks against its signature, round-trips
//! through the printer and evaluates finite (value and parameter gradient) at F = I,
//! diagonal F, F with repeated singular values and random F; two laws are compared with
//! hand-written formulas.

use ansatz_grammar::{Compiled, Signature, load, parse};
use ansatz_linalg::{DualSVec64, Real, det3, gradient, mul3, svd_signed};
use nalgebra::{Matrix3, Rotation3, Vector3};
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

fn source(name: &str) -> String {
    let path = format!("{}/../tasks/laws/{name}.law", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Test deformation gradients: identity, diagonal, repeated singular values, random.
pub fn test_matrices(n: usize, seed: u64) -> Vec<Matrix3<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![
        Matrix3::identity(),
        Matrix3::from_diagonal(&Vector3::new(1.2, 0.9, 0.8)),
        Matrix3::identity() * 0.9,
    ];
    let rot = |rng: &mut ChaCha8Rng| {
        Rotation3::new(Vector3::new(
            rng.random_range(-2.0..2.0),
            rng.random_range(-2.0..2.0),
            rng.random_range(-2.0..2.0),
        ))
        .into_inner()
    };
    while out.len() < n {
        let k = out.len() % 4;
        let m = match k {
            0 => Matrix3::from_diagonal(&Vector3::new(
                rng.random_range(0.6..1.4),
                rng.random_range(0.6..1.4),
                rng.random_range(0.6..1.4),
            )),
            1 => {
                let a = rng.random_range(0.6..1.4);
                let b = rng.random_range(0.6..1.4);
                rot(&mut rng) * Matrix3::from_diagonal(&Vector3::new(a, a, b)) * rot(&mut rng)
            }
            _ => Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.3..0.3)),
        };
        out.push(m);
    }
    out
}

fn signature_of(src: &str) -> Signature {
    let first = src.lines().next().unwrap_or("");
    assert!(
        first.starts_with('#') && first.contains("signature:"),
        "first line must say the signature: {first}"
    );
    if first.contains("signature: plastic") {
        Signature::plastic()
    } else {
        Signature::elastic()
    }
}

#[test]
fn every_law_checks_round_trips_and_is_finite() {
    for name in LAWS {
        let src = source(name);
        let sig = signature_of(&src);
        let law = load(&src, &sig).unwrap_or_else(|e| panic!("{name}: {}", e.render()));
        let printed = law.program().to_string();
        assert_eq!(
            &parse(&printed).unwrap(),
            law.program(),
            "{name} round trip"
        );
        let c = law.compiled();
        let defaults = c.defaults().to_vec();
        let p3 = Compiled::seed_params::<DualSVec64<5>>(&defaults);
        let mut s64 = c.scratch::<f64>();
        let mut sd = c.scratch::<DualSVec64<5>>();
        for f in test_matrices(200, 7) {
            let v = c.eval_mat3(&f, &defaults, &mut s64).unwrap();
            assert!(v.iter().all(|x| x.is_finite()), "{name} at {f}: {v}");
            let fd = f.map(DualSVec64::<5>::cst);
            let d = c.eval_mat3(&fd, &p3, &mut sd).unwrap();
            assert!(
                d.iter().all(|x| x.is_all_finite()),
                "{name} dual at {f}: {d:?}"
            );
            for k in 0..9 {
                assert!(
                    (d[k].re - v[k]).abs() <= 1e-12 * (1.0 + v[k].abs()),
                    "{name}: dual value differs"
                );
            }
        }
    }
}

fn lame(e_log: f64, nu_sig: f64) -> (f64, f64) {
    let e = e_log.exp();
    let nu = 0.49 * (1.0 / (1.0 + (-nu_sig).exp()));
    (
        e / (2.0 * (1.0 + nu)),
        e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu)),
    )
}

fn neohookean<T: Real>(f: &Matrix3<T>, th: &[T]) -> Matrix3<T> {
    let e = th[0].exp();
    let nu = T::cst(0.49) / (T::one() + (-th[1]).exp());
    let mu = e / (T::cst(2.0) * (T::one() + nu));
    let la = e * nu / ((T::one() + nu) * (T::one() - T::cst(2.0) * nu));
    let j = det3(f);
    (mul3(f, &f.transpose()) - Matrix3::identity()) * mu + Matrix3::identity() * (la * j.ln())
}

fn plasticine(f: &Matrix3<f64>, th: &[f64]) -> Matrix3<f64> {
    let mu = th[0].exp() / (2.0 * (1.0 + th[1]));
    let s = svd_signed(f);
    let sig = s.sigma.map(|x| x.max(0.01));
    let eps = sig.map(f64::ln);
    let eps_bar = eps - Vector3::from_element(eps.sum() / 3.0);
    let n = eps_bar.norm() + 1e-5;
    let dg = n - th[2] / (2.0 * mu);
    let new = if dg > 0.0 {
        (eps - eps_bar * (dg / n)).map(f64::exp)
    } else {
        sig
    };
    s.u * Matrix3::from_diagonal(&new) * s.v.transpose()
}

fn rel(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    (a - b).norm() / b.norm().max(1e-300)
}

#[test]
fn neohookean_and_plasticine_match_hand_written_formulas() {
    let neo = load(&source("neohookean"), &Signature::elastic())
        .unwrap()
        .into_compiled();
    let pla = load(&source("plasticine"), &Signature::plastic())
        .unwrap()
        .into_compiled();
    let (mu, la) = lame(13.0, 0.0);
    assert!((mu - 177676.06).abs() < 0.01 && (la - 170708.37).abs() < 0.01);
    let mut s = neo.scratch();
    let mut sp = pla.scratch();
    let mut worst: f64 = 0.0;
    for f in test_matrices(1000, 11) {
        let a = neo.eval_mat3(&f, &[13.0, 0.0], &mut s).unwrap();
        let b = neohookean(&f, &[13.0, 0.0]);
        if b.norm() > 1e-6 {
            worst = worst.max(rel(&a, &b));
        }
        let a = pla.eval_mat3(&f, &[13.0, 0.25, 3e4], &mut sp).unwrap();
        let b = plasticine(&f, &[13.0, 0.25, 3e4]);
        worst = worst.max(rel(&a, &b));
    }
    assert!(worst < 1e-12, "worst relative error {worst}");
}

#[test]
fn dual_gradients_match_central_differences() {
    for name in LAWS {
        let src = source(name);
        let c = load(&src, &signature_of(&src)).unwrap().into_compiled();
        let th = c.defaults().to_vec();
        let n = th.len();
        if n == 0 {
            continue;
        }
        let mut s = c.scratch::<f64>();
        let mut sd = c.scratch::<DualSVec64<5>>();
        for f in test_matrices(40, 3).into_iter().skip(3) {
            let f = f * 1.3; // leave the elastic region so plastic laws flow
            let d = c
                .eval_mat3(
                    &f.map(DualSVec64::<5>::cst),
                    &Compiled::seed_params::<DualSVec64<5>>(&th),
                    &mut sd,
                )
                .unwrap();
            for i in 0..n {
                let h = 1e-6 * th[i].abs().max(1.0);
                let mut tp = th.clone();
                tp[i] += h;
                let mut tm = th.clone();
                tm[i] -= h;
                let fp = c.eval_mat3(&f, &tp, &mut s).unwrap();
                let fm = c.eval_mat3(&f, &tm, &mut s).unwrap();
                let fd = (fp - fm) / (2.0 * h);
                let g = d.map(|x| gradient(&x)[i]);
                let scale = fd.norm().max(g.norm()).max(1e-8 * d.map(|x| x.re).norm());
                assert!(
                    (fd - g).norm() <= 1e-6 * scale + 1e-9,
                    "{name} param {i} at {f}: fd {fd} dual {g}"
                );
            }
        }
    }
}

#[test]
fn derivatives_with_respect_to_f_are_finite_at_identity_and_repeated_singular_values() {
    type D = DualSVec64<9>;
    let special = [
        Matrix3::identity(),
        Matrix3::identity() * 0.8,
        Matrix3::from_diagonal(&Vector3::new(1.1, 1.1, 0.9)),
        Matrix3::from_diagonal(&Vector3::new(1.2, 0.9, 0.9)),
        Rotation3::new(Vector3::new(0.3, -0.2, 0.5)).into_inner() * 1.05,
    ];
    for name in LAWS {
        let src = source(name);
        let c = load(&src, &signature_of(&src)).unwrap().into_compiled();
        let params: Vec<D> = c.defaults().iter().map(|&v| D::cst(v)).collect();
        let mut scratch = c.scratch::<D>();
        for f in &special {
            let fd = Matrix3::from_fn(|i, j| D::var(f[(i, j)], i + 3 * j));
            let out = c.eval_mat3(&fd, &params, &mut scratch).unwrap();
            assert!(
                out.iter().all(|x| x.is_all_finite()),
                "{name} at {f}: {out:?}"
            );
        }
    }
}
