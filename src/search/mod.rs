//! The bilevel search (SGA's outer loop, spec/sga.md section 5): proposers write laws, the
//! inner fit judges them, round after round.
//!
//! The search is about a [`Problem`]: a simulation [`Task`](crate::task::Task), or any other
//! kind that says what a law takes and returns, fits it and briefs the proposers (see
//! [`problem`] for how a new kind plugs in).
//!
//! Round 0 fits the problem's starting law. Each later round selects the best `shown`
//! candidates (SGA: those with a finite fitness, or everyone when fewer than `shown` have
//! one), shows them to the proposer worst first, asks for `exploit + explore` proposals,
//! records them (`rounds/round-NNN.json`) before evaluating any, screens them in order
//! (extract, parse, type, canonical hash: a hash seen before is a duplicate), fits the new
//! ones in parallel and appends each to the ledger as it finishes. The run stops after its
//! rounds, at an evaluation or wall-time budget, at a target loss, on Ctrl-C (the stop
//! flag) or when the proposer cannot go on; it can be resumed from its directory.
//!
//! Determinism: fits do not depend on the thread count, the evolve proposer's randomness is
//! seeded per round, and the ledger is rewritten in id order after each round, so two runs
//! with the same seed give the same ledger apart from wall-clock fields (`seconds`).

pub mod candidate;
pub mod extract;
pub mod ledger;
pub mod problem;
pub mod prompt;
pub mod propose;
pub mod report;

pub use crate::fit::{Evaluation, FitRecord, FitSettings};
pub use candidate::{Candidate, Checked, Proposal, Tokens};
pub use problem::Problem;
pub use prompt::Brief;

use crate::task::Task;
use candidate::{Screened, screen};
use ledger::{LedgerError, RunDir};
use propose::{Proposer, RoundContext};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// The settings of a run (saved as `config.json` in the run directory).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// The problem's file (a task file, for a simulation task).
    pub task: PathBuf,
    /// The proposer: `evolve`, `llm`, `human` or `replay`.
    pub proposer: String,
    /// Rounds after the starting law.
    pub rounds: usize,
    /// Candidates shown to the proposer each round (SGA's K).
    pub shown: usize,
    /// Proposals per round at the exploitation temperature.
    pub exploit: usize,
    /// Proposals per round at the exploration temperature.
    pub explore: usize,
    /// Exploitation temperature.
    pub exploit_temperature: f64,
    /// Exploration temperature.
    pub explore_temperature: f64,
    /// The seed of every random choice.
    pub seed: u64,
    /// Most candidates fitted in the whole run (the starting law included).
    pub max_evaluations: Option<usize>,
    /// Wall-clock budget of the run, seconds.
    pub max_seconds: Option<f64>,
    /// Stop once a candidate's fitness is at most this (the fits still running are cut and
    /// not recorded: a resumed run fits them).
    pub target_loss: Option<f64>,
    /// Worker threads for the fits (0: one per core).
    pub threads: usize,
    /// The inner fit.
    pub fit: FitSettings,
    /// The language model (`llm` proposer).
    pub llm: Option<LlmSettings>,
    /// The recorded run to replay (`replay` proposer).
    pub replay: Option<PathBuf>,
}

/// How to reach the language model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// `openai` (any OpenAI-compatible server) or `anthropic`.
    pub provider: String,
    /// API root (see [`crate::llm::ClientConfig::base_url`]).
    pub base_url: String,
    /// Model name.
    pub model: String,
    /// Environment variable with the key (None: no key, e.g. a local server).
    pub api_key_env: Option<String>,
    /// Request timeout, seconds.
    pub timeout_seconds: f64,
    /// Retries of a failed request.
    pub max_retries: u32,
    /// First backoff, seconds (doubling).
    pub backoff_seconds: f64,
    /// Completion token limit.
    pub max_tokens: Option<u32>,
}

impl SearchConfig {
    /// SGA's defaults (5 shown, 4 + 12 proposals at temperatures 0.5 and 1.0, 5 rounds)
    /// with the task's fit settings.
    pub fn new(task_path: impl Into<PathBuf>, task: &Task) -> Result<SearchConfig, String> {
        Ok(SearchConfig::with_fit(
            task_path,
            FitSettings::from_task(task)?,
        ))
    }

    /// SGA's defaults (as [`SearchConfig::new`]) with the given fit settings: for a
    /// problem that is not a simulation task (`path` names its file).
    pub fn with_fit(path: impl Into<PathBuf>, fit: FitSettings) -> SearchConfig {
        SearchConfig {
            task: path.into(),
            proposer: "evolve".into(),
            rounds: 5,
            shown: 5,
            exploit: 4,
            explore: 12,
            exploit_temperature: 0.5,
            explore_temperature: 1.0,
            seed: 0,
            max_evaluations: None,
            max_seconds: None,
            target_loss: None,
            threads: 0,
            fit,
            llm: None,
            replay: None,
        }
    }
}

/// What the caller hears while a run goes on.
pub trait Events {
    /// A round starts with `proposals` proposals to evaluate (`resumed`: read back).
    fn round(&mut self, _round: usize, _proposals: usize, _resumed: bool) {}
    /// A candidate is finished (recorded in the ledger).
    fn candidate(&mut self, _candidate: &Candidate) {}
    /// Something worth saying.
    fn note(&mut self, _message: &str) {}
}

/// Events nobody listens to.
pub struct Silent;
impl Events for Silent {}

/// A problem that ends a run with an error (everything finished so far stays recorded).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The run directory.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The thread pool could not be built.
    #[error("thread pool: {0}")]
    Threads(String),
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Every candidate, by id.
    pub candidates: Vec<Candidate>,
    /// Id of the best candidate (lowest finite fitness).
    pub best: Option<usize>,
    /// Why the run stopped.
    pub stopped: String,
    /// The proposer's error, when the run stopped because the proposer could not go on
    /// (a dead model server, a bad key): the command then fails.
    pub proposer_error: Option<String>,
    /// The last round reached.
    pub rounds: usize,
    /// Tokens spent (whole run, resumed parts included).
    pub tokens: Tokens,
    /// Candidates fitted by this invocation (a resumed run does not count the old ones).
    pub fitted: usize,
    /// Wall time of this invocation, seconds.
    pub seconds: f64,
}

/// How many candidates reached the fit (duplicates and rejected texts did not).
pub fn fitted_count(candidates: &[Candidate]) -> usize {
    candidates.iter().filter(|c| c.fit.is_some()).count()
}

/// Losses within this fraction of the starting law's loss of the lowest one count as
/// equal: floating-point noise of a law that reproduces the target (1e-19 against 1e-30).
pub const LOSS_TIE: f64 = 1e-12;

/// The id of the best candidate: the simplest (lowest canonical complexity) among those
/// whose loss ties with the lowest (see [`LOSS_TIE`]); then the lower loss, then the
/// earlier id.
pub fn best_of(candidates: &[Candidate]) -> Option<usize> {
    let lowest = candidates
        .iter()
        .filter(|c| c.is_ok())
        .map(|c| c.fitness)
        .min_by(f64::total_cmp)?;
    let reference = candidates
        .iter()
        .find(|c| c.id == 0 && c.is_ok())
        .map_or(lowest.abs().max(f64::MIN_POSITIVE), |c| c.fitness.abs());
    let tie = lowest + LOSS_TIE * reference;
    candidates
        .iter()
        .filter(|c| c.is_ok() && c.fitness <= tie)
        .min_by(|a, b| {
            let ca = a.complexity.unwrap_or(u64::MAX);
            let cb = b.complexity.unwrap_or(u64::MAX);
            ca.cmp(&cb)
                .then(a.fitness.total_cmp(&b.fitness))
                .then(a.id.cmp(&b.id))
        })
        .map(|c| c.id)
}

/// SGA's selection: the `k` best by fitness among those with a finite fitness, or among
/// everyone when fewer than `k` have one (failures then ranked newest first); returned
/// worst first, best last, as the prompt shows them.
pub fn select(candidates: &[Candidate], k: usize) -> Vec<usize> {
    let finite: Vec<&Candidate> = candidates.iter().filter(|c| c.is_ok()).collect();
    let mut pool: Vec<&Candidate> = if finite.len() >= k {
        finite
    } else {
        candidates.iter().collect()
    };
    pool.sort_by(|a, b| {
        let fa = if a.fitness.is_nan() {
            f64::INFINITY
        } else {
            a.fitness
        };
        let fb = if b.fitness.is_nan() {
            f64::INFINITY
        } else {
            b.fitness
        };
        fa.total_cmp(&fb).then(b.id.cmp(&a.id))
    });
    pool.truncate(k);
    pool.iter().rev().map(|c| c.id).collect()
}

fn parse_hash(hex: &str) -> Option<u64> {
    u64::from_str_radix(hex, 16).ok()
}

/// A search run over one problem.
pub struct Search<'a> {
    /// The problem (e.g. a simulation task).
    pub problem: &'a dyn Problem,
    /// The settings.
    pub config: &'a SearchConfig,
    /// Where everything is recorded.
    pub run: RunDir,
    /// The proposer.
    pub proposer: Box<dyn Proposer + 'a>,
    /// Set from outside (Ctrl-C) to stop cleanly.
    pub stop: &'a AtomicBool,
}

impl Search<'_> {
    /// Runs (or resumes: everything already in the run directory is kept and not
    /// evaluated again) until a stop condition holds.
    pub fn run(mut self, events: &mut dyn Events) -> Result<Outcome, SearchError> {
        let started = Instant::now();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.config.threads)
            .build()
            .map_err(|e| SearchError::Threads(e.to_string()))?;
        let mut population = self.run.load()?;
        if !population.is_empty() {
            events.note(&format!(
                "resuming: {} candidates already in the ledger",
                population.len()
            ));
        }
        let fitted_before = fitted_count(&population);
        let mut seen: BTreeMap<u64, usize> = BTreeMap::new();
        for c in &population {
            if let (Some(h), None) = (c.hash.as_deref().and_then(parse_hash), c.duplicate_of) {
                seen.entry(h).or_insert(c.id);
            }
        }
        let mut stopped = None;
        let mut proposer_error = None;
        // Whether the report shows the population as it is (it is rewritten after a round).
        let mut written = false;
        if !population.iter().any(|c| c.id == 0) {
            let (how, text) = self.problem.start();
            let start = Proposal {
                proposer: "start".into(),
                how,
                parents: Vec::new(),
                text,
                tokens: Tokens::default(),
                error: None,
                cut: None,
            };
            events.round(0, 1, false);
            stopped = self.evaluate(
                &pool,
                0,
                vec![(0, start)],
                &mut seen,
                &mut population,
                events,
                started,
            )?;
        }
        let mut next_id = 1;
        let mut round = 0;
        while stopped.is_none() {
            if let Some(reason) = self.budget_reason(&population, started) {
                stopped = Some(reason);
                break;
            }
            if round >= self.config.rounds {
                stopped = Some(format!("{} rounds done", self.config.rounds));
                break;
            }
            round += 1;
            let (proposals, resumed) = match self.run.load_round(round)? {
                Some(p) => (p, true),
                None => {
                    let shown = select(&population, self.config.shown);
                    let seen_set: BTreeSet<u64> = seen.keys().copied().collect();
                    let ctx = RoundContext {
                        round,
                        problem: self.problem,
                        population: &population,
                        shown: &shown,
                        exploit: self.config.exploit,
                        explore: self.config.explore,
                        exploit_temperature: self.config.exploit_temperature,
                        explore_temperature: self.config.explore_temperature,
                        seen: &seen_set,
                        seed: self.config.seed,
                        run: &self.run,
                        stop: self.stop,
                    };
                    match self.proposer.propose(&ctx) {
                        Ok(p) => {
                            let p: Vec<Proposal> = p.into_iter().map(Proposal::bounded).collect();
                            self.run.save_round(round, &p)?;
                            (p, false)
                        }
                        Err(e) => {
                            stopped = Some(format!("the proposer stopped: {e}"));
                            proposer_error = Some(e.to_string());
                            round -= 1;
                            break;
                        }
                    }
                }
            };
            let ids: Vec<(usize, Proposal)> = proposals
                .into_iter()
                .enumerate()
                .map(|(i, p)| (next_id + i, p))
                .collect();
            next_id += ids.len();
            let pending: Vec<(usize, Proposal)> = ids
                .into_iter()
                .filter(|(id, _)| population.binary_search_by_key(id, |c| c.id).is_err())
                .collect();
            if pending.is_empty() {
                continue;
            }
            events.round(round, pending.len(), resumed);
            stopped = self.evaluate(
                &pool,
                round,
                pending,
                &mut seen,
                &mut population,
                events,
                started,
            )?;
            report::write(&self.run, self.problem, &population, round)?;
            written = true;
            if let Some(target) = self.config.target_loss {
                let reached = population.iter().any(|c| c.is_ok() && c.fitness <= target);
                if reached && stopped.is_none() {
                    stopped = Some(format!("target loss {target:e} reached"));
                }
            }
        }
        let stopped = stopped.unwrap_or_default();
        if !written {
            report::write(&self.run, self.problem, &population, round)?;
        }
        let mut tokens = Tokens::default();
        for c in &population {
            tokens += c.proposal.tokens;
        }
        let fitted = fitted_count(&population) - fitted_before;
        Ok(Outcome {
            fitted,
            best: best_of(&population),
            candidates: population,
            stopped,
            proposer_error,
            rounds: round,
            tokens,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Why no more candidates may be fitted, if so.
    fn budget_reason(&self, population: &[Candidate], started: Instant) -> Option<String> {
        if self.stop.load(Ordering::SeqCst) {
            return Some("interrupted".into());
        }
        if let Some(max) = self.config.max_evaluations {
            let fitted = fitted_count(population);
            if fitted >= max {
                return Some(format!("evaluation budget of {max} fits used"));
            }
        }
        if let Some(max) = self.config.max_seconds
            && started.elapsed().as_secs_f64() >= max
        {
            return Some(format!("wall-time budget of {max} s used"));
        }
        None
    }

    /// Screens `pending` in order, fits the survivors in parallel and records everything.
    /// Returns a stop reason when a fit was interrupted or the budget ran out mid-round.
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        pool: &rayon::ThreadPool,
        round: usize,
        pending: Vec<(usize, Proposal)>,
        seen: &mut BTreeMap<u64, usize>,
        population: &mut Vec<Candidate>,
        events: &mut dyn Events,
        started: Instant,
    ) -> Result<Option<String>, SearchError> {
        let mut to_fit = Vec::new();
        for (id, proposal) in pending {
            match screen(self.problem, id, round, proposal, seen) {
                Screened::Done(c) => {
                    self.run.append(&c)?;
                    events.candidate(&c);
                    population.push(*c);
                }
                Screened::Fit(checked) => to_fit.push(*checked),
            }
        }
        let mut stopped = None;
        if let Some(max) = self.config.max_evaluations {
            let fitted = fitted_count(population);
            let room = max.saturating_sub(fitted);
            if to_fit.len() > room {
                to_fit.truncate(room);
                stopped = Some(format!("evaluation budget of {max} fits used"));
            }
        }
        let deadline = self.config.max_seconds;
        let stop = self.stop;
        let interrupted = AtomicBool::new(false);
        // Set when a candidate reaches the target loss: the fits still running are cut
        // (and fitted again by a resumed run), the ones not started are skipped.
        let target = self.config.target_loss;
        let reached = AtomicBool::new(
            target.is_some_and(|t| population.iter().any(|c| c.is_ok() && c.fitness <= t)),
        );
        let (tx, rx) = mpsc::channel::<Candidate>();
        let mut result: Result<(), SearchError> = Ok(());
        pool.in_place_scope(|scope| {
            for checked in to_fit {
                let tx = tx.clone();
                let interrupted = &interrupted;
                let reached = &reached;
                let problem = self.problem;
                let settings = &self.config.fit;
                scope.spawn(move |_| {
                    if reached.load(Ordering::SeqCst) {
                        interrupted.store(true, Ordering::SeqCst);
                        return;
                    }
                    let mut cut = false;
                    let mut observer = |_: &Evaluation| {
                        let over = deadline.is_some_and(|d| started.elapsed().as_secs_f64() >= d);
                        if stop.load(Ordering::SeqCst) || over || reached.load(Ordering::SeqCst) {
                            cut = true;
                            false
                        } else {
                            true
                        }
                    };
                    let c = problem.fit(checked, settings, &mut observer);
                    if cut {
                        // An interrupted fit is not a result: a resumed run fits it again.
                        interrupted.store(true, Ordering::SeqCst);
                    } else {
                        let _ = tx.send(c);
                    }
                });
            }
            drop(tx);
            for c in rx {
                if target.is_some_and(|t| c.is_ok() && c.fitness <= t) {
                    reached.store(true, Ordering::SeqCst);
                }
                if result.is_ok() {
                    result = self.run.append(&c).map_err(SearchError::from);
                }
                events.candidate(&c);
                population.push(c);
            }
        });
        result?;
        population.sort_by_key(|c| c.id);
        self.run.rewrite(population)?;
        if interrupted.load(Ordering::SeqCst) {
            stopped = Some(if stop.load(Ordering::SeqCst) {
                "interrupted".into()
            } else if reached.load(Ordering::SeqCst) {
                format!("target loss {:e} reached", target.unwrap_or(0.0))
            } else {
                "wall-time budget used".into()
            });
        }
        Ok(stopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::{Stage, Verdict};

    fn candidate(id: usize, fitness: f64, complexity: u64) -> Candidate {
        let ok = fitness.is_finite();
        Candidate {
            id,
            round: usize::from(id > 0),
            proposal: Proposal {
                proposer: "evolve".into(),
                how: String::new(),
                parents: vec![],
                text: String::new(),
                tokens: Tokens::default(),
                error: None,
                cut: None,
            },
            law: None,
            shown: None,
            canonical: None,
            hash: None,
            complexity: Some(complexity),
            duplicate_of: None,
            param_names: vec![],
            params: vec![],
            loss_curve: vec![],
            velocity_curve: vec![],
            fitness,
            verdict: if ok {
                Verdict::Ok {
                    note: String::new(),
                }
            } else {
                Verdict::Failed {
                    stage: Stage::Parse,
                    message: String::new(),
                }
            },
            feedback: String::new(),
            fit: None,
            seconds: 0.0,
        }
    }

    #[test]
    fn the_best_is_the_simplest_of_the_losses_that_tie() {
        let pop = vec![
            candidate(0, 1.0, 40),
            candidate(1, 1e-19, 30),
            candidate(2, 8e-30, 60),
            candidate(3, 0.5, 10),
            candidate(4, f64::INFINITY, 5),
        ];
        assert_eq!(best_of(&pop), Some(1));
        // Without a tie the lowest loss wins, whatever its complexity.
        let pop = vec![
            candidate(0, 1.0, 40),
            candidate(1, 1e-3, 30),
            candidate(2, 1e-6, 60),
        ];
        assert_eq!(best_of(&pop), Some(2));
        assert_eq!(best_of(&[candidate(0, f64::NAN, 1)]), None);
        let front: Vec<usize> = report::pareto(&[
            candidate(0, 1.0, 40),
            candidate(1, 1e-19, 30),
            candidate(2, 8e-30, 60),
            candidate(3, 0.5, 10),
            candidate(5, 0.7, 20),
        ])
        .iter()
        .map(|c| c.id)
        .collect();
        assert_eq!(front, [3, 1, 2]);
    }

    #[test]
    fn selection_shows_the_best_k_worst_first_and_failures_only_when_short() {
        let mut pop: Vec<Candidate> = (0..8)
            .map(|i| candidate(i, 1.0 / (i as f64 + 1.0), 9))
            .collect();
        pop.push(candidate(8, f64::INFINITY, 9));
        assert_eq!(select(&pop, 3), [5, 6, 7]);
        let few = vec![
            candidate(0, 1.0, 9),
            candidate(1, f64::INFINITY, 9),
            candidate(2, f64::NAN, 9),
        ];
        // Fewer than k finite: everyone; failures rank after, newest first (shown worst first).
        assert_eq!(select(&few, 5), [1, 2, 0]);
    }
}
