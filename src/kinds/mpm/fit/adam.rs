//! Adam exactly as the SGA reference runs it (as in the SGA reference, torch defaults):
//! evaluate, stop on NaN or at the last epoch, clip the gradient to global norm `clip`
//! (`coef = clip / (‖g‖ + 1e-6)` applied when below 1), then
//! `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
//! `θ ← θ − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)`.

use super::Objective;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// Runs `settings.adam_epochs` updates (one more evaluation); returns the parameters of the
/// last logged epoch and why it stopped.
pub(super) fn run(objective: &mut Objective<'_>, start: &[f64]) -> (Vec<f64>, String) {
    let settings = objective.settings;
    let (lr, epochs, clip) = (settings.adam_lr, settings.adam_epochs, settings.clip_norm);
    let n = start.len();
    let mut theta = start.to_vec();
    let (mut m, mut v) = (vec![0.0; n], vec![0.0; n]);
    for epoch in 0..=epochs {
        if !objective.may_continue() {
            let why = objective.stopped.clone().unwrap_or_default();
            return (theta, format!("{why} after {epoch} epochs"));
        }
        let eval = objective.evaluate(&theta);
        if !eval.ok() {
            let why = eval.error.unwrap_or_else(|| "NaN loss".into());
            return (theta, format!("stopped at epoch {epoch}: {why}"));
        }
        if epoch == epochs {
            break;
        }
        if eval.loss <= settings.target_loss {
            return (theta, format!("target loss reached at epoch {epoch}"));
        }
        let mut g = eval.gradient;
        let norm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        let coef = clip / (norm + 1e-6);
        if coef < 1.0 {
            g.iter_mut().for_each(|x| *x *= coef);
        }
        let t = (epoch + 1) as i32;
        let (bc1, bc2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
        for i in 0..n {
            m[i] = BETA1 * m[i] + (1.0 - BETA1) * g[i];
            v[i] = BETA2 * v[i] + (1.0 - BETA2) * g[i] * g[i];
            theta[i] -= lr * (m[i] / bc1) / ((v[i] / bc2).sqrt() + EPS);
        }
    }
    (theta, format!("{epochs} Adam updates"))
}
