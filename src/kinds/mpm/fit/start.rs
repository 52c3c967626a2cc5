//! Where a fit starts: a log grid of the law's moduli, scored on a short horizon.
//!
//! A gradient fit through the simulation from a modulus that is off by a factor of ten or
//! more can stop in a poor local minimum (a material too soft to bounce, or too stiff to
//! move, has a flat loss). Before the fit, the law's moduli are moved together over a log
//! grid (factors 10^-2 … 10^2 in half decades), then one at a time (10^±1/2, 10^±1 around
//! the best so far), each point scored by the loss over a few of the teacher-forced segments
//! ([`ansatz_simulator::loss_short`], in `f64`: a fraction of one gradient rollout each); the
//! fit starts from the best point when it beats the law's own values.
//!
//! A modulus is a parameter that is the whole argument of an `exp` somewhere in the law (a
//! log modulus, moved by `+ log s`), or else one whose value is at least 100 in magnitude (a
//! raw modulus or a yield stress, multiplied by `s`). A law with neither starts where it is.

use super::super::material::LawFactory;
use super::super::task::Task;
pub use crate::law::record::{GridStart, Modulus};
use ansatz_grammar::{CheckedProgram, Expr, ExprKind};

/// Teacher-forced segments of a short-horizon score.
pub const SHORT_SEGMENTS: usize = 3;

/// The parameters a grid moves.
pub fn moduli(law: &CheckedProgram) -> Vec<(usize, Modulus)> {
    let program = law.program();
    let names: Vec<&str> = program.params.iter().map(|p| p.name.as_str()).collect();
    let mut logs = vec![false; names.len()];
    let mut mark = |e: &Expr| {
        if let ExprKind::Call(f, args) = &e.kind
            && f == "exp"
            && let [arg] = args.as_slice()
            && let ExprKind::Var(v) = &arg.kind
            && let Some(i) = names.iter().position(|n| n == v)
        {
            logs[i] = true;
        }
    };
    for stmt in &program.stmts {
        walk(&stmt.value, &mut mark);
    }
    walk(&program.ret, &mut mark);
    program
        .params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            if logs[i] {
                Some((i, Modulus::Log))
            } else if p.value.abs() >= 100.0 && p.value.is_finite() {
                Some((i, Modulus::Raw))
            } else {
                None
            }
        })
        .collect()
}

fn walk(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match &e.kind {
        ExprKind::Num(_) | ExprKind::Var(_) => {}
        ExprKind::Neg(a) | ExprKind::Transpose(a) | ExprKind::Index(a, _) => walk(a, f),
        ExprKind::Binary(_, a, b) | ExprKind::Compare(_, a, b) => {
            walk(a, f);
            walk(b, f);
        }
        ExprKind::Call(_, args) => args.iter().for_each(|a| walk(a, f)),
    }
}

/// `params` with the moduli moved by the factors `10^log10s` (one per modulus).
fn moved(params: &[f64], moduli: &[(usize, Modulus)], log10s: &[f64]) -> Vec<f64> {
    let mut p = params.to_vec();
    for (&(i, how), &l) in moduli.iter().zip(log10s) {
        p[i] = match how {
            Modulus::Log => p[i] + l * std::f64::consts::LN_10,
            Modulus::Raw => p[i] * 10f64.powf(l),
        };
    }
    p
}

/// The short-horizon loss of `factory` at `params` (infinite when it fails).
pub fn short_loss(task: &Task, factory: &LawFactory, params: &[f64]) -> f64 {
    if params.iter().any(|p| !p.is_finite()) {
        return f64::INFINITY;
    }
    match ansatz_simulator::loss_short::<f64, _>(
        &task.scene,
        factory,
        params,
        &task.target,
        &task.loss,
        SHORT_SEGMENTS,
    ) {
        Ok(report) if report.position.is_finite() => report.position,
        _ => f64::INFINITY,
    }
}

/// The best start on the grid around `start` (None when the law has no modulus). `go_on`
/// is asked before each point; the grid ends early when it says `false`.
pub fn grid(
    task: &Task,
    factory: &LawFactory,
    law: &CheckedProgram,
    start: &[f64],
    go_on: &mut dyn FnMut() -> bool,
) -> Option<(Vec<f64>, GridStart)> {
    let moduli = moduli(law);
    if moduli.is_empty() {
        return None;
    }
    let m = moduli.len();
    let mut points = 0;
    let mut score = |log10s: &[f64]| {
        points += 1;
        short_loss(task, factory, &moved(start, &moduli, log10s))
    };
    let before = score(&vec![0.0; m]);
    let mut best = (before, vec![0.0; m]);
    // All moduli together, then each alone around the best.
    for j in (-4..=4).filter(|&j| j != 0) {
        if !go_on() {
            break;
        }
        let l = vec![f64::from(j) / 2.0; m];
        let s = score(&l);
        if s < best.0 {
            best = (s, l);
        }
    }
    if m > 1 {
        for k in 0..m {
            for d in [-1.0, -0.5, 0.5, 1.0] {
                if !go_on() {
                    break;
                }
                let mut l = best.1.clone();
                l[k] += d;
                let s = score(&l);
                if s < best.0 {
                    best = (s, l);
                }
            }
        }
    }
    let params = if best.0 < before {
        moved(start, &moduli, &best.1)
    } else {
        start.to_vec()
    };
    Some((
        params,
        GridStart {
            moduli,
            points,
            segments: SHORT_SEGMENTS,
            loss_before: before,
            loss_after: best.0.min(before),
            log10_factors: if best.0 < before { best.1 } else { vec![0.0; m] },
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn law(text: &str) -> CheckedProgram {
        ansatz_grammar::check(
            &ansatz_grammar::parse(text).unwrap(),
            &ansatz_grammar::Signature::elastic(),
        )
        .unwrap()
    }

    #[test]
    fn moduli_are_the_arguments_of_exp_and_the_large_values() {
        let l = law(
            "param c = 12.0\nparam mu = 2e5\nparam nu = 0.3\nparam small = 50.0\n\
             return exp(c) * (F @ F.T - I) + mu * nu * small * log(det(F)) * I",
        );
        assert_eq!(moduli(&l), vec![(0, Modulus::Log), (1, Modulus::Raw)]);
        // A parameter inside a larger argument of exp is not a log modulus.
        let l = law("param c = 12.0\nreturn exp(c * 2) * (F @ F.T - I)");
        assert!(moduli(&l).is_empty());
    }

    #[test]
    fn moving_scales_raw_moduli_and_shifts_log_ones() {
        let p = moved(
            &[12.0, 2e5, 0.3],
            &[(0, Modulus::Log), (1, Modulus::Raw)],
            &[1.0, -0.5],
        );
        assert!((p[0] - (12.0 + std::f64::consts::LN_10)).abs() < 1e-12);
        assert!((p[1] - 2e5 / 10f64.sqrt()).abs() < 1e-6);
        assert_eq!(p[2], 0.3);
    }
}
