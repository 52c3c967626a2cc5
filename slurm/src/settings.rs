//! How rounds are submitted and watched.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Settings of the Slurm executor. [`SlurmSettings::default`] suits a small cluster; every field
/// is public so a command line can set it, and it deserializes (serde, missing fields default,
/// durations in seconds) so a task file can hold it, e.g. a TOML table
/// `[slurm]` with `cpus_per_task = 4`, `partition = "cpu"`, `time_limit = "00:30:00"`,
/// `poll_interval = 5`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    #[serde(with = "secs")]
    pub poll_interval: Duration,
    /// How often the run directory is looked at for new result files.
    #[serde(with = "secs")]
    pub result_check_interval: Duration,
    /// How long a job may be `COMPLETED` with no result file before the item counts as failed
    /// (room for a shared file system's attribute cache).
    #[serde(with = "secs")]
    pub result_grace: Duration,
    /// The round gives up after this long: its jobs are cancelled and unfinished items are
    /// reported as [`crate::ItemStatus::Unfinished`]. `None` waits as long as Slurm runs them.
    /// Default: 24 hours (a job that can never start must not hang the search).
    #[serde(with = "opt_secs")]
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

/// Durations as seconds (a float) in settings files.
mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}

/// Optional durations as seconds.
mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<f64>::deserialize(d)? {
            Some(secs) => Duration::try_from_secs_f64(secs)
                .map(Some)
                .map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_read_from_a_file_with_defaults_and_seconds() {
        let s: SlurmSettings = serde_json::from_str(
            r#"{"cpus_per_task": 4, "partition": "cpu", "poll_interval": 5, "deadline": 0.5,
                "extra_sbatch_args": ["--qos=low"], "sacct": null}"#,
        )
        .expect("settings");
        assert_eq!(s.cpus_per_task, 4);
        assert_eq!(s.partition.as_deref(), Some("cpu"));
        assert_eq!(s.poll_interval, Duration::from_secs(5));
        assert_eq!(s.deadline, Some(Duration::from_millis(500)));
        assert_eq!(s.sacct, None);
        assert_eq!(
            s.max_node_retries,
            SlurmSettings::default().max_node_retries
        );
        let back: SlurmSettings =
            serde_json::from_str(&serde_json::to_string(&s).expect("json")).expect("back");
        assert_eq!(back, s);
        assert!(serde_json::from_str::<SlurmSettings>(r#"{"cpus": 4}"#).is_err());
        assert!(serde_json::from_str::<SlurmSettings>(r#"{"poll_interval": -1}"#).is_err());
        assert!(
            SlurmSettings {
                cpus_per_task: 0,
                ..s
            }
            .validate()
            .is_err()
        );
    }
}
