//! `ansatz molecule eval "SMILES" [--conformers N]`: one molecule screened, relaxed by
//! GFN2-xTB and measured; its raw and calibrated HOMO, LUMO and gap printed.

use super::check::INVALID_LAW;
use ansatz_molecules::{SingleError, Tools, evaluate_smiles};
use clap::Subcommand;
use std::process::ExitCode;

/// What `ansatz molecule` does.
#[derive(Debug, Subcommand)]
pub enum MoleculeCommand {
    /// Measure one molecule: canonical SMILES, formula, InChIKey, then HOMO, LUMO and gap
    /// raw (GFN2-xTB, eV), calibrated to the B3LYP scale (eV) and normalised (QM9 z) for
    /// the lowest-energy conformer found. Needs xtb, Open Babel and Python with RDKit.
    Eval {
        /// The molecule as SMILES (H C N O F, neutral, closed shell, at least 8 heavy atoms).
        smiles: String,
        /// Starting conformers to relax (default: the tasks' setting).
        #[arg(long)]
        conformers: Option<usize>,
    },
}

/// Runs `ansatz molecule ...`: exit 0 with the table, 2 for a refused SMILES or a failed
/// evaluation (the reason on stderr), an error for a missing tool.
pub fn run(command: MoleculeCommand) -> anyhow::Result<ExitCode> {
    match command {
        MoleculeCommand::Eval { smiles, conformers } => {
            let tools = Tools::from_env()?;
            match evaluate_smiles(&smiles, conformers, &tools) {
                Ok(m) => {
                    println!("{m}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e @ (SingleError::Rejected(_) | SingleError::Failed(_))) => {
                    eprintln!("{smiles}: {e}");
                    Ok(ExitCode::from(INVALID_LAW))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
