//! Physics checks of a constitutive law at screening: cheap (a few dozen evaluations of the
//! law at its default parameter values, no rollout), each failure reported in the
//! feedback so a proposer learns from it; whether a failure rejects the law or only warns
//! is [`PhysicsPolicy`](super::record::PhysicsPolicy).
//!
//! Elastic laws (F to the Kirchhoff stress τ):
//! * [`Check::Symmetric`]: τ = τᵀ at sample deformations;
//! * [`Check::FrameIndifferent`]: τ(QF) = Q τ(F) Qᵀ for sample rotations Q;
//! * [`Check::ZeroAtRest`]: τ(I) = 0.
//!
//! Plastic laws (F to the corrected F̃, whose stress is the fixed Hencky law's, a
//! function of B̃ = F̃ F̃ᵀ only, so a map is compared through B̃):
//! * [`Check::IdentityAtRest`]: the map changes nothing inside a small elastic region:
//!   B̃ = F Fᵀ at F = I, at a small compression (1 − 10⁻⁴) I and at rotations Q;
//! * [`Check::RotationEquivariant`]: B̃(QF) = Q B̃(F) Qᵀ: rotating the body before the
//!   return mapping rotates its result.
//!
//! A difference counts when it exceeds [`TOLERANCE`] times the scale of the law's values
//! at the sample deformations.

use ansatz_grammar::fingerprint::{POINTS, sample_deformation};
use ansatz_grammar::{CheckedProgram, Value};
use ansatz_simulator::MaterialKind;
use nalgebra::{Matrix3, Rotation3, Unit, Vector3};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Relative tolerance of every check.
pub const TOLERANCE: f64 = 1e-6;

/// One physics check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Elastic: the stress is symmetric.
    Symmetric,
    /// Elastic: the stress is frame-indifferent (objective).
    FrameIndifferent,
    /// Elastic: the stress is zero at rest.
    ZeroAtRest,
    /// Plastic: the map is the identity in a small elastic region.
    IdentityAtRest,
    /// Plastic: the map commutes with rotations.
    RotationEquivariant,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Check::Symmetric => "symmetric stress",
            Check::FrameIndifferent => "frame indifference",
            Check::ZeroAtRest => "zero stress at rest",
            Check::IdentityAtRest => "identity in the elastic region",
            Check::RotationEquivariant => "rotation equivariance",
        })
    }
}

/// A failed check and what was seen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// The check.
    pub check: Check,
    /// What was seen (for the proposer).
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

/// The text shown to a proposer about failed checks (empty when none failed).
pub fn feedback(failures: &[Failure]) -> String {
    if failures.is_empty() {
        return String::new();
    }
    let mut s = String::from("Physics checks failed (law at its default parameter values):");
    for f in failures {
        s.push_str("\n- ");
        s.push_str(&f.to_string());
    }
    s
}

/// Sample rotations: about skew axes, by angles from small to large.
fn rotations() -> [Matrix3<f64>; 3] {
    let r = |a: [f64; 3], angle: f64| {
        Rotation3::from_axis_angle(&Unit::new_normalize(Vector3::from(a)), angle).into_inner()
    };
    [
        r([0.2, 0.9, -0.4], 0.7),
        r([-0.8, 0.3, 0.5], 2.3),
        r([0.5, -0.5, 0.7], 3.9),
    ]
}

/// The checks of `law` on the `kind` path of the simulator, at its default parameter
/// values; the failed ones (none: the law passes).
pub fn check(law: &CheckedProgram, kind: MaterialKind) -> Vec<Failure> {
    let c = law.compiled();
    let mut scratch = c.scratch();
    let mut eval = |f: &Matrix3<f64>| -> Option<Matrix3<f64>> {
        c.eval(&[Value::Mat3(*f)], c.defaults(), &mut scratch)
            .ok()
            .and_then(|v| v.as_mat3())
            .filter(|m| m.iter().all(|x| x.is_finite()))
    };
    match kind {
        MaterialKind::Plastic => plastic(&mut eval),
        _ => elastic(&mut eval),
    }
}

/// The largest relative difference of pairs, with where it was largest.
struct Worst {
    value: f64,
    at: String,
}

impl Worst {
    fn new() -> Self {
        Worst {
            value: 0.0,
            at: String::new(),
        }
    }

    fn see(&mut self, difference: f64, scale: f64, at: impl Fn() -> String) {
        let r = difference / scale;
        if r > self.value || (r.is_nan() && !self.value.is_nan()) {
            self.value = r;
            self.at = at();
        }
    }

    fn failure(&self, check: Check, what: &str) -> Option<Failure> {
        (self.value > TOLERANCE || self.value.is_nan()).then(|| Failure {
            check,
            message: format!(
                "{what}: relative difference {:.3e} {} (tolerance {TOLERANCE:.0e})",
                self.value, self.at
            ),
        })
    }
}

fn not_finite(check: Check, at: &str) -> Failure {
    Failure {
        check,
        message: format!("the law is not finite {at}"),
    }
}

fn elastic(eval: &mut dyn FnMut(&Matrix3<f64>) -> Option<Matrix3<f64>>) -> Vec<Failure> {
    let mut out = Vec::new();
    let samples: Vec<(usize, Matrix3<f64>, Matrix3<f64>)> = (0..POINTS)
        .filter_map(|k| {
            let f = sample_deformation(k);
            eval(&f).map(|tau| (k, f, tau))
        })
        .collect();
    if samples.is_empty() {
        for check in [Check::Symmetric, Check::FrameIndifferent] {
            out.push(not_finite(check, "at any sample deformation"));
        }
    }
    let scale = samples
        .iter()
        .map(|(_, _, tau)| tau.norm())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut sym = Worst::new();
    let mut objective = Worst::new();
    for (k, f, tau) in &samples {
        sym.see((tau - tau.transpose()).norm(), scale, || {
            format!("at sample deformation {k} (|tau - tau^T| / max |tau|)")
        });
        for (j, q) in rotations().iter().enumerate() {
            let turned = eval(&(q * f));
            let expected = q * tau * q.transpose();
            let d = turned.map_or(f64::NAN, |t| (t - expected).norm());
            objective.see(d, scale, || {
                format!(
                    "at sample deformation {k}, rotation {j} (|tau(QF) - Q tau(F) Q^T| / max |tau|)"
                )
            });
        }
    }
    out.extend(sym.failure(Check::Symmetric, "the stress is not symmetric"));
    out.extend(objective.failure(
        Check::FrameIndifferent,
        "the stress does not rotate with the body",
    ));
    match eval(&Matrix3::identity()) {
        None => out.push(not_finite(Check::ZeroAtRest, "at F = I")),
        Some(rest) => {
            let mut zero = Worst::new();
            zero.see(rest.norm(), scale, || {
                "at F = I (|tau(I)| / max |tau| over the sample deformations)".to_string()
            });
            out.extend(zero.failure(Check::ZeroAtRest, "the stress at rest is not zero"));
        }
    }
    out
}

fn plastic(eval: &mut dyn FnMut(&Matrix3<f64>) -> Option<Matrix3<f64>>) -> Vec<Failure> {
    let mut out = Vec::new();
    let b = |m: &Matrix3<f64>| m * m.transpose();
    // Identity at rest, up to a rotation the stress does not see.
    let mut rest = vec![
        ("F = I".to_string(), Matrix3::identity()),
        (
            "F = (1 - 1e-4) I".to_string(),
            Matrix3::identity() * (1.0 - 1e-4),
        ),
    ];
    for (j, q) in rotations().iter().enumerate() {
        rest.push((format!("F = rotation {j}"), *q));
    }
    let mut identity = Worst::new();
    for (name, f) in &rest {
        match eval(f) {
            None => {
                out.push(not_finite(Check::IdentityAtRest, &format!("at {name}")));
                break;
            }
            Some(g) => identity.see((b(&g) - b(f)).norm(), b(f).norm(), || {
                format!("at {name} (|F~ F~^T - F F^T| / |F F^T|)")
            }),
        }
    }
    if !out.iter().any(|f| f.check == Check::IdentityAtRest) {
        out.extend(identity.failure(
            Check::IdentityAtRest,
            "the map changes a deformation inside the elastic region",
        ));
    }
    let samples: Vec<(usize, Matrix3<f64>, Matrix3<f64>)> = (0..POINTS)
        .filter_map(|k| {
            let f = sample_deformation(k);
            eval(&f).map(|g| (k, f, b(&g)))
        })
        .collect();
    if samples.is_empty() {
        out.push(not_finite(
            Check::RotationEquivariant,
            "at any sample deformation",
        ));
        return out;
    }
    let scale = samples
        .iter()
        .map(|(_, _, bg)| bg.norm())
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut equivariant = Worst::new();
    for (k, f, bg) in &samples {
        for (j, q) in rotations().iter().enumerate() {
            let expected = q * bg * q.transpose();
            let d = eval(&(q * f)).map_or(f64::NAN, |g| (b(&g) - expected).norm());
            equivariant.see(d, scale, || {
                format!(
                    "at sample deformation {k}, rotation {j} (|B~(QF) - Q B~(F) Q^T| / max |B~|)"
                )
            });
        }
    }
    out.extend(equivariant.failure(
        Check::RotationEquivariant,
        "rotating the body before the map does not rotate its result",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansatz_grammar::{Signature, load};

    fn failed(src: &str, kind: MaterialKind) -> Vec<Check> {
        let law = load(src, &Signature::elastic()).expect("the law checks");
        check(&law, kind).into_iter().map(|f| f.check).collect()
    }

    const NEO_HOOKEAN: &str =
        "param mu = 1\nparam la = 1\nreturn mu * (F @ F.T - I) + la * log(det(F)) * I";

    #[test]
    fn each_elastic_check_passes_on_a_good_law_and_fails_on_a_bad_one() {
        use Check::*;
        let e = MaterialKind::Elastic;
        assert_eq!(failed(NEO_HOOKEAN, e), vec![]);
        // Objective and zero at rest, but not symmetric: F A(C) F^T with A not symmetric.
        assert_eq!(
            failed(
                "return F @ outer(diagonal(F.T @ F) - 1, vec3(1, 0, 0)) @ F.T",
                e
            ),
            vec![Symmetric]
        );
        // Symmetric and zero at rest, but it sees the rotation of the body.
        assert_eq!(
            failed("param mu = 1\nreturn mu * (F.T @ F - I)", e),
            vec![FrameIndifferent]
        );
        // Symmetric and objective, but a stress at rest.
        assert_eq!(
            failed("param mu = 1\nreturn mu * F @ F.T", e),
            vec![ZeroAtRest]
        );
        // Linear elasticity (a small-strain law) is neither symmetric nor objective.
        assert_eq!(
            failed(
                "param mu = 1\nparam la = 1\nreturn (mu * (F + F.T - 2 * I) + la * (trace(F) - 3) * I) @ F.T",
                e
            ),
            vec![Symmetric, FrameIndifferent]
        );
        // Not finite anywhere: every check fails and says so.
        let law = load("return log(-det(F)) * I", &Signature::elastic()).unwrap();
        let f = check(&law, e);
        assert_eq!(f.len(), 3);
        assert!(f.iter().all(|f| f.message.contains("not finite")), "{f:?}");
    }

    #[test]
    fn each_plastic_check_passes_on_a_good_law_and_fails_on_a_bad_one() {
        use Check::*;
        let p = MaterialKind::Plastic;
        let clamp = "param lo = 0.975\nparam hi = 1.0075\nU, s, Vh = svd(F)\nreturn U @ diag(clamp(s, lo, hi)) @ Vh";
        assert_eq!(failed(clamp, p), vec![]);
        assert_eq!(failed("return F", p), vec![]);
        // Equivariant, but it changes a body at rest.
        assert_eq!(failed("return 0.9 * F", p), vec![IdentityAtRest]);
        assert_eq!(
            failed(
                "param lo = 1.01\nU, s, Vh = svd(F)\nreturn U @ diag(max(s, lo)) @ Vh",
                p
            ),
            vec![IdentityAtRest]
        );
        // The identity at rest (up to a rotation), but it ignores the body's rotation.
        assert_eq!(failed("return F.T", p), vec![RotationEquivariant]);
    }

    #[test]
    fn the_library_laws_pass_except_linear_elasticity_and_the_water_blend() {
        for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
            for (name, src) in crate::evolve::library::forms(kind) {
                let law = load(&src, &Signature::elastic()).unwrap();
                let f = check(&law, kind);
                if name == "linear" {
                    assert_eq!(f.len(), 2, "{f:?}");
                } else if name == "water_blend" {
                    // `w * F + (1 - w) * J**(1/3) * I` adds a rotation-free part to F: a
                    // rotated body is not mapped to the rotated result, and a pure rotation
                    // is changed. The checks are right to flag this library blend.
                    assert_eq!(
                        f.iter().map(|x| x.check).collect::<Vec<_>>(),
                        vec![Check::IdentityAtRest, Check::RotationEquivariant]
                    );
                } else {
                    assert!(f.is_empty(), "{kind:?} {name}: {}", feedback(&f));
                }
            }
        }
    }

    #[test]
    fn feedback_names_the_checks() {
        let law = load("param mu = 1\nreturn mu * F @ F.T", &Signature::elastic()).unwrap();
        let text = feedback(&check(&law, MaterialKind::Elastic));
        assert!(text.starts_with("Physics checks failed"), "{text}");
        assert!(
            text.contains("zero stress at rest: the stress at rest is not zero"),
            "{text}"
        );
        assert_eq!(feedback(&[]), "");
    }
}
