//! Loading reference parameters and cases from the holo-bench cross-check vector files
//! (schema `ehrlich-holo-vectors/v1`, see `data/README.md`).

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::error::EhrlichError;
use crate::function::{Ehrlich, EhrlichParams};

/// The `config` block of a vector file.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorConfig {
    /// v.
    pub num_states: usize,
    /// L.
    pub dim: usize,
    /// c.
    pub num_motifs: usize,
    /// k.
    pub motif_length: usize,
    /// q.
    pub quantization: usize,
    /// e.
    pub epistasis_factor: f64,
    /// Seed of the reference library's generator.
    pub random_seed: u64,
}

/// The `params` block of a vector file.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorParams {
    /// Row-stochastic v×v matrix.
    pub transition_matrix: Vec<Vec<f64>>,
    /// All (i, j) with `T[i][j] = 0`.
    pub banned_transitions: Vec<(u32, u32)>,
    /// Stationary distribution π.
    pub stationary_dist: Vec<f64>,
    /// Motifs.
    pub motifs: Vec<Vec<u32>>,
    /// Gaps between motif elements.
    pub spacings: Vec<Vec<usize>>,
    /// Offsets [0, cumsum(spacings)].
    pub offsets: Vec<Vec<usize>>,
    /// `initial_solution()`.
    pub initial_solution: Vec<u32>,
    /// `optimal_solution()`.
    pub optimal_solution: Vec<u32>,
}

/// One reference case.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorCase {
    /// Case id.
    pub id: u64,
    /// Case kind (see `data/README.md`).
    pub kind: String,
    /// The sequence.
    pub x: Vec<u32>,
    /// Whether it is feasible.
    pub feasible: bool,
    /// f(x); `None` is −∞.
    pub value: Option<f64>,
    /// Quantized presence per motif.
    pub motif_present: Vec<f64>,
    /// Raw best count per motif.
    pub motif_max_count: Vec<usize>,
    /// Values for other q (keys are q as strings).
    pub values_by_quantization: BTreeMap<String, Option<f64>>,
    /// Values for other e (keys are e as strings).
    pub values_by_epistasis: BTreeMap<String, Option<f64>>,
    /// Markov-chain log-likelihood; `None` is −∞.
    pub dmp_log_likelihood: Option<f64>,
}

/// The exhaustive table (only in the v=4, L=8 file).
#[derive(Debug, Clone, Deserialize)]
pub struct Exhaustive {
    /// Number of sequences.
    pub count: usize,
    /// One char per sequence: 'x' infeasible, digit d = value d / q^c.
    pub codes: String,
}

/// A whole vector file.
#[derive(Debug, Clone, Deserialize)]
pub struct VectorFile {
    /// Configuration.
    pub config: VectorConfig,
    /// Sampled parameters.
    pub params: VectorParams,
    /// Reference cases.
    pub cases: Vec<VectorCase>,
    /// Exhaustive table, if present.
    pub exhaustive: Option<Exhaustive>,
}

impl VectorFile {
    /// Parses a vector file from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, EhrlichError> {
        serde_json::from_str(text).map_err(|e| EhrlichError::Json(e.to_string()))
    }

    /// Builds the function these parameters describe.
    pub fn function(&self) -> Result<Ehrlich, EhrlichError> {
        let c = &self.config;
        let p = &self.params;
        if p.motifs.len() != c.num_motifs || p.motifs.iter().any(|m| m.len() != c.motif_length) {
            return Err(EhrlichError::InvalidParams(
                "motif shapes disagree with config".into(),
            ));
        }
        let v = c.num_states;
        if p.transition_matrix.len() != v || p.transition_matrix.iter().any(|r| r.len() != v) {
            return Err(EhrlichError::InvalidParams(format!(
                "transition matrix is not {v}x{v}"
            )));
        }
        let f = Ehrlich::from_params(EhrlichParams {
            num_states: v,
            dim: c.dim,
            motifs: p.motifs.clone(),
            spacings: p.spacings.clone(),
            quantization: c.quantization,
            epistasis: c.epistasis_factor,
            banned_transitions: p.banned_transitions.clone(),
            transition: Some(p.transition_matrix.concat()),
            initial_solution: p.initial_solution.clone(),
        })?;
        if f.offsets() != p.offsets.as_slice() {
            return Err(EhrlichError::InvalidParams(
                "offsets disagree with spacings".into(),
            ));
        }
        Ok(f)
    }
}

impl Ehrlich {
    /// Loads the function described by a vector file's JSON text.
    pub fn from_vector_json(text: &str) -> Result<Self, EhrlichError> {
        VectorFile::from_json(text)?.function()
    }
}
