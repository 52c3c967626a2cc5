//! Exports of the best molecules: SDF with 3D coordinates and properties, XYZ, an SVG grid
//! drawing (RDKit), and a CSV table of candidates.

use std::path::Path;

use crate::error::ToolError;
use crate::evaluate::MoleculeEvaluation;
use crate::geometry::sdf_record;
use crate::helper::svg_grid;
use crate::task::Task;
use crate::xtb::to_xyz;

/// The successful evaluations sorted by loss, best first, at most `n`.
pub fn best(evals: &[MoleculeEvaluation], n: usize) -> Vec<&MoleculeEvaluation> {
    let mut v: Vec<&MoleculeEvaluation> = evals.iter().filter(|e| e.outcome.is_ok()).collect();
    v.sort_by(|a, b| {
        a.loss()
            .total_cmp(&b.loss())
            .then_with(|| a.molecule.canonical.cmp(&b.molecule.canonical))
    });
    v.truncate(n);
    v
}

/// A multi-record SDF of the successful evaluations given (relaxed 3D coordinates with
/// hydrogens; raw, calibrated and normalised properties as data items).
pub fn sdf(task: &Task, evals: &[&MoleculeEvaluation]) -> String {
    let mut s = String::new();
    for e in evals {
        let Ok(m) = &e.outcome else { continue };
        let data = vec![
            ("SMILES".to_string(), e.molecule.canonical.clone()),
            ("formula".into(), e.molecule.formula.clone()),
            ("InChIKey".into(), e.inchikey.clone().unwrap_or_default()),
            ("task".into(), task.name.clone()),
            ("gfn2_homo_eV".into(), format!("{:.4}", m.orbitals.homo_ev)),
            ("gfn2_lumo_eV".into(), format!("{:.4}", m.orbitals.lumo_ev)),
            ("gfn2_gap_eV".into(), format!("{:.4}", m.orbitals.gap_ev())),
            (
                "gfn2_energy_Eh".into(),
                format!("{:.8}", m.orbitals.energy_eh),
            ),
            (
                format!("calibrated_{}_eV", task.property.name()),
                format!("{:.4}", m.value.calibrated_ev),
            ),
            ("z".into(), format!("{:.4}", m.value.z)),
            ("loss".into(), format!("{:.6}", m.value.loss)),
            ("strain_kcal".into(), format!("{:.3}", m.strain_kcal)),
            ("calibration".into(), m.calibration.clone()),
        ];
        s.push_str(&sdf_record(
            &e.molecule.canonical,
            &m.symbols,
            &m.coordinates,
            &m.bonds,
            &data,
        ));
    }
    s
}

/// The relaxed all-atom geometry of one evaluation as XYZ (None for a failure).
pub fn xyz(eval: &MoleculeEvaluation) -> Option<String> {
    let m = eval.outcome.as_ref().ok()?;
    let comment = format!(
        "{} E={:.8} Eh HOMO={:.4} LUMO={:.4} eV (GFN2-xTB)",
        eval.molecule.canonical, m.orbitals.energy_eh, m.orbitals.homo_ev, m.orbitals.lumo_ev
    );
    Some(to_xyz(&m.symbols, &m.coordinates, &comment))
}

/// An SVG grid drawing (RDKit) of the evaluations, legends with the loss.
pub fn svg(python: &Path, evals: &[&MoleculeEvaluation]) -> Result<String, ToolError> {
    let smiles: Vec<String> = evals.iter().map(|e| e.molecule.canonical.clone()).collect();
    let legends: Vec<String> = evals
        .iter()
        .map(|e| format!("{} loss {:.3}", e.molecule.canonical, e.loss()))
        .collect();
    svg_grid(python, &smiles, &legends, 4)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A CSV table: canonical SMILES, InChIKey, formula, heavy atoms, raw HOMO/LUMO/gap, calibrated
/// value, z, loss, strain, failure stage and message.
pub fn csv(evals: &[MoleculeEvaluation]) -> String {
    let mut s = String::from(
        "smiles,inchikey,formula,heavy_atoms,homo_ev,lumo_ev,gap_ev,calibrated_ev,z,loss,strain_kcal,failure\n",
    );
    for e in evals {
        let m = &e.molecule;
        let cols = match &e.outcome {
            Ok(x) => format!(
                "{:.4},{:.4},{:.4},{:.4},{:.4},{:.6},{:.3},",
                x.orbitals.homo_ev,
                x.orbitals.lumo_ev,
                x.orbitals.gap_ev(),
                x.value.calibrated_ev,
                x.value.z,
                x.value.loss,
                x.strain_kcal
            ),
            Err(f) => format!(
                ",,,,,inf,,{}",
                csv_field(&format!("{}: {}", f.stage, f.message))
            ),
        };
        s.push_str(&format!(
            "{},{},{},{},{}\n",
            csv_field(&m.canonical),
            e.inchikey.as_deref().unwrap_or(""),
            m.formula,
            m.heavy_atoms(),
            cols
        ));
    }
    s
}
