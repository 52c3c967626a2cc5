//! `ansatz ehrlich compare`: sequence-search runs side by side (see
//! `ansatz::kinds::ehrlich::compare`).
//!
//! `ansatz ehrlich eval`: the value of sequences under an Ehrlich function given by a task
//! file, a reference vector file or construction parameters; one sequence a line (letters or
//! a JSON list of state numbers) from a file or standard input.

use ansatz::kinds::ehrlich::task::{Construction, EhrlichTask, function_of};
use ansatz_ehrlich::{Ehrlich, Explanation, parse_sequence};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when at least one line is not a sequence of the function's shape.
pub const INVALID_SEQUENCE: u8 = 2;

/// The largest input read (a file of sequences, or standard input).
pub const MAX_INPUT_BYTES: u64 = 64 << 20;

/// `ansatz ehrlich` subcommands.
#[derive(Debug, Subcommand)]
pub enum EhrlichCommand {
    /// Evaluate sequences: value, regret, feasibility (the banned transitions and where),
    /// and the quantised presence of each motif.
    Eval(EvalArgs),
    /// Compare sequence-search runs: a table per function (oracle calls, the call at which
    /// f = 1 was reached, the best f at a common budget, feasibility, diversity, LLOME's
    /// calibration) and one regret-against-oracle-calls plot per function.
    Compare(CompareArgs),
}

/// `ansatz ehrlich compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Where `compare.md` and the plots go.
    #[arg(long)]
    pub out: PathBuf,
    /// The run directories (of `ansatz search` on Ehrlich tasks).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
}

/// Where the function comes from.
#[derive(Debug, Args)]
pub struct FunctionArgs {
    /// An Ehrlich task file (`tasks/ehrlich_*.toml`).
    #[arg(long, conflicts_with_all = ["vectors", "states"])]
    pub task: Option<PathBuf>,
    /// A reference vector file (`kinds/ehrlich/data/*.json`).
    #[arg(long, conflicts_with = "states")]
    pub vectors: Option<PathBuf>,
    /// Construction: alphabet size v (with --length, --motifs, --motif-length, --seed).
    #[arg(long, requires_all = ["length", "motifs", "motif_length", "seed"])]
    pub states: Option<usize>,
    /// Construction: sequence length L.
    #[arg(long, requires = "states")]
    pub length: Option<usize>,
    /// Construction: number of motifs c.
    #[arg(long, requires = "states")]
    pub motifs: Option<usize>,
    /// Construction: motif length k.
    #[arg(long, requires = "states")]
    pub motif_length: Option<usize>,
    /// Construction: seed of this project's sampler (not holo-bench's torch seed).
    #[arg(long, requires = "states")]
    pub seed: Option<u64>,
    /// Quantisation q (construction: default k; vectors: replaces the file's q).
    #[arg(long, conflicts_with = "task")]
    pub quantization: Option<usize>,
}

/// `ansatz ehrlich eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The function.
    #[command(flatten)]
    pub function: FunctionArgs,
    /// The sequences, one a line (`-` or absent: standard input). Blank lines and lines
    /// starting with `#` are skipped.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// One JSON object a line instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs an `ansatz ehrlich` command.
pub fn run(command: EhrlichCommand) -> anyhow::Result<ExitCode> {
    match command {
        EhrlichCommand::Eval(args) => eval(&args),
        EhrlichCommand::Compare(args) => compare(&args),
    }
}

fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    use ansatz::kinds::ehrlich::compare;
    let runs = args
        .runs
        .iter()
        .map(|d| compare::read_run(d))
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let md = compare::compare(&runs, &args.out).map_err(anyhow::Error::msg)?;
    print!("{md}");
    Ok(ExitCode::SUCCESS)
}

/// Builds the function the arguments name.
pub fn function(a: &FunctionArgs) -> anyhow::Result<Ehrlich> {
    if let Some(task) = &a.task {
        return Ok(EhrlichTask::load(task)?.1);
    }
    let construction = match (a.states, a.length, a.motifs, a.motif_length, a.seed) {
        (Some(states), Some(length), Some(motifs), Some(motif_length), Some(seed)) => {
            Some(Construction {
                states,
                length,
                motifs,
                motif_length,
                quantization: a.quantization.unwrap_or(motif_length),
                seed,
            })
        }
        _ => None,
    };
    if a.vectors.is_none() && construction.is_none() {
        anyhow::bail!(
            "name the function: --task FILE, --vectors FILE, or --states V --length L --motifs C \
             --motif-length K --seed S [--quantization Q]"
        );
    }
    let q = if construction.is_some() {
        None
    } else {
        a.quantization
    };
    function_of(a.vectors.as_deref(), construction.as_ref(), q).map_err(anyhow::Error::msg)
}

fn read_input(input: Option<&std::path::Path>) -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    match input {
        Some(path) if path != std::path::Path::new("-") => {
            std::fs::File::open(path)
                .with_context(|| format!("reading {}", path.display()))?
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .with_context(|| format!("reading {}", path.display()))?;
        }
        _ => {
            std::io::stdin()
                .take(MAX_INPUT_BYTES + 1)
                .read_to_end(&mut bytes)
                .context("reading standard input")?;
        }
    }
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        anyhow::bail!("the input is larger than {MAX_INPUT_BYTES} bytes");
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "the input is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// One evaluated line as text.
pub fn text_line(line: usize, e: &Explanation, k: usize, q: usize) -> String {
    let mut s = if e.value.is_finite() {
        format!(
            "{line}: value {} (regret {}); feasible",
            e.value,
            1.0 - e.value
        )
    } else {
        let banned: Vec<String> = e
            .banned
            .iter()
            .map(|b| {
                format!(
                    "{}->{} at positions {}-{}",
                    b.from,
                    b.to,
                    b.position - 1,
                    b.position
                )
            })
            .collect();
        format!(
            "{line}: value -inf; infeasible: banned transition{} {}",
            if banned.len() == 1 { "" } else { "s" },
            banned.join(", ")
        )
    };
    for (i, m) in e.motifs.iter().enumerate() {
        s.push_str(&format!(
            "; motif {i}: presence {} ({} of {k} elements, q = {q}, window at {})",
            m.present, m.max_count, m.best_start
        ));
    }
    s
}

/// One evaluated line as JSON.
pub fn json_line(line: usize, x: &[u32], e: &Explanation) -> serde_json::Value {
    serde_json::json!({
        "line": line,
        "sequence": x,
        "value": e.value.is_finite().then_some(e.value),
        "regret": e.value.is_finite().then_some(1.0 - e.value),
        "feasible": e.banned.is_empty(),
        "banned": e.banned.iter().map(|b| serde_json::json!({
            "from": b.from, "to": b.to, "position": b.position,
        })).collect::<Vec<_>>(),
        "motifs": e.motifs.iter().map(|m| serde_json::json!({
            "presence": m.present, "matched": m.max_count, "window": m.best_start,
        })).collect::<Vec<_>>(),
    })
}

fn eval(args: &EvalArgs) -> anyhow::Result<ExitCode> {
    let f = function(&args.function)?;
    let text = read_input(args.input.as_deref())?;
    let (mut good, mut bad) = (0usize, 0usize);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let parsed = parse_sequence(t, f.dim(), f.num_states())
            .map_err(|e| e.to_string())
            .and_then(|x| f.explain(&x).map(|e| (x, e)).map_err(|e| e.to_string()));
        match parsed {
            Ok((x, e)) => {
                good += 1;
                if args.json {
                    println!("{}", json_line(line, &x, &e));
                } else {
                    println!(
                        "{}",
                        text_line(line, &e, f.motif_length(), f.quantization())
                    );
                }
            }
            Err(message) => {
                bad += 1;
                if args.json {
                    println!("{}", serde_json::json!({"line": line, "error": message}));
                } else {
                    println!("{line}: error: {message}");
                }
            }
        }
    }
    if good + bad == 0 {
        anyhow::bail!("no sequence in the input (one a line: letters or a JSON list)");
    }
    Ok(if bad == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{bad} of {} lines are not sequences of this function",
            good + bad
        );
        ExitCode::from(INVALID_SEQUENCE)
    })
}
