//! Typed errors: tools that are missing or fail, tasks that do not load, replies that are
//! rejected by screening, and evaluations that fail at a named stage.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An external tool (Python with RDKit, xtb, obabel) that is missing, fails or times out.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ToolError {
    /// The tool is not installed (or the configured path does not work).
    #[error("{tool} not found (tried: {tried}); install it with `{install}`")]
    Missing {
        /// Which tool.
        tool: &'static str,
        /// The paths or commands that were tried.
        tried: String,
        /// The command that installs it.
        install: &'static str,
    },
    /// The process could not be started.
    #[error("cannot start {tool} at {path:?}: {message}")]
    Spawn {
        /// Which tool.
        tool: &'static str,
        /// The program path.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// Reading or writing the tool's files failed.
    #[error("{tool}: I/O error: {message}")]
    Io {
        /// Which tool.
        tool: &'static str,
        /// The system's message.
        message: String,
    },
    /// The run took longer than its limit and was killed.
    #[error("{tool} killed after the time limit of {seconds:.1} s")]
    Timeout {
        /// Which tool.
        tool: &'static str,
        /// The limit.
        seconds: f64,
    },
    /// The tool ran and reported a failure.
    #[error("{tool} failed: {message}")]
    Failed {
        /// Which tool.
        tool: &'static str,
        /// What it said (the relevant lines).
        message: String,
    },
    /// The tool's output could not be understood.
    #[error("{tool}: unexpected output: {message}")]
    Protocol {
        /// Which tool.
        tool: &'static str,
        /// What was wrong.
        message: String,
    },
}

/// A task file that cannot be read or is inconsistent.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The file could not be read.
    #[error("cannot read task file {path:?}: {message}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The system's message.
        message: String,
    },
    /// The TOML does not describe a task.
    #[error("invalid task TOML: {0}")]
    Toml(String),
    /// A value is out of range.
    #[error("invalid task: {0}")]
    Invalid(String),
    /// No built-in task has this name.
    #[error("no built-in molecule task named {0:?} (known: homo, lumo, gap, gap_minus2)")]
    Unknown(String),
}

/// Why a reply was refused before any quantum chemistry; the message is meant for the proposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Error)]
#[non_exhaustive]
pub enum Rejection {
    /// No molecule block (or no SMILES line) was found in the reply.
    #[error("no molecule found: {0}")]
    NoBlock(String),
    /// The SMILES does not parse; `position` is a 0-based character index when known.
    #[error("unparsable SMILES {smiles:?}{}: {message}", position.map(|p| format!(" at character {p}")).unwrap_or_default())]
    Syntax {
        /// The SMILES as written.
        smiles: String,
        /// 0-based character position of the problem, when known.
        position: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// An atom has too many bonds (or the aromatic system cannot be kekulised).
    #[error("chemically invalid SMILES {smiles:?}: {message}")]
    Valence {
        /// The SMILES as written.
        smiles: String,
        /// RDKit's message (names the atom index).
        message: String,
    },
    /// Elements outside the allowed set.
    #[error("element(s) {found:?} not allowed; only {allowed:?} (plus H) may be used")]
    Element {
        /// The offending element symbols.
        found: Vec<String>,
        /// The allowed heavy elements.
        allowed: Vec<String>,
    },
    /// Too few heavy atoms.
    #[error("{count} heavy atoms, at least {min} are required")]
    TooSmall {
        /// Heavy atoms in the molecule.
        count: usize,
        /// The minimum.
        min: usize,
    },
    /// Too many heavy atoms.
    #[error("{count} heavy atoms, at most {max} are allowed")]
    TooLarge {
        /// Heavy atoms in the molecule (or characters, for absurdly long input).
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// Non-zero net charge (or charged atoms when those are forbidden).
    #[error("the molecule must be neutral: {0}")]
    Charged(String),
    /// An odd number of electrons or explicit radical centres.
    #[error("the molecule must be closed-shell: {0}")]
    Radical(String),
    /// More than one fragment (a '.' in the SMILES or disconnected parts).
    #[error("the SMILES has {0} disconnected fragments; give one molecule")]
    Fragments(usize),
    /// Coordinates that cannot belong to this molecule.
    #[error("bad coordinates: {0}")]
    Coordinates(String),
    /// The molecule was evaluated before (same canonical SMILES).
    #[error("duplicate: {0} was already evaluated")]
    Duplicate(String),
    /// The helper that screens molecules could not run.
    #[error("screening tool unavailable: {0}")]
    Tool(String),
}

/// The stage of an evaluation that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// A needed tool is missing or broke.
    Tool,
    /// No 3D starting geometry could be made.
    Embed,
    /// xtb geometry optimisation failed in every start.
    Optimise,
    /// Every relaxed geometry changed the bonds of the molecule.
    Connectivity,
    /// The time limit passed.
    Timeout,
    /// The output of xtb could not be read.
    Parse,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Stage::Tool => "tool",
            Stage::Embed => "embed",
            Stage::Optimise => "optimise",
            Stage::Connectivity => "connectivity",
            Stage::Timeout => "timeout",
            Stage::Parse => "parse",
        };
        f.write_str(s)
    }
}

/// A failed evaluation: the stage and a message for the proposer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Error)]
#[error("{stage} failed: {message}")]
pub struct EvaluationFailure {
    /// Where it failed.
    pub stage: Stage,
    /// What happened.
    pub message: String,
}

impl EvaluationFailure {
    /// A failure at `stage` with `message`.
    pub fn new(stage: Stage, message: impl Into<String>) -> Self {
        Self {
            stage,
            message: message.into(),
        }
    }
}

impl From<ToolError> for EvaluationFailure {
    fn from(e: ToolError) -> Self {
        let stage = match e {
            ToolError::Timeout { .. } => Stage::Timeout,
            ToolError::Protocol { .. } => Stage::Parse,
            _ => Stage::Tool,
        };
        Self::new(stage, e.to_string())
    }
}
