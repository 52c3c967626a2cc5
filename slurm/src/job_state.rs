//! Slurm job states as `squeue` and `sacct` print them, and what each means for an item.

use serde::{Deserialize, Serialize};

/// What a Slurm job state means for the item the job evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateClass {
    /// Pending, running, requeued, suspended...: wait.
    Live,
    /// Finished normally: the item is done when its result file exists.
    Completed,
    /// Ended for a reason of the machine, not of the item (node failure, preemption): retry.
    NodeFailure,
    /// Ended for a reason of its own (time limit, memory, non-zero exit, cancelled): failed.
    OwnFailure,
}

/// States that end a job because of the machine; the item is resubmitted (up to the retry limit).
const NODE_FAILURE_STATES: &[&str] = &["NODE_FAIL", "BOOT_FAIL", "PREEMPTED", "REVOKED"];

/// States that end a job because of the item itself.
const OWN_FAILURE_STATES: &[&str] = &[
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "FAILED",
    "CANCELLED",
    "DEADLINE",
    "SPECIAL_EXIT",
];

/// Classify a state word (`RUNNING`, `CANCELLED by 0`, `OUT_OF_ME+`...). Unknown words count as
/// live: a state this crate does not know must not lose an item; the round deadline bounds it.
pub fn classify(state: &str) -> StateClass {
    let word = state_word(state);
    if word == "COMPLETED" {
        StateClass::Completed
    } else if NODE_FAILURE_STATES.contains(&word) {
        StateClass::NodeFailure
    } else if OWN_FAILURE_STATES.contains(&word) {
        StateClass::OwnFailure
    } else {
        StateClass::Live
    }
}

/// The bare state word: `CANCELLED by 0` -> `CANCELLED`; `sacct`'s truncated `OUT_OF_ME+`
/// (narrow column) -> `OUT_OF_MEMORY`.
pub fn state_word(state: &str) -> &str {
    let word = state.split_whitespace().next().unwrap_or("");
    if let Some(prefix) = word.strip_suffix('+') {
        let all = NODE_FAILURE_STATES
            .iter()
            .chain(OWN_FAILURE_STATES)
            .chain(&["COMPLETED"]);
        for known in all {
            if known.starts_with(prefix) {
                return known;
            }
        }
    }
    word
}

/// How a finished job exited, from `squeue`'s raw wait status or `sacct`'s `code:signal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// The exit code of the job script (0 when killed by a signal).
    pub code: i32,
    /// The signal that killed it, 0 if none.
    pub signal: i32,
}

impl ExitStatus {
    /// From a raw wait status as `squeue -O exit_code` prints it (`768` is exit code 3).
    pub fn from_wait_status(raw: i64) -> ExitStatus {
        ExitStatus {
            code: ((raw >> 8) & 0xff) as i32,
            signal: (raw & 0x7f) as i32,
        }
    }

    /// From `sacct`'s or `scontrol`'s `code:signal` (`3:0`).
    pub fn parse_pair(text: &str) -> Option<ExitStatus> {
        let (code, signal) = text.trim().split_once(':')?;
        Some(ExitStatus {
            code: code.trim().parse().ok()?,
            signal: signal.trim().parse().ok()?,
        })
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.signal != 0 {
            write!(f, "killed by signal {}", self.signal)
        } else {
            write!(f, "exit code {}", self.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_fall_in_their_classes() {
        assert_eq!(classify("PENDING"), StateClass::Live);
        assert_eq!(classify("RUNNING"), StateClass::Live);
        assert_eq!(classify("REQUEUED"), StateClass::Live);
        assert_eq!(classify("COMPLETING"), StateClass::Live);
        assert_eq!(classify("COMPLETED"), StateClass::Completed);
        assert_eq!(classify("NODE_FAIL"), StateClass::NodeFailure);
        assert_eq!(classify("BOOT_FAIL"), StateClass::NodeFailure);
        assert_eq!(classify("PREEMPTED"), StateClass::NodeFailure);
        assert_eq!(classify("TIMEOUT"), StateClass::OwnFailure);
        assert_eq!(classify("OUT_OF_MEMORY"), StateClass::OwnFailure);
        assert_eq!(classify("FAILED"), StateClass::OwnFailure);
        assert_eq!(classify("CANCELLED by 0"), StateClass::OwnFailure);
        assert_eq!(classify("SOMETHING_NEW"), StateClass::Live);
    }

    #[test]
    fn truncated_sacct_words_are_completed() {
        assert_eq!(state_word("OUT_OF_ME+"), "OUT_OF_MEMORY");
        assert_eq!(classify("NODE_FA+"), StateClass::NodeFailure);
        assert_eq!(state_word("CANCELLED by 1000"), "CANCELLED");
    }

    #[test]
    fn exit_statuses_parse() {
        assert_eq!(
            ExitStatus::from_wait_status(768),
            ExitStatus { code: 3, signal: 0 }
        );
        assert_eq!(
            ExitStatus::from_wait_status(9),
            ExitStatus { code: 0, signal: 9 }
        );
        assert_eq!(
            ExitStatus::parse_pair("3:0"),
            Some(ExitStatus { code: 3, signal: 0 })
        );
        assert_eq!(
            ExitStatus::parse_pair("0:15"),
            Some(ExitStatus {
                code: 0,
                signal: 15
            })
        );
        assert_eq!(ExitStatus::parse_pair("garbage"), None);
        assert_eq!(ExitStatus { code: 3, signal: 0 }.to_string(), "exit code 3");
    }
}
