//! The e-graph layer as the search uses it: equivalent spellings of real laws share a
//! canonical hash and different laws do not; simplification keeps the value of every law
//! (at random F) and never increases its complexity; hashes are the same on every run
//! and thread.

use ansatz_grammar::egraph::{self, Canonical};
use ansatz_grammar::{CheckedProgram, Signature, load};
use nalgebra::Matrix3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NEO_HOOKEAN: &str = "param youngs_modulus_log = 13.0
param poissons_ratio_sigmoid = 0.0
E = exp(youngs_modulus_log)
nu = 0.49 * sigmoid(poissons_ratio_sigmoid)
mu = E / (2 * (1 + nu))
la = E * nu / ((1 + nu) * (1 - 2 * nu))
J = det(F)
return mu * (F @ F.T - I) + la * log(J) * I";

fn law(src: &str) -> CheckedProgram {
    load(src, &Signature::elastic()).unwrap_or_else(|e| panic!("{src}\n{}", e.render()))
}

fn canon(src: &str) -> Canonical {
    egraph::canonical(&law(src))
}

/// Pairs of spellings of one law.
const EQUIVALENT: &[(&str, &str)] = &[
    ("return F @ F.T - I", "return -(I - F @ F.T)"),
    ("return det(F.T @ F) * I", "return det(F) ** 2 * I"),
    // The neo-Hookean law written three ways (two pairs).
    (
        NEO_HOOKEAN,
        "param youngs_modulus_log = 13.0
param poissons_ratio_sigmoid = 0.0
E = exp(youngs_modulus_log)
nu = 0.49 * sigmoid(poissons_ratio_sigmoid)
mu = E / (2 * (1 + nu))
la = E * nu / ((1 + nu) * (1 - 2 * nu))
return mu * F @ F.T - mu * I + la * log(det(F)) * I",
    ),
    (
        NEO_HOOKEAN,
        "param youngs_modulus_log = 13.0
param poissons_ratio_sigmoid = 0.0
E = exp(youngs_modulus_log)
nu = 0.49 * sigmoid(poissons_ratio_sigmoid)
mu = E / (2 * (1 + nu))
la = E * nu / ((1 + nu) * (1 - 2 * nu))
return (F @ F.T - I) * mu + I * (log(det(F.T)) * la)",
    ),
    // Parameter values (and names) do not matter.
    (
        "param mu = 1.0\nreturn mu * (F @ F.T - I)",
        "param shear = 250.0\nreturn shear * (F @ F.T - I)",
    ),
    ("return F.T.T", "return F"),
    ("return inv(F.T)", "return inv(F).T"),
    ("return det(inv(F)) * I", "return 1 / det(F) * I"),
    ("return I @ F @ I", "return F"),
    ("return sym(F)", "return 0.5 * (F.T + F)"),
    ("return dev(F)", "return F - trace(F) / 3 * I"),
    ("return F @ (F.T @ F)", "return (F @ F.T) @ F"),
    ("return trace(F @ F.T) * I", "return trace(F.T @ F) * I"),
    (
        "J = det(F)\nreturn (J - 1) * J * I",
        "return (det(F) ** 2 - det(F)) * I",
    ),
    ("return det(2 * F) * I", "return 8 * det(F) * I"),
    (
        "param a = 1.0\nparam b = 2.0\nreturn exp(a) * exp(b) * F",
        "param a = 1.0\nparam b = 2.0\nreturn exp(a + b) * F",
    ),
    // Corotated: the distributed product and R from the polar decomposition.
    (
        "param mu = 1.0\nU, sigma, Vh = svd(F)\nR = U @ Vh\nreturn 2 * mu * (F - R) @ F.T",
        "param mu = 1.0\nR, S = polar(F)\nreturn 2 * mu * (F @ F.T - R @ F.T)",
    ),
    // Hencky: the diagonal written in another order.
    (
        "param mu = 1.0\nparam la = 1.0\nU, sigma, Vh = svd(F)\neps = log(max(sigma, 1e-5))\nreturn U @ diag(2 * mu * eps + la * sum(eps)) @ U.T",
        "param mu = 1.0\nparam la = 1.0\nU, sigma, Vh = svd(F)\neps = log(max(sigma, 1e-5))\nreturn U @ diag(la * sum(eps) + eps * mu * 2) @ U.T",
    ),
    (
        "return det(F) ** (1 / 3) * I",
        "return I * det(F) ** (1 / 3)",
    ),
    ("return log(det(F)) * I", "return log(det(F.T)) * I"),
    ("return (F + F.T) / 2", "return sym(F)"),
    (
        "param k = 1.0\nreturn k * trace(F) * I - k * I",
        "param k = 1.0\nreturn k * (trace(F) - 1) * I",
    ),
    // Linear elasticity: P @ F.T expanded.
    (
        "param mu = 1.0\nparam la = 1.0\nP = mu * (F + F.T - 2 * I) + la * (trace(F) - 3) * I\nreturn P @ F.T",
        "param mu = 1.0\nparam la = 1.0\nreturn (mu * (F + F.T) + (la * (trace(F) - 3) - 2 * mu) * I) @ F.T",
    ),
];

/// Pairs of different laws.
const DIFFERENT: &[(&str, &str)] = &[
    ("return F", "return F.T"),
    ("return F @ F.T", "return F.T @ F"),
    ("return det(F) * I", "return trace(F) * I"),
    ("return log(det(F)) * I", "return (det(F) - 1) * I"),
    ("return F @ F", "return F * F"),
    ("return sym(F)", "return skew(F)"),
    ("return det(F) ** (1 / 3) * I", "return cbrt(det(F)) * I"),
    ("return F @ F.T - I", "return F @ F.T + I"),
    (
        "param mu = 1.0\nreturn mu * F",
        "param mu = 1.0\nreturn mu * F + I",
    ),
    (
        "param mu = 1.0\nreturn mu * F",
        "param mu = 1.0\nreturn exp(mu) * F",
    ),
    (
        "param a = 1.0\nparam b = 1.0\nreturn a * F + b * F.T",
        "param a = 1.0\nreturn a * F + a * F.T",
    ),
    ("return inv(F)", "return F.T"),
    ("return exp(F)", "return expm1(F)"),
    ("return max(F, 0)", "return min(F, 0)"),
    (
        "return where(det(F) > 1, F, I)",
        "return where(det(F) < 1, F, I)",
    ),
    (
        NEO_HOOKEAN,
        "param youngs_modulus_log = 13.0
param poissons_ratio_sigmoid = 0.0
E = exp(youngs_modulus_log)
nu = 0.49 * sigmoid(poissons_ratio_sigmoid)
mu = E / (2 * (1 + nu))
la = E * nu / ((1 + nu) * (1 - 2 * nu))
P = mu * (F + F.T - 2 * I) + la * (trace(F) - 3) * I
return P @ F.T",
    ),
    (
        "U, sigma, Vh = svd(F)\nreturn U @ Vh",
        "U, sigma, Vh = svd(F)\nreturn Vh.T @ U.T",
    ),
    ("return 0.5 * F", "return 0.49 * F"),
];

fn tasks_laws() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tasks/laws");
    let mut laws: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("tasks/laws exists")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "law"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).expect("readable law"))
        })
        .collect();
    laws.sort();
    laws
}

#[test]
fn equivalent_spellings_share_a_hash() {
    assert!(EQUIVALENT.len() >= 15);
    let mut failed = Vec::new();
    for (a, b) in EQUIVALENT {
        let (ca, cb) = (canon(a), canon(b));
        if ca.hash != cb.hash {
            failed.push(format!(
                "--- {a}\n=> {}\n--- {b}\n=> {}\n",
                ca.form, cb.form
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn different_laws_have_different_hashes() {
    assert!(DIFFERENT.len() >= 15);
    for (a, b) in DIFFERENT {
        let (ca, cb) = (canon(a), canon(b));
        assert_ne!(ca.hash, cb.hash, "{a}\nand\n{b}\nboth => {}", ca.form);
    }
    // The reference laws are pairwise different.
    let laws = tasks_laws();
    let hashes: Vec<u64> = laws.iter().map(|(_, s)| canon(s).hash).collect();
    for i in 0..laws.len() {
        for j in i + 1..laws.len() {
            assert_ne!(hashes[i], hashes[j], "{} and {}", laws[i].0, laws[j].0);
        }
    }
}

/// A random deformation gradient near the identity (det > 0).
fn random_f(rng: &mut ChaCha8Rng) -> Matrix3<f64> {
    Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.3..0.3))
}

/// Max-norm relative difference of two matrices.
fn rel_diff(a: &Matrix3<f64>, b: &Matrix3<f64>) -> f64 {
    let scale = a.amax().max(b.amax()).max(1e-300);
    (a - b).amax() / scale
}

/// Simplifies `src`, checks the result against the original at random F and random
/// parameters, and checks that the complexity did not grow.
fn check_simplification(name: &str, src: &str, rng: &mut ChaCha8Rng) {
    let original = law(src);
    let s = egraph::simplify(&original);
    assert!(
        s.complexity <= s.original_complexity,
        "{name}: complexity grew {} -> {}",
        s.original_complexity,
        s.complexity
    );
    assert_eq!(s.original_complexity, egraph::complexity(&original));
    assert!(s.canonical.complexity <= s.complexity);
    let text = s.program.to_string();
    let simplified = load(&text, original.signature())
        .unwrap_or_else(|e| panic!("{name}: the simplified law does not load:\n{text}\n{e}"));
    assert_eq!(
        simplified.params(),
        original.params(),
        "{name}: parameters changed"
    );
    let (a, b) = (original.compiled(), simplified.compiled());
    let mut compared = 0;
    for _ in 0..100 {
        let f = random_f(rng);
        let params: Vec<f64> = original
            .params()
            .iter()
            .map(|(_, v)| v + rng.random_range(-0.1..0.1))
            .collect();
        let x = a.eval_mat3(&f, &params, &mut a.scratch()).unwrap();
        let y = b.eval_mat3(&f, &params, &mut b.scratch()).unwrap();
        if x.iter().all(|v| v.is_finite()) {
            assert!(
                y.iter().all(|v| v.is_finite()),
                "{name}: simplified law not finite at {f}"
            );
            let d = rel_diff(&x, &y);
            assert!(d < 1e-9, "{name}: values differ by {d:e} at {f}\n{text}");
            compared += 1;
        }
    }
    assert!(compared >= 50, "{name}: only {compared} finite points");
}

#[test]
fn simplification_keeps_the_value_of_every_reference_law() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for (name, src) in tasks_laws() {
        check_simplification(&name, &src, &mut rng);
    }
    for (i, (a, b)) in EQUIVALENT.iter().chain(DIFFERENT).enumerate() {
        check_simplification(&format!("pair {i} (a)"), a, &mut rng);
        check_simplification(&format!("pair {i} (b)"), b, &mut rng);
    }
}

/// Random well-typed laws `F: mat3 -> mat3` built from a small expression grammar.
fn random_law(rng: &mut ChaCha8Rng) -> String {
    fn scalar(rng: &mut ChaCha8Rng, depth: u32) -> String {
        let leaf = ["p0", "p1", "2", "0.5", "3"];
        if depth == 0 {
            return leaf[rng.random_range(0..leaf.len())].to_string();
        }
        let d = depth - 1;
        match rng.random_range(0..10) {
            0 => format!("det({})", matrix(rng, d)),
            1 => format!("trace({})", matrix(rng, d)),
            2 => format!("({} + {})", scalar(rng, d), scalar(rng, d)),
            3 => format!("({} * {})", scalar(rng, d), scalar(rng, d)),
            4 => format!("({} - {})", scalar(rng, d), scalar(rng, d)),
            5 => format!("exp({} / 4)", scalar(rng, d)),
            6 => format!("norm({})", matrix(rng, d)),
            7 => format!("sum(diagonal({}))", matrix(rng, d)),
            8 => format!("({} / (1 + abs({})))", scalar(rng, d), scalar(rng, d)),
            _ => leaf[rng.random_range(0..leaf.len())].to_string(),
        }
    }
    fn matrix(rng: &mut ChaCha8Rng, depth: u32) -> String {
        if depth == 0 {
            return ["F", "I", "F.T"][rng.random_range(0..3)].to_string();
        }
        let d = depth - 1;
        match rng.random_range(0..11) {
            0 => format!("({} @ {})", matrix(rng, d), matrix(rng, d)),
            1 => format!("({} + {})", matrix(rng, d), matrix(rng, d)),
            2 => format!("({} - {})", matrix(rng, d), matrix(rng, d)),
            3 => format!("({} * {})", scalar(rng, d), matrix(rng, d)),
            4 => format!("({}).T", matrix(rng, d)),
            5 => format!("sym({})", matrix(rng, d)),
            6 => format!("dev({})", matrix(rng, d)),
            7 => format!("inv(I + 0.1 * {})", matrix(rng, d)),
            8 => format!("-{}", matrix(rng, d)),
            9 => format!("({} * I)", scalar(rng, d)),
            _ => "F".to_string(),
        }
    }
    let body = matrix(rng, 4);
    format!(
        "param p0 = 0.7\nparam p1 = -1.3\nA = {body}\nreturn A + {}",
        matrix(rng, 2)
    )
}

#[test]
fn simplification_keeps_the_value_of_generated_laws() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    for i in 0..60 {
        let src = random_law(&mut rng);
        check_simplification(&format!("generated {i}:\n{src}\n"), &src, &mut rng);
    }
}

#[test]
fn hashes_are_deterministic_across_runs_and_threads() {
    let laws: Vec<String> = tasks_laws()
        .into_iter()
        .map(|(_, s)| s)
        .chain(EQUIVALENT.iter().map(|(a, _)| a.to_string()))
        .collect();
    let first: Vec<Canonical> = laws.iter().map(|s| canon(s)).collect();
    let again: Vec<Canonical> = laws.iter().map(|s| canon(s)).collect();
    assert_eq!(first, again);
    let threads: Vec<Vec<Canonical>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let laws = &laws;
                scope.spawn(move || {
                    // Each thread walks the laws in a different order.
                    let mut out: Vec<(usize, Canonical)> = (0..laws.len())
                        .map(|k| (k + t) % laws.len())
                        .map(|k| (k, canon(&laws[k])))
                        .collect();
                    out.sort_by_key(|(k, _)| *k);
                    out.into_iter().map(|(_, c)| c).collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for t in threads {
        assert_eq!(t, first);
    }
    // The hash is FNV-1a of the form: fixed across builds and platforms.
    for c in &first {
        assert_eq!(c.hash, egraph::fnv1a(c.form.as_bytes()));
    }
}

#[test]
fn pathological_sharing_stays_bounded() {
    // 2^40 nodes when written out: complexity saturates, nothing is expanded.
    let mut src = String::from("a0 = F + F.T\n");
    for k in 1..40 {
        src.push_str(&format!("a{k} = a{} @ a{} + a{}\n", k - 1, k - 1, k - 1));
    }
    src.push_str("return a39 - a39 * 2");
    let law = law(&src);
    let start = std::time::Instant::now();
    let s = egraph::simplify(&law);
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
    assert!(s.complexity <= s.original_complexity);
    assert!(s.original_complexity > 1 << 40);
    assert!(s.canonical.form.len() < 100_000);
    load(&s.program.to_string(), law.signature()).expect("the result loads");
}

#[test]
fn long_chains_simplify_to_laws_that_load() {
    let mut src = String::from("param k = 1.5\na0 = F\n");
    for i in 1..190 {
        let op = ["+", "-", "*", "@"][i % 4];
        src.push_str(&format!("a{i} = a{} {op} (k * F.T)\n", i - 1));
    }
    src.push_str("return a189");
    let law = law(&src);
    let s = egraph::simplify(&law);
    assert!(s.complexity <= s.original_complexity);
    load(&s.program.to_string(), law.signature()).expect("the result loads");
    let _ = egraph::canonical(&law);
}
