//! AdamW with global-norm gradient clipping and a state that is saved beside the weights, so
//! that a resumed run continues with the same moments and step count.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Tensor, backprop::GradStore};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::model::Model;

/// Hyper-parameters of [`AdamW`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value (0 = no clipping).
    pub clip_norm: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            clip_norm: 1.0,
        }
    }
}

/// AdamW state: step count and first/second moments per variable name.
#[derive(Debug, Default)]
pub struct AdamW {
    step: u64,
    moments: BTreeMap<String, (Tensor, Tensor)>,
}

impl AdamW {
    /// A fresh optimiser.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of updates made.
    pub fn step_count(&self) -> u64 {
        self.step
    }

    /// One update of every variable of `model` that has a gradient in `grads`; returns the
    /// gradient norm before clipping.
    pub fn step(&mut self, model: &Model, grads: &GradStore, cfg: &AdamConfig) -> Result<f64> {
        let vars = model.named_vars();
        let mut sq = 0.0;
        for (_, v) in &vars {
            if let Some(g) = grads.get(v) {
                sq += g
                    .to_dtype(DType::F64)?
                    .sqr()?
                    .sum_all()?
                    .to_scalar::<f64>()?;
            }
        }
        let norm = sq.sqrt();
        let scale = if cfg.clip_norm > 0.0 && norm > cfg.clip_norm {
            cfg.clip_norm / norm
        } else {
            1.0
        };
        self.step += 1;
        let t = self.step as i32;
        let (bc1, bc2) = (1.0 - cfg.beta1.powi(t), 1.0 - cfg.beta2.powi(t));
        for (name, v) in &vars {
            let Some(g) = grads.get(v) else { continue };
            let g = (g * scale)?;
            let (m, s) = match self.moments.get(name) {
                Some((m, s)) => (m.clone(), s.clone()),
                None => (g.zeros_like()?, g.zeros_like()?),
            };
            let m = ((m * cfg.beta1)? + (&g * (1.0 - cfg.beta1))?)?;
            let s = ((s * cfg.beta2)? + (g.sqr()? * (1.0 - cfg.beta2))?)?;
            let upd = ((&m * (1.0 / bc1))? / ((&s * (1.0 / bc2))?.sqrt()? + cfg.eps)?)?;
            let theta = v.as_tensor();
            let decayed = (theta * (1.0 - cfg.lr * cfg.weight_decay))?;
            v.set(&(decayed - (upd * cfg.lr)?)?)?;
            self.moments.insert(name.clone(), (m, s));
        }
        Ok(norm)
    }

    /// Saves the state as safetensors (`m.NAME`, `v.NAME`, `step`).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut map: HashMap<String, Tensor> = HashMap::new();
        for (k, (m, s)) in &self.moments {
            map.insert(format!("m.{k}"), m.clone());
            map.insert(format!("v.{k}"), s.clone());
        }
        map.insert(
            "step".into(),
            Tensor::new(&[self.step as f64], &candle_core::Device::Cpu)?,
        );
        candle_core::safetensors::save(&map, path)?;
        Ok(())
    }

    /// Loads a state saved by [`AdamW::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let map = candle_core::safetensors::load(path, &candle_core::Device::Cpu)?;
        let mut moments = BTreeMap::new();
        let mut step = 0;
        for (k, t) in &map {
            if k == "step" {
                step = t.to_vec1::<f64>()?.first().copied().unwrap_or(0.0) as u64;
            } else if let Some(name) = k.strip_prefix("m.")
                && let Some(s) = map.get(&format!("v.{name}"))
            {
                moments.insert(name.to_string(), (t.clone(), s.clone()));
            }
        }
        Ok(AdamW { step, moments })
    }
}
