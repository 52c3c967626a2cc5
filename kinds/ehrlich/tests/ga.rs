//! The GA baseline on the reference instance Ehr(32, 32, 2, 4, q=4), seed 0.

use ansatz_ehrlich::{DiscreteEvolution, Ehrlich, GaConfig};

fn instance() -> Ehrlich {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/ehrlich_v32_L32_c2_k4_q4_s0.json"
    ));
    Ehrlich::from_vector_json(text).expect("vector file")
}

fn config(seed: u64, l: usize) -> GaConfig {
    GaConfig {
        num_particles: 1000,
        mutation_prob: 1.1 / l as f64,
        recombine_prob: 1.1 / l as f64,
        survival_quantile: 0.1,
        seed,
    }
}

#[test]
fn deterministic_for_a_seed() {
    let f = instance();
    let run = || {
        let mut ga = DiscreteEvolution::for_function(config(3, 32), &f).expect("config");
        (0..5)
            .map(|_| ga.step(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY)))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn invalid_config_is_an_error() {
    let f = instance();
    let mut c = config(0, 32);
    c.survival_quantile = 0.001;
    assert!(DiscreteEvolution::for_function(c, &f).is_err());
    let mut c = config(0, 32);
    c.mutation_prob = 0.0;
    assert!(DiscreteEvolution::for_function(c, &f).is_err());
}

/// Solves the instance within 256 steps (reference: 109–148 steps).
#[test]
fn solves_v32_l32_c2_k4_within_256_steps() {
    let f = instance();
    let mut ga = DiscreteEvolution::for_function(config(0, 32), &f).expect("config");
    let (steps, last) = ga.run(&f, 1.0, 256);
    let best = last.expect("ran").running_best;
    println!("seed 0: best {best} after {steps} steps");
    assert_eq!(best, 1.0, "not solved in 256 steps");
    let (v, x) = ga.best().expect("best");
    assert_eq!(f.evaluate(x), Ok(v));
}

/// The steps-to-solve distribution is the reference GA's, not one lucky seed: holo-bench's
/// `DiscreteEvolution` (transliterated for an audit, 640 seeds) solves this instance in a
/// median of 131 steps and takes more than 256 steps 5.5 % of the time; this GA over 1,024
/// seeds: 131.5 and 5.2 % (BENCHMARKS.md). Seeds 0–31 here: 30 within 256 steps, median
/// 139.5. With a 5 % tail, a fixed set of three seeds within 256 fails about one time in
/// seven even for the reference, so the test checks 32 seeds.
#[test]
fn the_steps_to_solve_of_32_seeds_have_the_reference_distribution() {
    let f = instance();
    let mut steps: Vec<usize> = (0..32)
        .map(|seed| {
            let mut ga = DiscreteEvolution::for_function(config(seed, 32), &f).expect("config");
            let (n, last) = ga.run(&f, 1.0, 1024);
            assert_eq!(
                last.expect("ran").running_best,
                1.0,
                "seed {seed}: unsolved"
            );
            n
        })
        .collect();
    let within = steps.iter().filter(|&&n| n <= 256).count();
    steps.sort_unstable();
    let median = (steps[15] + steps[16]) as f64 / 2.0;
    assert!(within >= 28, "{within} of 32 within 256 steps: {steps:?}");
    assert!(
        (100.0..=170.0).contains(&median),
        "median {median}: {steps:?}"
    );
}

#[test]
fn same_result_with_one_or_two_threads() {
    let f = instance();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| {
            let mut ga = DiscreteEvolution::for_function(config(7, 32), &f).expect("config");
            let r = ga.run(&f, 1.0, 20);
            (r, ga.particles().to_vec())
        })
    };
    assert_eq!(run(1), run(2));
}

/// LLOME's f2 (the reference's instance, seed 50494) with the large-population preset
/// (P = 10,000, survival 0.01): solved within 64 steps (measured 29 steps for seed 0; the
/// reference GA took 23, 42 and 35 for its seeds 0–2).
#[test]
fn large_population_solves_llome_f2_within_64_steps() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/llome_v32_L32_c4_k4_q4_s50494.json"
    ));
    let f = Ehrlich::from_vector_json(text).expect("vector file");
    let config = ansatz_ehrlich::GaPreset::LargePopulation.config(f.dim(), 0);
    let mut ga = DiscreteEvolution::for_function(config, &f).expect("config");
    let (steps, last) = ga.run(&f, 1.0, 64);
    let best = last.expect("ran").running_best;
    println!("f2 seed 0: best {best} after {steps} steps");
    assert_eq!(best, 1.0, "not solved in 64 steps");
    let (v, x) = ga.best().expect("best");
    assert_eq!(f.evaluate(x), Ok(v));
}
