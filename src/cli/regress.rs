//! `ansatz regress DATA.csv [--target NAME ...] [--test TEST.csv] [--time-limit S]
//! [--seed N] [--out DIR]`: symbolic regression on a table.

use ansatz::regress::run::{RegressConfig, run as run_regress};
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
    /// Who writes the laws. Only `evolve` (the offline search) is available for tables.
    #[arg(long, default_value = "evolve")]
    pub proposer: String,
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
    if args.proposer != "evolve" {
        anyhow::bail!(
            "--proposer {}: tables are searched by the offline proposer `evolve` only, for now",
            args.proposer
        );
    }
    if !(0.0..1.0).contains(&args.test_fraction) {
        anyhow::bail!("--test-fraction must be in [0, 1), got {}", args.test_fraction);
    }
    if !(args.time_limit > 0.0) {
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
