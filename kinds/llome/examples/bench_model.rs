//! Times the model's pieces: a training step (SFT, batch 32) and decoding with the KV cache.
//!
//! `cargo run --release -p ansatz-llome --example bench_model`

use std::time::Instant;

use ansatz_llome::{AdamConfig, AdamW, KvCache, Model, ModelShape, Vocab, sft_loss};
use candle_core::Tensor;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (v, l) = (32usize, 32usize);
    let model = Model::new(ModelShape::default().model_config(v, l), 0)?;
    println!("parameters: {}", model.num_params());
    let vocab = Vocab::new(v);
    let xs: Vec<Vec<u32>> = (0..32u32)
        .map(|i| (0..l as u32).map(|j| (i + j) % 32).collect())
        .collect();
    let pairs: Vec<(&[u32], &[u32])> = xs.iter().map(|x| (x.as_slice(), x.as_slice())).collect();
    let mut opt = AdamW::new();
    let t = Instant::now();
    let n = 10;
    for _ in 0..n {
        let loss = sft_loss(&model, &vocab, &pairs)?;
        let g = loss.backward()?;
        opt.step(&model, &g, &AdamConfig::default())?;
    }
    println!(
        "train step (batch 32): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3 / n as f64
    );
    for b in [64usize, 128, 416] {
        let prompt: Vec<u32> = (0..b).flat_map(|_| vocab.prompt(&xs[0])).collect();
        let input = Tensor::from_vec(prompt, (b, l + 4), model.device())?;
        let t = Instant::now();
        let mut cache = KvCache::new();
        model.forward(&input, Some(&mut cache))?;
        let tp = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for _ in 0..(l + 2) {
            let tok = Tensor::from_vec(vec![1u32; b], (b, 1), model.device())?;
            model.forward(&tok, Some(&mut cache))?;
        }
        let td = t.elapsed().as_secs_f64();
        println!(
            "decode {b} rows: prompt {:.1} ms, {} steps {:.1} ms ({:.2} ms per output)",
            tp * 1e3,
            l + 2,
            td * 1e3,
            (tp + td) * 1e3 / b as f64
        );
    }
    Ok(())
}
