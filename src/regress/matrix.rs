//! Matrix targets: one law `F -> tau` for nine output columns (the stress regression of
//! the SGA paper's Table 2), searched with the law language's constitutive forms.
//!
//! Candidates come from the [`Evolve`] proposer on the elastic path (its library of
//! classical forms, then crossover, blends, inserted terms...), each is deduplicated by
//! its e-graph canonical hash and its constants are fitted by least squares over all nine
//! entries ([`lsq`], one dual-number pass per parameter through the compiled law). A fit
//! never starts from a form's own defaults: they are first scattered by a random factor
//! in [0.5, 2] (the library's defaults are the SGA tasks' values), then restarted.

use super::gp::{Clock, EXACT, GpConfig};
use super::lsq::{self, LossGrad};
use crate::evolve::{Evolve, EvolveConfig, Parent};
use ansatz_grammar::{CheckedProgram, Compiled, Signature, egraph, load};
use ansatz_linalg::DualSVec64;
use ansatz_simulator::MaterialKind;
use nalgebra::Matrix3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Inputs and targets of a matrix regression.
#[derive(Clone, Debug, Default)]
pub struct MatrixData {
    /// The input matrix of every row.
    pub inputs: Vec<Matrix3<f64>>,
    /// The target matrix of every row.
    pub targets: Vec<Matrix3<f64>>,
}

impl MatrixData {
    /// Sum over the nine entries of each entry's population variance (1 if all constant).
    pub fn variance(&self) -> f64 {
        let n = self.targets.len() as f64;
        if self.targets.is_empty() {
            return 1.0;
        }
        let mean = self.targets.iter().fold(Matrix3::zeros(), |a, t| a + t) / n;
        let v: f64 = self
            .targets
            .iter()
            .map(|t| (t - mean).norm_squared())
            .sum::<f64>()
            / n;
        if v > 0.0 { v } else { 1.0 }
    }

    /// The rows `rows`.
    pub fn select(&self, rows: &[usize]) -> MatrixData {
        MatrixData {
            inputs: rows.iter().map(|&r| self.inputs[r]).collect(),
            targets: rows.iter().map(|&r| self.targets[r]).collect(),
        }
    }
}

/// The law's predictions at every row (NaN matrices where it is not finite).
pub fn predict(law: &Compiled, params: &[f64], inputs: &[Matrix3<f64>]) -> Vec<Matrix3<f64>> {
    let mut out = vec![Matrix3::zeros(); inputs.len()];
    let mut scratch = law.scratch();
    if law
        .eval_mat3_batch(inputs, params, &mut out, &mut scratch)
        .is_err()
    {
        out.fill(Matrix3::from_element(f64::NAN));
    }
    out
}

/// Normalised squared error of `law` at `params` and its gradient (one pass per parameter).
pub fn nmse(law: &Compiled, data: &MatrixData, var: f64, params: &[f64], grad: bool) -> LossGrad {
    let n = data.inputs.len();
    let scale = 1.0 / (n as f64 * var);
    if !grad || params.is_empty() {
        let pred = predict(law, params, &data.inputs);
        let c: f64 = pred
            .iter()
            .zip(&data.targets)
            .map(|(p, t)| (p - t).norm_squared())
            .sum::<f64>()
            * scale;
        return c.is_finite().then(|| (c, vec![0.0; params.len()]));
    }
    type D = DualSVec64<1>;
    let inputs: Vec<Matrix3<D>> = data.inputs.iter().map(|f| f.map(D::from)).collect();
    let mut out = vec![Matrix3::<D>::zeros(); n];
    let mut scratch = law.scratch::<D>();
    let mut g = vec![0.0; params.len()];
    let mut cost = f64::NAN;
    for (k, gk) in g.iter_mut().enumerate() {
        let p: Vec<D> = params
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                if i == k {
                    <D as ansatz_linalg::Real>::var(v, 0)
                } else {
                    D::from(v)
                }
            })
            .collect();
        law.eval_mat3_batch(&inputs, &p, &mut out, &mut scratch)
            .ok()?;
        let (mut c, mut s) = (0.0, 0.0);
        for (o, t) in out.iter().zip(&data.targets) {
            for (a, b) in o.iter().zip(t.iter()) {
                let r = a.re - b;
                c += r * r;
                s += 2.0 * r * ansatz_linalg::Real::eps(a, 0);
            }
        }
        if k == 0 {
            cost = c * scale;
        }
        *gk = s * scale;
    }
    (cost.is_finite() && g.iter().all(|v| v.is_finite())).then_some((cost, g))
}

/// Fits `law`'s constants from `start` with `extra` restarts, no evaluation started after
/// `deadline`.
pub fn fit_within(
    law: &CheckedProgram,
    data: &MatrixData,
    start: &[f64],
    iterations: u64,
    extra: usize,
    seed: u64,
    deadline: Instant,
) -> lsq::Fitted {
    let var = data.variance();
    let compiled = law.compiled();
    let mut eval = |p: &[f64], grad: bool| nmse(compiled, data, var, p, grad);
    let limits = lsq::Limits::until(iterations, deadline);
    lsq::restarts_within(&mut eval, start, iterations, extra, seed, &limits)
}

/// One law of a matrix search.
#[derive(Clone, Debug, PartialEq)]
pub struct LawMember {
    /// The law program (parameter defaults as proposed).
    pub source: String,
    /// Fitted parameters, declaration order.
    pub params: Vec<f64>,
    /// Normalised squared error on the training rows.
    pub nmse: f64,
    /// Complexity (e-graph node count).
    pub complexity: u64,
    /// The evolve operator that made it.
    pub operator: String,
}

/// What a matrix search produced.
#[derive(Clone, Debug, PartialEq)]
pub struct MatrixOutcome {
    /// Best law of every complexity, by increasing complexity and decreasing error.
    pub front: Vec<LawMember>,
    /// Laws fitted.
    pub fits: usize,
    /// Loss evaluations (each a pass over the rows per parameter).
    pub passes: usize,
    /// Why it stopped.
    pub stopped: String,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Searches laws `F: mat3 -> mat3` for `data` within `cfg`'s time and fit budgets (the
/// time limit covers the refit of the front, as in [`search_with`](super::gp::search_with)).
pub fn search(data: &MatrixData, cfg: &GpConfig) -> MatrixOutcome {
    let clock = Clock::new(cfg.time_limit);
    let signature = Signature::elastic();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let rows = data.inputs.len();
    let sample: Vec<usize> = if rows > cfg.sample_rows {
        rand::seq::index::sample(&mut rng, rows, cfg.sample_rows).into_vec()
    } else {
        (0..rows).collect()
    };
    let sub = data.select(&sample);
    let mut evolve = Evolve::new(
        signature.clone(),
        MaterialKind::Elastic,
        EvolveConfig {
            seed: cfg.seed,
            ..EvolveConfig::default()
        },
    );
    let mut population: Vec<LawMember> = Vec::new();
    let mut seen: BTreeSet<u64> = BTreeSet::new();
    let (mut fits, mut passes) = (0usize, 0usize);
    // Fits done when the first exact law appeared (the search goes on for a quarter as many
    // more, at least 8: counted in fits, so that a run is reproducible).
    let mut exact_at: Option<usize> = None;
    let budget_left = |fits: usize| clock.searching() && cfg.max_fits.is_none_or(|m| fits < m);
    let stopped = loop {
        if !budget_left(fits) {
            break if cfg.max_fits.is_some_and(|m| fits >= m) {
                format!("fit budget of {fits} used")
            } else {
                format!("time limit of {} s reached", cfg.time_limit)
            };
        }
        if let Some(n) = exact_at
            && fits >= n + (n / 4).max(8)
        {
            break "an exact law was found".into();
        }
        let mut ranked: Vec<&LawMember> = population.iter().collect();
        ranked.sort_by(|a, b| a.nmse.total_cmp(&b.nmse));
        ranked.truncate(12);
        let parents: Vec<Parent<'_>> = ranked
            .iter()
            .map(|m| Parent {
                source: &m.source,
                fitness: m.nmse,
                params: &m.params,
            })
            .collect();
        let batch = evolve.propose(&parents, 8, &seen);
        if batch.is_empty() {
            break "the proposer has nothing new".into();
        }
        let mut fresh = Vec::new();
        for child in batch {
            if !budget_left(fits) {
                break;
            }
            seen.insert(child.hash);
            let Ok(law) = load(&child.source, &signature) else {
                continue;
            };
            let start: Vec<f64> = law
                .params()
                .iter()
                .map(|(_, v)| {
                    let from_parent = child.operator != "library";
                    if from_parent {
                        *v
                    } else {
                        v * 2f64.powf(rng.random_range(-1.0..1.0))
                    }
                })
                .collect();
            let seed = rng.random();
            let f = fit_within(&law, &sub, &start, 100, 2, seed, clock.search_until);
            fits += 1;
            passes += f.evaluations * f.params.len().max(1);
            if !f.nmse.is_finite() {
                continue;
            }
            let complexity = egraph::complexity(&law);
            fresh.push(LawMember {
                source: child.source,
                params: f.params,
                nmse: f.nmse,
                complexity,
                operator: child.operator.to_string(),
            });
        }
        population.extend(fresh);
        if exact_at.is_none() && population.iter().any(|m| m.nmse <= EXACT) {
            exact_at = Some(fits);
        }
    };
    // The front, refitted on every training row.
    let mut by_complexity: BTreeMap<u64, LawMember> = BTreeMap::new();
    for m in population {
        if by_complexity
            .get(&m.complexity)
            .is_none_or(|b| m.nmse < b.nmse)
        {
            by_complexity.insert(m.complexity, m);
        }
    }
    let mut front: Vec<LawMember> = Vec::new();
    for (i, mut m) in by_complexity.into_values().enumerate() {
        if front.last().is_some_and(|l| m.nmse >= l.nmse * 10.0) {
            continue;
        }
        if let Ok(law) = load(&m.source, &signature) {
            let f = fit_within(
                &law,
                data,
                &m.params,
                200,
                0,
                cfg.seed + i as u64,
                clock.refit_until,
            );
            passes += f.evaluations * f.params.len().max(1);
            if f.nmse.is_finite() {
                m.params = f.params;
                m.nmse = f.nmse;
            }
        }
        if front.last().is_none_or(|l| m.nmse < l.nmse) {
            front.push(m);
        }
    }
    MatrixOutcome {
        front,
        fits,
        passes,
        stopped,
        seconds: clock.seconds(),
    }
}

/// The law to report: the rule of [`gp::choose`](super::gp::choose).
pub fn choose(front: &[LawMember]) -> Option<usize> {
    super::gp::choose_by_error(front.iter().map(|m| m.nmse))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn neo_hookean(f: &Matrix3<f64>) -> Matrix3<f64> {
        let e = 13f64.exp();
        let nu = 0.245;
        let mu = e / (2.0 * (1.0 + nu));
        let la = e * nu / ((1.0 + nu) * (1.0 - 2.0 * nu));
        mu * (f * f.transpose() - Matrix3::identity())
            + la * f.determinant().ln() * Matrix3::identity()
    }

    #[test]
    fn the_search_recovers_neo_hookean_stress_as_one_law() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let inputs: Vec<Matrix3<f64>> = (0..300)
            .map(|_| Matrix3::identity() + Matrix3::from_fn(|_, _| rng.random_range(-0.1..0.1)))
            .collect();
        let targets = inputs.iter().map(neo_hookean).collect();
        let data = MatrixData { inputs, targets };
        let cfg = GpConfig {
            max_fits: Some(40),
            time_limit: 600.0,
            ..GpConfig::default()
        };
        let out = search(&data, &cfg);
        let best = &out.front[choose(&out.front).unwrap()];
        assert!(best.nmse < 1e-20, "{:#?}", out.front);
        assert!(out.fits <= 40);
    }
}
