//! Loss values and gradients against finite differences on a tiny f64 model.

mod common;

use ansatz_llome::{
    DpoTriple, MargeConfig, Model, Vocab, dpo_loss, marge_loss, marge_weights, sft_loss,
};
use candle_core::Tensor;
use common::tiny_config;

type LossFn<'a> = dyn Fn(&Model) -> Tensor + 'a;

fn scalar(t: &Tensor) -> f64 {
    t.to_scalar::<f64>().expect("f64 scalar")
}

/// Compares the autograd gradient of `loss` with central differences on a few entries of every
/// variable; returns the largest relative error.
fn grad_check(model: &Model, loss: &LossFn) -> f64 {
    let l = loss(model);
    let grads = l.backward().expect("backward");
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    let mut checked = 0;
    for (name, var) in model.named_vars() {
        let g = grads
            .get(&var)
            .unwrap_or_else(|| panic!("no gradient for {name}"))
            .flatten_all()
            .expect("flatten")
            .to_vec1::<f64>()
            .expect("vec");
        let base = var
            .as_tensor()
            .flatten_all()
            .expect("flatten")
            .to_vec1::<f64>()
            .expect("vec");
        let n = base.len();
        for &i in &[0, n / 3, n / 2, n - 1] {
            let mut plus = base.clone();
            plus[i] += eps;
            let mut minus = base.clone();
            minus[i] -= eps;
            let shape = var.as_tensor().shape().clone();
            var.set(&Tensor::from_vec(plus, shape.clone(), model.device()).expect("t"))
                .expect("set");
            let lp = scalar(&loss(model));
            var.set(&Tensor::from_vec(minus, shape.clone(), model.device()).expect("t"))
                .expect("set");
            let lm = scalar(&loss(model));
            var.set(&Tensor::from_vec(base.clone(), shape, model.device()).expect("t"))
                .expect("set");
            let fd = (lp - lm) / (2.0 * eps);
            let err = (fd - g[i]).abs() / (fd.abs() + g[i].abs()).max(1e-4);
            worst = worst.max(err);
            checked += 1;
        }
    }
    assert!(checked > 40);
    worst
}

fn data() -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    (
        vec![vec![0, 1, 2], vec![3, 3, 1], vec![2, 0, 0]],
        vec![vec![0, 1, 3], vec![3, 2, 1], vec![1, 0, 0]],
    )
}

fn pairs<'a>(xs: &'a [Vec<u32>], ys: &'a [Vec<u32>]) -> Vec<(&'a [u32], &'a [u32])> {
    xs.iter()
        .zip(ys)
        .map(|(x, y)| (x.as_slice(), y.as_slice()))
        .collect()
}

#[test]
fn sft_gradient_matches_finite_differences() {
    let model = Model::new(tiny_config(), 1).expect("model");
    let vocab = Vocab::new(4);
    let (xs, ys) = data();
    let worst = grad_check(&model, &|m| {
        sft_loss(m, &vocab, &pairs(&xs, &ys)).expect("loss")
    });
    assert!(worst < 1e-4, "worst relative error {worst}");
}

#[test]
fn sft_loss_at_init_is_near_log_vocab() {
    let model = Model::new(tiny_config(), 2).expect("model");
    let (xs, ys) = data();
    let l = scalar(&sft_loss(&model, &Vocab::new(4), &pairs(&xs, &ys)).expect("loss"));
    assert!((l - (9f64).ln()).abs() < 0.1, "{l}");
}

fn triples() -> Vec<DpoTriple> {
    let (xs, ys) = data();
    xs.iter()
        .zip(&ys)
        .map(|(x, y)| DpoTriple {
            x: x.clone(),
            chosen: y.clone(),
            rejected: vec![y[2], y[0], y[1]],
        })
        .collect()
}

fn ref_logps(model: &Model, t: &[DpoTriple]) -> (Vec<f64>, Vec<f64>) {
    let vocab = Vocab::new(4);
    let w: Vec<(&[u32], &[u32])> = t
        .iter()
        .map(|t| (t.x.as_slice(), t.chosen.as_slice()))
        .collect();
    let l: Vec<(&[u32], &[u32])> = t
        .iter()
        .map(|t| (t.x.as_slice(), t.rejected.as_slice()))
        .collect();
    (
        ansatz_llome::train::reference_logprobs(model, &vocab, &w, 8).expect("ref"),
        ansatz_llome::train::reference_logprobs(model, &vocab, &l, 8).expect("ref"),
    )
}

#[test]
fn dpo_is_log_two_when_policy_is_reference() {
    let model = Model::new(tiny_config(), 3).expect("model");
    let t = triples();
    let (rw, rl) = ref_logps(&model, &t);
    let l = scalar(&dpo_loss(&model, &Vocab::new(4), &t, &rw, &rl, 0.4).expect("loss"));
    assert!((l - 2f64.ln()).abs() < 1e-12, "{l}");
}

#[test]
fn dpo_gradient_matches_finite_differences() {
    let model = Model::new(tiny_config(), 4).expect("model");
    let t = triples();
    // a reference that differs from the policy, so that σ is away from ½
    let other = Model::new(tiny_config(), 5).expect("model");
    let (rw, rl) = ref_logps(&other, &t);
    let vocab = Vocab::new(4);
    let worst = grad_check(&model, &|m| {
        dpo_loss(m, &vocab, &t, &rw, &rl, 0.4).expect("loss")
    });
    assert!(worst < 1e-4, "worst relative error {worst}");
}

type MargeData = (Vec<Vec<u32>>, Vec<Vec<u32>>, Vec<f64>, Vec<f64>);

fn marge_setup(model: &Model) -> MargeData {
    let (xs, ys) = data();
    let other = Model::new(tiny_config(), 7).expect("model");
    let rf = ansatz_llome::train::reference_logprobs(&other, &Vocab::new(4), &pairs(&xs, &ys), 8)
        .expect("ref");
    let _ = model;
    (xs, ys, vec![0.25, 0.0, 0.5], rf)
}

#[test]
fn marge_gradient_matches_finite_differences_both_normalisations() {
    let model = Model::new(tiny_config(), 6).expect("model");
    let vocab = Vocab::new(4);
    let (xs, ys, r, rf) = marge_setup(&model);
    for self_normalize in [true, false] {
        let cfg = MargeConfig {
            alpha: 1.0,
            beta: 0.1,
            self_normalize,
        };
        let worst = grad_check(&model, &|m| {
            marge_loss(m, &vocab, &pairs(&xs, &ys), &r, &rf, &cfg).expect("loss")
        });
        assert!(
            worst < 1e-4,
            "self_normalize {self_normalize}: worst relative error {worst}"
        );
    }
}

#[test]
fn marge_weights_normalise_and_match_the_loss() {
    let w = marge_weights(&[-1.0, -2.0, -3.0], &[-1.5, -2.0, -2.0], true);
    assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let raw = marge_weights(&[-1.0, -2.0, -3.0], &[-1.5, -2.0, -2.0], false);
    assert!((raw[0] - 0.5f64.exp()).abs() < 1e-12 && (raw[1] - 1.0).abs() < 1e-12);
    assert!((w[0] / w[2] - raw[0] / raw[2]).abs() < 1e-12);
    // the loss equals α·Σ w̃(ℓ − r)/B − β·mean ℓ with these weights
    let model = Model::new(tiny_config(), 8).expect("model");
    let vocab = Vocab::new(4);
    let (xs, ys, r, rf) = marge_setup(&model);
    let p = pairs(&xs, &ys);
    let lp = ansatz_llome::train::reference_logprobs(&model, &vocab, &p, 8).expect("lp");
    let n = 5.0; // L + 2 target tokens
    for sn in [true, false] {
        let cfg = MargeConfig {
            alpha: 1.0,
            beta: 10.0,
            self_normalize: sn,
        };
        let w = marge_weights(&lp, &rf, sn);
        let expect: f64 = (0..3)
            .map(|i| cfg.alpha * w[i] * (lp[i] / n - r[i]) - cfg.beta * lp[i] / n)
            .sum::<f64>()
            / 3.0;
        let got = scalar(&marge_loss(&model, &vocab, &p, &r, &rf, &cfg).expect("loss"));
        assert!((got - expect).abs() < 1e-10, "{got} vs {expect}");
    }
}

/// The notes' observation: with a batch of one and self-normalisation, w̃ ≡ 1 and the gradient
/// is that of (α − β)·ℓ, whatever the reward.
#[test]
fn marge_batch_one_self_normalised_is_scaled_sft() {
    let model = Model::new(tiny_config(), 9).expect("model");
    let vocab = Vocab::new(4);
    let (x, y) = (vec![0u32, 1, 2], vec![0u32, 1, 3]);
    let p = [(x.as_slice(), y.as_slice())];
    let cfg = MargeConfig {
        alpha: 1.0,
        beta: 10.0,
        self_normalize: true,
    };
    let grads = |r: f64| {
        let l = marge_loss(&model, &vocab, &p, &[r], &[-3.0], &cfg).expect("loss");
        let g = l.backward().expect("backward");
        model
            .named_vars()
            .iter()
            .flat_map(|(_, v)| {
                g.get(v)
                    .expect("grad")
                    .flatten_all()
                    .expect("f")
                    .to_vec1::<f64>()
                    .expect("v")
            })
            .collect::<Vec<f64>>()
    };
    let (g0, g1) = (grads(0.0), grads(0.9));
    let sft = sft_loss(&model, &vocab, &p).expect("sft");
    let gs = sft.backward().expect("backward");
    let gsft: Vec<f64> = model
        .named_vars()
        .iter()
        .flat_map(|(_, v)| {
            gs.get(v)
                .expect("grad")
                .flatten_all()
                .expect("f")
                .to_vec1::<f64>()
                .expect("v")
        })
        .collect();
    // sft = −ℓ, so ∇[(α − β)ℓ] = (β − α)·∇sft
    let scale = cfg.beta - cfg.alpha;
    let max_abs = gsft.iter().fold(0f64, |m, g| m.max(g.abs()));
    for i in 0..g0.len() {
        assert!(
            (g0[i] - g1[i]).abs() < 1e-12 * max_abs.max(1.0),
            "reward changed the gradient"
        );
        assert!((g0[i] - scale * gsft[i]).abs() < 1e-9 * max_abs.max(1.0));
    }
}
