//! Pair construction ("PropEn dense neighbourhood pairs", notes §3.2 step 2) and the label
//! budget of a round.
//!
//! The neighbour graph is exact (brute-force Hamming distances): at the sizes used on a CPU
//! (a few thousand sequences of length ≤ 128) it costs well under a second, and exact is a valid
//! "approximate" nearest-neighbour graph.

use std::collections::{BTreeSet, HashMap, HashSet};

use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::losses::DpoTriple;

/// A sequence and its oracle value (−∞ = infeasible).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    /// The sequence.
    pub x: Vec<u32>,
    /// f(x); `f64::NEG_INFINITY` when infeasible (stored as `null` in JSON).
    #[serde(with = "crate::pairs::serde_value")]
    pub value: f64,
}

/// An ordered edit pair: `x` is worse than `y`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditPair {
    /// The worse sequence (the prompt).
    pub x: Vec<u32>,
    /// The better sequence (the target).
    pub y: Vec<u32>,
    /// f(x) (−∞ if infeasible).
    #[serde(with = "crate::pairs::serde_value")]
    pub fx: f64,
    /// f(y).
    #[serde(with = "crate::pairs::serde_value")]
    pub fy: f64,
}

impl EditPair {
    /// The MargE reward r = max(0, f̃(y) − f̃(x)) with f̃ = f on feasible sequences, 0 otherwise.
    pub fn reward(&self) -> f64 {
        (feasible_or_zero(self.fy) - feasible_or_zero(self.fx)).max(0.0)
    }
}

/// f̃: the value, or 0 for an infeasible (or NaN) value.
pub fn feasible_or_zero(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// Settings of pair construction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairConfig {
    /// Neighbours per sequence in the Hamming graph (30).
    pub neighbours: usize,
    /// Largest distance of a pair, as a fraction of L (0.25).
    pub max_distance: f64,
    /// Largest share of pairs with an infeasible member (0.1).
    pub infeasible_share: f64,
    /// Cap on the number of pairs kept (uniform subsample); a CPU scale-down, 0 = no cap.
    pub max_pairs: usize,
}

impl Default for PairConfig {
    fn default() -> Self {
        PairConfig {
            neighbours: 30,
            max_distance: 0.25,
            infeasible_share: 0.1,
            max_pairs: 0,
        }
    }
}

/// Hamming distance between two sequences of equal length.
pub fn hamming(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count() + a.len().abs_diff(b.len())
}

pub use ansatz_ehrlich::mean_pairwise_hamming;

/// Removes repeated sequences, keeping the first occurrence.
pub fn dedup(data: &[Labelled]) -> Vec<Labelled> {
    let mut seen = HashSet::new();
    data.iter()
        .filter(|d| seen.insert(d.x.clone()))
        .cloned()
        .collect()
}

/// For each sequence, the indices of its `k` nearest others (ties by index) within `radius`.
fn neighbourhoods(xs: &[&[u32]], k: usize, radius: usize) -> Vec<Vec<usize>> {
    let n = xs.len();
    (0..n)
        .map(|i| {
            let mut d: Vec<(usize, usize)> = (0..n)
                .filter(|&j| j != i)
                .map(|j| (hamming(xs[i], xs[j]), j))
                .filter(|&(dist, _)| dist <= radius)
                .collect();
            d.sort_unstable();
            d.truncate(k);
            d.into_iter().map(|(_, j)| j).collect()
        })
        .collect()
}

fn radius(cfg: &PairConfig, len: usize) -> usize {
    (cfg.max_distance * len as f64).floor() as usize
}

/// Builds ordered (worse, better) pairs: dedup, k-NN in Hamming distance, pairs within
/// `max_distance·L`, equal values dropped, pairs with an infeasible member downsampled to at most
/// `infeasible_share` of the set, then the `max_pairs` cap.
pub fn build_pairs(data: &[Labelled], cfg: &PairConfig, rng: &mut ChaCha8Rng) -> Vec<EditPair> {
    let data = dedup(data);
    let Some(first) = data.first() else {
        return Vec::new();
    };
    let xs: Vec<&[u32]> = data.iter().map(|d| d.x.as_slice()).collect();
    let nb = neighbourhoods(&xs, cfg.neighbours, radius(cfg, first.x.len()));
    let mut keys = BTreeSet::new();
    for (i, js) in nb.iter().enumerate() {
        for &j in js {
            keys.insert((i.min(j), i.max(j)));
        }
    }
    let (mut feas, mut infeas) = (Vec::new(), Vec::new());
    for (i, j) in keys {
        let (a, b) = (&data[i], &data[j]);
        let (worse, better) = match a.value.total_cmp(&b.value) {
            std::cmp::Ordering::Less => (a, b),
            std::cmp::Ordering::Greater => (b, a),
            std::cmp::Ordering::Equal => continue,
        };
        let p = EditPair {
            x: worse.x.clone(),
            y: better.x.clone(),
            fx: worse.value,
            fy: better.value,
        };
        if p.fx.is_finite() && p.fy.is_finite() {
            feas.push(p);
        } else {
            infeas.push(p);
        }
    }
    let share = cfg.infeasible_share.clamp(0.0, 0.999);
    let max_inf = (share / (1.0 - share) * feas.len() as f64).floor() as usize;
    if infeas.len() > max_inf {
        infeas.shuffle(rng);
        infeas.truncate(max_inf);
    }
    feas.extend(infeas);
    if cfg.max_pairs > 0 && feas.len() > cfg.max_pairs {
        feas.shuffle(rng);
        feas.truncate(cfg.max_pairs);
    }
    feas
}

/// DPO triples from the same neighbourhoods: for each x, every neighbour strictly better than x
/// is a chosen y_w, paired with a random neighbour not better than x as y_l.
pub fn build_triples(data: &[Labelled], cfg: &PairConfig, rng: &mut ChaCha8Rng) -> Vec<DpoTriple> {
    let data = dedup(data);
    let Some(first) = data.first() else {
        return Vec::new();
    };
    let xs: Vec<&[u32]> = data.iter().map(|d| d.x.as_slice()).collect();
    let nb = neighbourhoods(&xs, cfg.neighbours, radius(cfg, first.x.len()));
    let mut out = Vec::new();
    for (i, js) in nb.iter().enumerate() {
        let fx = data[i].value;
        let better: Vec<usize> = js.iter().copied().filter(|&j| data[j].value > fx).collect();
        let worse: Vec<usize> = js
            .iter()
            .copied()
            .filter(|&j| data[j].value <= fx)
            .collect();
        if worse.is_empty() {
            continue;
        }
        for w in better {
            let l = worse[rng.random_range(0..worse.len())];
            out.push(DpoTriple {
                x: data[i].x.clone(),
                chosen: data[w].x.clone(),
                rejected: data[l].x.clone(),
            });
        }
    }
    if cfg.max_pairs > 0 && out.len() > cfg.max_pairs {
        out.shuffle(rng);
        out.truncate(cfg.max_pairs);
    }
    out
}

/// Generation seeds: the better members of the `n` best-scoring pairs (duplicates possible).
pub fn seeds_from_pairs(pairs: &[EditPair], n: usize) -> Vec<Vec<u32>> {
    let mut idx: Vec<usize> = (0..pairs.len()).collect();
    idx.sort_by(|&a, &b| pairs[b].fy.total_cmp(&pairs[a].fy).then(a.cmp(&b)));
    idx.into_iter()
        .take(n)
        .map(|i| pairs[i].y.clone())
        .collect()
}

/// The label budget: among new, distinct candidates `(sequence, length-normalised
/// log-likelihood)`, keep those at or above the `quantile` of likelihood, then draw at most
/// `budget` uniformly. Sequences in `known` (already labelled) are skipped: they cost no label.
pub fn select_for_labelling(
    candidates: &[(Vec<u32>, f64)],
    known: &HashSet<Vec<u32>>,
    quantile: f64,
    budget: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<u32>> {
    let mut best: HashMap<&[u32], f64> = HashMap::new();
    let mut order = Vec::new();
    for (x, ll) in candidates {
        if known.contains(x) {
            continue;
        }
        match best.get_mut(x.as_slice()) {
            Some(v) => *v = v.max(*ll),
            None => {
                best.insert(x.as_slice(), *ll);
                order.push(x.as_slice());
            }
        }
    }
    let mut lls: Vec<f64> = order.iter().map(|x| best[x]).collect();
    lls.sort_by(|a, b| a.total_cmp(b));
    let cut = if lls.is_empty() {
        f64::NEG_INFINITY
    } else {
        // linear interpolation, as numpy.percentile
        let pos = quantile.clamp(0.0, 1.0) * (lls.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        lls[lo] + (pos - lo as f64) * (lls[hi] - lls[lo])
    };
    let mut kept: Vec<Vec<u32>> = order
        .into_iter()
        .filter(|x| best[x] >= cut)
        .map(|x| x.to_vec())
        .collect();
    if kept.len() > budget {
        kept.shuffle(rng);
        kept.truncate(budget);
    }
    kept
}

/// Serialises −∞ (and NaN) as `null`.
pub(crate) mod serde_value {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else {
            s.serialize_none()
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NEG_INFINITY))
    }
}
