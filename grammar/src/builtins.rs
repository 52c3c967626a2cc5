//! The built-in functions and constants: names, arities and one-line usages (the
//! typing rules are in [`crate::check`], the semantics in [`crate::eval`]).

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Builtin {
    Exp,
    Log,
    Sqrt,
    Cbrt,
    Abs,
    Sigmoid,
    Tanh,
    Log1p,
    Expm1,
    Sin,
    Cos,
    Pow,
    Min,
    Max,
    Clamp,
    Where,
    Det,
    Inv,
    Trace,
    Transpose,
    Diag,
    Diagonal,
    Sum,
    Prod,
    Mean,
    Norm,
    Dot,
    Outer,
    Svd,
    Polar,
    Sym,
    Skew,
    Dev,
    Vec3,
}

/// Name, function, smallest and largest argument count, usage shown in messages.
pub(crate) const FUNCTIONS: &[(&str, Builtin, usize, usize, &str)] = &[
    ("exp", Builtin::Exp, 1, 1, "exp(x) (elementwise)"),
    (
        "log",
        Builtin::Log,
        1,
        1,
        "log(x) (natural log, elementwise)",
    ),
    ("sqrt", Builtin::Sqrt, 1, 1, "sqrt(x) (elementwise)"),
    (
        "cbrt",
        Builtin::Cbrt,
        1,
        1,
        "cbrt(x) (real cube root, elementwise)",
    ),
    ("abs", Builtin::Abs, 1, 1, "abs(x) (elementwise)"),
    (
        "sigmoid",
        Builtin::Sigmoid,
        1,
        1,
        "sigmoid(x) (elementwise)",
    ),
    ("tanh", Builtin::Tanh, 1, 1, "tanh(x) (elementwise)"),
    ("log1p", Builtin::Log1p, 1, 1, "log1p(x) (elementwise)"),
    ("expm1", Builtin::Expm1, 1, 1, "expm1(x) (elementwise)"),
    ("sin", Builtin::Sin, 1, 1, "sin(x) (elementwise)"),
    ("cos", Builtin::Cos, 1, 1, "cos(x) (elementwise)"),
    ("pow", Builtin::Pow, 2, 2, "pow(x, y) (same as x ** y)"),
    (
        "min",
        Builtin::Min,
        1,
        2,
        "min(a, b) (elementwise) or min(x) (smallest entry)",
    ),
    (
        "max",
        Builtin::Max,
        1,
        2,
        "max(a, b) (elementwise) or max(x) (largest entry)",
    ),
    ("clamp", Builtin::Clamp, 3, 3, "clamp(x, lo, hi)"),
    ("where", Builtin::Where, 3, 3, "where(a > b, x, y)"),
    ("det", Builtin::Det, 1, 1, "det(A: mat3) -> scalar"),
    ("inv", Builtin::Inv, 1, 1, "inv(A: mat3) -> mat3"),
    ("trace", Builtin::Trace, 1, 1, "trace(A: mat3) -> scalar"),
    (
        "transpose",
        Builtin::Transpose,
        1,
        1,
        "transpose(A: mat3) -> mat3 (same as A.T)",
    ),
    ("diag", Builtin::Diag, 1, 1, "diag(v: vec3) -> mat3"),
    (
        "diagonal",
        Builtin::Diagonal,
        1,
        1,
        "diagonal(A: mat3) -> vec3",
    ),
    ("sum", Builtin::Sum, 1, 1, "sum(x: vec3 or mat3) -> scalar"),
    ("prod", Builtin::Prod, 1, 1, "prod(v: vec3) -> scalar"),
    (
        "mean",
        Builtin::Mean,
        1,
        1,
        "mean(x: vec3 or mat3) -> scalar",
    ),
    (
        "norm",
        Builtin::Norm,
        1,
        1,
        "norm(x: vec3 or mat3) -> scalar (Euclidean / Frobenius)",
    ),
    (
        "dot",
        Builtin::Dot,
        2,
        2,
        "dot(a, b) -> scalar (a, b both vec3 or both mat3)",
    ),
    (
        "outer",
        Builtin::Outer,
        2,
        2,
        "outer(a: vec3, b: vec3) -> mat3",
    ),
    ("svd", Builtin::Svd, 1, 1, "U, sigma, Vh = svd(A: mat3)"),
    ("polar", Builtin::Polar, 1, 1, "R, S = polar(A: mat3)"),
    ("sym", Builtin::Sym, 1, 1, "sym(A: mat3) -> mat3"),
    ("skew", Builtin::Skew, 1, 1, "skew(A: mat3) -> mat3"),
    ("dev", Builtin::Dev, 1, 1, "dev(A: mat3) -> mat3"),
    ("vec3", Builtin::Vec3, 3, 3, "vec3(a, b, c) -> vec3"),
];

/// Built-in constants.
pub(crate) const CONSTANTS: &[&str] = &["I", "pi"];

/// Looks a function up by name.
pub(crate) fn function(name: &str) -> Option<(Builtin, usize, usize, &'static str)> {
    FUNCTIONS
        .iter()
        .find(|f| f.0 == name)
        .map(|f| (f.1, f.2, f.3, f.4))
}

/// The language's name for a function that models often write under another name
/// (PyTorch, NumPy, math), with the replacement to suggest.
pub(crate) fn alias(name: &str) -> Option<&'static str> {
    Some(match name {
        "ln" => "log",
        "exp2" | "log2" | "log10" => "exp/log with a constant factor",
        "matmul" | "mm" | "bmm" | "einsum" | "tensordot" => "the @ operator",
        "eye" | "identity" | "identity_like" | "eye_like" => "the constant I",
        "t" => "x.T",
        "permute" | "swapaxes" | "mT" => "x.T",
        "determinant" | "logdet" | "slogdet" => "det(A) (and log(det(A)))",
        "inverse" | "pinv" | "solve" => "inv(A)",
        "tr" => "trace(A)",
        "maximum" | "amax" | "fmax" => "max(a, b)",
        "minimum" | "amin" | "fmin" => "min(a, b)",
        "clip" | "clamp_min" | "clamp_max" => "clamp(x, lo, hi) or max(x, lo) / min(x, hi)",
        "relu" => "max(x, 0)",
        "square" => "x ** 2",
        "rsqrt" => "1 / sqrt(x)",
        "diag_embed" => "diag(v)",
        "sign" | "sgn" => "where(x > 0, 1, -1)",
        "frobenius_norm" | "vector_norm" | "matrix_norm" => "norm(x)",
        "stack" | "tensor" | "array" | "cat" => "vec3(a, b, c) or diag(v)",
        "zeros" | "zeros_like" => "0 * I",
        "ones" | "ones_like" => "vec3(1, 1, 1)",
        "deviator" | "deviatoric" => "dev(A)",
        "symmetric" => "sym(A)",
        "sigma" | "singular_values" | "svdvals" => "U, sigma, Vh = svd(A)",
        "softplus" => "log1p(exp(x))",
        "pow2" => "x ** 2",
        _ => return None,
    })
}

#[cfg(test)]
/// Every name a program can refer to without defining it (functions and constants).
pub(crate) fn all_builtin_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .map(|f| f.0)
        .chain(CONSTANTS.iter().copied())
}

/// The closest candidate to `name` by edit distance, if it is close enough to suggest.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|&(d, c)| {
            d <= 2.min(c.len().max(name.len()) / 3 + 1)
                || (c.len() > 2 && lower.starts_with(&c.to_ascii_lowercase()))
        })
        .min_by_key(|&(d, c)| (d, c.len()))
        .map(|(_, c)| c)
}

/// Levenshtein distance (names are short; no allocation beyond one row).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(closest("sigmoud", all_builtin_names()), Some("sigmoid"));
        assert_eq!(closest("eps_bra", ["eps_bar", "eps"]), Some("eps_bar"));
        assert_eq!(closest("zzzz", all_builtin_names()), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
