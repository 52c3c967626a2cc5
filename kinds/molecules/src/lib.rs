//! Molecule design (SGA tasks e–h): a proposer writes a SMILES (optionally with heavy-atom
//! coordinates), the crate screens it with RDKit, relaxes several conformations with GFN2-xTB
//! and scores the HOMO, LUMO or gap against a target on the QM9-normalised B3LYP scale.
//!
//! ```no_run
//! use ansatz_molecules::{MoleculeProblem, ToolPaths};
//! let problem = MoleculeProblem::builtin("gap_minus2", &ToolPaths::default())
//!     .expect("xtb, obabel and python3-rdkit installed");
//! let reply = "```molecule\nSMILES: Cc1ccccc1O\n```";
//! let molecule = problem.screen(reply).expect("a valid molecule");
//! assert_eq!(MoleculeProblem::dedup_key(&molecule), "Cc1ccccc1O");
//! let eval = problem.evaluate(&molecule);
//! println!("loss {:.4}\n{}", eval.loss(), problem.feedback(&eval));
//! ```
//!
//! Pieces (notes: `docs/notes/molecules.md`):
//! - [`task`]: [`Task`] from TOML (`tasks/molecule_{homo,lumo,gap,gap_minus2}.toml`): property,
//!   normalised target, QM9 statistics, the versioned GFN2→B3LYP linear calibration, rules;
//! - [`tools`]: finding Python-with-RDKit, `xtb`, `obabel` (typed error naming the `apt-get
//!   install` when missing; never a substitute);
//! - [`block`] and [`screen`]: reading the ```` ```molecule ```` block and refusing bad
//!   molecules with a precise [`Rejection`] before any quantum chemistry;
//! - [`evaluate`]: relax-and-select over ETKDG (+ the proposer's) conformers with `xtb --opt`,
//!   `OMP_NUM_THREADS=1`, a temp dir and a time limit per run; [`evaluate_many`] in parallel;
//! - [`evolution`]: the offline graph-GA proposer; [`prompt`]: brief and feedback texts;
//!   [`export`]: SDF, XYZ, SVG, CSV; [`problem`]: all of it bundled as [`MoleculeProblem`];
//! - [`helper`]: the bundled RDKit helper (`python/rdkit_helper.py`), [`xtb`] and
//!   [`geometry`]: xtb runs and parsers, bond checks, Open Babel embedding, MOL/SDF text;
//!   [`process`]: running a tool with a time limit; [`single`]: one SMILES measured
//!   (`ansatz molecule eval`).

#![warn(missing_docs)]

pub mod block;
pub mod error;
pub mod evaluate;
pub mod evolution;
pub mod export;
pub mod geometry;
pub mod helper;
pub mod problem;
pub mod process;
pub mod prompt;
pub mod screen;
pub mod single;
pub mod task;
pub mod tools;
pub mod xtb;

pub use error::{EvaluationFailure, Rejection, Stage, TaskError, ToolError};
pub use evaluate::{Measured, MoleculeEvaluation, PropertyValue, evaluate, evaluate_many};
pub use evolution::{Evolution, EvolutionConfig, OfflineRun, Proposal, RoundReport, run_offline};
pub use problem::{MoleculeProblem, ProblemError};
pub use screen::{Molecule, screen, screen_many};
pub use single::{PropertyRow, SingleError, SingleMolecule, evaluate_smiles};
pub use task::{Budget, Calibration, Normalisation, Property, Rules, Task};
pub use tools::{ToolPaths, Tools};
pub use xtb::Orbitals;
