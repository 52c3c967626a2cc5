//! The e-graph layer: simplification, canonical forms and complexity of laws.
//!
//! A checked program is lowered to an egg [`RecExpr`](egg::RecExpr) ([`lower`]: let-bindings
//! inlined into a DAG, `svd`/`polar` outputs as separate component nodes), saturated with
//! the rewrite rules of [`rules`] under node and iteration limits ([`Limits`]), and the
//! cheapest term is extracted by complexity with a deterministic tie-break. The extracted
//! term is normalised (sums, products and matrix-product chains flattened, commutative
//! operands sorted) and written back as a program of the law language.
//!
//! * [`simplify`] gives the simplified law (a [`Program`] that parses and checks against
//!   the same signature, parameters kept with their defaults), its complexity, and its
//!   [`Canonical`] identity.
//! * [`canonical`] gives only the identity: the canonical form (parameters renamed `p0`,
//!   `p1`, ... and their values left out) and its 64-bit FNV-1a hash. Two spellings of one
//!   law share it; it is the same on every run and thread.
//! * [`complexity`] is the number of nodes of the law written as one expression tree.
//!
//! Simplification never changes a law's value (up to rounding; the rules are tested at
//! random points) and never increases its complexity (when the normal form would be
//! larger, the law is returned as it was).
//!
//! ```
//! use ansatz_grammar::{load, Signature, egraph};
//! let sig = Signature::elastic();
//! let a = load("param mu = 1\nreturn mu * (F @ F.T - I)", &sig).unwrap();
//! let b = load("param k = 5\nreturn -(k * (I - F @ F.T))", &sig).unwrap();
//! assert_eq!(egraph::canonical(&a).hash, egraph::canonical(&b).hash);
//!
//! let c = load("return (det(F.T @ F) + trace(I @ F.T)) * I", &sig).unwrap();
//! let s = egraph::simplify(&c);
//! assert_eq!(s.program.ret.to_string(), "I * (det(F) ** 2 + trace(F))");
//! assert!(s.complexity < s.original_complexity);
//! ```

pub mod analysis;
pub(crate) mod canonical;
pub(crate) mod dag;
pub mod lang;
mod lower;
pub(crate) mod normalize;
mod raise;
pub mod rules;

pub use analysis::{Data, TensorAnalysis, TensorGraph};
pub use canonical::{Canonical, fnv1a};
pub use lang::{Atom, Atoms, LetAtom, Num, Tensor};
pub use lower::{Lowered, lower};

use crate::ast::Program;
use crate::check::{CheckedProgram, check};
use dag::Dag;
use egg::{Id, Language, Runner};
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Limits of one simplification run. The defaults keep a run at a few milliseconds for
/// the laws of `tasks/laws`; the result is deterministic as long as the time limit (a
/// safety net only) is not what stops the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest e-graph size in e-nodes (the canonical run, everything inlined).
    pub nodes: usize,
    /// Largest e-graph size of the display run of [`simplify`] (named parameter-only
    /// bindings frozen); it needs less search, only a readable law.
    pub display_nodes: usize,
    /// Largest number of rule-application rounds.
    pub iterations: usize,
    /// Wall-clock limit (a safety net against a runaway input).
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            nodes: 2_500,
            display_nodes: 1_000,
            iterations: 12,
            time: Duration::from_secs(2),
        }
    }
}

impl Limits {
    /// Limits with the given node and iteration caps (both runs) and the default time
    /// limit.
    pub fn new(nodes: usize, iterations: usize) -> Self {
        Limits {
            nodes,
            display_nodes: nodes,
            iterations,
            ..Limits::default()
        }
    }
}

/// The result of [`simplify`].
#[derive(Clone, Debug)]
pub struct Simplified {
    /// The simplified law; it parses and checks against the original signature, and its
    /// parameters are the original ones with their defaults, in the same order.
    pub program: Program,
    /// Complexity of `program`.
    pub complexity: u64,
    /// Complexity of the law before simplification.
    pub original_complexity: u64,
    /// The identity of the law.
    pub canonical: Canonical,
    /// What the e-graph run did.
    pub stats: Stats,
}

/// Statistics of one e-graph run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Rounds of rule application.
    pub iterations: usize,
    /// E-nodes at the end.
    pub nodes: usize,
    /// E-classes at the end.
    pub classes: usize,
    /// Why the run stopped (`saturated`, `node limit`, `iteration limit`, `time limit`).
    pub stop: String,
}

/// Simplifies a law with the default [`Limits`].
pub fn simplify(law: &CheckedProgram) -> Simplified {
    simplify_with(law, &Limits::default())
}

/// The canonical identity of a law (default [`Limits`]).
pub fn canonical(law: &CheckedProgram) -> Canonical {
    canonical_with(law, &Limits::default())
}

/// The canonical identity of a law under `limits`.
pub fn canonical_with(law: &CheckedProgram, limits: &Limits) -> Canonical {
    let lowered = lower::lower_program(law.program(), law.signature(), false);
    let run = saturate(&lowered, limits);
    canonical_of(law, &lowered, &run, u64::MAX)
}

/// The complexity of a law as written: the number of nodes of its expression tree with
/// every binding written out (each operator, function, tuple component, input,
/// parameter and number counts 1; saturates at `u64::MAX`).
///
/// ```
/// use ansatz_grammar::{load, Signature, egraph::complexity};
/// let law = load("J = det(F)\nreturn (J - 1) * J * I", &Signature::elastic()).unwrap();
/// assert_eq!(complexity(&law), 9); // (* (* (- (det F) 1) (det F)) I)
/// ```
pub fn complexity(law: &CheckedProgram) -> u64 {
    let lowered = lower(law);
    Dag::from_recexpr(&lowered.expr, &lowered.atoms).complexity(&lowered.atoms)
}

/// One saturated e-graph: its normal-form extraction and what the run did.
struct Run {
    normal: Dag,
    names: HashMap<Id, String>,
    stats: Stats,
}

/// Saturates the lowered law under `limits`, extracts and normalises the best term.
fn saturate(lowered: &Lowered, limits: &Limits) -> Run {
    let mut egraph = TensorGraph::new(TensorAnalysis {
        atoms: lowered.atoms.clone(),
    });
    let mut class: Vec<Id> = Vec::with_capacity(lowered.expr.as_ref().len());
    for node in lowered.expr.as_ref() {
        let node = node.clone().map_children(|c| class[usize::from(c)]);
        class.push(egraph.add(node));
    }
    let root = class[usize::from(lowered.root)];
    let runner: Runner<Tensor, TensorAnalysis> = Runner::default()
        .with_egraph(egraph)
        .with_node_limit(limits.nodes)
        .with_iter_limit(limits.iterations)
        .with_time_limit(limits.time)
        .run(rules::rewrites());
    let g = &runner.egraph;
    let mut names: HashMap<Id, String> = HashMap::new();
    for (name, id) in &lowered.names {
        names
            .entry(g.find(class[usize::from(*id)]))
            .or_insert_with(|| name.clone());
    }
    let extracted = dag::extract(g, root);
    let normal = normalize::normalize(&extracted, &lowered.atoms);
    let stats = Stats {
        iterations: runner.iterations.len(),
        nodes: g.total_size(),
        classes: g.number_of_classes(),
        stop: match &runner.stop_reason {
            Some(egg::StopReason::Saturated) => "saturated".to_string(),
            Some(egg::StopReason::NodeLimit(_)) => "node limit".to_string(),
            Some(egg::StopReason::IterationLimit(_)) => "iteration limit".to_string(),
            Some(egg::StopReason::TimeLimit(_)) => "time limit".to_string(),
            Some(other) => format!("{other:?}"),
            None => "not run".to_string(),
        },
    };
    Run {
        normal,
        names,
        stats,
    }
}

/// The canonical form of a fully inlined run; its complexity is the smallest of the
/// form's, the original's and `other`.
fn canonical_of(law: &CheckedProgram, lowered: &Lowered, run: &Run, other: u64) -> Canonical {
    let atoms = &lowered.atoms;
    let original = Dag::from_recexpr(&lowered.expr, atoms).complexity(atoms);
    let form = raise::raise(
        &run.normal,
        law.signature(),
        &law.program().params,
        &raise::Naming::Canonical,
    );
    let complexity = run.normal.complexity(atoms).min(original).min(other);
    Canonical::new(body_text(&form), complexity)
}

/// Simplifies a law under `limits`.
///
/// Two runs: one with named parameter-only bindings (`E`, `mu`, ...) frozen as opaque
/// atoms, which gives the readable simplified law, and one with everything inlined,
/// which gives the canonical identity.
pub fn simplify_with(law: &CheckedProgram, limits: &Limits) -> Simplified {
    let signature = law.signature();
    let program = law.program();
    let frozen = lower::lower_program(program, signature, true);
    let display = Limits {
        nodes: limits.display_nodes,
        ..*limits
    };
    let run = saturate(&frozen, &display);
    let atoms = &frozen.atoms;
    let original_complexity = Dag::from_recexpr(&frozen.expr, atoms).complexity(atoms);
    let normal_complexity = run.normal.complexity(atoms);

    // Names of kept statements are reserved; which statements are kept is decided by
    // what the simplified part uses.
    let reserved: HashSet<String> = frozen
        .input_free
        .iter()
        .flat_map(|&i| program.stmts[i].names.iter().map(|n| n.name.clone()))
        .filter(|n| n != "_")
        .collect();
    let let_names: Vec<String> = frozen.lets.iter().map(|(n, _)| n.clone()).collect();
    let raised = raise::raise(
        &run.normal,
        signature,
        &program.params,
        &raise::Naming::Original {
            names: &run.names,
            reserved: &reserved,
            lets: &let_names,
        },
    );
    let assembled = keep_input_free(program, &frozen.input_free, raised);
    let valid = crate::parse(&assembled.to_string())
        .ok()
        .filter(|p| check(p, signature).is_ok());
    let (simplified, complexity) = match valid {
        Some(p) if normal_complexity <= original_complexity => (p, normal_complexity),
        _ => (program.clone(), original_complexity),
    };

    let inlined = lower::lower_program(program, signature, false);
    let full = saturate(&inlined, limits);
    let canonical = canonical_of(law, &inlined, &full, complexity);
    Simplified {
        program: simplified,
        complexity,
        original_complexity,
        canonical,
        stats: run.stats,
    }
}

/// Puts back, before the statements of `raised`, the original input-free statements
/// (frozen bindings and what they use) that `raised` needs, in their original order.
fn keep_input_free(program: &Program, input_free: &[usize], mut raised: Program) -> Program {
    let mut needed: HashSet<String> = HashSet::new();
    for s in &raised.stmts {
        free_names(&s.value, &mut needed);
    }
    free_names(&raised.ret, &mut needed);
    let mut keep = Vec::new();
    for &i in input_free.iter().rev() {
        let s = &program.stmts[i];
        if s.names.iter().any(|n| needed.contains(&n.name)) {
            free_names(&s.value, &mut needed);
            keep.push(s.clone());
        }
    }
    keep.reverse();
    keep.append(&mut raised.stmts);
    raised.stmts = keep;
    raised
}

/// Adds every name an expression refers to.
fn free_names(e: &crate::ast::Expr, out: &mut HashSet<String>) {
    use crate::ast::ExprKind;
    match &e.kind {
        ExprKind::Num(_) => {}
        ExprKind::Var(n) => {
            out.insert(n.clone());
        }
        ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => free_names(a, out),
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
            free_names(a, out);
            free_names(b, out);
        }
        ExprKind::Call(_, args) => args.iter().for_each(|a| free_names(a, out)),
    }
}

/// The statements and the return of a program, without parameter declarations.
fn body_text(p: &Program) -> String {
    let mut out = String::new();
    for s in &p.stmts {
        out.push_str(&s.to_string());
        out.push('\n');
    }
    out.push_str("return ");
    out.push_str(&p.ret.to_string());
    out
}

#[cfg(test)]
mod soundness;
