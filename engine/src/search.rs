//! The bilevel search (SGA's outer loop): proposers write solutions, the problem screens
//! and evaluates them, round after round.
//!
//! Round 0 evaluates the problem's starting solution. Each later round selects the best
//! `shown` candidates (SGA: those with a finite fitness, or everyone when fewer than `shown`
//! have one), shows them to the proposer worst first, asks for `exploit + explore`
//! proposals, records them (`rounds/round-NNN.json`) before evaluating any, screens them in
//! order (a deduplication key seen before is a duplicate), evaluates the new ones in
//! parallel and appends each to the ledger as it finishes. The run stops after its rounds,
//! at an evaluation or wall-time budget, at a target fitness, on a stop request (the stop
//! flag: Ctrl-C, SIGTERM) or when the proposer cannot go on ([`StopReason`]); it can be
//! resumed from its directory.
//!
//! Determinism: evaluations do not depend on the thread count, proposers are seeded per
//! round, and the ledger is rewritten in id order after each round, so two runs with the
//! same seed give the same ledger apart from wall-clock fields (`seconds`).

use crate::candidate::{
    Candidate, Detail, Proposal, ProposerKind, Stage, Tokens, Verdict, dedup_keys,
};
use crate::executor::{Evaluated, Executor, ExecutorError, LocalExecutor, RoundWork, Screened};
use crate::ledger::{LedgerError, RunDir};
use crate::problem::Problem;
use crate::prompt::FeedbackFormat;
use crate::propose::{Proposer, RoundContext};
use crate::report;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// The settings of a run (saved as `config.json` in the run directory). `F` is the
/// problem's evaluation settings ([`Problem::Settings`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig<F> {
    /// The problem's file (a task file).
    pub task: PathBuf,
    /// Who writes the solutions.
    pub proposer: ProposerKind,
    /// Rounds after the starting solution.
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
    /// Most candidates evaluated in the whole run (the starting solution included).
    pub max_evaluations: Option<usize>,
    /// Wall-clock budget of the run, seconds; the time the proposer takes to answer (a
    /// person, a model) does not count.
    pub max_seconds: Option<f64>,
    /// Stop once a candidate's fitness is at most this (the evaluations still running are
    /// cut and not recorded: a resumed run evaluates them).
    pub target_loss: Option<f64>,
    /// Stop once a candidate's fitness is at most this fraction of the starting solution's
    /// (cut like `target_loss`). Absent in runs made before it existed.
    #[serde(default)]
    pub target_relative: Option<f64>,
    /// Stop after this many finished rounds in a row that did not lower the best fitness
    /// (by more than the tie of [`LOSS_TIE`]). Absent in runs made before it existed.
    #[serde(default)]
    pub patience: Option<usize>,
    /// Worker threads for the evaluations (0: one per core).
    pub threads: usize,
    /// The settings of one evaluation.
    pub fit: F,
    /// The language model (`llm` proposer).
    pub llm: Option<LlmSettings>,
    /// The recorded run to replay (`replay` proposer).
    pub replay: Option<PathBuf>,
    /// Which feedback the prompts give (`sga`: the paper's; the default: see
    /// [`FeedbackFormat::Full`]).
    #[serde(default)]
    pub feedback: FeedbackFormat,
    /// Evaluate only this many of each round's screened candidates: the most promising by
    /// the problem's cheap estimate ([`Problem::prescreen`]), in that order; the others are
    /// recorded as failed at [`Stage::Prescreen`] with their estimate. `None`: evaluate all,
    /// in proposal order (also when the problem has no estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit_best: Option<usize>,
}

/// How to reach the language model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// Which API the server speaks.
    pub provider: crate::llm::Provider,
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

impl<F> SearchConfig<F> {
    /// SGA's defaults (5 shown, 4 + 12 proposals at temperatures 0.5 and 1.0, 5 rounds, the
    /// evolve proposer, seed 0) with the given evaluation settings; `path` names the
    /// problem's file. No target and no patience: the command line adds
    /// [`DEFAULT_TARGET_RELATIVE`] and [`DEFAULT_PATIENCE`].
    pub fn new(path: impl Into<PathBuf>, fit: F) -> SearchConfig<F> {
        SearchConfig {
            task: path.into(),
            proposer: ProposerKind::Evolve,
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
            target_relative: None,
            patience: None,
            threads: 0,
            fit,
            llm: None,
            replay: None,
            feedback: FeedbackFormat::default(),
            fit_best: None,
        }
    }
}

/// Why a run stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// Every round was done.
    RoundsDone {
        /// The rounds of the run.
        rounds: usize,
    },
    /// The evaluation budget was used.
    EvaluationBudget {
        /// The budget.
        max: usize,
    },
    /// The wall-time budget was used.
    WallTime {
        /// The budget, seconds.
        seconds: f64,
    },
    /// A candidate reached the target fitness.
    TargetReached {
        /// The target.
        target: f64,
    },
    /// Rounds in a row brought no better best.
    NoImprovement {
        /// The rounds without improvement.
        rounds: usize,
    },
    /// A stop was requested (Ctrl-C, SIGTERM).
    Interrupted,
    /// The proposer could not go on (a dead model server, a bad key, the end of a
    /// recording).
    ProposerFailed {
        /// The proposer's error.
        message: String,
    },
}

impl StopReason {
    /// Whether the run ended because something went wrong (the command then fails).
    pub fn is_error(&self) -> bool {
        matches!(self, StopReason::ProposerFailed { .. })
    }
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StopReason::RoundsDone { rounds } => write!(f, "{rounds} rounds done"),
            StopReason::EvaluationBudget { max } => {
                write!(f, "evaluation budget of {max} fits used")
            }
            StopReason::WallTime { seconds } => write!(f, "wall-time budget of {seconds} s used"),
            StopReason::TargetReached { target } => write!(f, "target loss {target:e} reached"),
            StopReason::NoImprovement { rounds } => {
                let s = if *rounds == 1 { "" } else { "s" };
                write!(f, "no better loss in the last {rounds} round{s}")
            }
            StopReason::Interrupted => f.write_str("interrupted"),
            StopReason::ProposerFailed { message } => write!(f, "the proposer stopped: {message}"),
        }
    }
}

/// What the caller hears while a run goes on.
pub trait Events<D> {
    /// The run starts: `population` is what the run directory already holds (empty unless
    /// the run is resumed), `rounds` the most rounds it will do.
    fn start(&mut self, _population: &[Candidate<D>], _rounds: usize) {}
    /// A round starts with `proposals` proposals to evaluate (`resumed`: read back).
    fn round(&mut self, _round: usize, _proposals: usize, _resumed: bool) {}
    /// A candidate is finished (recorded in the ledger).
    fn candidate(&mut self, _candidate: &Candidate<D>) {}
    /// Said about twice a second while evaluations run: the inner evaluations (rollouts,
    /// say) done so far in this round, and how many the round's evaluations may do at most
    /// when the problem knows ([`Problem::inner_budget`]).
    fn progress(&mut self, _inner: usize, _budget: Option<usize>) {}
    /// A round is finished and recorded; `population` is every candidate so far.
    fn round_done(&mut self, _round: usize, _population: &[Candidate<D>]) {}
    /// Something worth saying.
    fn note(&mut self, _message: &str) {}
}

/// Events nobody listens to.
pub struct Silent;
impl<D> Events<D> for Silent {}

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
    /// The executor could not evaluate the round (a cluster that refuses jobs).
    #[error("executor: {0}")]
    Executor(#[from] ExecutorError),
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct Outcome<D> {
    /// Every candidate, by id.
    pub candidates: Vec<Candidate<D>>,
    /// Id of the best candidate (lowest finite fitness, simplest among ties).
    pub best: Option<usize>,
    /// Why the run stopped.
    pub stopped: StopReason,
    /// The last round reached.
    pub rounds: usize,
    /// Tokens spent (whole run, resumed parts included).
    pub tokens: Tokens,
    /// Candidates evaluated by this invocation (a resumed run does not count the old ones).
    pub fitted: usize,
    /// Wall time of this invocation, seconds.
    pub seconds: f64,
    /// Candidates proposed and screened whose evaluation was cut or not started when the
    /// run stopped: not in the ledger; a resumed run evaluates them.
    pub pending: Vec<usize>,
}

impl<D> Outcome<D> {
    /// The best candidate.
    pub fn best_candidate(&self) -> Option<&Candidate<D>> {
        let id = self.best?;
        self.candidates.iter().find(|c| c.id == id)
    }
}

/// How many candidates reached their evaluation (duplicates and rejected texts did not).
pub fn fitted_count<D: Detail>(candidates: &[Candidate<D>]) -> usize {
    candidates.iter().filter(|c| c.evaluated()).count()
}

/// Losses within this fraction of the starting solution's loss of the lowest one count as
/// equal: floating-point noise of a solution that reproduces the target (1e-19 against
/// 1e-30).
pub const LOSS_TIE: f64 = 1e-12;

/// The default [`SearchConfig::target_relative`]: a fitness that ties with zero (see
/// [`LOSS_TIE`]) reproduces the target; nothing after it can be better.
pub const DEFAULT_TARGET_RELATIVE: f64 = LOSS_TIE;

/// The default [`SearchConfig::patience`]: stop after a round that brought nothing better.
pub const DEFAULT_PATIENCE: usize = 1;

/// The starting solution's fitness (candidate 0), when finite.
fn start_fitness<D: Detail>(candidates: &[Candidate<D>]) -> Option<f64> {
    candidates
        .iter()
        .find(|c| c.id == 0 && c.is_ok())
        .map(|c| c.fitness)
}

impl<F> SearchConfig<F> {
    /// The fitness at which the run stops: the lower of `target_loss` and `target_relative`
    /// times the starting solution's fitness (once that is known, and only when it is
    /// positive: a loss).
    pub fn target<D: Detail>(&self, candidates: &[Candidate<D>]) -> Option<f64> {
        let relative = self
            .target_relative
            .zip(start_fitness(candidates).filter(|&s| s > 0.0))
            .map(|(r, start)| r * start);
        // An explicit target of 0 (or below) means no target.
        let absolute = self.target_loss.filter(|&t| t > 0.0);
        match (absolute, relative) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How many rounds in a row, ending with `round`, did not lower the best fitness by more
/// than the tie of [`LOSS_TIE`] (relative to the starting solution's fitness).
pub fn rounds_without_improvement<D: Detail>(candidates: &[Candidate<D>], round: usize) -> usize {
    let best_until = |r: usize| {
        candidates
            .iter()
            .filter(|c| c.round < r && c.is_ok())
            .map(|c| c.fitness)
            .fold(f64::INFINITY, f64::min)
    };
    let tie = LOSS_TIE * start_fitness(candidates).map_or(0.0, f64::abs);
    let mut count = 0;
    for r in (1..=round).rev() {
        let before = best_until(r);
        let after = best_until(r + 1);
        if after < before - tie {
            break;
        }
        count += 1;
    }
    count
}

/// The id of the best candidate: the simplest (lowest complexity) among those whose
/// fitness ties with the lowest (see [`LOSS_TIE`]); then the lower fitness, then the
/// earlier id.
pub fn best_of<D: Detail>(candidates: &[Candidate<D>]) -> Option<usize> {
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
            let ca = a.detail.complexity().unwrap_or(u64::MAX);
            let cb = b.detail.complexity().unwrap_or(u64::MAX);
            ca.cmp(&cb)
                .then(a.fitness.total_cmp(&b.fitness))
                .then(a.id.cmp(&b.id))
        })
        .map(|c| c.id)
}

/// SGA's selection: the `k` best by fitness among those with a finite fitness, or among
/// everyone when fewer than `k` have one (failures then ranked newest first); returned
/// worst first, best last, as the prompt shows them.
pub fn select<D: Detail>(candidates: &[Candidate<D>], k: usize) -> Vec<usize> {
    let finite: Vec<&Candidate<D>> = candidates.iter().filter(|c| c.is_ok()).collect();
    let mut pool: Vec<&Candidate<D>> = if finite.len() >= k {
        finite
    } else {
        candidates.iter().collect()
    };
    let key = |c: &Candidate<D>| {
        if c.fitness.is_nan() {
            f64::INFINITY
        } else {
            c.fitness
        }
    };
    pool.sort_by(|a, b| key(a).total_cmp(&key(b)).then(b.id.cmp(&a.id)));
    pool.truncate(k);
    pool.iter().rev().map(|c| c.id).collect()
}

/// The default format's selection: like [`select`], but at most one candidate of each
/// family ([`Detail::family`]: re-parametrisations of one law), the best of it.
pub fn select_diverse<D: Detail>(candidates: &[Candidate<D>], k: usize) -> Vec<usize> {
    let mut ranked: Vec<&Candidate<D>> = candidates.iter().filter(|c| c.is_ok()).collect();
    ranked.sort_by(|a, b| a.fitness.total_cmp(&b.fitness).then(b.id.cmp(&a.id)));
    let mut families = BTreeSet::new();
    let mut chosen: Vec<&Candidate<D>> = Vec::new();
    for c in ranked {
        if chosen.len() == k {
            break;
        }
        if c.detail.family().is_none_or(|f| families.insert(f)) {
            chosen.push(c);
        }
    }
    if chosen.len() < k {
        // Too few fitted families: the most recent failures fill the slots (SGA shows
        // everyone when fewer than k have a finite fitness).
        chosen.extend(
            candidates
                .iter()
                .rev()
                .filter(|c| !c.is_ok())
                .take(k - chosen.len()),
        );
    }
    chosen.iter().rev().map(|c| c.id).collect()
}

/// A search run over one problem.
pub struct Search<'a, P: Problem> {
    /// The problem.
    pub problem: &'a P,
    /// The settings.
    pub config: &'a SearchConfig<P::Settings>,
    /// Where everything is recorded.
    pub run: RunDir,
    /// The proposer.
    pub proposer: Box<dyn Proposer<P> + 'a>,
    /// Set from outside (Ctrl-C, SIGTERM) to stop cleanly.
    pub stop: &'a AtomicBool,
}

/// Whether a candidate reached its evaluation and failed there.
fn failed_at_evaluation<D>(c: &Candidate<D>) -> bool {
    matches!(&c.verdict, Verdict::Failed { stage, .. } if stage.reached_evaluation())
}

impl<P: Problem> Search<'_, P> {
    /// Runs (or resumes: everything already in the run directory is kept and not
    /// evaluated again) until a stop condition holds, evaluating on the local cores
    /// ([`LocalExecutor`] with `threads` threads).
    pub fn run(
        self,
        events: &mut dyn Events<P::Detail>,
    ) -> Result<Outcome<P::Detail>, SearchError> {
        let mut local =
            LocalExecutor::new(self.config.threads).map_err(|e| SearchError::Threads(e.0))?;
        self.run_with(&mut local, events)
    }

    /// [`Search::run`] with the round's evaluations handed to `executor`.
    pub fn run_with(
        mut self,
        executor: &mut dyn Executor<P>,
        events: &mut dyn Events<P::Detail>,
    ) -> Result<Outcome<P::Detail>, SearchError> {
        let started = Instant::now();
        // The start of the time budget, moved on by the time spent waiting for proposals.
        let mut budget_clock = started;
        let mut population: Vec<Candidate<P::Detail>> = self.run.load()?;
        if !population.is_empty() {
            events.note(&format!(
                "resuming: {} candidates already in the ledger",
                population.len()
            ));
        }
        events.start(&population, self.config.rounds);
        let mut pending_ids: Vec<usize> = Vec::new();
        let fitted_before = fitted_count(&population);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for c in &population {
            if c.duplicate_of.is_none() && !failed_at_evaluation(c) {
                for key in dedup_keys(&c.detail) {
                    seen.entry(key).or_insert(c.id);
                }
            }
        }
        let mut stopped = None;
        // Whether the report shows the population as it is (it is rewritten after a round).
        let mut written = false;
        if !population.iter().any(|c| c.id == 0)
            && let Some((how, text)) = self.problem.start()
        {
            let start = Proposal {
                proposer: ProposerKind::Start,
                how,
                parents: Vec::new(),
                text,
                tokens: Tokens::default(),
                error: None,
                cut: None,
            }
            .bounded();
            events.round(0, 1, false);
            stopped = self.evaluate(
                executor,
                0,
                vec![(0, start)],
                &mut seen,
                &mut population,
                events,
                started,
                &mut pending_ids,
            )?;
            events.round_done(0, &population);
        }
        let mut next_id = 1;
        let mut round = 0;
        while stopped.is_none() {
            if let Some(reason) = self.budget_reason(&population, budget_clock) {
                stopped = Some(reason);
                break;
            }
            if round >= self.config.rounds {
                stopped = Some(StopReason::RoundsDone {
                    rounds: self.config.rounds,
                });
                break;
            }
            round += 1;
            let (proposals, resumed) = match self.run.load_round(round)? {
                Some(p) => (p, true),
                None => {
                    let shown = match self.config.feedback {
                        FeedbackFormat::Sga => select(&population, self.config.shown),
                        FeedbackFormat::Full => select_diverse(&population, self.config.shown),
                    };
                    let seen_keys: BTreeSet<String> = seen.keys().cloned().collect();
                    let ctx = RoundContext {
                        round,
                        rounds: self.config.rounds,
                        problem: self.problem,
                        population: &population,
                        shown: &shown,
                        exploit: self.config.exploit,
                        explore: self.config.explore,
                        exploit_temperature: self.config.exploit_temperature,
                        explore_temperature: self.config.explore_temperature,
                        seen: &seen_keys,
                        seed: self.config.seed,
                        run: &self.run,
                        stop: self.stop,
                        feedback: self.config.feedback,
                        target: self.config.target(&population),
                    };
                    let asked = Instant::now();
                    let answer = self.proposer.propose(&ctx);
                    // The budget's clock stands still while the proposer answers.
                    budget_clock += asked.elapsed();
                    match answer {
                        Ok(p) => {
                            let p: Vec<Proposal> = p.into_iter().map(Proposal::bounded).collect();
                            self.run.save_round(round, &p)?;
                            (p, false)
                        }
                        Err(e) => {
                            stopped = Some(StopReason::ProposerFailed {
                                message: e.to_string(),
                            });
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
                executor,
                round,
                pending,
                &mut seen,
                &mut population,
                events,
                budget_clock,
                &mut pending_ids,
            )?;
            report::write(&self.run, self.problem, &population, round)?;
            written = true;
            events.round_done(round, &population);
            if let Some(target) = self.config.target(&population) {
                let reached = population.iter().any(|c| c.is_ok() && c.fitness <= target);
                if reached && stopped.is_none() {
                    stopped = Some(StopReason::TargetReached { target });
                }
            }
            if let Some(patience) = self.config.patience.filter(|&p| p > 0)
                && stopped.is_none()
                && round < self.config.rounds
            {
                let idle = rounds_without_improvement(&population, round);
                if idle >= patience {
                    stopped = Some(StopReason::NoImprovement { rounds: idle });
                }
            }
        }
        let stopped = stopped.unwrap_or(StopReason::RoundsDone {
            rounds: self.config.rounds,
        });
        if !written {
            report::write(&self.run, self.problem, &population, round)?;
        }
        if let StopReason::ProposerFailed { message } = &stopped {
            report::append_error(&self.run, message)?;
        }
        pending_ids.sort_unstable();
        pending_ids.dedup();
        pending_ids.retain(|id| population.binary_search_by_key(id, |c| c.id).is_err());
        if !pending_ids.is_empty() {
            report::append_pending(&self.run, &pending_ids, &stopped)?;
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
            rounds: round,
            tokens,
            seconds: started.elapsed().as_secs_f64(),
            pending: pending_ids,
        })
    }

    /// Why no more candidates may be evaluated, if so.
    fn budget_reason(
        &self,
        population: &[Candidate<P::Detail>],
        started: Instant,
    ) -> Option<StopReason> {
        if self.stop.load(Ordering::SeqCst) {
            return Some(StopReason::Interrupted);
        }
        if let Some(max) = self.config.max_evaluations
            && fitted_count(population) >= max
        {
            return Some(StopReason::EvaluationBudget { max });
        }
        if let Some(max) = self.config.max_seconds
            && started.elapsed().as_secs_f64() >= max
        {
            return Some(StopReason::WallTime { seconds: max });
        }
        None
    }

    /// The screen of one proposal: a failed proposal, a rejection, a duplicate, or a
    /// solution to evaluate. A new key is added to `seen`.
    fn screen(
        &self,
        id: usize,
        round: usize,
        proposal: Proposal,
        seen: &mut BTreeMap<String, usize>,
    ) -> Result<Screened<P>, Box<Candidate<P::Detail>>> {
        let started = Instant::now();
        let mut screened = crate::executor::screen(self.problem, id, round, proposal)?;
        let c = &mut screened.candidate;
        let keys: Vec<String> = dedup_keys(&c.detail).collect();
        if let Some(&first) = keys.iter().find_map(|k| seen.get(k)) {
            let noun = self.problem.noun();
            let message = self.problem.duplicate_message(first);
            c.feedback = format!("The {noun} was rejected at the duplicate stage: {message}");
            c.verdict = Verdict::Failed {
                stage: Stage::Duplicate,
                message,
            };
            c.duplicate_of = Some(first);
            c.seconds += started.elapsed().as_secs_f64();
            return Err(Box::new(screened.candidate));
        }
        for key in keys {
            seen.insert(key, id);
        }
        Ok(screened)
    }

    /// Orders a round's screened candidates by the problem's cheap estimate (lowest first,
    /// ties and candidates without one in proposal order) and keeps the `keep` best; the
    /// others go to `record` as failed at [`Stage::Prescreen`]. Nothing changes when the
    /// problem has no estimate, when `keep` covers the round, or when the run is stopping.
    fn prescreen(
        &self,
        to_fit: Vec<Screened<P>>,
        keep: usize,
        started: Instant,
        record: &mut dyn FnMut(Candidate<P::Detail>) -> Result<(), SearchError>,
    ) -> Result<Vec<Screened<P>>, SearchError> {
        if to_fit.len() <= keep.max(1) {
            return Ok(to_fit);
        }
        let deadline = self.config.max_seconds;
        let mut scored = Vec::with_capacity(to_fit.len());
        for p in to_fit {
            let stopping = self.stop.load(Ordering::SeqCst)
                || deadline.is_some_and(|d| started.elapsed().as_secs_f64() >= d);
            let t = Instant::now();
            let score = if stopping {
                None
            } else {
                self.problem.prescreen(&p.solution, &self.config.fit)
            };
            scored.push((score, t.elapsed().as_secs_f64(), p));
        }
        if scored.iter().all(|(s, _, _)| s.is_none()) {
            return Ok(scored.into_iter().map(|(_, _, p)| p).collect());
        }
        let n = scored.len();
        // Stable: equal estimates keep the proposal order; NaN counts as the worst.
        let rank = |s: &Option<f64>| match s {
            Some(v) if !v.is_nan() => *v,
            _ => f64::INFINITY,
        };
        scored.sort_by(|a, b| rank(&a.0).total_cmp(&rank(&b.0)));
        let mut kept = Vec::with_capacity(keep);
        for (i, (score, seconds, mut p)) in scored.into_iter().enumerate() {
            p.candidate.estimate = score;
            if i < keep || score.is_none() {
                p.candidate.seconds += seconds;
                kept.push(p);
                continue;
            }
            let noun = self.problem.noun();
            let estimate = score.map_or("none".to_string(), |v| format!("{v:.4e}"));
            let message = format!(
                "not evaluated: its cheap estimate ({estimate}) ranked {} of the round's {n}, \
                 and only the {keep} best are evaluated",
                i + 1
            );
            let c = &mut p.candidate;
            c.feedback = format!("The {noun} was set aside at the prescreen stage: {message}");
            c.verdict = Verdict::Failed {
                stage: Stage::Prescreen,
                message,
            };
            c.seconds += seconds;
            record(p.candidate)?;
        }
        Ok(kept)
    }

    /// Screens `pending` in order, hands the survivors to the executor and records
    /// everything. Returns a stop reason when an evaluation was interrupted or the budget
    /// ran out mid-round; the ids of the evaluations cut or not started are added to `cut`.
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        executor: &mut dyn Executor<P>,
        round: usize,
        pending: Vec<(usize, Proposal)>,
        seen: &mut BTreeMap<String, usize>,
        population: &mut Vec<Candidate<P::Detail>>,
        events: &mut dyn Events<P::Detail>,
        started: Instant,
        cut_ids: &mut Vec<usize>,
    ) -> Result<Option<StopReason>, SearchError> {
        // The ledger is in id order before the round; it stays so (and is not rewritten
        // below) while every line appended has a larger id than the one before.
        let mut last_id = population.iter().map(|c| c.id).max();
        let mut in_order = true;
        let mut appended = |id: usize| {
            in_order &= last_id.is_none_or(|last| id > last);
            last_id = Some(id);
        };
        let mut to_fit = Vec::new();
        for (id, proposal) in pending {
            match self.screen(id, round, proposal, seen) {
                Err(c) => {
                    self.run.append(&c)?;
                    appended(c.id);
                    events.candidate(&c);
                    population.push(*c);
                }
                Ok(p) => to_fit.push(p),
            }
        }
        if let Some(keep) = self.config.fit_best {
            to_fit = self.prescreen(to_fit, keep, started, &mut |c| {
                self.run.append(&c)?;
                appended(c.id);
                events.candidate(&c);
                population.push(c);
                Ok(())
            })?;
        }
        // The keys each evaluated candidate put into `seen` (at its screen).
        let keys_of: HashMap<usize, Vec<String>> = to_fit
            .iter()
            .map(|p| (p.candidate.id, dedup_keys(&p.candidate.detail).collect()))
            .collect();
        let mut stopped = None;
        if let Some(max) = self.config.max_evaluations {
            let room = max.saturating_sub(fitted_count(population));
            if to_fit.len() > room {
                cut_ids.extend(to_fit[room..].iter().map(|p| p.candidate.id));
                to_fit.truncate(room);
                stopped = Some(StopReason::EvaluationBudget { max });
            }
        }
        let deadline = self.config.max_seconds;
        let stop = self.stop;
        // Set when a candidate reaches the target: the evaluations still running are cut
        // (and evaluated again by a resumed run), the ones not started are skipped.
        let target = self.config.target(population);
        let reached = AtomicBool::new(
            target.is_some_and(|t| population.iter().any(|c| c.is_ok() && c.fitness <= t)),
        );
        // Inner evaluations done in this round (progress only).
        let inner = AtomicUsize::new(0);
        let budget = self
            .problem
            .inner_budget(&self.config.fit)
            .map(|b| b.saturating_mul(to_fit.len()));
        let go_on = || {
            let over = deadline.is_some_and(|d| started.elapsed().as_secs_f64() >= d);
            !(stop.load(Ordering::SeqCst) || over || reached.load(Ordering::SeqCst))
        };
        let mut result: Result<(), SearchError> = Ok(());
        let mut interrupted = false;
        if !to_fit.is_empty() {
            let work = RoundWork {
                problem: self.problem,
                settings: &self.config.fit,
                task: &self.config.task,
                run: &self.run,
                round,
                go_on: &go_on,
                inner: &inner,
            };
            interrupted = executor.evaluate(&work, to_fit, &mut |done| {
                let c = match done {
                    Evaluated::Finished(c) => *c,
                    Evaluated::Cut(id) => {
                        cut_ids.push(id);
                        return;
                    }
                    Evaluated::Tick => {
                        events.progress(inner.load(Ordering::Relaxed), budget);
                        return;
                    }
                };
                if target.is_some_and(|t| c.is_ok() && c.fitness <= t) {
                    reached.store(true, Ordering::SeqCst);
                }
                if result.is_ok() {
                    result = self.run.append(&c).map_err(SearchError::from);
                    appended(c.id);
                }
                if failed_at_evaluation(&c) {
                    // A solution that failed its evaluation makes no later one a duplicate
                    // (a later equal one is evaluated, and fails the same way if it is).
                    for key in keys_of.get(&c.id).into_iter().flatten() {
                        if seen.get(key) == Some(&c.id) {
                            seen.remove(key);
                        }
                    }
                }
                events.candidate(&c);
                population.push(c);
            })?;
        }
        result?;
        population.sort_by_key(|c| c.id);
        if !in_order {
            self.run.rewrite(population)?;
        }
        if interrupted {
            stopped = Some(if stop.load(Ordering::SeqCst) {
                StopReason::Interrupted
            } else if reached.load(Ordering::SeqCst) {
                StopReason::TargetReached {
                    target: target.unwrap_or(0.0),
                }
            } else {
                StopReason::WallTime {
                    seconds: deadline.unwrap_or(0.0),
                }
            });
        }
        Ok(stopped)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A detail with a complexity only (also used by the plot tests).
    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    pub(crate) struct Simple {
        complexity: Option<u64>,
        family: Option<String>,
    }
    impl Detail for Simple {
        fn key(&self) -> Option<&str> {
            None
        }
        fn complexity(&self) -> Option<u64> {
            self.complexity
        }
        fn family(&self) -> Option<String> {
            self.family.clone()
        }
    }

    /// A candidate of round 1 (0 for id 0), ok when `fitness` is finite, else failed at parsing.
    pub(crate) fn candidate(id: usize, fitness: f64, complexity: u64) -> Candidate<Simple> {
        let ok = fitness.is_finite();
        Candidate {
            id,
            round: usize::from(id > 0),
            proposal: Proposal {
                proposer: ProposerKind::Evolve,
                how: String::new(),
                parents: vec![],
                text: String::new(),
                tokens: Tokens::default(),
                error: None,
                cut: None,
            },
            shown: None,
            duplicate_of: None,
            detail: Simple {
                complexity: Some(complexity),
                family: None,
            },
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
            seconds: 0.0,
            finished: None,
            estimate: None,
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

    /// A problem whose solutions are integers keyed by their last digit (first key) and
    /// by their tens (second key); integers below 20 fail their evaluation.
    struct Keyed;

    #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
    struct Keys {
        key: Option<String>,
        second: Option<String>,
    }
    impl Detail for Keys {
        fn key(&self) -> Option<&str> {
            self.key.as_deref()
        }
        fn second_key(&self) -> Option<&str> {
            self.second.as_deref()
        }
    }

    impl Problem for Keyed {
        type Detail = Keys;
        type Solution = u64;
        type Settings = ();
        fn name(&self) -> &str {
            "keyed"
        }
        fn start(&self) -> Option<(String, String)> {
            None
        }
        fn screen(&self, proposal: &Proposal) -> crate::Screening<Keys, u64> {
            let n: Result<u64, _> = proposal.text.trim().parse();
            crate::Screening {
                detail: Keys {
                    key: n.as_ref().ok().map(|n| (n % 10).to_string()),
                    second: n.as_ref().ok().map(|n| (n / 10).to_string()),
                },
                shown: None,
                outcome: n.map_err(|e| (Stage::Parse, e.to_string())),
            }
        }
        fn evaluate(&self, n: u64, _: &mut Keys, _: &(), _: &mut crate::GoOn<'_>) -> crate::Judged {
            let failed = n < 20;
            crate::Judged {
                fitness: if failed { f64::INFINITY } else { n as f64 },
                verdict: if failed {
                    Verdict::Failed {
                        stage: Stage::Evaluate,
                        message: "too small".into(),
                    }
                } else {
                    Verdict::Ok {
                        note: String::new(),
                    }
                },
                feedback: String::new(),
            }
        }
        /// The integer itself, except from 90 on (no estimate).
        fn prescreen(&self, n: &u64, _: &()) -> Option<f64> {
            (*n < 90).then_some(*n as f64)
        }
        fn brief(&self) -> crate::Brief {
            crate::Brief {
                system: String::new(),
                setup: String::new(),
                task: String::new(),
                format: String::new(),
                block: "int".into(),
                noun: "integer".into(),
                same_form: String::new(),
            }
        }
    }

    /// Proposes the given texts, one list per round.
    struct Rounds(Vec<Vec<&'static str>>);
    impl Proposer<Keyed> for Rounds {
        fn propose(
            &mut self,
            ctx: &RoundContext<'_, Keyed>,
        ) -> Result<Vec<Proposal>, crate::ProposeError> {
            Ok(self.0[ctx.round - 1]
                .iter()
                .map(|t| Proposal {
                    proposer: ProposerKind::Evolve,
                    how: String::new(),
                    parents: vec![],
                    text: t.to_string(),
                    tokens: Tokens::default(),
                    error: None,
                    cut: None,
                })
                .collect())
        }
    }

    /// Runs (or resumes) the [`Keyed`] problem in `dir`, proposing `rounds`.
    fn run_keyed(
        dir: &std::path::Path,
        config: &SearchConfig<()>,
        rounds: Vec<Vec<&'static str>>,
    ) -> Outcome<Keys> {
        let stop = AtomicBool::new(false);
        Search {
            problem: &Keyed,
            config,
            run: RunDir::open(dir).expect("run dir"),
            proposer: Box::new(Rounds(rounds)),
            stop: &stop,
        }
        .run(&mut Silent)
        .expect("the run")
    }

    #[test]
    fn a_failed_candidate_makes_no_later_one_a_duplicate_and_second_keys_count() {
        let dir = std::env::temp_dir().join(format!("ansatz-keys-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = SearchConfig::new("keyed.toml", ());
        config.rounds = 3;
        config.threads = 1;
        let rounds = vec![vec!["13"], vec!["23", "33"], vec!["43", "27", "51"]];
        let run = |rounds, config: &SearchConfig<()>| run_keyed(&dir, config, rounds);
        let outcome = run(rounds, &config);
        let c = &outcome.candidates;
        let texts: Vec<&str> = c.iter().map(|c| c.proposal.text.as_str()).collect();
        assert_eq!(texts, ["13", "23", "33", "43", "27", "51"]);
        // 13 failed its evaluation: 23 (same first key) is evaluated, not its duplicate.
        assert_eq!(c[0].failed_stage(), Some(Stage::Evaluate));
        assert_eq!((c[1].duplicate_of, c[1].fitness), (None, 23.0));
        // 33 and 43 share 23's first key; 27 shares its second key; 51 shares neither.
        assert_eq!(c[2].duplicate_of, Some(2));
        assert_eq!(c[3].duplicate_of, Some(2));
        assert_eq!(c[4].duplicate_of, Some(2));
        assert_eq!((c[5].duplicate_of, c[5].fitness), (None, 51.0));
        // A resumed run rebuilds the same keys: 23's are among them, 13's are not (19
        // shares 13's second key).
        config.rounds = 4;
        let outcome = run(vec![vec![], vec![], vec![], vec!["63", "19"]], &config);
        let c = &outcome.candidates;
        assert_eq!(c.len(), 8);
        assert_eq!(c[6].duplicate_of, Some(2));
        assert_eq!(
            (c[7].duplicate_of, c[7].failed_stage()),
            (None, Some(Stage::Evaluate))
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn fit_best_evaluates_the_most_promising_and_sets_the_others_aside_as_keys() {
        let dir = std::env::temp_dir().join(format!("ansatz-prescreen-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut config = SearchConfig::new("keyed.toml", ());
        config.rounds = 2;
        config.threads = 1;
        config.fit_best = Some(2);
        let rounds = vec![vec!["51", "27", "34", "96", "43"], vec!["53", "18"]];
        let outcome = run_keyed(&dir, &config, rounds);
        let c = &outcome.candidates;
        let row = |i: usize| {
            (
                c[i].proposal.text.as_str(),
                c[i].failed_stage(),
                c[i].fitness,
            )
        };
        // Estimates 51, 27, 34, none, 43: 27 and 34 are the best two and are evaluated; 96
        // has no estimate and is evaluated; 43 (3rd of 5) and 51 (4th) are set aside.
        assert_eq!(row(0), ("51", Some(Stage::Prescreen), f64::INFINITY));
        assert_eq!(row(1), ("27", None, 27.0));
        assert_eq!(row(2), ("34", None, 34.0));
        assert_eq!(row(3), ("96", None, 96.0));
        assert_eq!(row(4), ("43", Some(Stage::Prescreen), f64::INFINITY));
        assert!(
            c[4].feedback.contains("ranked 3 of the round's 5"),
            "{}",
            c[4].feedback
        );
        assert!(c[0].feedback.contains("(5.1000e1)"), "{}", c[0].feedback);
        let estimates: Vec<Option<f64>> = c.iter().map(|c| c.estimate).collect();
        let e = |v: f64| Some(v);
        assert_eq!(
            estimates,
            [e(51.0), e(27.0), e(34.0), None, e(43.0), None, None]
        );
        // A set-aside candidate keeps its keys: 53 shares 43's last digit. A round of one
        // (18 fails its evaluation) is evaluated whatever its estimate.
        assert_eq!(c[5].duplicate_of, Some(5));
        assert_eq!(row(6), ("18", Some(Stage::Evaluate), f64::INFINITY));
        // The ledger on disk is in id order.
        let ledger = std::fs::read_to_string(dir.join("ledger.jsonl")).expect("ledger");
        let ids: Vec<u64> = ledger
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).expect("json")["id"]
                    .as_u64()
                    .expect("id")
            })
            .collect();
        assert_eq!(ids, [1, 2, 3, 4, 5, 6, 7]);
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn the_default_stop_is_relative_to_the_start_and_counts_idle_rounds() {
        let mut config = SearchConfig::new("task.toml", ());
        config.target_relative = Some(DEFAULT_TARGET_RELATIVE);
        let mut pop = vec![candidate(0, 2.0, 40)];
        assert_eq!(config.target(&pop), Some(2e-12));
        config.target_loss = Some(1e-15);
        assert_eq!(config.target(&pop), Some(1e-15));
        config.target_loss = None;
        // A start without a positive loss gives no relative target.
        assert_eq!(config.target(&[candidate(0, -1.0, 4)]), None);
        assert_eq!(config.target(&[candidate(0, f64::NAN, 4)]), None);
        // Round 1 improves, round 2 does not (a tie within 1e-12 of the start's loss is no
        // improvement), round 3 does, round 4 does not, round 5 brings nothing finite.
        let mut round = |id: usize, r: usize, fitness: f64| {
            let mut c = candidate(id, fitness, 9);
            c.round = r;
            pop.push(c);
        };
        round(1, 1, 0.5);
        round(2, 2, 0.5 - 1e-13);
        round(3, 2, 0.7);
        round(4, 3, 0.1);
        round(5, 4, 0.2);
        round(6, 5, f64::INFINITY);
        let idle: Vec<usize> = (1..=5)
            .map(|r| rounds_without_improvement(&pop, r))
            .collect();
        assert_eq!(idle, [0, 1, 0, 1, 2]);
    }

    #[test]
    fn selection_shows_the_best_k_worst_first_and_failures_only_when_short() {
        let mut pop: Vec<Candidate<Simple>> = (0..8)
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

    #[test]
    fn the_diverse_selection_shows_one_law_of_each_family() {
        // Candidates 4..8 are re-parametrisations of one law (family "a"), 0..3 others.
        let pop: Vec<Candidate<Simple>> = (0..8)
            .map(|i| {
                let mut c = candidate(i, 1.0 / (i as f64 + 1.0), 9);
                c.detail.family = Some(if i >= 4 { "a".into() } else { format!("f{i}") });
                c
            })
            .chain([candidate(8, f64::INFINITY, 9)])
            .collect();
        assert_eq!(select(&pop, 3), [5, 6, 7]);
        let shown = select_diverse(&pop, 3);
        assert_eq!(shown, [2, 3, 7]);
        let families: BTreeSet<Option<String>> = shown
            .iter()
            .map(|&id| pop[id].detail.family.clone())
            .collect();
        assert_eq!(families.len(), shown.len());
        // Too few families: the newest failure fills the last slot, shown first.
        assert_eq!(select_diverse(&pop[4..], 3), [8, 7]);
    }
}
