//! The bundled RDKit helper (`python/rdkit_helper.py`): one JSON request in, one JSON reply out.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ToolError;
use crate::process::{TempDir, run};

/// The helper's source, run with `python -c`.
pub const HELPER_SOURCE: &str = include_str!("../python/rdkit_helper.py");

const TOOL: &str = "RDKit helper";

/// Sends `request` to the helper run by `python` and returns its reply.
pub fn call(python: &Path, request: &Value, limit: Duration) -> Result<Value, ToolError> {
    let dir = TempDir::new("ansatz-rdkit").map_err(|e| ToolError::Io {
        tool: TOOL,
        message: e.to_string(),
    })?;
    let input = serde_json::to_vec(request).map_err(|e| ToolError::Protocol {
        tool: TOOL,
        message: e.to_string(),
    })?;
    let out = run(
        TOOL,
        python,
        &["-c", HELPER_SOURCE],
        dir.path(),
        Some(&input),
        limit,
    )?;
    if !out.success() {
        let tail: Vec<&str> = out.stderr.lines().rev().take(3).collect();
        return Err(ToolError::Failed {
            tool: TOOL,
            message: format!(
                "exit code {:?}: {}",
                out.code,
                tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
            ),
        });
    }
    let reply: Value = serde_json::from_str(&out.stdout).map_err(|e| ToolError::Protocol {
        tool: TOOL,
        message: format!("{e}: {:.200}", out.stdout),
    })?;
    if let Some(err) = reply.get("error").and_then(Value::as_str) {
        return Err(ToolError::Failed {
            tool: TOOL,
            message: err.to_string(),
        });
    }
    Ok(reply)
}

fn decode<T: for<'de> Deserialize<'de>>(v: Value) -> Result<T, ToolError> {
    serde_json::from_value(v).map_err(|e| ToolError::Protocol {
        tool: TOOL,
        message: e.to_string(),
    })
}

/// What RDKit says about one SMILES.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    /// Whether it parsed and sanitised.
    pub ok: bool,
    /// On failure: "parse", "valence", "kekulize" or "sanitize".
    #[serde(default)]
    pub stage: String,
    /// On failure: RDKit's message.
    #[serde(default)]
    pub message: String,
    /// Canonical SMILES.
    #[serde(default)]
    pub canonical: String,
    /// Molecular formula (Hill order).
    #[serde(default)]
    pub formula: String,
    /// Heavy-atom element symbols in SMILES order.
    #[serde(default)]
    pub heavy_symbols: Vec<String>,
    /// Net formal charge.
    #[serde(default)]
    pub charge: i32,
    /// Atoms carrying a formal charge.
    #[serde(default)]
    pub charged_atoms: usize,
    /// Unpaired electrons RDKit assigned.
    #[serde(default)]
    pub radical_electrons: usize,
    /// Total electron count.
    #[serde(default)]
    pub electrons: i64,
    /// Connected fragments.
    #[serde(default)]
    pub fragments: usize,
    /// Hydrogen atoms (implicit and explicit).
    #[serde(default)]
    pub hydrogens: usize,
}

/// Inspects many SMILES in one helper run.
pub fn inspect(python: &Path, smiles: &[&str]) -> Result<Vec<Inspection>, ToolError> {
    let reply = call(
        python,
        &json!({"cmd": "inspect", "smiles": smiles}),
        Duration::from_secs(120),
    )?;
    let results: Vec<Inspection> = decode(reply.get("results").cloned().unwrap_or(Value::Null))?;
    if results.len() != smiles.len() {
        return Err(ToolError::Protocol {
            tool: TOOL,
            message: format!("{} results for {} SMILES", results.len(), smiles.len()),
        });
    }
    Ok(results)
}

/// All-atom starting geometries from RDKit (hydrogens included, atom order: heavy atoms in
/// SMILES order, then hydrogens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// Element symbols of all atoms.
    pub symbols: Vec<String>,
    /// Bonds `(i, j, order)` in the Kekulé form, order 1–3.
    pub bonds: Vec<(usize, usize, u8)>,
    /// Conformers: one `[x, y, z]` (Å) per atom each.
    pub conformers: Vec<Vec<[f64; 3]>>,
}

/// Embeds `smiles`: the given heavy-atom coordinates with hydrogens added (if any) followed by
/// up to `count` ETKDGv3 + MMFF conformers from `seed`.
pub fn embed(
    python: &Path,
    smiles: &str,
    coords: Option<&[[f64; 3]]>,
    count: usize,
    seed: u64,
    limit: Duration,
) -> Result<Embedding, ToolError> {
    let reply = call(
        python,
        &json!({"cmd": "embed", "smiles": smiles, "coords": coords, "count": count, "seed": seed}),
        limit,
    )?;
    if reply.get("ok").and_then(Value::as_bool) != Some(true) {
        let msg = reply.get("message").and_then(Value::as_str).unwrap_or("");
        return Err(ToolError::Failed {
            tool: TOOL,
            message: msg.to_string(),
        });
    }
    decode(reply)
}

/// A child molecule made by the helper's graph GA.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Child {
    /// Canonical SMILES of the child.
    pub smiles: String,
    /// The operator: crossover, change_atom, append_atom, insert_atom, delete_atom, bond_order,
    /// ring.
    pub op: String,
    /// SMILES of the parent(s).
    pub parents: Vec<String>,
}

/// Rules the children must satisfy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChildRules {
    /// Allowed heavy elements.
    pub elements: Vec<String>,
    /// Minimum heavy atoms.
    pub min_heavy: usize,
    /// Maximum heavy atoms.
    pub max_heavy: usize,
    /// Probability of crossover (else one mutation).
    pub crossover_rate: f64,
}

/// Makes up to `count` new molecules from `population` (SMILES, loss; lower is better) by
/// tournament selection, crossover and mutation, none in `exclude`.
pub fn mutate(
    python: &Path,
    population: &[(String, f64)],
    count: usize,
    seed: u64,
    rules: &ChildRules,
    exclude: &[String],
) -> Result<Vec<Child>, ToolError> {
    let reply = call(
        python,
        &json!({
            "cmd": "mutate", "population": population, "count": count, "seed": seed,
            "elements": rules.elements, "min_heavy": rules.min_heavy, "max_heavy": rules.max_heavy,
            "crossover_rate": rules.crossover_rate, "exclude": exclude,
        }),
        Duration::from_secs(300),
    )?;
    decode(reply.get("children").cloned().unwrap_or(Value::Null))
}

/// An SVG grid drawing of molecules, with one legend each.
pub fn svg_grid(
    python: &Path,
    smiles: &[String],
    legends: &[String],
    columns: usize,
) -> Result<String, ToolError> {
    let reply = call(
        python,
        &json!({"cmd": "svg", "smiles": smiles, "legends": legends, "columns": columns}),
        Duration::from_secs(120),
    )?;
    decode(reply.get("svg").cloned().unwrap_or(Value::Null))
}
