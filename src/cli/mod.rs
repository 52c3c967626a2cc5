//! Command-line interface: argument definitions and dispatch to one module per command.

pub mod check;
pub mod ehrlich;
pub mod evaluate;
pub mod export;
pub mod fit;
pub mod molecule;
pub mod regress;
pub mod search;
pub mod simplify;
pub mod simulate;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Discover interpretable physical laws.
#[derive(Debug, Parser)]
#[command(name = "ansatz", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and type-check a law file: print its canonical form, parameters and types,
    /// or the error (line, column, excerpt, what was expected) and exit with status 2.
    Check {
        /// The law file (`.law`).
        file: PathBuf,
        /// The task signature: `elastic`, `plastic` or explicit, e.g. "F: mat3 -> mat3".
        #[arg(long, default_value = "elastic")]
        signature: String,
    },
    /// Fit a law's constants to a task's observed motion by gradient descent through the
    /// simulation; print the feedback and write fit.json and loss.svg.
    Fit {
        /// The task file (`tasks/*.toml`).
        task: PathBuf,
        /// The law file (`.law`).
        law: PathBuf,
        /// `lbfgs` (default of most tasks) or `adam` (the SGA reference's 30 updates).
        #[arg(long)]
        optimizer: Option<ansatz::kinds::mpm::fit::Optimizer>,
        /// Starting parameter values: a JSON object {name: value}, or a file holding one
        /// (or a fit result with one under "params"). Default: the law's.
        #[arg(long)]
        params: Option<String>,
        /// Start L-BFGS from the given values, without the short-horizon log grid of the
        /// law's moduli that otherwise chooses the start.
        #[arg(long)]
        no_start_grid: bool,
        /// Output directory (default runs/fit/TASK-LAW-OPTIMIZER).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Simulate a task's scene with a law (default: the task's ground truth) and write the
    /// trajectory as .npz (x, v, frames, full states).
    Simulate {
        /// The task file.
        task: PathBuf,
        /// The law file (default: the task's ground-truth law).
        #[arg(long)]
        law: Option<PathBuf>,
        /// Parameter values: a JSON object {name: value}, or a file holding one (default:
        /// the law's).
        #[arg(long)]
        params: Option<String>,
        /// The output file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Simplify a law in the e-graph: print it in the law language, with its complexity
    /// and canonical hash (an invalid law: the error and exit status 2).
    Simplify {
        /// The law file (`.law`).
        file: PathBuf,
        /// The task signature: `elastic`, `plastic` or explicit, e.g. "F: mat3 -> mat3".
        #[arg(long, default_value = "elastic")]
        signature: String,
    },
    /// Molecules on their own (the molecule tasks are run by `search tasks/molecule_*.toml`).
    #[command(subcommand)]
    Molecule(molecule::MoleculeCommand),
    /// Ehrlich functions: `ansatz ehrlich eval` gives the value of sequences, why one is
    /// infeasible (the banned transition and where) and the presence of each motif.
    #[command(subcommand)]
    Ehrlich(ehrlich::EhrlichCommand),
    /// The bilevel search: proposers write laws, the fit judges them, round after round.
    Search(Box<search::SearchArgs>),
    /// Evaluate one candidate of a task from files (what a cluster job of `search
    /// --executor slurm` runs) and write the evaluated candidate atomically.
    Evaluate(Box<evaluate::EvaluateArgs>),
    /// Symbolic regression on a table: find a closed-form law per target column (or one
    /// 3x3 law for nine columns), with its Pareto front, exports and test R².
    Regress(Box<regress::RegressArgs>),
    /// Write a law in closed form for another tool: LaTeX, SymPy, NumPy, a PyTorch
    /// `Physics(nn.Module)`, or Rust over nalgebra.
    Export {
        /// The law file (`.law`).
        file: PathBuf,
        /// The target: latex, sympy, numpy, pytorch or rust.
        #[arg(long)]
        to: String,
        /// Parameter values replacing the defaults: a JSON object {name: value}, or a file
        /// holding one (or a fit result with one under "params").
        #[arg(long)]
        params: Option<String>,
        /// The task signature: `elastic`, `plastic` or explicit, e.g. "F: mat3 -> mat3".
        #[arg(long, default_value = "elastic")]
        signature: String,
        /// Export the simplified law rather than the law as written.
        #[arg(long)]
        simplify: bool,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// The exit status of a command that cannot start because of what it was given: a missing
/// or invalid file (law, task, table, parameters), an option that does not apply (as clap
/// does for a malformed command line).
pub const EXIT_INVALID: u8 = 2;

/// The exit status of a search stopped by Ctrl-C or SIGTERM (resumable with `--resume`).
pub const EXIT_INTERRUPTED: u8 = 130;

/// An error in what the user gave (exit status [`EXIT_INVALID`]); it reads as its cause.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Invalid(#[from] pub anyhow::Error);

/// Marks `error` as an error in what the user gave.
pub fn invalid(error: impl Into<anyhow::Error>) -> anyhow::Error {
    anyhow::Error::new(Invalid(error.into()))
}

/// The exit status of a failed command: [`EXIT_INVALID`] when the error is in what the
/// user gave, else 1.
pub fn exit_status(error: &anyhow::Error) -> u8 {
    if error.chain().any(|c| c.is::<Invalid>()) {
        EXIT_INVALID
    } else {
        1
    }
}

/// Runs a parsed command line; `Err` is for failures outside the law (I/O, bad options).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { file, signature } => check::run(&file, &signature),
        Command::Fit {
            task,
            law,
            optimizer,
            params,
            no_start_grid,
            out,
        } => fit::run(fit::FitArgs {
            task: &task,
            law: &law,
            optimizer,
            params: params.as_deref(),
            start_grid: !no_start_grid,
            out,
        }),
        Command::Simulate {
            task,
            law,
            params,
            out,
        } => simulate::run(&task, law.as_deref(), params.as_deref(), &out),
        Command::Simplify { file, signature } => simplify::run(&file, &signature),
        Command::Molecule(command) => molecule::run(command),
        Command::Ehrlich(command) => ehrlich::run(command),
        Command::Search(args) => search::run(*args),
        Command::Evaluate(args) => evaluate::run(*args),
        Command::Regress(args) => {
            search::refuse_inapplicable(&args.llm, args.replay.as_deref(), args.proposer)?;
            regress::run(*args)
        }
        Command::Export {
            file,
            to,
            params,
            signature,
            simplify,
            out,
        } => export::run(&export::ExportArgs {
            file: &file,
            to: &to,
            params: params.as_deref(),
            signature: &signature,
            simplify,
            out: out.as_deref(),
        }),
    }
}

/// A progress bar or spinner on standard error; hidden when it is not a terminal.
pub struct ProgressTicker(indicatif::ProgressBar);

impl ProgressTicker {
    /// A spinner with a message, for work of unknown length.
    pub fn spinner(message: &str) -> Self {
        let bar = indicatif::ProgressBar::new_spinner().with_message(message.to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        ProgressTicker(bar)
    }

    /// A bar of `len` steps.
    pub fn bar(len: u64, prefix: &str) -> Self {
        let bar = indicatif::ProgressBar::new(len).with_prefix(prefix.to_string());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
        ) {
            bar.set_style(style);
        }
        ProgressTicker(bar)
    }

    /// One step done, with a status message.
    pub fn tick(&self, message: String) {
        self.0.inc(1);
        self.0.set_message(message);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// Reads parameter values for `law` from `given`: a JSON object `{name: value}` written on
/// the command line, or the path of a file holding one (or a fit result with such an object
/// under `"params"`); names the law does not have are an error.
pub fn read_params(given: &str, law: &ansatz_grammar::CheckedProgram) -> anyhow::Result<Vec<f64>> {
    let (origin, text) = if given.trim_start().starts_with('{') {
        ("--params".to_string(), given.to_string())
    } else {
        let path = std::path::Path::new(given);
        let text = std::fs::read_to_string(path)
            .map_err(|e| invalid(anyhow::anyhow!("reading {}: {e}", path.display())))?;
        (path.display().to_string(), text)
    };
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| invalid(anyhow::anyhow!("{origin}: not JSON: {e}")))?;
    let object = value
        .get("params")
        .unwrap_or(&value)
        .as_object()
        .ok_or_else(|| {
            invalid(anyhow::anyhow!(
                "{origin}: expected a JSON object {{name: value}}"
            ))
        })?;
    let mut overrides = std::collections::BTreeMap::new();
    for (name, v) in object {
        let x = v.as_f64().ok_or_else(|| {
            invalid(anyhow::anyhow!(
                "{origin}: parameter `{name}` is not a number"
            ))
        })?;
        overrides.insert(name.clone(), x);
    }
    ansatz::kinds::mpm::task::resolve_params(law, &overrides)
        .map_err(|e| invalid(anyhow::anyhow!("{origin}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    /// Every subcommand has its own one-line description in `ansatz --help`.
    #[test]
    fn every_command_has_its_own_description() {
        let cli = Cli::command();
        let mut seen = std::collections::HashSet::new();
        for sub in cli.get_subcommands() {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            assert!(!about.is_empty(), "{} has no description", sub.get_name());
            assert!(
                seen.insert(about),
                "{} repeats a description",
                sub.get_name()
            );
        }
        let regress = cli.find_subcommand("regress").expect("regress");
        assert!(
            regress
                .get_about()
                .unwrap()
                .to_string()
                .starts_with("Symbolic regression")
        );
    }

    /// The shared model options parse the same way for `search` and `regress`, and give
    /// the client settings: no key with a local server and `--api-key-env none`.
    #[test]
    fn model_options_parse_for_search_and_regress() {
        let flags = [
            "--model",
            "m1",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--api-key-env",
            "none",
            "--request-timeout",
            "7",
        ];
        let search = Cli::try_parse_from(
            ["ansatz", "search", "tasks/jelly.toml"]
                .into_iter()
                .chain(flags),
        )
        .expect("search parses");
        let regress = Cli::try_parse_from(
            ["ansatz", "regress", "data.csv", "--proposer", "llm"]
                .into_iter()
                .chain(flags),
        )
        .expect("regress parses");
        let llm = |c: &Cli| match &c.command {
            Command::Search(a) => a.llm.clone(),
            Command::Regress(a) => a.llm.clone(),
            _ => panic!("not search or regress"),
        };
        for cli in [&search, &regress] {
            let s = search::llm_settings(&llm(cli)).expect("settings");
            assert_eq!(s.model, "m1");
            assert_eq!(s.provider, ansatz::engine::llm::Provider::OpenAi);
            assert_eq!(s.base_url, "http://127.0.0.1:9/v1");
            assert_eq!(s.api_key_env, None);
            assert_eq!(s.timeout_seconds, 7.0);
        }
        // Without a model, the llm settings are refused with a clear message.
        let bare = Cli::try_parse_from(["ansatz", "search", "tasks/jelly.toml"]).expect("parses");
        let err = search::llm_settings(&llm(&bare)).unwrap_err().to_string();
        assert!(err.contains("--model"), "{err}");
    }
}
