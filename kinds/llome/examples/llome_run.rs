//! Runs LLOME (and the GA baseline at the same oracle budget) on an Ehrlich function and prints
//! one line per round.
//!
//! ```text
//! cargo run --release -p ansatz-llome --example llome_run -- \
//!     [--function PATH] [--objectives sft,dpo,marge] [--seeds 0,1,2] [--rounds N] \
//!     [--labels N] [--out DIR]
//! ```
//!
//! The function defaults to the reference vector file of Ehr(32, 32, c=2, k=4, q=4), seed 0.
//! Each (objective, seed) run writes into `DIR/OBJECTIVE-sSEED/` and resumes from there if it
//! was interrupted; `DIR/summary.jsonl` gets one line per run. A run stops at the first round
//! that reaches f = 1. Objectives: `sft`, `dpo`, `marge` (the f2 pipeline's MargE) and
//! `marge-standalone` (the standalone MargE config: β = 0.1, not self-normalised).

use std::error::Error;
use std::path::PathBuf;

use ansatz_ehrlich::Ehrlich;
use ansatz_llome::{LlomeConfig, ga_baseline, run};

struct Args {
    function: PathBuf,
    objectives: Vec<String>,
    seeds: Vec<u64>,
    rounds: Option<usize>,
    labels: Option<usize>,
    out: PathBuf,
}

fn parse_args() -> Result<Args, Box<dyn Error>> {
    let mut a = Args {
        function: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ehrlich/data/ehrlich_v32_L32_c2_k4_q4_s0.json"
        )),
        objectives: vec!["marge".into()],
        seeds: vec![0],
        rounds: None,
        labels: None,
        out: PathBuf::from("llome-runs"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let val = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--function" => a.function = PathBuf::from(val),
            "--objectives" => a.objectives = val.split(',').map(str::to_string).collect(),
            "--seeds" => a.seeds = val.split(',').map(str::parse).collect::<Result<_, _>>()?,
            "--rounds" => a.rounds = Some(val.parse()?),
            "--labels" => a.labels = Some(val.parse()?),
            "--out" => a.out = PathBuf::from(val),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(a)
}

fn fmt(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.4}")
    } else {
        "-inf".into()
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    let text = std::fs::read_to_string(&args.function)?;
    let f = Ehrlich::from_vector_json(&text)?;
    std::fs::create_dir_all(&args.out)?;
    let mut summary = String::new();
    for seed in &args.seeds {
        for obj in &args.objectives {
            let mut cfg = LlomeConfig::cpu_preset(LlomeConfig::objective_by_name(obj)?, *seed);
            if let Some(r) = args.rounds {
                cfg.rounds = r;
            }
            if let Some(l) = args.labels {
                cfg.labels_per_round = l;
            }
            let dir = args.out.join(format!("{obj}-s{seed}"));
            println!("== {obj}, seed {seed} -> {}", dir.display());
            println!(
                "round objective pairs  loss(first->last)   gen  parsed labels calls  feas   div   calib  best    running secs (train+gen)"
            );
            // Round by round (a run directory extends by more rounds), stopping once f = 1.
            let rounds = cfg.rounds;
            let mut recs = Vec::new();
            for r in 1..=rounds {
                cfg.rounds = r;
                recs = run(&f, &cfg, &dir)?;
                if recs.last().is_some_and(|l| l.running_best >= 1.0) {
                    break;
                }
            }
            for r in &recs {
                let loss = r
                    .work
                    .train_loss
                    .map_or("-".to_string(), |(a, b)| format!("{a:.3}->{b:.3}"));
                println!(
                    "{:>5} {:>9} {:>5} {:>18} {:>6} {:>6} {:>6} {:>6} {:.3} {:.3} {:>6} {:>7} {:>7} {:.1} ({:.1}+{:.1})",
                    r.round,
                    r.work.objective,
                    r.work.pairs,
                    loss,
                    r.work.generated,
                    r.work.parsed,
                    r.labelled,
                    r.oracle_calls,
                    r.feasible_fraction,
                    r.diversity,
                    r.calibration.map_or("-".into(), |c| format!("{c:.2}")),
                    fmt(r.best_value),
                    fmt(r.running_best),
                    r.seconds,
                    r.work.train_seconds,
                    r.work.generate_seconds
                );
            }
            let last = recs.last().ok_or("no rounds")?;
            let ga = ga_baseline(&f, &cfg, last.oracle_calls)?;
            let ga_best = ga.last().map_or(f64::NEG_INFINITY, |p| p.running_best);
            let ga_calls = ga.last().map_or(0, |p| p.oracle_calls);
            println!(
                "GA baseline (same GA and seed, {} calls): best {}; LLOME-{obj}: best {} at {} calls",
                ga_calls,
                fmt(ga_best),
                fmt(last.running_best),
                last.oracle_calls
            );
            let secs: f64 = recs.iter().skip(1).map(|r| r.seconds).sum();
            summary.push_str(&format!(
                "{{\"objective\":\"{obj}\",\"seed\":{seed},\"rounds\":{},\"oracle_calls\":{},\"best\":{},\"ga_calls\":{ga_calls},\"ga_best\":{},\"llome_seconds\":{secs:.1}}}\n",
                recs.len() - 1,
                last.oracle_calls,
                fmt(last.running_best),
                fmt(ga_best)
            ));
        }
    }
    std::fs::write(args.out.join("summary.jsonl"), summary)?;
    Ok(())
}
