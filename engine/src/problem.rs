//! What a search is about. A [`Problem`] says what a solution is (its [`Problem::screen`]
//! turns a proposer's text into one, or rejects it), how a solution is judged
//! ([`Problem::evaluate`]), what the prompt says ([`Problem::brief`]) and how the best is
//! reported ([`Problem::report`]). The loop, the ledger, resuming, replay and the text
//! proposers know nothing else of it.
//!
//! A constitutive law fitted through a simulator is one problem, a table to regress
//! another, a molecule or a discrete sequence others; each lives in its own folder of the
//! root crate (see the repository's `ARCHITECTURE.md`).

use crate::candidate::{Candidate, Detail, Proposal, Stage, Verdict};
use crate::ledger::{LedgerError, RunDir};
use crate::prompt::Brief;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What the screen decided about a proposal.
#[derive(Debug)]
pub struct Screening<D, S> {
    /// What the problem keeps of the proposal so far (its extracted source, say).
    pub detail: D,
    /// What later prompts show of it, when a solution was extracted.
    pub shown: Option<String>,
    /// The solution to evaluate (its deduplication key is `detail.key()`), or the stage
    /// and message that rejected it.
    pub outcome: Result<S, (Stage, String)>,
}

/// How an evaluation ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Judged {
    /// The fitness, lower is better (+∞ or NaN: failed).
    pub fitness: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// The text shown to proposers.
    pub feedback: String,
}

/// Whether an evaluation may go on; asked by the problem between its inner evaluations
/// (`false`: stop now, the result will not be recorded).
pub type GoOn<'a> = dyn FnMut() -> bool + 'a;

/// A problem the search solves.
///
/// `Sync`, because the evaluations of a round run in parallel on the same problem.
pub trait Problem: Sync {
    /// What the ledger keeps of a candidate beyond the common fields.
    type Detail: Detail;
    /// A screened solution, ready to evaluate (a checked law, a sanitised molecule).
    type Solution: Send;
    /// The settings of one evaluation (saved with the run's configuration).
    type Settings: Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync;

    /// Short name (reports, records).
    fn name(&self) -> &str;

    /// What a solution is called in feedback (`law`, `molecule`, `sequence`).
    fn noun(&self) -> &str {
        "solution"
    }

    /// Why a candidate whose key equals that of candidate `first` is rejected.
    fn duplicate_message(&self, first: usize) -> String {
        format!(
            "the same {noun} as candidate #{first}: propose a different {noun}",
            noun = self.noun()
        )
    }

    /// The starting solution, evaluated as candidate 0: how it was given (recorded as the
    /// proposal's `how`) and its text. None: the run starts with round 1.
    fn start(&self) -> Option<(String, String)>;

    /// The cheap stages: extract the solution from the text (a proposer's whole reply, or
    /// a bare solution), parse and check it, and compute its deduplication key. Never fails:
    /// a rejection is a [`Screening`] with an `Err` outcome.
    fn screen(&self, proposal: &Proposal) -> Screening<Self::Detail, Self::Solution>;

    /// Evaluates a screened solution: fits its continuous part and judges it, filling in
    /// `detail` (curves, fitted values, records). `go_on` is asked between inner evaluations
    /// (a stop request, a wall-time budget); once it says `false` the evaluation should end
    /// soon (its result is then dropped and evaluated again by a resumed run). Never fails: a
    /// solution that cannot be evaluated ends with a failed verdict.
    fn evaluate(
        &self,
        solution: Self::Solution,
        detail: &mut Self::Detail,
        settings: &Self::Settings,
        go_on: &mut GoOn<'_>,
    ) -> Judged;

    /// A cheap estimate of the fitness a full evaluation would give (lower is better; a
    /// short-horizon loss, say), used to order a round's evaluations and to set aside the
    /// least promising when the run evaluates only the best few
    /// ([`crate::SearchConfig::fit_best`]). None (the default): no estimate.
    fn prescreen(&self, _solution: &Self::Solution, _settings: &Self::Settings) -> Option<f64> {
        None
    }

    /// The most inner evaluations (calls of `go_on`: rollouts, say) one evaluation makes
    /// with `settings`, when known (progress bars use it).
    fn inner_budget(&self, _settings: &Self::Settings) -> Option<usize> {
        None
    }

    /// What the prompt says about the problem.
    fn brief(&self) -> Brief;

    /// The problem's part of the report: the section about one of the best candidates (its
    /// fitted solution in closed form, say), placed under the candidate's heading.
    fn report_section(&self, _candidate: &Candidate<Self::Detail>) -> String {
        String::new()
    }

    /// The problem's account of the whole run, rewritten after every round: its own files in
    /// the run directory (curves, tables) and a markdown section appended to `report.md`.
    fn report_run(
        &self,
        _run: &RunDir,
        _candidates: &[Candidate<Self::Detail>],
    ) -> Result<String, LedgerError> {
        Ok(String::new())
    }

    /// Writes the best candidate's files into the run directory (the best solution in its
    /// own format, exports). Called after every round with the current best.
    fn write_best(
        &self,
        _run: &RunDir,
        _best: &Candidate<Self::Detail>,
    ) -> Result<(), LedgerError> {
        Ok(())
    }
}
