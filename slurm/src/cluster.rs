//! Talking to Slurm: `sbatch`, `squeue`, `sacct` and `scancel` as child processes, behind a trait
//! so the round's state machine can be tested with a scripted cluster.

use crate::parse::{self, TaskRecord};
use crate::{SlurmError, SlurmSettings};
use std::cell::Cell;
use std::path::Path;
use std::process::{Command, Output};

/// What the round driver needs from a cluster.
pub(crate) trait Cluster {
    /// Submit a job-array script with its `sbatch` arguments; the array's job id.
    fn submit(&self, script: &Path, args: &[String]) -> Result<u64, SlurmError>;
    /// The array tasks of the jobs with these names that the controller still knows, in any state.
    fn tasks_by_name(&self, names: &[String]) -> Result<Vec<TaskRecord>, SlurmError>;
    /// The tasks of these arrays from the accounting database, empty where there is none.
    fn tasks_from_accounting(&self, array_ids: &[u64]) -> Vec<TaskRecord>;
    /// Cancel jobs or array tasks (`123`, `123_4`).
    fn cancel(&self, job_ids: &[String]) -> Result<(), SlurmError>;
}

/// The real cluster, through the programs named in the settings.
pub(crate) struct CommandCluster<'a> {
    settings: &'a SlurmSettings,
    sacct_works: Cell<bool>,
}

impl<'a> CommandCluster<'a> {
    pub(crate) fn new(settings: &'a SlurmSettings) -> Self {
        CommandCluster {
            settings,
            sacct_works: Cell::new(settings.sacct.is_some()),
        }
    }
}

/// A command line as text, for messages.
fn describe(program: &Path, args: &[String]) -> String {
    std::iter::once(program.to_string_lossy().into_owned())
        .chain(args.iter().map(|a| crate::script::shell_quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Run a program to its end, mapping "not found" to [`SlurmError::ProgramMissing`].
pub(crate) fn run(program: &Path, args: &[String]) -> Result<Output, SlurmError> {
    Command::new(program)
        .args(args)
        .output()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => SlurmError::ProgramMissing {
                program: program.to_path_buf(),
            },
            _ => SlurmError::Spawn {
                program: program.to_path_buf(),
                source,
            },
        })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

impl Cluster for CommandCluster<'_> {
    fn submit(&self, script: &Path, args: &[String]) -> Result<u64, SlurmError> {
        let mut all = args.to_vec();
        all.push(script.to_string_lossy().into_owned());
        let out = run(&self.settings.sbatch, &all)?;
        let command = describe(&self.settings.sbatch, &all);
        if !out.status.success() {
            return Err(SlurmError::SubmitRejected {
                command,
                status: out.status.to_string(),
                stderr: text(&out.stderr),
            });
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        parse::parse_sbatch(&stdout).ok_or_else(|| SlurmError::UnreadableOutput {
            command,
            output: stdout.into_owned(),
        })
    }

    fn tasks_by_name(&self, names: &[String]) -> Result<Vec<TaskRecord>, SlurmError> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let args = vec![
            "--noheader".to_string(),
            "--array".to_string(),
            "--states=all".to_string(),
            format!("--name={}", names.join(",")),
            "--Format".to_string(),
            parse::SQUEUE_FORMAT.to_string(),
        ];
        let out = run(&self.settings.squeue, &args)?;
        if !out.status.success() {
            return Err(SlurmError::CommandFailed {
                command: describe(&self.settings.squeue, &args),
                status: out.status.to_string(),
                stderr: text(&out.stderr),
            });
        }
        Ok(parse::parse_squeue(&String::from_utf8_lossy(&out.stdout)))
    }

    fn tasks_from_accounting(&self, array_ids: &[u64]) -> Vec<TaskRecord> {
        let Some(sacct) = &self.settings.sacct else {
            return Vec::new();
        };
        if array_ids.is_empty() || !self.sacct_works.get() {
            return Vec::new();
        }
        let ids: Vec<String> = array_ids.iter().map(u64::to_string).collect();
        let args = vec![
            "--noheader".to_string(),
            "--parsable2".to_string(),
            "--allocations".to_string(),
            format!("--jobs={}", ids.join(",")),
            format!("--format={}", parse::SACCT_FORMAT),
        ];
        match run(sacct, &args) {
            Ok(out) if out.status.success() => {
                parse::parse_sacct(&String::from_utf8_lossy(&out.stdout))
            }
            // No accounting database ("Slurm accounting storage is disabled") or no sacct:
            // squeue alone is used from then on.
            _ => {
                self.sacct_works.set(false);
                Vec::new()
            }
        }
    }

    fn cancel(&self, job_ids: &[String]) -> Result<(), SlurmError> {
        if job_ids.is_empty() {
            return Ok(());
        }
        let out = run(&self.settings.scancel, job_ids)?;
        if !out.status.success() {
            return Err(SlurmError::CommandFailed {
                command: describe(&self.settings.scancel, job_ids),
                status: out.status.to_string(),
                stderr: text(&out.stderr),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{SlurmError, SlurmExecutor, SlurmSettings};

    #[test]
    fn a_missing_sbatch_says_how_to_install_it() {
        let settings = SlurmSettings {
            sbatch: "ansatz-slurm-no-such-sbatch".into(),
            ..SlurmSettings::default()
        };
        let err = SlurmExecutor::new(settings).check().expect_err("no sbatch");
        assert!(matches!(err, SlurmError::ProgramMissing { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("ansatz-slurm-no-such-sbatch"), "{message}");
        assert!(
            message.contains("apt-get install slurm-client"),
            "{message}"
        );
    }

    #[test]
    fn a_rejected_submission_shows_sbatch_stderr() {
        // `sh` running a script that refuses as sbatch does, with its reason on stderr.
        let dir = std::env::temp_dir().join(format!("ansatz-slurm-reject-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let fake_sbatch = dir.join("sbatch");
        std::fs::write(
            &fake_sbatch,
            "#!/bin/sh\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n",
        )
        .expect("script");
        let settings = SlurmSettings {
            sbatch: "sh".into(),
            ..SlurmSettings::default()
        };
        let cluster = super::CommandCluster::new(&settings);
        let args = vec![fake_sbatch.to_string_lossy().into_owned()];
        let err =
            super::Cluster::submit(&cluster, &dir.join("job.sh"), &args).expect_err("refused");
        let message = err.to_string();
        assert!(matches!(err, SlurmError::SubmitRejected { .. }), "{err:?}");
        assert!(
            message.contains("invalid partition specified: nope"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
