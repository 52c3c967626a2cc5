//! Exporters: a checked law written in closed form for the tools scientists use.
//!
//! | target | what is written |
//! |---|---|
//! | [`Target::Latex`] | an `aligned` block: one line per binding, then the law |
//! | [`Target::Sympy`] | a script building SymPy matrices from a 3x3 matrix of symbols, with `evaluate(F, **params)` |
//! | [`Target::Numpy`] | `law(F, **params)` over one (3, 3) array and `law_batch` over (B, 3, 3) |
//! | [`Target::Pytorch`] | a `Physics(nn.Module)`: parameters in `__init__`, the law in `forward(F)` over (B, 3, 3) |
//! | [`Target::Rust`] | `law(F, &Params) -> Matrix3<f64>` over nalgebra, with a `Params` struct |
//!
//! Every export keeps the program's bindings as named steps. The signed SVD follows the
//! engine's convention (`U` and `Vh` rotations, the sign of `det` on the last singular
//! value); its `U` and `Vh` are unique up to a simultaneous sign change of matching
//! columns and rows (and rotations within repeated singular values), so exported code
//! agrees with the engine on every expression invariant under that ambiguity, which
//! includes every frame-indifferent law (`U @ diag(f(sigma)) @ Vh`, `U @ Vh`, ...).
//! Parameter values are the defaults of the `param` declarations.
//!
//! ```
//! use ansatz_grammar::{load, Signature, export::{export, Target}};
//! let law = load("param mu = 2\nreturn mu * (F @ F.T - I)", &Signature::elastic()).unwrap();
//! let tex = export(&law, Target::Latex);
//! assert!(tex.contains(r"\mu \, \left(\mathbf{F} \mathbf{F}^\top - \mathbf{I}\right)"), "{tex}");
//! let py = export(&law, Target::Numpy);
//! assert!(py.contains("def law_batch(F, mu=2.0):"), "{py}");
//! ```

mod array;
mod latex;
mod names;
mod numpy;
mod pytorch;
mod rust;
mod sympy;
mod typing;

use crate::check::CheckedProgram;
use std::fmt;
use std::str::FromStr;

/// An export target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// LaTeX (an `aligned` environment).
    Latex,
    /// A SymPy script.
    Sympy,
    /// A NumPy module.
    Numpy,
    /// A PyTorch `nn.Module` in the SGA `Physics` shape.
    Pytorch,
    /// A Rust module over nalgebra.
    Rust,
}

impl Target {
    /// Every target, in the order of the command-line help.
    pub const ALL: [Target; 5] = [
        Target::Latex,
        Target::Sympy,
        Target::Numpy,
        Target::Pytorch,
        Target::Rust,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Latex => "latex",
            Target::Sympy => "sympy",
            Target::Numpy => "numpy",
            Target::Pytorch => "pytorch",
            Target::Rust => "rust",
        }
    }

    /// The usual file extension of the output.
    pub fn extension(self) -> &'static str {
        match self {
            Target::Latex => "tex",
            Target::Sympy | Target::Numpy | Target::Pytorch => "py",
            Target::Rust => "rs",
        }
    }

    /// The file name of this target's export of a law called `stem`: distinct for every
    /// target (`best.tex`, `best.sympy.py`, `best.numpy.py`, `best.torch.py`, `best.rs`).
    pub fn file_name(self, stem: &str) -> String {
        let suffix = match self {
            Target::Latex => "tex",
            Target::Sympy => "sympy.py",
            Target::Numpy => "numpy.py",
            Target::Pytorch => "torch.py",
            Target::Rust => "rs",
        };
        format!("{stem}.{suffix}")
    }
}

/// Every export of `program`: each target's file name (see [`Target::file_name`]) and text.
pub fn export_files(program: &CheckedProgram, stem: &str) -> Vec<(String, String)> {
    Target::ALL
        .into_iter()
        .map(|t| (t.file_name(stem), export(program, t)))
        .collect()
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown target name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown export target '{0}' (use latex, sympy, numpy, pytorch or rust)")]
pub struct UnknownTarget(pub String);

impl FromStr for Target {
    type Err = UnknownTarget;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s.trim().to_ascii_lowercase())
            .or(match s.trim().to_ascii_lowercase().as_str() {
                "tex" => Some(Target::Latex),
                "torch" => Some(Target::Pytorch),
                "np" => Some(Target::Numpy),
                "rs" => Some(Target::Rust),
                _ => None,
            })
            .ok_or_else(|| UnknownTarget(s.to_string()))
    }
}

/// Writes `law` for `target`.
pub fn export(law: &CheckedProgram, target: Target) -> String {
    match target {
        Target::Latex => latex::export(law),
        Target::Sympy => sympy::export(law),
        Target::Numpy => numpy::export(law),
        Target::Pytorch => pytorch::export(law),
        Target::Rust => rust::export(law),
    }
}

/// A Rust or Python float literal that reads back to exactly `v` (`2.0`, `0.49`, `1e-5`).
pub(crate) fn float_literal(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains(['.', 'e', 'E']) || !v.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}
