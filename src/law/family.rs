//! Families of laws: laws that differ only in how their constants are written
//! (`exp(E_log) / (2 * (1 + nu)) * (F @ F.T - I)` and `mu * (F @ F.T - I)`) are one family.
//!
//! The key is computed from the law as written: every largest subexpression that depends on
//! no input (parameters, numbers, names bound to such expressions) becomes a parameter of its
//! own, and the resulting law's e-graph canonical hash is the family. So the constant parts
//! may be spelled in any way (a modulus from Young's modulus and Poisson's ratio, or the Lamé
//! constants directly), and the rest is compared up to the algebra the e-graph knows
//! (operand order, inlined bindings). The prompt shows one law of each family.

use ansatz_grammar::egraph;
use ansatz_grammar::{CheckedProgram, Expr, ExprKind, Program, check};
use std::collections::BTreeSet;

/// The family key of a law (`f:` and 16 hex digits), or `None` when the law with its
/// constant parts made parameters does not check (a constant part that is not a scalar).
pub fn family(law: &CheckedProgram) -> Option<String> {
    let program = law.program();
    let prefix = fresh_prefix(program);
    let mut constants: BTreeSet<String> = program.params.iter().map(|p| p.name.clone()).collect();
    let mut made = 0usize;
    let mut text = String::new();
    for stmt in &program.stmts {
        let (value, constant) = collapse(&stmt.value, &constants);
        if constant {
            constants.extend(stmt.names.iter().map(|n| n.name.clone()));
            continue;
        }
        let value = name_placeholders(&value, &prefix, &mut made);
        let names: Vec<&str> = stmt.names.iter().map(|n| n.name.as_str()).collect();
        text.push_str(&format!("{} = {value}\n", names.join(", ")));
    }
    let (ret, constant) = collapse(&program.ret, &constants);
    if constant {
        // A law of constants only: one family per type of output.
        return Some(format!("f:constant {}", law.signature().output));
    }
    let ret = name_placeholders(&ret, &prefix, &mut made);
    text.push_str(&format!("return {ret}\n"));
    let params: String = (0..made)
        .map(|k| format!("param {prefix}{k} = 1\n"))
        .collect();
    let collapsed = ansatz_grammar::parse(&format!("{params}{text}")).ok()?;
    let checked = check(&collapsed, law.signature()).ok()?;
    Some(format!("f:{}", egraph::canonical(&checked).hash_hex()))
}

/// The placeholder of a constant subexpression before it gets its parameter name.
const PLACEHOLDER: &str = "\u{1}";

/// A prefix for the new parameters that no name of the program starts with.
fn fresh_prefix(program: &Program) -> String {
    let mut names: Vec<&str> = program.params.iter().map(|p| p.name.as_str()).collect();
    for s in &program.stmts {
        names.extend(s.names.iter().map(|n| n.name.as_str()));
    }
    let mut prefix = String::from("c_");
    while names.iter().any(|n| n.starts_with(&prefix)) {
        prefix.insert(0, 'c');
    }
    prefix
}

/// Whether `e` (already collapsed) is a placeholder.
fn is_placeholder(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Var(n) if n == PLACEHOLDER)
}

/// The expression with its largest constant subexpressions replaced by the placeholder,
/// and whether the whole of it is constant. Inputs, `I` (a matrix) and every name not in
/// `constants` count as non-constant.
fn collapse(e: &Expr, constants: &BTreeSet<String>) -> (Expr, bool) {
    let rebuilt = |kind: ExprKind| Expr::new(kind, e.span);
    let (expr, constant) = match &e.kind {
        ExprKind::Num(_) => (e.clone(), true),
        ExprKind::Var(name) => (e.clone(), constants.contains(name) || name == "pi"),
        ExprKind::Neg(a) => {
            let (a, c) = collapse(a, constants);
            (rebuilt(ExprKind::Neg(Box::new(a))), c)
        }
        ExprKind::Transpose(a) => {
            let (a, c) = collapse(a, constants);
            (rebuilt(ExprKind::Transpose(Box::new(a))), c)
        }
        ExprKind::Index(a, idx) => {
            let (a, c) = collapse(a, constants);
            (rebuilt(ExprKind::Index(Box::new(a), idx.clone())), c)
        }
        ExprKind::Binary(op, a, b) => {
            let (a, ca) = collapse(a, constants);
            let (b, cb) = collapse(b, constants);
            let (a, b) = if ca && cb {
                (a, b)
            } else {
                (seal(a, ca), seal(b, cb))
            };
            (
                rebuilt(ExprKind::Binary(*op, Box::new(a), Box::new(b))),
                ca && cb,
            )
        }
        ExprKind::Compare(op, a, b) => {
            let (a, ca) = collapse(a, constants);
            let (b, cb) = collapse(b, constants);
            let (a, b) = if ca && cb {
                (a, b)
            } else {
                (seal(a, ca), seal(b, cb))
            };
            (
                rebuilt(ExprKind::Compare(*op, Box::new(a), Box::new(b))),
                ca && cb,
            )
        }
        ExprKind::Call(f, args) => {
            let parts: Vec<(Expr, bool)> = args.iter().map(|a| collapse(a, constants)).collect();
            let c = parts.iter().all(|(_, c)| *c);
            let args = parts
                .into_iter()
                .map(|(a, ca)| if c { a } else { seal(a, ca) })
                .collect();
            (rebuilt(ExprKind::Call(f.clone(), args)), c)
        }
    };
    (expr, constant)
}

/// A constant operand of a non-constant expression becomes the placeholder.
fn seal(e: Expr, constant: bool) -> Expr {
    if constant && !is_placeholder(&e) {
        Expr::new(ExprKind::Var(PLACEHOLDER.into()), e.span)
    } else {
        e
    }
}

/// Names the placeholders `{prefix}0`, `{prefix}1`, ... in order of appearance.
fn name_placeholders(e: &Expr, prefix: &str, made: &mut usize) -> Expr {
    let mut go = |a: &Expr| Box::new(name_placeholders(a, prefix, made));
    let kind = match &e.kind {
        ExprKind::Var(n) if n == PLACEHOLDER => {
            let name = format!("{prefix}{made}");
            *made += 1;
            ExprKind::Var(name)
        }
        ExprKind::Num(_) | ExprKind::Var(_) => return e.clone(),
        ExprKind::Neg(a) => ExprKind::Neg(go(a)),
        ExprKind::Transpose(a) => ExprKind::Transpose(go(a)),
        ExprKind::Index(a, idx) => ExprKind::Index(go(a), idx.clone()),
        ExprKind::Binary(op, a, b) => {
            let a = go(a);
            ExprKind::Binary(*op, a, go(b))
        }
        ExprKind::Compare(op, a, b) => {
            let a = go(a);
            ExprKind::Compare(*op, a, go(b))
        }
        ExprKind::Call(f, args) => ExprKind::Call(
            f.clone(),
            args.iter()
                .map(|a| name_placeholders(a, prefix, made))
                .collect(),
        ),
    };
    Expr::new(kind, e.span)
}

#[cfg(test)]
mod tests {
    use super::family;
    use ansatz_grammar::{Signature, load};

    fn fam(law: &str) -> Option<String> {
        family(&load(law, &Signature::elastic()).expect("law"))
    }

    #[test]
    fn re_parametrisations_share_a_family_and_other_forms_do_not() {
        let lame =
            fam("param mu = 1e5\nparam la = 1e5\nreturn mu * (F @ F.T - I) + la * log(det(F)) * I");
        assert!(lame.is_some());
        let neo = fam(
            "param e = 13\nparam s = 0\nE = exp(e)\nnu = 0.49 * sigmoid(s)\n\
             mu = E / (2 * (1 + nu))\nla = E * nu / ((1 + nu) * (1 - 2 * nu))\nJ = det(F)\n\
             return mu * (F @ F.T - I) + la * log(J) * I",
        );
        assert_eq!(lame, neo);
        // Operand order and names do not matter.
        let swapped =
            fam("param a = 2\nparam b = 3\nreturn I * log(det(F)) * b + (F @ F.T - I) * exp(a)");
        assert_eq!(lame, swapped);
        // A different form is a different family.
        let a = fam("param k = 1\nreturn k * (F @ F.T - I)");
        let b = fam("param k = 1\nreturn exp(k) / 2 * (F @ F.T - I)");
        assert_eq!(a, b);
        assert_ne!(a, lame);
        assert_ne!(a, fam("param k = 1\nreturn k * (F.T @ F - I)"));
        assert_ne!(
            lame,
            fam("param mu = 1\nparam la = 1\nreturn mu * (F @ F.T - I) + la * (det(F) - 1) * I")
        );
        // A name of the law that looks like a made parameter does not clash.
        let clash = fam("param c_0 = 1\nreturn c_0 * (F @ F.T - I)");
        assert_eq!(clash, a);
    }
}
