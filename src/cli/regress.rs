//! `ansatz regress DATA.csv [--target NAME ...] [--test TEST.csv] [--time-limit S]
//! [--seed N] [--out DIR]`: symbolic regression on a table.

use super::search::{ModelArgs, Terminal, install_ctrlc, llm_settings, run_search};
use ansatz::engine::prompt::FeedbackFormat;
use ansatz::engine::propose::ReplayProposer;
use ansatz::engine::{ProposerKind, SearchConfig, Silent};
use ansatz::kinds::Kind;
use ansatz::kinds::table::TableKind;
use ansatz::kinds::table::task::TableTask;
use ansatz::law;
use ansatz::regress::gp::Scaling;
use ansatz::regress::run::{RegressConfig, run as run_regress, write_loop_outputs};
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
    /// A separate test file with the same columns, scored on its own (repeat for several;
    /// default: hold out --test-fraction). Its predictions go to predictions_<stem>.csv.
    #[arg(long = "test")]
    pub tests: Vec<PathBuf>,
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
    /// Laws asked of the proposer each round (llm, human; default 16, a quarter of them at
    /// the exploitation temperature). A human reply's blocks past it are left out.
    #[arg(long)]
    pub laws_per_round: Option<usize>,
    /// The recorded run (a directory or ledger.jsonl) for --proposer replay.
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Wall-time limit per target, seconds: the search, the refit of its front and the
    /// outputs end within it (through the loop: fitting time; the proposer's wait does not
    /// count).
    #[arg(long, default_value_t = 60.0)]
    pub time_limit: f64,
    /// Most laws fitted per target.
    #[arg(long)]
    pub max_fits: Option<usize>,
    /// Seed of the split and the search.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// How the GP scores a law while searching: by its error after the best coefficients
    /// of the terms of its top-level sum plus an offset (terms, the default), after the
    /// best offset and factor (affine: linear scaling), or as it is (none).
    #[arg(long, value_enum, default_value = "terms")]
    pub scaling: Scaling,
    /// Sub-populations the GP evolves apart, the best of each passed to the next every
    /// ten generations (1: one population).
    #[arg(long, default_value_t = ansatz::regress::gp::GpConfig::default().islands)]
    pub islands: usize,
    /// Threads fitting laws (0: one per core). The laws found do not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Output directory (default runs/regress/<data file stem>-s<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
    /// What the data is: shown to the proposer (llm, human) in the prompt.
    #[arg(long)]
    pub describe: Option<String>,
    /// The unit of a column, `COLUMN=UNIT` (repeat for several columns): shown in the
    /// prompt's table of variables.
    #[arg(long = "unit", value_parser = parse_unit)]
    pub units: Vec<(String, String)>,
    /// The feedback the prompts give (llm, human): full (the default) or sga.
    #[arg(long)]
    pub feedback: Option<FeedbackFormat>,
}

/// `COLUMN=UNIT`.
fn parse_unit(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((c, u)) if !c.trim().is_empty() && !u.trim().is_empty() => {
            Ok((c.trim().to_string(), u.trim().to_string()))
        }
        _ => Err(format!("expected COLUMN=UNIT, got {s:?}")),
    }
}

/// Runs `ansatz regress`.
pub fn run(args: RegressArgs) -> anyhow::Result<ExitCode> {
    // Options out of range: errors in what the user gave (exit status 2).
    let bad = |message: String| Err(super::invalid(anyhow::anyhow!(message)));
    if !(0.0..1.0).contains(&args.test_fraction) {
        return bad(format!(
            "--test-fraction must be in [0, 1), got {}",
            args.test_fraction
        ));
    }
    if args.time_limit.is_nan() || args.time_limit <= 0.0 {
        return bad(format!(
            "--time-limit must be positive, got {}",
            args.time_limit
        ));
    }
    if args.islands == 0 {
        return bad("--islands must be at least 1 (1: one population)".into());
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
        tests: args.tests.clone(),
        targets: args.targets.clone(),
        test_fraction: args.test_fraction,
        seed: args.seed,
        time_limit: args.time_limit,
        max_fits: args.max_fits,
        threads: args.threads,
        scaling: args.scaling,
        islands: args.islands,
        out: out.clone(),
    };
    let quiet = args.quiet;
    let mut log = |line: &str| {
        if !quiet {
            eprintln!("{line}");
        }
    };
    if let Some(n) = args.laws_per_round {
        if !matches!(args.proposer, ProposerKind::Llm | ProposerKind::Human) {
            bail!(
                "--laws-per-round applies to --proposer llm or human (not {})",
                args.proposer
            );
        }
        if n == 0 {
            bail!("--laws-per-round must be at least 1");
        }
    }
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
                    if r.tests.len() > 1 {
                        for t in &r.tests {
                            println!("  {}: R² {:.9} on {} rows", t.name, t.r2, t.rows);
                        }
                    }
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
    if cfg.tests.len() > 1 {
        bail!(
            "--proposer {} scores one test set; give at most one --test",
            args.proposer
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
        test: cfg.tests.first().map(absolute),
        test_fraction: cfg.test_fraction,
        seed: cfg.seed,
        fit_evaluations: None,
        validation_fraction: if args.feedback.unwrap_or_default() == FeedbackFormat::Full {
            0.2
        } else {
            0.0
        },
        description: args.describe.clone(),
        units: args.units.iter().cloned().collect(),
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
    let mut settings = task.fit_settings();
    settings.feedback = args.feedback.unwrap_or_default();
    let mut config = SearchConfig::new(absolute(&task_path), settings);
    config.feedback = args.feedback.unwrap_or_default();
    config.proposer = args.proposer;
    config.seed = args.seed;
    config.replay = args.replay.clone();
    config.threads = args.threads;
    config.max_seconds = Some(args.time_limit);
    config.rounds = args.rounds.unwrap_or(5);
    if let Some(n) = args.laws_per_round {
        config.exploit = n / 4;
        config.explore = n - n / 4;
    }
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
        let mut terminal = Terminal::new(config.max_seconds);
        let outcome = run_search::<TableKind>(&loaded.train, &config, &cfg.out, &mut terminal)?;
        terminal.finish();
        outcome
    };
    // The law with the fewest constants (then the smallest) among those within 10 % of the
    // lowest training error: the rule that picks the GP's law from its front.
    let mut ok: Vec<_> = outcome
        .candidates
        .iter()
        .filter(|c| c.is_ok() && c.fitness.is_finite())
        .collect();
    ok.sort_by(|a, b| {
        (
            a.detail.param_names.len(),
            a.detail.complexity.unwrap_or(u64::MAX),
        )
            .cmp(&(
                b.detail.param_names.len(),
                b.detail.complexity.unwrap_or(u64::MAX),
            ))
            .then(a.fitness.total_cmp(&b.fitness))
    });
    let best = ansatz::regress::gp::choose_by_error(ok.iter().map(|c| c.fitness)).map(|i| ok[i]);
    let (law, train_nmse, test_r2, outputs) = match best.and_then(|b| {
        Some((
            b,
            law::fitted_law(&b.detail, law::LawProblem::signature(&loaded.train))?,
        ))
    }) {
        Some((b, law)) => {
            let test_nmse = loaded.test.nmse(&law, &b.detail.params);
            // The outputs of the GP path: exports, predictions, the SymPy expression.
            let outputs = match write_loop_outputs(cfg, &law, &b.detail.params) {
                Ok(o) => Some(o),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(ExitCode::from(2));
                }
            };
            (
                law.program().to_string(),
                b.fitness,
                1.0 - test_nmse,
                outputs,
            )
        }
        None => (String::new(), f64::INFINITY, f64::NEG_INFINITY, None),
    };
    let result = serde_json::json!({
        "target": loaded.target,
        "proposer": config.proposer,
        "law": law,
        "expression": outputs.as_ref().and_then(|o| o.expression.clone()),
        "latex": outputs.as_ref().map(|o| o.latex.clone()),
        "tests": outputs.as_ref().map(|o| o.tests.clone()),
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
