//! One round of fine-tuning with SFT, DPO or MargE.
//!
//! The reference model of DPO and MargE is the model as it stands when the round starts, frozen:
//! its log-probabilities are computed once, before the first update, and enter the losses as
//! numbers.

use candle_core::DType;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::losses::{DpoTriple, MargeConfig, dpo_loss, marge_loss, sft_loss, target_logprobs};
use crate::model::Model;
use crate::optim::{AdamConfig, AdamW};
use crate::pairs::EditPair;
use crate::vocab::Vocab;

/// The training objective of a round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Objective {
    /// Cross-entropy on the target tokens.
    Sft,
    /// Sigmoid DPO with temperature β (0.4 in the released pipeline).
    Dpo {
        /// β.
        beta: f64,
    },
    /// MargE.
    Marge(MargeConfig),
}

impl Objective {
    /// Short name (`sft`, `dpo`, `marge`).
    pub fn name(&self) -> &'static str {
        match self {
            Objective::Sft => "sft",
            Objective::Dpo { .. } => "dpo",
            Objective::Marge(_) => "marge",
        }
    }
}

/// Optimisation settings of a round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Passes over the round's data.
    pub epochs: usize,
    /// Examples per update.
    pub batch_size: usize,
    /// AdamW settings.
    pub adam: AdamConfig,
}

/// What a round of training did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainStats {
    /// Number of examples (pairs or triples).
    pub examples: usize,
    /// Optimiser updates made.
    pub updates: usize,
    /// Mean loss of each epoch.
    pub epoch_losses: Vec<f64>,
}

/// Summed target log-probabilities of pairs under the current model, without gradient.
pub fn reference_logprobs(
    model: &Model,
    vocab: &Vocab,
    pairs: &[(&[u32], &[u32])],
    chunk: usize,
) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(pairs.len());
    for c in pairs.chunks(chunk.max(1)) {
        let (lp, _) = target_logprobs(model, vocab, c)?;
        out.extend(lp.detach().to_dtype(DType::F64)?.to_vec1::<f64>()?);
    }
    Ok(out)
}

/// Trains `model` for one round. `pairs` feed SFT and MargE, `triples` feed DPO.
#[allow(clippy::too_many_arguments)]
pub fn train_round(
    model: &Model,
    opt: &mut AdamW,
    vocab: &Vocab,
    objective: &Objective,
    pairs: &[EditPair],
    triples: &[DpoTriple],
    cfg: &TrainConfig,
    rng: &mut ChaCha8Rng,
) -> Result<TrainStats> {
    let bs = cfg.batch_size.max(1);
    let as_pairs: Vec<(&[u32], &[u32])> = pairs
        .iter()
        .map(|p| (p.x.as_slice(), p.y.as_slice()))
        .collect();
    let rewards: Vec<f64> = pairs.iter().map(EditPair::reward).collect();
    let n = match objective {
        Objective::Dpo { .. } => triples.len(),
        _ => pairs.len(),
    };
    let mut stats = TrainStats {
        examples: n,
        ..Default::default()
    };
    if n == 0 {
        return Ok(stats);
    }
    // the frozen reference: this round's starting model
    let (ref_a, ref_b) = match objective {
        Objective::Sft => (Vec::new(), Vec::new()),
        Objective::Marge(_) => (reference_logprobs(model, vocab, &as_pairs, 64)?, Vec::new()),
        Objective::Dpo { .. } => {
            let w: Vec<(&[u32], &[u32])> = triples
                .iter()
                .map(|t| (t.x.as_slice(), t.chosen.as_slice()))
                .collect();
            let l: Vec<(&[u32], &[u32])> = triples
                .iter()
                .map(|t| (t.x.as_slice(), t.rejected.as_slice()))
                .collect();
            (
                reference_logprobs(model, vocab, &w, 64)?,
                reference_logprobs(model, vocab, &l, 64)?,
            )
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    for _ in 0..cfg.epochs {
        order.shuffle(rng);
        let mut total = 0.0;
        let mut batches = 0;
        for idx in order.chunks(bs) {
            let loss = match objective {
                Objective::Sft => {
                    let b: Vec<_> = idx.iter().map(|&i| as_pairs[i]).collect();
                    sft_loss(model, vocab, &b)?
                }
                Objective::Marge(mc) => {
                    let b: Vec<_> = idx.iter().map(|&i| as_pairs[i]).collect();
                    let r: Vec<f64> = idx.iter().map(|&i| rewards[i]).collect();
                    let rf: Vec<f64> = idx.iter().map(|&i| ref_a[i]).collect();
                    marge_loss(model, vocab, &b, &r, &rf, mc)?
                }
                Objective::Dpo { beta } => {
                    let b: Vec<DpoTriple> = idx.iter().map(|&i| triples[i].clone()).collect();
                    let rw: Vec<f64> = idx.iter().map(|&i| ref_a[i]).collect();
                    let rl: Vec<f64> = idx.iter().map(|&i| ref_b[i]).collect();
                    dpo_loss(model, vocab, &b, &rw, &rl, *beta)?
                }
            };
            total += loss.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            batches += 1;
            let grads = loss.backward()?;
            opt.step(model, &grads, &cfg.adam)?;
            stats.updates += 1;
        }
        stats.epoch_losses.push(total / batches.max(1) as f64);
    }
    Ok(stats)
}
