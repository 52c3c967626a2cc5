//! Shared helpers of the integration tests.
#![allow(dead_code)]

use ansatz_ehrlich::Ehrlich;
use ansatz_llome::{LlomeConfig, ModelConfig, ModelShape};

/// Ehr(32, 32, c=2, k=4, q=4), seed 0, from the reference vector file.
pub fn small_function() -> Ehrlich {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../ehrlich/data/ehrlich_v32_L32_c2_k4_q4_s0.json"
    ));
    Ehrlich::from_vector_json(text).expect("vector file")
}

/// A tiny f64 model for gradient checks: vocabulary of 4 states, L = 3.
pub fn tiny_config() -> ModelConfig {
    ModelConfig {
        vocab_size: 4 + 5,
        max_len: 2 * 3 + 6,
        d_model: 8,
        n_layers: 2,
        n_heads: 2,
        d_ff: 16,
        f64: true,
    }
}

/// A toy LLOME configuration that runs in seconds.
pub fn toy_config(objective: &str, seed: u64) -> LlomeConfig {
    let mut cfg = LlomeConfig::cpu_preset(
        LlomeConfig::objective_by_name(objective).expect("known objective"),
        seed,
    );
    cfg.rounds = 2;
    cfg.ga.num_particles = 100;
    cfg.ga.mutation_prob = 0.05;
    cfg.ga_steps = 4;
    cfg.labels_per_round = 24;
    cfg.model = ModelShape {
        d_model: 16,
        n_layers: 1,
        n_heads: 2,
        d_ff: 32,
    };
    cfg.pairs.max_pairs = 200;
    cfg.first_train.epochs = 6;
    cfg.first_train.adam.lr = 1e-2;
    cfg.first_train.batch_size = 16;
    cfg.train.batch_size = 16;
    cfg.generation.num_seeds = 4;
    cfg.generation.iterations = 2;
    cfg.generation.samples_per_temperature = 1;
    cfg
}

/// A fresh temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("llome-test-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&d).ok();
    d
}
