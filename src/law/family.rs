//! Families of laws: laws that differ only in how their constants are written
//! (`exp(E_log) / (2 * (1 + nu)) * (F @ F.T - I)` and `mu * (F @ F.T - I)`) are one family.
//! The key is the canonical form with every largest subexpression that holds no input
//! replaced by one placeholder; the prompt shows one law of each family.

use ansatz_grammar::{Expr, ExprKind};
use ansatz_grammar::parse;
use std::collections::BTreeSet;

/// The placeholder of a constant subexpression in a family key.
const PLACEHOLDER: &str = "_c";

/// The family key of a law in canonical form (parameters `p0`, `p1`, ...; `I`, `pi` and
/// names bound to constants count as constants, every other free name is an input). A
/// form that does not read back is its own family.
pub fn family(canonical: &str) -> String {
    let body: String = canonical
        .lines()
        .filter(|l| !l.trim_start().starts_with("param "))
        .collect::<Vec<_>>()
        .join("\n");
    let Ok(program) = parse(&body) else {
        return canonical.to_string();
    };
    // Names bound to constants; parameters, `I` and `pi` are constants too.
    let mut constants: BTreeSet<String> = ["I", "pi"].iter().map(|s| s.to_string()).collect();
    let mut out = String::new();
    for stmt in &program.stmts {
        let (value, constant) = collapse(&stmt.value, &constants);
        if constant {
            constants.extend(stmt.names.iter().map(|n| n.name.clone()));
            continue;
        }
        let names: Vec<&str> = stmt.names.iter().map(|n| n.name.as_str()).collect();
        out.push_str(&format!("{} = {value}\n", names.join(", ")));
    }
    let (ret, _) = collapse(&program.ret, &constants);
    out.push_str(&format!("return {ret}"));
    out
}

/// Whether a free name is a constant: a parameter `p<digits>` or a name in `constants`.
fn is_constant(name: &str, constants: &BTreeSet<String>) -> bool {
    constants.contains(name)
        || name
            .strip_prefix('p')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// The expression with its largest constant subexpressions replaced by the placeholder,
/// and whether the whole of it is constant.
fn collapse(e: &Expr, constants: &BTreeSet<String>) -> (Expr, bool) {
    let placeholder = || Expr::new(ExprKind::Var(PLACEHOLDER.into()), e.span);
    let rebuilt = |kind: ExprKind| Expr::new(kind, e.span);
    let (expr, constant) = match &e.kind {
        ExprKind::Num(_) => (e.clone(), true),
        ExprKind::Var(name) => (e.clone(), is_constant(name, constants)),
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
            (rebuilt(ExprKind::Binary(*op, Box::new(a), Box::new(b))), ca && cb)
        }
        ExprKind::Compare(op, a, b) => {
            let (a, ca) = collapse(a, constants);
            let (b, cb) = collapse(b, constants);
            (rebuilt(ExprKind::Compare(*op, Box::new(a), Box::new(b))), ca && cb)
        }
        ExprKind::Call(f, args) => {
            let parts: Vec<(Expr, bool)> = args.iter().map(|a| collapse(a, constants)).collect();
            let c = parts.iter().all(|(_, c)| *c);
            (
                rebuilt(ExprKind::Call(
                    f.clone(),
                    parts.into_iter().map(|(a, _)| a).collect(),
                )),
                c,
            )
        }
    };
    if constant {
        (placeholder(), true)
    } else {
        (expr, false)
    }
}

#[cfg(test)]
mod tests {
    use super::family;

    #[test]
    fn re_parametrisations_share_a_family_and_other_forms_do_not() {
        let a = family("return p0 * (F @ F.T - I)");
        let b = family(
            "mu = exp(p0) / (2 * (1 + p1))\nreturn mu * (F @ F.T - I)"
        );
        assert_eq!(a, b);
        let c = family("return p0 * (F @ F.T - I) + p1 * log(det(F)) * I");
        assert_ne!(a, c);
        let d = family("return p0 * (F.T @ F - I)");
        assert_ne!(a, d);
        // A form that does not read back is its own family.
        assert_eq!(family("return ("), "return (");
    }
}
