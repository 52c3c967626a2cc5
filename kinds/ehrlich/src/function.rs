//! The Ehrlich function itself: parameters, evaluation (notes §1.3–§1.5, §1.9), optimum and feedback.

use crate::error::EhrlichError;

/// An Ehrlich function with explicit parameters (holo-bench semantics).
///
/// Build one with [`Ehrlich::from_params`], [`Ehrlich::from_vector_json`] (parameters sampled by
/// the reference library) or [`Ehrlich::generate`] (this crate's own sampler).
#[derive(Debug, Clone, PartialEq)]
pub struct Ehrlich {
    pub(crate) num_states: usize,
    pub(crate) dim: usize,
    pub(crate) motifs: Vec<Vec<u32>>,
    pub(crate) offsets: Vec<Vec<usize>>,
    pub(crate) quantization: usize,
    pub(crate) epistasis: f64,
    /// Row-major v×v; `banned[i*v + j]` is true when i → j is infeasible.
    pub(crate) banned: Vec<bool>,
    /// Row-major v×v transition matrix, when known.
    pub(crate) transition: Option<Vec<f64>>,
    pub(crate) initial_solution: Vec<u32>,
}

/// Explicit parameters from which an [`Ehrlich`] function is built.
#[derive(Debug, Clone, PartialEq)]
pub struct EhrlichParams {
    /// Alphabet size v (states are 0..v).
    pub num_states: usize,
    /// Sequence length L.
    pub dim: usize,
    /// The c motifs, each of length k.
    pub motifs: Vec<Vec<u32>>,
    /// Per motif, the k−1 gaps between consecutive elements (each ≥ 1).
    pub spacings: Vec<Vec<usize>>,
    /// Quantization q (≥ 1). q need not divide k: the holo-bench formula is reproduced exactly.
    pub quantization: usize,
    /// Epistasis factor e (0 in every benchmark).
    pub epistasis: f64,
    /// Banned transitions (i, j): x_t = j may not follow x_{t−1} = i.
    pub banned_transitions: Vec<(u32, u32)>,
    /// Optional row-major v×v transition matrix (used for the log-likelihood).
    pub transition: Option<Vec<f64>>,
    /// The initial solution (a feasible sequence of length L), used to start optimisers.
    pub initial_solution: Vec<u32>,
}

/// The reason a sequence is infeasible: the first banned transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BannedTransition {
    /// Position t of the second symbol (the pair is `x[t−1] → x[t]`).
    pub position: usize,
    /// The symbol `x[t−1]`.
    pub from: u32,
    /// The symbol `x[t]`.
    pub to: u32,
}

/// Per-motif feedback for one sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct MotifReport {
    /// Quantized presence h_q in [0, 1].
    pub present: f64,
    /// Raw best number of matching elements over all windows.
    pub max_count: usize,
    /// A window start reaching `max_count` (the first one).
    pub best_start: usize,
}

/// Feedback explaining a value: all banned transitions and the per-motif presence.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The value f(x) (−∞ when infeasible).
    pub value: f64,
    /// Every banned transition in the sequence, in order (empty when feasible).
    pub banned: Vec<BannedTransition>,
    /// One report per motif (computed even when infeasible).
    pub motifs: Vec<MotifReport>,
}

impl Explanation {
    /// A short human-readable summary, e.g. for feedback to a language model.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        if self.banned.is_empty() {
            s.push_str(&format!("feasible; value {}", self.value));
        } else {
            s.push_str("infeasible:");
            for b in &self.banned {
                s.push_str(&format!(
                    " transition {}->{} at positions {}-{} is banned;",
                    b.from,
                    b.to,
                    b.position - 1,
                    b.position
                ));
            }
        }
        for (i, m) in self.motifs.iter().enumerate() {
            s.push_str(&format!(
                "\nmotif {i}: presence {} ({} elements matched, best window at {})",
                m.present, m.max_count, m.best_start
            ));
        }
        s
    }
}

impl Ehrlich {
    /// Builds a function from explicit parameters, validating every shape and range.
    pub fn from_params(p: EhrlichParams) -> Result<Self, EhrlichError> {
        let v = p.num_states;
        if v == 0 {
            return Err(EhrlichError::ZeroStates);
        }
        let c = p.motifs.len();
        if c == 0 {
            return Err(EhrlichError::NoMotifs);
        }
        let k = p.motifs[0].len();
        validate_shape(p.dim, c, k, p.quantization)?;
        if p.spacings.len() != c {
            return Err(EhrlichError::InvalidParams(format!(
                "{} spacing lists for {c} motifs",
                p.spacings.len()
            )));
        }
        let mut offsets = Vec::with_capacity(c);
        for (i, (m, s)) in p.motifs.iter().zip(&p.spacings).enumerate() {
            if m.len() != k {
                return Err(EhrlichError::InvalidParams(format!(
                    "motif {i} has length {}, expected {k}",
                    m.len()
                )));
            }
            if let Some(&bad) = m.iter().find(|&&a| a as usize >= v) {
                return Err(EhrlichError::InvalidParams(format!(
                    "motif {i} holds state {bad} outside 0..{v}"
                )));
            }
            if s.len() != k - 1 || s.contains(&0) {
                return Err(EhrlichError::InvalidParams(format!(
                    "motif {i} needs k-1 = {} spacings, each >= 1, got {s:?}",
                    k - 1
                )));
            }
            let mut o = vec![0usize];
            for &g in s {
                let next = o[o.len() - 1].saturating_add(g);
                o.push(next);
            }
            if o[k - 1] >= p.dim {
                return Err(EhrlichError::InvalidParams(format!(
                    "motif {i} spans {} positions, more than L = {}",
                    o[k - 1] + 1,
                    p.dim
                )));
            }
            offsets.push(o);
        }
        let mut banned = vec![false; v * v];
        for &(i, j) in &p.banned_transitions {
            if i as usize >= v || j as usize >= v {
                return Err(EhrlichError::InvalidParams(format!(
                    "banned transition ({i}, {j}) outside 0..{v}"
                )));
            }
            banned[i as usize * v + j as usize] = true;
        }
        if let Some(t) = &p.transition
            && t.len() != v * v
        {
            return Err(EhrlichError::InvalidParams(format!(
                "transition matrix has {} entries, expected v*v = {}",
                t.len(),
                v * v
            )));
        }
        let f = Ehrlich {
            num_states: v,
            dim: p.dim,
            motifs: p.motifs,
            offsets,
            quantization: p.quantization,
            epistasis: p.epistasis,
            banned,
            transition: p.transition,
            initial_solution: p.initial_solution,
        };
        f.check(&f.initial_solution)?;
        Ok(f)
    }

    /// Alphabet size v.
    pub fn num_states(&self) -> usize {
        self.num_states
    }
    /// Sequence length L.
    pub fn dim(&self) -> usize {
        self.dim
    }
    /// Number of motifs c.
    pub fn num_motifs(&self) -> usize {
        self.motifs.len()
    }
    /// Motif length k.
    pub fn motif_length(&self) -> usize {
        self.motifs[0].len()
    }
    /// Quantization q.
    pub fn quantization(&self) -> usize {
        self.quantization
    }
    /// Epistasis factor e.
    pub fn epistasis(&self) -> f64 {
        self.epistasis
    }
    /// The motifs.
    pub fn motifs(&self) -> &[Vec<u32>] {
        &self.motifs
    }
    /// Per motif, the element offsets [0, s₁, s₁+s₂, …].
    pub fn offsets(&self) -> &[Vec<usize>] {
        &self.offsets
    }
    /// The row-major v×v transition matrix, when known.
    pub fn transition_matrix(&self) -> Option<&[f64]> {
        self.transition.as_deref()
    }
    /// Whether the transition i → j is banned (out-of-range states count as banned).
    pub fn is_banned(&self, i: u32, j: u32) -> bool {
        let (i, j, v) = (i as usize, j as usize, self.num_states);
        i >= v || j >= v || self.banned[i * v + j]
    }
    /// The starting sequence of optimisers (feasible, usually low-scoring).
    pub fn initial_solution(&self) -> &[u32] {
        &self.initial_solution
    }
    /// A copy with another quantization (everything else equal), as holo-bench allows.
    pub fn with_quantization(&self, q: usize) -> Result<Self, EhrlichError> {
        if q == 0 {
            return Err(EhrlichError::ZeroQuantization);
        }
        Ok(Ehrlich {
            quantization: q,
            ..self.clone()
        })
    }
    /// A copy with another epistasis factor.
    pub fn with_epistasis(&self, e: f64) -> Self {
        Ehrlich {
            epistasis: e,
            ..self.clone()
        }
    }

    /// Checks length and symbol range of a sequence.
    pub fn check(&self, x: &[u32]) -> Result<(), EhrlichError> {
        if x.len() != self.dim {
            return Err(EhrlichError::WrongLength {
                got: x.len(),
                expected: self.dim,
            });
        }
        if let Some((position, &symbol)) = x
            .iter()
            .enumerate()
            .find(|(_, s)| **s as usize >= self.num_states)
        {
            return Err(EhrlichError::SymbolOutOfRange {
                position,
                symbol,
                num_states: self.num_states,
            });
        }
        Ok(())
    }

    /// f(x): the product of the motif responses if x is feasible, −∞ otherwise (notes §1.9).
    pub fn evaluate(&self, x: &[u32]) -> Result<f64, EhrlichError> {
        self.check(x)?;
        Ok(self.value_unchecked(x))
    }

    /// f(x) for a sequence already known to have length L and symbols in 0..v.
    pub(crate) fn value_unchecked(&self, x: &[u32]) -> f64 {
        if self.first_banned(x).is_some() {
            return f64::NEG_INFINITY;
        }
        let e = self.epistasis;
        let mut val = 1.0;
        for i in 0..self.motifs.len() {
            let h = self.quantize(self.motif_max(x, i).0);
            if h == 0.0 {
                // The product is 0 whatever the other motifs hold.
                return 0.0;
            }
            val *= h * (1.0 + e * h * (h - 1.0));
        }
        val
    }

    /// Whether x (of any length, symbols in 0..v) has no banned transition.
    pub fn is_feasible(&self, x: &[u32]) -> bool {
        self.first_banned(x).is_none()
    }

    fn first_banned(&self, x: &[u32]) -> Option<usize> {
        (1..x.len()).find(|&t| self.is_banned(x[t - 1], x[t]))
    }

    /// Best raw count and first window start reaching it, for motif i.
    ///
    /// Counts the matches of a block of windows element by element (contiguous comparisons
    /// the compiler vectorises) and stops once a window matches the whole motif.
    fn motif_max(&self, x: &[u32], i: usize) -> (usize, usize) {
        const BLOCK: usize = 64;
        let (m, o) = (&self.motifs[i], &self.offsets[i]);
        let last = o[o.len() - 1];
        let windows = x.len().saturating_sub(last);
        let mut best = (0, 0);
        let mut counts = [0u32; BLOCK];
        let mut start = 0;
        while start < windows {
            let n = BLOCK.min(windows - start);
            let c = &mut counts[..n];
            c.fill(0);
            for (&a, &oj) in m.iter().zip(o) {
                let xs = &x[start + oj..start + oj + n];
                for (count, &s) in c.iter_mut().zip(xs) {
                    *count += u32::from(s == a);
                }
            }
            for (t, &count) in c.iter().enumerate() {
                if count as usize > best.0 {
                    best = (count as usize, start + t);
                }
            }
            if best.0 == m.len() {
                break;
            }
            start += n;
        }
        best
    }

    /// h_q = ⌊C / r⌋ / (k / r) with r = ⌈k/q⌉ (notes §1.4).
    fn quantize(&self, count: usize) -> f64 {
        let k = self.motif_length();
        let r = k.div_ceil(self.quantization);
        (count / r) as f64 / (k as f64 / r as f64)
    }

    /// Quantized presence h_q and raw best count of every motif (defined even when infeasible).
    pub fn motif_presence(&self, x: &[u32]) -> Result<Vec<(f64, usize)>, EhrlichError> {
        self.check(x)?;
        Ok((0..self.motifs.len())
            .map(|i| {
                let c = self.motif_max(x, i).0;
                (self.quantize(c), c)
            })
            .collect())
    }

    /// Explains f(x): every banned transition (with position) and the per-motif presence.
    pub fn explain(&self, x: &[u32]) -> Result<Explanation, EhrlichError> {
        self.check(x)?;
        let banned = (1..x.len())
            .filter(|&t| self.is_banned(x[t - 1], x[t]))
            .map(|t| BannedTransition {
                position: t,
                from: x[t - 1],
                to: x[t],
            })
            .collect();
        let motifs = (0..self.motifs.len())
            .map(|i| {
                let (max_count, best_start) = self.motif_max(x, i);
                MotifReport {
                    present: self.quantize(max_count),
                    max_count,
                    best_start,
                }
            })
            .collect();
        Ok(Explanation {
            value: self.value_unchecked(x),
            banned,
            motifs,
        })
    }

    /// log(1/v) + Σ log `T[x_{t−1}, x_t]` (−∞ if infeasible); `None` when T is unknown.
    pub fn log_likelihood(&self, x: &[u32]) -> Result<Option<f64>, EhrlichError> {
        self.check(x)?;
        let Some(t) = &self.transition else {
            return Ok(None);
        };
        let v = self.num_states;
        let mut ll = -(v as f64).ln();
        for w in x.windows(2) {
            ll += t[w[0] as usize * v + w[1] as usize].ln();
        }
        Ok(Some(ll))
    }

    /// Whether the optimum value 1.0 is reachable: r = ⌈k/q⌉ divides k.
    pub fn optimum_reachable(&self) -> bool {
        let k = self.motif_length();
        k.is_multiple_of(k.div_ceil(self.quantization))
    }

    /// The canonical optimal solution (notes §1.6): motifs laid out left to right, each element
    /// repeated up to the next offset, the tail filled with the last motif element.
    pub fn optimal_solution(&self) -> Vec<u32> {
        let mut x = Vec::with_capacity(self.dim);
        for (m, o) in self.motifs.iter().zip(&self.offsets) {
            for j in 0..m.len() {
                let reps = if j + 1 < m.len() { o[j + 1] - o[j] } else { 1 };
                x.extend(std::iter::repeat_n(m[j], reps));
            }
        }
        let fill = x.last().copied().unwrap_or(0);
        x.resize(self.dim, fill);
        x
    }
}

/// Validates (L, c, k, q) as holo-bench does, with typed errors instead of exceptions.
pub fn validate_shape(dim: usize, c: usize, k: usize, q: usize) -> Result<(), EhrlichError> {
    if c == 0 {
        return Err(EhrlichError::NoMotifs);
    }
    if k < 2 {
        return Err(EhrlichError::MotifTooShort(k));
    }
    if q == 0 {
        return Err(EhrlichError::ZeroQuantization);
    }
    let needed = c.saturating_mul(k);
    if dim < needed {
        return Err(EhrlichError::TooShort {
            dim,
            num_motifs: c,
            motif_length: k,
            needed,
        });
    }
    Ok(())
}
