//! Back from a DAG to a program of the law language: tuple components become one
//! destructuring (`U, sigma, Vh = svd(F)`), shared subexpressions become bindings (named
//! as in the original law when the e-graph proved them equal to a named binding), the
//! rest is written inline.

use super::dag::Dag;
use super::lang::{Atom, Tensor};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind, Name, Param, Program, Stmt};
use crate::span::Span;
use crate::types::Signature;
use egg::{Id, Language};
use std::collections::{HashMap, HashSet};

/// How names are chosen.
pub(crate) enum Naming<'a> {
    /// Parameters keep their names; a binding takes the name of an original binding of
    /// its e-class (`names`), or a fresh `t1`, `t2`, ...
    Original {
        /// Original binding names by (canonical) e-class.
        names: &'a HashMap<Id, String>,
        /// Names that new bindings must not take (kept original statements).
        reserved: &'a HashSet<String>,
        /// Names of the frozen bindings, by [`Atom::Let`] position.
        lets: &'a [String],
    },
    /// Parameters `p0`, `p1`, ... in order of first appearance; bindings `t0`, `t1`, ...
    Canonical,
}

/// A component of a tuple-valued call: (call, argument node) and position.
fn component(node: &Tensor) -> Option<(&'static str, Id, usize)> {
    Some(match node {
        Tensor::SvdU(a) => ("svd", *a, 0),
        Tensor::SvdS(a) => ("svd", *a, 1),
        Tensor::SvdVh(a) => ("svd", *a, 2),
        Tensor::PolarR(a) => ("polar", *a, 0),
        Tensor::PolarS(a) => ("polar", *a, 1),
        _ => return None,
    })
}

const DEFAULT_NAMES: [(&str, &[&str]); 2] =
    [("svd", &["U", "sigma", "Vh"]), ("polar", &["R", "S"])];

/// Writes `dag` as a program with the parameters `params` (declaration order).
pub(crate) fn raise(
    dag: &Dag,
    signature: &Signature,
    params: &[Param],
    naming: &Naming<'_>,
) -> Program {
    let uses = dag.uses();
    let mut size = vec![0u64; dag.nodes.len()];
    for (i, n) in dag.nodes.iter().enumerate() {
        size[i] = n
            .children()
            .iter()
            .fold(1u64, |s, &c| s.saturating_add(size[usize::from(c)]));
    }
    let original = |i: usize| -> Option<&String> {
        match naming {
            Naming::Original { names, .. } => dag.origin[i].and_then(|c| names.get(&c)),
            Naming::Canonical => None,
        }
    };
    // Parameter names.
    let param_names: Vec<String> = match naming {
        Naming::Original { .. } => params.iter().map(|p| p.name.clone()).collect(),
        Naming::Canonical => {
            let mut order = vec![usize::MAX; params.len()];
            let mut next = 0;
            for_each_preorder(dag, |n| {
                if let Tensor::Atom(Atom::Param(k)) = n
                    && order[*k as usize] == usize::MAX
                {
                    order[*k as usize] = next;
                    next += 1;
                }
            });
            order
                .iter()
                .enumerate()
                .map(|(k, &o)| {
                    if o == usize::MAX {
                        format!("unused{k}")
                    } else {
                        format!("p{o}")
                    }
                })
                .collect()
        }
    };
    let mut taken: HashSet<String> = signature
        .inputs
        .iter()
        .map(|(n, _)| n.clone())
        .chain(param_names.iter().cloned())
        .chain(crate::builtins::FUNCTIONS.iter().map(|f| f.0.to_string()))
        .chain(crate::builtins::CONSTANTS.iter().map(|c| c.to_string()))
        .collect();
    let let_names: &[String] = match naming {
        Naming::Original { reserved, lets, .. } => {
            taken.extend(reserved.iter().cloned());
            taken.extend(lets.iter().cloned());
            lets
        }
        Naming::Canonical => &[],
    };
    let mut counter = match naming {
        Naming::Original { .. } => 1,
        Naming::Canonical => 0,
    };
    let mut fresh = |taken: &mut HashSet<String>, wish: Option<&str>| -> String {
        if let Some(w) = wish
            && !taken.contains(w)
        {
            taken.insert(w.to_string());
            return w.to_string();
        }
        loop {
            let name = match (wish, naming) {
                (Some(w), Naming::Original { .. }) => format!("{w}{counter}"),
                _ => format!("t{counter}"),
            };
            counter += 1;
            if taken.insert(name.clone()) {
                return name;
            }
        }
    };
    // Tuple components present, by (call, argument).
    let mut tuples: HashMap<(&str, Id), [Option<usize>; 3]> = HashMap::new();
    for (i, n) in dag.nodes.iter().enumerate() {
        if let Some((call, arg, k)) = component(n) {
            tuples.entry((call, arg)).or_insert([None; 3])[k] = Some(i);
        }
    }
    let bound: Vec<bool> = (0..dag.nodes.len())
        .map(|i| {
            let n = &dag.nodes[i];
            component(n).is_some()
                || (uses[i] >= 2 && !n.is_leaf() && (size[i] >= 3 || original(i).is_some()))
        })
        .collect();
    let ctx = Ctx {
        params: &param_names,
        lets: let_names,
        signature,
    };
    let mut names: Vec<Option<String>> = vec![None; dag.nodes.len()];
    let mut stmts: Vec<Stmt> = Vec::new();
    let name = |s: &str| Name {
        name: s.to_string(),
        span: Span::default(),
    };
    // Post-order: a binding comes after the bindings it uses.
    for i in postorder(dag) {
        if !bound[i] || names[i].is_some() {
            continue;
        }
        if let Some((call, arg, _)) = component(&dag.nodes[i]) {
            let parts = tuples[&(call, arg)];
            let defaults = DEFAULT_NAMES
                .iter()
                .find(|d| d.0 == call)
                .map(|d| d.1)
                .unwrap_or(&[]);
            let count = if call == "svd" { 3 } else { 2 };
            let mut stmt_names = Vec::with_capacity(count);
            for (k, part) in parts.iter().take(count).enumerate() {
                match part {
                    Some(j) => {
                        let wish = original(*j).map(String::as_str).or(match naming {
                            Naming::Original { .. } => Some(defaults[k]),
                            Naming::Canonical => None,
                        });
                        let n = fresh(&mut taken, wish);
                        names[*j] = Some(n.clone());
                        stmt_names.push(name(&n));
                    }
                    None => stmt_names.push(name("_")),
                }
            }
            let value = call_expr(call, vec![build(dag, usize::from(arg), &names, &ctx)]);
            stmts.push(Stmt {
                names: stmt_names,
                value,
                span: Span::default(),
            });
            continue;
        }
        if i == dag.root() {
            continue;
        }
        let value = build(dag, i, &names, &ctx);
        let n = fresh(&mut taken, original(i).map(String::as_str));
        names[i] = Some(n.clone());
        stmts.push(Stmt {
            names: vec![name(&n)],
            value,
            span: Span::default(),
        });
    }
    let ret = match &names[dag.root()] {
        Some(v) => var(v),
        None => build(dag, dag.root(), &names, &ctx),
    };
    Program {
        params: params
            .iter()
            .zip(&param_names)
            .map(|(p, n)| Param {
                name: n.clone(),
                value: p.value,
                span: Span::default(),
            })
            .collect(),
        stmts,
        ret,
        ret_span: Span::default(),
    }
}

/// Node indices in post-order from the root (children left to right, each node once).
fn postorder(dag: &Dag) -> Vec<usize> {
    let mut seen = vec![false; dag.nodes.len()];
    let mut out = Vec::new();
    let mut stack = vec![(dag.root(), false)];
    while let Some((i, expanded)) = stack.pop() {
        if expanded {
            out.push(i);
            continue;
        }
        if seen[i] {
            continue;
        }
        seen[i] = true;
        stack.push((i, true));
        for &c in dag.nodes[i].children().iter().rev() {
            if !seen[usize::from(c)] {
                stack.push((usize::from(c), false));
            }
        }
    }
    out
}

/// Calls `f` on every node reachable from the root in pre-order (children left to right).
fn for_each_preorder(dag: &Dag, mut f: impl FnMut(&Tensor)) {
    let mut seen = vec![false; dag.nodes.len()];
    let mut stack = vec![dag.root()];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        f(&dag.nodes[i]);
        for &c in dag.nodes[i].children().iter().rev() {
            stack.push(usize::from(c));
        }
    }
}

fn e(kind: ExprKind) -> Expr {
    Expr::new(kind, Span::default())
}

fn var(name: &str) -> Expr {
    e(ExprKind::Var(name.to_string()))
}

fn call_expr(name: &str, args: Vec<Expr>) -> Expr {
    e(ExprKind::Call(name.to_string(), args))
}

/// A number as the law language writes it: `pi`, a small fraction `p / q`, or a literal
/// (negative numbers as a negation).
pub(crate) fn number_expr(v: f64) -> Expr {
    if v == std::f64::consts::PI {
        return var("pi");
    }
    if v < 0.0 {
        return e(ExprKind::Neg(Box::new(number_expr(-v))));
    }
    if v.fract() != 0.0 {
        for q in 2..=12u32 {
            let p = v * f64::from(q);
            if p.fract() == 0.0 && p <= 10_000.0 && p / f64::from(q) == v {
                return e(ExprKind::Binary(
                    BinOp::Div,
                    Box::new(e(ExprKind::Num(p))),
                    Box::new(e(ExprKind::Num(f64::from(q)))),
                ));
            }
        }
    }
    e(ExprKind::Num(v))
}

fn index_of(dag: &Dag, c: Id) -> i64 {
    match &dag.nodes[usize::from(c)] {
        Tensor::Num(n) => n.value() as i64,
        _ => unreachable!("indices are numbers"),
    }
}

/// Names of the atoms.
struct Ctx<'a> {
    params: &'a [String],
    lets: &'a [String],
    signature: &'a Signature,
}

/// The expression of node `i`; nodes with a name are written as that name.
fn build(dag: &Dag, i: usize, names: &[Option<String>], ctx: &Ctx<'_>) -> Expr {
    let sub = |c: &Id| -> Expr {
        let c = usize::from(*c);
        match &names[c] {
            Some(n) => var(n),
            None => build(dag, c, names, ctx),
        }
    };
    let bx = |c: &Id| Box::new(sub(c));
    let bin = |op: BinOp, [a, b]: &[Id; 2]| e(ExprKind::Binary(op, bx(a), bx(b)));
    let f1 = |name: &str, a: &Id| call_expr(name, vec![sub(a)]);
    let f2 = |name: &str, [a, b]: &[Id; 2]| call_expr(name, vec![sub(a), sub(b)]);
    let where_ = |op: CmpOp, [l, r, a, b]: &[Id; 4]| {
        call_expr(
            "where",
            vec![e(ExprKind::Compare(op, bx(l), bx(r))), sub(a), sub(b)],
        )
    };
    match &dag.nodes[i] {
        Tensor::Add(c) => bin(BinOp::Add, c),
        Tensor::Sub(c) => bin(BinOp::Sub, c),
        Tensor::Mul(c) => bin(BinOp::Mul, c),
        Tensor::Div(c) => bin(BinOp::Div, c),
        Tensor::Pow(c) => bin(BinOp::Pow, c),
        Tensor::MatMul(c) => bin(BinOp::MatMul, c),
        Tensor::Neg(a) => e(ExprKind::Neg(bx(a))),
        Tensor::Transpose(a) => e(ExprKind::Transpose(bx(a))),
        Tensor::Exp(a) => f1("exp", a),
        Tensor::Log(a) => f1("log", a),
        Tensor::Sqrt(a) => f1("sqrt", a),
        Tensor::Cbrt(a) => f1("cbrt", a),
        Tensor::Abs(a) => f1("abs", a),
        Tensor::Sigmoid(a) => f1("sigmoid", a),
        Tensor::Tanh(a) => f1("tanh", a),
        Tensor::Log1p(a) => f1("log1p", a),
        Tensor::Expm1(a) => f1("expm1", a),
        Tensor::Sin(a) => f1("sin", a),
        Tensor::Cos(a) => f1("cos", a),
        Tensor::Min(c) => f2("min", c),
        Tensor::Max(c) => f2("max", c),
        Tensor::Clamp([x, lo, hi]) => call_expr("clamp", vec![sub(x), sub(lo), sub(hi)]),
        Tensor::WhereLt(c) => where_(CmpOp::Lt, c),
        Tensor::WhereLe(c) => where_(CmpOp::Le, c),
        Tensor::WhereEq(c) => where_(CmpOp::Eq, c),
        Tensor::WhereNe(c) => where_(CmpOp::Ne, c),
        Tensor::Det(a) => f1("det", a),
        Tensor::Inv(a) => f1("inv", a),
        Tensor::Trace(a) => f1("trace", a),
        Tensor::Diag(a) => f1("diag", a),
        Tensor::Diagonal(a) => f1("diagonal", a),
        Tensor::Sum(a) => f1("sum", a),
        Tensor::Prod(a) => f1("prod", a),
        Tensor::Mean(a) => f1("mean", a),
        Tensor::Norm(a) => f1("norm", a),
        Tensor::Dot(c) => f2("dot", c),
        Tensor::Outer(c) => f2("outer", c),
        Tensor::Vec3([a, b, c]) => call_expr("vec3", vec![sub(a), sub(b), sub(c)]),
        Tensor::Sym(a) => f1("sym", a),
        Tensor::Skew(a) => f1("skew", a),
        Tensor::Dev(a) => f1("dev", a),
        Tensor::ReduceMin(a) => f1("min", a),
        Tensor::ReduceMax(a) => f1("max", a),
        Tensor::SvdU(_)
        | Tensor::SvdS(_)
        | Tensor::SvdVh(_)
        | Tensor::PolarR(_)
        | Tensor::PolarS(_) => {
            unreachable!("tuple components are always bound to names")
        }
        Tensor::At([v, k]) => e(ExprKind::Index(bx(v), vec![index_of(dag, *k)])),
        Tensor::Row([m, k]) => e(ExprKind::Index(bx(m), vec![index_of(dag, *k)])),
        Tensor::At2([m, r, c]) => e(ExprKind::Index(
            bx(m),
            vec![index_of(dag, *r), index_of(dag, *c)],
        )),
        Tensor::Identity => var("I"),
        Tensor::Num(n) => number_expr(n.value()),
        Tensor::Atom(Atom::Input(k)) => var(&ctx.signature.inputs[*k as usize].0),
        Tensor::Atom(Atom::Param(k)) => var(&ctx.params[*k as usize]),
        Tensor::Atom(Atom::Let(k)) => var(&ctx.lets[*k as usize]),
    }
}
