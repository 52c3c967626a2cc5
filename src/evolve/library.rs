//! Classical constitutive forms written in the law language, and the small building
//! blocks that `insert_term` adds to a law.
//!
//! Elastic forms (F to Kirchhoff stress) share the SGA parameterisation
//! `youngs_modulus_log`, `poissons_ratio_sigmoid` (E = exp(.), nu = 0.49 sigmoid(.)). Their
//! defaults are those of the SGA primitive (10, -1), not of any ground truth, and a seed
//! starts from them. Plastic forms (F to
//! the corrected F) use `youngs_modulus_log`, `poissons_ratio` (raw) and their own
//! thresholds; their moduli default to those of the fixed Hencky law (E = 1e5, nu = 0.2).

use ansatz_simulator::MaterialKind;

/// A named law of the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Form {
    /// Short name (`neohookean`, `von_mises`, ...).
    pub name: &'static str,
    /// The law's source text.
    pub source: &'static str,
}

/// The shipped laws of `tasks/laws` (all `F: mat3 -> mat3`), for tests.
#[cfg(test)]
pub(crate) const SHIPPED: &[&str] = &[
    include_str!("../../tasks/laws/corotated.law"),
    include_str!("../../tasks/laws/hencky.law"),
    include_str!("../../tasks/laws/identity.law"),
    include_str!("../../tasks/laws/imaginary.law"),
    include_str!("../../tasks/laws/linear.law"),
    include_str!("../../tasks/laws/neohookean.law"),
    include_str!("../../tasks/laws/plasticine.law"),
    include_str!("../../tasks/laws/sand.law"),
    include_str!("../../tasks/laws/water.law"),
];

/// Lamé parameters from the SGA elastic parameterisation (prepended to elastic forms).
const ELASTIC_HEAD: &str = "param youngs_modulus_log = 10.0
param poissons_ratio_sigmoid = -1.0
E = exp(youngs_modulus_log)
nu = 0.49 * sigmoid(poissons_ratio_sigmoid)
mu = E / (2 * (1 + nu))
la = E * nu / ((1 + nu) * (1 - 2 * nu))
";

/// Elastic forms: the body after [`ELASTIC_HEAD`].
const ELASTIC: &[(&str, &str)] = &[
    (
        "linear",
        "return (mu * (F + F.T - 2 * I) + la * (trace(F) - 3) * I) @ F.T",
    ),
    (
        "corotated",
        "U, sigma, Vh = svd(F)
J = prod(sigma)
return 2 * mu * (F - U @ Vh) @ F.T + la * J * (J - 1) * I",
    ),
    (
        "neohookean",
        "J = det(F)
return mu * (F @ F.T - I) + la * log(J) * I",
    ),
    (
        "neohookean_volume_j",
        "J = det(F)
return mu * (F @ F.T - I) + la * J * (J - 1) * I",
    ),
    (
        "st_venant_kirchhoff",
        "G = (F.T @ F - I) / 2
return F @ (2 * mu * G + la * trace(G) * I) @ F.T",
    ),
    (
        "hencky",
        "U, sigma, Vh = svd(F)
eps = log(max(sigma, 1e-5))
return U @ diag(2 * mu * eps + la * sum(eps)) @ U.T",
    ),
    (
        "volume_only",
        "J = det(F)
return la * J * (J - 1) * I",
    ),
];

/// Plastic forms (complete programs).
const PLASTIC: &[(&str, &str)] = &[
    ("identity", "return F"),
    (
        "water",
        "J = det(F)
return J ** (1 / 3) * I",
    ),
    (
        "von_mises",
        "param youngs_modulus_log = 11.512925464970229
param poissons_ratio = 0.2
param yield_stress = 1e4
mu = exp(youngs_modulus_log) / (2 * (1 + poissons_ratio))
U, sigma, Vh = svd(F)
eps = log(max(sigma, 0.01))
eps_bar = eps - sum(eps) / 3
n = norm(eps_bar) + 1e-5
dgamma = n - yield_stress / (2 * mu)
return U @ diag(where(dgamma > 0, exp(eps - dgamma / n * eps_bar), max(sigma, 0.01))) @ Vh",
    ),
    (
        "drucker_prager",
        "param youngs_modulus_log = 11.512925464970229
param poissons_ratio = 0.2
param alpha = 0.2
param cohesion = 0.0
E = exp(youngs_modulus_log)
mu = E / (2 * (1 + poissons_ratio))
la = E * poissons_ratio / ((1 + poissons_ratio) * (1 - 2 * poissons_ratio))
U, sigma, Vh = svd(F)
eps = log(max(sigma, 0.05))
t = sum(eps)
eps_hat = eps - t / 3
n = norm(eps_hat)
s = t - 3 * cohesion
dgamma = n + (3 * la + 2 * mu) / (2 * mu) * s * alpha
eps_flow = where(n > 0, eps - max(dgamma, 0) / n * eps_hat, eps)
eps_new = where(s < 0, eps_flow, cohesion)
return U @ diag(exp(eps_new)) @ Vh",
    ),
    (
        "clamp_singular_values",
        "param theta_c = 0.025
param theta_s = 0.0075
U, sigma, Vh = svd(F)
return U @ diag(clamp(sigma, 1 - theta_c, 1 + theta_s)) @ Vh",
    ),
    (
        "water_blend",
        "param w = 0.5
J = det(F)
return w * F + (1 - w) * J ** (1 / 3) * I",
    ),
];

/// The library of classical forms for a signature `F: mat3 -> mat3` on the elastic or
/// plastic path, in a fixed order.
pub fn forms(kind: MaterialKind) -> Vec<(String, String)> {
    match kind {
        MaterialKind::Plastic => PLASTIC
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect(),
        _ => ELASTIC
            .iter()
            .map(|(n, s)| (n.to_string(), format!("{ELASTIC_HEAD}{s}")))
            .collect(),
    }
}

/// Building blocks for `insert_term`: small programs whose return value is the term
/// (`mat3` for the whole law, `scalar` for scalar subexpressions).
pub fn terms(kind: MaterialKind) -> &'static [&'static str] {
    match kind {
        MaterialKind::Plastic => PLASTIC_TERMS,
        _ => ELASTIC_TERMS,
    }
}

const ELASTIC_TERMS: &[&str] = &[
    "J = det(F)\nreturn (J - 1) * J * I",
    "return F @ F.T - I",
    "return log(det(F)) * I",
    "return (trace(F) - 3) * I",
    "return (trace(F @ F.T) - 3) * I",
    "return dev(F @ F.T)",
    "return F + F.T - 2 * I",
    "R, S = polar(F)\nreturn (F - R) @ F.T",
    "return F @ (F.T @ F - I) @ F.T",
    "U, sigma, Vh = svd(F)\nreturn U @ diag(log(max(sigma, 1e-5))) @ U.T",
    // scalar terms
    "return det(F) - 1",
    "return log(det(F))",
    "return trace(F) - 3",
    "return norm(dev(F))",
];

const PLASTIC_TERMS: &[&str] = &[
    "return F",
    "return I",
    "return det(F) ** (1 / 3) * I",
    "return F - det(F) ** (1 / 3) * I",
    "U, sigma, Vh = svd(F)\nreturn U @ Vh",
    "U, sigma, Vh = svd(F)\nreturn U @ diag(log(max(sigma, 0.01))) @ Vh",
    "return dev(F)",
    "return sym(F) - I",
    "return F @ F.T - I",
    // scalar terms
    "return det(F) - 1",
    "return log(det(F))",
    "return trace(F) - 3",
    "return norm(dev(F))",
];

#[cfg(test)]
mod tests {
    use super::*;
    use ansatz_grammar::{Signature, load};

    #[test]
    fn every_form_and_term_checks() {
        for kind in [MaterialKind::Elastic, MaterialKind::Plastic] {
            for (name, src) in forms(kind) {
                let law = load(&src, &Signature::elastic());
                assert!(law.is_ok(), "{name}: {law:?}");
            }
            for src in terms(kind) {
                let p = ansatz_grammar::parse(src).expect("term parses");
                assert!(!p.stmts.iter().any(|s| s.names.is_empty()), "{src}");
            }
        }
    }
}
