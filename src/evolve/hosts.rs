//! Programs the operators read ([`Host`]): parents with their fitted values as defaults,
//! library forms and building blocks, each checked once with its typed subexpressions.

use super::Parent;
use super::tree::{self, Env, Root, Site};
use ansatz_grammar::{Program, Signature, Type, check, parse};
use std::collections::BTreeSet;

/// A program the operators can read: a parent (with its fitted parameter values as
/// defaults), a library form or a building block.
#[derive(Clone, Debug)]
pub(crate) struct Host {
    /// Index into the caller's parents, `None` for library forms and building blocks.
    pub index: Option<usize>,
    /// The program.
    pub program: Program,
    /// Types of its names.
    pub env: Env,
    /// Its typed subexpressions.
    pub sites: Vec<Site>,
    /// Its loss (`+inf` for library forms).
    pub fitness: f64,
    /// The type of its return value.
    pub ty: Type,
    /// Inputs and the bindings that depend on them (see [`tree::live_names`]).
    pub live: BTreeSet<String>,
}

impl Host {
    /// True when the node at `root`/`path` varies with the inputs.
    pub(crate) fn is_live(&self, root: Root, path: &[usize]) -> bool {
        tree::expr_at(&self.program, root, path).is_some_and(|e| tree::depends(e, &self.live))
    }
}

/// A checked program as a host for the operators.
pub(crate) fn host(src: &str, signature: &Signature, index: Option<usize>) -> Option<Host> {
    let program = parse(src).ok()?;
    let law = check(&program, signature).ok()?;
    let env = tree::env_of(&law);
    let sites = tree::sites(&program, &env);
    let live = tree::live_names(&program, signature.inputs.iter().map(|(n, _)| n.as_str()));
    Some(Host {
        live,
        index,
        ty: law.return_type(),
        program,
        env,
        sites,
        fitness: f64::INFINITY,
    })
}

/// A building block: a program over the signature's inputs returning a scalar, vector or
/// matrix.
pub(crate) fn term_host(src: &str, signature: &Signature) -> Option<Host> {
    [Type::Mat3, Type::Scalar, Type::Vec3]
        .into_iter()
        .find_map(|ty| host(src, &Signature::new(signature.inputs.clone(), ty), None))
}

/// A parent as a host, its fitted values as defaults (when there is one finite value per
/// parameter).
pub(crate) fn parent_host(p: &Parent<'_>, index: usize, signature: &Signature) -> Option<Host> {
    let mut h = host(p.source, signature, Some(index))?;
    if p.params.len() == h.program.params.len() && p.params.iter().all(|v| v.is_finite()) {
        for (q, &v) in h.program.params.iter_mut().zip(p.params) {
            q.value = v;
        }
    }
    h.fitness = if p.fitness.is_nan() {
        f64::INFINITY
    } else {
        p.fitness
    };
    Some(h)
}
