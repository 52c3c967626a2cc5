//! Normal form of an extracted DAG: chains of `+`/`-`, of `*`/`/` and of `@` are
//! flattened, the operands of commutative operators are sorted by structural key, and the
//! chains are rebuilt left-associated (products of matrices keep their order). Two
//! spellings that the e-graph proved equal but extracted in different association or
//! operand order get the same normal form. The number of nodes never grows, except by
//! one `neg` when every term of a sum is negated (then a `neg` left the sum before).

use super::dag::Dag;
use super::lang::{Atoms, Tensor, is_commutative};
use crate::types::Type;
use egg::{Id, Language};
use std::collections::HashMap;

/// Longest chain flattened at once; longer chains are flattened in pieces (this also
/// bounds the work on pathological sharing, where a fully flattened chain would be
/// exponentially long).
const MAX_TERMS: usize = 64;

/// The normal form of `dag` (its atoms described by `atoms`).
pub(crate) fn normalize(dag: &Dag, atoms: &Atoms) -> Dag {
    let mut n = Normalizer {
        src: dag,
        atoms,
        out: Dag::new(),
        keys: Vec::new(),
        memo: HashMap::new(),
        done: vec![None; dag.nodes.len()],
    };
    for i in 0..dag.nodes.len() {
        n.visit(i);
    }
    let root = n.done[dag.root()].expect("the root was visited");
    compact(&n.out, root, atoms)
}

struct Normalizer<'a> {
    src: &'a Dag,
    atoms: &'a Atoms,
    out: Dag,
    keys: Vec<u64>,
    memo: HashMap<Tensor, usize>,
    done: Vec<Option<usize>>,
}

impl Normalizer<'_> {
    /// Adds a node to the output (hash-consed) and returns its index.
    fn add(&mut self, node: Tensor, origin: Option<Id>) -> usize {
        if let Some(&i) = self.memo.get(&node) {
            if self.out.origin[i].is_none() {
                self.out.origin[i] = origin;
            }
            return i;
        }
        let mut h = super::canonical::Fnv::default();
        h.write_u64(super::lang::tag(&anonymous(&node)));
        for &c in node.children() {
            h.write_u64(self.keys[usize::from(c)]);
        }
        self.keys.push(h.finish());
        let i = self.out.push(node.clone(), origin, self.atoms);
        self.memo.insert(node, i);
        i
    }

    fn child(&self, c: Id) -> Id {
        Id::from(self.done[usize::from(c)].expect("children are visited first"))
    }

    /// Normalises source node `i` (its children are already done).
    fn visit(&mut self, i: usize) {
        let node = &self.src.nodes[i];
        let origin = self.src.origin[i];
        let out = match node {
            Tensor::Add(_) | Tensor::Sub(_) => self.sum(i, origin),
            Tensor::Mul(_) | Tensor::Div(_) => self.product(i, origin),
            Tensor::MatMul(_) => self.matmul(i, origin),
            _ => {
                let mut n = node.clone().map_children(|c| self.child(c));
                let key = |k: &[u64], c: Id| k[usize::from(c)];
                match &mut n {
                    n2 if is_commutative(n2) => {
                        let ch = n2.children_mut();
                        if key(&self.keys, ch[1]) < key(&self.keys, ch[0]) {
                            ch.swap(0, 1);
                        }
                    }
                    Tensor::WhereEq([l, r, ..]) | Tensor::WhereNe([l, r, ..])
                        if key(&self.keys, *r) < key(&self.keys, *l) =>
                    {
                        std::mem::swap(l, r);
                    }
                    _ => {}
                }
                self.add(n, origin)
            }
        };
        self.done[i] = Some(out);
    }

    /// Collects the terms of the sum at `i` with their signs, through `+`, `-` and `neg`
    /// nodes (shared ones too: the form must not depend on what happened to be shared).
    fn sum(&mut self, i: usize, origin: Option<Id>) -> usize {
        let mut terms: Vec<(bool, usize)> = Vec::new();
        let mut stack = vec![(true, i, true)];
        while let Some((positive, j, top)) = stack.pop() {
            match &self.src.nodes[j] {
                Tensor::Add([a, b]) if terms.len() + stack.len() < MAX_TERMS => {
                    stack.push((positive, usize::from(*b), false));
                    stack.push((positive, usize::from(*a), false));
                }
                Tensor::Sub([a, b]) if terms.len() + stack.len() < MAX_TERMS => {
                    stack.push((!positive, usize::from(*b), false));
                    stack.push((positive, usize::from(*a), false));
                }
                Tensor::Neg(a) if !top => {
                    stack.push((!positive, usize::from(*a), false));
                }
                _ => terms.push((positive, self.done[j].expect("children are visited first"))),
            }
        }
        terms.sort_by_key(|&(p, t)| (self.keys[t], !p));
        let head = terms.iter().position(|t| t.0).unwrap_or(0);
        let (p0, t0) = terms.remove(head);
        let mut acc = if p0 {
            t0
        } else {
            self.add(Tensor::Neg(Id::from(t0)), None)
        };
        let last = terms.len();
        for (k, (p, t)) in terms.into_iter().enumerate() {
            let pair = [Id::from(acc), Id::from(t)];
            let node = if p {
                Tensor::Add(pair)
            } else {
                Tensor::Sub(pair)
            };
            acc = self.add(node, if k + 1 == last { origin } else { None });
        }
        if last == 0 && origin.is_some() && self.out.origin[acc].is_none() {
            self.out.origin[acc] = origin;
        }
        acc
    }

    /// Collects the factors of the product at `i` (numerators and denominators) through
    /// `*` and `/` nodes.
    fn product(&mut self, i: usize, origin: Option<Id>) -> usize {
        let mut factors: Vec<(bool, usize)> = Vec::new();
        let mut stack = vec![(true, i, true)];
        while let Some((num, j, _)) = stack.pop() {
            match &self.src.nodes[j] {
                Tensor::Mul([a, b]) if factors.len() + stack.len() < MAX_TERMS => {
                    stack.push((num, usize::from(*b), false));
                    stack.push((num, usize::from(*a), false));
                }
                Tensor::Div([a, b]) if num && factors.len() + stack.len() < MAX_TERMS => {
                    stack.push((false, usize::from(*b), false));
                    stack.push((true, usize::from(*a), false));
                }
                _ => factors.push((num, self.done[j].expect("children are visited first"))),
            }
        }
        // A factor 1 is dropped when another numerator remains.
        let is_one =
            |t: usize, out: &Dag| matches!(&out.nodes[t], Tensor::Num(n) if n.value() == 1.0);
        if factors.iter().filter(|f| f.0).count() > 1 {
            let mut dropped = false;
            factors.retain(|&(num, t)| {
                let drop = !dropped && num && is_one(t, &self.out);
                dropped |= drop;
                !drop
            });
        }
        // Numbers first, then by key; numerators before denominators.
        let is_num = |t: usize, out: &Dag| matches!(out.nodes[t], Tensor::Num(_));
        factors.sort_by_key(|&(num, t)| (!num, !is_num(t, &self.out), self.keys[t]));
        let mut it = factors.into_iter();
        let (_, mut acc) = it.next().expect("a product has a numerator");
        let rest: Vec<(bool, usize)> = it.collect();
        let last = rest.len();
        for (k, (num, t)) in rest.into_iter().enumerate() {
            let pair = [Id::from(acc), Id::from(t)];
            let node = if num {
                Tensor::Mul(pair)
            } else {
                Tensor::Div(pair)
            };
            acc = self.add(node, if k + 1 == last { origin } else { None });
        }
        acc
    }

    /// Flattens a chain of matrix products and rebuilds it left-associated, when every
    /// inner operand is a matrix (so every partial product is well-typed).
    fn matmul(&mut self, i: usize, origin: Option<Id>) -> usize {
        let mut ops: Vec<usize> = Vec::new();
        let mut stack = vec![i];
        while let Some(j) = stack.pop() {
            match &self.src.nodes[j] {
                Tensor::MatMul([a, b]) if ops.len() + stack.len() < MAX_TERMS => {
                    stack.push(usize::from(*b));
                    stack.push(usize::from(*a));
                }
                _ => ops.push(j),
            }
        }
        let inner_mats = ops.len() <= 2
            || ops[1..ops.len() - 1]
                .iter()
                .all(|&j| self.src.shapes[j] == Type::Mat3);
        if !inner_mats {
            let n = self.src.nodes[i].clone().map_children(|c| self.child(c));
            return self.add(n, origin);
        }
        let mut acc = self.done[ops[0]].expect("children are visited first");
        let last = ops.len() - 1;
        for (k, &j) in ops[1..].iter().enumerate() {
            let t = self.done[j].expect("children are visited first");
            acc = self.add(
                Tensor::MatMul([Id::from(acc), Id::from(t)]),
                if k + 1 == last { origin } else { None },
            );
        }
        acc
    }
}

/// The node with every parameter replaced by parameter 0 (for keys).
fn anonymous(node: &Tensor) -> Tensor {
    match node {
        Tensor::Atom(super::lang::Atom::Param(_)) => Tensor::Atom(super::lang::Atom::Param(0)),
        n => n.clone(),
    }
}

/// Keeps only the nodes `root` reaches, in order (so the root is last).
pub(crate) fn compact(dag: &Dag, root: usize, atoms: &Atoms) -> Dag {
    let mut live = vec![false; dag.nodes.len()];
    live[root] = true;
    for i in (0..=root).rev() {
        if live[i] {
            for &c in dag.nodes[i].children() {
                live[usize::from(c)] = true;
            }
        }
    }
    let mut new_id = vec![usize::MAX; dag.nodes.len()];
    let mut out = Dag::new();
    for i in 0..=root {
        if live[i] {
            let node = dag.nodes[i]
                .clone()
                .map_children(|c| Id::from(new_id[usize::from(c)]));
            new_id[i] = out.push(node, dag.origin[i], atoms);
        }
    }
    out
}
