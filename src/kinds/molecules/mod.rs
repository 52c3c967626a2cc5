//! Molecule design (SGA tasks e to h): a solution is a molecule written as SMILES (with
//! optional heavy-atom coordinates) in a ```molecule block; the screen sanitises it with
//! RDKit; the evaluation relaxes its conformers with GFN2-xTB and scores a normalised
//! HOMO, LUMO or gap against the task's target. The chemistry lives in the crate
//! `ansatz-molecules` (`kinds/molecules/`); this folder puts it on the engine.

use ansatz_engine::{
    Brief, Candidate, Detail, GoOn, Judged, LedgerError, Problem, Proposal, ProposeError, Proposer,
    ProposerKind, RoundContext, RunDir, Screening, Stage, Tokens, Verdict,
};
use ansatz_molecules::{
    Evolution, EvolutionConfig, Molecule, MoleculeEvaluation, MoleculeProblem, Rejection,
    ToolPaths, export,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How many of the best molecules the run's drawing and SDF hold.
const BEST_DRAWN: usize = 8;

/// What the ledger keeps of a molecule candidate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MoleculeDetail {
    /// The SMILES as proposed, once screened.
    pub smiles: Option<String>,
    /// Canonical SMILES (the deduplication key).
    pub canonical: Option<String>,
    /// Molecular formula.
    pub formula: Option<String>,
    /// Heavy atoms (the complexity).
    pub heavy_atoms: Option<u64>,
    /// The evaluation's full record (properties, conformers, coordinates).
    pub evaluation: Option<serde_json::Value>,
}

impl Detail for MoleculeDetail {
    fn key(&self) -> Option<&str> {
        self.canonical.as_deref()
    }

    fn complexity(&self) -> Option<u64> {
        self.heavy_atoms
    }
}

/// A molecule task as a search problem.
pub struct Molecules(pub MoleculeProblem);

impl Problem for Molecules {
    type Detail = MoleculeDetail;
    type Solution = Molecule;
    type Settings = ();

    fn name(&self) -> &str {
        &self.0.task.name
    }

    fn noun(&self) -> &str {
        "molecule"
    }

    fn start(&self) -> Option<(String, String)> {
        None
    }

    fn screen(&self, proposal: &Proposal) -> Screening<MoleculeDetail, Molecule> {
        let mut detail = MoleculeDetail::default();
        match self.0.screen(&proposal.text) {
            Ok(m) => {
                detail.smiles = Some(m.smiles.clone());
                detail.canonical = Some(MoleculeProblem::dedup_key(&m));
                detail.formula = Some(m.formula.clone());
                detail.heavy_atoms = Some(m.heavy_symbols.len() as u64);
                let shown = Some(ansatz_engine::prompt::code_section(
                    "molecule",
                    &format!("SMILES: {}", m.smiles),
                ));
                Screening {
                    detail,
                    shown,
                    outcome: Ok(m),
                }
            }
            Err(rejection) => {
                let stage = match &rejection {
                    Rejection::NoBlock(_) => Stage::Extract,
                    Rejection::Syntax { .. } => Stage::Parse,
                    _ => Stage::Type,
                };
                Screening {
                    detail,
                    shown: None,
                    outcome: Err((stage, rejection.to_string())),
                }
            }
        }
    }

    fn evaluate(
        &self,
        molecule: Molecule,
        detail: &mut MoleculeDetail,
        _: &(),
        _: &mut GoOn<'_>,
    ) -> Judged {
        let evaluation = self.0.evaluate(&molecule);
        let feedback = self.0.feedback(&evaluation);
        detail.evaluation = Some(evaluation.record());
        match &evaluation.outcome {
            Ok(_) => Judged {
                fitness: evaluation.loss(),
                verdict: Verdict::Ok {
                    note: String::new(),
                },
                feedback,
            },
            Err(failure) => Judged {
                fitness: f64::INFINITY,
                verdict: Verdict::Failed {
                    stage: match failure.stage {
                        ansatz_molecules::Stage::Timeout => Stage::Timeout,
                        _ => Stage::Evaluate,
                    },
                    message: failure.to_string(),
                },
                feedback,
            },
        }
    }

    fn brief(&self) -> Brief {
        Brief {
            system: "You are an expert chemist. You design small organic molecules and write \
                     them as SMILES. Follow the format requirements to the letter."
                .into(),
            setup: self.0.brief(),
            task: "### Task\n\nThe iterations below are molecules and how well they did. \
                   Analyse them and propose a better molecule."
                .into(),
            format: "Answer with a short analysis, then one ```molecule fenced block whose first \
                     line is `SMILES: ...` (heavy-atom coordinates may follow, one `El x y z` \
                     row per heavy atom in SMILES order)."
                .into(),
            block: "molecule".into(),
            noun: "molecule".into(),
            same_form: "their canonical SMILES are equal (one molecule, however it is written)"
                .into(),
        }
    }

    fn report_section(&self, c: &Candidate<MoleculeDetail>) -> String {
        format!(
            "```molecule\nSMILES: {}\n```\n\nFormula {}.",
            c.detail.smiles.as_deref().unwrap_or(""),
            c.detail.formula.as_deref().unwrap_or("?")
        )
    }

    /// The run's molecule files, rewritten after every round: `best.svg` (RDKit drawing of
    /// the best molecules with their losses), `best.sdf` (their relaxed 3D structures with
    /// the raw, calibrated and normalised properties) and `molecules.csv` (every evaluated
    /// molecule).
    fn report_run(
        &self,
        run: &RunDir,
        candidates: &[Candidate<MoleculeDetail>],
    ) -> Result<String, LedgerError> {
        let evals: Vec<MoleculeEvaluation> = candidates
            .iter()
            .filter_map(|c| c.detail.evaluation.clone())
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect();
        if evals.is_empty() {
            return Ok(String::new());
        }
        let best = export::best(&evals, BEST_DRAWN);
        let root = run.root();
        run.write_atomic(&root.join("molecules.csv"), export::csv(&evals).as_bytes())?;
        if best.is_empty() {
            return Ok("## Molecules

No molecule was evaluated successfully yet; every \
                       evaluated one is listed in `molecules.csv`.\n"
                .into());
        }
        run.write_atomic(
            &root.join("best.sdf"),
            export::sdf(&self.0.task, &best).as_bytes(),
        )?;
        let drawing = match export::svg(&self.0.tools.python, &best) {
            Ok(svg) => {
                run.write_atomic(&root.join("best.svg"), svg.as_bytes())?;
                "drawn in `best.svg` (RDKit)".to_string()
            }
            Err(e) => format!("not drawn ({e})"),
        };
        Ok(format!(
            "## Molecules\n\nThe {} best molecules are {drawing}; their relaxed 3D structures \
             with the GFN2-xTB properties are in `best.sdf`; every evaluated molecule is in \
             `molecules.csv`.\n",
            best.len()
        ))
    }

    fn write_best(
        &self,
        run: &RunDir,
        best: &Candidate<MoleculeDetail>,
    ) -> Result<(), LedgerError> {
        let text = serde_json::to_string_pretty(&serde_json::json!({
            "candidate": best.id,
            "smiles": best.detail.smiles,
            "canonical": best.detail.canonical,
            "loss": best.fitness,
            "evaluation": best.detail.evaluation,
        }))
        .unwrap_or_default();
        run.write_atomic(&run.root().join("best.json"), text.as_bytes())
    }
}

/// The offline proposer: the crate's graph GA, told every evaluated molecule's loss.
pub struct MoleculeEvolution(Evolution);

impl Proposer<Molecules> for MoleculeEvolution {
    fn propose(
        &mut self,
        ctx: &RoundContext<'_, Molecules>,
    ) -> Result<Vec<Proposal>, ProposeError> {
        for c in ctx.population {
            if let Some(key) = c.detail.canonical.as_deref() {
                self.0.observe(key, c.fitness);
            }
        }
        let made = self.0.propose(ctx.wanted()).map_err(|e| ProposeError {
            proposer: "evolve".into(),
            message: e.to_string(),
        })?;
        Ok(made
            .into_iter()
            .map(|p| Proposal {
                proposer: ProposerKind::Evolve,
                how: p.op,
                parents: ctx
                    .population
                    .iter()
                    .filter(|c| {
                        c.detail
                            .canonical
                            .as_ref()
                            .is_some_and(|k| p.parents.contains(k))
                    })
                    .map(|c| c.id)
                    .collect(),
                text: p.reply,
                tokens: Tokens::default(),
                error: None,
                cut: None,
            })
            .collect())
    }
}

/// The molecule kind (`kind = "molecules"`).
pub struct MoleculesKind;

impl super::ProblemKind for MoleculesKind {
    type Problem = Molecules;

    fn load(path: &Path) -> Result<(Molecules, ()), super::KindError> {
        Ok((
            Molecules(MoleculeProblem::load(path, &ToolPaths::default())?),
            (),
        ))
    }

    fn apply(_: &mut (), _: &super::Overrides) -> Result<(), super::KindError> {
        Ok(())
    }

    fn offline(problem: &Molecules, _: &()) -> Box<dyn Proposer<Molecules>> {
        Box::new(MoleculeEvolution(
            problem.0.offline_proposer(EvolutionConfig::default()),
        ))
    }

    fn answer(_: &Molecules, best: &Candidate<MoleculeDetail>) -> String {
        best.detail.smiles.clone().unwrap_or_default()
    }
}
