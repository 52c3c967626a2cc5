//! The inner optimisation of one molecule ("relax and select", notes §5.2): several starting
//! conformations (the proposer's coordinates with hydrogens added, then ETKDG+MMFF conformers;
//! Open Babel `--gen3d` when RDKit cannot embed), each relaxed by GFN2-xTB; relaxations that
//! changed the bonds are dropped; among the minima within the energy window of the lowest, the
//! one closest to the target is reported together with the global minimum's value.

use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{EvaluationFailure, Stage, ToolError};
use crate::geometry::{bond_pairs, connectivity_change, inchikey, obabel_embed};
use crate::helper::{Embedding, embed};
use crate::screen::Molecule;
use crate::task::{Budget, Property, Task};
use crate::tools::Tools;
use crate::xtb::{Orbitals, Relaxed, run_xtb};

/// kcal/mol per Hartree.
pub const KCAL_PER_EH: f64 = 627.509474;
/// Minima closer in energy than this (Eh) are taken as the same minimum.
const SAME_MINIMUM_EH: f64 = 2e-5;

/// One value of the task's property on every scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PropertyValue {
    /// Raw GFN2-xTB value (eV).
    pub raw_ev: f64,
    /// Calibrated to the B3LYP scale (eV).
    pub calibrated_ev: f64,
    /// Normalised with the QM9 statistics.
    pub z: f64,
    /// |z − target|.
    pub loss: f64,
}

impl PropertyValue {
    /// The property of `orbitals` for `task`, on every scale.
    pub fn of(task: &Task, orbitals: &Orbitals) -> Self {
        let raw_ev = match task.property {
            Property::Homo => orbitals.homo_ev,
            Property::Lumo => orbitals.lumo_ev,
            Property::Gap => orbitals.gap_ev(),
        };
        let (calibrated_ev, z, loss) = task.score(raw_ev);
        Self {
            raw_ev,
            calibrated_ev,
            z,
            loss,
        }
    }
}

/// The result of a successful evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The reported (chosen) conformer's property.
    pub value: PropertyValue,
    /// Raw GFN2 orbitals and energy of the chosen conformer.
    pub orbitals: Orbitals,
    /// The property at the first starting geometry, before relaxation.
    pub before: PropertyValue,
    /// The property at the lowest-energy minimum.
    pub global_minimum: PropertyValue,
    /// Energy of the chosen conformer above the lowest minimum (kcal/mol).
    pub strain_kcal: f64,
    /// Distinct minima within the energy window.
    pub accessible_minima: usize,
    /// Distinct minima found.
    pub minima: usize,
    /// Starting geometries tried.
    pub starts: usize,
    /// Relaxations dropped because the bonds changed.
    pub connectivity_changed: usize,
    /// Version of the calibration used.
    pub calibration: String,
    /// Which embedder made the starts ("rdkit" or "obabel").
    pub embedder: String,
    /// Element symbols of all atoms of the chosen conformer (heavy atoms first, SMILES order).
    pub symbols: Vec<String>,
    /// All-atom coordinates of the chosen conformer (Å).
    pub coordinates: Vec<[f64; 3]>,
    /// Bonds `(i, j, order)` of the molecule (Kekulé form).
    pub bonds: Vec<(usize, usize, u8)>,
}

impl Measured {
    /// Relaxed heavy-atom coordinates (Å), in SMILES order.
    pub fn heavy_coordinates(&self) -> Vec<[f64; 3]> {
        self.symbols
            .iter()
            .zip(&self.coordinates)
            .filter(|(s, _)| s.as_str() != "H")
            .map(|(_, p)| *p)
            .collect()
    }
}

/// Everything known about one evaluated molecule; a failure is data, not a panic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MoleculeEvaluation {
    /// The molecule.
    pub molecule: Molecule,
    /// Its InChIKey (Open Babel), when it could be computed.
    pub inchikey: Option<String>,
    /// The measured property, or where and why it failed.
    pub outcome: Result<Measured, EvaluationFailure>,
    /// Wall seconds of the whole evaluation.
    pub seconds: f64,
}

impl MoleculeEvaluation {
    /// The loss (`+∞` for a failure).
    pub fn loss(&self) -> f64 {
        self.outcome
            .as_ref()
            .map(|m| m.value.loss)
            .unwrap_or(f64::INFINITY)
    }

    /// The evaluation as one JSON record (for a ledger).
    pub fn record(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn starts(
    mol: &Molecule,
    budget: &Budget,
    tools: &Tools,
) -> Result<(Embedding, &'static str), EvaluationFailure> {
    let limit = budget.tool_timeout();
    match embed(
        &tools.python,
        &mol.smiles,
        mol.coordinates.as_deref(),
        budget.conformers,
        budget.seed,
        limit,
    ) {
        Ok(e) => Ok((e, "rdkit")),
        Err(ToolError::Failed { message, .. }) => {
            obabel_embed(&tools.obabel, &mol.canonical, limit)
                .map(|e| (e, "obabel"))
                .map_err(|e| {
                    EvaluationFailure::new(
                        Stage::Embed,
                        format!("RDKit: {message}; Open Babel fallback: {e}"),
                    )
                })
        }
        Err(e) => Err(e.into()),
    }
}

/// Evaluates one molecule; never panics, every failure comes back typed in the outcome.
pub fn evaluate(mol: &Molecule, task: &Task, budget: &Budget, tools: &Tools) -> MoleculeEvaluation {
    let start = Instant::now();
    let outcome = relax_and_select(mol, task, budget, tools);
    let inchikey = inchikey(&tools.obabel, &mol.canonical, budget.tool_timeout()).ok();
    MoleculeEvaluation {
        molecule: mol.clone(),
        inchikey,
        outcome,
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// Evaluates several molecules in parallel on `threads` threads (each xtb with one OpenMP
/// thread); results are in input order and do not depend on the thread count.
pub fn evaluate_many(
    mols: &[Molecule],
    task: &Task,
    budget: &Budget,
    tools: &Tools,
    threads: usize,
) -> Vec<MoleculeEvaluation> {
    let serial = || {
        mols.iter()
            .map(|m| evaluate(m, task, budget, tools))
            .collect()
    };
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
    {
        Ok(pool) => pool.install(|| {
            mols.par_iter()
                .map(|m| evaluate(m, task, budget, tools))
                .collect()
        }),
        Err(_) => serial(),
    }
}

fn relax_and_select(
    mol: &Molecule,
    task: &Task,
    budget: &Budget,
    tools: &Tools,
) -> Result<Measured, EvaluationFailure> {
    let (embedding, embedder) = starts(mol, budget, tools)?;
    let limit = budget.tool_timeout();
    let n = embedding.symbols.len();
    if embedding.conformers.iter().any(|c| c.len() != n)
        || embedding.bonds.iter().any(|&(i, j, _)| i >= n || j >= n)
    {
        return Err(EvaluationFailure::new(
            Stage::Embed,
            format!("{embedder} returned geometries inconsistent with its {n} atoms"),
        ));
    }
    let expected = bond_pairs(&embedding.bonds);
    let first = embedding
        .conformers
        .first()
        .ok_or_else(|| EvaluationFailure::new(Stage::Embed, "no starting geometry"))?;
    let before = run_xtb(&tools.xtb, &embedding.symbols, first, None, limit)
        .map_err(EvaluationFailure::from)?;
    let before = PropertyValue::of(task, &before.orbitals);

    let mut relaxed: Vec<Relaxed> = Vec::new();
    let mut changed = 0;
    let mut errors: Vec<EvaluationFailure> = Vec::new();
    for coords in &embedding.conformers {
        match run_xtb(
            &tools.xtb,
            &embedding.symbols,
            coords,
            Some(&budget.opt_level),
            limit,
        ) {
            Ok(r) => match connectivity_change(&embedding.symbols, &r.coords, &expected) {
                None => relaxed.push(r),
                Some(what) => {
                    changed += 1;
                    errors.push(EvaluationFailure::new(Stage::Connectivity, what));
                }
            },
            Err(e) => errors.push(EvaluationFailure::new(Stage::Optimise, e.to_string()).with(&e)),
        }
    }
    if relaxed.is_empty() {
        return Err(errors
            .into_iter()
            .next()
            .unwrap_or_else(|| EvaluationFailure::new(Stage::Optimise, "nothing to relax")));
    }
    relaxed.sort_by(|a, b| a.orbitals.energy_eh.total_cmp(&b.orbitals.energy_eh));
    let mut minima: Vec<Relaxed> = Vec::new();
    for r in relaxed {
        if minima
            .last()
            .is_none_or(|m| (r.orbitals.energy_eh - m.orbitals.energy_eh).abs() > SAME_MINIMUM_EH)
        {
            minima.push(r);
        }
    }
    let e_min = minima[0].orbitals.energy_eh;
    let accessible: Vec<&Relaxed> = minima
        .iter()
        .filter(|m| (m.orbitals.energy_eh - e_min) * KCAL_PER_EH <= budget.energy_window_kcal)
        .collect();
    let chosen = accessible
        .iter()
        .min_by(|a, b| {
            let la = PropertyValue::of(task, &a.orbitals).loss;
            let lb = PropertyValue::of(task, &b.orbitals).loss;
            la.total_cmp(&lb)
        })
        .copied()
        .unwrap_or(&minima[0]);
    Ok(Measured {
        value: PropertyValue::of(task, &chosen.orbitals),
        orbitals: chosen.orbitals,
        before,
        global_minimum: PropertyValue::of(task, &minima[0].orbitals),
        strain_kcal: (chosen.orbitals.energy_eh - e_min) * KCAL_PER_EH,
        accessible_minima: accessible.len(),
        minima: minima.len(),
        starts: embedding.conformers.len(),
        connectivity_changed: changed,
        calibration: task.calibration.version.clone(),
        embedder: embedder.to_string(),
        symbols: embedding.symbols.clone(),
        coordinates: chosen.coords.clone(),
        bonds: embedding.bonds.clone(),
    })
}

impl EvaluationFailure {
    /// Re-stages a failure from the tool error that caused it (timeouts stay timeouts).
    fn with(self, e: &ToolError) -> Self {
        match e {
            ToolError::Timeout { .. } => Self::new(Stage::Timeout, self.message),
            ToolError::Missing { .. } | ToolError::Spawn { .. } => {
                Self::new(Stage::Tool, self.message)
            }
            _ => self,
        }
    }
}
