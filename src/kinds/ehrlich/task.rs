//! An Ehrlich task file: which function to optimise. Either a vector file of the reference
//! library (parameters sampled by holo-bench) or a function drawn by this project's own
//! construction from (v, L, c, k, q, seed). Paths are relative to the file.
//!
//! ```toml
//! kind = "ehrlich"
//! name = "ehrlich-v32-L32"
//! vectors = "ehrlich_v32_L32_c2_k4_q4_s0.json"     # a reference vector file, or:
//! # quantization = 2                # optional: the reference's function with another q
//! # [function]
//! # states = 32
//! # length = 32
//! # motifs = 2
//! # motif_length = 4
//! # quantization = 4
//! # seed = 0
//! # [llome]                         # optional: LLOME's settings (`--sequence-search llome-*`),
//! # labels_per_round = 200          # field by field over the CPU preset
//! ```

use ansatz_ehrlich::Ehrlich;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// An Ehrlich task file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EhrlichTask {
    /// Always `ehrlich`.
    pub kind: crate::kinds::Kind,
    /// Short name (reports).
    pub name: String,
    /// A reference vector file.
    #[serde(default)]
    pub vectors: Option<PathBuf>,
    /// With `vectors`: another quantization q for the reference's function (q draws nothing,
    /// so the transition matrix, motifs and spacings stay the reference's).
    #[serde(default)]
    pub quantization: Option<usize>,
    /// A function drawn by this project's construction.
    #[serde(default)]
    pub function: Option<Construction>,
    /// How a search runs it on a Slurm cluster (read by `search --executor slurm`, see
    /// [`crate::executor::slurm_settings_of_task`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<toml::Table>,
    /// LLOME's settings for `--sequence-search llome-*`, field by field over the CPU preset
    /// (`ansatz_llome::LlomeConfig::cpu_preset`; nested tables merge, so `[llome.model]`
    /// `d_model = 32` changes only the width).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub llome: Option<toml::Table>,
}

/// The parameters of a constructed function (see `Ehrlich::generate`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Construction {
    /// Alphabet size v.
    pub states: usize,
    /// Sequence length L.
    pub length: usize,
    /// Number of motifs c.
    pub motifs: usize,
    /// Motif length k.
    pub motif_length: usize,
    /// Quantisation q.
    pub quantization: usize,
    /// Seed of the construction.
    pub seed: u64,
}

/// Why an Ehrlich task cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct EhrlichTaskError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl EhrlichTask {
    /// Reads a task file and builds its function.
    pub fn load(path: &Path) -> Result<(EhrlichTask, Ehrlich), EhrlichTaskError> {
        let err = |message: String| EhrlichTaskError {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let task: EhrlichTask = toml::from_str(&text).map_err(|e| err(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        if task.quantization.is_some() && task.function.is_some() {
            return Err(err(
                "`quantization` goes with `vectors`; a [function] table has its own".into(),
            ));
        }
        let vectors = task.vectors.as_ref().map(|file| base.join(file));
        let function = function_of(
            vectors.as_deref(),
            task.function.as_ref(),
            task.quantization,
        )
        .map_err(err)?;
        Ok((task, function))
    }
}

/// The function given by a reference vector file (optionally with another quantization) or
/// by this project's construction: exactly one of `vectors` and `construction`.
pub fn function_of(
    vectors: Option<&Path>,
    construction: Option<&Construction>,
    quantization: Option<usize>,
) -> Result<Ehrlich, String> {
    match (vectors, construction) {
        (Some(file), None) => {
            let json =
                std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
            let f =
                Ehrlich::from_vector_json(&json).map_err(|e| format!("{}: {e}", file.display()))?;
            match quantization {
                Some(q) => f.with_quantization(q).map_err(|e| e.to_string()),
                None => Ok(f),
            }
        }
        (None, Some(c)) => Ehrlich::generate(
            c.states,
            c.length,
            c.motifs,
            c.motif_length,
            c.quantization,
            c.seed,
        )
        .map_err(|e| e.to_string()),
        _ => Err("give either `vectors = FILE` or a [function] table, not both".into()),
    }
}
