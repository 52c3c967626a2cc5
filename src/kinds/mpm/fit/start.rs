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
use crate::law::Gain;
pub use crate::law::record::{GridStart, Modulus};
use ansatz_grammar::{CheckedProgram, Expr, ExprKind};

/// Teacher-forced segments of a short-horizon score.
pub const SHORT_SEGMENTS: usize = 3;

/// Levenberg–Marquardt steps ([`refine`]) after the grid, before a fit and in a prescreen.
pub const REFINE_STEPS: usize = 3;

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

/// Directions of one gain rollout.
const GAIN_DIRECTIONS: usize = 8;

/// The Gauss–Newton [`Gain`] of each parameter in `which` at `params` on the short horizon
/// (the segments of [`short_loss`]), eight directions per dual rollout. `None` when a
/// rollout fails or an index is out of range.
pub fn gains(
    task: &Task,
    factory: &LawFactory,
    params: &[f64],
    which: &[usize],
) -> Option<Vec<Gain>> {
    use ansatz_linalg::{DualSVec64, Real};
    type D = DualSVec64<GAIN_DIRECTIONS>;
    if which.iter().any(|&i| i >= params.len()) || params.iter().any(|p| !p.is_finite()) {
        return None;
    }
    let mut out = Vec::with_capacity(which.len());
    for chunk in which.chunks(GAIN_DIRECTIONS) {
        let seeded: Vec<D> = params
            .iter()
            .enumerate()
            .map(|(i, &v)| match chunk.iter().position(|&j| j == i) {
                Some(k) => D::var(v, k),
                None => D::cst(v),
            })
            .collect();
        let report = short_gram(task, factory, &seeded)?;
        for k in 0..chunk.len() {
            out.push(Gain {
                gradient: report.position.eps(k),
                curvature: 2.0 * report.tangent_gram.get(k * GAIN_DIRECTIONS + k).copied()?,
            });
        }
    }
    Some(out)
}

/// The short-horizon loss report with the tangent Gram matrix at dual `params` (`None`
/// when the rollout fails).
fn short_gram<D: ansatz_simulator::SimScalar + Send + Sync>(
    task: &Task,
    factory: &LawFactory,
    params: &[D],
) -> Option<ansatz_simulator::LossReport<D>> {
    ansatz_simulator::loss_short_gram(
        &task.scene,
        factory,
        params,
        &task.target,
        &task.loss,
        SHORT_SEGMENTS,
    )
    .ok()
}

/// The short-horizon loss at `params`, its gradient and its Gauss–Newton curvature
/// (row-major `n × n`), every parameter seeded; `None` when the rollout fails or there
/// are none or more than eight parameters.
fn short_gauss_newton(
    task: &Task,
    factory: &LawFactory,
    params: &[f64],
) -> Option<(f64, Vec<f64>, Vec<f64>)> {
    fn run<const N: usize>(
        task: &Task,
        factory: &LawFactory,
        params: &[f64],
    ) -> Option<(f64, Vec<f64>, Vec<f64>)> {
        use ansatz_linalg::{DualSVec64, Real};
        let seeded: Vec<DualSVec64<N>> = ansatz_linalg::seed_params(params);
        let r = short_gram(task, factory, &seeded)?;
        let gradient: Vec<f64> = (0..N).map(|i| r.position.eps(i)).collect();
        let curvature: Vec<f64> = r.tangent_gram.iter().map(|g| 2.0 * g).collect();
        let finite = r.position.re().is_finite()
            && gradient.iter().chain(&curvature).all(|x| x.is_finite());
        finite.then(|| (r.position.re(), gradient, curvature))
    }
    match params.len() {
        1 => run::<1>(task, factory, params),
        2 => run::<2>(task, factory, params),
        3 => run::<3>(task, factory, params),
        4 => run::<4>(task, factory, params),
        5 => run::<5>(task, factory, params),
        6 => run::<6>(task, factory, params),
        7 => run::<7>(task, factory, params),
        8 => run::<8>(task, factory, params),
        _ => None,
    }
}

/// What [`refine`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct Refined {
    /// The parameters reached (the start when no step helped).
    pub params: Vec<f64>,
    /// Their short-horizon loss.
    pub loss: f64,
    /// Dual (gradient and curvature) short-horizon rollouts.
    pub gauss_newton: usize,
    /// Plain short-horizon rollouts (trial points).
    pub trials: usize,
}

/// Levenberg–Marquardt on the short horizon from `start` (short-horizon loss
/// `start_loss`), at most `iterations` curvature evaluations: each solves
/// `(H + λ diag H) δ = −g` with the Gauss–Newton `H`, a step kept within a decade for each
/// log modulus and within its own size for the others, tried in `f64` and kept when it
/// lowers the loss (λ then shrinks; else it grows and the step is tried again, up to four
/// times). Laws with more than eight parameters stay where they are. `go_on` is asked
/// before each rollout; the steps end early when it says `false`.
pub fn refine(
    task: &Task,
    factory: &LawFactory,
    law: &CheckedProgram,
    start: &[f64],
    start_loss: f64,
    iterations: usize,
    go_on: &mut dyn FnMut() -> bool,
) -> Refined {
    let logs: Vec<bool> = {
        let m = moduli(law);
        (0..start.len())
            .map(|i| m.iter().any(|&(j, how)| j == i && how == Modulus::Log))
            .collect()
    };
    let mut out = Refined {
        params: start.to_vec(),
        loss: start_loss,
        gauss_newton: 0,
        trials: 0,
    };
    let n = start.len();
    let mut lambda = 1e-3;
    for _ in 0..iterations {
        if !go_on() {
            break;
        }
        out.gauss_newton += 1;
        let Some((_, g, h)) = short_gauss_newton(task, factory, &out.params) else {
            break;
        };
        let largest = (0..n).map(|i| h[i * n + i]).fold(0.0, f64::max);
        if largest <= 0.0 {
            break;
        }
        let mut improved = false;
        for _ in 0..4 {
            if !go_on() {
                break;
            }
            let mut a = h.clone();
            for i in 0..n {
                a[i * n + i] += lambda * (h[i * n + i] + 1e-9 * largest);
            }
            let Some(mut delta) = ansatz_linalg::solve_dense(a, g.iter().map(|x| -x).collect(), 1e-300)
            else {
                lambda *= 8.0;
                continue;
            };
            let shrink = (0..n)
                .map(|i| {
                    let room = if logs[i] {
                        std::f64::consts::LN_10
                    } else {
                        out.params[i].abs().max(1.0)
                    };
                    (room / delta[i].abs()).min(1.0)
                })
                .fold(1.0, f64::min);
            delta.iter_mut().for_each(|d| *d *= shrink);
            let trial: Vec<f64> = out.params.iter().zip(&delta).map(|(p, d)| p + d).collect();
            out.trials += 1;
            let loss = short_loss(task, factory, &trial);
            if loss < out.loss {
                out.params = trial;
                out.loss = loss;
                lambda = (lambda / 3.0).max(1e-9);
                improved = true;
                break;
            }
            lambda *= 8.0;
        }
        if !improved {
            break;
        }
    }
    out
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

    fn jelly() -> Task {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        Task::load(dir.join("tasks/jelly.toml")).expect("task")
    }

    fn factory(task: &Task, law: &CheckedProgram) -> LawFactory {
        LawFactory::new(law.compiled().clone(), task.kind)
    }

    /// Jelly's law is neo-Hookean (μ ≈ 1.777e5, λ ≈ 1.707e5). With its volume term left out
    /// and two candidate terms present at a negligible coefficient, the gain of the missing
    /// term is well above that of a term the law does not have (measured: 0.0216 against
    /// 0.0037), and its step points at λ (measured: 9.0e4).
    #[test]
    fn the_missing_term_has_the_largest_gain_and_its_step_points_at_its_modulus() {
        let task = jelly();
        let law = law(
            "param mu = 177676
param c_a = 0
param c_b = 0
J = det(F)
B = F @ F.T
             return mu * (B - I) + exp(c_a) * log(J) * I + exp(c_b) * (J - 1) * dev(B)",
        );
        let f = factory(&task, &law);
        let g = gains(&task, &f, &[177676.0, 0.0, 0.0], &[1, 2]).expect("gains");
        let (right, wrong) = (g[0], g[1]);
        println!("right {right:?} {}, wrong {wrong:?} {}", right.decrease(), wrong.decrease());
        assert!(right.decrease() > 3.0 * wrong.decrease());
        // The coefficient exp(c_a) = 1 moves to 1 + step (linear in it).
        let lambda = 1.0 + right.step();
        assert!((0.5e5..5e5).contains(&lambda), "λ estimate {lambda}");
        assert_eq!(gains(&task, &f, &[1.0], &[0]), None, "wrong parameter count");
    }

    /// From moduli a factor 3 off, three Levenberg–Marquardt steps on the short horizon
    /// come much closer than the start, within a few rollouts.
    #[test]
    fn refining_on_the_short_horizon_lowers_the_estimate() {
        let task = jelly();
        let law = law(
            "param mu = 60000
param la = 500000
J = det(F)
             return mu * (F @ F.T - I) + la * log(J) * I",
        );
        let f = factory(&task, &law);
        let start = [60000.0, 500000.0];
        let before = short_loss(&task, &f, &start);
        let r = refine(&task, &f, &law, &start, before, 3, &mut || true);
        println!("{before:.3e} -> {:.3e} at {:?} ({r:?})", r.loss, r.params);
        assert!(r.loss < before / 10.0, "{before} -> {}", r.loss);
        assert_eq!(r.loss, short_loss(&task, &f, &r.params));
        assert!(r.gauss_newton <= 3 && r.trials <= 12);
        // Where nothing can be gained it stays put.
        let still = refine(&task, &f, &law, &r.params, r.loss, 0, &mut || true);
        // Asked to stop, it stops.
        let stopped = refine(&task, &f, &law, &start, before, 3, &mut || false);
        assert_eq!((stopped.gauss_newton, stopped.params), (0, start.to_vec()));
        assert_eq!((still.params, still.loss), (r.params.clone(), r.loss));
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
