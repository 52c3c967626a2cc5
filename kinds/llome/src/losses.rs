//! The three training objectives as the released pipeline implements them (notes §3.3).
//!
//! Notation: `logp(y|x)` = Σ_t log π_θ(y_t | x, y_<t) over the target tokens `[y]` (L + 2
//! tokens), ℓ(y|x) = logp / (L + 2) the length-normalised log-likelihood.
//!
//! - SFT: the mean cross-entropy over all target tokens of the batch.
//! - DPO (sigmoid): −log σ(β[(logp_w − ref_w) − (logp_l − ref_l)]), mean over the batch.
//! - MargE: α·w̃·(ℓ − r) + β·(−ℓ), mean over the batch, with w = exp(logp − ref) and
//!   w̃ = w / Σ_batch w when self-normalised. The gradient flows through w̃ (not detached).
//!
//! The reference log-probabilities are numbers (computed once per round by the frozen reference
//! model, see [`crate::train`]), so no gradient can reach the reference.

use candle_core::{D, DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{LlomeError, Result};
use crate::model::{Model, log_softmax_last};
use crate::vocab::Vocab;

/// Settings of the MargE loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MargeConfig {
    /// Weight α of the importance-weighted reward term.
    pub alpha: f64,
    /// Weight β of the anchor (−ℓ) term.
    pub beta: f64,
    /// Divide the importance weights by their batch sum.
    pub self_normalize: bool,
}

impl Default for MargeConfig {
    /// `pipeline_marge_f2`: α = 1, β = 10, self-normalised.
    fn default() -> Self {
        MargeConfig {
            alpha: 1.0,
            beta: 10.0,
            self_normalize: true,
        }
    }
}

/// Token tensor `[B, 2L+6]` of `<inc> [x]\n[y]` rows, and the prompt length.
fn encode(vocab: &Vocab, model: &Model, pairs: &[(&[u32], &[u32])]) -> Result<(Tensor, usize)> {
    let first = pairs
        .first()
        .ok_or_else(|| LlomeError::Config("empty batch".into()))?;
    let (lx, ly) = (first.0.len(), first.1.len());
    let mut flat = Vec::with_capacity(pairs.len() * (lx + ly + 6));
    for (x, y) in pairs {
        if x.len() != lx || y.len() != ly {
            return Err(LlomeError::Config("batch rows of different lengths".into()));
        }
        if x.iter()
            .chain(y.iter())
            .any(|&s| s as usize >= vocab.num_states())
        {
            return Err(LlomeError::Config("symbol outside the alphabet".into()));
        }
        flat.extend(vocab.prompt(x));
        flat.extend(vocab.target(y));
    }
    let n = lx + ly + 6;
    Ok((
        Tensor::from_vec(flat, (pairs.len(), n), model.device())?,
        lx + 4,
    ))
}

/// Summed log-probability of each target `[y]` given its prompt `<inc> [x]\n`: a `[B]` tensor
/// with gradient, and the number of target tokens per row.
pub fn target_logprobs(
    model: &Model,
    vocab: &Vocab,
    pairs: &[(&[u32], &[u32])],
) -> Result<(Tensor, usize)> {
    let (tokens, prompt_len) = encode(vocab, model, pairs)?;
    let (b, n) = tokens.dims2()?;
    let n_tgt = n - prompt_len;
    let input = tokens.narrow(1, 0, n - 1)?;
    let logits = model.forward(&input, None)?;
    // predictions for positions prompt_len..n come from inputs prompt_len-1..n-1
    let logp = log_softmax_last(&logits.narrow(1, prompt_len - 1, n_tgt)?)?;
    let targets = tokens.narrow(1, prompt_len, n_tgt)?;
    let onehot = one_hot(&targets, vocab.size(), model.config().dtype())?;
    let per_token = (logp * onehot)?.sum(D::Minus1)?;
    debug_assert_eq!(per_token.dims(), &[b, n_tgt]);
    Ok((per_token.sum(1)?, n_tgt))
}

fn one_hot(targets: &Tensor, size: usize, dtype: DType) -> Result<Tensor> {
    let (b, t) = targets.dims2()?;
    let ids = targets.to_vec2::<u32>()?;
    let mut v = vec![0f64; b * t * size];
    for (i, row) in ids.iter().enumerate() {
        for (j, &id) in row.iter().enumerate() {
            v[(i * t + j) * size + id as usize] = 1.0;
        }
    }
    Ok(Tensor::from_vec(v, (b, t, size), targets.device())?.to_dtype(dtype)?)
}

/// SFT: mean cross-entropy over the target tokens of `(x, y)` pairs.
pub fn sft_loss(model: &Model, vocab: &Vocab, pairs: &[(&[u32], &[u32])]) -> Result<Tensor> {
    let (lp, n) = target_logprobs(model, vocab, pairs)?;
    Ok((lp.mean_all()? * (-1.0 / n as f64))?)
}

/// One DPO example: prompt x, preferred y_w (better than x), rejected y_l (not better than x).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DpoTriple {
    /// The prompt sequence.
    pub x: Vec<u32>,
    /// The chosen (better) sequence.
    pub chosen: Vec<u32>,
    /// The rejected sequence.
    pub rejected: Vec<u32>,
}

/// Sigmoid DPO with frozen-reference log-probabilities `ref_chosen`, `ref_rejected` (summed, one
/// per triple) and temperature β.
pub fn dpo_loss(
    model: &Model,
    vocab: &Vocab,
    triples: &[DpoTriple],
    ref_chosen: &[f64],
    ref_rejected: &[f64],
    beta: f64,
) -> Result<Tensor> {
    let n = triples.len();
    if ref_chosen.len() != n || ref_rejected.len() != n {
        return Err(LlomeError::Config("dpo: reference length mismatch".into()));
    }
    let chosen: Vec<(&[u32], &[u32])> = triples
        .iter()
        .map(|t| (t.x.as_slice(), t.chosen.as_slice()))
        .collect();
    let rejected: Vec<(&[u32], &[u32])> = triples
        .iter()
        .map(|t| (t.x.as_slice(), t.rejected.as_slice()))
        .collect();
    let (lw, _) = target_logprobs(model, vocab, &chosen)?;
    let (ll, _) = target_logprobs(model, vocab, &rejected)?;
    let dt = model.config().dtype();
    let refdiff: Vec<f64> = ref_chosen
        .iter()
        .zip(ref_rejected)
        .map(|(a, b)| a - b)
        .collect();
    let refdiff = Tensor::from_vec(refdiff, n, model.device())?.to_dtype(dt)?;
    let z = ((lw - ll)? - refdiff)?.affine(beta, 0.0)?;
    // −log σ(z) = softplus(−z) = relu(−z) + log(1 + exp(−|z|))
    let nz = z.neg()?;
    let sp = (nz.relu()? + (z.abs()?.neg()?.exp()? + 1.0)?.log()?)?;
    Ok(sp.mean_all()?)
}

/// MargE importance weights w̃ for summed log-probabilities `logp` and reference `ref_logp`
/// (numbers only; the loss uses the same formula on tensors so that gradients flow).
pub fn marge_weights(logp: &[f64], ref_logp: &[f64], self_normalize: bool) -> Vec<f64> {
    let w: Vec<f64> = logp
        .iter()
        .zip(ref_logp)
        .map(|(a, b)| (a - b).exp())
        .collect();
    if self_normalize {
        let s: f64 = w.iter().sum();
        w.iter().map(|x| x / s).collect()
    } else {
        w
    }
}

/// MargE: mean over the batch of α·w̃·(ℓ − r) + β·(−ℓ), gradient through w̃.
pub fn marge_loss(
    model: &Model,
    vocab: &Vocab,
    pairs: &[(&[u32], &[u32])],
    rewards: &[f64],
    ref_logp: &[f64],
    cfg: &MargeConfig,
) -> Result<Tensor> {
    let b = pairs.len();
    if rewards.len() != b || ref_logp.len() != b {
        return Err(LlomeError::Config("marge: length mismatch".into()));
    }
    let dt = model.config().dtype();
    let dev = model.device();
    let (lp, n) = target_logprobs(model, vocab, pairs)?;
    let ell = (&lp * (1.0 / n as f64))?;
    let rf = Tensor::from_vec(ref_logp.to_vec(), b, dev)?.to_dtype(dt)?;
    let r = Tensor::from_vec(rewards.to_vec(), b, dev)?.to_dtype(dt)?;
    let w = (lp - rf)?.exp()?;
    let w = if cfg.self_normalize {
        w.broadcast_div(&w.sum_all()?)?
    } else {
        w
    };
    let first = ((w * (&ell - r)?)? * cfg.alpha)?;
    let second = (ell * (-cfg.beta))?;
    Ok((first + second)?.mean_all()?)
}
