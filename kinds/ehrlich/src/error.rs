//! Typed errors for building and evaluating Ehrlich functions.

use thiserror::Error;

/// Everything that can go wrong when building, loading or evaluating an [`crate::Ehrlich`] function.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EhrlichError {
    /// The alphabet is empty (v = 0).
    #[error("num_states (v) must be at least 1, got 0")]
    ZeroStates,
    /// There are no motifs (c = 0).
    #[error("num_motifs (c) must be at least 1, got 0")]
    NoMotifs,
    /// Motifs of length 0 or 1 have no gaps between elements; holo-bench divides by zero.
    #[error("motif_length (k) must be at least 2 (k = 1 leaves no gaps to space), got {0}")]
    MotifTooShort(usize),
    /// The quantization level is zero.
    #[error("quantization (q) must be at least 1, got 0")]
    ZeroQuantization,
    /// The sequence cannot hold all motifs side by side (L < c·k).
    #[error(
        "sequence length L = {dim} is too short for c = {num_motifs} motifs of length k = {motif_length}: need L >= c*k = {needed}"
    )]
    TooShort {
        /// Sequence length L.
        dim: usize,
        /// Number of motifs c.
        num_motifs: usize,
        /// Motif length k.
        motif_length: usize,
        /// c·k.
        needed: usize,
    },
    /// The sampled transition matrix is not primitive (some power with all entries > 0 does not exist).
    #[error(
        "the sampled transition matrix is not primitive (Perron-Frobenius theorem not satisfied); try another seed or a larger v"
    )]
    NotPrimitive,
    /// The parameters are inconsistent (wrong shapes, out-of-range symbols, ...).
    #[error("invalid Ehrlich parameters: {0}")]
    InvalidParams(String),
    /// A vector file could not be parsed.
    #[error("cannot read the vector file: {0}")]
    Json(String),
    /// A sequence has the wrong length.
    #[error("sequence has length {got}, expected L = {expected}")]
    WrongLength {
        /// Length of the sequence given.
        got: usize,
        /// The function's L.
        expected: usize,
    },
    /// A sequence holds a symbol outside 0..v.
    #[error("symbol {symbol} at position {position} is out of range 0..{num_states}")]
    SymbolOutOfRange {
        /// Position of the symbol.
        position: usize,
        /// The symbol.
        symbol: u32,
        /// Alphabet size v.
        num_states: usize,
    },
}
