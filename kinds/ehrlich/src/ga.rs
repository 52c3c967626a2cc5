//! The genetic-algorithm baseline `DiscreteEvolution` (holo-bench, notes §3.1).
//!
//! Deterministic for a seed, whatever the number of rayon threads: every particle draws from its
//! own ChaCha8 stream, indexed by (step, particle), so the work can be split freely.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::function::Ehrlich;

/// Hyper-parameters of [`DiscreteEvolution`] (serialisable: run directories record them).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GaConfig {
    /// Number of particles P.
    pub num_particles: usize,
    /// Per-position mutation probability p_m in (0, 1).
    pub mutation_prob: f64,
    /// Probability p_r that a child takes parent 1's symbol at a position, in [0, 1).
    pub recombine_prob: f64,
    /// Survival quantile α in (0, 1) with α·P ≥ 2.
    pub survival_quantile: f64,
    /// Seed of the optimiser's random streams.
    pub seed: u64,
}

/// Named GA settings from the papers and the reference code (notes §2.1, §2.4, §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GaPreset {
    /// The GA acceptance setting of notes §2.4: P = 1000, p_m = p_r = 1.1/L, survival 0.1.
    Paper,
    /// The Ehrlich paper's figure runs (§2.1): P = 10⁶, p_m = p_r = 1.1/L, survival 10⁻⁴.
    PaperFigures,
    /// The large-population setting that solves LLOME's f2 (§2.4): P = 10,000,
    /// p_m = p_r = 1.1/L, survival 0.01.
    LargePopulation,
    /// LLOME's round-0 seed data (§3.2): P = 1000, p_m = 0.005, p_r = 0.0882, survival 0.1,
    /// run for 10 steps.
    LlomeSeedData,
}

impl GaPreset {
    /// Every preset, for listings.
    pub const ALL: [GaPreset; 4] = [
        GaPreset::Paper,
        GaPreset::PaperFigures,
        GaPreset::LargePopulation,
        GaPreset::LlomeSeedData,
    ];

    /// The preset's name (`paper`, `paper-figures`, `large-population`, `llome-seed-data`).
    pub fn name(self) -> &'static str {
        match self {
            GaPreset::Paper => "paper",
            GaPreset::PaperFigures => "paper-figures",
            GaPreset::LargePopulation => "large-population",
            GaPreset::LlomeSeedData => "llome-seed-data",
        }
    }

    /// The preset by name (an unknown name lists the known ones).
    pub fn from_name(name: &str) -> Result<GaPreset, GaConfigError> {
        GaPreset::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = GaPreset::ALL.iter().map(|p| p.name()).collect();
                GaConfigError(format!(
                    "unknown GA preset `{name}` (known: {})",
                    known.join(", ")
                ))
            })
    }

    /// The settings for sequences of length `dim`, with the optimiser seed `seed`.
    pub fn config(self, dim: usize, seed: u64) -> GaConfig {
        let rate = 1.1 / dim.max(2) as f64;
        let (num_particles, mutation_prob, recombine_prob, survival_quantile) = match self {
            GaPreset::Paper => (1000, rate, rate, 0.1),
            GaPreset::PaperFigures => (1_000_000, rate, rate, 1e-4),
            GaPreset::LargePopulation => (10_000, rate, rate, 0.01),
            GaPreset::LlomeSeedData => (1000, 0.005, 0.0882, 0.1),
        };
        GaConfig {
            num_particles,
            mutation_prob,
            recombine_prob,
            survival_quantile,
            seed,
        }
    }
}

/// What one step observed.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// Step index (0-based).
    pub step: usize,
    /// Best f of the population scored at this step.
    pub population_best: f64,
    /// Best f over all steps so far (running best).
    pub running_best: f64,
    /// Fraction of feasible particles at this step.
    pub feasible_fraction: f64,
}

/// The GA: quantile survival, biased uniform crossover, mutation of every particle, running best.
/// It maximises f (holo-bench minimises −f; the semantics are identical).
#[derive(Debug, Clone)]
pub struct DiscreteEvolution {
    config: GaConfig,
    num_states: u32,
    particles: Vec<Vec<u32>>,
    step: usize,
    best: Option<(f64, Vec<u32>)>,
}

/// Invalid GA hyper-parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid GA configuration: {0}")]
pub struct GaConfigError(pub String);

impl DiscreteEvolution {
    /// Starts with `num_particles` copies of `start`, symbols drawn from 0..num_states on mutation.
    pub fn new(config: GaConfig, start: &[u32], num_states: usize) -> Result<Self, GaConfigError> {
        let c = &config;
        if !(c.mutation_prob > 0.0 && c.mutation_prob < 1.0) {
            return Err(GaConfigError(format!(
                "mutation_prob {} not in (0,1)",
                c.mutation_prob
            )));
        }
        if !(c.recombine_prob >= 0.0 && c.recombine_prob < 1.0) {
            return Err(GaConfigError(format!(
                "recombine_prob {} not in [0,1)",
                c.recombine_prob
            )));
        }
        if !(c.survival_quantile > 0.0 && c.survival_quantile < 1.0)
            || c.survival_quantile * (c.num_particles as f64) < 2.0
        {
            return Err(GaConfigError(format!(
                "survival_quantile {} must be in (0,1) with quantile*P >= 2 (P = {})",
                c.survival_quantile, c.num_particles
            )));
        }
        if num_states == 0 || num_states > u32::MAX as usize {
            return Err(GaConfigError(format!(
                "num_states {num_states} out of range"
            )));
        }
        if start.is_empty() {
            return Err(GaConfigError("empty start sequence".into()));
        }
        Ok(DiscreteEvolution {
            particles: vec![start.to_vec(); config.num_particles],
            config,
            num_states: num_states as u32,
            step: 0,
            best: None,
        })
    }

    /// Starts from the function's initial solution.
    pub fn for_function(config: GaConfig, f: &Ehrlich) -> Result<Self, GaConfigError> {
        Self::new(config, f.initial_solution(), f.num_states())
    }

    /// The current particles.
    pub fn particles(&self) -> &[Vec<u32>] {
        &self.particles
    }

    /// The running best (value, sequence), once a step has run.
    pub fn best(&self) -> Option<(f64, &[u32])> {
        self.best.as_ref().map(|(v, x)| (*v, x.as_slice()))
    }

    fn rng(&self, particle: usize) -> ChaCha8Rng {
        let mut r = ChaCha8Rng::seed_from_u64(self.config.seed);
        r.set_stream(((self.step as u64) << 32) ^ particle as u64);
        r
    }

    /// One step with an objective to maximise (−∞ = infeasible). Sequences passed to `objective`
    /// always have the start's length and symbols in 0..v.
    pub fn step<F>(&mut self, objective: F) -> StepReport
    where
        F: Fn(&[u32]) -> f64 + Sync,
    {
        let p = self.particles.len();
        // 1. score (loss = −f, as in holo-bench)
        let loss: Vec<f64> = self.particles.par_iter().map(|x| -objective(x)).collect();
        // 2. best of this population (first argmin)
        let mut arg = 0;
        for i in 1..p {
            if loss[i] < loss[arg] {
                arg = i;
            }
        }
        let population_best = -loss[arg];
        if self.best.as_ref().is_none_or(|(b, _)| population_best > *b) {
            self.best = Some((population_best, self.particles[arg].clone()));
        }
        let feasible_fraction = loss.iter().filter(|l| l.is_finite()).count() as f64 / p as f64;
        // 3. survivors: loss ≤ τ = quantile(loss, α) (linear interpolation); all if τ not finite
        let tau = quantile(&loss, self.config.survival_quantile);
        let survivors: Vec<usize> = if tau.is_finite() {
            (0..p).filter(|&i| loss[i] <= tau).collect()
        } else {
            (0..p).collect()
        };
        let mut is_survivor = vec![false; p];
        survivors.iter().for_each(|&i| is_survivor[i] = true);
        // 4–5. children for non-survivors, then mutate everyone
        let old = &self.particles;
        let cfg = &self.config;
        let v = self.num_states;
        let next: Vec<Vec<u32>> = (0..p)
            .into_par_iter()
            .map(|i| {
                let mut rng = self.rng(i);
                let mut x = if is_survivor[i] {
                    old[i].clone()
                } else {
                    let a = &old[survivors[rng.random_range(0..survivors.len())]];
                    let b = &old[survivors[rng.random_range(0..survivors.len())]];
                    a.iter()
                        .zip(b)
                        .map(|(&sa, &sb)| {
                            if rng.random::<f64>() < cfg.recombine_prob {
                                sa
                            } else {
                                sb
                            }
                        })
                        .collect()
                };
                for s in &mut x {
                    if rng.random::<f64>() < cfg.mutation_prob {
                        *s = rng.random_range(0..v);
                    }
                }
                x
            })
            .collect();
        self.particles = next;
        let report = StepReport {
            step: self.step,
            population_best,
            running_best: self.best.as_ref().map_or(population_best, |b| b.0),
            feasible_fraction,
        };
        self.step += 1;
        report
    }

    /// Runs on an Ehrlich function until the running best reaches `target` or `max_steps` steps ran.
    /// Returns the number of steps run and the last report.
    pub fn run(
        &mut self,
        f: &Ehrlich,
        target: f64,
        max_steps: usize,
    ) -> (usize, Option<StepReport>) {
        let mut last = None;
        for n in 1..=max_steps {
            let r = self.step(|x| f.value_unchecked(x));
            let done = r.running_best >= target;
            last = Some(r);
            if done {
                return (n, last);
            }
        }
        (max_steps, last)
    }
}

/// torch.quantile with linear interpolation; +∞ entries sort last. NaN if interpolating into +∞.
pub fn quantile(values: &[f64], alpha: f64) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    if s.is_empty() {
        return f64::NAN;
    }
    let pos = alpha * (s.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    let frac = pos - lo as f64;
    if frac == 0.0 || s[lo] == s[hi] {
        s[lo]
    } else {
        s[lo] + (s[hi] - s[lo]) * frac
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn quantile_interpolates_and_handles_infinity() {
        assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0, 5.0], 0.5), 3.0);
        assert_eq!(quantile(&[0.0, 1.0], 0.25), 0.25);
        assert!(!quantile(&[0.0, f64::INFINITY, f64::INFINITY], 0.1).is_finite());
        assert_eq!(quantile(&[0.0, 0.0, f64::INFINITY], 0.1), 0.0);
    }

    #[test]
    fn presets_round_trip_by_name_and_are_valid() {
        use super::{DiscreteEvolution, GaPreset};
        for p in GaPreset::ALL {
            assert_eq!(GaPreset::from_name(p.name()), Ok(p));
            let mut c = p.config(32, 0);
            // Validity does not depend on P beyond survival·P ≥ 2 (10⁶ copies would be 128 MB).
            c.num_particles = c.num_particles.min(20_000);
            assert!(DiscreteEvolution::new(c, &[0; 32], 32).is_ok(), "{p:?}");
        }
        let c = GaPreset::LargePopulation.config(32, 5);
        assert_eq!(
            (c.num_particles, c.survival_quantile, c.seed),
            (10_000, 0.01, 5)
        );
        assert!((c.mutation_prob - 1.1 / 32.0).abs() < 1e-15);
        let e = GaPreset::from_name("fast").unwrap_err().to_string();
        assert!(e.contains("llome-seed-data"), "{e}");
    }
}
