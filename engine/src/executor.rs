//! Who evaluates a round's screened candidates: an [`Executor`].
//!
//! The search screens a round's proposals itself (cheap, in order, deduplicated) and hands
//! the survivors to its executor, which evaluates them and gives each evaluated candidate
//! back as soon as it is known; the loop, the ledger and the report do not depend on which
//! executor ran them.
//!
//! - [`LocalExecutor`] (the default): the local cores, a rayon pool.
//! - Other executors live outside the engine (the root crate's Slurm executor runs each
//!   candidate as a cluster job that calls `ansatz evaluate`).
//!
//! Every executor evaluates through [`evaluate_one`] (a job on a cluster node goes through
//! [`evaluate_submission`], which screens the proposal again and calls it), so a
//! candidate's result does not depend on where it was evaluated.

use crate::candidate::{Candidate, Proposal, Stage, Verdict, unix_seconds};
use crate::ledger::RunDir;
use crate::problem::Problem;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A screened candidate waiting for its evaluation.
pub struct Screened<P: Problem> {
    /// The candidate as the screen left it (detail, shown text, screening seconds).
    pub candidate: Candidate<P::Detail>,
    /// Its solution.
    pub solution: P::Solution,
}

/// What an executor gets with a round's screened candidates.
pub struct RoundWork<'a, P: Problem> {
    /// The problem.
    pub problem: &'a P,
    /// The settings of one evaluation.
    pub settings: &'a P::Settings,
    /// The problem's file (the task file), for executors that evaluate in other processes.
    pub task: &'a Path,
    /// The run directory.
    pub run: &'a RunDir,
    /// The round (0: the starting solution).
    pub round: usize,
    /// Whether evaluations may go on: `false` once a stop was requested, the wall-time
    /// budget ran out or a candidate reached the target. Evaluations then end without a
    /// result (a resumed run evaluates them again).
    pub go_on: &'a (dyn Fn() -> bool + Sync),
    /// Inner evaluations done in this round, counted by executors that evaluate in this
    /// process (progress only).
    pub inner: &'a AtomicUsize,
}

/// What an executor reports of a round, as it happens.
pub enum Evaluated<D> {
    /// A candidate evaluated (or failed for a reason of its own): to record.
    Finished(Box<Candidate<D>>),
    /// A candidate cut or never started because [`RoundWork::go_on`] said no: its id, left
    /// pending for a resumed run.
    Cut(usize),
    /// Nothing new; sent about twice a second while evaluations run (to show progress).
    Tick,
}

/// An executor could not do its work at all (a thread pool that cannot start, a cluster
/// that refuses jobs): the run ends with this error, everything recorded so far kept. A
/// candidate whose evaluation failed is not an error but a failed candidate.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExecutorError(pub String);

/// Evaluates the screened candidates of a round.
pub trait Executor<P: Problem> {
    /// Its name (`local`, `slurm`), for messages.
    fn name(&self) -> &str;

    /// Evaluates `screened`, giving each evaluated candidate to `done` as soon as it is known
    /// (in any order, each at most once, as [`Evaluated::Finished`]; one cut or not started
    /// as [`Evaluated::Cut`]). A candidate the executor could not evaluate for a
    /// reason of its own (a cluster job that ran out of time) is given as failed at
    /// [`Stage::Evaluate`] (see [`failed_evaluation`]). Returns `true` when some candidates
    /// were left without a result because [`RoundWork::go_on`] said no.
    fn evaluate(
        &mut self,
        work: &RoundWork<'_, P>,
        screened: Vec<Screened<P>>,
        done: &mut dyn FnMut(Evaluated<P::Detail>),
    ) -> Result<bool, ExecutorError>;
}

/// The screen of one proposal without deduplication: a failed proposal, a rejection
/// (`Err`, a finished candidate), or a solution to evaluate.
pub fn screen<P: Problem>(
    problem: &P,
    id: usize,
    round: usize,
    proposal: Proposal,
) -> Result<Screened<P>, Box<Candidate<P::Detail>>> {
    let started = Instant::now();
    let noun = problem.noun();
    if let Some(message) = proposal.error.clone() {
        return Err(Box::new(Candidate::failed(
            id,
            round,
            proposal,
            P::Detail::default(),
            Stage::Propose,
            message,
            noun,
        )));
    }
    let screening = problem.screen(&proposal);
    let mut c = Candidate::failed(
        id,
        round,
        proposal,
        screening.detail,
        Stage::Fit,
        String::new(),
        noun,
    );
    c.shown = screening.shown;
    c.seconds = started.elapsed().as_secs_f64();
    match screening.outcome {
        Err((stage, message)) => {
            c.feedback = format!("The {noun} was rejected at the {stage} stage: {message}");
            c.verdict = Verdict::Failed { stage, message };
            Err(Box::new(c))
        }
        Ok(solution) => Ok(Screened {
            candidate: c,
            solution,
        }),
    }
}

/// Evaluates one screened candidate: the one code path of every executor. `None` when
/// `go_on` said no before the evaluation ended (that is not a result).
pub fn evaluate_one<P: Problem>(
    problem: &P,
    screened: Screened<P>,
    settings: &P::Settings,
    go_on: &dyn Fn() -> bool,
) -> Option<Candidate<P::Detail>> {
    let mut cut = false;
    let mut ask = || {
        let yes = go_on();
        cut |= !yes;
        yes
    };
    let started = Instant::now();
    let Screened {
        mut candidate,
        solution,
    } = screened;
    let judged = problem.evaluate(solution, &mut candidate.detail, settings, &mut ask);
    if cut {
        return None;
    }
    candidate.fitness = judged.fitness;
    candidate.verdict = judged.verdict;
    candidate.feedback = judged.feedback;
    candidate.seconds += started.elapsed().as_secs_f64();
    candidate.finished = Some(unix_seconds());
    Some(candidate)
}

/// One candidate to evaluate in another process (`ansatz evaluate --candidate FILE`): its
/// id, round and proposal, from which the screen is run again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submission {
    /// The candidate's id in its run.
    pub id: usize,
    /// Its round.
    pub round: usize,
    /// What the proposer wrote.
    pub proposal: Proposal,
}

/// Evaluates a [`Submission`]: [`screen`], then [`evaluate_one`], exactly as the local
/// executor does, so the candidate is the one a local run records (apart from `seconds`).
/// A rejected proposal comes back as the rejected candidate. `None`: `go_on` said no.
pub fn evaluate_submission<P: Problem>(
    problem: &P,
    submission: Submission,
    settings: &P::Settings,
    go_on: &dyn Fn() -> bool,
) -> Option<Candidate<P::Detail>> {
    match screen(
        problem,
        submission.id,
        submission.round,
        submission.proposal,
    ) {
        Err(rejected) => Some(*rejected),
        Ok(screened) => evaluate_one(problem, screened, settings, go_on),
    }
}

/// A screened candidate an executor could not evaluate (`message`: why, e.g. the cluster
/// job's state and log): failed at [`Stage::Evaluate`] with an infinite fitness.
pub fn failed_evaluation<D>(
    mut candidate: Candidate<D>,
    message: String,
    noun: &str,
) -> Candidate<D> {
    candidate.fitness = f64::INFINITY;
    candidate.feedback = format!("The {noun} could not be evaluated: {message}");
    candidate.verdict = Verdict::Failed {
        stage: Stage::Evaluate,
        message,
    };
    candidate
}

/// The local cores: each candidate is evaluated in a rayon pool.
pub struct LocalExecutor {
    pool: rayon::ThreadPool,
}

impl LocalExecutor {
    /// A pool of `threads` threads (0: one per core).
    pub fn new(threads: usize) -> Result<LocalExecutor, ExecutorError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| ExecutorError(format!("thread pool: {e}")))?;
        Ok(LocalExecutor { pool })
    }
}

impl<P: Problem> Executor<P> for LocalExecutor {
    fn name(&self) -> &str {
        "local"
    }

    fn evaluate(
        &mut self,
        work: &RoundWork<'_, P>,
        screened: Vec<Screened<P>>,
        done: &mut dyn FnMut(Evaluated<P::Detail>),
    ) -> Result<bool, ExecutorError> {
        let interrupted = AtomicBool::new(false);
        let (tx, rx) = mpsc::channel::<Evaluated<P::Detail>>();
        let (problem, settings, go_on, inner) =
            (work.problem, work.settings, work.go_on, work.inner);
        let counted = || {
            inner.fetch_add(1, Ordering::Relaxed);
            go_on()
        };
        self.pool.in_place_scope(|scope| {
            for s in screened {
                let tx = tx.clone();
                let interrupted = &interrupted;
                let counted = &counted;
                scope.spawn(move |_| {
                    let id = s.candidate.id;
                    // Not started once the round is cut: a resumed run evaluates it.
                    let result = if go_on() {
                        evaluate_one(problem, s, settings, counted)
                    } else {
                        None
                    };
                    let _ = tx.send(match result {
                        Some(c) => Evaluated::Finished(Box::new(c)),
                        None => {
                            interrupted.store(true, Ordering::SeqCst);
                            Evaluated::Cut(id)
                        }
                    });
                });
            }
            drop(tx);
            loop {
                match rx.recv_timeout(Duration::from_millis(500)) {
                    Ok(e) => done(e),
                    Err(mpsc::RecvTimeoutError::Timeout) => done(Evaluated::Tick),
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
        });
        Ok(interrupted.load(Ordering::SeqCst))
    }
}
