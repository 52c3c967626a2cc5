//! Properties of the signed SVD, the polar decomposition and the 3x3 helpers, for f64
//! values and for dual-number derivatives (against central finite differences).

use ansatz_linalg::{
    DualSVec64, Real, det3, inv3, mul3, mul3_tn, polar, svd_signed, svd_signed_f64, trace3,
};
use nalgebra::{Matrix3, Rotation3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

type D1 = DualSVec64<1>;

fn random_rotation(rng: &mut ChaCha8Rng) -> Matrix3<f64> {
    let axis = Vector3::new(
        rng.random_range(-1.0..1.0),
        rng.random_range(-1.0..1.0),
        rng.random_range(-1.0..1.0),
    );
    *Rotation3::new(axis * 3.0).matrix()
}

/// Deformation gradients of every kind the simulator meets: identity, diagonal, general,
/// rotations times repeated stretches, near-singular and inverted.
fn sample_matrices(n: usize, seed: u64) -> Vec<Matrix3<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![
        Matrix3::identity(),
        Matrix3::from_diagonal(&Vector3::new(1.2, 0.9, 0.7)),
    ];
    out.push(Matrix3::from_diagonal(&Vector3::new(1.1, 1.1, 0.8)));
    out.push(Matrix3::from_diagonal(&Vector3::new(2.0, -1.0, 0.5)));
    out.push(Matrix3::zeros());
    while out.len() < n {
        let kind = out.len() % 5;
        let m = match kind {
            0 => Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.3..0.3)),
            1 => Matrix3::from_fn(|_, _| rng.random_range(-2.0..2.0)),
            2 => {
                let s: f64 = rng.random_range(0.5..1.5);
                let t: f64 = rng.random_range(0.5..1.5);
                random_rotation(&mut rng)
                    * Matrix3::from_diagonal(&Vector3::new(s, s, t))
                    * random_rotation(&mut rng).transpose()
            }
            3 => {
                let s: f64 = rng.random_range(0.5..1.5);
                random_rotation(&mut rng) * s
            }
            _ => {
                let d = Vector3::new(
                    rng.random_range(0.5..2.0),
                    rng.random_range(0.1..1.0),
                    rng.random_range(-1e-3..1e-3),
                );
                random_rotation(&mut rng) * Matrix3::from_diagonal(&d) * random_rotation(&mut rng)
            }
        };
        out.push(m);
    }
    out
}

#[test]
fn svd_reconstructs_with_rotations_and_sorted_signed_values() {
    for f in sample_matrices(2000, 1) {
        let s = svd_signed_f64(&f);
        let scale = f.norm().max(1e-300);
        let rec = s.u * Matrix3::from_diagonal(&s.sigma) * s.v.transpose();
        assert!(
            (rec - f).norm() <= 1e-14 * scale + 1e-300,
            "reconstruction of {f}: {}",
            (rec - f).norm()
        );
        for r in [s.u, s.v] {
            assert!(
                (r.transpose() * r - Matrix3::identity()).norm() < 1e-14,
                "orthogonality at {f}"
            );
            assert!((r.determinant() - 1.0).abs() < 1e-14, "rotation at {f}");
        }
        assert!(
            s.sigma[0] >= s.sigma[1] && s.sigma[1] >= s.sigma[2].abs(),
            "order {:?}",
            s.sigma
        );
        let det = f.determinant();
        if det.abs() > 1e-12 {
            assert_eq!(s.sigma[2] < 0.0, det < 0.0, "sign of det at {f}");
        }
        // Singular values agree with nalgebra's independent SVD.
        let mut reference: Vec<f64> = f
            .svd(false, false)
            .singular_values
            .iter()
            .copied()
            .collect();
        reference.sort_by(|a, b| b.total_cmp(a));
        for (k, r) in reference.iter().enumerate() {
            assert!(
                (s.sigma[k].abs() - r).abs() <= 1e-13 * scale,
                "sigma {k} at {f}"
            );
        }
    }
}

#[test]
fn svd_of_identity_is_exact() {
    let s = svd_signed_f64(&Matrix3::identity());
    assert_eq!(s.u, Matrix3::identity());
    assert_eq!(s.v, Matrix3::identity());
    assert_eq!(s.sigma, Vector3::new(1.0, 1.0, 1.0));
}

#[test]
fn svd_of_non_finite_input_is_nan_not_a_panic() {
    let mut f = Matrix3::<f64>::identity();
    f[(1, 2)] = f64::NAN;
    assert!(svd_signed_f64(&f).sigma.iter().all(|x| x.is_nan()));
    f[(1, 2)] = f64::INFINITY;
    assert!(svd_signed_f64(&f).sigma.iter().all(|x| x.is_nan()));
}

/// F(t) = F0 + t dF as a one-direction dual matrix.
fn dual_line(f0: &Matrix3<f64>, df: &Matrix3<f64>) -> Matrix3<D1> {
    let t = D1::var(0.0, 0);
    Matrix3::from_fn(|i, j| D1::cst(f0[(i, j)]) + t * D1::cst(df[(i, j)]))
}

/// An isotropic function of F (a return-mapping-like map): U diag(g(σ)) Vᵀ.
fn isotropic<T: Real>(f: &Matrix3<T>) -> Matrix3<T> {
    let s = svd_signed(f);
    let g = s.sigma.map(|x| x * x * x + x.max(T::cst(0.01)).ln());
    mul3(
        &Matrix3::from_fn(|i, j| s.u[(i, j)] * g[j]),
        &s.v.transpose(),
    )
}

#[test]
fn isotropic_function_derivative_matches_finite_differences_everywhere() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for f0 in sample_matrices(600, 2) {
        let sg = svd_signed_f64(&f0).sigma;
        let gap2 = (sg[0] * sg[0] - sg[1] * sg[1]).min(sg[1] * sg[1] - sg[2] * sg[2]);
        if f0.determinant() <= 1e-2 || gap2 < 1e-2 {
            continue; // the log clamp (a kink) or the SVD's gap clamp (exact by design) is near
        }
        let df = Matrix3::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let out = isotropic(&dual_line(&f0, &df));
        let h = 1e-6;
        let fd = (isotropic(&(f0 + df * h)) - isotropic(&(f0 - df * h))) / (2.0 * h);
        let d = out.map(|x| x.eps(0));
        assert!(
            out.iter().all(|x| x.is_all_finite()),
            "non-finite derivative at {f0}"
        );
        assert!(
            (d - fd).norm() <= 1e-6 * fd.norm().max(1.0),
            "at {f0}: dual {d} fd {fd}"
        );
    }
}

#[test]
fn singular_values_and_vectors_match_finite_differences_at_distinct_values() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut checked = 0;
    for f0 in sample_matrices(400, 3) {
        let s0 = svd_signed_f64(&f0);
        let gap = (s0.sigma[0] - s0.sigma[1]).min(s0.sigma[1] - s0.sigma[2].abs());
        if gap < 0.05 || s0.sigma[2].abs() < 0.05 {
            continue;
        }
        checked += 1;
        let df = Matrix3::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let s = svd_signed(&dual_line(&f0, &df));
        let h = 1e-6;
        let (sp, sm) = (
            svd_signed_f64(&(f0 + df * h)),
            svd_signed_f64(&(f0 - df * h)),
        );
        let fd_sigma = (sp.sigma - sm.sigma) / (2.0 * h);
        let fd_u = (sp.u - sm.u) / (2.0 * h);
        let fd_v = (sp.v - sm.v) / (2.0 * h);
        assert!(
            (s.sigma.map(|x| x.eps(0)) - fd_sigma).norm() < 1e-6,
            "sigma at {f0}"
        );
        assert!(
            (s.u.map(|x| x.eps(0)) - fd_u).norm() < 1e-5 * fd_u.norm().max(1.0),
            "U at {f0}"
        );
        assert!(
            (s.v.map(|x| x.eps(0)) - fd_v).norm() < 1e-5 * fd_v.norm().max(1.0),
            "V at {f0}"
        );
    }
    assert!(
        checked > 100,
        "only {checked} matrices had distinct singular values"
    );
}

#[test]
fn derivatives_at_identity_are_finite_and_clamped() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for _ in 0..100 {
        let df = Matrix3::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let s = svd_signed(&dual_line(&Matrix3::identity(), &df));
        let all = s.u.iter().chain(s.v.iter()).chain(s.sigma.iter());
        assert!(all.clone().all(|x| x.is_all_finite()));
        // dσ = diag(dF) at the identity (U = V = I).
        for k in 0..3 {
            assert!((s.sigma[k].eps(0) - df[(k, k)]).abs() < 1e-12);
        }
        // The reference's clamp: at repeated singular values the off-diagonal part of dF
        // does not reach U diag(σ) Vᵀ (or R S); only diag(dF) does.
        let (r, sym) = polar(&dual_line(&Matrix3::identity(), &df));
        let rs = mul3(&r, &sym).map(|x| x.eps(0));
        let diag = Matrix3::from_diagonal(&df.diagonal());
        assert!(
            (rs - diag).norm() < 1e-9,
            "d(RS) = diag(dF) at identity: {rs} vs {df}"
        );
    }
}

#[test]
fn polar_reconstructs_and_gradients_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for f0 in sample_matrices(300, 4) {
        let (r, s) = polar(&f0);
        assert!((r * s - f0).norm() <= 1e-13 * f0.norm().max(1.0));
        assert!((s - s.transpose()).norm() <= 1e-13 * f0.norm().max(1.0));
        let s0 = svd_signed_f64(&f0);
        let gap = (s0.sigma[0] - s0.sigma[1]).min(s0.sigma[1] - s0.sigma[2]);
        if gap < 0.05 || s0.sigma[2] < 0.05 {
            continue;
        }
        let df = Matrix3::from_fn(|_, _| rng.random_range(-1.0..1.0));
        let (rd, _) = polar(&dual_line(&f0, &df));
        let h = 1e-6;
        let fd = (polar(&(f0 + df * h)).0 - polar(&(f0 - df * h)).0) / (2.0 * h);
        assert!(
            (rd.map(|x| x.eps(0)) - fd).norm() < 1e-6 * fd.norm().max(1.0),
            "dR at {f0}"
        );
    }
}

#[test]
fn small_helpers_agree_with_nalgebra() {
    for a in sample_matrices(200, 6) {
        let b = a.transpose() * 0.5 + Matrix3::identity();
        assert!((mul3(&a, &b) - a * b).norm() <= 1e-14 * (a.norm() * b.norm()).max(1.0));
        assert!(
            (mul3_tn(&a, &b) - a.transpose() * b).norm() <= 1e-14 * (a.norm() * b.norm()).max(1.0)
        );
        assert!((det3(&a) - a.determinant()).abs() <= 1e-13 * a.norm().powi(3).max(1.0));
        assert!((trace3(&a) - a.trace()).abs() <= 1e-15 * a.norm().max(1.0));
        if a.determinant().abs() > 1e-3 {
            let inv = inv3(&a);
            assert!((mul3(&a, &inv) - Matrix3::identity()).norm() < 1e-9 * a.norm() * inv.norm());
        }
    }
}

fn bits(s: &ansatz_linalg::Svd<f64>) -> Vec<u64> {
    s.u.iter()
        .chain(s.sigma.iter())
        .chain(s.v.iter())
        .map(|x| x.to_bits())
        .collect()
}

/// Batched decompositions (several matrices in lock step) equal one-at-a-time ones bit
/// for bit, for both methods, whatever the position in the batch, NaN inputs included.
#[test]
fn batched_svds_equal_single_ones_bit_for_bit() {
    use ansatz_linalg::SvdMethod;
    let mut mats = sample_matrices(403, 11);
    mats.insert(6, Matrix3::from_element(f64::NAN));
    mats.insert(9, Matrix3::identity() * f64::INFINITY);
    for method in [SvdMethod::Exact, SvdMethod::Reference] {
        for skip in [0, 1, 3] {
            let batch = &mats[skip..];
            let mut seen = 0;
            method.signed_f64_each(
                batch.len(),
                |i| batch[i],
                |i, s| {
                    assert_eq!(i, seen, "results come in order");
                    seen += 1;
                    assert_eq!(
                        bits(&s),
                        bits(&method.signed_f64(&batch[i])),
                        "{method:?} {i}"
                    );
                },
            );
            assert_eq!(seen, batch.len());
        }
        let duals: Vec<Matrix3<D1>> = mats
            .iter()
            .take(50)
            .map(|f| f.map(|x| D1::var(x, 0) * 0.5 + D1::cst(x * 0.5)))
            .collect();
        let dual_bits = |s: &ansatz_linalg::Svd<D1>| -> Vec<u64> {
            s.u.iter()
                .chain(s.sigma.iter())
                .chain(s.v.iter())
                .flat_map(|x| [x.re().to_bits(), x.eps(0).to_bits()])
                .collect()
        };
        method.signed_each(
            duals.len(),
            |i| duals[i],
            |i, s| {
                let one = method.signed(&duals[i]);
                assert_eq!(dual_bits(&s), dual_bits(&one), "{method:?} {i}");
            },
        );
    }
}
