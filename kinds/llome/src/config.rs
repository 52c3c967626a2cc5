//! The configuration of a LLOME run, with a CPU-scaled preset of the released f2 pipeline.

use ansatz_ehrlich::GaConfig;
use serde::{Deserialize, Serialize};

use crate::error::{LlomeError, Result};
use crate::generate::GenerationConfig;
use crate::losses::MargeConfig;
use crate::model::ModelConfig;
use crate::optim::AdamConfig;
use crate::pairs::PairConfig;
use crate::train::{Objective, TrainConfig};

/// Width, depth and heads of the model (vocabulary and context follow from the function).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelShape {
    /// Width d.
    pub d_model: usize,
    /// Transformer blocks.
    pub n_layers: usize,
    /// Attention heads.
    pub n_heads: usize,
    /// MLP hidden width.
    pub d_ff: usize,
}

impl Default for ModelShape {
    /// 2 blocks, width 128, 4 heads, MLP 512 (≈ 0.42 M parameters at v = 32, L = 32).
    fn default() -> Self {
        ModelShape {
            d_model: 128,
            n_layers: 2,
            n_heads: 4,
            d_ff: 512,
        }
    }
}

impl ModelShape {
    /// The model configuration for an alphabet of `num_states` and sequences of length `dim`.
    pub fn model_config(&self, num_states: usize, dim: usize) -> ModelConfig {
        ModelConfig {
            vocab_size: num_states + 5,
            max_len: 2 * dim + 6,
            d_model: self.d_model,
            n_layers: self.n_layers,
            n_heads: self.n_heads,
            d_ff: self.d_ff,
            f64: false,
        }
    }
}

/// Everything that defines a run; a run directory refuses to resume under a different one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LlomeConfig {
    /// Seed of the model initialisation, the GA and every sampling step.
    pub seed: u64,
    /// Number of LLOME rounds after round 0 (the GA data).
    pub rounds: usize,
    /// Objective of rounds 2.. (round 1 is always SFT, as in the released pipeline).
    pub objective: Objective,
    /// The round-0 GA (the released pipeline: P = 1000, p_m = 0.005, p_r = 0.0882, α = 0.1).
    pub ga: GaConfig,
    /// GA steps of round 0 (10).
    pub ga_steps: usize,
    /// Oracle labels per LLOME round (2000 in the released pipeline).
    pub labels_per_round: usize,
    /// Likelihood quantile below which candidates are not labelled (0.6).
    pub likelihood_quantile: f64,
    /// Train each round on the pairs of every label so far instead of the last round's only.
    pub train_on_all_labels: bool,
    /// Pair construction.
    pub pairs: PairConfig,
    /// Model shape.
    pub model: ModelShape,
    /// Training of round 1 (SFT from scratch).
    pub first_train: TrainConfig,
    /// Training of later rounds.
    pub train: TrainConfig,
    /// The inner generation loop.
    pub generation: GenerationConfig,
}

impl LlomeConfig {
    /// The released f2 pipeline scaled to two CPU cores: the same GA, pair rules, edit format,
    /// temperatures, likelihood filter and losses (DPO β = 0.4; MargE α = 1, β = 10,
    /// self-normalised), with fewer trajectories, samples and labels, and learning rates for a
    /// model trained from scratch instead of a pretrained 2.8B one.
    pub fn cpu_preset(objective: Objective, seed: u64) -> Self {
        LlomeConfig {
            seed,
            rounds: 6,
            objective,
            ga: GaConfig {
                num_particles: 1000,
                mutation_prob: 0.005,
                recombine_prob: 0.0882,
                survival_quantile: 0.1,
                seed,
            },
            ga_steps: 10,
            labels_per_round: 500,
            likelihood_quantile: 0.6,
            train_on_all_labels: false,
            pairs: PairConfig {
                max_pairs: 3000,
                ..PairConfig::default()
            },
            model: ModelShape::default(),
            first_train: TrainConfig {
                epochs: 3,
                batch_size: 32,
                adam: AdamConfig {
                    lr: 1e-3,
                    ..AdamConfig::default()
                },
            },
            train: TrainConfig {
                epochs: 1,
                batch_size: 32,
                adam: AdamConfig {
                    lr: 1e-4,
                    ..AdamConfig::default()
                },
            },
            generation: GenerationConfig {
                num_seeds: 64,
                iterations: 3,
                temperatures: vec![0.6, 0.8, 1.0, 1.2, 1.4, 1.6],
                samples_per_temperature: 2,
                batch_rows: 256,
            },
        }
    }

    /// The objective by name: `sft`, `dpo` (β = 0.4), `marge` (α = 1, β = 10, self-normalised)
    /// or `marge-standalone` (α = 1, β = 0.1, not self-normalised).
    pub fn objective_by_name(name: &str) -> Result<Objective> {
        match name {
            "sft" => Ok(Objective::Sft),
            "dpo" => Ok(Objective::Dpo { beta: 0.4 }),
            "marge" => Ok(Objective::Marge(MargeConfig::default())),
            // `pref_tuning/pythia-2.8b-marge.yaml` (notes §3.3): β = 0.1, not self-normalised.
            "marge-standalone" => Ok(Objective::Marge(MargeConfig {
                alpha: 1.0,
                beta: 0.1,
                self_normalize: false,
            })),
            other => Err(LlomeError::Config(format!(
                "unknown objective {other} (sft, dpo, marge, marge-standalone)"
            ))),
        }
    }

    /// Checks the values that would otherwise fail late.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(LlomeError::Config(m.to_string()));
        if self.labels_per_round == 0 {
            return bad("labels_per_round must be positive");
        }
        if !(0.0..=1.0).contains(&self.likelihood_quantile) {
            return bad("likelihood_quantile must be in [0, 1]");
        }
        if self.generation.iterations == 0 || self.generation.num_seeds == 0 {
            return bad("generation needs at least one seed and one iteration");
        }
        if self.ga_steps == 0 {
            return bad("ga_steps must be positive");
        }
        Ok(())
    }
}
