//! Steps-to-solve of the GA on a vector-file instance, for several optimiser seeds.
//!
//! `cargo run --release -p ansatz-ehrlich --example ga_steps -- [FILE] [P] [SURVIVAL] [MAX_STEPS] [SEEDS]`
//! with FILE a name under `data/` (default `ehrlich_v32_L32_c2_k4_q4_s0.json`).

use ansatz_ehrlich::{DiscreteEvolution, Ehrlich, GaConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let file = args
        .first()
        .map_or("ehrlich_v32_L32_c2_k4_q4_s0.json", |s| s.as_str());
    let p: usize = args.get(1).map_or(Ok(1000), |s| s.parse())?;
    let survival: f64 = args.get(2).map_or(Ok(0.1), |s| s.parse())?;
    let max_steps: usize = args.get(3).map_or(Ok(256), |s| s.parse())?;
    let seeds: u64 = args.get(4).map_or(Ok(8), |s| s.parse())?;
    let path = format!("{}/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let f = Ehrlich::from_vector_json(&std::fs::read_to_string(path)?)?;
    let l = f.dim() as f64;
    for seed in 0..seeds {
        let cfg = GaConfig {
            num_particles: p,
            mutation_prob: 1.1 / l,
            recombine_prob: 1.1 / l,
            survival_quantile: survival,
            seed,
        };
        let mut ga = DiscreteEvolution::for_function(cfg, &f)?;
        let t0 = std::time::Instant::now();
        let (steps, last) = ga.run(&f, 1.0, max_steps);
        let best = last.map_or(f64::NAN, |r| r.running_best);
        let solved = if best >= 1.0 { "solved" } else { "not solved" };
        println!(
            "{file} P={p} seed {seed}: best {best} after {steps} steps ({solved}, {:.2?})",
            t0.elapsed()
        );
    }
    Ok(())
}
