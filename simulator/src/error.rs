//! Typed errors of the simulator, its materials and its trajectory files.

use thiserror::Error;

/// An error raised by a [`crate::Material`] while evaluating a law.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum MaterialError {
    /// The parameter slice had the wrong length.
    #[error("material `{material}` takes {expected} parameters, got {got}")]
    ParameterCount {
        /// Name of the material.
        material: &'static str,
        /// Number of parameters it takes.
        expected: usize,
        /// Number of parameters given.
        got: usize,
    },
    /// The input and output batches differ in length.
    #[error("batch length mismatch: {inputs} inputs, {outputs} outputs")]
    BatchLength {
        /// Number of deformation gradients given.
        inputs: usize,
        /// Number of output slots given.
        outputs: usize,
    },
    /// Any other failure of a law (for example a compiled program that cannot run).
    #[error("law evaluation failed: {0}")]
    Law(String),
}

/// What went non-finite in a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NonFiniteQuantity {
    /// The output of the material (Kirchhoff stress or corrected deformation gradient).
    Material,
    /// The Kirchhoff stress of the fixed Hencky law on the plastic path.
    Stress,
    /// A particle position or velocity after the grid-to-particle transfer.
    Particle,
    /// The loss (for example a NaN observed position).
    Loss,
}

impl std::fmt::Display for NonFiniteQuantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Material => "material output",
            Self::Stress => "Hencky stress",
            Self::Particle => "particle state",
            Self::Loss => "loss",
        };
        f.write_str(name)
    }
}

/// An error that stops a rollout or a loss evaluation.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum SimError {
    /// A value or a derivative became NaN or infinite.
    #[error("non-finite {quantity} at step {step} (particle {particle})")]
    NonFinite {
        /// The step (0-based) during which it happened: the state of frame `step + 1` is bad.
        step: usize,
        /// The first particle found with a bad value.
        particle: usize,
        /// Which quantity was bad.
        quantity: NonFiniteQuantity,
    },
    /// The material failed.
    #[error("material error at step {step}: {source}")]
    Material {
        /// The step during which it failed.
        step: usize,
        /// The underlying error.
        #[source]
        source: MaterialError,
    },
    /// The scene is not valid (sizes, grid, time step).
    #[error("invalid scene: {0}")]
    InvalidScene(String),
    /// The target trajectory does not fit the scene or the loss settings.
    #[error("invalid target: {0}")]
    InvalidTarget(String),
}

/// An error reading or writing a trajectory or `.npy`/`.npz` file.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TrajectoryError {
    /// The file could not be read or written.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The zip container is damaged or unsupported.
    #[error("zip error: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// An array the format requires is absent.
    #[error("missing array `{0}`")]
    MissingArray(String),
    /// An array has an unexpected header, dtype or shape.
    #[error("bad array `{name}`: {reason}")]
    BadArray {
        /// The array's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
}
