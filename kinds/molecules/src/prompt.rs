//! Text for a language model: the task brief (adapted from SGA's molecule prompts to this
//! crate's block format) and the feedback on one evaluated candidate.

use crate::error::Rejection;
use crate::evaluate::MoleculeEvaluation;
use crate::task::{Property, Task};

/// The brief a language-model proposer receives for `task`.
pub fn brief(task: &Task) -> String {
    let what = match task.property {
        Property::Homo => "HOMO energy",
        Property::Lumo => "LUMO energy",
        Property::Gap => "HOMO-LUMO gap",
    };
    let r = &task.rules;
    format!(
        "You are a computational chemist designing small organic molecules.\n\
         Goal: propose a molecule whose {what} has the normalised value z = {target} \
         (z = (value - mean) / std over the QM9 data set; mean {mean:.3} eV, std {std:.3} eV, \
         so the target is {abs:.3} eV on the B3LYP/6-31G(2df,p) scale).\n\
         The property is computed by GFN2-xTB on relaxed conformations and mapped linearly to \
         the B3LYP scale (calibration {cal}); the loss is |z - {target}|, lower is better.\n\n\
         Rules (a reply that breaks one is rejected with the reason):\n\
         - one neutral, closed-shell molecule (no '.', no net charge, no radicals);\n\
         - heavy atoms only from {{{elements}}} (hydrogens implicit), between {min} and {max} \
           heavy atoms;\n\
         - a valid SMILES (RDKit must sanitise it); a molecule already evaluated counts as a \
           duplicate.\n\n\
         Answer with exactly one block in this format:\n\
         ```molecule\n\
         SMILES: <your SMILES>\n\
         coordinates:\n\
         <Element> <x> <y> <z>\n\
         ```\n\
         The coordinates are optional: one row per heavy atom (no hydrogens), in Å, in the order \
         the atoms appear in the SMILES. If you give them, they are one of the starting \
         conformations of the inner optimisation (hydrogens are added, then GFN2-xTB relaxes \
         every start); otherwise only generated conformers are used. Reason briefly about how \
         the structure (conjugation, heteroatoms, substituents) moves the {what}, then give the \
         block.\n",
        target = task.target,
        mean = task.normalisation.mean_ha * crate::task::HARTREE_EV,
        std = task.normalisation.std_ha * crate::task::HARTREE_EV,
        abs = task.target_ev(),
        cal = task.calibration.version,
        elements = r.elements.join(", "),
        min = r.min_heavy_atoms,
        max = r.max_heavy_atoms,
    )
}

/// The feedback on one evaluated candidate, as the paper gives it: identity, the property
/// before and after the inner loop on every scale, the loss, strain and minima, and the relaxed
/// heavy-atom coordinates; or the failure.
pub fn feedback(task: &Task, eval: &MoleculeEvaluation) -> String {
    let m = &eval.molecule;
    let mut s = format!(
        "SMILES {} (canonical {}), formula {}, {} heavy atoms\n",
        m.smiles,
        m.canonical,
        m.formula,
        m.heavy_atoms()
    );
    match &eval.outcome {
        Err(f) => s.push_str(&format!(
            "evaluation failed at stage {}: {}\n",
            f.stage, f.message
        )),
        Ok(x) => {
            let p = task.property.name();
            let line = |label: &str, v: &crate::evaluate::PropertyValue| {
                format!(
                    "{label}: {p} raw GFN2 {:.3} eV, calibrated {:.3} eV, z = {:.3} (target {}), loss {:.4}\n",
                    v.raw_ev, v.calibrated_ev, v.z, task.target, v.loss
                )
            };
            s.push_str(&line("before the inner optimisation", &x.before));
            s.push_str(&line("after (reported conformer)", &x.value));
            s.push_str(&line("lowest-energy conformer", &x.global_minimum));
            s.push_str(&format!(
                "raw GFN2 HOMO {:.3} eV, LUMO {:.3} eV, gap {:.3} eV; {} minima found from {} starts, \
                 {} within {} kcal/mol; reported conformer {:.2} kcal/mol above the lowest\n",
                x.orbitals.homo_ev,
                x.orbitals.lumo_ev,
                x.orbitals.gap_ev(),
                x.minima,
                x.starts,
                x.accessible_minima,
                task.budget.energy_window_kcal,
                x.strain_kcal
            ));
            s.push_str("relaxed heavy-atom coordinates (Å):\n");
            for (sym, p) in m.heavy_symbols.iter().zip(x.heavy_coordinates()) {
                s.push_str(&format!("{sym} {:.3} {:.3} {:.3}\n", p[0], p[1], p[2]));
            }
        }
    }
    s
}

/// The feedback on a reply that screening refused.
pub fn rejection_feedback(rejection: &Rejection) -> String {
    format!("rejected before evaluation: {rejection}\n")
}
