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

pub mod construct;
pub mod error;
pub mod function;
pub mod ga;
pub mod parse;
pub mod vectors;

pub use error::EhrlichError;
pub use function::{BannedTransition, Ehrlich, EhrlichParams, Explanation, MotifReport};
pub use ga::{DiscreteEvolution, GaConfig, GaConfigError, StepReport};
pub use parse::{ParseError, parse_sequence};
pub use vectors::VectorFile;
