//! Proposers: what writes the solutions. One trait; the engine has the three that only
//! handle text: `llm` (a language model), `human` (a person or an outside program answering
//! prompt files) and `replay` (exactly what a recorded run proposed). Each problem kind
//! brings its own offline proposer (`evolve`).

mod history;
mod human;
mod llm;
mod replay;

pub use human::HumanProposer;
pub use llm::LlmProposer;
pub use replay::ReplayProposer;

use crate::candidate::{Candidate, Proposal, Verdict};
use crate::ledger::RunDir;
use crate::problem::Problem;
use crate::prompt::{FeedbackFormat, Shown, Turn, code_section, messages, messages_full};
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

/// Everything a proposer may look at in one round.
pub struct RoundContext<'a, P: Problem> {
    /// The round (1-based; round 0 is the starting law).
    pub round: usize,
    /// The run's last round (`--rounds`; the run may stop before it).
    pub rounds: usize,
    /// The problem.
    pub problem: &'a P,
    /// Every candidate so far, sorted by id (ids may have gaps: proposals not yet fitted).
    pub population: &'a [Candidate<P::Detail>],
    /// Ids of the candidates shown this round, worst first, best last.
    pub shown: &'a [usize],
    /// Proposals wanted at the exploitation temperature.
    pub exploit: usize,
    /// Proposals wanted at the exploration temperature.
    pub explore: usize,
    /// Temperature of the exploiting requests.
    pub exploit_temperature: f64,
    /// Temperature of the exploring requests.
    pub explore_temperature: f64,
    /// Deduplication keys of every solution seen so far.
    pub seen: &'a BTreeSet<String>,
    /// The run's seed.
    pub seed: u64,
    /// The run directory (transcripts, prompt files).
    pub run: &'a RunDir,
    /// Set when the user asked to stop (Ctrl-C).
    pub stop: &'a AtomicBool,
    /// Which feedback the prompt gives.
    pub feedback: FeedbackFormat,
    /// The fitness at which the run stops, if it has a target (the default format says it).
    pub target: Option<f64>,
}

impl<P: Problem> RoundContext<'_, P> {
    /// The candidate with this id.
    pub fn candidate(&self, id: usize) -> Option<&Candidate<P::Detail>> {
        self.population
            .binary_search_by_key(&id, |c| c.id)
            .ok()
            .map(|i| &self.population[i])
    }

    /// The number of proposals wanted.
    pub fn wanted(&self) -> usize {
        self.exploit + self.explore
    }

    /// The conversation a language model sees this round, asked for one solution per
    /// reply.
    pub fn messages(&self) -> Vec<Turn> {
        self.messages_for(1)
    }

    /// The conversation of this round, asked for `per_reply` solutions in one reply.
    pub fn messages_for(&self, per_reply: usize) -> Vec<Turn> {
        let brief = self.problem.brief();
        let shown: Vec<Shown> = self
            .shown
            .iter()
            .filter_map(|&id| self.candidate(id))
            .map(|c| shown_of(c, &brief.block))
            .collect();
        if self.feedback == FeedbackFormat::Full {
            let history = history::history(self, &brief.block, per_reply);
            return messages_full(&brief, &shown, &history);
        }
        let rejected: Vec<String> = self
            .population
            .iter()
            .filter(|c| c.round + 1 == self.round && !self.shown.contains(&c.id))
            .filter_map(|c| {
                let stage = c.failed_stage()?;
                let message = match &c.verdict {
                    Verdict::Failed { message, .. } => message.as_str(),
                    Verdict::Ok { .. } => "",
                };
                let first: String = message
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                Some(format!("#{} ({stage}): {first}", c.id))
            })
            .collect();
        messages(&brief, &shown, &rejected)
    }

    /// A seed for this round's randomness, mixed from the run's seed and the round.
    pub fn round_seed(&self) -> u64 {
        splitmix(self.seed ^ splitmix(self.round as u64))
    }
}

/// SplitMix64: a well-mixed 64-bit function for deriving seeds.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a candidate is shown in a prompt (`block`: the problem's fence tag).
pub(crate) fn shown_of<D: crate::candidate::Detail>(c: &Candidate<D>, block: &str) -> Shown {
    let content = match &c.shown {
        Some(s) => s.clone(),
        None if c.proposal.proposer == crate::candidate::ProposerKind::Start => {
            code_section(block, &c.proposal.text)
        }
        None => {
            let mut raw: String = c.proposal.text.chars().take(2000).collect();
            if raw.len() < c.proposal.text.len() {
                raw.push_str("\n[...]");
            }
            if raw.trim().is_empty() {
                "(no reply)".to_string()
            } else {
                raw
            }
        }
    };
    let outcome = if c.is_ok() {
        Ok(c.feedback.clone())
    } else {
        Err(c.feedback.clone())
    };
    Shown { content, outcome }
}

/// Why a proposer cannot go on: the run ends (with everything so far kept).
#[derive(Debug, thiserror::Error)]
#[error("{proposer}: {message}")]
pub struct ProposeError {
    /// The proposer.
    pub proposer: String,
    /// What happened.
    pub message: String,
}

/// Writes solutions for problems of type `P`.
pub trait Proposer<P: Problem>: Send {
    /// The proposals of one round. Failures that concern single proposals (a model request
    /// that failed after its retries) are proposals with `error` set; `Err` ends the run.
    fn propose(&mut self, ctx: &RoundContext<'_, P>) -> Result<Vec<Proposal>, ProposeError>;
}
