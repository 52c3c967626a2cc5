//! How rounds are submitted and watched.

use std::path::PathBuf;
use std::time::Duration;

/// Settings of the Slurm executor. [`SlurmSettings::default`] suits a small cluster; every field
/// is public so a command line or a task file can set it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlurmSettings {
    /// `--cpus-per-task` of each array task (one item per task).
    pub cpus_per_task: u32,
    /// `--partition`, or the cluster's default partition.
    pub partition: Option<String>,
    /// `--time` of each array task (`MM`, `HH:MM:SS`, `D-HH`...), or the partition's default.
    pub time_limit: Option<String>,
    /// `--mem` of each array task (`500M`, `4G`), or the partition's default.
    pub memory: Option<String>,
    /// Further `sbatch` arguments, passed as they are (`--account=x`, `--qos=y`, `--constraint`, `z`).
    pub extra_sbatch_args: Vec<String>,
    /// How many times an item whose job failed for a node reason (NODE_FAIL, BOOT_FAIL,
    /// PREEMPTED) is resubmitted before it is reported as failed.
    pub max_node_retries: u32,
    /// How often `squeue` is asked about the round's jobs. Result files are looked for more
    /// often (every [`SlurmSettings::result_check_interval`]).
    pub poll_interval: Duration,
    /// How often the run directory is looked at for new result files.
    pub result_check_interval: Duration,
    /// How long a job may be `COMPLETED` with no result file before the item counts as failed
    /// (room for a shared file system's attribute cache).
    pub result_grace: Duration,
    /// The round gives up after this long: its jobs are cancelled and unfinished items are
    /// reported as [`crate::ItemStatus::Unfinished`]. `None` waits as long as Slurm runs them.
    /// Default: 24 hours (a job that can never start must not hang the search).
    pub deadline: Option<Duration>,
    /// At most this many tasks per job array (keep it at most the cluster's `MaxArraySize`
    /// minus one); a larger round is submitted as several arrays.
    pub max_array_size: usize,
    /// `%N` of `--array=0-K%N`: at most this many tasks of one array run at once.
    pub max_running: Option<u32>,
    /// How many consecutive `squeue` failures (controller restarting...) end the round in error.
    pub max_query_failures: u32,
    /// How many lines of a failed job's log are kept in its failure.
    pub log_tail_lines: usize,
    /// A prefix of the job names (`<prefix>-<run token>-<batch>`), seen in `squeue`.
    pub job_name_prefix: String,
    /// The `sbatch` program.
    pub sbatch: PathBuf,
    /// The `squeue` program.
    pub squeue: PathBuf,
    /// The `sacct` program, asked about jobs `squeue` no longer shows; `None` never asks
    /// (clusters without an accounting database).
    pub sacct: Option<PathBuf>,
    /// The `scancel` program.
    pub scancel: PathBuf,
}

impl Default for SlurmSettings {
    fn default() -> Self {
        SlurmSettings {
            cpus_per_task: 1,
            partition: None,
            time_limit: None,
            memory: None,
            extra_sbatch_args: Vec::new(),
            max_node_retries: 3,
            poll_interval: Duration::from_secs(2),
            result_check_interval: Duration::from_millis(100),
            result_grace: Duration::from_secs(30),
            deadline: Some(Duration::from_secs(24 * 3600)),
            max_array_size: 1000,
            max_running: None,
            max_query_failures: 10,
            log_tail_lines: 20,
            job_name_prefix: "ansatz".to_string(),
            sbatch: PathBuf::from("sbatch"),
            squeue: PathBuf::from("squeue"),
            sacct: Some(PathBuf::from("sacct")),
            scancel: PathBuf::from("scancel"),
        }
    }
}

impl SlurmSettings {
    /// Check what can be checked without a cluster.
    pub fn validate(&self) -> Result<(), crate::SlurmError> {
        let bad = |why: &str| Err(crate::SlurmError::InvalidSettings(why.to_string()));
        if self.cpus_per_task == 0 {
            return bad("cpus_per_task must be at least 1");
        }
        if self.max_array_size == 0 {
            return bad("max_array_size must be at least 1");
        }
        if self.poll_interval.is_zero() || self.result_check_interval.is_zero() {
            return bad("poll intervals must be longer than zero");
        }
        if self.max_running == Some(0) {
            return bad("max_running must be at least 1");
        }
        let name_ok = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        };
        if self.job_name_prefix.is_empty() || !name_ok(&self.job_name_prefix) {
            return bad("job_name_prefix must be letters, digits, '-', '_' or '.'");
        }
        Ok(())
    }
}
