//! Warnings about laws that pass the checker but likely do not say what their author meant;
//! the feedback shows them above the fit.

use ansatz_grammar::{Expr, ExprKind, Program};

/// The warnings of `program`: a name bound to the third output of `svd` (which is `Vh`,
/// F = U diag(sigma) Vh) that is used transposed, as if it were V.
pub fn warnings(program: &Program) -> Vec<String> {
    let mut out = Vec::new();
    for stmt in &program.stmts {
        let ExprKind::Call(f, _) = &stmt.value.kind else {
            continue;
        };
        if f != "svd" || stmt.names.len() != 3 {
            continue;
        }
        let third = &stmt.names[2].name;
        if third == "_" || third.to_ascii_lowercase().contains('h') {
            continue;
        }
        let exprs = program
            .stmts
            .iter()
            .map(|s| &s.value)
            .chain(std::iter::once(&program.ret));
        if exprs.into_iter().any(|e| transposes(e, third)) {
            out.push(format!(
                "`{third}` is the third output of svd, which is Vh (F = U @ diag(sigma) @ Vh), \
                 not V; `{third}.T` is V. Write U @ diag(...) @ {third} to rebuild a matrix \
                 from F's frames."
            ));
        }
    }
    out
}

/// Whether `e` transposes the name `name` (`name.T` or `transpose(name)`).
fn transposes(e: &Expr, name: &str) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Transpose(a) => {
                if matches!(&a.kind, ExprKind::Var(n) if n == name) {
                    return true;
                }
                stack.push(a);
            }
            ExprKind::Call(f, args) => {
                if f == "transpose"
                    && matches!(args.first().map(|a| &a.kind), Some(ExprKind::Var(n)) if n == name)
                {
                    return true;
                }
                stack.extend(args.iter());
            }
            ExprKind::Num(_) | ExprKind::Var(_) => {}
            ExprKind::Neg(a) | ExprKind::Index(a, _) => stack.push(a),
            ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
                stack.push(a);
                stack.push(b);
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::warnings;
    use ansatz_grammar::parse;

    #[test]
    fn a_transposed_third_svd_output_named_like_v_is_warned() {
        let p = parse("U, S, V = svd(F)\nreturn U @ diag(S) @ V.T").expect("parses");
        let w = warnings(&p);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].contains("`V` is the third output of svd, which is Vh"),
            "{}",
            w[0]
        );
        let p = parse("U, S, V = svd(F)\nreturn transpose(V) @ U").expect("parses");
        assert_eq!(warnings(&p).len(), 1);
        for fine in [
            "U, S, Vh = svd(F)\nreturn U @ diag(S) @ Vh.T",
            "U, S, V = svd(F)\nreturn U @ diag(S) @ V",
            "R, S = polar(F)\nreturn R.T",
        ] {
            assert!(warnings(&parse(fine).expect("parses")).is_empty(), "{fine}");
        }
    }
}
