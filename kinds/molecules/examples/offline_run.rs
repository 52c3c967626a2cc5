//! Runs one molecule task for a few rounds with the offline proposer and prints the best molecule.
//!
//! ```text
//! cargo run --release -p ansatz-molecules --example offline_run -- TASK ROUNDS PER_ROUND THREADS [SEED] [OUT_DIR] [MINUTES]
//! cargo run --release -p ansatz-molecules --example offline_run -- gap_minus2 5 8 2
//! ```
//! With OUT_DIR (`-` for none), writes candidates.csv, best.sdf, best.xyz and best.svg there;
//! MINUTES stops the run after the round during which that much wall time passed.

use std::time::Instant;

use ansatz_molecules::export;
use ansatz_molecules::{EvolutionConfig, OfflineRun, Task, Tools, prompt, run_offline};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> Result<T, String> {
    match args.get(i) {
        None => Ok(default),
        Some(s) => s.parse().map_err(|_| format!("bad argument {i}: {s:?}")),
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let name = args.first().cloned().unwrap_or_else(|| "gap_minus2".into());
    let task = Task::builtin(&name).map_err(|e| e.to_string())?;
    let run = OfflineRun {
        rounds: arg(&args, 1, 5)?,
        per_round: arg(&args, 2, 8)?,
        threads: arg(&args, 3, 2)?,
        max_seconds: match args.get(6) {
            None => None,
            Some(_) => Some(arg::<f64>(&args, 6, 0.0)? * 60.0),
        },
        config: EvolutionConfig {
            seed: arg(&args, 4, 0)?,
            ..EvolutionConfig::default()
        },
    };
    let tools = Tools::from_env().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let (evals, _) = run_offline(&task, &task.budget, &tools, &run, |r| {
        println!(
            "round {:>3}  proposed {:>3}  rejected {:>2}  best loss {:.5}  {}  ({:.0} s)",
            r.round,
            r.proposed,
            r.rejected,
            r.best_loss,
            r.best_smiles,
            start.elapsed().as_secs_f64()
        );
    })
    .map_err(|e| e.to_string())?;
    let wall = start.elapsed().as_secs_f64();
    let failed = evals.iter().filter(|e| e.outcome.is_err()).count();
    let cpu: f64 = evals.iter().map(|e| e.seconds).sum();
    println!(
        "task {}: {} evaluations ({} failed) in {:.1} s wall, {:.2} s per evaluation (sum of evaluation wall times / count), {:.1} evaluations per minute",
        task.name,
        evals.len(),
        failed,
        wall,
        cpu / evals.len().max(1) as f64,
        evals.len() as f64 * 60.0 / wall
    );
    let best = export::best(&evals, 8);
    if let Some(b) = best.first() {
        println!("best:\n{}", prompt::feedback(&task, b));
    }
    if let Some(dir) = args.get(5).filter(|d| d.as_str() != "-") {
        let dir = std::path::Path::new(dir);
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let write = |f: &str, s: &str| std::fs::write(dir.join(f), s).map_err(|e| e.to_string());
        write("candidates.csv", &export::csv(&evals))?;
        write("best.sdf", &export::sdf(&task, &best))?;
        if let Some(x) = best.first().and_then(|b| export::xyz(b)) {
            write("best.xyz", &x)?;
        }
        write(
            "best.svg",
            &export::svg(&tools.python, &best).map_err(|e| e.to_string())?,
        )?;
    }
    Ok(())
}
