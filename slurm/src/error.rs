//! What can go wrong in driving a round on Slurm (a failed item is not an error: see
//! [`crate::ItemStatus::Failed`]).

use std::path::PathBuf;

/// An error of the Slurm executor: the cluster or the run directory, never an item.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlurmError {
    /// A Slurm program (`sbatch`, `squeue`...) is not installed or not on `PATH`.
    #[error(
        "`{program}` not found: install the Slurm client tools (Debian/Ubuntu: \
         `apt-get install slurm-client`, or `slurm-wlm` for a whole one-node cluster; \
         `.ci/slurm-up` sets one up) or set its path in the settings"
    )]
    ProgramMissing {
        /// The program as configured.
        program: PathBuf,
    },
    /// A Slurm program could not be started for another reason.
    #[error("cannot run `{program}`: {source}")]
    Spawn {
        /// The program as configured.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `sbatch` refused the job array (bad partition, time limit, option...).
    #[error("sbatch rejected the job array ({status}): {stderr}\n  command: {command}")]
    SubmitRejected {
        /// The command line as run.
        command: String,
        /// Its exit status.
        status: String,
        /// What it wrote to standard error.
        stderr: String,
    },
    /// A Slurm program failed (for `squeue`, after several tries in a row).
    #[error("`{command}` failed ({status}): {stderr}")]
    CommandFailed {
        /// The command line as run.
        command: String,
        /// Its exit status.
        status: String,
        /// What it wrote to standard error.
        stderr: String,
    },
    /// A Slurm program printed something this crate cannot read.
    #[error("cannot read the output of `{command}`: {output:?}")]
    UnreadableOutput {
        /// The command line as run.
        command: String,
        /// What it printed.
        output: String,
    },
    /// Reading or writing a file of the run directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The state file of the run directory is not valid.
    #[error("state file {path} is not valid: {source}")]
    StateFile {
        /// The state file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The round's items are not valid (empty or repeated id, empty command...).
    #[error("invalid work item {id:?}: {why}")]
    InvalidItem {
        /// The item's id.
        id: String,
        /// What is wrong.
        why: String,
    },
    /// The settings are not valid.
    #[error("invalid Slurm settings: {0}")]
    InvalidSettings(String),
}

impl SlurmError {
    /// An [`SlurmError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> SlurmError {
        SlurmError::Io {
            path: path.into(),
            source,
        }
    }
}
