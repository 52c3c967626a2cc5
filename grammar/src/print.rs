//! The canonical printer: parameters first, then bindings, then `return`; operators with
//! single spaces, the fewest parentheses that keep the tree, numbers in the shortest form
//! that reads back to the same `f64`. `parse(&p.to_string()) == Ok(p)` for every program
//! the parser produces (number literals are non-negative there).

use crate::ast::{BinOp, Expr, ExprKind, Program, Stmt};
use std::fmt::{self, Write};

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.params {
            writeln!(f, "param {} = {}", p.name, number(p.value))?;
        }
        for s in &self.stmts {
            writeln!(f, "{s}")?;
        }
        write!(f, "return {}", self.ret)
    }
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.names.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&n.name)?;
        }
        write!(f, " = {}", self.value)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_expr(&mut s, self)?;
        f.write_str(&s)
    }
}

/// The canonical text of a number: integers below 1e16 without a fraction (`2`,
/// `30000`), others in the shortest form that parses back to exactly `v` (`0.49`, `1e-5`).
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v}")
    } else {
        format!("{v:?}")
    }
}

/// Binding strength: 1 comparison, 2 `+ -`, 3 `* / @`, 4 unary minus, 5 `**`, 6 postfix/atom.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Compare(..) => 1,
        ExprKind::Binary(op, ..) => op_prec(*op),
        ExprKind::Neg(_) => 4,
        ExprKind::Num(v) if v.is_sign_negative() => 4,
        _ => 6,
    }
}

fn op_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Add | BinOp::Sub => 2,
        BinOp::Mul | BinOp::Div | BinOp::MatMul => 3,
        BinOp::Pow => 5,
    }
}

/// The operand of `.T` or `[..]` needs parentheses unless it is a name or a call
/// (`(2).T`: the text `2.T` would read as the number `2.` followed by `T`).
fn postfix_parens(a: &Expr) -> bool {
    prec(a) < 6 || matches!(a.kind, ExprKind::Num(_))
}

fn wrapped(out: &mut String, e: &Expr, parens: bool) -> fmt::Result {
    if parens {
        out.push('(');
        write_expr(out, e)?;
        out.push(')');
        Ok(())
    } else {
        write_expr(out, e)
    }
}

fn write_expr(out: &mut String, e: &Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Num(v) => out.push_str(&number(*v)),
        ExprKind::Var(name) => out.push_str(name),
        ExprKind::Neg(a) => {
            out.push('-');
            wrapped(out, a, prec(a) <= 4)?;
        }
        ExprKind::Binary(op, a, b) => {
            let p = op_prec(*op);
            let (left, right) = if *op == BinOp::Pow {
                (prec(a) <= p, prec(b) < 4)
            } else {
                (prec(a) < p, prec(b) <= p)
            };
            wrapped(out, a, left)?;
            write!(out, " {} ", op.symbol())?;
            wrapped(out, b, right)?;
        }
        ExprKind::Compare(op, a, b) => {
            wrapped(out, a, prec(a) <= 1)?;
            write!(out, " {} ", op.symbol())?;
            wrapped(out, b, prec(b) <= 1)?;
        }
        ExprKind::Call(name, args) => {
            out.push_str(name);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a)?;
            }
            out.push(')');
        }
        ExprKind::Transpose(a) => {
            wrapped(out, a, postfix_parens(a))?;
            out.push_str(".T");
        }
        ExprKind::Index(a, idx) => {
            wrapped(out, a, postfix_parens(a))?;
            out.push('[');
            for (i, k) in idx.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write!(out, "{k}")?;
            }
            out.push(']');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::parse;

    fn canon(src: &str) -> String {
        parse(src).unwrap().to_string()
    }

    #[test]
    fn minimal_parentheses() {
        assert_eq!(
            canon("return ((a + b) * c) - (d - e)"),
            "return (a + b) * c - (d - e)"
        );
        assert_eq!(
            canon("return -x**2 + (-x)**2 + x**-2 + a**b**c + (a**b)**c"),
            "return -x ** 2 + (-x) ** 2 + x ** -2 + a ** b ** c + (a ** b) ** c"
        );
        assert_eq!(
            canon("return (F @ F.T).T[0, 1] + -(-a)"),
            "return (F @ F.T).T[0, 1] + -(-a)"
        );
        assert_eq!(
            canon("return where((a > b), 3e4, .5)"),
            "return where(a > b, 30000, 0.5)"
        );
        assert_eq!(
            canon("param p = -1e-5\nreturn a / (b / c) / d"),
            "param p = -1e-5\nreturn a / (b / c) / d"
        );
    }
}
