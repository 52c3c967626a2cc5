//! `ansatz evaluate --task TASK --candidate CANDIDATE.json --result OUT.json [--settings
//! FIT.json]`: evaluates one candidate of a task, as a job of the Slurm executor does, and
//! writes the evaluated candidate (one ledger line) atomically.

use super::search::{STOP, install_ctrlc};
use ansatz::engine::executor::evaluate_submission;
use ansatz::engine::ledger::write_atomic;
use ansatz::engine::{Problem, Submission};
use ansatz::kinds::{Kind, KindVisitor, ProblemKind};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// Options of `ansatz evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// The task file.
    #[arg(long)]
    pub task: PathBuf,
    /// The candidate: a JSON object {"id", "round", "proposal"} (the proposal as the run
    /// recorded it in rounds/round-NNN.json).
    #[arg(long)]
    pub candidate: PathBuf,
    /// The evaluation settings, JSON (the `fit` of a run's config.json). Default: the task's.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Where the evaluated candidate is written (through a temporary file and a rename).
    #[arg(long)]
    pub result: PathBuf,
}

struct EvaluateCommand(EvaluateArgs);

impl KindVisitor for EvaluateCommand {
    type Output = anyhow::Result<ExitCode>;

    fn visit<K: ProblemKind>(self, _kind: Kind) -> anyhow::Result<ExitCode> {
        let args = self.0;
        let (problem, defaults) =
            K::load(&args.task).map_err(|e| anyhow::anyhow!("{}: {e}", args.task.display()))?;
        let settings: <K::Problem as Problem>::Settings = match &args.settings {
            None => defaults,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                serde_json::from_str(&text).with_context(|| {
                    format!(
                        "{}: not the evaluation settings of this task",
                        path.display()
                    )
                })?
            }
        };
        let text = std::fs::read_to_string(&args.candidate)
            .with_context(|| format!("reading {}", args.candidate.display()))?;
        let submission: Submission = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not a candidate {{\"id\", \"round\", \"proposal\"}}",
                args.candidate.display()
            )
        })?;
        let (id, round) = (submission.id, submission.round);
        let go_on = || !STOP.load(Ordering::SeqCst);
        let Some(candidate) = evaluate_submission(&problem, submission, &settings, &go_on) else {
            eprintln!(
                "candidate #{id} of round {round}: stopped before its evaluation ended; no result written"
            );
            return Ok(ExitCode::from(130));
        };
        let line = serde_json::to_string(&candidate)?;
        write_atomic(&args.result, format!("{line}\n").as_bytes())?;
        // One line per evaluation in the job's log: what ran, and its outcome.
        match candidate.failed_stage() {
            Some(stage) => println!(
                "evaluated candidate #{id} of round {round}: failed at the {stage} stage ({:.2} s)",
                candidate.seconds
            ),
            None => println!(
                "evaluated candidate #{id} of round {round}: fitness {:e} ({:.2} s)",
                candidate.fitness, candidate.seconds
            ),
        }
        Ok(ExitCode::SUCCESS)
    }
}

/// Runs `ansatz evaluate`.
pub fn run(args: EvaluateArgs) -> anyhow::Result<ExitCode> {
    install_ctrlc();
    let kind = Kind::of_task_file(&args.task).map_err(|e| anyhow::anyhow!("{e}"))?;
    kind.visit(EvaluateCommand(args))
}
