//! Helpers on the law AST for the operators: addressing subexpressions, inferring their
//! types, renaming, pruning dead code and importing the definitions an expression needs
//! from another program.
//!
//! Everything here is cheap and approximate in one direction only: a type inferred here
//! is what the checker would infer, or `None` when unsure. Every program built from these
//! pieces is printed, parsed and checked again before it is offered.

use ansatz_grammar::{BinOp, Expr, ExprKind, Name, Param, Program, Span, Stmt, Type};
use std::collections::{BTreeMap, BTreeSet};

/// Names and types visible in a program: inputs, parameters, bindings and constants.
pub(crate) type Env = BTreeMap<String, Type>;

/// Which expression of a program a path starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    /// The value of statement `i`.
    Stmt(usize),
    /// The returned expression.
    Ret,
}

/// One subexpression: where it is and its type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Site {
    /// The statement or return it is in.
    pub root: Root,
    /// Child indices from the root expression down to the node.
    pub path: Vec<usize>,
    /// Its type.
    pub ty: Type,
    /// True for numbers and names.
    pub leaf: bool,
}

/// Elementwise functions of one argument (`x -> x`).
pub(crate) const UNARY_ELEMENTWISE: &[&str] = &[
    "exp", "log", "sqrt", "cbrt", "abs", "sigmoid", "tanh", "log1p", "expm1", "sin", "cos",
];

/// A node with a default span.
pub(crate) fn node(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

/// `a op b`.
pub(crate) fn binary(op: BinOp, a: Expr, b: Expr) -> Expr {
    node(ExprKind::Binary(op, Box::new(a), Box::new(b)))
}

/// A name.
pub(crate) fn var(name: &str) -> Expr {
    node(ExprKind::Var(name.to_string()))
}

/// A number literal; negative values become `-(|v|)` as the parser writes them.
pub(crate) fn num(v: f64) -> Expr {
    if v < 0.0 {
        node(ExprKind::Neg(Box::new(node(ExprKind::Num(-v)))))
    } else {
        node(ExprKind::Num(v))
    }
}

/// A parameter declaration.
pub(crate) fn param(name: &str, value: f64) -> Param {
    Param {
        name: name.to_string(),
        value,
        span: Span::default(),
    }
}

/// The children of a node, in order.
pub(crate) fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Num(_) | ExprKind::Var(_) => Vec::new(),
        ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => vec![a],
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => vec![a, b],
        ExprKind::Call(_, args) => args.iter().collect(),
    }
}

fn child_mut(e: &mut Expr, i: usize) -> Option<&mut Expr> {
    match &mut e.kind {
        ExprKind::Num(_) | ExprKind::Var(_) => None,
        ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => {
            (i == 0).then_some(a.as_mut())
        }
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => match i {
            0 => Some(a.as_mut()),
            1 => Some(b.as_mut()),
            _ => None,
        },
        ExprKind::Call(_, args) => args.get_mut(i),
    }
}

/// The root expression of `root` in `p`.
pub(crate) fn root_expr(p: &Program, root: Root) -> Option<&Expr> {
    match root {
        Root::Stmt(i) => p.stmts.get(i).map(|s| &s.value),
        Root::Ret => Some(&p.ret),
    }
}

fn root_expr_mut(p: &mut Program, root: Root) -> Option<&mut Expr> {
    match root {
        Root::Stmt(i) => p.stmts.get_mut(i).map(|s| &mut s.value),
        Root::Ret => Some(&mut p.ret),
    }
}

/// The node at `site` in `p`.
pub(crate) fn expr_at<'p>(p: &'p Program, root: Root, path: &[usize]) -> Option<&'p Expr> {
    let mut e = root_expr(p, root)?;
    for &i in path {
        e = *children(e).get(i)?;
    }
    Some(e)
}

/// The node at `site` in `p`, mutably.
pub(crate) fn expr_at_mut<'p>(
    p: &'p mut Program,
    root: Root,
    path: &[usize],
) -> Option<&'p mut Expr> {
    let mut e = root_expr_mut(p, root)?;
    for &i in path {
        e = child_mut(e, i)?;
    }
    Some(e)
}

/// Replaces the node at `site` by `new`; false when the site does not exist.
pub(crate) fn replace_at(p: &mut Program, site: &Site, new: Expr) -> bool {
    match expr_at_mut(p, site.root, &site.path) {
        Some(e) => {
            *e = new;
            true
        }
        None => false,
    }
}

/// The environment of a checked program: its bindings plus the constants `I` and `pi`.
pub(crate) fn env_of(law: &ansatz_grammar::CheckedProgram) -> Env {
    let mut env: Env = law
        .bindings()
        .iter()
        .map(|b| (b.name.clone(), b.ty))
        .collect();
    env.entry("I".to_string()).or_insert(Type::Mat3);
    env.entry("pi".to_string()).or_insert(Type::Scalar);
    env
}

fn broadcast(a: Type, b: Type) -> Option<Type> {
    match (a, b) {
        _ if a == b => Some(a),
        (Type::Scalar, t) | (t, Type::Scalar) => Some(t),
        _ => None,
    }
}

/// The type of a value expression, or `None` (comparisons, tuple-valued calls, type
/// errors, anything unsure).
pub(crate) fn infer(e: &Expr, env: &Env) -> Option<Type> {
    match &e.kind {
        ExprKind::Num(_) => Some(Type::Scalar),
        ExprKind::Var(n) => env.get(n).copied(),
        ExprKind::Neg(a) => infer(a, env),
        ExprKind::Transpose(a) => (infer(a, env)? == Type::Mat3).then_some(Type::Mat3),
        ExprKind::Compare(..) => None,
        ExprKind::Index(a, idx) => match (infer(a, env)?, idx.len()) {
            (Type::Vec3, 1) | (Type::Mat3, 2) => Some(Type::Scalar),
            (Type::Mat3, 1) => Some(Type::Vec3),
            _ => None,
        },
        ExprKind::Binary(op, a, b) => {
            let (ta, tb) = (infer(a, env)?, infer(b, env)?);
            if *op == BinOp::MatMul {
                match (ta, tb) {
                    (Type::Mat3, Type::Mat3) => Some(Type::Mat3),
                    (Type::Mat3, Type::Vec3) | (Type::Vec3, Type::Mat3) => Some(Type::Vec3),
                    (Type::Vec3, Type::Vec3) => Some(Type::Scalar),
                    _ => None,
                }
            } else {
                broadcast(ta, tb)
            }
        }
        ExprKind::Call(f, args) => infer_call(f, args, env),
    }
}

fn infer_call(f: &str, args: &[Expr], env: &Env) -> Option<Type> {
    let arg = |i: usize| args.get(i).and_then(|a| infer(a, env));
    let one = |from: Type, to: Type| (args.len() == 1 && arg(0)? == from).then_some(to);
    match f {
        _ if UNARY_ELEMENTWISE.contains(&f) => (args.len() == 1).then(|| arg(0)).flatten(),
        "pow" if args.len() == 2 => broadcast(arg(0)?, arg(1)?),
        "min" | "max" if args.len() == 2 => broadcast(arg(0)?, arg(1)?),
        "min" | "max" | "sum" | "mean" | "norm" if args.len() == 1 => {
            (arg(0)? != Type::Scalar).then_some(Type::Scalar)
        }
        "clamp" if args.len() == 3 => broadcast(broadcast(arg(0)?, arg(1)?)?, arg(2)?),
        "where" if args.len() == 3 => broadcast(arg(1)?, arg(2)?),
        "det" | "trace" => one(Type::Mat3, Type::Scalar),
        "inv" | "transpose" | "sym" | "skew" | "dev" => one(Type::Mat3, Type::Mat3),
        "diag" => one(Type::Vec3, Type::Mat3),
        "diagonal" => one(Type::Mat3, Type::Vec3),
        "prod" => one(Type::Vec3, Type::Scalar),
        "dot" if args.len() == 2 => {
            (arg(0)? == arg(1)? && arg(0)? != Type::Scalar).then_some(Type::Scalar)
        }
        "outer" if args.len() == 2 => {
            (arg(0)? == Type::Vec3 && arg(1)? == Type::Vec3).then_some(Type::Mat3)
        }
        "vec3" if args.len() == 3 => (0..3)
            .all(|i| arg(i) == Some(Type::Scalar))
            .then_some(Type::Vec3),
        _ => None,
    }
}

/// Every typed subexpression of `p`, statements first, in a fixed order.
pub(crate) fn sites(p: &Program, env: &Env) -> Vec<Site> {
    let mut out = Vec::new();
    let roots = (0..p.stmts.len())
        .map(Root::Stmt)
        .chain(std::iter::once(Root::Ret));
    for root in roots {
        if let Some(e) = root_expr(p, root) {
            let mut path = Vec::new();
            collect_sites(e, root, &mut path, env, &mut out);
        }
    }
    out
}

fn collect_sites(e: &Expr, root: Root, path: &mut Vec<usize>, env: &Env, out: &mut Vec<Site>) {
    if let Some(ty) = infer(e, env) {
        out.push(Site {
            root,
            path: path.clone(),
            ty,
            leaf: matches!(e.kind, ExprKind::Num(_) | ExprKind::Var(_)),
        });
    }
    for (i, c) in children(e).into_iter().enumerate() {
        path.push(i);
        collect_sites(c, root, path, env, out);
        path.pop();
    }
}

/// Names an expression refers to (parameters, bindings, inputs and constants).
pub(crate) fn free_vars(e: &Expr, out: &mut BTreeSet<String>) {
    if let ExprKind::Var(n) = &e.kind {
        out.insert(n.clone());
    }
    for c in children(e) {
        free_vars(c, out);
    }
}

/// Renames variables by `map` (names not in it are kept).
pub(crate) fn rename(e: &mut Expr, map: &BTreeMap<String, String>) {
    if let ExprKind::Var(n) = &mut e.kind
        && let Some(new) = map.get(n.as_str())
    {
        n.clone_from(new);
    }
    let n = children(e).len();
    for i in 0..n {
        if let Some(c) = child_mut(e, i) {
            rename(c, map);
        }
    }
}

/// The input names and every binding that depends on an input (directly or through
/// other bindings): the names whose subexpressions vary with the data.
pub(crate) fn live_names<'a>(
    p: &Program,
    inputs: impl IntoIterator<Item = &'a str>,
) -> BTreeSet<String> {
    let mut live: BTreeSet<String> = inputs.into_iter().map(str::to_string).collect();
    for s in &p.stmts {
        if depends(&s.value, &live) {
            live.extend(s.names.iter().map(|n| n.name.clone()));
        }
    }
    live
}

/// True when `e` refers to a name of `live`.
pub(crate) fn depends(e: &Expr, live: &BTreeSet<String>) -> bool {
    match &e.kind {
        ExprKind::Var(n) => live.contains(n),
        _ => children(e).into_iter().any(|c| depends(c, live)),
    }
}

/// Number of expression nodes of the whole program (what the language limits count).
pub(crate) fn size(p: &Program) -> usize {
    p.stmts.iter().map(|s| s.value.size()).sum::<usize>() + p.ret.size()
}

/// Every name declared in `p` (parameters and bound names, `_` excluded).
pub(crate) fn declared(p: &Program) -> BTreeSet<String> {
    p.params
        .iter()
        .map(|q| q.name.clone())
        .chain(
            p.stmts
                .iter()
                .flat_map(|s| s.names.iter().map(|n| n.name.clone())),
        )
        .filter(|n| n != "_")
        .collect()
}

/// A name `prefix{k}` (smallest k >= 1) not in `taken`.
pub(crate) fn fresh(prefix: &str, taken: &BTreeSet<String>) -> String {
    (1..)
        .map(|k| format!("{prefix}{k}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| prefix.to_string())
}

/// Drops statements and parameters the return value does not depend on.
pub(crate) fn prune(p: &mut Program) {
    let mut used = BTreeSet::new();
    free_vars(&p.ret, &mut used);
    let mut keep = vec![false; p.stmts.len()];
    for (i, s) in p.stmts.iter().enumerate().rev() {
        if s.names.iter().any(|n| used.contains(&n.name)) {
            keep[i] = true;
            free_vars(&s.value, &mut used);
        }
    }
    let mut k = keep.into_iter();
    p.stmts.retain(|_| k.next().unwrap_or(false));
    p.params.retain(|q| used.contains(&q.name));
}

/// Orders statements so that every name is bound before it is used, keeping the given
/// order where it already is valid; `None` on a cycle.
pub(crate) fn toposort(stmts: Vec<Stmt>) -> Option<Vec<Stmt>> {
    let bound_here: BTreeSet<String> = stmts
        .iter()
        .flat_map(|s| s.names.iter().map(|n| n.name.clone()))
        .collect();
    let deps: Vec<BTreeSet<String>> = stmts
        .iter()
        .map(|s| {
            let mut v = BTreeSet::new();
            free_vars(&s.value, &mut v);
            v.retain(|n| bound_here.contains(n));
            v
        })
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<Option<Stmt>> = stmts.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(pending.len());
    while out.len() < pending.len() {
        let next = (0..pending.len())
            .find(|&i| pending[i].is_some() && deps[i].iter().all(|d| done.contains(d)))?;
        let s = pending[next].take()?;
        done.extend(s.names.iter().map(|n| n.name.clone()));
        out.push(s);
    }
    Some(out)
}

/// Copies into `dst` the parameters and statements of `src` that `e` (an expression of
/// `src`) depends on, and returns `e` with its names mapped to their names in `dst`.
///
/// A parameter of the same name in `dst` is shared (it keeps `dst`'s value); a statement
/// identical to one of `dst` (after renaming) is shared; any other clash is renamed with a
/// numeric suffix. Statements are appended; call [`toposort`] on the result.
pub(crate) fn import(dst: &mut Program, src: &Program, e: &Expr) -> Expr {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    let mut wanted = BTreeSet::new();
    free_vars(e, &mut wanted);
    // Statements of src that e needs, transitively (walk src's statements backwards).
    let mut needed = vec![false; src.stmts.len()];
    for (i, s) in src.stmts.iter().enumerate().rev() {
        if s.names.iter().any(|n| wanted.contains(&n.name)) {
            needed[i] = true;
            free_vars(&s.value, &mut wanted);
        }
    }
    let mut taken = declared(dst);
    for q in &src.params {
        if !wanted.contains(&q.name) || dst.params.iter().any(|d| d.name == q.name) {
            continue;
        }
        let name = if taken.contains(&q.name) {
            fresh(&format!("{}_", q.name), &taken)
        } else {
            q.name.clone()
        };
        taken.insert(name.clone());
        map.insert(q.name.clone(), name.clone());
        dst.params.push(param(&name, q.value));
    }
    for (i, s) in src.stmts.iter().enumerate() {
        if !needed[i] {
            continue;
        }
        let mut value = s.value.clone();
        rename(&mut value, &map);
        let same = dst.stmts.iter().any(|d| {
            d.value == value
                && d.names.len() == s.names.len()
                && d.names.iter().zip(&s.names).all(|(a, b)| a.name == b.name)
        });
        if same {
            continue;
        }
        let names = s
            .names
            .iter()
            .map(|n| {
                if n.name == "_" {
                    return n.clone();
                }
                let name = if taken.contains(&n.name) {
                    fresh(&format!("{}_", n.name), &taken)
                } else {
                    n.name.clone()
                };
                taken.insert(name.clone());
                map.insert(n.name.clone(), name.clone());
                Name {
                    name,
                    span: Span::default(),
                }
            })
            .collect();
        dst.stmts.push(Stmt {
            names,
            value,
            span: Span::default(),
        });
    }
    let mut out = e.clone();
    rename(&mut out, &map);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansatz_grammar::{Signature, load, parse};

    #[test]
    fn infer_matches_the_checker_on_shipped_laws() {
        for src in crate::evolve::library::SHIPPED {
            let law = load(src, &Signature::elastic()).expect("shipped law checks");
            let env = env_of(&law);
            assert_eq!(infer(&law.program().ret, &env), Some(Type::Mat3));
            for s in &law.program().stmts {
                if s.names.len() == 1 {
                    assert_eq!(infer(&s.value, &env), env.get(&s.names[0].name).copied());
                }
            }
        }
    }

    #[test]
    fn import_renames_clashes_and_shares_identical_statements() {
        let mut a = parse("param k = 1\nJ = det(F)\nreturn k * J * I").expect("parses");
        let b = parse("param k = 2\nJ = trace(F)\nE = exp(k)\nreturn E * J * F").expect("parses");
        let e = import(&mut a, &b, &b.ret);
        a.ret = binary(BinOp::Add, a.ret.clone(), e);
        a.stmts = toposort(std::mem::take(&mut a.stmts)).expect("acyclic");
        assert_eq!(
            a.to_string(),
            "param k = 1\nJ = det(F)\nJ_1 = trace(F)\nE = exp(k)\nreturn k * J * I + E * J_1 * F"
        );
        load(&a.to_string(), &Signature::elastic()).expect("checks");
    }

    #[test]
    fn prune_drops_dead_statements_and_parameters() {
        let mut p =
            parse("param a = 1\nparam b = 2\nx = a * F\ny = b * F\nreturn x").expect("parses");
        prune(&mut p);
        assert_eq!(p.to_string(), "param a = 1\nx = a * F\nreturn x");
    }
}
