//! LLOME (Chen et al., arXiv 2410.22296): a small causal language model, trained between rounds
//! with SFT, DPO or MargE on edit pairs `<inc> [x]\n[y]`, proposes sequences for an Ehrlich
//! function. Everything runs on the CPU with candle; notes `docs/notes/ehrlich.md` §3.2–3.3
//! describe the released pipeline this follows.
//!
//! ```
//! use ansatz_ehrlich::Ehrlich;
//! use ansatz_llome::{LlomeConfig, ModelShape, run};
//! let text = include_str!(concat!(
//!     env!("CARGO_MANIFEST_DIR"), "/../ehrlich/data/ehrlich_v32_L32_c2_k4_q4_s0.json"));
//! let f = Ehrlich::from_vector_json(text).expect("vector file");
//! let mut cfg = LlomeConfig::cpu_preset(LlomeConfig::objective_by_name("marge")?, 0);
//! // a toy scale so that the example runs in a second
//! cfg.rounds = 1;
//! cfg.ga.num_particles = 50;
//! cfg.ga.survival_quantile = 0.1;
//! cfg.ga_steps = 2;
//! cfg.labels_per_round = 20;
//! cfg.model = ModelShape { d_model: 16, n_layers: 1, n_heads: 2, d_ff: 32 };
//! cfg.pairs.max_pairs = 64;
//! cfg.first_train.epochs = 1;
//! cfg.generation.num_seeds = 2;
//! cfg.generation.iterations = 1;
//! let dir = std::env::temp_dir().join(format!("llome-doc-{}", std::process::id()));
//! let records = run(&f, &cfg, &dir)?;
//! assert_eq!(records.len(), 2); // round 0 (GA) and round 1
//! assert!(records[1].oracle_calls <= records[0].oracle_calls + 20);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), ansatz_llome::LlomeError>(())
//! ```
//!
//! Modules, in the order of a round:
//! - [`pairs`]: dedup, Hamming neighbourhoods, ordered pairs within 0.25·L, infeasible
//!   downsampling, DPO triples, seeds and the per-round label budget;
//! - [`vocab`]: the tokens of the edit format;
//! - [`model`]: the transformer (weights in safetensors, KV cache for decoding);
//! - [`losses`]: SFT, sigmoid DPO and MargE; [`optim`]: AdamW with a saved state;
//!   [`train`]: one round of fine-tuning against the frozen round-start reference;
//! - [`generate`]: the inner loop (greedy + sampling, likelihood selection, temperature shifts);
//! - [`driver`]: [`run`], the GA round 0 and the GA baseline; [`store`]: the run directory.
//!
//! Determinism: the seed fixes the weights, the GA, the pair subsamples, the batch order and every
//! sample. Candle's CPU matrix products split work over rows and columns only, so results do not
//! depend on the thread count in practice; tests set nothing and compare runs bit for bit.

pub mod config;
pub mod driver;
pub mod error;
pub mod generate;
pub mod losses;
pub mod model;
pub mod optim;
pub mod pairs;
pub mod store;
pub mod train;
pub mod vocab;

pub use config::{LlomeConfig, ModelShape};
pub use driver::{
    GaPoint, Proposed, RoundRecord, RoundReports, RoundWork, calibration, ga_baseline, ga_round,
    propose_round, run,
};
pub use error::{LlomeError, Result};
pub use generate::{Candidate, GenerationConfig, GenerationReport, generate, temperature_shift};
pub use losses::{DpoTriple, MargeConfig, dpo_loss, marge_loss, marge_weights, sft_loss};
pub use model::{KvCache, Model, ModelConfig};
pub use optim::{AdamConfig, AdamW};
pub use pairs::{EditPair, Labelled, PairConfig, mean_pairwise_hamming};
pub use train::{Objective, TrainConfig, TrainStats, train_round};
pub use vocab::Vocab;
