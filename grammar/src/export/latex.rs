//! The LaTeX export: an `aligned` block with one line per binding and a last line for
//! the law. Matrices are bold (`\mathbf{F}^\top`), vectors bold italic, Greek names
//! (`mu`, `nu`, `sigma`, `eps`, ...) become letters, the rest of a name after `_` a
//! subscript; elementwise products of matrices are `\odot`, matrix products
//! juxtaposition.

use super::typing::{env, type_of};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind};
use crate::check::CheckedProgram;
use crate::types::Type;
use std::collections::HashMap;
use std::fmt::Write;

/// Binding strength of LaTeX output: sum, product, unary minus, power base, atom.
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const NEG: u8 = 3;
const ATOM: u8 = 5;

const GREEK: &[(&str, &str)] = &[
    ("alpha", r"\alpha"),
    ("beta", r"\beta"),
    ("gamma", r"\gamma"),
    ("Gamma", r"\Gamma"),
    ("delta", r"\delta"),
    ("Delta", r"\Delta"),
    ("eps", r"\varepsilon"),
    ("epsilon", r"\varepsilon"),
    ("zeta", r"\zeta"),
    ("eta", r"\eta"),
    ("theta", r"\theta"),
    ("Theta", r"\Theta"),
    ("kappa", r"\kappa"),
    ("la", r"\lambda"),
    ("lam", r"\lambda"),
    ("lmbda", r"\lambda"),
    ("lambda", r"\lambda"),
    ("Lambda", r"\Lambda"),
    ("mu", r"\mu"),
    ("nu", r"\nu"),
    ("xi", r"\xi"),
    ("rho", r"\rho"),
    ("sigma", r"\sigma"),
    ("Sigma", r"\Sigma"),
    ("tau", r"\tau"),
    ("phi", r"\phi"),
    ("Phi", r"\Phi"),
    ("chi", r"\chi"),
    ("psi", r"\psi"),
    ("Psi", r"\Psi"),
    ("omega", r"\omega"),
    ("Omega", r"\Omega"),
    ("dgamma", r"\Delta\gamma"),
];

fn escape(s: &str) -> String {
    s.replace('_', r"\_")
}

/// A name of the law in LaTeX, bold for vectors and matrices.
fn name(n: &str, ty: Type) -> String {
    let (base, rest) = match n.split_once('_') {
        Some((b, r)) if !b.is_empty() && !r.is_empty() => (b, Some(r)),
        _ => (n, None),
    };
    let greek = GREEK.iter().find(|g| g.0 == base).map(|g| g.1);
    let single = base.chars().count() == 1;
    let (head, sub) = match (greek, single, rest) {
        (Some(g), _, _) => (g.to_string(), rest),
        (None, true, _) => (base.to_string(), rest),
        (None, false, _) => (format!(r"\mathrm{{{}}}", escape(n)), None),
    };
    let head = match (ty, greek.is_some()) {
        (Type::Scalar, _) => head,
        (Type::Mat3, false) if single => format!(r"\mathbf{{{head}}}"),
        _ => format!(r"\boldsymbol{{{head}}}"),
    };
    match sub {
        Some(s) => format!(r"{head}_{{\mathrm{{{}}}}}", escape(s)),
        None => head,
    }
}

/// A number: integers plain, others in decimal or as `m \times 10^{k}`.
fn number(v: f64) -> String {
    let s = crate::print::number(v);
    match s.split_once('e') {
        Some((m, k)) => {
            let k = k.trim_start_matches('+');
            if m == "1" {
                format!("10^{{{k}}}")
            } else {
                format!(r"{m} \times 10^{{{k}}}")
            }
        }
        None => s,
    }
}

struct Tex {
    text: String,
    prec: u8,
    ty: Type,
}

struct Emitter<'a> {
    env: &'a HashMap<String, Type>,
}

fn paren(t: &Tex, below: u8) -> String {
    if t.prec < below {
        format!(r"\left({}\right)", t.text)
    } else {
        t.text.clone()
    }
}

fn op_name(name: &str) -> &'static str {
    match name {
        "sigmoid" => r"\operatorname{sigmoid}",
        "trace" => r"\operatorname{tr}",
        "diag" => r"\operatorname{diag}",
        "diagonal" => r"\operatorname{diagonal}",
        "sum" => r"\operatorname{sum}",
        "mean" => r"\operatorname{mean}",
        "prod" => r"\operatorname{prod}",
        "sym" => r"\operatorname{sym}",
        "skew" => r"\operatorname{skew}",
        "dev" => r"\operatorname{dev}",
        "clamp" => r"\operatorname{clamp}",
        "tanh" => r"\tanh",
        "sin" => r"\sin",
        "cos" => r"\cos",
        "min" => r"\min",
        "max" => r"\max",
        "det" => r"\det",
        _ => r"\operatorname{f}",
    }
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Lt => "<",
        CmpOp::Le => r"\le",
        CmpOp::Gt => ">",
        CmpOp::Ge => r"\ge",
        CmpOp::Eq => "=",
        CmpOp::Ne => r"\ne",
    }
}

impl Emitter<'_> {
    fn expr(&self, e: &Expr) -> Tex {
        let ty = type_of(e, self.env);
        let tex = |text: String, prec: u8| Tex { text, prec, ty };
        match &e.kind {
            ExprKind::Num(v) => tex(number(*v), ATOM),
            ExprKind::Var(n) => match n.as_str() {
                "I" if !self.env.contains_key(n) => tex(r"\mathbf{I}".to_string(), ATOM),
                "pi" if !self.env.contains_key(n) => tex(r"\pi".to_string(), ATOM),
                _ => tex(name(n, ty), ATOM),
            },
            ExprKind::Neg(a) => tex(format!("-{}", paren(&self.expr(a), NEG + 1)), NEG),
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                self.binary(*op, &a, &b, ty)
            }
            ExprKind::Compare(op, a, b) => tex(
                format!("{} {} {}", self.expr(a).text, cmp(*op), self.expr(b).text),
                SUM,
            ),
            ExprKind::Transpose(a) => tex(format!(r"{}^\top", paren(&self.expr(a), ATOM)), ATOM),
            ExprKind::Index(a, idx) => {
                let a = self.expr(a);
                let k: Vec<String> = idx
                    .iter()
                    .map(|i| (if *i < 0 { i + 3 } else { *i }).to_string())
                    .collect();
                tex(format!(r"\left[{}\right]_{{{}}}", a.text, k.join("")), ATOM)
            }
            ExprKind::Call(n, args) => self.call(n, args, ty),
        }
    }

    fn binary(&self, op: BinOp, a: &Tex, b: &Tex, ty: Type) -> Tex {
        let tex = |text: String, prec: u8| Tex { text, prec, ty };
        let both_mat = a.ty != Type::Scalar && b.ty != Type::Scalar;
        match op {
            BinOp::Add => tex(format!("{} + {}", a.text, paren(b, SUM + 1)), SUM),
            BinOp::Sub => tex(format!("{} - {}", a.text, paren(b, PRODUCT)), SUM),
            BinOp::Mul if both_mat => tex(
                format!(r"{} \odot {}", paren(a, PRODUCT), paren(b, NEG + 1)),
                PRODUCT,
            ),
            BinOp::Mul => {
                let digits = |t: &Tex| t.text.starts_with(|c: char| c.is_ascii_digit());
                let sep = if digits(b) { r" \cdot " } else { r" \, " };
                tex(
                    format!("{}{sep}{}", paren(a, PRODUCT), paren(b, NEG + 1)),
                    PRODUCT,
                )
            }
            BinOp::Div if both_mat => tex(
                format!(r"{} \oslash {}", paren(a, PRODUCT), paren(b, NEG + 1)),
                PRODUCT,
            ),
            BinOp::Div => tex(format!(r"\frac{{{}}}{{{}}}", a.text, b.text), PRODUCT + 1),
            BinOp::Pow => {
                let circ = if a.ty == Type::Scalar { "" } else { r"\circ " };
                tex(format!("{}^{{{circ}{}}}", paren(a, ATOM), b.text), ATOM - 1)
            }
            BinOp::MatMul => match (a.ty, b.ty) {
                (Type::Vec3, Type::Vec3) => tex(
                    format!(r"{} \cdot {}", paren(a, ATOM), paren(b, ATOM)),
                    PRODUCT,
                ),
                (Type::Vec3, _) => tex(
                    format!(r"{}^\top {}", paren(a, ATOM), paren(b, PRODUCT + 1)),
                    PRODUCT,
                ),
                _ => tex(
                    format!("{} {}", paren(a, PRODUCT), paren(b, PRODUCT + 1)),
                    PRODUCT,
                ),
            },
        }
    }

    fn call(&self, n: &str, args: &[Expr], ty: Type) -> Tex {
        let tex = |text: String, prec: u8| Tex { text, prec, ty };
        if n == "where" {
            let cond = self.expr(&args[0]).text;
            let (a, b) = (self.expr(&args[1]).text, self.expr(&args[2]).text);
            return tex(
                format!(
                    r"\begin{{cases}} {a} & \text{{if }} {cond} \\ {b} & \text{{otherwise}} \end{{cases}}"
                ),
                ATOM,
            );
        }
        let c: Vec<Tex> = args.iter().map(|a| self.expr(a)).collect();
        let list = || {
            c.iter()
                .map(|t| t.text.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let applied = |f: &str| tex(format!(r"{f}\left({}\right)", list()), ATOM);
        match n {
            "exp" => tex(format!(r"\exp\left({}\right)", c[0].text), ATOM),
            "log" => tex(format!(r"\ln\left({}\right)", c[0].text), ATOM),
            "sqrt" => tex(format!(r"\sqrt{{{}}}", c[0].text), ATOM),
            "cbrt" => tex(format!(r"\sqrt[3]{{{}}}", c[0].text), ATOM),
            "abs" => tex(format!(r"\left|{}\right|", c[0].text), ATOM),
            "log1p" => tex(format!(r"\ln\left(1 + {}\right)", c[0].text), ATOM),
            "expm1" => tex(format!(r"\exp\left({}\right) - 1", c[0].text), SUM),
            "pow" => self.binary(BinOp::Pow, &c[0], &c[1], ty),
            "inv" => tex(format!("{}^{{-1}}", paren(&c[0], ATOM)), ATOM),
            "transpose" => tex(format!(r"{}^\top", paren(&c[0], ATOM)), ATOM),
            "norm" => tex(format!(r"\left\lVert {} \right\rVert", c[0].text), ATOM),
            "dot" if c[0].ty == Type::Mat3 => tex(
                format!(r"{} : {}", paren(&c[0], ATOM), paren(&c[1], ATOM)),
                PRODUCT,
            ),
            "dot" => tex(
                format!(r"{} \cdot {}", paren(&c[0], ATOM), paren(&c[1], ATOM)),
                PRODUCT,
            ),
            "outer" => tex(
                format!(r"{} \otimes {}", paren(&c[0], ATOM), paren(&c[1], ATOM)),
                PRODUCT,
            ),
            "vec3" => tex(
                format!(
                    r"\begin{{pmatrix}} {} \\ {} \\ {} \end{{pmatrix}}",
                    c[0].text, c[1].text, c[2].text
                ),
                ATOM,
            ),
            _ => applied(op_name(n)),
        }
    }
}

pub(crate) fn export(law: &CheckedProgram) -> String {
    let env = env(law);
    let e = Emitter { env: &env };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "% Generated by `ansatz export` (signature {}).",
        law.signature()
    );
    if !law.params().is_empty() {
        let ps: Vec<String> = law
            .params()
            .iter()
            .map(|(n, v)| format!("{} = {}", name(n, Type::Scalar), number(*v)))
            .collect();
        let _ = writeln!(out, "% Parameters: ${}$", ps.join(", "));
    }
    out.push_str("\\begin{aligned}\n");
    for s in &law.program().stmts {
        let lhs: Vec<String> = s
            .names
            .iter()
            .map(|n| {
                if n.name == "_" {
                    r"\_".to_string()
                } else {
                    name(&n.name, env.get(&n.name).copied().unwrap_or(Type::Scalar))
                }
            })
            .collect();
        let rhs = match &s.value.kind {
            ExprKind::Call(call, args) if s.names.len() > 1 => {
                format!(
                    r"\operatorname{{{call}}}\left({}\right)",
                    e.expr(&args[0]).text
                )
            }
            _ => e.expr(&s.value).text,
        };
        let _ = writeln!(out, r"{} &= {rhs} \\", lhs.join(", "));
    }
    let inputs: Vec<String> = law
        .signature()
        .inputs
        .iter()
        .map(|(n, t)| name(n, *t))
        .collect();
    let _ = writeln!(
        out,
        r"\operatorname{{law}}\left({}\right) &= {}",
        inputs.join(", "),
        e.expr(&law.program().ret).text
    );
    out.push_str("\\end{aligned}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(name("mu", Type::Scalar), r"\mu");
        assert_eq!(
            name("eps_bar", Type::Vec3),
            r"\boldsymbol{\varepsilon}_{\mathrm{bar}}"
        );
        assert_eq!(name("F", Type::Mat3), r"\mathbf{F}");
        assert_eq!(name("F_water", Type::Mat3), r"\mathbf{F}_{\mathrm{water}}");
        assert_eq!(
            name("youngs_modulus_log", Type::Scalar),
            r"\mathrm{youngs\_modulus\_log}"
        );
        assert_eq!(number(1e-5), "10^{-5}");
        assert_eq!(number(3e4), "30000");
        assert_eq!(number(0.49), "0.49");
    }
}
