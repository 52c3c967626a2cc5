//! Extraction of the best term of an e-class as a DAG, the complexity measure, and the
//! structural keys that order operands deterministically.
//!
//! Complexity is the number of nodes of the law written as one expression tree (bindings
//! inlined): every operator, function, tuple component, input, parameter and number
//! counts 1 (a frozen binding counts the size of its definition). Extraction minimises
//! it; among terms of equal complexity it prefers readable numbers (no negative or
//! fractional literals where an operator can carry the sign or the division), then the
//! smallest structural key (a hash of the term in which all parameters look alike), so
//! the result depends only on which terms the e-class holds, never on the order in which
//! they were found.

use super::analysis::TensorGraph;
use super::canonical::Fnv;
use super::lang::{Atom, Atoms, Tensor, shape_of, tag};
use crate::types::Type;
use egg::{CostFunction, Extractor, Id, Language, RecExpr};
use std::collections::HashMap;

/// Extraction cost: (complexity, readability penalty, structural key), compared in that
/// order.
pub(crate) struct CostKey<'a> {
    pub(crate) atoms: &'a Atoms,
}

impl CostFunction<Tensor> for CostKey<'_> {
    type Cost = (u64, u64, u64);

    fn cost<C>(&mut self, enode: &Tensor, mut costs: C) -> Self::Cost
    where
        C: FnMut(Id) -> Self::Cost,
    {
        let mut size = node_weight(enode, self.atoms);
        let mut penalty: u64 = match enode {
            Tensor::Num(n) if n.value() < 0.0 => 2,
            Tensor::Num(n) if n.value().fract() != 0.0 => 1,
            _ => 0,
        };
        let mut h = Fnv::default();
        h.write_u64(leaf_key(enode));
        for &c in enode.children() {
            let (s, p, k) = costs(c);
            size = size.saturating_add(s);
            penalty = penalty.saturating_add(p);
            h.write_u64(k);
        }
        (size, penalty, h.finish())
    }
}

/// The complexity of a node without its children.
fn node_weight(node: &Tensor, atoms: &Atoms) -> u64 {
    match node {
        Tensor::Atom(a) => atoms.weight(*a),
        _ => 1,
    }
}

/// The key of a node without its children: its operator or leaf, all parameters alike.
fn leaf_key(node: &Tensor) -> u64 {
    match node {
        Tensor::Atom(Atom::Param(_)) => 0x9e37_79b9_7f4a_7c15,
        _ => tag(node),
    }
}

/// An expression DAG: children before parents, the root last, every node once.
#[derive(Clone, Debug)]
pub(crate) struct Dag {
    /// Nodes; their children are indices into this vector.
    pub nodes: Vec<Tensor>,
    /// For each node, the e-class it was extracted from (`None` for nodes built later).
    pub origin: Vec<Option<Id>>,
    /// The shape of each node.
    pub shapes: Vec<Type>,
}

impl Dag {
    pub(crate) fn root(&self) -> usize {
        self.nodes.len() - 1
    }

    /// An empty DAG to which nodes are added with [`Dag::push`].
    pub(crate) fn new() -> Self {
        Dag {
            nodes: Vec::new(),
            origin: Vec::new(),
            shapes: Vec::new(),
        }
    }

    /// Adds a node whose children are already in the DAG.
    pub(crate) fn push(&mut self, node: Tensor, origin: Option<Id>, atoms: &Atoms) -> usize {
        let shape = shape_of(&node, |c| self.shapes.get(usize::from(c)).copied(), atoms)
            .expect("DAG nodes are well-typed");
        self.nodes.push(node);
        self.origin.push(origin);
        self.shapes.push(shape);
        self.nodes.len() - 1
    }

    /// A DAG from a lowered expression (no origins).
    pub(crate) fn from_recexpr(expr: &RecExpr<Tensor>, atoms: &Atoms) -> Self {
        let mut dag = Dag::new();
        for node in expr.as_ref() {
            dag.push(node.clone(), None, atoms);
        }
        dag
    }

    /// The size of the tree under every node, with every shared node written out
    /// (saturating for pathological sharing).
    pub(crate) fn sizes(&self, atoms: &Atoms) -> Vec<u64> {
        let mut size = vec![0u64; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate() {
            size[i] = n.children().iter().fold(node_weight(n, atoms), |s, &c| {
                s.saturating_add(size[usize::from(c)])
            });
        }
        size
    }

    /// The complexity of the whole DAG (the tree size under the root).
    pub(crate) fn complexity(&self, atoms: &Atoms) -> u64 {
        self.sizes(atoms).last().copied().unwrap_or(0)
    }

    /// How many times each node is used as a child (a node used twice by one parent
    /// counts twice).
    pub(crate) fn uses(&self) -> Vec<usize> {
        let mut uses = vec![0usize; self.nodes.len()];
        for n in &self.nodes {
            for &c in n.children() {
                uses[usize::from(c)] += 1;
            }
        }
        uses
    }
}

/// Extracts the best term of `root` (by [`CostKey`]) as a DAG.
pub(crate) fn extract(egraph: &TensorGraph, root: Id) -> Dag {
    let atoms = &egraph.analysis.atoms;
    let extractor = Extractor::new(egraph, CostKey { atoms });
    let mut dag = Dag::new();
    let mut done: HashMap<Id, usize> = HashMap::new();
    // Iterative post-order over classes (the best terms form an acyclic graph: every
    // child is strictly cheaper than its parent).
    let mut stack = vec![egraph.find(root)];
    while let Some(&class) = stack.last() {
        if done.contains_key(&class) {
            stack.pop();
            continue;
        }
        let node = extractor.find_best_node(class);
        let pending: Vec<Id> = node
            .children()
            .iter()
            .map(|&c| egraph.find(c))
            .filter(|c| !done.contains_key(c))
            .collect();
        if pending.is_empty() {
            let node = node
                .clone()
                .map_children(|c| Id::from(done[&egraph.find(c)]));
            let i = dag.push(node, Some(class), atoms);
            done.insert(class, i);
            stack.pop();
        } else {
            stack.extend(pending);
        }
    }
    dag
}
