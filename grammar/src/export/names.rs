//! Names of the law in a target language: a name that is a keyword of the target, or
//! that could clash with the names the exporter itself uses, gets a suffix.

use crate::check::CheckedProgram;
use std::collections::{HashMap, HashSet};

/// Python keywords and soft keywords, builtins the exports use, and the exports' own names.
pub(crate) const PYTHON_RESERVED: &[&str] = &[
    "False",
    "None",
    "True",
    "and",
    "as",
    "assert",
    "async",
    "await",
    "break",
    "class",
    "continue",
    "def",
    "del",
    "elif",
    "else",
    "except",
    "finally",
    "for",
    "from",
    "global",
    "if",
    "import",
    "in",
    "is",
    "lambda",
    "nonlocal",
    "not",
    "or",
    "pass",
    "raise",
    "return",
    "try",
    "while",
    "with",
    "yield",
    "match",
    "case",
    "type",
    "print",
    "len",
    "range",
    "float",
    "int",
    "sum",
    "abs",
    "min",
    "max",
    "np",
    "sp",
    "torch",
    "nn",
    "math",
    "law",
    "law_batch",
    "PARAMS",
    "Physics",
    "self",
    "evaluate",
    "super",
    "batch",
];

/// Rust keywords and the exports' own names.
pub(crate) const RUST_RESERVED: &[&str] = &[
    "as",
    "break",
    "const",
    "continue",
    "crate",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "async",
    "await",
    "dyn",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "try",
    "gen",
    "law",
    "params",
    "Params",
    "Matrix3",
    "Vector3",
    "f64",
    "min",
    "max",
    "clamp",
    "sigmoid",
    "svd_signed",
    "polar",
    "inv3",
    "mm",
    "sm",
    "ms",
    "union",
];

/// Target names for every name of `law` (inputs, parameters, bindings): unchanged unless
/// reserved or starting with `_` (the exporters' helpers do), then with a suffix `_v`
/// (repeated until unique).
pub(crate) fn rename(law: &CheckedProgram, reserved: &[&str]) -> HashMap<String, String> {
    let names: Vec<&str> = law.bindings().iter().map(|b| b.name.as_str()).collect();
    let mut taken: HashSet<String> = names.iter().map(|n| n.to_string()).collect();
    let mut out = HashMap::new();
    for n in names {
        let mut m = n.to_string();
        if reserved.contains(&n) || n.starts_with('_') {
            let base = n.trim_start_matches('_');
            m = format!("{}_v", if base.is_empty() { "x" } else { base });
            while taken.contains(&m) || reserved.contains(&m.as_str()) {
                m.push('_');
            }
            taken.insert(m.clone());
        }
        out.insert(n.to_string(), m);
    }
    out
}
