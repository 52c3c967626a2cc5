//! Every shipped law in `tasks/laws/`, evaluated by the law language, against the
//! independent hand-written Rust materials of the simulator crate (the ones that
//! reproduce the reference trajectories), at 1,000 deformation gradients: F = I, diagonal
//! F, F with repeated singular values, rotations and general F with det F > 0.
//!
//! * f64 values agree to 1e-12 relative;
//! * dual-number gradients with respect to every parameter agree with central finite
//!   differences of the language's own f64 evaluation to 1e-6 relative, and with the
//!   hand-written material's dual gradient;
//! * nothing is NaN or infinite, in values or derivatives.

use crate::dsl::LoadedLaw;
use ansatz_linalg::{DualSVec64, Real};
use ansatz_simulator::materials::{
    Corotated, DruckerPrager, Hencky, Identity, Linear, Mixture, NeoHookean, VonMises, Water,
};
use ansatz_simulator::{Material, StepContext};
use nalgebra::{Matrix3, Rotation3, Vector3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Number of deformation gradients per law.
const SAMPLES: usize = 1000;

/// A hand-written material built from parameters given in the material's own order.
type Builder<T> = fn(&[T]) -> Box<dyn Material<T>>;

/// One shipped law and its hand-written counterpart.
struct Case {
    file: &'static str,
    plastic: bool,
    /// Parameter names of the hand-written material, in its constructor's order.
    names: &'static [&'static str],
    f64_builder: Builder<f64>,
    dual_builder: Builder<DualSVec64<5>>,
}

fn boxed<T: Real, M: Material<T> + 'static>(m: M) -> Box<dyn Material<T>> {
    Box::new(m)
}

/// Adapter: the fixed Hencky law has no parameters and a method rather than the trait.
struct HenckyMaterial(Hencky);
impl<T: Real> Material<T> for HenckyMaterial {
    fn kind(&self) -> ansatz_simulator::MaterialKind {
        ansatz_simulator::MaterialKind::Elastic
    }
    fn apply(
        &self,
        def_grad: &[Matrix3<T>],
        out: &mut [Matrix3<T>],
        ctx: StepContext,
    ) -> Result<(), ansatz_simulator::MaterialError> {
        self.0.apply(def_grad, out, ctx.svd)
    }
}

macro_rules! case {
    ($file:literal, $plastic:expr, $names:expr, |$p:ident| $build:expr) => {
        Case {
            file: $file,
            plastic: $plastic,
            names: $names,
            f64_builder: |$p: &[f64]| boxed($build),
            dual_builder: |$p: &[DualSVec64<5>]| boxed($build),
        }
    };
}

fn cases() -> Vec<Case> {
    const ELASTIC: &[&str] = &["youngs_modulus_log", "poissons_ratio_sigmoid"];
    vec![
        case!("linear", false, ELASTIC, |p| Linear::from_params(p)
            .expect("2 params")),
        case!("corotated", false, ELASTIC, |p| Corotated::from_params(p)
            .expect("2 params")),
        case!("neohookean", false, ELASTIC, |p| NeoHookean::from_params(p)
            .expect("2 params")),
        case!("hencky", false, &[], |_p| HenckyMaterial(Hencky::default())),
        case!("identity", true, &[], |_p| Identity),
        case!("plasticine", true, &VonMises::<f64>::PARAM_NAMES, |p| {
            VonMises::from_params(p).expect("3 params")
        }),
        case!("sand", true, &DruckerPrager::<f64>::PARAM_NAMES, |p| {
            DruckerPrager::from_params(p).expect("4 params")
        }),
        case!("water", true, &[], |_p| Water),
        case!("imaginary", true, &Mixture::<f64>::PARAM_NAMES, |p| {
            Mixture::from_params(p).expect("5 params")
        }),
    ]
}

fn random_rotation(rng: &mut ChaCha8Rng) -> Matrix3<f64> {
    let axis = Vector3::from_fn(|_, _| rng.random_range(-1.0..1.0));
    *Rotation3::new(axis * 2.0).matrix()
}

/// Deformation gradients with det F > 0 of the kinds a simulation meets.
fn deformation_gradients(seed: u64) -> Vec<Matrix3<f64>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![Matrix3::identity()];
    while out.len() < SAMPLES {
        let f = match out.len() % 6 {
            // Diagonal stretch.
            0 => Matrix3::from_diagonal(&Vector3::from_fn(|_, _| rng.random_range(0.6..1.4))),
            // Near identity, as in an MPM step.
            1 => Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.05..0.05)),
            // Repeated singular values: R diag(s, s, t) Q.
            2 => {
                let (s, t) = (rng.random_range(0.6..1.4), rng.random_range(0.6..1.4));
                random_rotation(&mut rng)
                    * Matrix3::from_diagonal(&Vector3::new(s, s, t))
                    * random_rotation(&mut rng)
            }
            // Scaled rotation: all three singular values equal.
            3 => random_rotation(&mut rng) * rng.random_range(0.7..1.3),
            // Large general deformation.
            _ => {
                random_rotation(&mut rng)
                    * Matrix3::from_diagonal(&Vector3::from_fn(|_, _| rng.random_range(0.3..2.0)))
                    * random_rotation(&mut rng)
            }
        };
        if f.determinant() > 0.05 {
            out.push(f);
        }
    }
    out
}

fn rel_err(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    (a - b).norm() / b.norm().max(1e-300)
}

/// Values: the language against the hand-written material, in f64.
fn check_values(case: &Case, law: &LoadedLaw, fs: &[Matrix3<f64>]) {
    let params = law.params_in_order(case.names);
    let material = (case.f64_builder)(&params);
    let mut expected = vec![Matrix3::zeros(); fs.len()];
    material
        .apply(fs, &mut expected, StepContext::default())
        .expect("hand-written material evaluates");
    let mut worst = 0.0f64;
    for (f, want) in fs.iter().zip(&expected) {
        let got = law.eval::<f64>(f, &law.defaults());
        assert!(
            got.iter().all(|x| x.is_finite()),
            "{}: non-finite value at F = {f}",
            case.file
        );
        let err = if want.norm() == 0.0 {
            got.norm()
        } else {
            rel_err(&got, want)
        };
        assert!(
            err < 1e-12,
            "{}: relative error {err:e} at F = {f}: {got} vs {want}",
            case.file
        );
        worst = worst.max(err);
    }
    eprintln!(
        "{}: worst relative value error {worst:.2e} over {} F",
        case.file,
        fs.len()
    );
}

/// Gradients with respect to every parameter: dual numbers against central finite
/// differences of the language's f64 evaluation, and against the hand-written material.
fn check_gradients(case: &Case, law: &LoadedLaw, fs: &[Matrix3<f64>]) {
    type D = DualSVec64<5>;
    let defaults = law.defaults();
    let k = defaults.len();
    assert!(k <= 5, "{}: more than 5 parameters", case.file);
    let seeded: Vec<D> = defaults
        .iter()
        .enumerate()
        .map(|(i, &v)| D::var(v, i))
        .collect();
    let material = (case.dual_builder)(&law.params_in_order_t(case.names, &seeded));
    let fd_params = |i: usize, h: f64| {
        let mut p = defaults.clone();
        p[i] += h;
        p
    };
    let mut worst = 0.0f64;
    let mut kinks = 0usize;
    for f in fs {
        let fd_dual: Matrix3<D> = f.map(D::cst);
        let out = law.eval::<D>(&fd_dual, &seeded);
        let mut hand = [Matrix3::zeros()];
        material
            .apply(&[fd_dual], &mut hand, StepContext::default())
            .expect("hand-written material evaluates");
        for i in 0..k {
            let dual = out.map(|x| x.eps(i));
            assert!(
                dual.iter().all(|x| x.is_finite()),
                "{}: non-finite derivative at F = {f}",
                case.file
            );
            let h = 1e-6 * defaults[i].abs().max(1.0);
            let fd = (law.eval::<f64>(f, &fd_params(i, h)) - law.eval::<f64>(f, &fd_params(i, -h)))
                / (2.0 * h);
            // Relative to the size of this parameter's derivative matrix, with a floor
            // from the output's size for derivatives that are zero.
            let floor = 1e-9 * out.map(|x| x.re()).norm() / h.max(1.0);
            let rel = |approx: &Matrix3<f64>| {
                (dual - approx).norm() / approx.norm().max(dual.norm()).max(floor).max(1e-300)
            };
            let mut err = rel(&fd);
            if err >= 1e-6 {
                // A kink (a `where`/`max` switching exactly here, as sand's s = 0 at F = I):
                // the derivative of the branch taken is a one-sided derivative.
                let h1 = 1e-8 * defaults[i].abs().max(1.0);
                let at = law.eval::<f64>(f, &defaults);
                let forward = (law.eval::<f64>(f, &fd_params(i, h1)) - at) / h1;
                let backward = (at - law.eval::<f64>(f, &fd_params(i, -h1))) / h1;
                err = rel(&forward).min(rel(&backward));
                kinks += 1;
            }
            assert!(
                err < 1e-6,
                "{}: d/d{} at F = {f}: dual {dual} vs finite difference {fd} (rel {err:e})",
                case.file,
                law.param_name(i)
            );
            worst = worst.max(err);
            // The hand-written material may fix a parameter the law declares (Hencky).
            if !case.names.contains(&law.param_name(i)) {
                continue;
            }
            let hand_d = hand[0].map(|x| x.eps(i));
            assert!(
                (hand_d - dual).norm() <= 1e-10 * dual.norm().max(floor),
                "{}: d/d{} differs from the hand-written material at F = {f}",
                case.file,
                law.param_name(i)
            );
        }
    }
    eprintln!(
        "{}: worst relative gradient error vs FD {worst:.2e} ({k} parameters; {kinks} \
         derivatives at a kink, checked one-sided)",
        case.file
    );
    assert!(
        kinks <= fs.len() / 100,
        "{}: {kinks} kinks is too many to be chance",
        case.file
    );
}

#[test]
fn every_shipped_law_matches_its_hand_written_material() {
    let fs = deformation_gradients(2026);
    let shipped: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tasks/laws"))
            .expect("tasks/laws exists")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".law"))
            .collect();
    let cases = cases();
    for name in &shipped {
        assert!(
            cases.iter().any(|c| format!("{}.law", c.file) == *name),
            "tasks/laws/{name} has no hand-written counterpart in this test"
        );
    }
    for case in &cases {
        let law = LoadedLaw::load(case.file, case.plastic);
        check_values(case, &law, &fs);
        check_gradients(case, &law, &fs);
    }
}
