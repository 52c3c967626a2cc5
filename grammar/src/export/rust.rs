//! The Rust export: a module over nalgebra with a `Params` struct (defaults from the
//! `param` declarations) and `law(inputs, &Params)` in f64, the engine's signed SVD
//! included. Only `nalgebra` is needed to compile it.

use super::float_literal;
use super::names::{RUST_RESERVED, rename};
use super::typing::{env, type_of};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind};
use crate::check::CheckedProgram;
use crate::types::Type;
use std::collections::HashMap;
use std::fmt::Write;

const HELPERS: &str = r#"
#[allow(dead_code)]
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

#[allow(dead_code)]
fn min(a: f64, b: f64) -> f64 {
    if b < a { b } else { a }
}

#[allow(dead_code)]
fn max(a: f64, b: f64) -> f64 {
    if b > a { b } else { a }
}

#[allow(dead_code)]
fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    min(max(x, lo), hi)
}

/// Entrywise `f` of two arrays of one shape.
#[allow(dead_code)]
fn mm<const R: usize, const C: usize>(
    a: SMatrix<f64, R, C>,
    b: SMatrix<f64, R, C>,
    f: impl Fn(f64, f64) -> f64,
) -> SMatrix<f64, R, C> {
    a.zip_map(&b, f)
}

/// Entrywise `f` of a scalar and an array.
#[allow(dead_code)]
fn sm<const R: usize, const C: usize>(
    a: f64,
    b: SMatrix<f64, R, C>,
    f: impl Fn(f64, f64) -> f64,
) -> SMatrix<f64, R, C> {
    b.map(|y| f(a, y))
}

/// Entrywise `f` of an array and a scalar.
#[allow(dead_code)]
fn ms<const R: usize, const C: usize>(
    a: SMatrix<f64, R, C>,
    b: f64,
    f: impl Fn(f64, f64) -> f64,
) -> SMatrix<f64, R, C> {
    a.map(|x| f(x, b))
}

/// Entrywise `f` of three arrays of one shape.
#[allow(dead_code)]
fn mmm<const R: usize, const C: usize>(
    a: SMatrix<f64, R, C>,
    b: SMatrix<f64, R, C>,
    c: SMatrix<f64, R, C>,
    f: impl Fn(f64, f64, f64) -> f64,
) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|i, j| f(a[(i, j)], b[(i, j)], c[(i, j)]))
}

/// Entrywise `where(test(l, r), a, b)` over arrays of one shape.
#[allow(dead_code)]
fn select<const R: usize, const C: usize>(
    l: SMatrix<f64, R, C>,
    r: SMatrix<f64, R, C>,
    a: SMatrix<f64, R, C>,
    b: SMatrix<f64, R, C>,
    test: impl Fn(f64, f64) -> bool,
) -> SMatrix<f64, R, C> {
    SMatrix::from_fn(|i, j| if test(l[(i, j)], r[(i, j)]) { a[(i, j)] } else { b[(i, j)] })
}

/// Inverse by the adjugate (a singular matrix gives infinite or NaN entries).
#[allow(dead_code)]
fn inv3(a: Matrix3<f64>) -> Matrix3<f64> {
    let c = |i: usize, j: usize, k: usize, l: usize| a[(i, j)] * a[(k, l)] - a[(i, l)] * a[(k, j)];
    let adj = Matrix3::new(
        c(1, 1, 2, 2),
        -c(0, 1, 2, 2),
        c(0, 1, 1, 2),
        -c(1, 0, 2, 2),
        c(0, 0, 2, 2),
        -c(0, 0, 1, 2),
        c(1, 0, 2, 1),
        -c(0, 0, 2, 1),
        c(0, 0, 1, 1),
    );
    let det = a[(0, 0)] * adj[(0, 0)] + a[(0, 1)] * adj[(1, 0)] + a[(0, 2)] * adj[(2, 0)];
    adj * (1.0 / det)
}

/// Signed SVD `a = U diag(sigma) Vh`: `U` and `Vh` rotations, `sigma[0] >= sigma[1] >=
/// |sigma[2]|`, the sign of `det(a)` on `sigma[2]`; NaN for a non-finite matrix.
#[allow(dead_code)]
fn svd_signed(a: Matrix3<f64>) -> (Matrix3<f64>, Vector3<f64>, Matrix3<f64>) {
    let nan = (
        Matrix3::from_element(f64::NAN),
        Vector3::from_element(f64::NAN),
        Matrix3::from_element(f64::NAN),
    );
    if !a.iter().all(|x| x.is_finite()) {
        return nan;
    }
    let svd = a.svd(true, true);
    let (Some(mut u), Some(mut vh)) = (svd.u, svd.v_t) else {
        return nan;
    };
    let mut s = svd.singular_values;
    if u.determinant() < 0.0 {
        u.column_mut(2).neg_mut();
        s[2] = -s[2];
    }
    if vh.determinant() < 0.0 {
        vh.row_mut(2).neg_mut();
        s[2] = -s[2];
    }
    (u, s, vh)
}

/// Polar decomposition `a = R S`: `R = U Vh`, `S = Vh^T diag(sigma) Vh`.
#[allow(dead_code)]
fn polar(a: Matrix3<f64>) -> (Matrix3<f64>, Matrix3<f64>) {
    let (u, s, vh) = svd_signed(a);
    (u * vh, vh.transpose() * Matrix3::from_diagonal(&s) * vh)
}
"#;

fn rust_type(ty: Type) -> &'static str {
    match ty {
        Type::Scalar => "f64",
        Type::Vec3 => "Vector3<f64>",
        Type::Mat3 => "Matrix3<f64>",
    }
}

struct Code {
    text: String,
    ty: Type,
}

struct Emitter<'a> {
    env: &'a HashMap<String, Type>,
    names: &'a HashMap<String, String>,
}

fn test_closure(op: CmpOp) -> String {
    format!("|x: f64, y: f64| x {} y", op.symbol())
}

impl Emitter<'_> {
    fn lift(&self, c: &Code, to: Type) -> String {
        match (c.ty, to) {
            (a, b) if a == b => c.text.clone(),
            (Type::Scalar, Type::Mat3) => format!("Matrix3::from_element({})", c.text),
            (Type::Scalar, Type::Vec3) => format!("Vector3::from_element({})", c.text),
            _ => c.text.clone(),
        }
    }

    fn expr(&self, e: &Expr) -> Code {
        let ty = type_of(e, self.env);
        let code = |text: String| Code { text, ty };
        match &e.kind {
            ExprKind::Num(v) => code(float_literal(*v)),
            ExprKind::Var(n) => match (self.names.get(n), n.as_str()) {
                (Some(r), _) => code(r.clone()),
                (None, "I") => code("Matrix3::<f64>::identity()".to_string()),
                (None, "pi") => code("std::f64::consts::PI".to_string()),
                (None, other) => code(other.to_string()),
            },
            ExprKind::Neg(a) => code(format!("(-{})", self.expr(a).text)),
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                code(self.binary(*op, &a, &b))
            }
            ExprKind::Compare(..) => unreachable!("comparisons only inside where"),
            ExprKind::Transpose(a) => code(format!("{}.transpose()", self.expr(a).text)),
            ExprKind::Index(a, idx) => {
                let a = self.expr(a);
                let k = |i: i64| if i < 0 { i + 3 } else { i };
                code(match (a.ty, idx.as_slice()) {
                    (Type::Mat3, [i, j]) => format!("{}[({}, {})]", a.text, k(*i), k(*j)),
                    (Type::Mat3, [i]) => format!("{}.row({}).transpose()", a.text, k(*i)),
                    (_, [i]) => format!("{}[{}]", a.text, k(*i)),
                    _ => unreachable!("checked indices"),
                })
            }
            ExprKind::Call(n, args) => code(self.call(n, args, ty)),
        }
    }

    fn binary(&self, op: BinOp, a: &Code, b: &Code) -> String {
        use Type::{Mat3 as M, Scalar as S, Vec3 as V};
        let (x, y) = (&a.text, &b.text);
        let closure = |sym: &str| format!("|x, y| x {sym} y");
        let ew = |f: String| match (a.ty, b.ty) {
            (S, S) => unreachable!("scalars handled apart"),
            (S, _) => format!("sm({x}, {y}, {f})"),
            (_, S) => format!("ms({x}, {y}, {f})"),
            _ => format!("mm({x}, {y}, {f})"),
        };
        match (op, a.ty, b.ty) {
            (BinOp::MatMul, V, V) => format!("{x}.dot(&{y})"),
            (BinOp::MatMul, V, M) => format!("({y}.transpose() * {x})"),
            (BinOp::MatMul, _, _) => format!("({x} * {y})"),
            (BinOp::Pow, S, S) => format!("f64::powf({x}, {y})"),
            (BinOp::Pow, _, _) => ew("f64::powf".to_string()),
            (_, S, S) => format!("({x} {} {y})", op.symbol()),
            (BinOp::Add | BinOp::Sub, ta, tb) if ta == tb => {
                format!("({x} {} {y})", op.symbol())
            }
            (BinOp::Mul, S, _) | (BinOp::Mul, _, S) | (BinOp::Div, _, S) => {
                format!("({x} {} {y})", op.symbol())
            }
            (BinOp::Mul, _, _) => format!("{x}.component_mul(&{y})"),
            (BinOp::Div, ta, tb) if ta == tb => format!("{x}.component_div(&{y})"),
            (op, _, _) => ew(closure(op.symbol())),
        }
    }

    fn call(&self, n: &str, args: &[Expr], ty: Type) -> String {
        if n == "where" {
            let ExprKind::Compare(op, l, r) = &args[0].kind else {
                unreachable!("checked where")
            };
            let parts: Vec<Code> = [l.as_ref(), r.as_ref(), &args[1], &args[2]]
                .iter()
                .map(|e| self.expr(e))
                .collect();
            if ty == Type::Scalar {
                return format!(
                    "(if {} {} {} {{ {} }} else {{ {} }})",
                    parts[0].text,
                    op.symbol(),
                    parts[1].text,
                    parts[2].text,
                    parts[3].text
                );
            }
            let lifted: Vec<String> = parts.iter().map(|c| self.lift(c, ty)).collect();
            return format!("select({}, {})", lifted.join(", "), test_closure(*op));
        }
        let c: Vec<Code> = args.iter().map(|a| self.expr(a)).collect();
        let x = || c[0].text.clone();
        let unary = |f: &str| {
            if c[0].ty == Type::Scalar {
                format!("{f}({})", c[0].text)
            } else {
                format!("{}.map({f})", c[0].text)
            }
        };
        match (n, c.len()) {
            ("exp", 1) => unary("f64::exp"),
            ("log", 1) => unary("f64::ln"),
            ("sqrt", 1) => unary("f64::sqrt"),
            ("cbrt", 1) => unary("f64::cbrt"),
            ("abs", 1) => unary("f64::abs"),
            ("sigmoid", 1) => unary("sigmoid"),
            ("tanh", 1) => unary("f64::tanh"),
            ("log1p", 1) => unary("f64::ln_1p"),
            ("expm1", 1) => unary("f64::exp_m1"),
            ("sin", 1) => unary("f64::sin"),
            ("cos", 1) => unary("f64::cos"),
            ("pow", 2) => self.binary(BinOp::Pow, &c[0], &c[1]),
            ("min" | "max", 2) if ty == Type::Scalar => format!("{n}({}, {})", x(), c[1].text),
            ("min" | "max", 2) => {
                format!(
                    "mm({}, {}, {n})",
                    self.lift(&c[0], ty),
                    self.lift(&c[1], ty)
                )
            }
            ("clamp", 3) if ty == Type::Scalar => {
                format!("clamp({}, {}, {})", x(), c[1].text, c[2].text)
            }
            ("clamp", 3) => format!(
                "mmm({}, {}, {}, clamp)",
                self.lift(&c[0], ty),
                self.lift(&c[1], ty),
                self.lift(&c[2], ty)
            ),
            ("min", 1) => format!("{}.min()", x()),
            ("max", 1) => format!("{}.max()", x()),
            ("det", 1) => format!("{}.determinant()", x()),
            ("inv", 1) => format!("inv3({})", x()),
            ("trace", 1) => format!("{}.trace()", x()),
            ("transpose", 1) => format!("{}.transpose()", x()),
            ("diag", 1) => format!("Matrix3::from_diagonal(&{})", x()),
            ("diagonal", 1) => format!("{}.diagonal()", x()),
            ("sum", 1) => format!("{}.sum()", x()),
            ("mean", 1) => format!("{}.mean()", x()),
            ("norm", 1) => format!("{}.norm()", x()),
            ("prod", 1) => format!("{}.product()", x()),
            ("dot", 2) => format!("{}.dot(&{})", x(), c[1].text),
            ("outer", 2) => format!("({} * {}.transpose())", x(), c[1].text),
            ("vec3", 3) => format!("Vector3::new({}, {}, {})", x(), c[1].text, c[2].text),
            ("sym", 1) => format!("{{ let a = {}; (a + a.transpose()) * 0.5 }}", x()),
            ("skew", 1) => format!("{{ let a = {}; (a - a.transpose()) * 0.5 }}", x()),
            ("dev", 1) => format!(
                "{{ let a = {}; a - Matrix3::<f64>::identity() * (a.trace() / 3.0) }}",
                x()
            ),
            _ => unreachable!("checked call {n}"),
        }
    }
}

pub(crate) fn export(law: &CheckedProgram) -> String {
    let names = rename(law, RUST_RESERVED);
    let env = env(law);
    let sig = law.signature();
    let e = Emitter {
        env: &env,
        names: &names,
    };
    let mut out = String::from("// Generated by `ansatz export`. The law (signature ");
    let _ = writeln!(out, "{sig}):");
    for line in law.program().to_string().lines() {
        let _ = writeln!(out, "//     {line}");
    }
    out.push_str("\nuse nalgebra::{Matrix3, SMatrix, Vector3};\n\n");
    out.push_str("/// The parameters of the law (`Default`: the values of its `param` lines).\n");
    out.push_str("#[derive(Clone, Copy, Debug, PartialEq)]\npub struct Params {\n");
    for (n, _) in law.params() {
        let _ = writeln!(out, "    pub {}: f64,", names[&n]);
    }
    out.push_str("}\n\nimpl Default for Params {\n    fn default() -> Self {\n        Params {\n");
    for (n, v) in law.params() {
        let _ = writeln!(out, "            {}: {},", names[&n], float_literal(v));
    }
    out.push_str("        }\n    }\n}\n\n");
    let args: Vec<String> = sig
        .inputs
        .iter()
        .map(|(n, t)| match t {
            Type::Scalar => format!("{}: f64", names[n]),
            _ => format!("{}: &{}", names[n], rust_type(*t)),
        })
        .collect();
    let _ = writeln!(
        out,
        "/// The law `{sig}`.\n#[allow(non_snake_case, unused_variables, unused_parens, clippy::all)]\npub fn law({}, params: &Params) -> {} {{",
        args.join(", "),
        rust_type(sig.output)
    );
    for (n, t) in &sig.inputs {
        if *t != Type::Scalar {
            let _ = writeln!(out, "    let {0} = *{0};", names[n]);
        }
    }
    for (n, _) in law.params() {
        let _ = writeln!(out, "    let {0} = params.{0};", names[&n]);
    }
    for s in &law.program().stmts {
        let lhs: Vec<String> = s
            .names
            .iter()
            .map(|n| {
                names
                    .get(&n.name)
                    .cloned()
                    .unwrap_or_else(|| "_".to_string())
            })
            .collect();
        if s.names.len() > 1 {
            let ExprKind::Call(call, args) = &s.value.kind else {
                unreachable!("checked destructuring")
            };
            let f = if call == "svd" { "svd_signed" } else { "polar" };
            let _ = writeln!(
                out,
                "    let ({}) = {f}({});",
                lhs.join(", "),
                e.expr(&args[0]).text
            );
        } else {
            let _ = writeln!(out, "    let {} = {};", lhs[0], e.expr(&s.value).text);
        }
    }
    let _ = writeln!(out, "    {}\n}}", e.expr(&law.program().ret).text);
    out.push_str(HELPERS);
    out
}
