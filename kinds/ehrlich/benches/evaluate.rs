//! Throughput of evaluation and of one GA step on reference instances.

use ansatz_ehrlich::{DiscreteEvolution, Ehrlich, GaConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use std::hint::black_box;

fn load(name: &str) -> Ehrlich {
    let path = format!("{}/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).expect("vector file");
    Ehrlich::from_vector_json(&text).expect("valid vector file")
}

fn bench(c: &mut Criterion) {
    for name in [
        "ehrlich_v32_L32_c2_k4_q4_s0.json",
        "llome_v8_L128_c8_k8_q8_s50494.json",
    ] {
        let f = load(name);
        let x = f.optimal_solution();
        c.bench_function(&format!("evaluate {name}"), |b| {
            b.iter(|| f.evaluate(black_box(&x)))
        });
    }
    // Oracle calls per second at L = 128, c = 4, k = 4 (the speed point): a batch of
    // GA particles (the initial solution after 8 GA steps: mostly feasible, all distinct) scored
    // in parallel on the rayon pool (all cores), and the optimum alone (every window scanned).
    let f = load("ehrlich_v32_L128_c4_k4_q4_s0.json");
    let cfg = GaConfig {
        num_particles: 4096,
        mutation_prob: 1.1 / 128.0,
        recombine_prob: 1.1 / 128.0,
        survival_quantile: 0.1,
        seed: 0,
    };
    let mut ga = DiscreteEvolution::for_function(cfg, &f).expect("config");
    for _ in 0..8 {
        ga.step(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY));
    }
    let batch = ga.particles().to_vec();
    let mut group = c.benchmark_group("oracle v32_L128_c4_k4");
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.bench_function("4096 GA particles, parallel", |b| {
        b.iter(|| {
            black_box(&batch)
                .par_iter()
                .map(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY))
                .filter(|v| v.is_finite())
                .count()
        })
    });
    group.bench_function("4096 GA particles, one thread", |b| {
        b.iter(|| {
            black_box(&batch)
                .iter()
                .map(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY))
                .filter(|v| v.is_finite())
                .count()
        })
    });
    group.finish();
    let opt = f.optimal_solution();
    c.bench_function("evaluate optimum v32_L128_c4_k4", |b| {
        b.iter(|| f.evaluate(black_box(&opt)))
    });
    let f = load("ehrlich_v32_L32_c2_k4_q4_s0.json");
    let cfg = GaConfig {
        num_particles: 1000,
        mutation_prob: 1.1 / 32.0,
        recombine_prob: 1.1 / 32.0,
        survival_quantile: 0.1,
        seed: 0,
    };
    let mut ga = DiscreteEvolution::for_function(cfg, &f).expect("config");
    c.bench_function("ga step P=1000 v32_L32_c2_k4", |b| {
        b.iter(|| ga.step(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
