//! Loading a shipped law file for the integration tests.

use ansatz_grammar::{CheckedProgram, Signature, load};
use ansatz_linalg::Real;
use nalgebra::Matrix3;

/// A law from `tasks/laws/`, parsed and checked against its signature.
pub struct LoadedLaw {
    file: String,
    law: CheckedProgram,
}

impl LoadedLaw {
    /// Loads `tasks/laws/<name>.law` with the elastic or the plastic signature.
    pub fn load(name: &str, plastic: bool) -> Self {
        let path = format!("{}/tasks/laws/{name}.law", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let signature = if plastic {
            Signature::plastic()
        } else {
            Signature::elastic()
        };
        let law = load(&src, &signature).unwrap_or_else(|e| panic!("{path}: {}", e.render()));
        LoadedLaw { file: path, law }
    }

    /// Default parameter values, in declaration order.
    pub fn defaults(&self) -> Vec<f64> {
        self.law.compiled().defaults().to_vec()
    }

    /// Name of parameter `i`.
    pub fn param_name(&self, i: usize) -> &str {
        &self.law.compiled().param_names()[i]
    }

    /// The law's default values reordered as `names` (a hand-written material's order).
    pub fn params_in_order(&self, names: &[&str]) -> Vec<f64> {
        self.params_in_order_t(names, &self.defaults())
    }

    /// `values` (in declaration order) reordered as `names`.
    pub fn params_in_order_t<T: Copy>(&self, names: &[&str], values: &[T]) -> Vec<T> {
        let declared = self.law.compiled().param_names();
        names
            .iter()
            .map(|n| {
                let i = declared.iter().position(|d| d == n).unwrap_or_else(|| {
                    panic!("{}: no parameter '{n}' (declared: {declared:?})", self.file)
                });
                values[i]
            })
            .collect()
    }

    /// Evaluates the law at `f`.
    pub fn eval<T: Real>(&self, f: &Matrix3<T>, params: &[T]) -> Matrix3<T> {
        let c = self.law.compiled();
        c.eval_mat3(f, params, &mut c.scratch())
            .unwrap_or_else(|e| panic!("{}: {e}", self.file))
    }
}
