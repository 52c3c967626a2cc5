//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in this crate. Bad model output is *not* an error: it becomes a
/// rejected candidate (see [`crate::generate`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LlomeError {
    /// A tensor operation failed (shape mismatch, bad safetensors file, ...).
    #[error("tensor error: {0}")]
    Tensor(#[from] candle_core::Error),
    /// Reading or writing a run file failed.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A run file could not be (de)serialised.
    #[error("json error in {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// The Ehrlich function refused its input.
    #[error("ehrlich: {0}")]
    Ehrlich(#[from] ansatz_ehrlich::EhrlichError),
    /// The GA configuration was refused.
    #[error("ga: {0}")]
    Ga(#[from] ansatz_ehrlich::GaConfigError),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A run directory holds a run made with a different configuration.
    #[error("run directory {0} holds a run with a different configuration")]
    ConfigMismatch(PathBuf),
}

/// Result alias of this crate.
pub type Result<T, E = LlomeError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> LlomeError {
    let path = path.into();
    move |source| LlomeError::Io { path, source }
}

pub(crate) fn json_err(path: impl Into<PathBuf>) -> impl FnOnce(serde_json::Error) -> LlomeError {
    let path = path.into();
    move |source| LlomeError::Json { path, source }
}
