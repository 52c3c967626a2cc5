//! The structured operator: elastic laws built in the form every isotropic law takes,
//! `tau = sum of coefficient * shape(factor) * basis`, instead of looked up.
//!
//! * A **basis** is a tensor coaxial with `B = F @ F.T`: `I`, `B - I`, `B`, `B @ B - B`,
//!   the deviatoric isochoric `dev(Bb)` and `dev(Bb @ Bb)` (`Bb = J ** (-2 / 3) * B`), or a
//!   principal-stretch tensor `U @ diag(s ** a - 1) @ U.T`, `U @ diag(log(s)) @ U.T`. So a
//!   sum of terms is `phi0 I + phi1 B + phi2 B²` or its principal-stretch equivalent.
//! * A **factor** is a scalar invariant that vanishes at rest: `log(J)`, `J - 1`,
//!   `J (J - 1)`, `J² - 1`, `1 - J ** (-q)`, `I1 - 3`, `I1b - 3`, `I2b - 3` (or none).
//! * A **shape** maps the factor: itself, its square, Gent's `1 / (1 - x / Jm)` or
//!   `exp(g x)`.
//!
//! A term is kept only when it vanishes at rest (its basis does, or its factor does and the
//! shape keeps zero), so every law built here gives `tau(I) = 0`. Each term's coefficient
//! is `±exp(c)` with `c` a parameter (a log modulus, defaulting to log 1e5 for seeds, the
//! scale of the shipped tasks' moduli), so a fit moves moduli on a log scale.
//!
//! The parameter names carry the structure (`c_devbb_i1b_gent_p` is the coefficient of
//! `+ Gent(I1b - 3) dev(Bb)`; `g_...`, `a_...`, `q_...` its shape, basis and factor
//! parameters), so a parent built here is read back ([`Genome::decode`]) with its fitted
//! values, and grown (a term added), pruned (a negligible or random term removed), varied
//! (one part of a term replaced) or crossed (a term of another parent added). Growth is
//! also guided ([`guided_growth`]): every possible addition to the best parent is ranked by
//! the loss decrease the problem expects of its coefficient, and the best are proposed.

mod plastic;
mod term;

use super::{Evolve, Offspring, Parent};
use crate::law::Gain;
use ansatz_grammar::{Program, parse};
use ansatz_simulator::MaterialKind;
use rand::Rng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use term::{Basis, Factor, Shape, Term};

/// Log of the default modulus of a seed's terms (1e5, the scale of the shipped moduli).
const SEED_LOG_MODULUS: f64 = 11.5;
/// Log of the default modulus of a term added to a fitted parent (1e4: a small change).
const GROWN_LOG_MODULUS: f64 = 9.2;
/// A term whose modulus is below this fraction of the largest one is negligible.
const NEGLIGIBLE: f64 = 1e-3;

/// The invariants every law here may use (unused ones are pruned when it is finished).
const HEAD: &str = "J = det(F)
B = F @ F.T
I1 = trace(B)
Bb = J ** (-2 / 3) * B
I1b = trace(Bb)
I2b = (I1b * I1b - trace(Bb @ Bb)) / 2
U, sigma, Vh = svd(F)
s = max(sigma, 1e-5)
";

/// A law built here: its terms with their parameter values by role letter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Genome {
    genes: Vec<(Term, BTreeMap<char, f64>)>,
}

impl Genome {
    /// A law of the given terms at their default values (`log_modulus` for coefficients).
    fn of(terms: &[Term], log_modulus: f64) -> Genome {
        let mut g = Genome { genes: Vec::new() };
        for &t in terms {
            g.add(t, log_modulus);
        }
        g
    }

    /// Adds a term at its defaults unless its slot is taken; false when it was.
    fn add(&mut self, term: Term, log_modulus: f64) -> bool {
        if !term.valid() || self.genes.iter().any(|(t, _)| t.same_slot(term)) {
            return false;
        }
        let mut values: BTreeMap<char, f64> = term.extras().into_iter().collect();
        values.insert('c', log_modulus);
        self.genes.push((term, values));
        self.genes.sort_by_key(|a| a.0);
        true
    }

    /// The law's source text.
    pub(crate) fn source(&self) -> String {
        let mut src = String::new();
        for (t, values) in &self.genes {
            for (role, v) in values {
                src.push_str(&format!("param {role}_{} = {v:?}\n", t.key()));
            }
        }
        src.push_str(HEAD);
        let terms: Vec<String> = self.genes.iter().map(|(t, _)| t.expr()).collect();
        src.push_str(&format!("return {}", terms.join(" + ")));
        src
    }

    /// The law as a program, `None` when it has no term or does not parse.
    pub(crate) fn program(&self) -> Option<Program> {
        if self.genes.is_empty() {
            return None;
        }
        parse(&self.source()).ok()
    }

    /// Reads a parent built here back, with its fitted values; `None` for any other law.
    pub(crate) fn decode(parent: &Parent<'_>) -> Option<Genome> {
        let program = parse(parent.source).ok()?;
        let fitted = parent.params.len() == program.params.len()
            && parent.params.iter().all(|v| v.is_finite());
        let mut genes: BTreeMap<String, (Term, BTreeMap<char, f64>)> = BTreeMap::new();
        for (i, p) in program.params.iter().enumerate() {
            let (role, key) = p.name.split_once('_')?;
            let role = role.chars().next().filter(|_| role.len() == 1)?;
            let term = Term::from_key(key)?;
            let value = if fitted { parent.params[i] } else { p.value };
            let entry = genes
                .entry(key.to_string())
                .or_insert((term, BTreeMap::new()));
            entry.1.insert(role, value);
        }
        let mut g = Genome {
            genes: genes.into_values().collect(),
        };
        g.genes.sort_by_key(|a| a.0);
        // The structure must be exactly what this module writes for those terms.
        let shape = |mut p: Program| {
            p.params.iter_mut().for_each(|q| q.value = 0.0);
            super::tree::prune(&mut p);
            p.to_string()
        };
        let same = shape(g.program()?) == shape(program);
        same.then_some(g)
    }

    /// The term with the smallest modulus when it is negligible beside the largest.
    fn negligible(&self) -> Option<usize> {
        let c = |i: usize| self.genes[i].1.get(&'c').copied().unwrap_or(f64::NAN);
        let largest = (0..self.genes.len())
            .map(c)
            .fold(f64::NEG_INFINITY, f64::max);
        (0..self.genes.len())
            .filter(|&i| c(i) < largest + NEGLIGIBLE.ln())
            .min_by(|&a, &b| c(a).total_cmp(&c(b)))
    }
}

/// Seeds: a shear term and a volume term (every pair, in a fixed order).
pub(crate) fn seeds() -> Vec<Genome> {
    let shear = [
        Term::new(Basis::BMinusI, Factor::One),
        Term::new(Basis::DevIso, Factor::One),
        Term::new(Basis::Principal, Factor::One),
        Term::new(Basis::Hencky, Factor::One),
    ];
    let volume = [
        Factor::LogJ,
        Factor::JMinus1,
        Factor::JTimesJMinus1,
        Factor::JSquaredMinus1,
        Factor::JPower,
    ];
    let mut out = Vec::new();
    for f in volume {
        for s in shear {
            out.push(Genome::of(
                &[s, Term::new(Basis::Identity, f)],
                SEED_LOG_MODULUS,
            ));
        }
    }
    out
}

/// A child of structured parents (`(index into the caller's parents, genome, loss)`), or
/// `None` when the chosen change does not apply. Returns the program and the parents used.
pub(crate) fn vary(
    rng: &mut ChaCha8Rng,
    parents: &[(usize, Genome, f64)],
) -> Option<(Program, Vec<usize>)> {
    let pick = |rng: &mut ChaCha8Rng| -> Option<&(usize, Genome, f64)> {
        let a = parents.choose(rng)?;
        let b = parents.choose(rng)?;
        Some(if b.2 < a.2 { b } else { a })
    };
    let (i, parent, _) = pick(rng)?;
    let mut g = parent.clone();
    let mut used = vec![*i];
    match rng.random_range(0..8) {
        // Grow: a random new term, half the time on a basis the parent already uses (a
        // richer phi of the same tensor, as in Mooney-Rivlin, Yeoh, Gent over neo-Hookean).
        0..=2 => {
            let mut t = Term::random(rng);
            if rng.random_bool(0.5) {
                t.basis = g.genes.choose(rng)?.0.basis;
            }
            if !g.add(t, GROWN_LOG_MODULUS) {
                return None;
            }
        }
        // Prune: the negligible term, else a random one of three or more (one term alone
        // is rarely a law: a shear term needs a volume term).
        3 | 4 => {
            if g.genes.len() < 2 {
                return None;
            }
            let k = match g.negligible() {
                Some(k) => k,
                None if g.genes.len() >= 3 => rng.random_range(0..g.genes.len()),
                None => return None,
            };
            g.genes.remove(k);
        }
        // Vary one part of one term, keeping its coefficient.
        5 | 6 => {
            let k = rng.random_range(0..g.genes.len());
            let (old, values) = g.genes.remove(k);
            let mut t = old;
            match rng.random_range(0..4) {
                0 => t.basis = *Basis::ALL.choose(rng)?,
                1 => t.factor = *Factor::ALL.choose(rng)?,
                2 => t.shape = *Shape::ALL.choose(rng)?,
                _ => t.negative = !t.negative,
            }
            let c = values.get(&'c').copied().unwrap_or(GROWN_LOG_MODULUS);
            if t == old || !g.add(t, c) {
                return None;
            }
        }
        // Cross: a term of another parent, with its fitted values.
        _ => {
            let (j, other, _) = pick(rng)?;
            let (t, values) = other.genes.choose(rng)?.clone();
            if !g.add(t, GROWN_LOG_MODULUS) {
                return None;
            }
            if let Some(gene) = g.genes.iter_mut().find(|(u, _)| *u == t) {
                gene.1 = values;
            }
            used.push(*j);
        }
    }
    used.sort_unstable();
    used.dedup();
    Some((g.program()?, used))
}

/// How far (in log units) below the parent's smallest modulus a term sits while its gain is
/// measured: present, so that the loss has a gradient in it, but negligible (1e-4).
const PROBE_BELOW: f64 = 9.2;

/// Every single-term addition to `parent` (each slot once; the sign comes from the step),
/// ranked by the loss decrease `gains` expects of it, largest first, each child starting
/// with its term at the expected best coefficient. `gains` is asked for the coefficients of
/// eight probe terms at a time, added together to the parent at a negligible modulus (their
/// gains are those of each term alone, to first order); a batch it cannot score is asked
/// again term by term. Additions with no expected decrease are left out.
pub(crate) fn guided_growth(
    parent: &Genome,
    gains: &mut super::Gains<'_>,
) -> Vec<(Term, Program, f64)> {
    let Some(smallest) = parent
        .genes
        .iter()
        .filter_map(|(_, v)| v.get(&'c').copied())
        .filter(|c| c.is_finite())
        .reduce(f64::min)
    else {
        return Vec::new();
    };
    let probe_c = smallest - PROBE_BELOW;
    let slots: Vec<Term> = additions(parent);
    let mut scored: Vec<(Term, Gain)> = Vec::new();
    let mut score = |terms: &[Term], scored: &mut Vec<(Term, Gain)>| -> bool {
        let mut probe = parent.clone();
        for &t in terms {
            probe.add(t, probe_c);
        }
        // A probe is the engine's own text, not a proposal: more parameters than a law
        // may declare are allowed (only eight are differentiated at a time).
        let limits = ansatz_grammar::Limits::default().with_max_params(64);
        let Ok(program) = ansatz_grammar::parse_with(&probe.source(), &limits) else {
            return false;
        };
        let which: Option<Vec<usize>> = terms
            .iter()
            .map(|t| {
                let name = format!("c_{}", t.key());
                program.params.iter().position(|p| p.name == name)
            })
            .collect();
        let Some(which) = which else { return false };
        match gains(&program, &which) {
            Some(g) if g.len() == terms.len() => {
                scored.extend(terms.iter().copied().zip(g));
                true
            }
            _ => false,
        }
    };
    for chunk in slots.chunks(8) {
        if !score(chunk, &mut scored) && chunk.len() > 1 {
            for &t in chunk {
                score(&[t], &mut scored);
            }
        }
    }
    let mut out: Vec<(Term, Program, f64)> = scored
        .into_iter()
        .filter(|(_, g)| g.decrease() > 0.0)
        .filter_map(|(mut t, g)| {
            // The coefficient exp(c) moves to exp(probe_c) (1 + step) (linear in it).
            let coefficient = 1.0 + g.step();
            if coefficient == 0.0 || !coefficient.is_finite() {
                return None;
            }
            t.negative = coefficient < 0.0;
            let mut child = parent.clone();
            child.add(t, probe_c + coefficient.abs().ln());
            Some((t, child.program()?, g.decrease()))
        })
        .collect();
    out.sort_by(|a, b| b.2.total_cmp(&a.2));
    out
}

/// The valid slots (positive sign) not taken in `g`, in a fixed order.
fn additions(g: &Genome) -> Vec<Term> {
    let mut out = Vec::new();
    for &basis in Basis::ALL {
        for &factor in Factor::ALL {
            for &shape in Shape::ALL {
                let t = Term {
                    basis,
                    factor,
                    shape,
                    negative: false,
                };
                if t.valid() && !g.genes.iter().any(|(u, _)| u.same_slot(t)) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// A seed with one random term more (fresh structures once the seeds are used up).
fn random_law(rng: &mut ChaCha8Rng) -> Option<Program> {
    let mut g = seeds().choose(rng)?.clone();
    g.add(Term::random(rng), GROWN_LOG_MODULUS);
    g.program()
}

/// Its loss as a tournament compares it (NaN as +inf).
fn loss(p: &Parent<'_>) -> f64 {
    if p.fitness.is_nan() {
        f64::INFINITY
    } else {
        p.fitness
    }
}

/// What the structured operator draws from in one [`Evolve::propose`] call: the parents
/// built here (read back with their fitted values) and the seeds in a random order.
pub(crate) struct Builder {
    kind: MaterialKind,
    elastic: Vec<(usize, Genome, f64)>,
    plastic: Vec<(usize, plastic::Genome, f64)>,
    fresh: std::vec::IntoIter<Program>,
}

impl Builder {
    /// The builder of the `kind` path over `parents`.
    pub(crate) fn new(rng: &mut ChaCha8Rng, kind: MaterialKind, parents: &[Parent<'_>]) -> Self {
        let numbered = || parents.iter().enumerate();
        let (elastic, plastic, mut fresh): (Vec<_>, Vec<_>, Vec<Program>) = match kind {
            MaterialKind::Plastic => (
                Vec::new(),
                numbered()
                    .filter_map(|(i, p)| Some((i, plastic::Genome::decode(p)?, loss(p))))
                    .collect(),
                plastic::seeds()
                    .iter()
                    .filter_map(|g| g.program())
                    .collect(),
            ),
            _ => (
                numbered()
                    .filter_map(|(i, p)| Some((i, Genome::decode(p)?, loss(p))))
                    .collect(),
                Vec::new(),
                seeds().iter().filter_map(|g| g.program()).collect(),
            ),
        };
        fresh.shuffle(rng);
        Builder {
            kind,
            elastic,
            plastic,
            fresh: fresh.into_iter(),
        }
    }

    /// The best elastic parent built here (lowest loss), with its index among the
    /// caller's parents.
    fn best_elastic(&self) -> Option<(usize, &Genome)> {
        self.elastic
            .iter()
            .filter(|(_, _, l)| l.is_finite())
            .min_by(|a, b| a.2.total_cmp(&b.2))
            .map(|(i, g, _)| (*i, g))
    }

    /// A child of a parent built here (seven times in ten when there is one), else a fresh
    /// seed, else (seeds used up) a random structure; with the parents it came from.
    fn child(&mut self, rng: &mut ChaCha8Rng) -> Option<(Program, Vec<usize>)> {
        let has_parents = !(self.elastic.is_empty() && self.plastic.is_empty());
        if has_parents && rng.random_bool(0.7) {
            return match self.kind {
                MaterialKind::Plastic => plastic::vary(rng, &self.plastic),
                _ => vary(rng, &self.elastic),
            };
        }
        let fresh = match self.fresh.next() {
            Some(p) => Some(p),
            None => match self.kind {
                MaterialKind::Plastic => plastic::seeds().choose(rng)?.program(),
                _ => random_law(rng),
            },
        };
        fresh.map(|p| (p, Vec::new()))
    }
}

impl Evolve {
    /// Adds up to `n` single-term additions to the best elastic parent built here, the ones
    /// `gains` expects to lower the loss most first ([`guided_growth`]), one per basis
    /// before a second of any, skipping any seen.
    pub(super) fn seed_guided(
        &mut self,
        n: usize,
        builder: &Builder,
        gains: &mut super::Gains<'_>,
        seen: &BTreeSet<u64>,
        batch: &mut BTreeSet<u64>,
        out: &mut Vec<Offspring>,
    ) {
        if n == 0 || builder.kind == MaterialKind::Plastic {
            return;
        }
        let Some((index, parent)) = builder.best_elastic() else {
            return;
        };
        // Terms of one basis whose shape is nearly constant are nearly one direction (a
        // dozen `dev(Bb @ Bb)` variants can top the ranking together): the first pass takes
        // the best term of each basis, the second fills up in rank order.
        let ranked = guided_growth(parent, gains);
        let mut bases: Vec<Basis> = Vec::new();
        let mut first = Vec::new();
        let mut rest = Vec::new();
        for (term, program, _) in ranked {
            if bases.contains(&term.basis) {
                rest.push(program);
            } else {
                bases.push(term.basis);
                first.push(program);
            }
        }
        let mut added = 0;
        for program in first.into_iter().chain(rest) {
            if added >= n {
                break;
            }
            self.stats.attempts += 1;
            if let Some((source, hash)) = self.finish(program, seen, batch) {
                self.stats.accepted += 1;
                batch.insert(hash);
                out.push(Offspring {
                    source,
                    parents: vec![index],
                    operator: "guided",
                    perturbed: false,
                    hash,
                });
                added += 1;
            }
        }
    }

    /// Adds up to `n` new structured laws from `builder`, within `n` times the attempts per
    /// offspring and the call's remaining attempts `budget` (decremented per attempt).
    pub(super) fn seed_structured(
        &mut self,
        n: usize,
        builder: &mut Builder,
        budget: &mut usize,
        seen: &BTreeSet<u64>,
        batch: &mut BTreeSet<u64>,
        out: &mut Vec<Offspring>,
    ) {
        let mut added = 0;
        // At most its own attempts per offspring, so that a space whose structures are all
        // seen (the plastic one is small) leaves the rest of the budget to the others.
        let mut own = n.saturating_mul(self.config.attempts_per_offspring);
        while added < n && *budget > 0 && own > 0 {
            *budget -= 1;
            own -= 1;
            self.stats.attempts += 1;
            let Some((program, parents)) = builder.child(&mut self.rng) else {
                self.stats.not_applicable += 1;
                continue;
            };
            if let Some((source, hash)) = self.finish(program, seen, batch) {
                self.stats.accepted += 1;
                batch.insert(hash);
                out.push(Offspring {
                    source,
                    parents,
                    operator: "structured",
                    perturbed: false,
                    hash,
                });
                added += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests;
