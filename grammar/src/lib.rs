//! The ansatz law language: a small typed tensor language in which language models, the
//! evolutionary search and people write constitutive laws as short programs.
//!
//! The pipeline is [`parse`] (text to [`Program`], with spans and model-friendly errors),
//! [`check`] (types against a task [`Signature`], giving a [`CheckedProgram`] and its
//! [`Compiled`] form) and [`Compiled::eval`] (generic over the scalar: `f64`, or
//! `DualSVec64<N>` for exact parameter gradients). `Display` on a [`Program`] prints the
//! canonical form, and `parse(&p.to_string()) == Ok(p)`. The grammar and the reference
//! card are in `GRAMMAR.md`.
//!
//! ```
//! use ansatz_grammar::{load, Compiled, Signature};
//! use ansatz_linalg::DualSVec64;
//! use nalgebra::Matrix3;
//!
//! let src = "param mu = 2.0\nreturn mu * (F @ F.T - I)";
//! let law = load(src, &Signature::elastic()).unwrap();
//! assert_eq!(law.params(), vec![("mu".to_string(), 2.0)]);
//! let c = law.compiled();
//! let f = Matrix3::new(1.1, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0);
//!
//! // Values in f64.
//! let tau = c.eval_mat3(&f, &[2.0], &mut c.scratch()).unwrap();
//! assert!((tau[(0, 0)] - 2.0 * (1.21 - 1.0)).abs() < 1e-12);
//!
//! // Values and d/dmu with a dual number.
//! let mu = Compiled::seed_params::<DualSVec64<1>>(&[2.0]);
//! let tau = c.eval_mat3(&f.map(DualSVec64::from), &mu, &mut c.scratch()).unwrap();
//! assert!((ansatz_linalg::gradient(&tau[(0, 0)])[0] - 0.21).abs() < 1e-12);
//!
//! // Errors carry line, column and a hint.
//! let e = load("return torch.det(F) * I", &Signature::elastic()).unwrap_err();
//! assert_eq!(e.to_string(), "line 1, column 8: unknown function 'torch.det': the language has no modules; write det(...)");
//! ```
//!
//! Only [`check`] produces a [`Compiled`] program, so a program with a type error can be
//! reported but never evaluated:
//!
//! ```compile_fail
//! let p = ansatz_grammar::parse("return F @ sum(F)").unwrap();
//! let c: ansatz_grammar::Compiled = p.compile(); // no such method: only `check` compiles
//! ```
#![warn(missing_docs)]

mod ast;
mod batch;
mod builder;
mod builtins;
mod check;
mod compiled;
pub mod egraph;
mod error;
pub mod export;
pub mod fingerprint;
mod limits;
mod ops;
mod parser;
mod print;
mod span;
mod types;
mod value;

pub use ast::{BinOp, CmpOp, Expr, ExprKind, Name, Param, Program, Stmt};
pub use check::{Binding, BindingKind, CheckedProgram, check};
pub use compiled::{Compiled, Scratch};
pub use error::{Error, ErrorKind, EvalError};
pub use fingerprint::fingerprint;
pub use limits::Limits;
pub use parser::{parse, parse_bytes, parse_bytes_with, parse_with};
pub use print::number;
pub use span::Span;
pub use types::{Signature, SignatureError, Type};
pub use value::Value;

/// Parses and checks a source text in one step; errors carry the caret excerpt.
pub fn load(src: &str, signature: &Signature) -> Result<CheckedProgram, Error> {
    let program = parse(src)?;
    check(&program, signature).map_err(|e| e.with_source(src))
}

/// Names that cannot stand for a value of one's own in a law, so an input or a variable
/// must not be called by them: the built-in constants (`I`, `pi`, which always mean
/// themselves), the statement words `param` and `return`, the discard name `_`, and the
/// Python words the parser rejects with a hint. The built-in functions
/// ([`function_names`]) are listed separately.
///
/// ```
/// use ansatz_grammar::{Signature, load, reserved_names};
/// for name in reserved_names().filter(|n| !["I", "pi"].contains(n)) {
///     // Not one of them can be read as a name.
///     let src = format!("x = 1.0\nreturn F * {name}\n");
///     assert!(load(&src, &Signature::elastic()).is_err(), "{name}");
/// }
/// ```
pub fn reserved_names() -> impl Iterator<Item = &'static str> {
    builtins::CONSTANTS
        .iter()
        .copied()
        .chain(["param", "return", "_"])
        .chain(parser::hints::PYTHON_WORDS.iter().copied())
}

/// Names of every built-in function, in reference-card order.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    builtins::FUNCTIONS.iter().map(|f| f.0)
}
