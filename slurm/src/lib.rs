//! Candidate evaluation as Slurm job arrays over a shared run directory.
//!
//! A round is a list of independent [`WorkItem`]s, each a command that writes one result file.
//! [`SlurmExecutor::run_round`] writes a job-array script into the run directory, submits it with
//! `sbatch --array`, watches the array with `squeue` (and `sacct` where there is an accounting
//! database), and returns when every item has its result file or has failed:
//!
//! - an item is **done** when its result file exists (the command writes it, then renames it);
//! - a job that ended for a **node reason** (`NODE_FAIL`, `BOOT_FAIL`, `PREEMPTED`) is
//!   resubmitted, up to [`SlurmSettings::max_node_retries`] times;
//! - a job that ended for **its own reason** (`TIMEOUT`, `OUT_OF_MEMORY`, `FAILED` with an exit
//!   code, `CANCELLED`) makes the item [`ItemStatus::Failed`], with the state and its log's tail;
//! - the **stop flag** cancels the round's jobs (`scancel`); so does the optional deadline.
//!
//! The run directory must be on a file system that every node sees at the same path. A state file
//! in it (`slurm/state.json`) records every submission, so a new driver given the same items
//! re-attaches to jobs still pending or running and submits only items with neither a result nor
//! a live job: nothing runs twice.
//!
//! This crate knows nothing of what the commands compute.
//!
//! ```no_run
//! use ansatz_slurm::{ItemStatus, SlurmExecutor, SlurmSettings, WorkItem};
//! use std::sync::atomic::AtomicBool;
//! use std::time::Duration;
//!
//! let settings = SlurmSettings {
//!     cpus_per_task: 2,
//!     time_limit: Some("00:10:00".into()),
//!     deadline: Some(Duration::from_secs(3600)),
//!     ..SlurmSettings::default()
//! };
//! let executor = SlurmExecutor::new(settings);
//! executor.check()?; // sbatch is there, or an error saying how to install it
//! let run_dir = std::path::Path::new("/shared/runs/r1");
//! let items: Vec<WorkItem> = (0..4)
//!     .map(|k| {
//!         let item = format!("items/{k}.json");
//!         let result = format!("results/{k}.json");
//!         WorkItem::new(
//!             k.to_string(),
//!             ["ansatz", "evaluate", "--item", &item, "--result", &result],
//!             result.clone(),
//!         )
//!     })
//!     .collect();
//! let stop = AtomicBool::new(false); // raised by a Ctrl-C handler
//! let report = executor.run_round(run_dir, &items, &stop)?;
//! for outcome in &report.outcomes {
//!     match &outcome.status {
//!         ItemStatus::Done { result } => println!("{}: {}", outcome.id, result.display()),
//!         ItemStatus::Failed(failure) => println!("{}: {failure}", outcome.id),
//!         ItemStatus::Unfinished => println!("{}: stopped", outcome.id),
//!     }
//! }
//! # Ok::<(), ansatz_slurm::SlurmError>(())
//! ```

#![warn(missing_docs)]

mod cluster;
mod error;
mod item;
pub mod job_state;
pub mod parse;
mod round;
mod run_state;
pub mod script;
mod settings;

pub use error::SlurmError;
pub use item::{ItemOutcome, ItemStatus, JobFailure, RoundEnd, RoundReport, WorkItem};
pub use job_state::ExitStatus;
pub use settings::SlurmSettings;

use std::path::Path;
use std::sync::atomic::AtomicBool;

/// Runs rounds of work items as Slurm job arrays.
#[derive(Debug, Clone)]
pub struct SlurmExecutor {
    settings: SlurmSettings,
}

impl SlurmExecutor {
    /// An executor with these settings.
    pub fn new(settings: SlurmSettings) -> SlurmExecutor {
        SlurmExecutor { settings }
    }

    /// The settings.
    pub fn settings(&self) -> &SlurmSettings {
        &self.settings
    }

    /// Check the settings, and that `sbatch`, `squeue` and `scancel` run (`--version`), so a
    /// missing Slurm is reported before a search starts.
    pub fn check(&self) -> Result<(), SlurmError> {
        self.settings.validate()?;
        let s = &self.settings;
        for program in [&s.sbatch, &s.squeue, &s.scancel] {
            let out = cluster::run(program, &["--version".to_string()])?;
            if !out.status.success() {
                return Err(SlurmError::CommandFailed {
                    command: format!("{} --version", program.display()),
                    status: out.status.to_string(),
                    stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
        }
        Ok(())
    }

    /// Run one round: submit the items that have neither a result file nor a job (recorded in
    /// `run_dir`'s state file by this or an earlier driver), watch them until each is done or
    /// failed, and report each item's outcome in the order given.
    ///
    /// Raising `stop` cancels the round's jobs and returns at once with
    /// [`RoundEnd::Stopped`]; unfinished items are submitted again by the next call with them.
    /// Returns an error only for the cluster or the run directory (sbatch rejected the array,
    /// squeue failed too often, a file could not be written); a failed item is an outcome.
    pub fn run_round(
        &self,
        run_dir: &Path,
        items: &[WorkItem],
        stop: &AtomicBool,
    ) -> Result<RoundReport, SlurmError> {
        let cluster = cluster::CommandCluster::new(&self.settings);
        round::drive(&cluster, &self.settings, run_dir, items, stop)
    }
}

/// Whether the tests that need a real cluster were asked for (`ANSATZ_SLURM_TESTS=1`, as
/// `.ci/run` sets after `.ci/slurm-up`). When they were not, says on standard error (past a
/// test harness's capture) that `test` is skipped.
pub fn cluster_tests_requested(test: &str) -> bool {
    if std::env::var("ANSATZ_SLURM_TESTS").as_deref() == Ok("1") {
        return true;
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "{test}: skipped (set ANSATZ_SLURM_TESTS=1 with a cluster up: .ci/slurm-up)"
    );
    false
}

#[cfg(test)]
mod fake;
