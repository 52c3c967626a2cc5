//! Lowering of a checked program to an egg [`RecExpr`]: let-bindings are inlined into a
//! DAG (every distinct subexpression once), inputs and parameters become [`Atom`]s by
//! position, `>`/`>=` become `<`/`<=` with swapped operands, negative indices are
//! normalised, and `U, sigma, Vh = svd(A)` becomes three nodes `svd-u A`, `svd-s A`,
//! `svd-vh A` (`polar`: `polar-r A`, `polar-s A`).
//!
//! For display, named bindings that depend only on parameters (`E`, `mu`, ...) can be
//! frozen: each becomes an opaque [`Atom::Let`] whose weight is the size of its
//! definition, so the simplified law keeps `mu` instead of writing it out.

use super::analysis::positive;
use super::lang::{Atom, Atoms, LetAtom, Num, Tensor, shape_of};
use crate::ast::{BinOp, CmpOp, Expr, ExprKind, Program};
use crate::check::CheckedProgram;
use crate::types::{Signature, Type};
use egg::{Id, Language, RecExpr};
use std::collections::HashMap;

/// A lowered law: the expression DAG, its root, and where each named binding went.
#[derive(Clone, Debug)]
pub struct Lowered {
    /// The DAG (children before parents; the last node is the root).
    pub expr: RecExpr<Tensor>,
    /// The node of the returned expression.
    pub root: Id,
    /// Each binding name of the program and the node it stands for, in program order.
    pub names: Vec<(String, Id)>,
    /// Input types and frozen bindings (none unless freezing was asked for).
    pub atoms: Atoms,
    /// For each frozen binding (by [`Atom::Let`] position): its name and the index of its
    /// statement in the program.
    pub lets: Vec<(String, usize)>,
    /// Indices of the statements whose values do not depend on the inputs.
    pub input_free: Vec<usize>,
}

/// Lowers a checked program.
///
/// ```
/// use ansatz_grammar::{load, Signature, egraph::lower};
/// let law = load("param mu = 2\nJ = det(F)\nreturn mu * (F @ F.T - I) + log(J) * I",
///                &Signature::elastic()).unwrap();
/// let lowered = lower(&law);
/// assert_eq!(lowered.expr.to_string(),
///            "(+ (* p0 (- (@ x0 (T x0)) I)) (* (log (det x0)) I))");
/// ```
pub fn lower(law: &CheckedProgram) -> Lowered {
    lower_program(law.program(), law.signature(), false)
}

/// Lowers a program that passed the checker against `signature`; with `freeze`, named
/// bindings that depend on parameters but not on inputs become [`Atom::Let`] atoms.
pub(crate) fn lower_program(program: &Program, signature: &Signature, freeze: bool) -> Lowered {
    let mut l = Lowering {
        expr: RecExpr::default(),
        types: Vec::new(),
        info: Vec::new(),
        atoms: Atoms {
            inputs: signature.inputs.iter().map(|(_, t)| *t).collect(),
            lets: Vec::new(),
        },
        memo: HashMap::new(),
        env: HashMap::new(),
    };
    let mut lets = Vec::new();
    let mut input_free = Vec::new();
    for (k, (name, _)) in signature.inputs.iter().enumerate() {
        let id = l.add(Tensor::Atom(Atom::Input(k as u16)));
        l.env.insert(name.clone(), id);
    }
    for (k, p) in program.params.iter().enumerate() {
        let id = l.add(Tensor::Atom(Atom::Param(k as u16)));
        l.env.insert(p.name.clone(), id);
    }
    let mut names = Vec::new();
    for (index, s) in program.stmts.iter().enumerate() {
        if s.names.len() == 1 {
            let mut id = l.expr(&s.value);
            let info = l.info[usize::from(id)];
            if !info.input {
                input_free.push(index);
            }
            let leaf = l.expr[id].is_leaf();
            if freeze && s.names[0].name != "_" && info.param && !info.input && !leaf {
                let ty = l.types[usize::from(id)].expect("checked programs are well-typed");
                l.atoms.lets.push(LetAtom {
                    ty,
                    positive: info.positive,
                    weight: info.size,
                });
                let k = (l.atoms.lets.len() - 1) as u16;
                lets.push((s.names[0].name.clone(), index));
                id = l.add(Tensor::Atom(Atom::Let(k)));
            }
            if s.names[0].name != "_" {
                l.env.insert(s.names[0].name.clone(), id);
                names.push((s.names[0].name.clone(), id));
            }
            continue;
        }
        let (callee, arg) = match &s.value.kind {
            ExprKind::Call(name, args) if args.len() == 1 => (name.as_str(), &args[0]),
            _ => unreachable!("the checker only accepts svd/polar destructurings"),
        };
        let a = l.expr(arg);
        if !l.info[usize::from(a)].input {
            input_free.push(index);
        }
        let parts: &[fn(Id) -> Tensor] = if callee == "svd" {
            &[Tensor::SvdU, Tensor::SvdS, Tensor::SvdVh]
        } else {
            &[Tensor::PolarR, Tensor::PolarS]
        };
        for (n, part) in s.names.iter().zip(parts) {
            if n.name != "_" {
                let id = l.add(part(a));
                l.env.insert(n.name.clone(), id);
                names.push((n.name.clone(), id));
            }
        }
    }
    let root = l.expr(&program.ret);
    // Keep the nodes the root reaches, in order: children come before parents, so the
    // root (their common ancestor) comes last, as egg expects of a RecExpr.
    let nodes = l.expr.as_ref();
    let mut live = vec![false; nodes.len()];
    live[usize::from(root)] = true;
    for i in (0..nodes.len()).rev() {
        if live[i] {
            for &c in nodes[i].children() {
                live[usize::from(c)] = true;
            }
        }
    }
    let mut new_id = vec![None; nodes.len()];
    let mut expr = RecExpr::default();
    for (i, node) in nodes.iter().enumerate() {
        if live[i] {
            let node = node
                .clone()
                .map_children(|c| new_id[usize::from(c)].expect("children come first"));
            new_id[i] = Some(expr.add(node));
        }
    }
    let root = new_id[usize::from(root)].expect("the root is live");
    let names = names
        .into_iter()
        .filter_map(|(n, id)| new_id[usize::from(id)].map(|id| (n, id)))
        .collect();
    Lowered {
        expr,
        root,
        names,
        atoms: l.atoms,
        lets,
        input_free,
    }
}

/// What lowering tracks per node to decide what to freeze.
#[derive(Clone, Copy, Debug, Default)]
struct Info {
    /// Reaches an input.
    input: bool,
    /// Reaches a parameter (or a frozen binding).
    param: bool,
    /// Known strictly positive.
    positive: bool,
    /// Tree size (frozen atoms weigh their definition).
    size: u64,
}

struct Lowering {
    expr: RecExpr<Tensor>,
    /// The shape of every node added so far.
    types: Vec<Option<Type>>,
    info: Vec<Info>,
    atoms: Atoms,
    memo: HashMap<Tensor, Id>,
    env: HashMap<String, Id>,
}

impl Lowering {
    fn add(&mut self, node: Tensor) -> Id {
        if let Some(&id) = self.memo.get(&node) {
            return id;
        }
        let ty = shape_of(&node, |c| self.types[usize::from(c)], &self.atoms);
        let info = self.info_of(&node);
        let id = self.expr.add(node.clone());
        self.types.push(ty);
        self.info.push(info);
        self.memo.insert(node, id);
        id
    }

    fn info_of(&self, node: &Tensor) -> Info {
        let child = |c: &Id| self.info[usize::from(*c)];
        let mut info = match node {
            Tensor::Atom(a) => Info {
                input: matches!(a, Atom::Input(_)),
                param: !matches!(a, Atom::Input(_)),
                positive: false,
                size: self.atoms.weight(*a),
            },
            _ => Info {
                size: 1,
                ..Info::default()
            },
        };
        for c in node.children() {
            let ci = child(c);
            info.input |= ci.input;
            info.param |= ci.param;
            info.size = info.size.saturating_add(ci.size);
        }
        let konst = match node {
            Tensor::Num(n) => Some(*n),
            _ => None,
        };
        info.positive = positive(node, konst, |c| child(&c).positive, &self.atoms);
        info
    }

    fn num(&mut self, v: f64) -> Id {
        let n = Num::new(v).expect("lowered numbers are finite");
        self.add(Tensor::Num(n))
    }

    fn expr(&mut self, e: &Expr) -> Id {
        match &e.kind {
            ExprKind::Num(v) => self.num(*v),
            ExprKind::Var(name) => match self.env.get(name) {
                Some(&id) => id,
                None if name == "I" => self.add(Tensor::Identity),
                None if name == "pi" => self.num(std::f64::consts::PI),
                None => unreachable!("the checker resolved every name ('{name}')"),
            },
            ExprKind::Neg(a) => {
                let a = self.expr(a);
                self.add(Tensor::Neg(a))
            }
            ExprKind::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                self.add(match op {
                    BinOp::Add => Tensor::Add([a, b]),
                    BinOp::Sub => Tensor::Sub([a, b]),
                    BinOp::Mul => Tensor::Mul([a, b]),
                    BinOp::Div => Tensor::Div([a, b]),
                    BinOp::Pow => Tensor::Pow([a, b]),
                    BinOp::MatMul => Tensor::MatMul([a, b]),
                })
            }
            ExprKind::Compare(..) => unreachable!("comparisons only appear inside where"),
            ExprKind::Transpose(a) => {
                let a = self.expr(a);
                self.add(Tensor::Transpose(a))
            }
            ExprKind::Index(a, idx) => {
                let base = self.expr(a);
                let norm = |i: i64| (if i < 0 { i + 3 } else { i }) as f64;
                let is_mat = self.types[usize::from(base)] == Some(Type::Mat3);
                match idx.as_slice() {
                    [i, j] => {
                        let (i, j) = (self.num(norm(*i)), self.num(norm(*j)));
                        self.add(Tensor::At2([base, i, j]))
                    }
                    [i] if is_mat => {
                        let i = self.num(norm(*i));
                        self.add(Tensor::Row([base, i]))
                    }
                    [i] => {
                        let i = self.num(norm(*i));
                        self.add(Tensor::At([base, i]))
                    }
                    _ => unreachable!("the checker accepts one or two indices"),
                }
            }
            ExprKind::Call(name, args) => self.call(name, args),
        }
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> Id {
        if name == "where" {
            let ExprKind::Compare(op, l, r) = &args[0].kind else {
                unreachable!("the checker requires a comparison in where")
            };
            let (l, r) = (self.expr(l), self.expr(r));
            let (a, b) = (self.expr(&args[1]), self.expr(&args[2]));
            return self.add(match op {
                CmpOp::Lt => Tensor::WhereLt([l, r, a, b]),
                CmpOp::Le => Tensor::WhereLe([l, r, a, b]),
                CmpOp::Gt => Tensor::WhereLt([r, l, a, b]),
                CmpOp::Ge => Tensor::WhereLe([r, l, a, b]),
                CmpOp::Eq => Tensor::WhereEq([l, r, a, b]),
                CmpOp::Ne => Tensor::WhereNe([l, r, a, b]),
            });
        }
        let ids: Vec<Id> = args.iter().map(|a| self.expr(a)).collect();
        let node = match (name, ids.as_slice()) {
            ("exp", [a]) => Tensor::Exp(*a),
            ("log", [a]) => Tensor::Log(*a),
            ("sqrt", [a]) => Tensor::Sqrt(*a),
            ("cbrt", [a]) => Tensor::Cbrt(*a),
            ("abs", [a]) => Tensor::Abs(*a),
            ("sigmoid", [a]) => Tensor::Sigmoid(*a),
            ("tanh", [a]) => Tensor::Tanh(*a),
            ("log1p", [a]) => Tensor::Log1p(*a),
            ("expm1", [a]) => Tensor::Expm1(*a),
            ("sin", [a]) => Tensor::Sin(*a),
            ("cos", [a]) => Tensor::Cos(*a),
            ("pow", [a, b]) => Tensor::Pow([*a, *b]),
            ("min", [a, b]) => Tensor::Min([*a, *b]),
            ("max", [a, b]) => Tensor::Max([*a, *b]),
            ("min", [a]) => Tensor::ReduceMin(*a),
            ("max", [a]) => Tensor::ReduceMax(*a),
            ("clamp", [x, lo, hi]) => Tensor::Clamp([*x, *lo, *hi]),
            ("det", [a]) => Tensor::Det(*a),
            ("inv", [a]) => Tensor::Inv(*a),
            ("trace", [a]) => Tensor::Trace(*a),
            ("transpose", [a]) => Tensor::Transpose(*a),
            ("diag", [a]) => Tensor::Diag(*a),
            ("diagonal", [a]) => Tensor::Diagonal(*a),
            ("sum", [a]) => Tensor::Sum(*a),
            ("prod", [a]) => Tensor::Prod(*a),
            ("mean", [a]) => Tensor::Mean(*a),
            ("norm", [a]) => Tensor::Norm(*a),
            ("dot", [a, b]) => Tensor::Dot([*a, *b]),
            ("outer", [a, b]) => Tensor::Outer([*a, *b]),
            ("vec3", [a, b, c]) => Tensor::Vec3([*a, *b, *c]),
            ("sym", [a]) => Tensor::Sym(*a),
            ("skew", [a]) => Tensor::Skew(*a),
            ("dev", [a]) => Tensor::Dev(*a),
            _ => unreachable!("the checker accepts only known calls ('{name}')"),
        };
        self.add(node)
    }
}
