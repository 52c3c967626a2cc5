//! The inner generation loop (notes §3.2 step 5): no oracle, selection by likelihood.
//!
//! Each trajectory starts from a seed sequence. At every iteration the model is prompted with
//! `<inc> [x]\n` and answers greedily once and by sampling `samples_per_temperature` times at each
//! temperature. Answers are cut after the first `]`, rendered as text and parsed with
//! [`ansatz_ehrlich::parse_sequence`]; anything that does not parse into L symbols in 0..v is a
//! rejected candidate, counted with its reason, never a panic. The next prompt of a trajectory is
//! its candidate with the highest length-normalised log-likelihood so far (the score plays no part).

use std::collections::BTreeMap;

use candle_core::{D, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::{KvCache, Model};
use crate::vocab::Vocab;

/// Settings of the inner loop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationConfig {
    /// Trajectories (seeds) per round (200 in the released pipeline).
    pub num_seeds: usize,
    /// Iterations per trajectory (10).
    pub iterations: usize,
    /// Base sampling temperatures (0.6, 0.8, …, 1.6).
    pub temperatures: Vec<f64>,
    /// Samples per temperature (10).
    pub samples_per_temperature: usize,
    /// Rows decoded together (memory bound only; results do not depend on it).
    pub batch_rows: usize,
}

impl Default for GenerationConfig {
    /// The released pipeline's values.
    fn default() -> Self {
        GenerationConfig {
            num_seeds: 200,
            iterations: 10,
            temperatures: vec![0.6, 0.8, 1.0, 1.2, 1.4, 1.6],
            samples_per_temperature: 10,
            batch_rows: 512,
        }
    }
}

/// The anti-collapse shift: +0.2, +0.4 or +0.6 when the previous round's mean Hamming distance
/// (fraction of L) fell below 0.15, 0.10 or 0.075.
pub fn temperature_shift(previous_diversity: Option<f64>) -> f64 {
    match previous_diversity {
        Some(d) if d < 0.075 => 0.6,
        Some(d) if d < 0.10 => 0.4,
        Some(d) if d < 0.15 => 0.2,
        _ => 0.0,
    }
}

/// A parsed candidate and its length-normalised log-likelihood under the model (temperature 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The proposed sequence.
    pub x: Vec<u32>,
    /// Mean log-probability of the generated target tokens.
    pub loglik: f64,
}

/// What one round of generation produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationReport {
    /// Every candidate that parsed (duplicates included).
    pub candidates: Vec<Candidate>,
    /// Number of model outputs.
    pub generated: usize,
    /// Rejected outputs by reason.
    pub rejected: BTreeMap<String, usize>,
}

/// One decoded row: its tokens and summed log-probability.
struct Decoded {
    tokens: Vec<u32>,
    logp: f64,
}

/// Decodes one answer per prompt row (`temperature` 0 = greedy), at most L + 2 tokens, stopping
/// a row at its first `]`.
fn decode(
    model: &Model,
    vocab: &Vocab,
    prompts: &[Vec<u32>],
    temps: &[f64],
    max_new: usize,
    rngs: &mut [ChaCha8Rng],
) -> Result<Vec<Decoded>> {
    let b = prompts.len();
    let plen = prompts[0].len();
    let flat: Vec<u32> = prompts.iter().flatten().copied().collect();
    let input = Tensor::from_vec(flat, (b, plen), model.device())?;
    let mut cache = KvCache::new();
    let mut logits = model
        .forward(&input, Some(&mut cache))?
        .narrow(1, plen - 1, 1)?;
    let mut out: Vec<Decoded> = (0..b)
        .map(|_| Decoded {
            tokens: Vec::new(),
            logp: 0.0,
        })
        .collect();
    let mut done = vec![false; b];
    for step in 0..max_new {
        let rows: Vec<Vec<f64>> = logits
            .squeeze(1)?
            .to_dtype(candle_core::DType::F64)?
            .to_vec2::<f64>()?;
        let mut next = Vec::with_capacity(b);
        for (i, row) in rows.iter().enumerate() {
            if done[i] {
                next.push(vocab.pad());
                continue;
            }
            let tok = sample(row, temps[i], &mut rngs[i]);
            let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + row.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
            out[i].logp += row[tok] - lse;
            out[i].tokens.push(tok as u32);
            if tok as u32 == vocab.close() {
                done[i] = true;
            }
            next.push(tok as u32);
        }
        if done.iter().all(|&d| d) || step + 1 == max_new {
            break;
        }
        let t = Tensor::from_vec(next, (b, 1), model.device())?;
        logits = model.forward(&t, Some(&mut cache))?;
    }
    Ok(out)
}

fn sample(logits: &[f64], temperature: f64, rng: &mut ChaCha8Rng) -> usize {
    let argmax = logits
        .iter()
        .enumerate()
        .fold(0, |a, (i, &l)| if l > logits[a] { i } else { a });
    if temperature <= 0.0 {
        return argmax;
    }
    let max = logits[argmax];
    let w: Vec<f64> = logits
        .iter()
        .map(|l| ((l - max) / temperature).exp())
        .collect();
    let total: f64 = w.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, wi) in w.iter().enumerate() {
        u -= wi;
        if u < 0.0 {
            return i;
        }
    }
    argmax
}

/// Why an output is rejected, or the parsed sequence.
pub fn parse_output(vocab: &Vocab, tokens: &[u32], dim: usize) -> Result<Vec<u32>, String> {
    if tokens.last() != Some(&vocab.close()) {
        return Err("unterminated (no ']')".into());
    }
    if tokens.first() != Some(&vocab.open()) {
        return Err("does not start with '['".into());
    }
    let text = vocab.render(tokens);
    ansatz_ehrlich::parse_sequence(&text, dim, vocab.num_states()).map_err(|e| match e {
        ansatz_ehrlich::ParseError::WrongLength { .. } => "wrong length".to_string(),
        _ if tokens[1..tokens.len() - 1]
            .iter()
            .any(|&t| t >= vocab.open()) =>
        {
            "format token inside the list".to_string()
        }
        other => other.to_string().chars().take(60).collect(),
    })
}

/// Runs the inner loop from `seeds` with temperatures shifted by `shift`.
pub fn generate(
    model: &Model,
    vocab: &Vocab,
    seeds: &[Vec<u32>],
    cfg: &GenerationConfig,
    shift: f64,
    rng: &mut ChaCha8Rng,
) -> Result<GenerationReport> {
    let mut report = GenerationReport::default();
    let Some(first) = seeds.first() else {
        return Ok(report);
    };
    let dim = first.len();
    let mut temps = vec![0.0];
    for t in &cfg.temperatures {
        temps.extend(std::iter::repeat_n(t + shift, cfg.samples_per_temperature));
    }
    let per = temps.len();
    let mut current: Vec<Vec<u32>> = seeds.to_vec();
    let mut best: Vec<Option<Candidate>> = vec![None; seeds.len()];
    let chunk = (cfg.batch_rows / per).max(1);
    // every output row has its own stream, so results do not depend on `batch_rows`
    let base: u64 = rng.random();
    for iteration in 0..cfg.iterations {
        for start in (0..current.len()).step_by(chunk) {
            let end = (start + chunk).min(current.len());
            let mut prompts = Vec::with_capacity((end - start) * per);
            let mut row_temps = Vec::with_capacity(prompts.capacity());
            for x in &current[start..end] {
                let p = vocab.prompt(x);
                for &t in &temps {
                    prompts.push(p.clone());
                    row_temps.push(t);
                }
            }
            let mut rngs: Vec<ChaCha8Rng> = (start * per..end * per)
                .map(|row| {
                    let mut r = ChaCha8Rng::seed_from_u64(base);
                    r.set_stream(((iteration as u64) << 40) | row as u64);
                    r
                })
                .collect();
            let decoded = decode(model, vocab, &prompts, &row_temps, dim + 2, &mut rngs)?;
            for (r, d) in decoded.into_iter().enumerate() {
                let traj = start + r / per;
                report.generated += 1;
                match parse_output(vocab, &d.tokens, dim) {
                    Ok(x) => {
                        let c = Candidate {
                            x,
                            loglik: d.logp / d.tokens.len() as f64,
                        };
                        if best[traj].as_ref().is_none_or(|b| c.loglik > b.loglik) {
                            best[traj] = Some(c.clone());
                        }
                        report.candidates.push(c);
                    }
                    Err(reason) => *report.rejected.entry(reason).or_insert(0) += 1,
                }
            }
        }
        for (cur, b) in current.iter_mut().zip(&best) {
            if let Some(b) = b {
                cur.clone_from(&b.x);
            }
        }
    }
    Ok(report)
}

/// Length-normalised log-likelihood of `y` given `x` under the model (no gradient).
pub fn loglik(model: &Model, vocab: &Vocab, x: &[u32], y: &[u32]) -> Result<f64> {
    let (lp, n) = crate::losses::target_logprobs(model, vocab, &[(x, y)])?;
    let v = lp
        .detach()
        .to_dtype(candle_core::DType::F64)?
        .sum(D::Minus1)?
        .to_scalar::<f64>()?;
    Ok(v / n as f64)
}
