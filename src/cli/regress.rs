//! `ansatz regress DATA.csv [--target NAME ...] [--test TEST.csv] [--time-limit S]
//! [--seed N] [--out DIR]`: symbolic regression on a table.

use super::search::{ModelArgs, Terminal, install_ctrlc, llm_settings, run_search};
use ansatz::engine::propose::ReplayProposer;
use ansatz::engine::{ProposerKind, SearchConfig, Silent};
use ansatz::kinds::Kind;
use ansatz::kinds::table::TableKind;
use ansatz::kinds::table::task::TableTask;
use ansatz::law;
use ansatz::regress::run::{RegressConfig, run as run_regress};
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `ansatz regress` (see `ansatz regress --help`).
#[derive(Debug, clap::Args)]
pub struct RegressArgs {
    /// The data: CSV or TSV with a header row (PMLB layout: features and a `target` column).
    pub data: PathBuf,
    /// Target column, or the prefix of nine columns NAME00..NAME22 for one 3x3 law
    /// (repeat for several targets; default: `target`, else the last column).
    #[arg(long = "target")]
    pub targets: Vec<String>,
    /// A separate test file with the same columns (default: hold out --test-fraction).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Share of rows held out for testing when there is no --test file.
    #[arg(long, default_value_t = 0.25)]
    pub test_fraction: f64,
    /// Who writes the laws: evolve (the offline search, the default), llm, human, replay.
    /// The last three run the bilevel search loop of `ansatz search` on the table.
    #[arg(long, default_value = "evolve")]
    pub proposer: ProposerKind,
    /// The model and how to reach it (with --proposer llm).
    #[command(flatten)]
    pub llm: ModelArgs,
    /// Rounds of the search loop (llm, human, replay; default 5, replay: as recorded).
    #[arg(long)]
    pub rounds: Option<usize>,
    /// The recorded run (a directory or ledger.jsonl) for --proposer replay.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Wall-time limit per target, seconds.
    #[arg(long, default_value_t = 60.0)]
    pub time_limit: f64,
    /// Most laws fitted per target.
    #[arg(long)]
    pub max_fits: Option<usize>,
    /// Seed of the split and the search.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Threads (the tabular search runs on one; accepted for symmetry with `search`).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Output directory (default runs/regress/<data file stem>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs `ansatz regress`.
pub fn run(args: RegressArgs) -> anyhow::Result<ExitCode> {
    if !(0.0..1.0).contains(&args.test_fraction) {
        anyhow::bail!(
            "--test-fraction must be in [0, 1), got {}",
            args.test_fraction
        );
    }
    if args.time_limit.is_nan() || args.time_limit <= 0.0 {
        anyhow::bail!("--time-limit must be positive, got {}", args.time_limit);
    }
    let stem = args
        .data
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "data".into());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/regress").join(format!("{stem}-s{}", args.seed)));
    let cfg = RegressConfig {
        data: args.data.clone(),
        test: args.test.clone(),
        targets: args.targets.clone(),
        test_fraction: args.test_fraction,
        seed: args.seed,
        time_limit: args.time_limit,
        max_fits: args.max_fits,
        out: out.clone(),
    };
    let quiet = args.quiet;
    let mut log = |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    if args.proposer != ProposerKind::Evolve {
        return search_loop(&args, &cfg);
    }
    match run_regress(&cfg, &mut log) {
        Ok(results) => {
            if !quiet {
                for r in &results {
                    match &r.expression {
                        Some(e) => println!("{} = {e}", r.target),
                        None => println!("{}:\n{}", r.target, r.law),
                    }
                    println!(
                        "  test R² {:.9}, train NMSE {:.3e}, complexity {}",
                        r.test_r2, r.train_nmse, r.complexity
                    );
                }
                println!("results in {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Ok(ExitCode::from(2))
        }
    }
}

/// `--proposer llm|human|replay`: the search loop of `ansatz search` on the table. The run
/// directory holds its task file (`task.toml`, so `ansatz search --resume --out DIR`
/// continues it), its ledger and report, and `result.json` with the best law's errors.
fn search_loop(args: &RegressArgs, cfg: &RegressConfig) -> anyhow::Result<ExitCode> {
    install_ctrlc();
    if cfg.out.join("ledger.jsonl").exists() {
        bail!(
            "{} already holds a run: continue it with `ansatz search --resume --out {}`, or \
             choose another --out",
            cfg.out.display(),
            cfg.out.display()
        );
    }
    if cfg.targets.len() > 1 {
        bail!(
            "--proposer {} searches one target at a time; give one --target",
            args.proposer
        );
    }
    let absolute = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let task = TableTask {
        kind: Kind::Table,
        data: absolute(&cfg.data),
        target: cfg.targets.first().cloned(),
        test: cfg.test.as_ref().map(absolute),
        test_fraction: cfg.test_fraction,
        seed: cfg.seed,
        fit_evaluations: None,
        slurm: None,
    };
    let loaded = match task.load() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    std::fs::create_dir_all(&cfg.out).with_context(|| format!("creating {}", cfg.out.display()))?;
    let task_path = cfg.out.join("task.toml");
    std::fs::write(&task_path, toml::to_string(&task)?)
        .with_context(|| format!("writing {}", task_path.display()))?;
    let mut config = SearchConfig::new(absolute(&task_path), task.fit_settings());
    config.proposer = args.proposer;
    config.seed = args.seed;
    config.replay = args.replay.clone();
    config.threads = args.threads.max(1);
    config.max_seconds = Some(args.time_limit);
    config.rounds = args.rounds.unwrap_or(5);
    if config.proposer == ProposerKind::Replay && args.rounds.is_none() {
        let path = config
            .replay
            .as_ref()
            .context("--proposer replay needs --replay RUN")?;
        config.rounds = ReplayProposer::open(path)?.rounds();
    }
    if config.proposer == ProposerKind::Llm {
        config.llm = Some(llm_settings(&args.llm)?);
    }
    let outcome = if args.quiet {
        run_search::<TableKind>(&loaded.train, &config, &cfg.out, &mut Silent)?
    } else {
        let mut terminal = Terminal::new();
        let outcome = run_search::<TableKind>(&loaded.train, &config, &cfg.out, &mut terminal)?;
        terminal.finish();
        outcome
    };
    let best = outcome.best_candidate();
    let (law, train_nmse, test_r2) = match best.and_then(|b| {
        Some((
            b,
            law::fitted_law(&b.detail, law::LawProblem::signature(&loaded.train))?,
        ))
    }) {
        Some((b, law)) => {
            let test_nmse = loaded.test.nmse(&law, &b.detail.params);
            (law.program().to_string(), b.fitness, 1.0 - test_nmse)
        }
        None => (String::new(), f64::INFINITY, f64::NEG_INFINITY),
    };
    let result = serde_json::json!({
        "target": loaded.target,
        "proposer": config.proposer,
        "law": law,
        "train_nmse": train_nmse,
        "test_r2": test_r2,
        "rows": [loaded.rows.0, loaded.rows.1],
        "fits": outcome.fitted,
        "seconds": outcome.seconds,
        "stopped": outcome.stopped.to_string(),
        "tokens": [outcome.tokens.prompt, outcome.tokens.completion],
    });
    std::fs::write(
        cfg.out.join("result.json"),
        serde_json::to_string_pretty(&result)?,
    )?;
    if !args.quiet {
        println!("{law}");
        println!(
            "  test R² {test_r2:.9}, train NMSE {train_nmse:.3e}; {} ({} laws fitted)",
            outcome.stopped, outcome.fitted
        );
        println!("run directory: {}", cfg.out.display());
    }
    if let ansatz::engine::StopReason::ProposerFailed { message } = &outcome.stopped {
        eprintln!("error: the proposer could not go on: {message}");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
