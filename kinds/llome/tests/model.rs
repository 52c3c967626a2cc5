//! Model save/load, optimiser state and training determinism.

mod common;

use ansatz_llome::pairs::EditPair;
use ansatz_llome::{AdamConfig, AdamW, Model, Objective, TrainConfig, Vocab, train_round};
use candle_core::Tensor;
use common::{temp_dir, tiny_config};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn logits(m: &Model) -> Vec<f64> {
    let t = Tensor::from_vec(vec![6u32, 4, 0, 1, 2, 5, 7], (1, 7), m.device()).expect("tokens");
    m.forward(&t, None)
        .expect("forward")
        .flatten_all()
        .expect("f")
        .to_vec1::<f64>()
        .expect("v")
}

fn pairs() -> Vec<EditPair> {
    (0..12u32)
        .map(|i| EditPair {
            x: vec![i % 4, (i / 4) % 4, 1],
            y: vec![i % 4, 2, (i + 1) % 4],
            fx: 0.0,
            fy: 0.25 + f64::from(i % 3) * 0.25,
        })
        .collect()
}

fn cfg() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 4,
        adam: AdamConfig {
            lr: 1e-2,
            ..AdamConfig::default()
        },
    }
}

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let a = logits(&Model::new(tiny_config(), 11).expect("model"));
    let b = logits(&Model::new(tiny_config(), 11).expect("model"));
    let c = logits(&Model::new(tiny_config(), 12).expect("model"));
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn save_load_round_trip_gives_identical_logits() {
    let dir = temp_dir("saveload");
    std::fs::create_dir_all(&dir).expect("dir");
    let m = Model::new(tiny_config(), 13).expect("model");
    let mut opt = AdamW::new();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    train_round(
        &m,
        &mut opt,
        &Vocab::new(4),
        &Objective::Sft,
        &pairs(),
        &[],
        &cfg(),
        &mut rng,
    )
    .expect("train");
    let path = dir.join("m.safetensors");
    m.save(&path).expect("save");
    let other = Model::new(tiny_config(), 14).expect("model");
    assert_ne!(logits(&m), logits(&other));
    other.load(&path).expect("load");
    assert_eq!(logits(&m), logits(&other));
    // the KV-cached forward agrees with the full forward
    let t = Tensor::from_vec(vec![6u32, 4, 0, 1, 2, 5, 7], (1, 7), m.device()).expect("t");
    let full = m
        .forward(&t, None)
        .expect("full")
        .narrow(1, 6, 1)
        .expect("n");
    let mut cache = ansatz_llome::KvCache::new();
    m.forward(&t.narrow(1, 0, 4).expect("n"), Some(&mut cache))
        .expect("prefix");
    m.forward(&t.narrow(1, 4, 2).expect("n"), Some(&mut cache))
        .expect("mid");
    let last = m
        .forward(&t.narrow(1, 6, 1).expect("n"), Some(&mut cache))
        .expect("last");
    let d = (full - last)
        .expect("d")
        .abs()
        .expect("a")
        .max_all()
        .expect("m");
    assert!(d.to_scalar::<f64>().expect("s") < 1e-10);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn resumed_training_continues_identically() {
    let dir = temp_dir("resume-train");
    std::fs::create_dir_all(&dir).expect("dir");
    let vocab = Vocab::new(4);
    // straight: two epochs in two calls
    let a = Model::new(tiny_config(), 15).expect("model");
    let mut opt_a = AdamW::new();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    train_round(
        &a,
        &mut opt_a,
        &vocab,
        &Objective::Sft,
        &pairs(),
        &[],
        &cfg(),
        &mut rng,
    )
    .expect("t");
    a.save(&dir.join("a.safetensors")).expect("save");
    opt_a.save(&dir.join("a.opt")).expect("save opt");
    let mut rng2 = ChaCha8Rng::seed_from_u64(2);
    train_round(
        &a,
        &mut opt_a,
        &vocab,
        &Objective::Sft,
        &pairs(),
        &[],
        &cfg(),
        &mut rng2,
    )
    .expect("t");
    // resumed: load weights and optimiser state into a fresh model
    let b = Model::new(tiny_config(), 99).expect("model");
    b.load(&dir.join("a.safetensors")).expect("load");
    let mut opt_b = AdamW::load(&dir.join("a.opt")).expect("load opt");
    assert_eq!(opt_b.step_count(), 3);
    let mut rng3 = ChaCha8Rng::seed_from_u64(2);
    train_round(
        &b,
        &mut opt_b,
        &vocab,
        &Objective::Sft,
        &pairs(),
        &[],
        &cfg(),
        &mut rng3,
    )
    .expect("t");
    assert_eq!(logits(&a), logits(&b));
    // without the optimiser state the result differs (the moments matter)
    let c = Model::new(tiny_config(), 99).expect("model");
    c.load(&dir.join("a.safetensors")).expect("load");
    let mut rng4 = ChaCha8Rng::seed_from_u64(2);
    train_round(
        &c,
        &mut AdamW::new(),
        &vocab,
        &Objective::Sft,
        &pairs(),
        &[],
        &cfg(),
        &mut rng4,
    )
    .expect("t");
    assert_ne!(logits(&a), logits(&c));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn sft_training_lowers_the_loss() {
    let m = Model::new(tiny_config(), 16).expect("model");
    let mut opt = AdamW::new();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let c = TrainConfig {
        epochs: 30,
        ..cfg()
    };
    let s = train_round(
        &m,
        &mut opt,
        &Vocab::new(4),
        &Objective::Sft,
        &pairs(),
        &[],
        &c,
        &mut rng,
    )
    .expect("train");
    let (first, last) = (s.epoch_losses[0], s.epoch_losses[29]);
    assert!(last < 0.6 * first, "{first} -> {last}");
}
