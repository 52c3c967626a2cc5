//! The GA at the oracle budgets of the LLOME runs: the LLOME seed-data settings (P = 1000,
//! p_m = 0.005, p_r = 0.0882, α = 0.1) and the Ehrlich paper's (p_m = p_r = 1.1/L), running best
//! after a given number of calls and the calls needed to reach f = 1.
//!
//! `cargo run --release -p ansatz-llome --example ga_budget -- [FUNCTION_JSON]`

use ansatz_ehrlich::{Ehrlich, GaConfig};
use ansatz_llome::{LlomeConfig, Objective, ga_baseline};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../ehrlich/data/ehrlich_v32_L32_c2_k4_q4_s0.json"
        )
        .to_string()
    });
    let f = Ehrlich::from_vector_json(&std::fs::read_to_string(&path)?)?;
    let l = f.dim() as f64;
    for (name, pm, pr) in [
        ("llome-seed-ga", 0.005, 0.0882),
        ("paper 1.1/L", 1.1 / l, 1.1 / l),
    ] {
        for seed in 0..3u64 {
            let mut cfg = LlomeConfig::cpu_preset(Objective::Sft, seed);
            cfg.ga.mutation_prob = pm;
            cfg.ga.recombine_prob = pr;
            let g: GaConfig = cfg.ga.clone();
            let curve = ga_baseline(&f, &cfg, 512_000)?;
            let at = |calls: usize| {
                curve
                    .iter()
                    .take_while(|p| p.oracle_calls <= calls)
                    .last()
                    .map_or(f64::NEG_INFINITY, |p| p.running_best)
            };
            let solved = curve
                .iter()
                .find(|p| p.running_best >= 1.0)
                .map(|p| p.oracle_calls);
            println!(
                "{name:>14} seed {seed} (P={}): best at 10k {:.4}, 12k {:.4}, 13k {:.4}, 50k {:.4}; f=1 at {:?} calls",
                g.num_particles,
                at(10_000),
                at(12_000),
                at(13_000),
                at(50_000),
                solved
            );
        }
    }
    Ok(())
}
