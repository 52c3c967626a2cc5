//! The offline proposer: a graph-based genetic algorithm (Jensen 2019 style) whose edits are
//! done by RDKit in the bundled helper (atom/bond/ring mutations, cut-and-join crossover), so a
//! search makes progress without a language model. Deterministic for a seed.
//!
//! The proposer writes its children as reply texts (```` ```molecule ```` blocks), so they go
//! through the same screening as any other proposal.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::evaluate::{MoleculeEvaluation, evaluate_many};
use crate::helper::{ChildRules, mutate};
use crate::screen::screen_many;
use crate::task::{Budget, Rules, Task};
use crate::tools::Tools;

/// The built-in starting molecules (`data/seeds.smi`).
pub const SEEDS: &str = include_str!("../data/seeds.smi");

/// Settings of the genetic algorithm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvolutionConfig {
    /// How many of the best molecules are parents.
    pub population: usize,
    /// Probability that a child comes from crossover (else from one mutation).
    pub crossover_rate: f64,
    /// Random seed.
    pub seed: u64,
    /// How many of the built-in seed molecules start the search (in file order).
    pub max_seeds: usize,
}

impl Default for EvolutionConfig {
    fn default() -> Self {
        Self {
            population: 20,
            crossover_rate: 0.5,
            seed: 0,
            max_seeds: usize::MAX,
        }
    }
}

/// One proposal of the offline proposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The reply text (a molecule block).
    pub reply: String,
    /// How it was made ("seed", "crossover", "change_atom", ...).
    pub op: String,
    /// Parent SMILES.
    pub parents: Vec<String>,
}

/// The offline proposer's state: what was seen and how good it was.
#[derive(Debug, Clone)]
pub struct Evolution {
    config: EvolutionConfig,
    rules: Rules,
    python: PathBuf,
    scores: BTreeMap<String, f64>,
    proposed: BTreeSet<String>,
    round: u64,
}

impl Evolution {
    /// A proposer for molecules obeying `rules`, run by the Python interpreter `python`.
    pub fn new(config: EvolutionConfig, rules: Rules, python: PathBuf) -> Self {
        Self {
            config,
            rules,
            python,
            scores: BTreeMap::new(),
            proposed: BTreeSet::new(),
            round: 0,
        }
    }

    /// Records the loss of an evaluated molecule (by canonical SMILES; failures: `+∞`).
    pub fn observe(&mut self, canonical: &str, loss: f64) {
        self.proposed.insert(canonical.to_string());
        self.scores.insert(canonical.to_string(), loss);
    }

    /// The parents: the best `population` molecules with a finite loss, best first.
    pub fn parents(&self) -> Vec<(String, f64)> {
        let mut v: Vec<(String, f64)> = self
            .scores
            .iter()
            .filter(|(_, l)| l.is_finite())
            .map(|(s, l)| (s.clone(), *l))
            .collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(self.config.population);
        v
    }

    /// Up to `n` new proposals: the unused seed molecules first, then children of the parents.
    pub fn propose(&mut self, n: usize) -> Result<Vec<Proposal>, ToolError> {
        self.round += 1;
        let mut out: Vec<Proposal> = SEEDS
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .take(self.config.max_seeds)
            .filter(|s| !self.proposed.contains(*s))
            .take(n)
            .map(|s| Proposal {
                reply: block(s),
                op: "seed".into(),
                parents: Vec::new(),
            })
            .collect();
        for p in &out {
            if let Some(s) = p
                .reply
                .lines()
                .nth(1)
                .and_then(|l| l.strip_prefix("SMILES: "))
            {
                self.proposed.insert(s.to_string());
            }
        }
        let parents = self.parents();
        if out.len() < n && !parents.is_empty() {
            let rules = ChildRules {
                elements: self.rules.elements.clone(),
                min_heavy: self.rules.min_heavy_atoms,
                max_heavy: self.rules.max_heavy_atoms,
                crossover_rate: self.config.crossover_rate,
            };
            let exclude: Vec<String> = self.proposed.iter().cloned().collect();
            let seed = self
                .config
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add(self.round);
            let children = mutate(
                &self.python,
                &parents,
                n - out.len(),
                seed,
                &rules,
                &exclude,
            )?;
            for c in children {
                self.proposed.insert(c.smiles.clone());
                out.push(Proposal {
                    reply: block(&c.smiles),
                    op: c.op,
                    parents: c.parents,
                });
            }
        }
        Ok(out)
    }
}

fn block(smiles: &str) -> String {
    format!("```molecule\nSMILES: {smiles}\n```\n")
}

/// One round of an offline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundReport {
    /// Round number (1-based).
    pub round: usize,
    /// Proposals made.
    pub proposed: usize,
    /// Proposals that screening refused.
    pub rejected: usize,
    /// Best loss so far.
    pub best_loss: f64,
    /// Canonical SMILES of the best molecule so far.
    pub best_smiles: String,
}

/// The size of an offline run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OfflineRun {
    /// The genetic algorithm's settings.
    pub config: EvolutionConfig,
    /// Rounds (generations).
    pub rounds: usize,
    /// Proposals per round.
    pub per_round: usize,
    /// Molecules evaluated at the same time.
    pub threads: usize,
    /// Stop after the round during which this many wall seconds passed (None: no limit).
    #[serde(default)]
    pub max_seconds: Option<f64>,
}

/// Runs the offline proposer for `run.rounds` rounds of `run.per_round` proposals, evaluating
/// each round's molecules on `run.threads` threads; returns every evaluation (in order) and the
/// round reports. `on_round` sees each report as it is made.
pub fn run_offline(
    task: &Task,
    budget: &Budget,
    tools: &Tools,
    run: &OfflineRun,
    mut on_round: impl FnMut(&RoundReport),
) -> Result<(Vec<MoleculeEvaluation>, Vec<RoundReport>), ToolError> {
    let (rounds, per_round, threads) = (run.rounds, run.per_round, run.threads);
    let mut evo = Evolution::new(run.config.clone(), task.rules.clone(), tools.python.clone());
    let mut all: Vec<MoleculeEvaluation> = Vec::new();
    let mut reports = Vec::new();
    let start = std::time::Instant::now();
    for round in 1..=rounds {
        if run
            .max_seconds
            .is_some_and(|s| start.elapsed().as_secs_f64() >= s)
        {
            break;
        }
        let proposals = evo.propose(per_round)?;
        let replies: Vec<&str> = proposals.iter().map(|p| p.reply.as_str()).collect();
        let screened = screen_many(&replies, &task.rules, &tools.python);
        let rejected = screened.iter().filter(|s| s.is_err()).count();
        let mols: Vec<_> = screened.into_iter().filter_map(Result::ok).collect();
        for e in evaluate_many(&mols, task, budget, tools, threads) {
            evo.observe(&e.molecule.canonical, e.loss());
            all.push(e);
        }
        let best = all.iter().min_by(|a, b| a.loss().total_cmp(&b.loss()));
        let report = RoundReport {
            round,
            proposed: proposals.len(),
            rejected,
            best_loss: best.map_or(f64::INFINITY, MoleculeEvaluation::loss),
            best_smiles: best
                .map(|b| b.molecule.canonical.clone())
                .unwrap_or_default(),
        };
        on_round(&report);
        reports.push(report);
    }
    Ok((all, reports))
}
