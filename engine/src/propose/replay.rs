//! The replay proposer: proposes exactly what a recorded run proposed, round by round.

use super::{ProposeError, Proposer, RoundContext};
use crate::candidate::Proposal;
use crate::ledger::{LedgerError, read_ledger};
use crate::problem::Problem;
use std::collections::BTreeMap;
use std::path::Path;

/// What the replay reads of a ledger line, whatever the problem.
#[derive(serde::Deserialize)]
struct Recorded {
    id: usize,
    round: usize,
    #[serde(flatten)]
    proposal: Proposal,
}

/// Replays the proposals of a recorded ledger.
#[derive(Debug)]
pub struct ReplayProposer {
    rounds: BTreeMap<usize, Vec<Proposal>>,
}

impl ReplayProposer {
    /// Reads `path`: a `ledger.jsonl` or a run directory holding one.
    pub fn open(path: &Path) -> Result<ReplayProposer, LedgerError> {
        let ledger = if path.is_dir() {
            path.join("ledger.jsonl")
        } else {
            path.to_path_buf()
        };
        let mut candidates: Vec<Recorded> = read_ledger(&ledger)?;
        candidates.sort_by_key(|c| c.id);
        let mut rounds: BTreeMap<usize, Vec<Proposal>> = BTreeMap::new();
        for c in candidates.into_iter().filter(|c| c.round > 0) {
            rounds.entry(c.round).or_default().push(c.proposal);
        }
        Ok(ReplayProposer { rounds })
    }

    /// The last recorded round.
    pub fn rounds(&self) -> usize {
        self.rounds.keys().next_back().copied().unwrap_or(0)
    }
}

impl<P: Problem> Proposer<P> for ReplayProposer {
    fn propose(&mut self, ctx: &RoundContext<'_, P>) -> Result<Vec<Proposal>, ProposeError> {
        match self.rounds.get(&ctx.round) {
            Some(p) => Ok(p.clone()),
            None => Err(ProposeError {
                proposer: "replay".into(),
                message: format!(
                    "the recording has no round {} (it has {})",
                    ctx.round,
                    self.rounds()
                ),
            }),
        }
    }
}
