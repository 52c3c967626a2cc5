//! The reference SVD (warp's approximate f32 `svd3` plus the SGA sign fix) against the
//! numbers the SGA reference gives for it, and the explicit method choice.

use ansatz_linalg::{
    DualSVec64, Real, SvdMethod, polar, svd_exact_f64, svd_reference_f32, svd_signed,
    svd_signed_f64,
};
use nalgebra::Matrix3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[test]
fn identity_gives_the_reference_values_bit_for_bit() {
    // the SGA reference: "SVD(I) on CPU gives σ = (0.99999994, 0.99999976, 0.9999997), U and
    // V non-trivial rotations with U Vᵀ ≈ I".
    let s = svd_reference_f32(&Matrix3::identity());
    let expect = [0.999_999_94f32, 0.999_999_76, 0.999_999_7];
    for (i, want) in expect.into_iter().enumerate() {
        assert_eq!(s.sigma[i] as f32, want, "sigma[{i}] = {}", s.sigma[i]);
    }
    assert!(
        (s.u - Matrix3::identity()).amax() > 0.1,
        "U is not the identity"
    );
    assert!((s.u * s.v.transpose() - Matrix3::identity()).amax() < 2e-6);
}

/// `I + 0.3 N(0, 1)` entries, the family the spec measured.
fn perturbed_identities(n: usize) -> Vec<Matrix3<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n)
        .map(|_| {
            Matrix3::identity()
                + Matrix3::from_fn(|_, _| {
                    // Box–Muller from two uniforms.
                    let (a, b): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random());
                    0.3 * (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
                })
        })
        .collect()
}

#[test]
fn conventions_and_accuracy_match_the_spec_measurements() {
    let mats = perturbed_identities(20_000);
    let mut errors = Vec::with_capacity(mats.len());
    let mut worst_sigma = 0.0f64;
    for f in &mats {
        let s = svd_reference_f32(f);
        let det = f.determinant();
        // Rotations (to f32 accuracy), sorted magnitudes, sign of det F on σ₃.
        assert!((s.u.determinant() - 1.0).abs() < 1e-4, "det U for {f}");
        assert!((s.v.determinant() - 1.0).abs() < 1e-4, "det V for {f}");
        assert!(s.sigma[0] >= s.sigma[1] && s.sigma[1] >= s.sigma[2].abs());
        if det.abs() > 1e-3 {
            assert_eq!(s.sigma[2] < 0.0, det < 0.0, "sign of sigma_3 for {f}");
        }
        let rebuilt = s.u * Matrix3::from_diagonal(&s.sigma) * s.v.transpose();
        errors.push((rebuilt - f).amax());
        let exact = svd_exact_f64(f);
        worst_sigma = worst_sigma.max((exact.sigma - s.sigma).amax());
    }
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    let max = errors[errors.len() - 1];
    println!(
        "reconstruction error: median {median:.2e}, max {max:.2e}; sigma vs exact {worst_sigma:.2e}"
    );
    // The spec: median ~5e-7, max 4.8e-3 for this family; singular values within 4e-4
    // of LAPACK's (over all families).
    assert!(median < 2e-6 && median > 1e-8, "median {median}");
    assert!(max < 2e-2, "max {max}");
    assert!(worst_sigma < 4e-3, "sigma {worst_sigma}");
}

#[test]
fn non_finite_input_gives_nan_not_a_panic() {
    let mut f = Matrix3::identity();
    f[(1, 2)] = f64::NAN;
    assert!(svd_reference_f32(&f).sigma.iter().all(|x| x.is_nan()));
    f[(1, 2)] = f64::INFINITY;
    assert!(svd_reference_f32(&f).u.iter().all(|x| x.is_nan()));
    // Beyond the f32 range: no panic; the result is not finite.
    f[(1, 2)] = 1e300;
    let s = svd_reference_f32(&f);
    assert!(!s.sigma.iter().all(|x| x.is_finite()));
}

#[test]
fn the_method_is_chosen_per_call_and_the_free_functions_are_exact() {
    let f = Matrix3::new(1.1, 0.2, 0.0, -0.1, 0.9, 0.05, 0.0, 0.3, 1.2);
    let exact = svd_signed_f64(&f);
    assert_eq!(exact, svd_exact_f64(&f));
    assert_eq!(SvdMethod::Exact.signed_f64(&f), exact);
    assert_eq!(SvdMethod::default(), SvdMethod::Exact);
    let reference = SvdMethod::Reference.signed_f64(&f);
    assert_eq!(reference, svd_reference_f32(&f));
    assert_ne!(reference, exact);
    assert!((reference.sigma - exact.sigma).amax() < 1e-5);
    // A reference decomposition on one thread does not change what another computes.
    let other = std::thread::spawn(move || svd_signed_f64(&f))
        .join()
        .unwrap();
    assert_eq!(other, exact);
    // Polar follows the method too.
    let (r_exact, _) = polar(&f);
    let (r_reference, s_reference) = SvdMethod::Reference.polar(&f);
    assert_ne!(r_exact, r_reference);
    assert!((r_exact - r_reference).amax() < 1e-5);
    assert!((r_reference * s_reference - f).amax() < 1e-5);
    for m in [SvdMethod::Exact, SvdMethod::Reference] {
        assert_eq!(SvdMethod::from_name(m.name()), Some(m));
    }
    assert_eq!(SvdMethod::from_name("lapack"), None);
}

#[test]
fn dual_numbers_get_the_same_derivative_formula_on_the_reference_values() {
    // The derivative part follows the analytic formula on whatever decomposition the
    // method gives, so the two methods' derivatives agree to the decomposition's accuracy.
    let f = Matrix3::new(1.1, 0.2, 0.0, -0.1, 0.9, 0.05, 0.0, 0.3, 1.2);
    let e = Matrix3::new(0.3, -0.2, 0.1, 0.0, 0.4, 0.2, -0.1, 0.0, 0.5);
    let fd: Matrix3<DualSVec64<1>> = Matrix3::from_fn(|i, j| {
        DualSVec64::<1>::cst(f[(i, j)]) + DualSVec64::<1>::var(0.0, 0) * e[(i, j)]
    });
    let exact = svd_signed(&fd);
    let reference = SvdMethod::Reference.signed(&fd);
    for i in 0..3 {
        let (a, b) = (exact.sigma[i].eps(0), reference.sigma[i].eps(0));
        assert!((a - b).abs() < 1e-5, "d sigma[{i}]: {a} vs {b}");
    }
}
