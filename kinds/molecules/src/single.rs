//! One molecule from a SMILES string: screened, relaxed and measured, with its raw GFN2-xTB
//! and calibrated HOMO, LUMO and gap (`ansatz molecule eval "SMILES"`).

use std::fmt;

use thiserror::Error;

use crate::{
    Budget, EvaluationFailure, Property, Rejection, TaskError, ToolError, Tools, evaluate, screen,
};

/// Why one molecule could not be measured.
#[derive(Debug, Error)]
pub enum SingleError {
    /// A tool is missing or failed.
    #[error(transparent)]
    Tool(#[from] ToolError),
    /// A built-in task did not load.
    #[error(transparent)]
    Task(#[from] TaskError),
    /// The SMILES was refused by the screen.
    #[error("refused: {0}")]
    Rejected(#[from] Rejection),
    /// The quantum chemistry failed.
    #[error(transparent)]
    Failed(#[from] EvaluationFailure),
}

/// One property of a measured molecule on the three scales.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PropertyRow {
    /// Which property.
    pub property: Property,
    /// Raw GFN2-xTB value (eV).
    pub raw_ev: f64,
    /// Calibrated to the B3LYP scale (eV).
    pub calibrated_ev: f64,
    /// Normalised with the QM9 statistics.
    pub z: f64,
}

/// A measured molecule: identity, conformer search and its properties.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleMolecule {
    /// Canonical SMILES.
    pub canonical: String,
    /// Molecular formula.
    pub formula: String,
    /// Heavy atoms.
    pub heavy_atoms: usize,
    /// InChIKey, when Open Babel could compute it.
    pub inchikey: Option<String>,
    /// Starting geometries relaxed.
    pub starts: usize,
    /// Distinct minima found.
    pub minima: usize,
    /// Wall seconds.
    pub seconds: f64,
    /// HOMO, LUMO and gap of the lowest-energy conformer.
    pub properties: Vec<PropertyRow>,
    /// Version of the calibration.
    pub calibration: String,
}

/// Screens `smiles` with the QM9-domain rules, relaxes `conformers` starts (default: the
/// task's) with xtb and reports the lowest-energy conformer's HOMO, LUMO and gap.
pub fn evaluate_smiles(
    smiles: &str,
    conformers: Option<usize>,
    tools: &Tools,
) -> Result<SingleMolecule, SingleError> {
    let homo = crate::Task::builtin(Property::Homo.name())?;
    let reply = format!("```molecule\nSMILES: {}\n```", smiles.trim());
    let mol = screen(&reply, &homo.rules, &tools.python)?;
    // A zero energy window reports the lowest-energy minimum.
    let budget = Budget {
        conformers: conformers.unwrap_or(homo.budget.conformers),
        energy_window_kcal: 0.0,
        ..homo.budget.clone()
    };
    let eval = evaluate(&mol, &homo, &budget, tools);
    let m = eval.outcome.clone()?;
    let mut properties = Vec::new();
    for (property, raw_ev) in [
        (Property::Homo, m.orbitals.homo_ev),
        (Property::Lumo, m.orbitals.lumo_ev),
        (Property::Gap, m.orbitals.gap_ev()),
    ] {
        let task = crate::Task::builtin(property.name())?;
        let (calibrated_ev, z, _) = task.score(raw_ev);
        properties.push(PropertyRow {
            property,
            raw_ev,
            calibrated_ev,
            z,
        });
    }
    Ok(SingleMolecule {
        heavy_atoms: mol.heavy_atoms(),
        canonical: mol.canonical,
        formula: mol.formula,
        inchikey: eval.inchikey,
        starts: m.starts,
        minima: m.minima,
        seconds: eval.seconds,
        properties,
        calibration: m.calibration,
    })
}

impl fmt::Display for SingleMolecule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} ({}, {} heavy atoms, InChIKey {}), {} starts, {} minima, {:.2} s",
            self.canonical,
            self.formula,
            self.heavy_atoms,
            self.inchikey.as_deref().unwrap_or("?"),
            self.starts,
            self.minima,
            self.seconds
        )?;
        writeln!(f, "property  raw GFN2 (eV)  calibrated (eV)  z (QM9)")?;
        for r in &self.properties {
            writeln!(
                f,
                "{:<8}  {:>13.4}  {:>15.4}  {:>7.3}",
                r.property.name(),
                r.raw_ev,
                r.calibrated_ev,
                r.z
            )?;
        }
        write!(
            f,
            "(lowest-energy conformer; calibration {}; properties are GFN2-xTB with a linear \
             calibration, not B3LYP)",
            self.calibration
        )
    }
}
