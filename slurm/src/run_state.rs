//! The state file of a run directory (`slurm/state.json`): which batches were submitted with
//! which job ids, and each item's attempts and final failure. It is what a new driver re-attaches
//! from; it is written atomically (write, then rename) after every change.

use crate::{JobFailure, SlurmError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The version of the state file's layout.
const VERSION: u32 = 1;

/// One `sbatch` submission: a job array whose task `k` runs `items[k]`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Batch {
    /// Numbered from 0 within the run directory.
    pub number: u32,
    /// The job name given to `sbatch` (found again by `squeue --name` if the driver died
    /// between submitting and writing the job id).
    pub name: String,
    /// The array's job id; `None` while the submission is under way.
    pub job_id: Option<u64>,
    /// The item ids, by array task index.
    pub items: Vec<String>,
}

/// One job that ran (or runs) an item.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub(crate) struct Attempt {
    /// The batch number.
    pub batch: u32,
    /// The array task index within the batch.
    pub task: u32,
}

/// What the run directory knows of one item.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub(crate) struct ItemRecord {
    /// The command it was submitted with: an item under the same id with another command or
    /// result file is a new item, and its record starts afresh.
    #[serde(default)]
    pub command: Vec<String>,
    /// The result file it was submitted with.
    #[serde(default)]
    pub result: PathBuf,
    /// Its jobs, oldest first; the last is the current one.
    pub attempts: Vec<Attempt>,
    /// Jobs of it that ended for a node reason.
    pub node_failures: u32,
    /// Set when it failed for a reason of its own: a new driver reports it again and does not
    /// run it again.
    pub failure: Option<JobFailure>,
    /// Set when a driver cancelled its job (stop flag, deadline): a new driver submits it again.
    #[serde(default)]
    pub cancelled: bool,
}

/// The whole state file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct RunState {
    /// [`VERSION`].
    pub version: u32,
    /// Distinguishes this run directory's job names from other runs' on the same cluster.
    pub token: String,
    /// Every submission so far.
    pub batches: Vec<Batch>,
    /// Every item seen so far, by id.
    pub items: BTreeMap<String, ItemRecord>,
}

impl RunState {
    /// A fresh state with a token made of the time and the process id.
    pub fn new() -> RunState {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let token = format!(
            "{:x}",
            (nanos as u64) ^ (u64::from(std::process::id()) << 40)
        );
        RunState {
            version: VERSION,
            token,
            batches: Vec::new(),
            items: BTreeMap::new(),
        }
    }

    /// The state file of a run directory.
    pub fn path(run_dir: &Path) -> PathBuf {
        run_dir.join("slurm").join("state.json")
    }

    /// Read the state file, or a fresh state where there is none.
    pub fn load(run_dir: &Path) -> Result<RunState, SlurmError> {
        let path = Self::path(run_dir);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let state: RunState =
                    serde_json::from_slice(&bytes).map_err(|source| SlurmError::StateFile {
                        path: path.clone(),
                        source,
                    })?;
                if state.version != VERSION {
                    return Err(SlurmError::InvalidSettings(format!(
                        "{}: state file version {} (this build reads {VERSION})",
                        path.display(),
                        state.version
                    )));
                }
                Ok(state)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RunState::new()),
            Err(e) => Err(SlurmError::io(path, e)),
        }
    }

    /// Write the state file atomically.
    pub fn save(&self, run_dir: &Path) -> Result<(), SlurmError> {
        let path = Self::path(run_dir);
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| SlurmError::StateFile {
            path: path.clone(),
            source,
        })?;
        std::fs::write(&tmp, bytes).map_err(|e| SlurmError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| SlurmError::io(&path, e))
    }

    /// The batch with this number.
    pub fn batch(&self, number: u32) -> Option<&Batch> {
        self.batches.iter().find(|b| b.number == number)
    }

    /// The job id of an attempt as Slurm writes it (`123_4`), if it was submitted.
    pub fn job_id(&self, attempt: Attempt) -> Option<String> {
        let id = self.batch(attempt.batch)?.job_id?;
        Some(format!("{id}_{}", attempt.task))
    }

    /// Forget the records of items whose id is reused with another command or result file:
    /// they are new items.
    pub fn forget_changed(&mut self, items: &[crate::WorkItem]) {
        for item in items {
            let same = |r: &ItemRecord| r.command == item.command && r.result == item.result;
            if self.items.get(&item.id).is_some_and(|r| !same(r)) {
                self.items.remove(&item.id);
            }
        }
    }

    /// The job name of a batch.
    pub fn batch_name(&self, prefix: &str, number: u32) -> String {
        format!("{prefix}-{}-{number}", self.token)
    }
}

/// The log file of an array task (what `--output` names).
pub(crate) fn log_path(run_dir: &Path, attempt: Attempt) -> PathBuf {
    run_dir
        .join("slurm")
        .join("logs")
        .join(format!("b{}_{}.log", attempt.batch, attempt.task))
}

/// The last `lines` lines of a log file (its last 64 KiB at most), empty if it cannot be read.
pub(crate) fn log_tail(path: &Path, lines: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(64 * 1024);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_through_its_file() {
        let dir = std::env::temp_dir().join(format!("ansatz-slurm-state-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("slurm")).expect("temp dir");
        let mut state = RunState::load(&dir).expect("fresh");
        assert!(state.batches.is_empty());
        state.batches.push(Batch {
            number: 0,
            name: state.batch_name("ansatz", 0),
            job_id: Some(42),
            items: vec!["a".into()],
        });
        state
            .items
            .entry("a".into())
            .or_default()
            .attempts
            .push(Attempt { batch: 0, task: 0 });
        state.save(&dir).expect("save");
        let again = RunState::load(&dir).expect("load");
        assert_eq!(again, state);
        assert_eq!(
            again.job_id(Attempt { batch: 0, task: 0 }).as_deref(),
            Some("42_0")
        );
        std::fs::write(RunState::path(&dir), "{not json").expect("write");
        assert!(matches!(
            RunState::load(&dir),
            Err(SlurmError::StateFile { .. })
        ));
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
