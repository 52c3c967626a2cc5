//! The SymPy export: a script that builds the law as SymPy expressions (a `Matrix` for
//! matrices and vectors) from a 3x3 matrix of symbols and one symbol per parameter, and an
//! `evaluate(F, **params)` that evaluates it at a numeric F. The outputs of `svd` and
//! `polar` are symbols too (`U_0_0`, `sigma_0`, ...): `evaluate` computes the signed SVD
//! numerically and substitutes it.

use super::float_literal;
use super::names::{PYTHON_RESERVED, rename};
use super::numpy::law_comment;
use super::typing::{env, type_of};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind};
use crate::check::CheckedProgram;
use crate::types::Type;
use std::collections::HashMap;
use std::fmt::Write;

const PRELUDE: &str = r#"import math

import numpy as np
import sympy as sp


def _ew2(f, a, b):
    """Entrywise f of two matrices of one shape."""
    return sp.Matrix(a.rows, a.cols, lambda i, j: f(a[i, j], b[i, j]))


def _full(x, rows, cols):
    """A scalar as a matrix of one shape (for broadcasting)."""
    return sp.Matrix(rows, cols, lambda i, j: x)


def _where(cond, l, r, a, b):
    """Entrywise where(cond(l, r), a, b) over matrices of one shape, or scalars."""
    if isinstance(a, sp.MatrixBase):
        return sp.Matrix(a.rows, a.cols, lambda i, j: _where(cond, l[i, j], r[i, j], a[i, j], b[i, j]))
    return sp.Piecewise((a, cond(l, r)), (b, True))


def _sigmoid(x):
    return 1 / (1 + sp.exp(-x))


def _cbrt(x):
    return sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)


def _det(a):
    return (a[0, 0] * (a[1, 1] * a[2, 2] - a[1, 2] * a[2, 1])
            - a[0, 1] * (a[1, 0] * a[2, 2] - a[1, 2] * a[2, 0])
            + a[0, 2] * (a[1, 0] * a[2, 1] - a[1, 1] * a[2, 0]))


def _inv(a):
    def c(i, j, k, l):
        return a[i, j] * a[k, l] - a[i, l] * a[k, j]
    adj = sp.Matrix([
        [c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)],
        [-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)],
        [c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)],
    ])
    det = a[0, 0] * adj[0, 0] + a[0, 1] * adj[1, 0] + a[0, 2] * adj[2, 0]
    return adj * (1 / det)


def _symbols(name, rows, cols):
    """A matrix of symbols name_i_j (a column vector: name_i)."""
    if cols == 1:
        return sp.Matrix(rows, 1, lambda i, j: sp.Symbol(f"{name}_{i}"))
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}_{j}"))


def _svd_numeric(a):
    """Signed SVD a = U diag(sigma) Vh: U and Vh rotations, the sign of det(a) on sigma[2]."""
    a = np.asarray(a, dtype=np.float64).reshape(3, 3)
    if not np.all(np.isfinite(a)):
        nan = np.full((3, 3), np.nan)
        return nan, np.full(3, np.nan), nan
    u, s, vh = np.linalg.svd(a)
    if np.linalg.det(u) < 0:
        u[:, 2] *= -1.0
        s[2] *= -1.0
    if np.linalg.det(vh) < 0:
        vh[2, :] *= -1.0
        s[2] *= -1.0
    return u, s, vh


def _polar_numeric(a):
    u, s, vh = _svd_numeric(a)
    return u @ vh, vh.T @ (s[:, None] * vh)


def _flat(x):
    return list(x) if isinstance(x, sp.MatrixBase) else [x]


# Decompositions in the law: (kind, argument, output symbols).
_DECOMPOSITIONS = []
"#;

const EVALUATE: &str = r#"

_COMPILED = []


def _compile():
    if not _COMPILED:
        symbols = [s for x in _INPUTS for s in _flat(x)] + _PARAMS
        parts = []
        for _, argument, outputs in _DECOMPOSITIONS:
            parts.append(sp.lambdify(symbols, argument, modules="numpy"))
            symbols = symbols + [s for x in outputs for s in _flat(x)]
        _COMPILED.append((parts, sp.lambdify(symbols, law, modules="numpy")))
    return _COMPILED[0]


def evaluate(*inputs, **params):
    """The law at numeric inputs (in signature order) and parameters (defaults: PARAMS)."""
    values = []
    for x in inputs:
        values += list(np.asarray(x, dtype=np.float64).ravel())
    values += [float(params.get(str(p), PARAMS[str(p)])) for p in _PARAMS]
    parts, f = _compile()
    with np.errstate(all="ignore"):
        for (kind, _, _), part in zip(_DECOMPOSITIONS, parts):
            a = np.asarray(part(*values), dtype=np.float64)
            outs = _svd_numeric(a) if kind == "svd" else _polar_numeric(a)
            for o in outs:
                values += list(np.asarray(o, dtype=np.float64).ravel())
        return np.asarray(f(*values), dtype=np.float64).reshape(OUTPUT_SHAPE)
"#;

struct Code {
    text: String,
    ty: Type,
}

struct Emitter<'a> {
    env: &'a HashMap<String, Type>,
    names: &'a HashMap<String, String>,
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("sp.Integer({})", v as i64)
    } else {
        format!("sp.Float({})", float_literal(v))
    }
}

fn shape(ty: Type) -> &'static str {
    match ty {
        Type::Scalar => "1, 1",
        Type::Vec3 => "3, 1",
        Type::Mat3 => "3, 3",
    }
}

impl Emitter<'_> {
    fn lift(&self, c: &Code, to: Type) -> String {
        if c.ty == to || to == Type::Scalar {
            c.text.clone()
        } else {
            format!("_full({}, {})", c.text, shape(to))
        }
    }

    fn expr(&self, e: &Expr) -> Code {
        let ty = type_of(e, self.env);
        let code = |text: String| Code { text, ty };
        match &e.kind {
            ExprKind::Num(v) => code(number(*v)),
            ExprKind::Var(name) => match (self.names.get(name), name.as_str()) {
                (Some(n), _) => code(n.clone()),
                (None, "I") => code("sp.eye(3)".to_string()),
                (None, "pi") => code("sp.pi".to_string()),
                (None, other) => code(other.to_string()),
            },
            ExprKind::Neg(a) => code(format!("(-{})", self.expr(a).text)),
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                code(self.binary(*op, &a, &b, ty))
            }
            ExprKind::Compare(..) => unreachable!("comparisons only inside where"),
            ExprKind::Transpose(a) => code(format!("{}.T", self.expr(a).text)),
            ExprKind::Index(a, idx) => {
                let a = self.expr(a);
                let k = |i: i64| if i < 0 { i + 3 } else { i };
                code(match (a.ty, idx.as_slice()) {
                    (Type::Mat3, [i, j]) => format!("{}[{}, {}]", a.text, k(*i), k(*j)),
                    (Type::Mat3, [i]) => format!("{}[{}, :].T", a.text, k(*i)),
                    (_, [i]) => format!("{}[{}]", a.text, k(*i)),
                    _ => unreachable!("checked indices"),
                })
            }
            ExprKind::Call(name, args) => code(self.call(name, args, ty)),
        }
    }

    fn binary(&self, op: BinOp, a: &Code, b: &Code, ty: Type) -> String {
        use Type::{Mat3 as M, Scalar as S, Vec3 as V};
        let (x, y) = (&a.text, &b.text);
        let scalar_side = a.ty == S || b.ty == S;
        let ew = |f: &str| format!("_ew2({f}, {}, {})", self.lift(a, ty), self.lift(b, ty));
        match op {
            BinOp::Add if ty == S => format!("({x} + {y})"),
            BinOp::Sub if ty == S => format!("({x} - {y})"),
            BinOp::Add => format!("({} + {})", self.lift(a, ty), self.lift(b, ty)),
            BinOp::Sub => format!("({} - {})", self.lift(a, ty), self.lift(b, ty)),
            BinOp::Mul if scalar_side => format!("({x} * {y})"),
            BinOp::Mul => format!("{x}.multiply_elementwise({y})"),
            BinOp::Div if b.ty == S => format!("({x} / {y})"),
            BinOp::Div => ew("lambda p, q: p / q"),
            BinOp::Pow if ty == S => format!("({x} ** {y})"),
            BinOp::Pow => ew("lambda p, q: p ** q"),
            BinOp::MatMul => match (a.ty, b.ty) {
                (V, M) => format!("({x}.T * {y}).T"),
                (V, V) => format!("({x}.T * {y})[0, 0]"),
                _ => format!("({x} * {y})"),
            },
        }
    }

    fn call(&self, name: &str, args: &[Expr], ty: Type) -> String {
        if name == "where" {
            let ExprKind::Compare(op, l, r) = &args[0].kind else {
                unreachable!("checked where")
            };
            let f = match op {
                CmpOp::Lt => "sp.Lt",
                CmpOp::Le => "sp.Le",
                CmpOp::Gt => "sp.Gt",
                CmpOp::Ge => "sp.Ge",
                CmpOp::Eq => "sp.Eq",
                CmpOp::Ne => "sp.Ne",
            };
            let parts: Vec<String> = [l.as_ref(), r.as_ref(), &args[1], &args[2]]
                .iter()
                .map(|e| self.lift(&self.expr(e), ty))
                .collect();
            return format!("_where({f}, {})", parts.join(", "));
        }
        let c: Vec<Code> = args.iter().map(|a| self.expr(a)).collect();
        let x = || c[0].text.clone();
        let unary = |f: &str| {
            if c[0].ty == Type::Scalar {
                format!("{f}({})", c[0].text)
            } else {
                format!("{}.applyfunc({f})", c[0].text)
            }
        };
        let entrywise2 = |f: &str| {
            if ty == Type::Scalar {
                format!("{f}({}, {})", c[0].text, c[1].text)
            } else {
                format!(
                    "_ew2({f}, {}, {})",
                    self.lift(&c[0], ty),
                    self.lift(&c[1], ty)
                )
            }
        };
        match (name, c.len()) {
            ("exp", 1) => unary("sp.exp"),
            ("log", 1) => unary("sp.log"),
            ("sqrt", 1) => unary("sp.sqrt"),
            ("cbrt", 1) => unary("_cbrt"),
            ("abs", 1) => unary("sp.Abs"),
            ("sigmoid", 1) => unary("_sigmoid"),
            ("tanh", 1) => unary("sp.tanh"),
            ("log1p", 1) => unary("(lambda v: sp.log(1 + v))"),
            ("expm1", 1) => unary("(lambda v: sp.exp(v) - 1)"),
            ("sin", 1) => unary("sp.sin"),
            ("cos", 1) => unary("sp.cos"),
            ("pow", 2) => self.binary(BinOp::Pow, &c[0], &c[1], ty),
            ("min", 2) => entrywise2("sp.Min"),
            ("max", 2) => entrywise2("sp.Max"),
            ("clamp", 3) => {
                let [a, lo, hi] = [0, 1, 2].map(|k| self.lift(&c[k], ty));
                if ty == Type::Scalar {
                    format!("sp.Min(sp.Max({a}, {lo}), {hi})")
                } else {
                    format!("_ew2(sp.Min, _ew2(sp.Max, {a}, {lo}), {hi})")
                }
            }
            ("min", 1) => format!("sp.Min(*{})", x()),
            ("max", 1) => format!("sp.Max(*{})", x()),
            ("det", 1) => format!("_det({})", x()),
            ("inv", 1) => format!("_inv({})", x()),
            ("trace", 1) => format!("{}.trace()", x()),
            ("transpose", 1) => format!("{}.T", x()),
            ("diag", 1) => format!("sp.diag(*{})", x()),
            ("diagonal", 1) => format!("sp.Matrix([{a}[0, 0], {a}[1, 1], {a}[2, 2]])", a = x()),
            ("sum", 1) => format!("sp.Add(*{})", x()),
            ("mean", 1) => format!("(sp.Add(*{}) / {})", x(), c[0].ty.len()),
            ("norm", 1) => format!("sp.sqrt(sp.Add(*[v ** 2 for v in {}]))", x()),
            ("prod", 1) => format!("({a}[0] * {a}[1] * {a}[2])", a = x()),
            ("dot", 2) => format!("sp.Add(*{}.multiply_elementwise({}))", x(), c[1].text),
            ("outer", 2) => format!("({} * {}.T)", x(), c[1].text),
            ("vec3", 3) => format!("sp.Matrix([{}, {}, {}])", x(), c[1].text, c[2].text),
            ("sym", 1) => format!("(({a} + {a}.T) / 2)", a = x()),
            ("skew", 1) => format!("(({a} - {a}.T) / 2)", a = x()),
            ("dev", 1) => format!("({a} - {a}.trace() / 3 * sp.eye(3))", a = x()),
            _ => unreachable!("checked call {name}"),
        }
    }
}

pub(crate) fn export(law: &CheckedProgram) -> String {
    let names = rename(law, PYTHON_RESERVED);
    let env = env(law);
    let sig = law.signature();
    let e = Emitter {
        env: &env,
        names: &names,
    };
    let mut out = law_comment(law);
    out.push_str(PRELUDE);
    out.push_str("\n# Inputs and parameters as symbols.\n");
    for (n, t) in &sig.inputs {
        let py = &names[n];
        let _ = match t {
            Type::Scalar => writeln!(out, "{py} = sp.Symbol(\"{py}\")"),
            Type::Vec3 => writeln!(out, "{py} = _symbols(\"{py}\", 3, 1)"),
            Type::Mat3 => writeln!(out, "{py} = _symbols(\"{py}\", 3, 3)"),
        };
    }
    for (n, _) in law.params() {
        let py = &names[&n];
        let _ = writeln!(out, "{py} = sp.Symbol(\"{py}\")");
    }
    out.push_str("\n# The law.\n");
    for s in &law.program().stmts {
        if s.names.len() == 1 {
            let py = names
                .get(&s.names[0].name)
                .cloned()
                .unwrap_or_else(|| "_".to_string());
            let _ = writeln!(out, "{py} = {}", e.expr(&s.value).text);
            continue;
        }
        let ExprKind::Call(call, args) = &s.value.kind else {
            unreachable!("checked destructuring")
        };
        let arg = e.expr(&args[0]).text;
        let shapes: &[(usize, usize)] = if call == "svd" {
            &[(3, 3), (3, 1), (3, 3)]
        } else {
            &[(3, 3), (3, 3)]
        };
        let mut outs = Vec::new();
        for (k, (n, (r, c))) in s.names.iter().zip(shapes).enumerate() {
            let py = names
                .get(&n.name)
                .cloned()
                .unwrap_or_else(|| format!("_{call}{k}_{}", out.len()));
            let _ = writeln!(
                out,
                "{py} = _symbols(\"{py}\", {r}, {c})  # {call}({arg}) [{k}]"
            );
            outs.push(py);
        }
        let _ = writeln!(
            out,
            "_DECOMPOSITIONS.append((\"{call}\", {arg}, ({},)))",
            outs.join(", ")
        );
    }
    let ret = e.expr(&law.program().ret);
    let _ = writeln!(out, "law = {}", ret.text);
    let inputs: Vec<&str> = sig.inputs.iter().map(|(n, _)| names[n].as_str()).collect();
    let params: Vec<String> = law.params().iter().map(|(n, _)| names[n].clone()).collect();
    let _ = write!(
        out,
        "\n_INPUTS = [{}]\n_PARAMS = [{}]\nPARAMS = {{{}}}\nOUTPUT_SHAPE = {}\n",
        inputs.join(", "),
        params.join(", "),
        law.params()
            .iter()
            .map(|(n, v)| format!("\"{}\": {}", names[n], float_literal(*v)))
            .collect::<Vec<_>>()
            .join(", "),
        super::numpy::tail(sig.output)
    );
    out.push_str(EVALUATE);
    out
}
