//! Where a search evaluates its candidates: [`ExecutorKind::Local`] (the local cores, the
//! default) or [`ExecutorKind::Slurm`] (a Slurm cluster).
//!
//! The Slurm executor ([`SlurmEvaluator`]) turns a round's screened candidates into one job
//! array (crate `ansatz-slurm`): for each candidate it writes a [`Submission`] file, and
//! array task `k` runs `ansatz evaluate` on the `k`-th, which screens the proposal again
//! and evaluates it through the engine's one code path
//! ([`ansatz_engine::executor::evaluate_submission`]) and writes the evaluated candidate,
//! a ledger line, atomically. The driver reads the result files back in the round's order.
//!
//! Files, all in the run directory, which must be on a file system every node mounts at
//! the same path (as must the task file and the files it names):
//!
//! ```text
//! RUN/executor.json                  the executor and its Slurm settings (read by --resume)
//! RUN/slurm/fit.json                 the evaluation settings
//! RUN/slurm/candidates/rNNN-cID.json one submission per candidate
//! RUN/slurm/results/rNNN-cID.json    its evaluated candidate (written by the job)
//! RUN/slurm/state.json, scripts/, logs/   the job arrays (crate ansatz-slurm)
//! ```
//!
//! A candidate's id (`rNNN-cID`) is the same whichever driver submits it, so a driver that
//! was killed and resumed re-attaches to the jobs still running and submits only the
//! candidates with neither a result nor a job: nothing is evaluated twice.

use ansatz_engine::executor::{Evaluated, ExecutorError, RoundWork, Screened, failed_evaluation};
use ansatz_engine::ledger::write_atomic;
use ansatz_engine::{Candidate, Executor, Problem, Submission};
use ansatz_slurm::{ItemStatus, SlurmExecutor, SlurmSettings, WorkItem};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Which executor evaluates a search's candidates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// The local cores (a thread pool).
    #[default]
    Local,
    /// A Slurm cluster: one job array per round.
    Slurm,
}

impl std::fmt::Display for ExecutorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ExecutorKind::Local => "local",
            ExecutorKind::Slurm => "slurm",
        })
    }
}

/// What a run directory records of its executor (`executor.json`): `--resume` goes on with
/// the same one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecutorRecord {
    /// The executor.
    pub executor: ExecutorKind,
    /// Its Slurm settings (with `slurm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<SlurmSettings>,
}

impl ExecutorRecord {
    /// The file in run directory `run`.
    pub fn path(run: &Path) -> PathBuf {
        run.join("executor.json")
    }

    /// The record of run directory `run`, if it has one.
    pub fn load(run: &Path) -> Result<Option<ExecutorRecord>, String> {
        let path = ExecutorRecord::path(run);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes it into run directory `run` (atomically).
    pub fn save(&self, run: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        write_atomic(&ExecutorRecord::path(run), text.as_bytes()).map_err(|e| e.to_string())
    }
}

/// The `[slurm]` table of a task file (the fields of [`SlurmSettings`], durations in
/// seconds), if it has one.
pub fn slurm_settings_of_task(task: &Path) -> Result<Option<SlurmSettings>, String> {
    let text =
        std::fs::read_to_string(task).map_err(|e| format!("reading {}: {e}", task.display()))?;
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", task.display()))?;
    match table.get("slurm") {
        None => Ok(None),
        Some(value) => value
            .clone()
            .try_into::<SlurmSettings>()
            .map(Some)
            .map_err(|e| format!("{}: [slurm]: {e}", task.display())),
    }
}

/// What one Slurm round did, for the terminal and for measurements.
#[derive(Clone, Debug, PartialEq)]
pub struct SlurmRound {
    /// The search round.
    pub round: usize,
    /// Candidates in it.
    pub candidates: usize,
    /// Candidates submitted by this driver (a node retry counts again).
    pub submitted: usize,
    /// Candidates whose jobs, submitted by an earlier driver, were watched instead.
    pub reattached: usize,
    /// Candidates whose result was already there.
    pub already_done: usize,
    /// Resubmissions after node failures.
    pub node_retries: usize,
    /// Candidates whose job failed.
    pub failed: usize,
    /// From the hand-over to the last result.
    pub elapsed: Duration,
    /// What went wrong without ending the round.
    pub warnings: Vec<String>,
}

impl std::fmt::Display for SlurmRound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "slurm round {}: {} candidates, {} submitted, {} re-attached, {} already done, \
             {} node retries, {} failed, {:.2} s",
            self.round,
            self.candidates,
            self.submitted,
            self.reattached,
            self.already_done,
            self.node_retries,
            self.failed,
            self.elapsed.as_secs_f64()
        )?;
        for w in &self.warnings {
            write!(f, "\n  warning: {w}")?;
        }
        Ok(())
    }
}

/// The Slurm executor: a round's candidates as one job array of `ansatz evaluate` calls.
pub struct SlurmEvaluator {
    slurm: SlurmExecutor,
    program: PathBuf,
    /// What each round did, in order.
    pub rounds: Vec<SlurmRound>,
}

impl SlurmEvaluator {
    /// An executor submitting `program evaluate ...` (the `ansatz` binary, by an absolute
    /// path every node can run) with `settings`. Checks the settings and that the Slurm
    /// tools run.
    pub fn new(settings: SlurmSettings, program: PathBuf) -> Result<SlurmEvaluator, String> {
        let slurm = SlurmExecutor::new(settings);
        slurm.check().map_err(|e| e.to_string())?;
        Ok(SlurmEvaluator {
            slurm,
            program,
            rounds: Vec::new(),
        })
    }
}

/// The id of candidate `id` of `round` (item id and file name).
fn item_id(round: usize, id: usize) -> String {
    format!("r{round:03}-c{id}")
}

fn err(what: impl std::fmt::Display) -> ExecutorError {
    ExecutorError(what.to_string())
}

impl<P: Problem> Executor<P> for SlurmEvaluator {
    fn name(&self) -> &str {
        "slurm"
    }

    fn evaluate(
        &mut self,
        work: &RoundWork<'_, P>,
        screened: Vec<Screened<P>>,
        done: &mut dyn FnMut(Evaluated<P::Detail>),
    ) -> Result<bool, ExecutorError> {
        let root = work.run.root();
        let run = root
            .canonicalize()
            .map_err(|e| err(format!("{}: {e}", root.display())))?;
        let task = work
            .task
            .canonicalize()
            .map_err(|e| err(format!("the task file {}: {e}", work.task.display())))?;
        let dir = run.join("slurm");
        for sub in ["candidates", "results"] {
            let d = dir.join(sub);
            std::fs::create_dir_all(&d).map_err(|e| err(format!("{}: {e}", d.display())))?;
        }
        let fit = serde_json::to_string_pretty(work.settings).map_err(err)?;
        write_atomic(&dir.join("fit.json"), fit.as_bytes()).map_err(err)?;
        let program = self.program.to_string_lossy().into_owned();
        let task = task.to_string_lossy().into_owned();
        let mut items = Vec::with_capacity(screened.len());
        let mut candidates = Vec::with_capacity(screened.len());
        for s in screened {
            let c = s.candidate;
            let id = item_id(work.round, c.id);
            let submission = Submission {
                id: c.id,
                round: c.round,
                proposal: c.proposal.clone(),
            };
            let file = format!("slurm/candidates/{id}.json");
            let text = serde_json::to_string_pretty(&submission).map_err(err)?;
            write_atomic(&run.join(&file), text.as_bytes()).map_err(err)?;
            let result = format!("slurm/results/{id}.json");
            let command = [
                program.as_str(),
                "evaluate",
                "--task",
                &task,
                "--settings",
                "slurm/fit.json",
                "--candidate",
                &file,
                "--result",
                &result,
            ];
            items.push(WorkItem::new(id, command, result.clone()));
            candidates.push(c);
        }
        let already_done = items
            .iter()
            .filter(|i| run.join(&i.result).exists())
            .count();
        // The engine's go-on check (Ctrl-C, wall time, target) becomes the round's stop flag.
        let stop = AtomicBool::new(false);
        let over = AtomicBool::new(false);
        let go_on = work.go_on;
        let report = std::thread::scope(|scope| {
            scope.spawn(|| {
                while !over.load(Ordering::SeqCst) {
                    if !go_on() {
                        stop.store(true, Ordering::SeqCst);
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
            let report = self.slurm.run_round(&run, &items, &stop);
            over.store(true, Ordering::SeqCst);
            report
        })
        .map_err(err)?;
        let noun = work.problem.noun();
        let mut interrupted = false;
        let mut failed = 0;
        for (outcome, candidate) in report.outcomes.iter().zip(candidates) {
            match &outcome.status {
                ItemStatus::Done { result } => done(Evaluated::Finished(Box::new(read_result(
                    result, candidate, noun,
                )))),
                ItemStatus::Failed(failure) => {
                    failed += 1;
                    done(Evaluated::Finished(Box::new(failed_evaluation(
                        candidate,
                        failure.to_string(),
                        noun,
                    ))));
                }
                ItemStatus::Unfinished => {
                    interrupted = true;
                    done(Evaluated::Cut(candidate.id));
                }
            }
        }
        self.rounds.push(SlurmRound {
            round: work.round,
            candidates: items.len(),
            submitted: report.submitted,
            reattached: report.reattached,
            already_done,
            node_retries: report.node_retries,
            failed,
            elapsed: report.elapsed,
            warnings: report.warnings,
        });
        Ok(interrupted)
    }
}

/// The evaluated candidate a job wrote for `candidate`; a result file that cannot be read
/// or is about another candidate makes it failed.
fn read_result<D: ansatz_engine::Detail>(
    path: &Path,
    candidate: Candidate<D>,
    noun: &str,
) -> Candidate<D> {
    let read = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str::<Candidate<D>>(&t).map_err(|e| e.to_string()));
    match read {
        Ok(c) if c.id == candidate.id && c.round == candidate.round => c,
        Ok(c) => {
            let message = format!(
                "the result file {} is about candidate #{} of round {}",
                path.display(),
                c.id,
                c.round
            );
            failed_evaluation(candidate, message, noun)
        }
        Err(e) => {
            let message = format!("the result file {} is unreadable: {e}", path.display());
            failed_evaluation(candidate, message, noun)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slurm_settings_come_from_a_task_file_and_bad_ones_are_named() {
        let dir = std::env::temp_dir().join(format!("ansatz-exec-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("good.toml");
        std::fs::write(
            &good,
            "name = \"x\"\n[slurm]\ncpus_per_task = 2\npartition = \"cpu\"\npoll_interval = 0.5\n\
             extra_sbatch_args = [\"--qos=low\"]\n",
        )
        .expect("write");
        let s = slurm_settings_of_task(&good)
            .expect("read")
            .expect("a table");
        assert_eq!(s.cpus_per_task, 2);
        assert_eq!(s.partition.as_deref(), Some("cpu"));
        assert_eq!(s.poll_interval, Duration::from_millis(500));
        assert_eq!(s.extra_sbatch_args, ["--qos=low"]);
        let none = dir.join("none.toml");
        std::fs::write(&none, "name = \"x\"\n").expect("write");
        assert_eq!(slurm_settings_of_task(&none).expect("read"), None);
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "[slurm]\ncpus = 2\n").expect("write");
        let e = slurm_settings_of_task(&bad).unwrap_err();
        assert!(e.contains("[slurm]") && e.contains("cpus"), "{e}");
        let record = ExecutorRecord {
            executor: ExecutorKind::Slurm,
            slurm: Some(s),
        };
        record.save(&dir).expect("save");
        assert_eq!(ExecutorRecord::load(&dir).expect("load"), Some(record));
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert_eq!(ExecutorRecord::load(&dir).expect("no record"), None);
    }
}
