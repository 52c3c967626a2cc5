//! The reference optimisers of the papers as proposers of the engine: the Ehrlich paper's
//! genetic algorithm (holo-bench's `DiscreteEvolution`, one GA step per round) and LLOME (a
//! small language model trained between rounds with SFT, DPO or MargE, `ansatz-llome`),
//! whose round 0 is the same GA with the LLOME seed-data settings.
//!
//! Every oracle call goes through the engine: a GA generation is a round of the search
//! (its distinct sequences not seen before; a sequence seen earlier costs no call), and a
//! LLOME round proposes the sequences its model generated and chose for labelling. Neither
//! keeps state between rounds that is not in the run directory: the GA is replayed from the
//! ledger's values (it is deterministic for the seed), and LLOME's weights and optimiser
//! state are saved under `RUN/llome/` after each round's training, so `--resume` after a
//! SIGKILL continues with the trained weights and every labelled sequence (they are the
//! ledger's candidates).

use super::{EhrlichDetail, EhrlichProblem};
use ansatz_ehrlich::parse::to_letters;
use ansatz_ehrlich::{DiscreteEvolution, GaConfig, GaPreset, mean_pairwise_hamming};
use ansatz_engine::{
    Candidate, Proposal, ProposeError, Proposer, ProposerKind, RoundContext, Stage, Tokens,
};
use ansatz_llome::store::RunDir as LlomeDir;
use ansatz_llome::{Labelled, LlomeConfig, MargeConfig, Model, Objective, Vocab};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The offline search of a sequence task (`--sequence-search`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceSearch {
    /// Crossover and mutation of the sequences a round shows (the default).
    #[default]
    Operators,
    /// The Ehrlich paper's GA (P = 1000, p_m = p_r = 1.1/L, survival quantile 0.1), one
    /// generation per round.
    Ga,
    /// LLOME trained with SFT in every round.
    LlomeSft,
    /// LLOME with sigmoid DPO (β = 0.4) after the first round.
    LlomeDpo,
    /// LLOME with MargE as the released f2 pipeline sets it (α = 1, β = 10, self-normalised).
    LlomeMarge,
    /// LLOME with the standalone MargE settings (α = 1, β = 0.1, not self-normalised).
    LlomeMargeStandalone,
}

impl SequenceSearch {
    /// The LLOME objective of rounds 2 and later, for the LLOME variants.
    pub fn objective(self) -> Option<Objective> {
        match self {
            SequenceSearch::Operators | SequenceSearch::Ga => None,
            SequenceSearch::LlomeSft => Some(Objective::Sft),
            SequenceSearch::LlomeDpo => Some(Objective::Dpo { beta: 0.4 }),
            SequenceSearch::LlomeMarge => Some(Objective::Marge(MargeConfig::default())),
            SequenceSearch::LlomeMargeStandalone => Some(Objective::Marge(MargeConfig {
                alpha: 1.0,
                beta: 0.1,
                self_normalize: false,
            })),
        }
    }

    /// Its proposer, with the task's LLOME settings over the CPU preset (the GA and LLOME
    /// take the run's seed from each round's context).
    pub fn proposer(self, llome: Option<serde_json::Value>) -> Box<dyn Proposer<EhrlichProblem>> {
        match (self, self.objective()) {
            (SequenceSearch::Operators, _) => {
                Box::new(super::proposer::SequenceEvolution::default())
            }
            (_, None) => Box::new(ReferenceSearch {
                ga: GaPreset::Paper,
                llome: None,
                settings: None,
                ga_state: None,
            }),
            (_, Some(objective)) => Box::new(ReferenceSearch {
                ga: GaPreset::LlomeSeedData,
                llome: Some(objective),
                settings: llome,
                ga_state: None,
            }),
        }
    }
}

/// LLOME's configuration: the CPU preset for `objective` and `seed`, with `overrides` (a
/// task's `[llome]` table) merged in field by field.
pub fn llome_config(
    overrides: Option<&serde_json::Value>,
    objective: Objective,
    seed: u64,
) -> Result<LlomeConfig, String> {
    let preset = LlomeConfig::cpu_preset(objective, seed);
    let Some(overrides) = overrides else {
        return Ok(preset);
    };
    fn merge(
        base: &mut serde_json::Value,
        over: &serde_json::Value,
        path: &str,
    ) -> Result<(), String> {
        match (base, over) {
            (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
                for (k, v) in o {
                    let here = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    let Some(slot) = b.get_mut(k) else {
                        let known: Vec<&str> = b.keys().map(String::as_str).collect();
                        return Err(format!(
                            "unknown setting `{here}` (known here: {})",
                            known.join(", ")
                        ));
                    };
                    merge(slot, v, &here)?;
                }
                Ok(())
            }
            (b, o) => {
                *b = o.clone();
                Ok(())
            }
        }
    }
    for fixed in ["seed", "objective"] {
        if overrides.get(fixed).is_some() {
            return Err(format!(
                "`{fixed}` is not set here (the run's --seed and --sequence-search set it)"
            ));
        }
    }
    let mut value = serde_json::to_value(&preset).map_err(|e| e.to_string())?;
    merge(&mut value, overrides, "")?;
    let mut config: LlomeConfig = serde_json::from_value(value).map_err(|e| e.to_string())?;
    config.ga.seed = seed;
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

/// The GA, then (when `llome` is set) LLOME.
pub struct ReferenceSearch {
    /// The GA's settings (population, rates, survival) when the GA runs alone; LLOME's
    /// round 0 uses its configuration's GA.
    pub ga: GaPreset,
    /// The LLOME objective; `None`: the GA for the whole run.
    pub llome: Option<Objective>,
    /// LLOME's settings over the CPU preset (a task's `[llome]` table).
    pub settings: Option<serde_json::Value>,
    /// The GA after its last generation proposed, so that a round steps it once; a fresh
    /// or resumed proposer replays the generations from the ledger's values instead.
    ga_state: Option<(usize, DiscreteEvolution)>,
}

/// One line of `RUN/llome/rounds.jsonl`: what a LLOME round did before its labels came back,
/// and (once the next round has read them) what the oracle said.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlomeRound {
    /// The LLOME round (1 = the first trained model).
    pub llome_round: usize,
    /// The search round its proposals belong to.
    pub search_round: usize,
    /// Labelled sequences it trained on.
    pub labels: usize,
    /// Sequences proposed for labelling.
    pub proposed: usize,
    /// Its training and generation.
    #[serde(flatten)]
    pub work: ansatz_llome::RoundWork,
    /// Of the proposed sequences the oracle labelled: the feasible fraction (next round).
    pub feasible_fraction: Option<f64>,
    /// Their mean pairwise Hamming distance / L (next round).
    pub diversity: Option<f64>,
    /// Spearman correlation of the model's log-likelihood with f over them (next round).
    pub calibration: Option<f64>,
}

impl LlomeRound {
    /// Records what the oracle said of the round's proposals: `labelled` are the sequences
    /// of its search round with their values, `candidates` the round's generated sequences
    /// with the model's log-likelihoods (its `candidates_K.json`).
    pub fn record_outcome(
        &mut self,
        labelled: &[Labelled],
        candidates: &[ansatz_llome::Candidate],
    ) {
        let n = labelled.len().max(1) as f64;
        self.feasible_fraction =
            Some(labelled.iter().filter(|l| l.value.is_finite()).count() as f64 / n);
        self.diversity = Some(diversity(labelled));
        self.calibration = ansatz_llome::calibration(candidates, labelled);
    }
}

/// The mean pairwise Hamming distance / L of (the first 2,000 of) a round's sequences.
fn diversity(labelled: &[Labelled]) -> f64 {
    let xs: Vec<Vec<u32>> = labelled.iter().take(2000).map(|l| l.x.clone()).collect();
    mean_pairwise_hamming(&xs)
}

fn error(message: impl std::fmt::Display) -> ProposeError {
    ProposeError {
        proposer: "evolve".into(),
        message: message.to_string(),
    }
}

/// Every evaluated sequence of the run with its value (−∞: infeasible), by round.
pub(super) fn labelled(population: &[Candidate<EhrlichDetail>]) -> Vec<(usize, Labelled)> {
    population
        .iter()
        .filter_map(|c| {
            let x = c.detail.sequence.clone()?;
            let value = match (&c.detail.value, c.failed_stage()) {
                (Some(v), None) => *v,
                (None, Some(Stage::Evaluate)) => f64::NEG_INFINITY,
                _ => return None,
            };
            Some((c.round, Labelled { x, value }))
        })
        .collect()
}

/// The proposals of a round: the distinct sequences of `xs` that the run has not labelled
/// (`known`, infeasible ones included: the engine lets a failed candidate's key go) and that
/// are not among its deduplication keys (`seen`).
fn proposals(
    xs: &[Vec<u32>],
    how: &str,
    seen: &BTreeSet<String>,
    known: &HashSet<Vec<u32>>,
) -> Vec<Proposal> {
    let mut made = HashSet::new();
    xs.iter()
        .filter(|x| !known.contains(*x))
        .filter_map(|x| to_letters(x))
        .filter(|t| !seen.contains(t) && made.insert(t.clone()))
        .map(|text| Proposal {
            proposer: ProposerKind::Evolve,
            how: how.to_string(),
            parents: Vec::new(),
            text,
            tokens: Tokens::default(),
            error: None,
            cut: None,
        })
        .collect()
}

impl ReferenceSearch {
    fn ga_config(&self, ctx: &RoundContext<'_, EhrlichProblem>) -> Result<GaConfig, ProposeError> {
        match self.llome {
            Some(objective) => Ok(self.config(objective, ctx.seed)?.ga),
            None => Ok(self.ga.config(ctx.problem.function.dim(), ctx.seed)),
        }
    }

    fn ga_name(&self) -> &'static str {
        match self.llome {
            Some(_) => "LLOME seed data",
            None => self.ga.name(),
        }
    }

    fn config(&self, objective: Objective, seed: u64) -> Result<LlomeConfig, ProposeError> {
        llome_config(self.settings.as_ref(), objective, seed).map_err(error)
    }

    /// GA generation `generation` (0 = copies of the start), replayed from the values the
    /// ledger holds for generations `0..generation`.
    fn generation(
        &mut self,
        ctx: &RoundContext<'_, EhrlichProblem>,
        values: &HashMap<Vec<u32>, f64>,
        generation: usize,
    ) -> Result<Vec<Vec<u32>>, ProposeError> {
        let f = &ctx.problem.function;
        let (from, mut ga) = match self.ga_state.take() {
            Some((g, ga)) if g <= generation => (g, ga),
            _ => (
                0,
                DiscreteEvolution::for_function(self.ga_config(ctx)?, f).map_err(error)?,
            ),
        };
        for g in from..generation {
            if let Some(x) = ga.particles().iter().find(|x| !values.contains_key(*x)) {
                return Err(error(format!(
                    "GA generation {g}: the sequence {} has no value in the ledger (was its \
                     round cut short?)",
                    to_letters(x).unwrap_or_default()
                )));
            }
            ga.step(|x| values.get(x).copied().unwrap_or(f64::NEG_INFINITY));
        }
        let particles = ga.particles().to_vec();
        self.ga_state = Some((generation, ga));
        Ok(particles)
    }

    fn llome_round(
        &self,
        ctx: &RoundContext<'_, EhrlichProblem>,
        objective: Objective,
        k: usize,
        labels: &[(usize, Labelled)],
    ) -> Result<Vec<Proposal>, ProposeError> {
        let f = &ctx.problem.function;
        let config = self.config(objective, ctx.seed)?;
        let dir = LlomeDir::open(&ctx.run.root().join("llome"), &config).map_err(error)?;
        let previous_round = ctx.round - 1;
        let last: Vec<Labelled> = labels
            .iter()
            .filter(|(r, _)| *r == previous_round)
            .map(|(_, l)| l.clone())
            .collect();
        // Round 1 trains on all the GA data; later rounds on the last round's labels (or on
        // all of them, as the configuration says, or when the last round labelled nothing).
        let training: Vec<Labelled> = if k == 1 || config.train_on_all_labels || last.is_empty() {
            labels.iter().map(|(_, l)| l.clone()).collect()
        } else {
            last.clone()
        };
        let known: HashSet<Vec<u32>> = labels.iter().map(|(_, l)| l.x.clone()).collect();
        let model = Model::new(
            config.model.model_config(f.num_states(), f.dim()),
            config.seed,
        )
        .map_err(error)?;
        let vocab = Vocab::new(f.num_states());
        let p = ansatz_llome::propose_round(
            &model,
            &vocab,
            &training,
            &known,
            &config,
            k,
            (k > 1).then(|| diversity(&last)),
            &dir,
        )
        .map_err(error)?;
        // The record of this round, and the oracle's answer to the last one.
        let mut records: Vec<LlomeRound> = dir.read_lines("rounds.jsonl").map_err(error)?;
        records.retain(|r| r.llome_round < k);
        if let Some(prev) = records.iter_mut().find(|r| r.llome_round + 1 == k) {
            let candidates: Vec<ansatz_llome::Candidate> = dir
                .read_json(&format!("candidates_{}.json", k - 1))
                .unwrap_or_default();
            prev.record_outcome(&last, &candidates);
        }
        dir.write_json(&format!("candidates_{k}.json"), &p.report.candidates)
            .map_err(error)?;
        records.push(LlomeRound {
            llome_round: k,
            search_round: ctx.round,
            labels: training.len(),
            proposed: p.chosen.len(),
            work: p.work.clone(),
            feasible_fraction: None,
            diversity: None,
            calibration: None,
        });
        dir.write_lines("rounds.jsonl", &records).map_err(error)?;
        let how = format!("llome round {k} ({})", p.work.objective);
        Ok(proposals(&p.chosen, &how, ctx.seen, &known))
    }
}

impl Proposer<EhrlichProblem> for ReferenceSearch {
    fn propose(
        &mut self,
        ctx: &RoundContext<'_, EhrlichProblem>,
    ) -> Result<Vec<Proposal>, ProposeError> {
        let labels = labelled(ctx.population);
        // Round r of the search proposes GA generation r (generation 0 is the start, the
        // search's round 0); LLOME's round k follows the GA's `ga_steps` generations.
        let ga_rounds = match self.llome {
            Some(objective) => self.config(objective, ctx.seed)?.ga_steps - 1,
            None => usize::MAX,
        };
        if ctx.round <= ga_rounds {
            let values: HashMap<Vec<u32>, f64> =
                labels.iter().map(|(_, l)| (l.x.clone(), l.value)).collect();
            let xs = self.generation(ctx, &values, ctx.round)?;
            let how = format!("GA generation {} ({})", ctx.round, self.ga_name());
            let known: HashSet<Vec<u32>> = values.into_keys().collect();
            return Ok(proposals(&xs, &how, ctx.seen, &known));
        }
        let objective = self.llome.ok_or_else(|| error("no LLOME objective"))?;
        self.llome_round(ctx, objective, ctx.round - ga_rounds, &labels)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> serde_json::Value {
        serde_json::to_value(text.parse::<toml::Table>().expect("toml")).expect("json")
    }

    #[test]
    fn a_round_outcome_is_its_labels_feasible_fraction_diversity_and_calibration() {
        let x = |v: [u32; 4]| v.to_vec();
        let labelled = [
            Labelled { x: x([0, 1, 2, 3]), value: 0.5 },
            Labelled { x: x([0, 1, 2, 0]), value: f64::NEG_INFINITY },
            Labelled { x: x([1, 1, 2, 3]), value: 1.0 },
            Labelled { x: x([3, 2, 1, 0]), value: 0.25 },
        ];
        // The model's likelihood ranks the sequences as their values do (infeasible as 0).
        let generated: Vec<ansatz_llome::Candidate> = [(-2.0, 1), (-0.5, 2), (-1.0, 0), (-1.5, 3)]
            .iter()
            .map(|&(loglik, i)| ansatz_llome::Candidate {
                x: labelled[i].x.clone(),
                loglik,
            })
            .collect();
        let mut r = LlomeRound {
            llome_round: 1,
            search_round: 10,
            labels: 0,
            proposed: 4,
            work: Default::default(),
            feasible_fraction: None,
            diversity: None,
            calibration: None,
        };
        r.record_outcome(&labelled, &generated);
        assert_eq!(r.feasible_fraction, Some(0.75));
        // Hamming distances: 1, 1, 4, 2, 3, 4 over 6 pairs, / L = 4.
        assert!((r.diversity.expect("diversity") - 15.0 / 24.0).abs() < 1e-12);
        assert!((r.calibration.expect("calibration") - 1.0).abs() < 1e-12);
        // Reversed likelihoods: anti-calibrated.
        let reversed: Vec<ansatz_llome::Candidate> = generated
            .iter()
            .map(|c| ansatz_llome::Candidate { x: c.x.clone(), loglik: -3.0 - c.loglik })
            .collect();
        r.record_outcome(&labelled, &reversed);
        assert!((r.calibration.expect("calibration") + 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_task_llome_table_changes_only_the_fields_it_names() {
        let over = table("labels_per_round = 24\n[model]\nd_model = 32\n[ga]\nnum_particles = 200");
        let c = llome_config(Some(&over), Objective::Sft, 7).expect("merges");
        let preset = LlomeConfig::cpu_preset(Objective::Sft, 7);
        assert_eq!(c.labels_per_round, 24);
        assert_eq!(c.model.d_model, 32);
        assert_eq!(c.model.n_layers, preset.model.n_layers);
        assert_eq!(c.ga.num_particles, 200);
        assert_eq!(c.ga.mutation_prob, preset.ga.mutation_prob);
        assert_eq!((c.seed, c.ga.seed), (7, 7));
        assert_eq!(
            llome_config(None, Objective::Sft, 7).expect("preset"),
            preset
        );
    }

    #[test]
    fn a_wrong_llome_setting_is_named() {
        let e = llome_config(Some(&table("[model]\nd_modle = 3")), Objective::Sft, 0)
            .expect_err("typo");
        assert!(e.contains("model.d_modle") && e.contains("d_model"), "{e}");
        let e = llome_config(Some(&table("seed = 3")), Objective::Sft, 0).expect_err("seed");
        assert!(e.contains("--seed"), "{e}");
        let e = llome_config(Some(&table("labels_per_round = -1")), Objective::Sft, 0)
            .expect_err("negative");
        assert!(!e.is_empty());
        let e = llome_config(Some(&table("labels_per_round = 0")), Objective::Sft, 0)
            .expect_err("zero");
        assert!(e.contains("labels_per_round"), "{e}");
    }
}
