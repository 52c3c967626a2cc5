//! The LLOME outer loop: round 0 from the GA, then rounds of pair construction, training,
//! generation and labelling, with a record per round and a resumable run directory.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Instant;

use ansatz_ehrlich::{DiscreteEvolution, Ehrlich};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::LlomeConfig;
use crate::error::{LlomeError, Result};
use crate::generate::{Candidate, GenerationReport, generate, temperature_shift};
use crate::model::Model;
use crate::optim::AdamW;
use crate::pairs::{
    Labelled, build_pairs, build_triples, feasible_or_zero, mean_pairwise_hamming,
    seeds_from_pairs, select_for_labelling,
};
use crate::store::{Phase, Progress, RunDir};
use crate::train::{Objective, train_round};
use crate::vocab::Vocab;

/// What a round did before the oracle labelled its choice: training and generation. Part
/// of a standalone run's `rounds.jsonl` line ([`RoundRecord`]) and of a search's
/// `RUN/llome/rounds.jsonl` line, flattened into each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundWork {
    /// Objective trained this round (`ga` for round 0).
    pub objective: String,
    /// Training pairs (or DPO triples) built from the previous labels.
    pub pairs: usize,
    /// Mean training loss of the first and last epoch.
    pub train_loss: Option<(f64, f64)>,
    /// Model outputs generated.
    pub generated: usize,
    /// Outputs that parsed into a sequence.
    pub parsed: usize,
    /// Rejected outputs by reason.
    pub rejected: BTreeMap<String, usize>,
    /// Temperature shift used (anti-collapse).
    pub temperature_shift: f64,
    /// Seconds of training (near 0 when this round's weights were loaded).
    pub train_seconds: f64,
    /// Seconds of generation.
    pub generate_seconds: f64,
}

/// One line of `rounds.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// Round index (0 = GA data).
    pub round: usize,
    /// Training and generation.
    #[serde(flatten)]
    pub work: RoundWork,
    /// Sequences labelled by the oracle this round.
    pub labelled: usize,
    /// Oracle calls so far (round 0: GA evaluations, duplicates included).
    pub oracle_calls: usize,
    /// Fraction of this round's labelled sequences that are feasible.
    pub feasible_fraction: f64,
    /// Mean pairwise Hamming distance (fraction of L) of this round's labelled sequences.
    pub diversity: f64,
    /// Spearman correlation between model log-likelihood and f̃ over this round's labels.
    pub calibration: Option<f64>,
    /// Best f among this round's labels (`null` if none feasible).
    #[serde(with = "crate::pairs::serde_value")]
    pub best_value: f64,
    /// Best f so far.
    #[serde(with = "crate::pairs::serde_value")]
    pub running_best: f64,
    /// 1 − running best (1 when nothing feasible was seen).
    pub regret: f64,
    /// Wall-clock seconds of the round.
    pub seconds: f64,
}

/// The records of a run, one per completed round.
pub type RoundReports = Vec<RoundRecord>;

fn rng_for(seed: u64, round: usize, purpose: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(((round as u64) << 8) | purpose);
    r
}

fn model_name(round: usize) -> String {
    format!("model_{round}.safetensors")
}
fn optim_name(round: usize) -> String {
    format!("optim_{round}.safetensors")
}
fn labels_name(round: usize) -> String {
    format!("labels_{round}.json")
}
fn train_name(round: usize) -> String {
    format!("train_{round}.json")
}
fn candidates_name(round: usize) -> String {
    format!("candidates_{round}.json")
}

/// Round 0: the GA from the function's initial solution; every distinct particle seen, with its
/// value, and the number of oracle calls (P per step).
pub fn ga_round(f: &Ehrlich, cfg: &LlomeConfig) -> Result<(Vec<Labelled>, usize)> {
    let mut ga = DiscreteEvolution::for_function(cfg.ga.clone(), f)?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut calls = 0;
    for _ in 0..cfg.ga_steps {
        for x in ga.particles() {
            if seen.insert(x.clone()) {
                out.push(Labelled {
                    x: x.clone(),
                    value: f.evaluate(x)?,
                });
            }
        }
        calls += ga.particles().len();
        ga.step(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY));
    }
    Ok((out, calls))
}

fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    fn ranks(v: &[f64]) -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            for k in i..=j {
                r[idx[k]] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        r
    }
    if a.len() < 3 {
        return None;
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

fn summary(labels: &[Labelled]) -> (f64, f64, f64) {
    let n = labels.len().max(1) as f64;
    let feas = labels.iter().filter(|l| l.value.is_finite()).count() as f64 / n;
    let xs: Vec<Vec<u32>> = labels.iter().take(2000).map(|l| l.x.clone()).collect();
    let best = labels
        .iter()
        .map(|l| l.value)
        .fold(f64::NEG_INFINITY, f64::max);
    (feas, mean_pairwise_hamming(&xs), best)
}

/// Runs (or resumes) LLOME on `f`, writing into `out_dir`; returns the record of every round.
pub fn run(f: &Ehrlich, config: &LlomeConfig, out_dir: &Path) -> Result<RoundReports> {
    config.validate()?;
    let dir = RunDir::open(out_dir, config)?;
    let vocab = Vocab::new(f.num_states());
    let mcfg = config.model.model_config(f.num_states(), f.dim());
    let mut records: RoundReports = dir.read_lines("rounds.jsonl")?;
    let progress = dir.progress()?;
    let completed = match progress {
        Some(Progress { round, phase }) => match phase {
            Phase::Labelled => Some(round),
            Phase::Trained => round.checked_sub(1),
        },
        None => None,
    };
    records.retain(|r| completed.is_some_and(|c| r.round <= c));
    let save_records = |records: &RoundReports| dir.write_lines("rounds.jsonl", records);
    if completed.is_none() {
        let t0 = Instant::now();
        let (labels, calls) = ga_round(f, config)?;
        let (feas, div, best) = summary(&labels);
        dir.write_json(&labels_name(0), &labels)?;
        records = vec![RoundRecord {
            round: 0,
            work: RoundWork {
                objective: "ga".into(),
                pairs: 0,
                train_loss: None,
                generated: calls,
                parsed: calls,
                rejected: BTreeMap::new(),
                temperature_shift: 0.0,
                train_seconds: 0.0,
                generate_seconds: 0.0,
            },
            labelled: labels.len(),
            oracle_calls: calls,
            feasible_fraction: feas,
            diversity: div,
            calibration: None,
            best_value: best,
            running_best: best,
            regret: 1.0 - feasible_or_zero(best),
            seconds: t0.elapsed().as_secs_f64(),
        }];
        save_records(&records)?;
        dir.write_json(
            "state.json",
            &Progress {
                round: 0,
                phase: Phase::Labelled,
            },
        )?;
    }
    let model = Model::new(mcfg, config.seed)?;
    let start = completed.map_or(1, |c| c + 1);
    for round in start..=config.rounds {
        let t0 = Instant::now();
        let last = records
            .last()
            .ok_or_else(|| LlomeError::Config("run directory has no round 0 record".into()))?
            .clone();
        let mut labels: Vec<Labelled> = Vec::new();
        let first = if config.train_on_all_labels {
            0
        } else {
            round - 1
        };
        for r in first..round {
            let l: Vec<Labelled> = dir.read_json(&labels_name(r))?;
            labels.extend(l);
        }
        let proposed = propose_round(
            &model,
            &vocab,
            &labels,
            &known_before(&dir, round)?,
            config,
            round,
            (round > 1).then_some(last.diversity),
            &dir,
        )?;
        let Proposed {
            work,
            report,
            chosen,
        } = proposed;
        let new_labels: Vec<Labelled> = chosen
            .into_iter()
            .map(|x| {
                let value = f.evaluate(&x)?;
                Ok(Labelled { x, value })
            })
            .collect::<Result<_>>()?;
        let calibration = calibration(&report.candidates, &new_labels);
        let (feas, div, best) = summary(&new_labels);
        let running = last.running_best.max(best);
        dir.write_json(&labels_name(round), &new_labels)?;
        dir.write_json(&candidates_name(round), &report.candidates)?;
        records.push(RoundRecord {
            round,
            work,
            labelled: new_labels.len(),
            oracle_calls: last.oracle_calls + new_labels.len(),
            feasible_fraction: feas,
            diversity: div,
            calibration,
            best_value: best,
            running_best: running,
            regret: 1.0 - feasible_or_zero(running),
            seconds: t0.elapsed().as_secs_f64(),
        });
        save_records(&records)?;
        dir.write_json(
            "state.json",
            &Progress {
                round,
                phase: Phase::Labelled,
            },
        )?;
    }
    Ok(records)
}

/// Every sequence labelled in rounds `0..round` of a standalone run.
fn known_before(dir: &RunDir, round: usize) -> Result<HashSet<Vec<u32>>> {
    let mut known = HashSet::new();
    for r in 0..round {
        let l: Vec<Labelled> = dir.read_json(&labels_name(r))?;
        known.extend(l.into_iter().map(|l| l.x));
    }
    Ok(known)
}

/// What one LLOME round made before the oracle labels its choice.
#[derive(Debug, Clone)]
pub struct Proposed {
    /// Its training and generation.
    pub work: RoundWork,
    /// Every generated candidate that parsed, with its log-likelihood.
    pub report: GenerationReport,
    /// The sequences chosen for the oracle (at most `labels_per_round`, none in `known`).
    pub chosen: Vec<Vec<u32>>,
}

/// LLOME round `round` (1-based) up to labelling, shared by [`run`] and the search
/// proposer: pairs from `labels` (round 1 trains SFT from `model`'s initial weights, later
/// rounds start from the weights `dir` holds for round − 1), training, the generation loop
/// with the temperature shift for `previous_diversity`, and the choice of sequences not in
/// `known`. The trained weights and optimiser state are saved in `dir` before anything is
/// generated; when `dir` already holds this round's (a run killed after training), they are
/// loaded instead of trained again. Deterministic for the config's seed and the round.
#[allow(clippy::too_many_arguments)]
pub fn propose_round(
    model: &Model,
    vocab: &Vocab,
    labels: &[Labelled],
    known: &HashSet<Vec<u32>>,
    config: &LlomeConfig,
    round: usize,
    previous_diversity: Option<f64>,
    dir: &RunDir,
) -> Result<Proposed> {
    if round == 0 {
        return Err(LlomeError::Config(
            "LLOME rounds start at 1 (round 0 is the GA data)".into(),
        ));
    }
    let t0 = Instant::now();
    let objective = if round == 1 {
        Objective::Sft
    } else {
        config.objective
    };
    let tcfg = if round == 1 {
        &config.first_train
    } else {
        &config.train
    };
    let mut prng = rng_for(config.seed, round, 0);
    let pairs = build_pairs(labels, &config.pairs, &mut prng);
    let triples = match objective {
        Objective::Dpo { .. } => build_triples(labels, &config.pairs, &mut prng),
        _ => Vec::new(),
    };
    // This round's loss file is written last, after the weights and the optimiser state.
    let train_loss: Option<(f64, f64)> = if dir.path(&train_name(round)).exists() {
        model.load(&dir.path(&model_name(round)))?;
        dir.read_json(&train_name(round))?
    } else {
        let mut opt = if round > 1 {
            model.load(&dir.path(&model_name(round - 1)))?;
            AdamW::load(&dir.path(&optim_name(round - 1)))?
        } else {
            AdamW::new()
        };
        let mut trng = rng_for(config.seed, round, 1);
        let stats = train_round(
            model, &mut opt, vocab, &objective, &pairs, &triples, tcfg, &mut trng,
        )?;
        let loss = stats
            .epoch_losses
            .first()
            .zip(stats.epoch_losses.last())
            .map(|(a, b)| (*a, *b));
        dir.write_with(&model_name(round), |p| model.save(p))?;
        dir.write_with(&optim_name(round), |p| opt.save(p))?;
        dir.write_json(&train_name(round), &loss)?;
        loss
    };
    let train_seconds = t0.elapsed().as_secs_f64();
    let tg = Instant::now();
    let shift = temperature_shift(previous_diversity);
    let seeds = seeds_from_pairs(&pairs, config.generation.num_seeds);
    let mut grng = rng_for(config.seed, round, 2);
    let report = generate(model, vocab, &seeds, &config.generation, shift, &mut grng)?;
    let generate_seconds = tg.elapsed().as_secs_f64();
    let cands: Vec<(Vec<u32>, f64)> = report
        .candidates
        .iter()
        .map(|c| (c.x.clone(), c.loglik))
        .collect();
    let mut lrng = rng_for(config.seed, round, 3);
    let chosen = select_for_labelling(
        &cands,
        known,
        config.likelihood_quantile,
        config.labels_per_round,
        &mut lrng,
    );
    Ok(Proposed {
        work: RoundWork {
            objective: objective.name().into(),
            pairs: if triples.is_empty() {
                pairs.len()
            } else {
                triples.len()
            },
            train_loss,
            generated: report.generated,
            parsed: report.candidates.len(),
            rejected: report.rejected.clone(),
            temperature_shift: shift,
            train_seconds,
            generate_seconds,
        },
        report,
        chosen,
    })
}

/// Spearman's rank correlation between the model's log-likelihood of each labelled sequence
/// (from `candidates`) and its value (infeasible as 0): the calibration of a round.
pub fn calibration(candidates: &[Candidate], labels: &[Labelled]) -> Option<f64> {
    let lik: BTreeMap<&[u32], f64> = candidates
        .iter()
        .map(|c| (c.x.as_slice(), c.loglik))
        .collect();
    let (ll, fv): (Vec<f64>, Vec<f64>) = labels
        .iter()
        .filter_map(|l| {
            lik.get(l.x.as_slice())
                .map(|ll| (*ll, feasible_or_zero(l.value)))
        })
        .unzip();
    spearman(&ll, &fv)
}

/// One point of the GA baseline's curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaPoint {
    /// Steps run.
    pub step: usize,
    /// Oracle calls so far (P per step, duplicates included).
    pub oracle_calls: usize,
    /// Best f so far (−∞ as `null`).
    #[serde(with = "crate::pairs::serde_value")]
    pub running_best: f64,
}

/// The GA baseline with the same settings and seed as round 0, run until `max_calls` oracle
/// calls; its first `ga_steps` steps are exactly LLOME's starting data.
pub fn ga_baseline(f: &Ehrlich, config: &LlomeConfig, max_calls: usize) -> Result<Vec<GaPoint>> {
    let mut ga = DiscreteEvolution::for_function(config.ga.clone(), f)?;
    let mut out = Vec::new();
    let mut calls = 0;
    let mut step = 0;
    while calls < max_calls {
        let r = ga.step(|x| f.evaluate(x).unwrap_or(f64::NEG_INFINITY));
        calls += config.ga.num_particles;
        step += 1;
        out.push(GaPoint {
            step,
            oracle_calls: calls,
            running_best: r.running_best,
        });
    }
    Ok(out)
}
