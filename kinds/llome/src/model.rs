//! A small causal transformer (GPT-2 style, pre-LayerNorm, learned positions) written with candle.
//!
//! Weights live in a [`candle_nn::VarMap`] under stable names, are initialised from the crate's
//! own ChaCha8 stream (so a seed fixes them), and are saved and loaded as safetensors. Every op is
//! a plain candle primitive with a backward pass (no fused no-gradient kernels), so the same model
//! runs in f64 for finite-difference gradient checks and in f32 for training.

use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{LlomeError, Result};

/// Shape of the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Number of tokens (v + 5, see [`crate::Vocab::size`]).
    pub vocab_size: usize,
    /// Longest context (prompt + target), 2L + 6 for the edit format.
    pub max_len: usize,
    /// Width d.
    pub d_model: usize,
    /// Number of transformer blocks.
    pub n_layers: usize,
    /// Attention heads (must divide `d_model`).
    pub n_heads: usize,
    /// Hidden width of the MLP.
    pub d_ff: usize,
    /// Use f64 instead of f32 (for gradient checks).
    pub f64: bool,
}

impl ModelConfig {
    /// The default CPU model: 2 blocks, width 128, 4 heads, MLP 512.
    pub fn small(vocab_size: usize, max_len: usize) -> Self {
        ModelConfig {
            vocab_size,
            max_len,
            d_model: 128,
            n_layers: 2,
            n_heads: 4,
            d_ff: 512,
            f64: false,
        }
    }
    /// The tensor dtype.
    pub fn dtype(&self) -> DType {
        if self.f64 { DType::F64 } else { DType::F32 }
    }
    fn validate(&self) -> Result<()> {
        if self.n_heads == 0 || !self.d_model.is_multiple_of(self.n_heads) || self.n_layers == 0 {
            return Err(LlomeError::Config(format!(
                "model: d_model {} must be a positive multiple of n_heads {} and n_layers >= 1",
                self.d_model, self.n_heads
            )));
        }
        if self.vocab_size == 0 || self.max_len == 0 || self.d_ff == 0 {
            return Err(LlomeError::Config("model: zero-sized dimension".into()));
        }
        Ok(())
    }
}

/// Keys and values of the tokens seen so far, per block (for incremental decoding).
#[derive(Debug, Default)]
pub struct KvCache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl KvCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of cached positions.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The language model: its configuration and its variables.
pub struct Model {
    config: ModelConfig,
    varmap: VarMap,
    device: Device,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("config", &self.config)
            .field("num_params", &self.num_params())
            .finish()
    }
}

fn normal(rng: &mut ChaCha8Rng, std: f64) -> f64 {
    // Box–Muller
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    std * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

impl Model {
    /// A model with weights drawn from `seed` (normal(0, 0.02), output projections scaled by
    /// 1/√(2·layers), zero biases, unit LayerNorm gains).
    pub fn new(config: ModelConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let device = Device::Cpu;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let varmap = VarMap::new();
        let c = &config;
        let dt = c.dtype();
        let proj_std = 0.02 / (2.0 * c.n_layers as f64).sqrt();
        let mut shapes: Vec<(String, Vec<usize>, Init)> = vec![
            (
                "tok_emb".into(),
                vec![c.vocab_size, c.d_model],
                Init::Normal(0.02),
            ),
            (
                "pos_emb".into(),
                vec![c.max_len, c.d_model],
                Init::Normal(0.02),
            ),
        ];
        for l in 0..c.n_layers {
            let p = format!("h{l}");
            shapes.extend([
                (format!("{p}.ln1.w"), vec![c.d_model], Init::One),
                (format!("{p}.ln1.b"), vec![c.d_model], Init::Zero),
                (
                    format!("{p}.qkv.w"),
                    vec![3 * c.d_model, c.d_model],
                    Init::Normal(0.02),
                ),
                (format!("{p}.qkv.b"), vec![3 * c.d_model], Init::Zero),
                (
                    format!("{p}.proj.w"),
                    vec![c.d_model, c.d_model],
                    Init::Normal(proj_std),
                ),
                (format!("{p}.proj.b"), vec![c.d_model], Init::Zero),
                (format!("{p}.ln2.w"), vec![c.d_model], Init::One),
                (format!("{p}.ln2.b"), vec![c.d_model], Init::Zero),
                (
                    format!("{p}.fc.w"),
                    vec![c.d_ff, c.d_model],
                    Init::Normal(0.02),
                ),
                (format!("{p}.fc.b"), vec![c.d_ff], Init::Zero),
                (
                    format!("{p}.out.w"),
                    vec![c.d_model, c.d_ff],
                    Init::Normal(proj_std),
                ),
                (format!("{p}.out.b"), vec![c.d_model], Init::Zero),
            ]);
        }
        shapes.extend([
            ("ln_f.w".into(), vec![c.d_model], Init::One),
            ("ln_f.b".into(), vec![c.d_model], Init::Zero),
            (
                "head.w".into(),
                vec![c.vocab_size, c.d_model],
                Init::Normal(0.02),
            ),
        ]);
        {
            let mut data = varmap.data().lock().expect("fresh varmap lock");
            for (name, shape, init) in shapes {
                let n: usize = shape.iter().product();
                let vals: Vec<f64> = match init {
                    Init::Zero => vec![0.0; n],
                    Init::One => vec![1.0; n],
                    Init::Normal(s) => (0..n).map(|_| normal(&mut rng, s)).collect(),
                };
                let t = Tensor::from_vec(vals, shape, &device)?.to_dtype(dt)?;
                data.insert(name, Var::from_tensor(&t)?);
            }
        }
        Ok(Model {
            config,
            varmap,
            device,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }
    /// The device (always the CPU).
    pub fn device(&self) -> &Device {
        &self.device
    }
    /// All variables, sorted by name.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        let data = self.varmap.data().lock().expect("varmap lock");
        let mut v: Vec<(String, Var)> = data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
    /// Number of scalar parameters.
    pub fn num_params(&self) -> usize {
        self.named_vars().iter().map(|(_, v)| v.elem_count()).sum()
    }
    fn var(&self, name: &str) -> Result<Tensor> {
        let data = self.varmap.data().lock().expect("varmap lock");
        data.get(name)
            .map(|v| v.as_tensor().clone())
            .ok_or_else(|| LlomeError::Config(format!("model has no variable {name}")))
    }
    /// Saves the weights as safetensors.
    pub fn save(&self, path: &Path) -> Result<()> {
        Ok(self.varmap.save(path)?)
    }
    /// Loads weights saved by [`Model::save`] from a model of the same configuration.
    pub fn load(&self, path: &Path) -> Result<()> {
        let map = candle_core::safetensors::load(path, &self.device)?;
        for (name, var) in self.named_vars() {
            let t = map
                .get(&name)
                .ok_or_else(|| LlomeError::Config(format!("{} lacks {name}", path.display())))?;
            var.set(&t.to_dtype(self.config.dtype())?)?;
        }
        Ok(())
    }
    /// Copies every weight from `other` (same configuration), e.g. to freeze a reference model.
    pub fn copy_from(&self, other: &Model) -> Result<()> {
        let src = other.named_vars();
        for ((n1, v1), (n2, v2)) in self.named_vars().iter().zip(src.iter()) {
            if n1 != n2 {
                return Err(LlomeError::Config("copy between different models".into()));
            }
            v1.set(v2.as_tensor())?;
        }
        Ok(())
    }
    /// A frozen copy (independent variables with the same values).
    pub fn duplicate(&self) -> Result<Model> {
        let m = Model::new(self.config.clone(), 0)?;
        m.copy_from(self)?;
        Ok(m)
    }

    /// Logits `[B, T, V]` for tokens `[B, T]` (u32). With a cache, the tokens continue the
    /// cached positions and their keys/values are appended.
    pub fn forward(&self, tokens: &Tensor, mut cache: Option<&mut KvCache>) -> Result<Tensor> {
        let c = &self.config;
        let (b, t) = tokens.dims2()?;
        let offset = cache.as_ref().map_or(0, |k| k.len);
        if offset + t > c.max_len {
            return Err(LlomeError::Config(format!(
                "context {} exceeds max_len {}",
                offset + t,
                c.max_len
            )));
        }
        let dt = c.dtype();
        let (d, h) = (c.d_model, c.n_heads);
        let dh = d / h;
        let emb = self
            .var("tok_emb")?
            .index_select(&tokens.flatten_all()?, 0)?;
        let pos = self.var("pos_emb")?.narrow(0, offset, t)?;
        let mut x = emb.reshape((b, t, d))?.broadcast_add(&pos)?;
        let s = offset + t;
        let mask: Vec<f64> = (0..t)
            .flat_map(|i| (0..s).map(move |j| if j <= offset + i { 0.0 } else { -1e9 }))
            .collect();
        let mask = Tensor::from_vec(mask, (t, s), &self.device)?.to_dtype(dt)?;
        let scale = 1.0 / (dh as f64).sqrt();
        if let Some(k) = cache.as_mut()
            && k.layers.len() < c.n_layers
        {
            k.layers.resize(c.n_layers, None);
        }
        for l in 0..c.n_layers {
            let p = format!("h{l}");
            let hdn = self.layer_norm(&x, &p, "ln1")?;
            let qkv = self.linear(&hdn, &format!("{p}.qkv"))?;
            let split = |i: usize| -> Result<Tensor> {
                Ok(qkv
                    .narrow(D::Minus1, i * d, d)?
                    .reshape((b, t, h, dh))?
                    .transpose(1, 2)?
                    .contiguous()?)
            };
            let (q, mut kk, mut vv) = (split(0)?, split(1)?, split(2)?);
            if let Some(cache) = cache.as_mut() {
                if let Some((pk, pv)) = &cache.layers[l] {
                    kk = Tensor::cat(&[pk, &kk], 2)?;
                    vv = Tensor::cat(&[pv, &vv], 2)?;
                }
                cache.layers[l] = Some((kk.clone(), vv.clone()));
            }
            let att = (q.matmul(&kk.t()?.contiguous()?)? * scale)?.broadcast_add(&mask)?;
            let att = softmax_last(&att)?;
            let y = att
                .matmul(&vv)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((b, t, d))?;
            x = (x + self.linear(&y, &format!("{p}.proj"))?)?;
            let hdn = self.layer_norm(&x, &p, "ln2")?;
            let m = self.linear(&hdn, &format!("{p}.fc"))?.gelu()?;
            x = (x + self.linear(&m, &format!("{p}.out"))?)?;
        }
        if let Some(k) = cache {
            k.len = s;
        }
        let x = self.layer_norm(&x, "", "ln_f")?;
        Ok(matmul_2d(&x, &self.var("head.w")?)?)
    }

    fn linear(&self, x: &Tensor, name: &str) -> Result<Tensor> {
        let w = self.var(&format!("{name}.w"))?;
        let bias = self.var(&format!("{name}.b"))?;
        Ok(matmul_2d(x, &w)?.broadcast_add(&bias)?)
    }

    fn layer_norm(&self, x: &Tensor, prefix: &str, name: &str) -> Result<Tensor> {
        let full = if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}.{name}")
        };
        let w = self.var(&format!("{full}.w"))?;
        let bias = self.var(&format!("{full}.b"))?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let xc = x.broadcast_sub(&mean)?;
        let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
        let xn = xc.broadcast_div(&(var + 1e-5)?.sqrt()?)?;
        Ok(xn.broadcast_mul(&w)?.broadcast_add(&bias)?)
    }
}

/// `x · wᵀ` for `x` of shape `[B, T, in]` and `w` of shape `[out, in]`, as one 2-D product (a
/// broadcast batched product would copy `w` once per batch row).
fn matmul_2d(x: &Tensor, w: &Tensor) -> candle_core::Result<Tensor> {
    let (b, t, d) = x.dims3()?;
    let out = w.dim(0)?;
    x.reshape((b * t, d))?.matmul(&w.t()?)?.reshape((b, t, out))
}

enum Init {
    Zero,
    One,
    Normal(f64),
}

/// Softmax over the last dimension from differentiable primitives.
pub(crate) fn softmax_last(x: &Tensor) -> candle_core::Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let e = x.broadcast_sub(&max)?.exp()?;
    e.broadcast_div(&e.sum_keepdim(D::Minus1)?)
}

/// Log-softmax over the last dimension from differentiable primitives.
pub(crate) fn log_softmax_last(x: &Tensor) -> candle_core::Result<Tensor> {
    let max = x.max_keepdim(D::Minus1)?.detach();
    let z = x.broadcast_sub(&max)?;
    z.broadcast_sub(&z.exp()?.sum_keepdim(D::Minus1)?.log()?)
}
