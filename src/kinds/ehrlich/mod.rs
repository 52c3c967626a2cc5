//! Constrained sequence design on Ehrlich functions (LLOME's test functions, holo-bench): a
//! solution is a sequence of L states over an alphabet of v letters; its value is 1 at the
//! optimum, lower when the c hidden motifs are only partly present, and −∞ (infeasible)
//! when two neighbouring states form a banned transition. There is nothing continuous to
//! fit: the evaluation is the function itself, explained (banned transitions with their
//! positions, the presence of each motif) for the feedback. The fitness is the regret
//! 1 − f; an infeasible sequence fails at the evaluate stage with the transitions named.

pub mod compare;
pub mod proposer;
pub mod report;
pub mod search;
pub mod task;

use ansatz_ehrlich::parse::to_letters;
use ansatz_ehrlich::{Ehrlich, parse_sequence};
use ansatz_engine::extract::{Fence, extract};
use ansatz_engine::prompt::code_section;
use ansatz_engine::{
    Brief, Candidate, Detail, GoOn, Judged, LedgerError, Problem, Proposal, RunDir, Screening,
    Stage, Verdict,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The fenced block sequences are written in.
pub const FENCE: Fence<'static> = Fence {
    tag: "sequence",
    noun: "sequence",
    language: "letters of the alphabet (or a JSON list of state numbers)",
};

/// What the ledger keeps of a sequence candidate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EhrlichDetail {
    /// The sequence as state numbers, once parsed.
    pub sequence: Option<Vec<u32>>,
    /// The sequence in letters (the deduplication key), once parsed.
    pub letters: Option<String>,
    /// The function's value f (None: not evaluated or infeasible).
    pub value: Option<f64>,
    /// The presence of each motif, in [0, 1].
    pub motifs: Vec<f64>,
}

impl Detail for EhrlichDetail {
    fn key(&self) -> Option<&str> {
        self.letters.as_deref()
    }
}

/// The settings of a sequence search, saved with the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EhrlichSettings {
    /// The offline search (`--sequence-search`).
    pub search: search::SequenceSearch,
    /// The task's `[llome]` table: LLOME's settings over the CPU preset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llome: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for EhrlichSettings {
    /// Runs made before the setting existed saved `null`: the default search.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Saved {
            #[serde(default)]
            search: search::SequenceSearch,
            #[serde(default)]
            llome: Option<serde_json::Value>,
        }
        Ok(Option::<Saved>::deserialize(d)?
            .map(|s| EhrlichSettings {
                search: s.search,
                llome: s.llome,
            })
            .unwrap_or_default())
    }
}

/// An Ehrlich function to maximise, as a search problem.
pub struct EhrlichProblem {
    /// The task's name.
    pub name: String,
    /// The function.
    pub function: Ehrlich,
}

impl EhrlichProblem {
    fn alphabet(&self) -> String {
        to_letters(&(0..self.function.num_states() as u32).collect::<Vec<_>>()).unwrap_or_default()
    }
}

impl Problem for EhrlichProblem {
    type Detail = EhrlichDetail;
    type Solution = Vec<u32>;
    type Settings = EhrlichSettings;

    fn name(&self) -> &str {
        &self.name
    }

    fn noun(&self) -> &str {
        "sequence"
    }

    fn start(&self) -> Option<(String, String)> {
        let text = to_letters(self.function.initial_solution())?;
        Some(("the function's initial solution".into(), text))
    }

    fn screen(&self, proposal: &Proposal) -> Screening<EhrlichDetail, Vec<u32>> {
        let mut detail = EhrlichDetail::default();
        let text = &proposal.text;
        let body = if proposal.proposer.writes_replies() || text.contains("```") {
            match extract(text, &FENCE) {
                Ok(e) => e.body,
                Err(message) => {
                    return Screening {
                        detail,
                        shown: None,
                        outcome: Err((Stage::Extract, message)),
                    };
                }
            }
        } else {
            text.clone()
        };
        let shown = Some(code_section(FENCE.tag, &body));
        match parse_sequence(&body, self.function.dim(), self.function.num_states()) {
            Ok(x) => {
                detail.letters = to_letters(&x);
                detail.sequence = Some(x.clone());
                Screening {
                    detail,
                    shown,
                    outcome: Ok(x),
                }
            }
            Err(e) => Screening {
                detail,
                shown,
                outcome: Err((Stage::Parse, e.to_string())),
            },
        }
    }

    fn evaluate(
        &self,
        x: Vec<u32>,
        detail: &mut EhrlichDetail,
        _: &EhrlichSettings,
        _: &mut GoOn<'_>,
    ) -> Judged {
        let explanation = match self.function.explain(&x) {
            Ok(e) => e,
            Err(e) => {
                return Judged {
                    fitness: f64::INFINITY,
                    verdict: Verdict::Failed {
                        stage: Stage::Evaluate,
                        message: e.to_string(),
                    },
                    feedback: format!("The sequence could not be evaluated: {e}"),
                };
            }
        };
        detail.motifs = explanation.motifs.iter().map(|m| m.present).collect();
        let summary = explanation.summary();
        if explanation.value.is_finite() {
            detail.value = Some(explanation.value);
            Judged {
                fitness: 1.0 - explanation.value,
                verdict: Verdict::Ok {
                    note: String::new(),
                },
                feedback: format!(
                    "Value: {} (1 is the optimum; regret {:.6e}).\n{summary}",
                    explanation.value,
                    1.0 - explanation.value
                ),
            }
        } else {
            Judged {
                fitness: f64::INFINITY,
                verdict: Verdict::Failed {
                    stage: Stage::Evaluate,
                    message: summary.lines().next().unwrap_or("infeasible").to_string(),
                },
                feedback: format!("The sequence is infeasible (value −∞).\n{summary}"),
            }
        }
    }

    fn brief(&self) -> Brief {
        let f = &self.function;
        Brief {
            system: "You are an expert in discrete optimisation. You propose sequences that \
                     maximise a black-box objective under hard constraints. Follow the format \
                     requirements to the letter."
                .into(),
            setup: format!(
                "### Context\n\nA sequence is {} states, each a letter of the alphabet `{}` \
                 (state 0 is `A`). Its value is in [0, 1], 1 at the optimum: it rewards {} \
                 hidden motifs of {} states each, placed with hidden spacings, and counts a \
                 motif's presence in {} levels. Some pairs of neighbouring states are banned: a \
                 sequence containing one is infeasible (value −∞), and the feedback names where.",
                f.dim(),
                self.alphabet(),
                f.num_motifs(),
                f.motif_length(),
                f.quantization()
            ),
            task: "### Task\n\nThe iterations below are sequences and how well they did. \
                   Analyse them and write a better sequence."
                .into(),
            format: format!(
                "Answer with a short analysis, then exactly one ```sequence fenced block holding \
                 one sequence of {} letters (spaces are ignored).",
                f.dim()
            ),
            block: FENCE.tag.into(),
            noun: "sequence".into(),
            same_form: String::new(),
        }
    }

    fn report_section(&self, c: &Candidate<EhrlichDetail>) -> String {
        let motifs: Vec<String> = c.detail.motifs.iter().map(|m| format!("{m}")).collect();
        format!(
            "```sequence\n{}\n```\n\nValue {}; motif presence {}.",
            c.detail.letters.as_deref().unwrap_or(""),
            c.detail.value.map_or("−∞".into(), |v| v.to_string()),
            motifs.join(", ")
        )
    }

    fn report_run(
        &self,
        run: &RunDir,
        candidates: &[Candidate<EhrlichDetail>],
    ) -> Result<String, LedgerError> {
        report::write(run, &self.name, candidates)
    }

    fn write_best(&self, run: &RunDir, best: &Candidate<EhrlichDetail>) -> Result<(), LedgerError> {
        let json = serde_json::json!({
            "candidate": best.id,
            "sequence": best.detail.sequence,
            "letters": best.detail.letters,
            "value": best.detail.value,
            "regret": best.fitness,
            "motifs": best.detail.motifs,
        });
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        run.write_atomic(&run.root().join("best.json"), text.as_bytes())
    }
}

/// The Ehrlich kind (`kind = "ehrlich"`).
pub struct EhrlichKind;

impl super::ProblemKind for EhrlichKind {
    type Problem = EhrlichProblem;

    fn load(path: &Path) -> Result<(EhrlichProblem, EhrlichSettings), super::KindError> {
        let (task, function) = task::EhrlichTask::load(path)?;
        let llome = match task.llome {
            Some(table) => {
                let value = serde_json::to_value(table)
                    .map_err(|e| format!("{}: [llome]: {e}", path.display()))?;
                // Checked now, so that a wrong field fails before the search starts.
                search::llome_config(Some(&value), ansatz_llome::Objective::Sft, 0)
                    .map_err(|e| format!("{}: [llome]: {e}", path.display()))?;
                Some(value)
            }
            None => None,
        };
        Ok((
            EhrlichProblem {
                name: task.name,
                function,
            },
            EhrlichSettings {
                search: search::SequenceSearch::default(),
                llome,
            },
        ))
    }

    fn apply(settings: &mut EhrlichSettings, o: &super::Overrides) -> Result<(), super::KindError> {
        if let Some(search) = o.sequence_search {
            settings.search = search;
        }
        Ok(())
    }

    fn offline(
        _: &EhrlichProblem,
        settings: &EhrlichSettings,
    ) -> Box<dyn ansatz_engine::Proposer<EhrlichProblem>> {
        settings.search.proposer(settings.llome.clone())
    }

    fn answer(_: &EhrlichProblem, best: &Candidate<EhrlichDetail>) -> String {
        format!(
            "{} (value {})",
            best.detail.letters.as_deref().unwrap_or(""),
            best.detail.value.map_or("−∞".into(), |v| v.to_string())
        )
    }
}
