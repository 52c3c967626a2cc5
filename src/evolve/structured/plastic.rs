//! Structured return mappings (the plastic path): isotropic maps of the principal log
//! strains `eps` of `F = U diag(sigma) Vh`, built from a yield function of the deviatoric
//! part `e = eps - t / 3` (`t = sum(eps)`) and a rule for the volumetric part `t`:
//!
//! * yield: none, von Mises (`f = |e| - exp(y)`), or Drucker–Prager-like
//!   (`f = |e| + a t - exp(y)`), with a radial return `e (1 - max(f, 0) / |e|)`;
//! * volume: kept, capped (`clamp(t, -exp(v), exp(v))`), or tension-free (no strain at all
//!   when `t > 0`).
//!
//! The result is `U @ diag(exp(e' + t' / 3)) @ Vh`: the identity at rest and rotation-
//! equivariant by construction. Parameter names carry the structure as on the elastic path
//! (`y_vm_cap` is the log yield strain of von Mises with a volume cap).

use super::Parent;
use ansatz_grammar::{Program, parse};
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

/// The yield function of the deviatoric part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Yield {
    None,
    VonMises,
    DruckerPrager,
}

/// What happens to the volumetric part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Volume {
    Keep,
    Cap,
    TensionFree,
}

const YIELDS: [(Yield, &str); 3] = [
    (Yield::None, "none"),
    (Yield::VonMises, "vm"),
    (Yield::DruckerPrager, "dp"),
];
const VOLUMES: [(Volume, &str); 3] = [
    (Volume::Keep, "keep"),
    (Volume::Cap, "cap"),
    (Volume::TensionFree, "tension"),
];

/// A return mapping built here, with its parameter values by role letter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Genome {
    yield_: Yield,
    volume: Volume,
    values: BTreeMap<char, f64>,
}

impl Genome {
    /// The structure at its default values; `None` for one without parameters (the
    /// identity, or tension cut-off alone), which could not be read back.
    fn of(yield_: Yield, volume: Volume) -> Option<Genome> {
        let mut g = Genome {
            yield_,
            volume,
            values: BTreeMap::new(),
        };
        for (role, default) in g.roles() {
            g.values.insert(role, default);
        }
        (!g.values.is_empty()).then_some(g)
    }

    /// Its parameters (role letter, default): log yield strain `y` (0.1), friction `a`
    /// (0.2), log volume cap `v` (0.05).
    fn roles(&self) -> Vec<(char, f64)> {
        let mut r = Vec::new();
        if self.yield_ != Yield::None {
            r.push(('y', 0.1f64.ln()));
        }
        if self.yield_ == Yield::DruckerPrager {
            r.push(('a', 0.2));
        }
        if self.volume == Volume::Cap {
            r.push(('v', 0.05f64.ln()));
        }
        r
    }

    fn key(&self) -> String {
        let y = YIELDS
            .iter()
            .find(|(x, _)| *x == self.yield_)
            .map_or("", |x| x.1);
        let v = VOLUMES
            .iter()
            .find(|(x, _)| *x == self.volume)
            .map_or("", |x| x.1);
        format!("{y}_{v}")
    }

    /// The law's source text.
    pub(crate) fn source(&self) -> String {
        let k = self.key();
        let mut src = String::new();
        for (role, v) in &self.values {
            src.push_str(&format!("param {role}_{k} = {v:?}\n"));
        }
        src.push_str(
            "U, sigma, Vh = svd(F)\neps = log(max(sigma, 0.01))\nt = sum(eps)\n\
             e = eps - t / 3\nn = norm(e) + 1e-8\n",
        );
        let f = match self.yield_ {
            Yield::None => None,
            Yield::VonMises => Some(format!("n - exp(y_{k})")),
            Yield::DruckerPrager => Some(format!("n + a_{k} * t - exp(y_{k})")),
        };
        match f {
            Some(f) => src.push_str(&format!("f = {f}\ne2 = e * (1 - max(f, 0) / n)\n")),
            None => src.push_str("e2 = e\n"),
        }
        match self.volume {
            Volume::Cap => src.push_str(&format!("t2 = clamp(t, -exp(v_{k}), exp(v_{k}))\n")),
            Volume::Keep | Volume::TensionFree => src.push_str("t2 = t\n"),
        }
        match self.volume {
            Volume::TensionFree => {
                src.push_str("return U @ diag(exp((e2 + t2 / 3) * where(t > 0, 0, 1))) @ Vh")
            }
            Volume::Keep | Volume::Cap => src.push_str("return U @ diag(exp(e2 + t2 / 3)) @ Vh"),
        }
        src
    }

    /// The law as a program.
    pub(crate) fn program(&self) -> Option<Program> {
        parse(&self.source()).ok()
    }

    /// Reads a parent built here back, with its fitted values; `None` for any other law.
    pub(crate) fn decode(parent: &Parent<'_>) -> Option<Genome> {
        let program = parse(parent.source).ok()?;
        let key = program.params.first()?.name.split_once('_')?.1.to_string();
        let (y, v) = key.split_once('_')?;
        let yield_ = YIELDS.iter().find(|x| x.1 == y)?.0;
        let volume = VOLUMES.iter().find(|x| x.1 == v)?.0;
        let mut g = Genome::of(yield_, volume)?;
        let fitted = parent.params.len() == program.params.len()
            && parent.params.iter().all(|v| v.is_finite());
        for (i, p) in program.params.iter().enumerate() {
            let role = p.name.chars().next()?;
            let value = if fitted { parent.params[i] } else { p.value };
            *g.values.get_mut(&role)? = value;
        }
        let shape = |mut p: Program| {
            p.params.iter_mut().for_each(|q| q.value = 0.0);
            super::super::tree::prune(&mut p);
            p.to_string()
        };
        (shape(g.program()?) == shape(program)).then_some(g)
    }
}

/// Every structure with parameters, at its defaults.
pub(crate) fn seeds() -> Vec<Genome> {
    YIELDS
        .iter()
        .flat_map(|&(y, _)| VOLUMES.iter().filter_map(move |&(v, _)| Genome::of(y, v)))
        .collect()
}

/// A child: one piece of a parent (chosen by a tournament of two) replaced, the values of
/// the parameters it keeps carried over.
pub(crate) fn vary(
    rng: &mut ChaCha8Rng,
    parents: &[(usize, Genome, f64)],
) -> Option<(Program, Vec<usize>)> {
    let a = parents.choose(rng)?;
    let b = parents.choose(rng)?;
    let (i, parent, _) = if b.2 < a.2 { b } else { a };
    let (mut y, mut v) = (parent.yield_, parent.volume);
    if rng.random_bool(0.5) {
        y = YIELDS.choose(rng)?.0;
    } else {
        v = VOLUMES.choose(rng)?.0;
    }
    let mut child = Genome::of(y, v)?;
    if (y, v) == (parent.yield_, parent.volume) {
        return None;
    }
    for (role, value) in child.values.iter_mut() {
        if let Some(&kept) = parent.values.get(role) {
            *value = kept;
        }
    }
    Some((child.program()?, vec![*i]))
}
