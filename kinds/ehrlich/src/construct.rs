//! Sampling new instances (notes §1.2) with this crate's own RNG (ChaCha8).
//!
//! The recipe is holo-bench's, but the random streams are not torch's: an instance generated
//! here for seed s differs from the reference library's instance for the same seed. Load the
//! reference instances from the vector files instead ([`crate::Ehrlich::from_vector_json`]).

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::EhrlichError;
use crate::function::{Ehrlich, EhrlichParams, validate_shape};

/// Draws a standard normal (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Draws an index from unnormalised non-negative weights.
fn categorical(rng: &mut ChaCha8Rng, w: &[f64]) -> usize {
    let total: f64 = w.iter().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, &p) in w.iter().enumerate() {
        if p > 0.0 {
            if u < p {
                return i;
            }
            u -= p;
            last = i;
        }
    }
    last
}

/// Samples the sparse ergodic transition matrix (row-major v×v) and its zero mask.
fn transition_matrix(v: usize, rng: &mut ChaCha8Rng) -> Result<Vec<f64>, EhrlichError> {
    let b = (0.4 * v as f64).floor() as usize;
    let raw: Vec<f64> = (0..v * v).map(|_| normal(rng)).collect();
    let mut perm: Vec<usize> = (0..v).collect();
    perm.shuffle(rng);
    let mut t = vec![0.0; v * v];
    for i in 0..v {
        let centre = perm[i];
        let row = &raw[i * v..(i + 1) * v];
        let max = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        for j in 0..v {
            // cyclic distance between j and the band centre
            let d = (j + v - centre) % v;
            let in_band = d <= b || v - d <= b;
            if in_band || i == j {
                t[i * v + j] = ((row[j] - max) / 0.5).exp();
            }
        }
        let s: f64 = t[i * v..(i + 1) * v].iter().sum();
        for x in &mut t[i * v..(i + 1) * v] {
            *x /= s;
        }
    }
    if !is_primitive(&t, v) {
        return Err(EhrlichError::NotPrimitive);
    }
    Ok(t)
}

/// Whether the zero pattern of T has an all-positive power T^m, m = (v−1)²+1 (Wielandt's bound).
/// Returns false when `t` is not v×v or v = 0.
pub fn is_primitive(t: &[f64], v: usize) -> bool {
    if v == 0 || t.len() != v * v {
        return false;
    }
    let base: Vec<bool> = t.iter().map(|&x| x > 0.0).collect();
    let mul = |a: &[bool], b: &[bool]| -> Vec<bool> {
        let mut c = vec![false; v * v];
        for i in 0..v {
            for l in 0..v {
                if a[i * v + l] {
                    for j in 0..v {
                        c[i * v + j] |= b[l * v + j];
                    }
                }
            }
        }
        c
    };
    let mut m = (v - 1) * (v - 1) + 1;
    let mut result: Option<Vec<bool>> = None;
    let mut power = base;
    while m > 0 {
        if m & 1 == 1 {
            result = Some(match result {
                None => power.clone(),
                Some(r) => mul(&r, &power),
            });
        }
        m >>= 1;
        if m > 0 {
            power = mul(&power, &power);
        }
    }
    result.is_some_and(|r| r.iter().all(|&x| x))
}

/// Stationary distribution of a primitive stochastic matrix by power iteration
/// (empty when `t` is not v×v or v = 0).
pub fn stationary(t: &[f64], v: usize) -> Vec<f64> {
    if v == 0 || t.len() != v * v {
        return Vec::new();
    }
    let mut pi = vec![1.0 / v as f64; v];
    for _ in 0..100_000 {
        let mut next = vec![0.0; v];
        for i in 0..v {
            for j in 0..v {
                next[j] += pi[i] * t[i * v + j];
            }
        }
        let s: f64 = next.iter().sum();
        next.iter_mut().for_each(|x| *x /= s);
        let diff: f64 = next.iter().zip(&pi).map(|(a, b)| (a - b).abs()).sum();
        pi = next;
        if diff < 1e-14 {
            break;
        }
    }
    pi
}

/// One Markov-chain path of length n: start ~ π, then rows of T.
fn markov_path(rng: &mut ChaCha8Rng, t: &[f64], pi: &[f64], v: usize, n: usize) -> Vec<u32> {
    let mut x = Vec::with_capacity(n);
    if n == 0 {
        return x;
    }
    let mut s = categorical(rng, pi);
    x.push(s as u32);
    for _ in 1..n {
        s = categorical(rng, &t[s * v..(s + 1) * v]);
        x.push(s as u32);
    }
    x
}

impl Ehrlich {
    /// Samples a new instance Ehr(v, L, c, k, q) following notes §1.2 with ChaCha8 seeded by `seed`.
    ///
    /// Errors: v = 0, c = 0, k < 2, q = 0, L < c·k, or a non-primitive transition matrix
    /// (as in holo-bench, no resampling: try another seed).
    pub fn generate(
        v: usize,
        dim: usize,
        c: usize,
        k: usize,
        q: usize,
        seed: u64,
    ) -> Result<Self, EhrlichError> {
        if v == 0 {
            return Err(EhrlichError::ZeroStates);
        }
        validate_shape(dim, c, k, q)?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = transition_matrix(v, &mut rng)?;
        let pi = stationary(&t, v);
        let path = markov_path(&mut rng, &t, &pi, v, c * k);
        let motifs: Vec<Vec<u32>> = path.chunks(k).map(|m| m.to_vec()).collect();
        let budget = (dim - c * k) / c;
        let spacings = (0..c)
            .map(|_| {
                let w: Vec<f64> = (0..k - 1).map(|_| rng.random::<f64>()).collect();
                let s: f64 = w.iter().sum();
                w.iter()
                    .map(|&wj| {
                        let share = if s > 0.0 {
                            wj / s
                        } else {
                            1.0 / (k - 1) as f64
                        };
                        1 + (budget as f64 * share).floor() as usize
                    })
                    .collect()
            })
            .collect();
        // holo-bench re-seeds for the initial solution; we use a separate ChaCha stream instead.
        let mut init_rng = ChaCha8Rng::seed_from_u64(seed);
        init_rng.set_stream(1);
        let initial_solution = markov_path(&mut init_rng, &t, &pi, v, dim);
        let banned_transitions = (0..v * v)
            .filter(|&ij| t[ij] == 0.0)
            .map(|ij| ((ij / v) as u32, (ij % v) as u32))
            .collect();
        Ehrlich::from_params(EhrlichParams {
            num_states: v,
            dim,
            motifs,
            spacings,
            quantization: q,
            epistasis: 0.0,
            banned_transitions,
            transition: Some(t),
            initial_solution,
        })
    }
}
