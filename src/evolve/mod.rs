//! `evolve`: the built-in offline proposer. It writes new candidate laws from the current
//! parents by genetic programming on the typed AST of the law language, seeded by a
//! library of classical constitutive forms.
//!
//! * **Library seeds** ([`library`]): linear, corotated, neo-Hookean, St. Venant–Kirchhoff,
//!   Hencky, ... for the elastic path; identity, water (volume only), von Mises,
//!   Drucker–Prager, clamped singular values, ... for the plastic path. A batch reserves a
//!   share of its slots ([`EvolveConfig::library_share`]) for forms not yet seen, so the
//!   first rounds try the classical families. A seed starts from the form's own defaults.
//! * **Structured laws** (`structured/`): laws built, not looked up. Elastic: the form every
//!   isotropic law takes, `tau = phi0 I + phi1 B + phi2 B²` (or its isochoric and
//!   principal-stretch equivalents), each term `±exp(c) shape(invariant) basis` and zero at
//!   rest; seeds pair a shear and a volume term, and structured parents are grown, pruned,
//!   varied and crossed term by term with their fitted moduli. Plastic: return mappings of
//!   the principal log strains from a yield function and a volume rule. They take
//!   [`EvolveConfig::structured_share`] of a batch, and the library's share as well when
//!   [`EvolveConfig::library`] is off (`ansatz search --no-library`).
//! * **Guided growth** (forward selection, [`Evolve::propose_with_gains`]): every term that
//!   could be added to the best structured elastic parent (about 230) is scored by the
//!   problem's first-order loss decrease for its coefficient (Gauss–Newton on a short
//!   horizon, [`crate::law::LawProblem::gains`]; eight terms per dual rollout), and the
//!   [`EvolveConfig::guided`] best unseen additions are proposed, each starting at its
//!   expected coefficient and sign.
//! * **Operators** ([`mutate`]): `crossover` (swap subexpressions of the same type between
//!   two parents, parents chosen by tournament on their loss), `blend` (`w A + (1 - w) B`),
//!   `insert_term` (`x + p * term`, a new parameter and a building block), `remove_term`
//!   (one operand of a sum), `swap_function` (`log` ↔ `sqrt`, `det` ↔ `trace`, `+` ↔ `-`,
//!   ...), `const_to_param` (a number becomes a parameter defaulting to it). Any child may
//!   also have one parameter default moved by a few per cent ([`EvolveConfig::perturb_rate`];
//!   on its own that never makes a new law, since the canonical hash ignores values).
//! * **Carry-over**: a parent's parameters start at its fitted values ([`Parent::params`]),
//!   so every child that keeps a parameter starts from the parent's optimum.
//!
//! Every offspring parses, type-checks against the signature, stays within the language
//! limits, [`EvolveConfig::max_params`] and [`EvolveConfig::max_nodes`], and has a
//! canonical hash ([`ansatz_grammar::egraph::canonical`]) that is neither in `seen` nor
//! repeated in the batch. The same seed, parents and `seen` give the same offspring.
//!
//! ```
//! use ansatz::evolve::{Evolve, EvolveConfig, Parent};
//! use ansatz_grammar::Signature;
//! use ansatz_simulator::MaterialKind;
//! use std::collections::BTreeSet;
//!
//! let mut evolve = Evolve::new(Signature::elastic(), MaterialKind::Elastic, EvolveConfig::default());
//! let start = "param mu = 1000\nreturn mu * (F @ F.T - I)";
//! let parents = [Parent { source: start, fitness: 0.3, params: &[2500.0] }];
//! let batch = evolve.propose(&parents, 8, &BTreeSet::new());
//! assert_eq!(batch.len(), 8);
//! assert!(batch.iter().any(|o| o.operator == "library"));
//! for child in &batch {
//!     ansatz_grammar::load(&child.source, &Signature::elastic()).unwrap();
//! }
//! ```

mod hosts;
pub mod library;
mod mutate;
mod proposer;
mod structured;
mod tree;

pub use proposer::EvolveProposer;

use ansatz_grammar::{Program, Signature, check, egraph, parse};
use ansatz_simulator::MaterialKind;
use hosts::{Host, host, parent_host, term_host};
use mutate::{Child, Pool};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Most parameters a law may have (gradients use `DualSVec64<N>` with N at most 8).
pub const MAX_PARAMS: usize = 8;

/// The problem's gains ([`crate::law::LawProblem::gains`]) for parameters (by index) of a
/// probe law, as [`Evolve::propose_with_gains`] asks for them.
pub type Gains<'a> = dyn FnMut(&Program, &[usize]) -> Option<Vec<crate::law::Gain>> + 'a;

/// The names of the operators, as they appear in [`Offspring::operator`].
pub const OPERATORS: &[&str] = &[
    "library",
    "crossover",
    "blend",
    "insert_term",
    "remove_term",
    "swap_function",
    "const_to_param",
    "structured",
    "guided",
];

/// Relative weights of the operators (non-negative; all zero means library seeds only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OperatorWeights {
    /// Swap subexpressions of the same type between two parents.
    pub crossover: f64,
    /// `w A + (1 - w) B` of two whole laws.
    pub blend: f64,
    /// `x + p * term` with a new parameter.
    pub insert_term: f64,
    /// Keep one operand of a sum.
    pub remove_term: f64,
    /// Replace a function or operator by a sibling.
    pub swap_function: f64,
    /// A number becomes a parameter.
    pub const_to_param: f64,
}

impl Default for OperatorWeights {
    fn default() -> Self {
        OperatorWeights {
            crossover: 3.0,
            blend: 1.0,
            insert_term: 3.0,
            remove_term: 2.0,
            swap_function: 2.0,
            const_to_param: 1.5,
        }
    }
}

/// Settings of the proposer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvolveConfig {
    /// Seed of the random source (ChaCha8).
    pub seed: u64,
    /// Most parameters of an offspring (capped at [`MAX_PARAMS`]).
    pub max_params: usize,
    /// Most expression nodes of an offspring (the count of the language limits).
    pub max_nodes: usize,
    /// Tries per requested offspring before [`Evolve::propose`] gives up on filling the batch.
    pub attempts_per_offspring: usize,
    /// Share of a batch given to library forms not yet seen (0 to 1; all of it when no
    /// parent parses).
    pub library_share: f64,
    /// Probability that a child also has one parameter default perturbed.
    pub perturb_rate: f64,
    /// Operator weights.
    pub weights: OperatorWeights,
    /// Whether the library of classical forms seeds batches and serves as a donor of
    /// crossover and blend. Off, no library form is proposed and its share of a batch goes
    /// to the structured operator (for `F: mat3 -> mat3`; to the other operators elsewhere).
    pub library: bool,
    /// Share of a batch given to the structured operator (`structured/`: elastic laws built
    /// as sums of invariant-weighted tensors, return mappings from a yield function and a
    /// volume rule) for `F: mat3 -> mat3`.
    pub structured_share: f64,
    /// Offspring per batch grown from the best structured elastic parent by the terms the
    /// problem's loss gains rank highest ([`Evolve::propose_with_gains`]; none without gains).
    pub guided: usize,
}

impl Default for EvolveConfig {
    fn default() -> Self {
        EvolveConfig {
            seed: 0,
            max_params: MAX_PARAMS,
            max_nodes: 200,
            attempts_per_offspring: 40,
            library_share: 0.5,
            perturb_rate: 0.2,
            weights: OperatorWeights::default(),
            library: true,
            structured_share: 0.25,
            guided: 4,
        }
    }
}

/// A law of the current population, as the proposer sees it.
#[derive(Clone, Copy, Debug)]
pub struct Parent<'a> {
    /// The law's source text (a parent that does not parse or check is skipped).
    pub source: &'a str,
    /// Its best loss; `+inf` if the candidate failed.
    pub fitness: f64,
    /// Fitted parameter values in declaration order (may be empty: defaults are kept).
    pub params: &'a [f64],
}

/// A proposed law.
#[derive(Clone, Debug, PartialEq)]
pub struct Offspring {
    /// A complete law program (canonical printer output).
    pub source: String,
    /// Indices into the parents slice of the laws it came from (for a library seed: the
    /// parents whose fitted values it took).
    pub parents: Vec<usize>,
    /// The operator that made it (one of [`OPERATORS`]).
    pub operator: &'static str,
    /// True when one parameter default was also moved by a few per cent.
    pub perturbed: bool,
    /// Its canonical hash (the one compared with `seen`).
    pub hash: u64,
}

/// Counts of what happened to the candidates of all [`Evolve::propose`] calls so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Operator applications tried.
    pub attempts: usize,
    /// Operators that did not apply (no suitable site or partner).
    pub not_applicable: usize,
    /// Candidates over `max_params` or `max_nodes`.
    pub too_large: usize,
    /// Candidates that failed to parse or check.
    pub invalid: usize,
    /// Candidates whose canonical hash was in `seen` or already in the batch.
    pub duplicate: usize,
    /// Offspring returned.
    pub accepted: usize,
    /// Canonical hashes computed (the others came from the cache).
    pub hashes_computed: usize,
}

/// The evolutionary proposer: deterministic for a given seed and sequence of calls.
#[derive(Clone, Debug)]
pub struct Evolve {
    signature: Signature,
    kind: MaterialKind,
    config: EvolveConfig,
    rng: ChaCha8Rng,
    /// Library forms as hosts, with their names.
    library: Vec<Host>,
    library_names: Vec<String>,
    terms: Vec<Host>,
    /// True for `F: mat3 -> mat3`, where the structured operator runs (both paths).
    structured: bool,
    /// Canonical hash by structure (the program printed with parameter values zeroed).
    hashes: BTreeMap<String, u64>,
    stats: Stats,
}

impl Evolve {
    /// A proposer for laws of `signature` on the `kind` path (elastic: F to stress;
    /// plastic: F to corrected F). The library and the building blocks are those of
    /// `F: mat3 -> mat3`; for another signature only the inputs serve as building blocks.
    pub fn new(signature: Signature, kind: MaterialKind, config: EvolveConfig) -> Self {
        let constitutive = signature == Signature::elastic();
        let (library_names, library): (Vec<String>, Vec<Host>) = if constitutive && config.library {
            library::forms(kind)
                .into_iter()
                .filter_map(|(name, src)| Some((name, host(&src, &signature, None)?)))
                .unzip()
        } else {
            (Vec::new(), Vec::new())
        };
        let term_sources: Vec<String> = if constitutive {
            library::terms(kind).iter().map(|s| s.to_string()).collect()
        } else {
            signature
                .inputs
                .iter()
                .map(|(n, _)| format!("return {n}"))
                .collect()
        };
        let terms = term_sources
            .iter()
            .filter_map(|src| term_host(src, &signature))
            .collect();
        Evolve {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            signature,
            kind,
            config,
            library,
            library_names,
            terms,
            structured: constitutive,
            hashes: BTreeMap::new(),
            stats: Stats::default(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &EvolveConfig {
        &self.config
    }

    /// What happened to the candidates so far.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Names of the library forms for this signature and path, in library order.
    pub fn library_names(&self) -> &[String] {
        &self.library_names
    }

    /// Up to `count` new laws from `parents`: library seeds not yet seen first (a share of
    /// the batch), then structured laws (their share, on the elastic path), then children
    /// of the operators; what the operators leave unfilled goes to structured laws, then to
    /// library forms. Each parses, checks against the
    /// signature, has at most `max_params` parameters and `max_nodes` nodes, and a
    /// canonical hash neither in `seen` nor repeated in the batch. Fewer than `count` when
    /// the attempt budget runs out; never panics, whatever the parents' text.
    pub fn propose(
        &mut self,
        parents: &[Parent<'_>],
        count: usize,
        seen: &BTreeSet<u64>,
    ) -> Vec<Offspring> {
        self.propose_with_gains(parents, count, seen, None)
    }

    /// [`Evolve::propose`], with up to [`EvolveConfig::guided`] offspring (after the library
    /// seeds) grown from the best structured elastic parent by forward selection: each
    /// term that fits the parent's structure is scored by `gains` (the problem's
    /// first-order loss decrease for the coefficients of probe laws,
    /// [`crate::law::LawProblem::gains`]), and the best unseen additions are proposed,
    /// starting at their expected coefficients.
    pub fn propose_with_gains(
        &mut self,
        parents: &[Parent<'_>],
        count: usize,
        seen: &BTreeSet<u64>,
        gains: Option<&mut Gains<'_>>,
    ) -> Vec<Offspring> {
        let hosts: Vec<Host> = parents
            .iter()
            .enumerate()
            .filter_map(|(i, p)| parent_host(p, i, &self.signature))
            .collect();
        let mut batch: BTreeSet<u64> = BTreeSet::new();
        let mut out: Vec<Offspring> = Vec::new();

        let library_share = if self.library.is_empty() {
            0.0
        } else {
            probability(self.config.library_share)
        };
        let quota = if hosts.is_empty() && !self.library.is_empty() {
            count
        } else {
            ((count as f64) * library_share).ceil() as usize
        };
        let mut order: Vec<usize> = (0..self.library.len()).collect();
        order.shuffle(&mut self.rng);
        let mut next_form = order.into_iter();
        self.seed_library(quota.min(count), &mut next_form, seen, &mut batch, &mut out);

        // The structured operator takes its share, and the library's when that is off; it
        // shares the call's attempts with the other operators.
        let mut budget = count.saturating_mul(self.config.attempts_per_offspring);
        let mut builder = self
            .structured
            .then(|| structured::Builder::new(&mut self.rng, self.kind, parents));
        if let (Some(builder), Some(gains)) = (builder.as_ref(), gains) {
            let n = self.config.guided.min(count.saturating_sub(out.len()));
            self.seed_guided(n, builder, gains, seen, &mut batch, &mut out);
        }
        if let Some(builder) = builder.as_mut() {
            let share = probability(
                probability(self.config.structured_share) + probability(self.config.library_share)
                    - library_share,
            );
            let n = ((count as f64) * share).ceil() as usize;
            let n = n.min(count.saturating_sub(out.len()));
            self.seed_structured(n, builder, &mut budget, seen, &mut batch, &mut out);
        }

        while budget > 0 {
            if out.len() >= count || hosts.is_empty() {
                break;
            }
            budget -= 1;
            self.stats.attempts += 1;
            let Some(child) = self.vary(&hosts) else {
                self.stats.not_applicable += 1;
                continue;
            };
            let perturbed = self.rng.random_bool(probability(self.config.perturb_rate));
            let mut program = child.program;
            let perturbed = perturbed && mutate::perturb(&mut self.rng, &mut program);
            if let Some((source, hash)) = self.finish(program, seen, &batch) {
                self.stats.accepted += 1;
                batch.insert(hash);
                out.push(Offspring {
                    source,
                    parents: child.parents,
                    operator: child.operator,
                    perturbed,
                    hash,
                });
            }
        }
        // Whatever the operators could not fill, structured laws and the remaining library
        // forms may.
        if let Some(builder) = builder.as_mut() {
            let missing = count.saturating_sub(out.len());
            self.seed_structured(missing, builder, &mut budget, seen, &mut batch, &mut out);
        }
        let missing = count.saturating_sub(out.len());
        self.seed_library(missing, &mut next_form, seen, &mut batch, &mut out);
        out
    }

    /// Adds up to `n` library forms from `forms` (indices into the library) that are new.
    fn seed_library(
        &mut self,
        n: usize,
        forms: &mut impl Iterator<Item = usize>,
        seen: &BTreeSet<u64>,
        batch: &mut BTreeSet<u64>,
        out: &mut Vec<Offspring>,
    ) {
        let mut added = 0;
        while added < n {
            let Some(k) = forms.next() else { return };
            let Some(form) = self.library.get(k) else {
                continue;
            };
            // A seed starts from the form's own defaults, not a parent's fitted values:
            // those can sit where the new form's gradient vanishes (a search on jelly drove
            // the linear law's Poisson sigmoid to -25, and a neo-Hookean seed starting
            // there could not move it back).
            let (program, parents) = (form.program.clone(), Vec::new());
            if let Some((source, hash)) = self.finish(program, seen, batch) {
                self.stats.accepted += 1;
                batch.insert(hash);
                out.push(Offspring {
                    source,
                    parents,
                    operator: "library",
                    perturbed: false,
                    hash,
                });
                added += 1;
            }
        }
    }

    /// One child from an operator chosen by weight.
    fn vary(&mut self, hosts: &[Host]) -> Option<Child> {
        let w = self.config.weights;
        let table: [(f64, Operator); 6] = [
            (w.crossover, mutate::crossover),
            (w.blend, mutate::blend),
            (w.insert_term, mutate::insert_term),
            (w.remove_term, mutate::remove_term),
            (w.swap_function, mutate::swap_function),
            (w.const_to_param, mutate::const_to_param),
        ];
        let weight = |x: f64| if x.is_finite() && x > 0.0 { x } else { 0.0 };
        let total: f64 = table.iter().map(|(x, _)| weight(*x)).sum();
        if total <= 0.0 {
            return None;
        }
        let mut r = self.rng.random_range(0.0..total);
        let mut op = table[0].1;
        for (x, f) in table {
            if weight(x) > 0.0 {
                op = f;
                if r < weight(x) {
                    break;
                }
                r -= weight(x);
            }
        }
        let pool = Pool {
            hosts,
            library: &self.library,
            terms: &self.terms,
            kind: self.kind,
        };
        op(&mut self.rng, &pool)
    }

    /// Prunes, bounds, prints, re-parses, checks and hashes a candidate; `None` unless it
    /// is valid and new.
    fn finish(
        &mut self,
        mut program: Program,
        seen: &BTreeSet<u64>,
        batch: &BTreeSet<u64>,
    ) -> Option<(String, u64)> {
        tree::prune(&mut program);
        let max_params = self.config.max_params.min(MAX_PARAMS);
        if program.params.len() > max_params || tree::size(&program) > self.config.max_nodes {
            self.stats.too_large += 1;
            return None;
        }
        if program.params.iter().any(|p| !p.value.is_finite()) {
            self.stats.invalid += 1;
            return None;
        }
        let source = program.to_string();
        let Some(law) = parse(&source)
            .ok()
            .and_then(|p| check(&p, &self.signature).ok())
        else {
            self.stats.invalid += 1;
            return None;
        };
        let mut shape = program;
        for p in &mut shape.params {
            p.value = 0.0;
        }
        let key = shape.to_string();
        let hash = match self.hashes.get(&key) {
            Some(&h) => h,
            None => {
                let h = egraph::canonical(&law).hash;
                self.stats.hashes_computed += 1;
                self.hashes.insert(key, h);
                h
            }
        };
        if seen.contains(&hash) || batch.contains(&hash) {
            self.stats.duplicate += 1;
            return None;
        }
        Some((source, hash))
    }
}

/// `p` as a probability: clamped to [0, 1], NaN as 0.
fn probability(p: f64) -> f64 {
    if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) }
}

/// An operator: a child from the pool, or `None` when it does not apply.
type Operator = fn(&mut ChaCha8Rng, &Pool<'_>) -> Option<Child>;
