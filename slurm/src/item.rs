//! A round's work items and what became of each.

use crate::job_state::ExitStatus;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

/// One independent piece of work: a command that writes one result file.
///
/// The command must write its result atomically (to a temporary name, then rename), so that a
/// result file that exists is complete. A relative `result` path is taken from the run directory,
/// which is also the job's working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkItem {
    /// Unique within the run directory and stable across driver restarts (it keys the state file).
    pub id: String,
    /// The program and its arguments (run without a shell; each word is quoted).
    pub command: Vec<String>,
    /// The file the command writes when it succeeds.
    pub result: PathBuf,
}

impl WorkItem {
    /// An item from its id, command words and result file.
    pub fn new<S: Into<String>>(
        id: impl Into<String>,
        command: impl IntoIterator<Item = S>,
        result: impl Into<PathBuf>,
    ) -> WorkItem {
        WorkItem {
            id: id.into(),
            command: command.into_iter().map(Into::into).collect(),
            result: result.into(),
        }
    }
}

/// Why an item's job failed for a reason of its own (or after too many node failures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFailure {
    /// The Slurm state word: `TIMEOUT`, `OUT_OF_MEMORY`, `FAILED`, `CANCELLED`, `NODE_FAIL`
    /// (retries used up), `COMPLETED` (exited 0 without a result file) or `UNKNOWN` (the job
    /// left `squeue` and `sacct` without a result).
    pub state: String,
    /// Slurm's reason (`NonZeroExitCode`, `TimeLimit`...), when `squeue` gave one.
    pub reason: String,
    /// How the job exited, when known.
    pub exit: Option<ExitStatus>,
    /// The array task's job id (`123_4`).
    pub job_id: String,
    /// The job's log (standard output and error).
    pub log: PathBuf,
    /// The last lines of the log.
    pub log_tail: String,
    /// How many jobs ran the item.
    pub attempts: u32,
}

impl std::fmt::Display for JobFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Slurm job {} ended {}", self.job_id, self.state)?;
        if let Some(exit) = self.exit.filter(|e| e.code != 0 || e.signal != 0) {
            write!(f, " ({exit})")?;
        }
        if !self.reason.is_empty() && self.reason != "None" {
            write!(f, ", reason {}", self.reason)?;
        }
        write!(
            f,
            ", after {} attempt(s); log {}",
            self.attempts,
            self.log.display()
        )?;
        if !self.log_tail.is_empty() {
            write!(f, ":\n{}", self.log_tail)?;
        }
        Ok(())
    }
}

/// What became of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    /// Its result file exists.
    Done {
        /// The result file (absolute).
        result: PathBuf,
    },
    /// Its job failed for a reason of its own, or for node reasons more often than allowed.
    Failed(JobFailure),
    /// The round was stopped or ran out of time before it finished; its job was cancelled. A
    /// later round in the same run directory submits it again.
    Unfinished,
}

/// One item's outcome in a [`RoundReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOutcome {
    /// The item's id.
    pub id: String,
    /// What became of it.
    pub status: ItemStatus,
    /// How many jobs ran it (0: its result was there before the round).
    pub attempts: u32,
    /// Its last job (`123_4`), if any.
    pub job_id: Option<String>,
}

/// How a round ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundEnd {
    /// Every item is done or failed.
    Complete,
    /// The stop flag was raised; the round's jobs were cancelled.
    Stopped,
    /// The deadline passed; the round's jobs were cancelled.
    DeadlineExceeded,
}

/// What a round did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundReport {
    /// One outcome per item, in the order of the items given.
    pub outcomes: Vec<ItemOutcome>,
    /// How the round ended.
    pub end: RoundEnd,
    /// Items submitted to Slurm by this call (a retry counts again).
    pub submitted: usize,
    /// Items whose jobs, submitted by an earlier driver, this call watched instead.
    pub reattached: usize,
    /// Resubmissions after node failures.
    pub node_retries: usize,
    /// Things that went wrong without ending the round (a failed `scancel`, ...).
    pub warnings: Vec<String>,
    /// From the call to its return.
    pub elapsed: Duration,
}

impl RoundReport {
    /// The outcomes that are done.
    pub fn done(&self) -> impl Iterator<Item = &ItemOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, ItemStatus::Done { .. }))
    }

    /// The outcomes that failed.
    pub fn failed(&self) -> impl Iterator<Item = &ItemOutcome> {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.status, ItemStatus::Failed(_)))
    }
}

/// Refuse a round with an empty or repeated id, an empty command or result path.
pub(crate) fn validate(items: &[WorkItem]) -> Result<(), crate::SlurmError> {
    let mut seen = HashSet::new();
    for item in items {
        let bad = |why: &str| {
            Err(crate::SlurmError::InvalidItem {
                id: item.id.clone(),
                why: why.to_string(),
            })
        };
        if item.id.is_empty() || item.id.chars().any(char::is_control) {
            return bad("the id must be non-empty, without control characters");
        }
        if !seen.insert(item.id.as_str()) {
            return bad("the id is repeated in the round");
        }
        if item.command.is_empty() || item.command[0].is_empty() {
            return bad("the command is empty");
        }
        if item.result.as_os_str().is_empty() {
            return bad("the result path is empty");
        }
    }
    Ok(())
}
