//! Ehrlich functions (Stanton et al. 2024, holo-bench) and the discrete genetic-algorithm baseline.
//!
//! ```
//! use ansatz_ehrlich::Ehrlich;
//! let text = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/ehrlich_v32_L32_c2_k4_q4_s0.json"));
//! let f = Ehrlich::from_vector_json(text).expect("valid vector file");
//! let opt = f.optimal_solution();
//! assert_eq!(f.evaluate(&opt), Ok(1.0));
//! assert!(f.evaluate(f.initial_solution()).expect("right length") < 1.0);
//! ```
//!
//! The evaluation follows holo-bench exactly (notes §1.9): −∞ for a sequence with a banned
//! transition, otherwise the product over motifs of the quantized best-window presence
//! h = ⌊C/r⌋ / (k/r), r = ⌈k/q⌉ (which is below 1 at full match when r does not divide k).
//!
//! Modules:
//! - [`function`]: the [`Ehrlich`] struct, evaluation, [`Ehrlich::explain`] (banned transitions
//!   with positions, per-motif presence), the canonical optimum and the initial solution;
//! - [`vectors`]: loading the reference library's sampled parameters (`data/*.json`);
//! - [`construct`]: sampling new instances with ChaCha8 ([`Ehrlich::generate`]); these are
//!   **not** torch-seed-compatible with holo-bench;
//! - [`ga`]: the [`DiscreteEvolution`] baseline, deterministic per seed at any rayon thread count;
//! - [`diversity`]: the mean pairwise Hamming distance of a set of sequences;
//! - [`parse`]: reading a sequence written by a language model (JSON int list or letters).
//!
//! GA measurement (release build, `cargo run --release -p ansatz-ehrlich --example ga_steps`):
//! on `ehrlich_v32_L32_c2_k4_q4_s0.json` with P = 1000, p_m = p_r = 1.1/L, survival 0.1, the
//! steps to reach f = 1 for optimiser seeds 0..32 were 145, 340, 201, 138, 115, 86, 154, 227,
//! 177, 268, 147, 131, 117, 110, 86, 127, 173, 141, 131, 115, 160, 200, 185, 138, 103, 91, 130,
//! 155, 118, 145, 190, 122 (30 of 32 within 256; median ≈ 141; the reference reports 109–148).
//! The test `tests/ga.rs` (seed 0, 145 steps) runs in under a second even in a debug build, so it
//! is not `#[ignore]`d.

pub mod construct;
pub mod diversity;
pub mod error;
pub mod function;
pub mod ga;
pub mod parse;
pub mod vectors;

pub use diversity::mean_pairwise_hamming;
pub use error::EhrlichError;
pub use function::{BannedTransition, Ehrlich, EhrlichParams, Explanation, MotifReport};
pub use ga::{DiscreteEvolution, GaConfig, GaConfigError, GaPreset, StepReport};
pub use parse::{ParseError, parse_sequence};
pub use vectors::VectorFile;
