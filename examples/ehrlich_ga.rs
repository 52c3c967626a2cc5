//! The GA baseline (`DiscreteEvolution`) on an Ehrlich task for several optimiser seeds:
//! steps and oracle calls to reach f = 1, the running best after 8/32/64/128/256 steps, and the
//! regret curves against oracle calls (`ga_regret.csv`, `ga_regret.svg` in OUT).
//!
//! ```sh
//! cargo run -p ansatz --example ehrlich_ga -- TASK PRESET MAX_STEPS SEEDS OUT
//! cargo run -p ansatz --example ehrlich_ga -- tasks/ehrlich_llome_f2.toml large-population 64 0,1,2 runs/ga-f2
//! ```
//! PRESET is one of `paper`, `paper-figures`, `large-population`, `llome-seed-data`.

use ansatz::kinds::ehrlich::task::EhrlichTask;
use ansatz_ehrlich::{DiscreteEvolution, GaPreset};
use ansatz_engine::plot::{Series, line_chart};
use std::fmt::Write;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() != 5 {
        return Err("usage: ehrlich_ga TASK PRESET MAX_STEPS SEEDS OUT (SEEDS: 0,1,2)".into());
    }
    let (task, f) = EhrlichTask::load(std::path::Path::new(&args[0]))?;
    let preset = GaPreset::from_name(&args[1])?;
    let max_steps: usize = args[2].parse()?;
    let seeds: Vec<u64> = args[3]
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let out = PathBuf::from(&args[4]);
    std::fs::create_dir_all(&out)?;
    let mut csv = String::from(
        "seed,step,oracle_calls,population_best,running_best,regret,feasible_fraction\n",
    );
    let mut series = Vec::new();
    for &seed in &seeds {
        let config = preset.config(f.dim(), seed);
        let p = config.num_particles;
        let mut ga = DiscreteEvolution::for_function(config, &f)?;
        let started = std::time::Instant::now();
        let (mut points, mut solved, mut marks) = (Vec::new(), None, Vec::new());
        for step in 1..=max_steps {
            let r = ga.step(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY));
            let calls = step * p;
            let _ = writeln!(
                csv,
                "{seed},{step},{calls},{},{},{},{}",
                r.population_best,
                r.running_best,
                1.0 - r.running_best,
                r.feasible_fraction
            );
            points.push((calls as f64, 1.0 - r.running_best));
            if [8, 32, 64, 128, 256].contains(&step) {
                marks.push(format!("t={step}: {}", r.running_best));
            }
            if r.running_best >= 1.0 {
                solved = Some(step);
                break;
            }
        }
        let outcome = solved.map_or(format!("not solved in {max_steps} steps"), |s| {
            format!("solved at step {s} ({} oracle calls)", s * p)
        });
        println!(
            "{} {} seed {seed}: {outcome}; running best {}; {:.1?}",
            task.name,
            preset.name(),
            marks.join(", "),
            started.elapsed()
        );
        series.push(Series {
            name: format!("seed {seed}"),
            points,
        });
    }
    std::fs::write(out.join("ga_regret.csv"), csv)?;
    let svg = line_chart(
        &format!("{}: GA ({}) regret", task.name, preset.name()),
        "oracle calls",
        "regret 1 - max f",
        &series,
        false,
    );
    std::fs::write(out.join("ga_regret.svg"), svg)?;
    Ok(())
}
