//! The variation operators, on the typed AST. Each takes parents (and library donors) and
//! returns a child program, or `None` when it does not apply; the caller prunes, checks,
//! hashes and deduplicates the child.

use super::hosts::Host;
use super::tree::{
    self, Root, Site, UNARY_ELEMENTWISE, binary, declared, fresh, import, node, num, param, var,
};
use ansatz_grammar::{BinOp, Expr, ExprKind, Program};
use ansatz_simulator::MaterialKind;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

/// Probability that an operator only looks at subexpressions that vary with the inputs
/// (not at parameter-only ones such as the Lamé constants).
const LIVE_BIAS: f64 = 0.9;

/// The candidates that vary with the inputs, most of the time (all of them otherwise, or
/// when none does).
fn prefer_live<T: Clone>(
    rng: &mut ChaCha8Rng,
    host: &Host,
    items: &[T],
    at: impl Fn(&T) -> (Root, &[usize]),
) -> Vec<T> {
    let live: Vec<T> = items
        .iter()
        .filter(|x| {
            let (root, path) = at(x);
            host.is_live(root, path)
        })
        .cloned()
        .collect();
    if !live.is_empty() && rng.random_bool(LIVE_BIAS) {
        live
    } else {
        items.to_vec()
    }
}

/// A child before checking.
#[derive(Clone, Debug)]
pub(crate) struct Child {
    pub program: Program,
    pub parents: Vec<usize>,
    pub operator: &'static str,
}

/// What the operators read.
pub(crate) struct Pool<'a> {
    /// Parsed parents.
    pub hosts: &'a [Host],
    /// Library forms (donors for crossover and blend).
    pub library: &'a [Host],
    /// Building blocks for `insert_term`.
    pub terms: &'a [Host],
    /// Elastic or plastic (scales of new coefficients).
    pub kind: MaterialKind,
}

/// Functions that may replace one another (same argument and result types).
const FUNCTION_GROUPS: &[&[&str]] = &[
    UNARY_ELEMENTWISE,
    &["det", "trace", "norm", "sum", "mean"],
    &["sym", "skew", "dev", "transpose", "inv"],
    &["min", "max"],
    &["sum", "mean", "norm", "prod"],
];

/// Picks the better of two random hosts (lower loss; NaN counts as +inf).
pub(crate) fn tournament<'h>(rng: &mut ChaCha8Rng, hosts: &'h [Host]) -> Option<&'h Host> {
    let a = hosts.choose(rng)?;
    let b = hosts.choose(rng)?;
    let key = |h: &Host| {
        if h.fitness.is_nan() {
            f64::INFINITY
        } else {
            h.fitness
        }
    };
    Some(if key(b) < key(a) { b } else { a })
}

/// A second parent: another host than `first` if there is one, else (or with a small
/// probability) a library form.
fn mate<'h>(rng: &mut ChaCha8Rng, pool: &Pool<'h>, first: &Host) -> Option<&'h Host> {
    let use_library = pool.hosts.len() < 2 || rng.random_bool(0.25);
    if use_library && !pool.library.is_empty() {
        return pool.library.choose(rng);
    }
    for _ in 0..8 {
        let h = tournament(rng, pool.hosts)?;
        if h.index != first.index || pool.hosts.len() < 2 {
            return Some(h);
        }
    }
    pool.library.choose(rng)
}

fn parents_of(hosts: &[&Host]) -> Vec<usize> {
    let mut v: Vec<usize> = hosts.iter().filter_map(|h| h.index).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A site, internal nodes preferred (three times in four) as in classic GP.
fn pick_site<'s>(rng: &mut ChaCha8Rng, sites: &[&'s Site]) -> Option<&'s Site> {
    let internal: Vec<&Site> = sites.iter().copied().filter(|s| !s.leaf).collect();
    if !internal.is_empty() && rng.random_bool(0.75) {
        internal.choose(rng).copied()
    } else {
        sites.choose(rng).copied()
    }
}

/// Sorts statements into dependency order and drops dead code; `None` on a cycle.
fn tidy(mut p: Program) -> Option<Program> {
    p.stmts = tree::toposort(std::mem::take(&mut p.stmts))?;
    tree::prune(&mut p);
    Some(p)
}

/// Swaps a subexpression of one parent for a subexpression of the same type from another
/// (or from a library form), bringing the definitions it needs along.
pub(crate) fn crossover(rng: &mut ChaCha8Rng, pool: &Pool<'_>) -> Option<Child> {
    let a = tournament(rng, pool.hosts)?;
    let b = mate(rng, pool, a)?;
    let all: Vec<&Site> = a.sites.iter().collect();
    let all = prefer_live(rng, a, &all, |s| (s.root, &s.path));
    let site = pick_site(rng, &all)?;
    let donors: Vec<&Site> = b.sites.iter().filter(|s| s.ty == site.ty).collect();
    let donors = prefer_live(rng, b, &donors, |s| (s.root, &s.path));
    let donor = pick_site(rng, &donors)?;
    let expr = tree::expr_at(&b.program, donor.root, &donor.path)?;
    let mut child = a.program.clone();
    let grafted = import(&mut child, &b.program, expr);
    tree::replace_at(&mut child, site, grafted).then_some(())?;
    Some(Child {
        program: tidy(child)?,
        parents: parents_of(&[a, b]),
        operator: "crossover",
    })
}

/// `w * A + (1 - w) * B` for two whole laws (B may be a library form), `w` a new
/// parameter that starts at 0.8 (mostly A).
pub(crate) fn blend(rng: &mut ChaCha8Rng, pool: &Pool<'_>) -> Option<Child> {
    let a = tournament(rng, pool.hosts)?;
    let b = mate(rng, pool, a)?;
    if b.ty != a.ty {
        return None;
    }
    let mut child = a.program.clone();
    let other = import(&mut child, &b.program, &b.program.ret);
    let w = fresh("w", &declared(&child));
    child.params.push(param(&w, 0.8));
    let left = binary(BinOp::Mul, var(&w), child.ret.clone());
    let right = binary(BinOp::Mul, binary(BinOp::Sub, num(1.0), var(&w)), other);
    child.ret = binary(BinOp::Add, left, right);
    Some(Child {
        program: tidy(child)?,
        parents: parents_of(&[a, b]),
        operator: "blend",
    })
}

/// Starting value of a new coefficient: zero half of the time (the child starts as its
/// parent), else a random magnitude on the scale of the path (stresses or deformations).
fn coefficient(rng: &mut ChaCha8Rng, kind: MaterialKind) -> f64 {
    if rng.random_bool(0.5) {
        return 0.0;
    }
    let (lo, hi) = match kind {
        MaterialKind::Plastic => (-2.0, 0.0),
        _ => (2.0, 5.0),
    };
    let sign = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
    sign * 10f64.powf(rng.random_range(lo..hi))
}

/// `x + p * term` at the return value (mostly) or at a typed subexpression, with a new
/// parameter `p` and a building block of the same type.
pub(crate) fn insert_term(rng: &mut ChaCha8Rng, pool: &Pool<'_>) -> Option<Child> {
    let a = tournament(rng, pool.hosts)?;
    let ret_site = Site {
        root: Root::Ret,
        path: Vec::new(),
        ty: a.ty,
        leaf: false,
    };
    let site = if rng.random_bool(0.6) {
        &ret_site
    } else {
        let candidates: Vec<&Site> = a
            .sites
            .iter()
            .filter(|s| {
                pool.terms.iter().any(|t| t.ty == s.ty)
                    && !matches!(
                        tree::expr_at(&a.program, s.root, &s.path).map(|e| &e.kind),
                        Some(ExprKind::Num(_))
                    )
            })
            .collect();
        let candidates = prefer_live(rng, a, &candidates, |s| (s.root, &s.path));
        pick_site(rng, &candidates)?
    };
    let terms: Vec<&Host> = pool.terms.iter().filter(|t| t.ty == site.ty).collect();
    let term = *terms.choose(rng)?;
    let old = tree::expr_at(&a.program, site.root, &site.path)?.clone();
    let mut child = a.program.clone();
    let added = import(&mut child, &term.program, &term.program.ret);
    let p = fresh("p", &declared(&child));
    // Stress scale only for a term added to the whole elastic law.
    let kind = if site.root == Root::Ret && site.path.is_empty() {
        pool.kind
    } else {
        MaterialKind::Plastic
    };
    child.params.push(param(&p, coefficient(rng, kind)));
    let new = binary(BinOp::Add, old, binary(BinOp::Mul, var(&p), added));
    tree::replace_at(&mut child, site, new).then_some(())?;
    Some(Child {
        program: tidy(child)?,
        parents: parents_of(&[a]),
        operator: "insert_term",
    })
}

/// Replaces a sum or difference by one of its operands (`a - b` by `a` or `-b`),
/// preferring an operand of the same type as the sum.
pub(crate) fn remove_term(rng: &mut ChaCha8Rng, pool: &Pool<'_>) -> Option<Child> {
    let a = tournament(rng, pool.hosts)?;
    let sums: Vec<(&Site, &Expr, &Expr, bool)> = a
        .sites
        .iter()
        .filter_map(
            |s| match &tree::expr_at(&a.program, s.root, &s.path)?.kind {
                ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), l, r) => {
                    Some((s, l.as_ref(), r.as_ref(), *op == BinOp::Sub))
                }
                _ => None,
            },
        )
        .collect();
    let sums = prefer_live(rng, a, &sums, |x| (x.0.root, &x.0.path));
    let &(site, l, r, sub) = sums.choose(rng)?;
    let same = |e: &Expr| tree::infer(e, &a.env) == Some(site.ty);
    let keep_left = match (same(l), same(r)) {
        (true, false) => true,
        (false, true) => false,
        _ => rng.random_bool(0.5),
    };
    let new = if keep_left {
        l.clone()
    } else if sub {
        node(ExprKind::Neg(Box::new(r.clone())))
    } else {
        r.clone()
    };
    let mut child = a.program.clone();
    tree::replace_at(&mut child, site, new).then_some(())?;
    Some(Child {
        program: tidy(child)?,
        parents: parents_of(&[a]),
        operator: "remove_term",
    })
}

/// Replaces a function by another of its group (`log` by `sqrt`, `det` by `trace`, ...)
/// or an operator by its sibling (`+` and `-`, `*` and `/`).
pub(crate) fn swap_function(rng: &mut ChaCha8Rng, pool: &Pool<'_>) -> Option<Child> {
    let a = tournament(rng, pool.hosts)?;
    let candidates: Vec<(Root, Vec<usize>)> = all_paths(&a.program)
        .into_iter()
        .filter(
            |(root, path)| match tree::expr_at(&a.program, *root, path).map(|e| &e.kind) {
                Some(ExprKind::Call(f, _)) => {
                    FUNCTION_GROUPS.iter().any(|g| g.contains(&f.as_str()))
                }
                Some(ExprKind::Binary(op, ..)) => *op != BinOp::MatMul && *op != BinOp::Pow,
                _ => false,
            },
        )
        .collect();
    let candidates = prefer_live(rng, a, &candidates, |x| (x.0, &x.1));
    let (root, path) = candidates.choose(rng)?;
    let mut child = a.program.clone();
    let e = tree::expr_at_mut(&mut child, *root, path)?;
    match &mut e.kind {
        ExprKind::Call(f, _) => {
            let options: Vec<&str> = FUNCTION_GROUPS
                .iter()
                .filter(|g| g.contains(&f.as_str()))
                .flat_map(|g| g.iter().copied())
                .filter(|g| *g != f.as_str())
                .collect();
            *f = (*options.choose(rng)?).to_string();
        }
        ExprKind::Binary(op, ..) => {
            *op = match *op {
                BinOp::Add => BinOp::Sub,
                BinOp::Sub => BinOp::Add,
                BinOp::Mul => BinOp::Div,
                BinOp::Div => BinOp::Mul,
                other => other,
            };
        }
        _ => return None,
    }
    Some(Child {
        program: tidy(child)?,
        parents: parents_of(&[a]),
        operator: "swap_function",
    })
}

/// Replaces a number by a new parameter whose default is that number.
pub(crate) fn const_to_param(rng: &mut ChaCha8Rng, pool: &Pool<'_>) -> Option<Child> {
    let a = tournament(rng, pool.hosts)?;
    let numbers: Vec<(Root, Vec<usize>, f64)> = all_paths(&a.program)
        .into_iter()
        .filter_map(
            |(root, path)| match tree::expr_at(&a.program, root, &path)?.kind {
                ExprKind::Num(v) => Some((root, path, v)),
                _ => None,
            },
        )
        .collect();
    // A number is live when the node that uses it is.
    let numbers = prefer_live(rng, a, &numbers, |x| {
        (x.0, &x.1[..x.1.len().saturating_sub(1)])
    });
    let (root, path, value) = numbers.choose(rng)?;
    let mut child = a.program.clone();
    let p = fresh("p", &declared(&child));
    child.params.push(param(&p, *value));
    *tree::expr_at_mut(&mut child, *root, path)? = var(&p);
    Some(Child {
        program: tidy(child)?,
        parents: parents_of(&[a]),
        operator: "const_to_param",
    })
}

/// Moves one parameter default by a few per cent (an absolute 0.02 or so near zero). Returns
/// false when the program has no parameters.
pub(crate) fn perturb(rng: &mut ChaCha8Rng, p: &mut Program) -> bool {
    let n = p.params.len();
    if n == 0 {
        return false;
    }
    let q = &mut p.params[rng.random_range(0..n)];
    let z: f64 = rng.random_range(-1.0..1.0) + rng.random_range(-1.0..1.0);
    q.value += 0.02 * z * q.value.abs().max(1.0);
    q.value.is_finite()
}

/// Paths to every node (typed or not) of the program.
fn all_paths(p: &Program) -> Vec<(Root, Vec<usize>)> {
    fn walk(e: &Expr, root: Root, path: &mut Vec<usize>, out: &mut Vec<(Root, Vec<usize>)>) {
        out.push((root, path.clone()));
        for (i, c) in tree::children(e).into_iter().enumerate() {
            path.push(i);
            walk(c, root, path, out);
            path.pop();
        }
    }
    let mut out = Vec::new();
    for root in (0..p.stmts.len()).map(Root::Stmt).chain([Root::Ret]) {
        if let Some(e) = tree::root_expr(p, root) {
            walk(e, root, &mut Vec::new(), &mut out);
        }
    }
    out
}
