//! The offline proposer for scalar targets: genetic programming on [`Expr`] trees with
//! every candidate's constants fitted by least squares ([`lsq`]), a best-per-size archive
//! (the Pareto front of size against error) and a time or fit budget.
//!
//! * **Seeds**: a constant, `c · x` for each input, the linear model, and power laws
//!   `c · Π xᵢ^aᵢ` whose exponents come from a log–log least-squares fit rounded to halves
//!   and to integers (when the target and the inputs keep one sign).
//! * **Operators**: subtree crossover, subtree mutation, point mutation (operator, input,
//!   constant ↔ input), insertion (`op(n)`, `n op leaf`), hoisting (a node by one of its
//!   children), scaling (`c · n`, `n + c`). Parents are chosen by tournament on the error.
//! * **Fitting**: each new structure is fitted from its parent's constants (new constants
//!   start at 1) on a random subset of the training rows; structures are deduplicated by a
//!   key that ignores constant values and the operand order of `+` and `*`. With
//!   [`Scaling`] (the default: [`Scaling::Terms`]) a structure is scored after the
//!   least-squares coefficients of its top-level terms and an offset, solved at every
//!   evaluation ([`scaled_nmse`]); the archive keeps the structure and its coefficients,
//!   and the front is refitted as the law with the coefficients written in
//!   ([`apply_scale`]), then tidied (coefficients that are 1 or 0 dropped).
//! * **Survival**: the best of every size first, then the lowest errors.
//! * **Stop**: the time limit, the fit budget, or an exact law (error below 1e-24) followed
//!   by a quarter as many fits again (at least 100), to look for a smaller one.
//!
//! The final front is refitted on every training row. The same seed and data give the same
//! front unless the run ends on its time limit (which makes the number of fits depend on
//! the machine).

use super::expr::{Bin, Exact, Expr, Node, Un};
use super::lsq::{self, LossGrad};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

/// Training data: input columns and the target.
#[derive(Clone, Debug)]
pub struct Data<'a> {
    /// One slice per input, all of the target's length.
    pub columns: Vec<&'a [f64]>,
    /// The target.
    pub y: &'a [f64],
}

impl Data<'_> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Population variance of the target (1 when it is constant, so errors stay finite).
    pub fn variance(&self) -> f64 {
        variance(self.y)
    }
}

/// Population variance (1 for a constant or empty column).
pub fn variance(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    if y.is_empty() {
        return 1.0;
    }
    let mean = y.iter().sum::<f64>() / n;
    let v = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    if v > 0.0 { v } else { 1.0 }
}

/// Normalised mean squared error of `expr` with parameters `params` on `data`, and its
/// gradient when `grad` (one dual-number pass per parameter).
pub fn nmse(expr: &Expr, data: &Data<'_>, var: f64, params: &[f64], grad: bool) -> LossGrad {
    let rows = data.rows();
    let e = expr;
    let scale = 1.0 / (rows as f64 * var);
    if !grad || params.is_empty() {
        let v = e.eval_with(params, &data.columns, rows);
        let c: f64 = v.iter().zip(data.y).map(|(f, y)| (f - y).powi(2)).sum();
        let c = c * scale;
        return c.is_finite().then(|| (c, vec![0.0; params.len()]));
    }
    let mut g = vec![0.0; params.len()];
    let mut c = 0.0;
    for (k, gk) in g.iter_mut().enumerate() {
        let d = e.eval_dual_with(params, &data.columns, rows, k);
        let mut s = 0.0;
        let mut cost = 0.0;
        for (f, y) in d.iter().zip(data.y) {
            let r = f.re - y;
            cost += r * r;
            s += 2.0 * r * f.eps;
        }
        if k == 0 {
            c = cost * scale;
        }
        *gk = s * scale;
    }
    (c.is_finite() && g.iter().all(|v| v.is_finite())).then_some((c, g))
}

/// How the search scores a structure: by its raw error, or by its error after the best
/// linear combination that least squares solves at every evaluation (the constants inside
/// the terms are what L-BFGS fits).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// The law as it is.
    None,
    /// `a + b · law` (linear scaling, Keijzer 2003).
    Affine,
    /// `a + Σ cᵢ · termᵢ` over the law's top-level sum (`t₁ ± t₂ ± …`, at most 8
    /// terms, `MAX_TERMS`; a law with more is scaled as a whole).
    Terms,
}

/// Most terms of a top-level sum that [`Scaling::Terms`] solves for.
pub const MAX_TERMS: usize = 8;

/// The subtrees whose coefficients the scaling solves for: none for [`Scaling::None`] and
/// for a law with no input; terms without an input are left to the offset.
pub fn scaled_terms(root: &Node, scaling: Scaling) -> Vec<&Node> {
    fn flatten<'n>(n: &'n Node, out: &mut Vec<&'n Node>) {
        match n {
            Node::Bin(Bin::Add | Bin::Sub, a, b) => {
                flatten(a, out);
                flatten(b, out);
            }
            _ => out.push(n),
        }
    }
    if scaling == Scaling::None || root.is_constant() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    if scaling == Scaling::Terms {
        flatten(root, &mut terms);
        terms.retain(|t| !t.is_constant());
    }
    if terms.is_empty() || terms.len() > MAX_TERMS {
        terms = vec![root];
    }
    terms
}

/// The intercept and the coefficients of the columns `cols` that minimise
/// `Σ (a + Σ cⱼ colⱼ − y)²`, by Gram–Schmidt on the centred columns: a column that is
/// (nearly) a combination of the earlier ones, or constant, gets coefficient 0. `None` when
/// a value is not finite.
pub fn least_squares(cols: &[Vec<f64>], y: &[f64]) -> Option<(f64, Vec<f64>)> {
    let n = y.len().max(1) as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / n;
    let ym = mean(y);
    let means: Vec<f64> = cols.iter().map(|c| mean(c)).collect();
    let k = cols.len();
    // q: orthonormal columns kept; r: the triangular factor (row j: the kept column j).
    let mut q: Vec<Vec<f64>> = Vec::new();
    let mut r: Vec<Vec<f64>> = Vec::new();
    let mut kept: Vec<usize> = Vec::new();
    for (j, c) in cols.iter().enumerate() {
        let mut v: Vec<f64> = c.iter().map(|x| x - means[j]).collect();
        let norm0 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !norm0.is_finite() {
            return None;
        }
        let mut rj = vec![0.0; k];
        for (i, qi) in q.iter().enumerate() {
            let d: f64 = qi.iter().zip(&v).map(|(a, b)| a * b).sum();
            rj[kept[i]] = d;
            v.iter_mut().zip(qi).for_each(|(x, qv)| *x -= d * qv);
        }
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm0 == 0.0 || norm <= 1e-9 * norm0 {
            continue;
        }
        rj[j] = norm;
        v.iter_mut().for_each(|x| *x /= norm);
        q.push(v);
        r.push(rj);
        kept.push(j);
    }
    let z: Vec<f64> = q
        .iter()
        .map(|qi| qi.iter().zip(y).map(|(a, b)| a * (b - ym)).sum())
        .collect();
    let mut c = vec![0.0; k];
    for i in (0..kept.len()).rev() {
        let s: f64 = (i + 1..kept.len())
            .map(|l| r[l][kept[i]] * c[kept[l]])
            .sum();
        c[kept[i]] = (z[i] - s) / r[i][kept[i]];
    }
    let a = ym - c.iter().zip(&means).map(|(c, m)| c * m).sum::<f64>();
    (a.is_finite() && c.iter().all(|v| v.is_finite())).then_some((a, c))
}

/// [`nmse`] of the scaled law `a + Σ cᵢ · termᵢ` ([`scaled_terms`]) with `a` and the `cᵢ`
/// the best for the parameters ([`least_squares`]), its gradient in the parameters (the
/// coefficients held at their optimum, where the error's derivative in them is zero), and
/// the coefficients `[a, c₁, …]`.
pub fn scaled_nmse(
    expr: &Expr,
    scaling: Scaling,
    data: &Data<'_>,
    var: f64,
    params: &[f64],
    grad: bool,
) -> Option<(f64, Vec<f64>, Vec<f64>)> {
    let rows = data.rows();
    let scale = 1.0 / (rows as f64 * var);
    let terms = scaled_terms(&expr.root, scaling);
    let as_expr = |t: &Node| Expr {
        root: t.clone(),
        params: expr.params.clone(),
    };
    let exprs: Vec<Expr> = terms.iter().map(|t| as_expr(t)).collect();
    let values: Vec<Vec<f64>> = exprs
        .iter()
        .map(|e| e.eval_with(params, &data.columns, rows))
        .collect();
    let (a, c) = least_squares(&values, data.y)?;
    let residual: Vec<f64> = (0..rows)
        .map(|i| a + c.iter().zip(&values).map(|(c, v)| c * v[i]).sum::<f64>() - data.y[i])
        .collect();
    let cost = residual.iter().map(|r| r * r).sum::<f64>() * scale;
    let mut g = vec![0.0; params.len()];
    if grad {
        for (k, gk) in g.iter_mut().enumerate() {
            let mut s = 0.0;
            for (e, cj) in exprs.iter().zip(&c) {
                if *cj == 0.0 {
                    continue;
                }
                let d = e.eval_dual_with(params, &data.columns, rows, k);
                s += d
                    .iter()
                    .zip(&residual)
                    .map(|(f, r)| 2.0 * r * cj * f.eps)
                    .sum::<f64>();
            }
            *gk = s * scale;
        }
    }
    let mut coefficients = vec![a];
    coefficients.extend(c);
    (cost.is_finite() && g.iter().all(|v| v.is_finite())).then_some((cost, g, coefficients))
}

/// The scaled law `a + Σ cᵢ · termᵢ` as one law (the coefficients `[a, c₁, …]` of
/// [`scaled_nmse`], a term of coefficient 0 left out); `e` itself with no coefficients.
pub fn apply_scale(e: &Expr, scaling: Scaling, coefficients: &[f64]) -> Expr {
    let terms = scaled_terms(&e.root, scaling);
    let Some((&a, c)) = coefficients.split_first() else {
        return e.clone();
    };
    if c.len() != terms.len() {
        return e.clone();
    }
    let mut params = e.params.clone();
    let mut root = Node::Param(params.len());
    params.push(a);
    for (t, &cj) in terms.iter().zip(c) {
        if cj == 0.0 {
            continue;
        }
        // A term with a constant factor of its own (`k · t`, `t · k`, `k / t`) takes the
        // coefficient into it; any other gets a new constant.
        let own = match t {
            Node::Bin(Bin::Mul, x, y) => match (&**x, &**y) {
                (Node::Param(k), _) | (_, Node::Param(k)) => Some(*k),
                _ => None,
            },
            Node::Bin(Bin::Div, x, _) => match **x {
                Node::Param(k) => Some(k),
                _ => None,
            },
            _ => None,
        };
        let term = match own {
            Some(k) if k < params.len() => {
                params[k] *= cj;
                (*t).clone()
            }
            _ => {
                let term = Node::bin(Bin::Mul, Node::Param(params.len()), (*t).clone());
                params.push(cj);
                term
            }
        };
        root = Node::bin(Bin::Add, root, term);
    }
    Expr::new(root, params)
}

/// Fits `expr`'s constants on `data` (L-BFGS, `extra` random restarts); returns the error
/// and the number of loss evaluations. The constants are set to the best found.
pub fn fit(
    expr: &mut Expr,
    data: &Data<'_>,
    iterations: u64,
    extra: usize,
    seed: u64,
) -> (f64, usize) {
    fit_within(
        expr,
        data,
        iterations,
        extra,
        seed,
        lsq::deadline_in(lsq::MAX_SECONDS),
    )
}

/// [`fit`] with no evaluation started after `deadline` (the fit's bound on evaluations
/// is [`lsq::Limits::for_iterations`]'s). A fit cut before its first evaluation has
/// infinite error and keeps its constants.
pub fn fit_within(
    expr: &mut Expr,
    data: &Data<'_>,
    iterations: u64,
    extra: usize,
    seed: u64,
    deadline: Instant,
) -> (f64, usize) {
    let var = data.variance();
    let shape = expr.clone();
    let mut eval = |p: &[f64], grad: bool| nmse(&shape, data, var, p, grad);
    let start = expr.params.clone();
    let limits = lsq::Limits::until(iterations, deadline);
    let f = lsq::restarts_within(&mut eval, &start, iterations, extra, seed, &limits);
    expr.params = f.params;
    (f.nmse, f.evaluations)
}

/// Share of the time limit spent searching; the rest is kept for refitting the front on
/// every training row, so that a search with its results ends within its limit.
pub const SEARCH_SHARE: f64 = 0.85;

/// Share of the time limit by which the refit of the front has ended (what is left is for
/// writing the results).
pub const REFIT_SHARE: f64 = 0.96;

/// The wall-clock plan of a search within a time limit: searching until `search_until`,
/// refitting the front until `refit_until`.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// When the search started.
    pub started: Instant,
    /// No fit of the search is started after this.
    pub search_until: Instant,
    /// No evaluation of the final refit is started after this.
    pub refit_until: Instant,
}

impl Clock {
    /// The plan for `time_limit` seconds from now ([`SEARCH_SHARE`], [`REFIT_SHARE`]).
    pub fn new(time_limit: f64) -> Clock {
        let started = Instant::now();
        Clock {
            started,
            search_until: after(started, time_limit * SEARCH_SHARE),
            refit_until: after(started, time_limit * REFIT_SHARE),
        }
    }

    /// Whether the search may start another fit.
    pub fn searching(&self) -> bool {
        Instant::now() < self.search_until
    }

    /// Seconds since the start.
    pub fn seconds(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }
}

/// `start` plus `seconds` (NaN or negative: `start`; beyond a century: a century).
fn after(start: Instant, seconds: f64) -> Instant {
    let s = if seconds.is_nan() {
        0.0
    } else {
        seconds.clamp(0.0, 3.2e9)
    };
    start
        .checked_add(std::time::Duration::from_secs_f64(s))
        .unwrap_or(start)
}

/// Settings of the search (as `result.json` records them).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GpConfig {
    /// Seed of the random source.
    pub seed: u64,
    /// Wall-time limit, seconds.
    pub time_limit: f64,
    /// Most fits (None: no limit).
    pub max_fits: Option<usize>,
    /// Population size.
    pub population: usize,
    /// Offspring per generation.
    pub offspring: usize,
    /// Most nodes of a tree.
    pub max_size: usize,
    /// Deepest tree.
    pub max_depth: usize,
    /// Rows used while searching (all rows for the final front).
    pub sample_rows: usize,
    /// L-BFGS iterations per fit while searching.
    pub fit_iterations: u64,
    /// Unary operators allowed.
    #[serde(rename = "operators")]
    pub unary: Vec<Un>,
    /// Threads fitting the structures of a generation (0: one per core). The search does
    /// not depend on it.
    pub threads: usize,
    /// How a structure is scored while searching ([`Scaling`]).
    pub scaling: Scaling,
    /// Sub-populations evolved apart (each with `population / islands` members and its
    /// own front), the best of each copied to the next every [`MIGRATION_INTERVAL`]
    /// generations; 1 is one population, and there are never more islands than members.
    /// Islands keep lineages apart that truncation survival would otherwise let the first
    /// good law crowd out.
    pub islands: usize,
}

/// Generations between two migrations between islands ([`GpConfig::islands`]).
pub const MIGRATION_INTERVAL: usize = 10;

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig {
            seed: 0,
            time_limit: 60.0,
            max_fits: None,
            population: 160,
            offspring: 80,
            max_size: 25,
            max_depth: 8,
            sample_rows: 256,
            fit_iterations: 25,
            unary: Un::ALL.to_vec(),
            threads: 1,
            scaling: Scaling::Terms,
            islands: 8,
        }
    }
}

/// One law of the front.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    /// The expression with fitted constants.
    pub expr: Expr,
    /// Normalised mean squared error on the training rows.
    pub nmse: f64,
    /// Number of nodes.
    pub size: usize,
}

/// What a search produced.
#[derive(Clone, Debug, PartialEq)]
pub struct GpOutcome {
    /// Best law of every size, by increasing size and strictly decreasing error.
    pub front: Vec<Member>,
    /// Structures fitted.
    pub fits: usize,
    /// Passes over the data (one per loss evaluation and parameter).
    pub passes: usize,
    /// Generations run.
    pub generations: usize,
    /// Why it stopped.
    pub stopped: String,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// How a running search stands, for progress lines.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    /// Seconds since the start.
    pub seconds: f64,
    /// Structures fitted so far.
    pub fits: usize,
    /// Generations run.
    pub generations: usize,
    /// Laws on the front (best per size) so far.
    pub front: usize,
    /// The law of lowest error so far (on the searching rows).
    pub best: Option<&'a Member>,
}

/// Seconds between two progress reports of a search of `time_limit` seconds: a tenth of
/// the limit, within 1 to 5 s.
pub fn progress_interval(time_limit: f64) -> f64 {
    (time_limit / 10.0).clamp(1.0, 5.0)
}

#[derive(Clone, Debug)]
struct Ind {
    /// The law as the search grows it (without its scale).
    expr: Expr,
    nmse: f64,
    size: usize,
    /// The coefficients `[a, c₁, …]` of the search's scaling ([`apply_scale`]).
    scale: Vec<f64>,
}

impl Ind {
    /// The law with its scale (of the search's `scaling`) applied.
    fn law(&self, scaling: Scaling) -> Expr {
        apply_scale(&self.expr, scaling, &self.scale)
    }
}

struct Gp<'a> {
    cfg: &'a GpConfig,
    clock: Clock,
    data: Data<'a>,
    var: f64,
    n_vars: usize,
    rng: ChaCha8Rng,
    seen: HashSet<u64>,
    archive: BTreeMap<usize, Ind>,
    fits: usize,
    passes: usize,
}

impl Gp<'_> {
    fn leaf(&mut self) -> Node {
        if self.rng.random_bool(0.6) {
            Node::Var(self.rng.random_range(0..self.n_vars))
        } else {
            Node::Param(usize::MAX)
        }
    }

    fn random_tree(&mut self, depth: usize) -> Node {
        if depth <= 1 || self.rng.random_bool(0.3) {
            return self.leaf();
        }
        if !self.cfg.unary.is_empty() && self.rng.random_bool(0.25) {
            let op = *self.cfg.unary.choose(&mut self.rng).unwrap_or(&Un::Square);
            Node::un(op, self.random_tree(depth - 1))
        } else {
            let op = *[Bin::Add, Bin::Sub, Bin::Mul, Bin::Mul, Bin::Div, Bin::Div]
                .choose(&mut self.rng)
                .unwrap_or(&Bin::Mul);
            Node::bin(op, self.random_tree(depth - 1), self.random_tree(depth - 1))
        }
    }

    /// Fits a new structure (unless seen) and files it in the archive.
    fn consider(&mut self, expr: Expr) -> Option<Ind> {
        let expr = self.prepare(expr)?;
        let (fitted, evaluations) =
            fit_structure(expr, &self.data, self.var, self.cfg, &self.clock);
        self.file(fitted, evaluations)
    }

    /// The structure to fit, constant subtrees folded and new constants at 1: `None` when
    /// it is too large or seen before.
    fn prepare(&mut self, expr: Expr) -> Option<Expr> {
        let mut expr = fold_constants(&Expr::new(expr.root, expr.params));
        if expr.size() > self.cfg.max_size || expr.root.depth() > self.cfg.max_depth {
            return None;
        }
        if !self.seen.insert(expr.root.key()) {
            return None;
        }
        for p in &mut expr.params {
            if !p.is_finite() || *p == 0.0 {
                *p = 1.0;
            }
        }
        Some(expr)
    }

    /// Counts a fit of `passes` passes over the rows and files its law in the archive.
    fn file(&mut self, fitted: Option<Ind>, passes: usize) -> Option<Ind> {
        self.fits += 1;
        self.passes += passes;
        let ind = fitted?;
        let better = self
            .archive
            .get(&ind.size)
            .is_none_or(|a| ind.nmse < a.nmse);
        if better {
            self.archive.insert(ind.size, ind.clone());
        }
        Some(ind)
    }

    /// Fits `batch`, bred on the islands `from` (one per structure), on the pool (in
    /// parallel, each fit independent of the others) and files the results in the batch's
    /// order, so that the search does not depend on the number of threads: each fitted
    /// law with its island.
    fn consider_all(
        &mut self,
        batch: Vec<Expr>,
        from: Vec<usize>,
        pool: Option<&rayon::ThreadPool>,
    ) -> Vec<(usize, Ind)> {
        use rayon::prelude::*;
        let (data, var, cfg, clock) = (&self.data, self.var, self.cfg, &self.clock);
        let fit = |e: Expr| fit_structure(e, data, var, cfg, clock);
        let results: Vec<(Option<Ind>, usize)> = match pool {
            Some(pool) => pool.install(|| batch.into_par_iter().map(fit).collect()),
            None => batch.into_iter().map(fit).collect(),
        };
        results
            .into_iter()
            .zip(from)
            .filter_map(|((f, evaluations), i)| self.file(f, evaluations).map(|ind| (i, ind)))
            .collect()
    }

    fn tournament<'p>(&mut self, pop: &'p [Ind]) -> &'p Ind {
        let mut best: Option<&Ind> = None;
        for _ in 0..4 {
            let c = &pop[self.rng.random_range(0..pop.len())];
            if best.is_none_or(|b| (c.nmse, c.size) < (b.nmse, b.size)) {
                best = Some(c);
            }
        }
        best.unwrap_or(&pop[0])
    }

    fn offspring(&mut self, pop: &[Ind]) -> Option<Expr> {
        let a = self.tournament(pop).expr.clone();
        let n = a.size();
        let site = self.rng.random_range(0..n);
        let roll: f64 = self.rng.random();
        let mut child = a.clone();
        if roll < 0.3 {
            // Crossover: a random subtree of another parent replaces the site.
            let b = self.tournament(pop).expr.clone();
            let from = self.rng.random_range(0..b.size());
            let sub = b.root.at(from)?.clone();
            graft(&mut child, site, sub, &b.params);
        } else if roll < 0.45 {
            let depth = self.rng.random_range(1..=3);
            let sub = self.random_tree(depth);
            graft(&mut child, site, sub, &[]);
        } else if roll < 0.65 {
            let node = child.root.at_mut(site)?;
            match node {
                Node::Bin(op, _, _) => *op = *Bin::ALL.choose(&mut self.rng)?,
                Node::Un(op, _) => *op = *self.cfg.unary.choose(&mut self.rng)?,
                Node::Var(i) => {
                    if self.n_vars > 1 && self.rng.random_bool(0.7) {
                        *i = self.rng.random_range(0..self.n_vars);
                    } else {
                        *node = Node::Param(usize::MAX);
                    }
                }
                Node::Param(_) | Node::Num(_) => {
                    *node = Node::Var(self.rng.random_range(0..self.n_vars));
                }
            }
        } else if roll < 0.8 {
            let node = child.root.at_mut(site)?;
            let inner = std::mem::replace(node, Node::Num(0.0));
            let leaf = if self.rng.random_bool(0.6) {
                Node::Var(self.rng.random_range(0..self.n_vars))
            } else {
                Node::Param(usize::MAX)
            };
            *node = if self.rng.random_bool(0.3) && !self.cfg.unary.is_empty() {
                Node::un(*self.cfg.unary.choose(&mut self.rng)?, inner)
            } else {
                let op = *Bin::ALL.choose(&mut self.rng)?;
                if self.rng.random_bool(0.5) {
                    Node::bin(op, inner, leaf)
                } else {
                    Node::bin(op, leaf, inner)
                }
            };
        } else if roll < 0.92 {
            let node = child.root.at_mut(site)?;
            let repl = match node {
                Node::Un(_, a) => (**a).clone(),
                Node::Bin(_, a, b) => {
                    if self.rng.random_bool(0.5) {
                        (**a).clone()
                    } else {
                        (**b).clone()
                    }
                }
                _ => return None,
            };
            *node = repl;
        } else {
            let node = child.root.at_mut(site)?;
            let inner = std::mem::replace(node, Node::Num(0.0));
            let op = if self.rng.random_bool(0.5) {
                Bin::Mul
            } else {
                Bin::Add
            };
            *node = Node::bin(op, Node::Param(usize::MAX), inner);
        }
        Some(child)
    }

    fn seeds(&mut self) -> Vec<Expr> {
        let mut out = vec![Expr::new(Node::Param(0), vec![mean(self.data.y)])];
        let mut linear = Node::Param(usize::MAX);
        for i in 0..self.n_vars {
            out.push(Expr::new(
                Node::bin(Bin::Mul, Node::Param(0), Node::Var(i)),
                vec![1.0],
            ));
            linear = Node::bin(
                Bin::Add,
                linear,
                Node::bin(Bin::Mul, Node::Param(usize::MAX), Node::Var(i)),
            );
        }
        out.push(Expr::new(linear, Vec::new()));
        out.extend(power_laws(&self.data));
        out
    }
}

/// Fits a prepared structure on the searching rows (L-BFGS, no evaluation after the
/// search's end): the law, if finite, and the passes over the rows made.
fn fit_structure(
    mut expr: Expr,
    data: &Data<'_>,
    var: f64,
    cfg: &GpConfig,
    clock: &Clock,
) -> (Option<Ind>, usize) {
    let size = expr.size();
    let shape = expr.clone();
    let limits = lsq::Limits::until(cfg.fit_iterations, clock.search_until);
    let f = if cfg.scaling == Scaling::None {
        let mut eval = |p: &[f64], grad: bool| nmse(&shape, data, var, p, grad);
        lsq::minimize_within(&mut eval, &expr.params, cfg.fit_iterations, &limits)
    } else {
        let mut eval = |p: &[f64], grad: bool| {
            scaled_nmse(&shape, cfg.scaling, data, var, p, grad).map(|(c, g, _)| (c, g))
        };
        lsq::minimize_within(&mut eval, &expr.params, cfg.fit_iterations, &limits)
    };
    let mut passes = f.evaluations * expr.params.len().max(1);
    if !f.nmse.is_finite() {
        return (None, passes);
    }
    expr.params = f.params;
    let scale = if cfg.scaling == Scaling::None {
        Vec::new()
    } else {
        passes += 1;
        match scaled_nmse(&expr, cfg.scaling, data, var, &expr.params, false) {
            Some((_, _, c)) => c,
            None => return (None, passes),
        }
    };
    let ind = Ind {
        expr,
        nmse: f.nmse,
        size,
        scale,
    };
    (Some(ind), passes)
}

fn mean(y: &[f64]) -> f64 {
    if y.is_empty() {
        0.0
    } else {
        y.iter().sum::<f64>() / y.len() as f64
    }
}

/// Replaces the subtree at `site` of `e` by `sub`, whose parameters index `sub_params`
/// (an index out of range, as in fresh leaves, starts at 1).
fn graft(e: &mut Expr, site: usize, mut sub: Node, sub_params: &[f64]) {
    let base = e.params.len();
    let mut extra = Vec::new();
    remap(&mut sub, &mut |k| {
        extra.push(sub_params.get(k).copied().unwrap_or(1.0));
        base + extra.len() - 1
    });
    if let Some(node) = e.root.at_mut(site) {
        *node = sub;
        e.params.extend(extra);
    }
}

fn remap(n: &mut Node, f: &mut impl FnMut(usize) -> usize) {
    match n {
        Node::Param(k) => *k = f(*k),
        Node::Un(_, a) => remap(a, f),
        Node::Bin(_, a, b) => {
            remap(a, f);
            remap(b, f);
        }
        _ => {}
    }
}

/// `x ** a` for a half-integer `a` as a tree (`None` for 0).
fn power(x: Node, a: f64) -> Option<Node> {
    let m = a.abs();
    let whole = m.floor() as u32;
    let half = m - m.floor() > 0.25;
    let mut t: Option<Node> = match whole {
        0 => None,
        1 => Some(x.clone()),
        2 => Some(Node::un(Un::Square, x.clone())),
        3 => Some(Node::bin(
            Bin::Mul,
            x.clone(),
            Node::un(Un::Square, x.clone()),
        )),
        4 => Some(Node::un(Un::Square, Node::un(Un::Square, x.clone()))),
        _ => return None,
    };
    if half {
        let s = Node::un(Un::Sqrt, x);
        t = Some(match t {
            Some(t) => Node::bin(Bin::Mul, t, s),
            None => s,
        });
    }
    t
}

/// Power-law seeds `c · Π xᵢ^aᵢ` from a log–log least-squares fit (exponents rounded to
/// halves and to integers), when the target and the inputs never change sign.
fn power_laws(data: &Data<'_>) -> Vec<Expr> {
    let sign = |v: &[f64]| {
        if v.iter().all(|&x| x > 0.0) {
            Some(1.0)
        } else if v.iter().all(|&x| x < 0.0) {
            Some(-1.0)
        } else {
            None
        }
    };
    let Some(sy) = sign(data.y) else {
        return Vec::new();
    };
    let mut signs = Vec::new();
    for c in &data.columns {
        match sign(c) {
            Some(s) => signs.push(s),
            None => return Vec::new(),
        }
    }
    let n = data.rows();
    let k = data.columns.len();
    // Normal equations of ln|y| = b + Σ aᵢ ln|xᵢ|.
    let dim = k + 1;
    let mut ata = vec![0.0; dim * dim];
    let mut atb = vec![0.0; dim];
    let mut row = vec![0.0; dim];
    for r in 0..n {
        row[0] = 1.0;
        for (i, c) in data.columns.iter().enumerate() {
            row[i + 1] = (c[r] * signs[i]).ln();
        }
        let t = (data.y[r] * sy).ln();
        for i in 0..dim {
            atb[i] += row[i] * t;
            for j in 0..dim {
                ata[i * dim + j] += row[i] * row[j];
            }
        }
    }
    let Some(sol) = ansatz_linalg::solve_dense(ata, atb, 1e-12) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for step in [0.5, 1.0] {
        let mut num: Option<Node> = None;
        let mut den: Option<Node> = None;
        for (i, a) in sol[1..].iter().enumerate() {
            let r = (a / step).round() * step;
            if let Some(p) = power(Node::Var(i), r) {
                let slot = if r > 0.0 { &mut num } else { &mut den };
                *slot = Some(match slot.take() {
                    Some(t) => Node::bin(Bin::Mul, t, p),
                    None => p,
                });
            }
        }
        let c = sy * sol[0].exp();
        let top = match num {
            Some(t) => Node::bin(Bin::Mul, Node::Param(0), t),
            None => Node::Param(0),
        };
        let root = match den {
            Some(d) => Node::bin(Bin::Div, top, d),
            None => top,
        };
        out.push(Expr::new(root, vec![c]));
    }
    out
}

/// Below this error a law is taken as exact (noise-free data, floating-point error only).
pub const EXACT: f64 = 1e-24;

/// Runs the search on `data` (every input column, the whole training set).
pub fn search(data: &Data<'_>, cfg: &GpConfig) -> GpOutcome {
    search_with(data, cfg, &mut |_| {})
}

/// [`search`], calling `progress` every [`progress_interval`] seconds. The whole search,
/// the refit of its front on every row included, ends within `cfg.time_limit`: it searches
/// for [`SEARCH_SHARE`] of the limit and refits until [`REFIT_SHARE`] of it (a law whose
/// refit is cut keeps the constants fitted while searching).
pub fn search_with(
    data: &Data<'_>,
    cfg: &GpConfig,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> GpOutcome {
    let clock = Clock::new(cfg.time_limit);
    let rows = data.rows();
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    // The searching subset of rows.
    let sample: Vec<usize> = if rows > cfg.sample_rows {
        rand::seq::index::sample(&mut rng, rows, cfg.sample_rows).into_vec()
    } else {
        (0..rows).collect()
    };
    let sub_cols: Vec<Vec<f64>> = data
        .columns
        .iter()
        .map(|c| sample.iter().map(|&r| c[r]).collect())
        .collect();
    let sub_y: Vec<f64> = sample.iter().map(|&r| data.y[r]).collect();
    let sub = Data {
        columns: sub_cols.iter().map(Vec::as_slice).collect(),
        y: &sub_y,
    };
    let var = sub.variance();
    let mut gp = Gp {
        cfg,
        clock,
        n_vars: data.columns.len(),
        var,
        data: sub,
        rng,
        seen: HashSet::new(),
        archive: BTreeMap::new(),
        fits: 0,
        passes: 0,
    };
    let budget_left = |gp: &Gp<'_>| clock.searching() && cfg.max_fits.is_none_or(|m| gp.fits < m);
    // More than one thread: the fits of a generation run on a pool of that many.
    let pool = (cfg.threads != 1)
        .then(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(cfg.threads)
                .build()
                .ok()
        })
        .flatten();
    let interval = progress_interval(cfg.time_limit);
    let mut reported = 0.0;
    let mut report = |gp: &Gp<'_>, generations: usize, reported: &mut f64| {
        let seconds = clock.seconds();
        if seconds - *reported < interval {
            return;
        }
        *reported = seconds;
        let best = gp
            .archive
            .values()
            .min_by(|a, b| by_fitness(a, b))
            .map(|a| Member {
                expr: a.law(cfg.scaling),
                nmse: a.nmse,
                size: a.size,
            });
        progress(&Progress {
            seconds,
            fits: gp.fits,
            generations,
            front: gp.archive.len(),
            best: best.as_ref(),
        });
    };
    let mut pop: Vec<Ind> = Vec::new();
    if gp.n_vars > 0 {
        for s in gp.seeds() {
            if !budget_left(&gp) {
                break;
            }
            if let Some(ind) = gp.consider(s) {
                pop.push(ind);
            }
        }
        let mut tries = 0;
        while pop.len() < cfg.population && tries < cfg.population * 20 && budget_left(&gp) {
            tries += 1;
            let depth = 2 + tries % 4;
            let t = gp.random_tree(depth);
            if let Some(ind) = gp.consider(Expr::new(t, Vec::new())) {
                pop.push(ind);
            }
        }
    } else if let Some(ind) = gp.consider(Expr::new(Node::Param(0), vec![mean(data.y)])) {
        pop.push(ind);
    }
    // The islands: the starting population dealt out in turn, each with its own front.
    let k = cfg.islands.clamp(1, cfg.population.max(1));
    let share = cfg.population.div_ceil(k).max(1);
    let quota = cfg.offspring.div_ceil(k).max(1);
    let mut islands: Vec<Vec<Ind>> = vec![Vec::new(); k];
    let mut fronts: Vec<BTreeMap<usize, Ind>> = vec![BTreeMap::new(); k];
    for (j, ind) in pop.into_iter().enumerate() {
        file_front(&mut fronts[j % k], &ind);
        islands[j % k].push(ind);
    }
    let mut generations = 0;
    // Fits done when the first exact law appeared: the search goes on for a quarter as
    // many more (at least 100), counted in fits so that a run is reproducible.
    let mut exact_at: Option<usize> = None;
    let stopped = loop {
        report(&gp, generations, &mut reported);
        if islands.iter().all(Vec::is_empty) {
            break "no law could be fitted".to_string();
        }
        if !budget_left(&gp) {
            break if cfg.max_fits.is_some_and(|m| gp.fits >= m) {
                format!("fit budget of {} used", gp.fits)
            } else {
                format!("time limit of {} s reached", cfg.time_limit)
            };
        }
        if let Some(n) = exact_at
            && gp.fits >= n + (n / 4).max(100)
        {
            break "an exact law was found".to_string();
        }
        generations += 1;
        // Every island's offspring, fitted together: a batch of new structures from the
        // islands as they stand, until each has its quota (or tries run out).
        let mut made = vec![0; k];
        let mut tries = vec![0; k];
        loop {
            let room = cfg
                .max_fits
                .map_or(usize::MAX, |m| m.saturating_sub(gp.fits));
            let mut batch = Vec::new();
            let mut from = Vec::new();
            for i in 0..k {
                let mut wanted = quota.saturating_sub(made[i]);
                while wanted > 0
                    && batch.len() < room
                    && tries[i] < quota * 10
                    && !islands[i].is_empty()
                {
                    tries[i] += 1;
                    if let Some(child) = gp.offspring(&islands[i])
                        && let Some(e) = gp.prepare(child)
                    {
                        batch.push(e);
                        from.push(i);
                        wanted -= 1;
                    }
                }
            }
            if batch.is_empty() || !budget_left(&gp) {
                break;
            }
            for (i, ind) in gp.consider_all(batch, from, pool.as_ref()) {
                made[i] += 1;
                file_front(&mut fronts[i], &ind);
                islands[i].push(ind);
            }
            if !budget_left(&gp) {
                break;
            }
        }
        if exact_at.is_none() && gp.archive.values().any(|a| a.nmse <= EXACT) {
            exact_at = Some(gp.fits);
        }
        for (island, front) in islands.iter_mut().zip(&fronts) {
            *island = survivors(std::mem::take(island), front, share);
        }
        if k > 1 && generations % MIGRATION_INTERVAL == 0 {
            // Ring migration: each island receives the best of the one before it.
            let best: Vec<Option<Ind>> = islands
                .iter()
                .map(|p| p.iter().min_by(|a, b| by_fitness(a, b)).cloned())
                .collect();
            for i in 0..k {
                if let Some(m) = &best[(i + k - 1) % k] {
                    file_front(&mut fronts[i], m);
                    islands[i].push(m.clone());
                }
            }
        }
    };
    // Refit the front on every training row, with restarts, the best laws first: those
    // the refit deadline cuts keep their constants, scored on every row.
    let full_var = data.variance();
    let mut archive: Vec<(usize, Ind)> = std::mem::take(&mut gp.archive)
        .into_values()
        .enumerate()
        .collect();
    archive.sort_by(|a, b| a.1.nmse.total_cmp(&b.1.nmse));
    let mut front: Vec<Member> = Vec::new();
    for (i, ind) in archive {
        let mut e = ind.law(cfg.scaling);
        let (mut err, evals) = fit_within(
            &mut e,
            data,
            60,
            0,
            cfg.seed.wrapping_add(i as u64),
            clock.refit_until,
        );
        gp.passes += evals * e.params.len().max(1);
        if !err.is_finite() {
            // Cut before its first evaluation (or not finite on some row): one pass.
            err = nmse(&e, data, full_var, &e.params.clone(), false).map_or(f64::INFINITY, |r| r.0);
            gp.passes += 1;
        }
        let (e, err) = tidy_until(e, err, data, clock.refit_until);
        if err.is_finite() {
            front.push(Member {
                size: e.size(),
                expr: e,
                nmse: err,
            });
        }
    }
    front.sort_by(|a, b| a.size.cmp(&b.size).then(a.nmse.total_cmp(&b.nmse)));
    let mut pareto: Vec<Member> = Vec::new();
    for m in front {
        if pareto.last().is_none_or(|l| m.nmse < l.nmse) {
            pareto.push(m);
        }
    }
    GpOutcome {
        front: pareto,
        fits: gp.fits,
        passes: gp.passes,
        generations,
        stopped,
        seconds: clock.seconds(),
    }
}

/// The order of laws by fitness: lower error first, then the smaller.
fn by_fitness(a: &Ind, b: &Ind) -> std::cmp::Ordering {
    a.nmse.total_cmp(&b.nmse).then(a.size.cmp(&b.size))
}

/// Files `ind` in `front` (the best law of each size) when it is the best of its size.
fn file_front(front: &mut BTreeMap<usize, Ind>, ind: &Ind) {
    if front.get(&ind.size).is_none_or(|a| ind.nmse < a.nmse) {
        front.insert(ind.size, ind.clone());
    }
}

fn survivors(mut pop: Vec<Ind>, archive: &BTreeMap<usize, Ind>, n: usize) -> Vec<Ind> {
    pop.sort_by(by_fitness);
    let mut keys = HashSet::new();
    let mut out: Vec<Ind> = Vec::with_capacity(n);
    // The front first: every size keeps its best.
    for a in archive.values() {
        if keys.insert(a.expr.root.key()) {
            out.push(a.clone());
        }
    }
    for ind in pop {
        if out.len() >= n {
            break;
        }
        if keys.insert(ind.expr.root.key()) {
            out.push(ind);
        }
    }
    out
}

/// A number a fitted constant is taken to be when it is within 1e-9 (relative) of it: 0,
/// or its simplest exact form ([`Exact::find`]: an integer, a fraction with a small
/// denominator, such a fraction times or over π).
fn snap(v: f64) -> Option<f64> {
    if v.abs() < 1e-10 {
        return Some(0.0);
    }
    Exact::find(v, 1e-9).map(Exact::value)
}

/// Every chain of products and quotients written as one constant coefficient times the
/// other factors over the divisors, equal factors squared (`x0 / 0.4 * x0` is
/// `2.5 * x0**2`): the same law with the same values, printed the simple way. The
/// coefficient is a fitted constant when the chain held one, else a fixed number.
pub fn gather_products(e: &Expr) -> Expr {
    /// The factors of the chain at `n`: constants multiplied into `coef` (`fitted` when one
    /// holds a fitted constant), the others into `num` or `den`.
    struct Chain {
        coef: f64,
        fitted: bool,
        num: Vec<Node>,
        den: Vec<Node>,
    }
    fn collect(n: &Node, e: &Expr, chain: &mut Chain, extra: &mut Vec<f64>, inverted: bool) {
        match n {
            Node::Bin(Bin::Mul, a, b) => {
                collect(a, e, chain, extra, inverted);
                collect(b, e, chain, extra, inverted);
            }
            Node::Bin(Bin::Div, a, b) => {
                collect(a, e, chain, extra, inverted);
                collect(b, e, chain, extra, !inverted);
            }
            n if n.is_constant() => {
                let v = value_of(n, e);
                chain.coef *= if inverted { 1.0 / v } else { v };
                chain.fitted |= has_param(n);
            }
            n => {
                let n = go(n, e, extra);
                if inverted {
                    chain.den.push(n);
                } else {
                    chain.num.push(n);
                }
            }
        }
    }
    /// The product of `factors`, equal ones paired into squares (`None`: empty).
    fn product(mut factors: Vec<Node>) -> Option<Node> {
        let mut out: Vec<Node> = Vec::new();
        while let Some(f) = (!factors.is_empty()).then(|| factors.remove(0)) {
            match factors.iter().position(|g| *g == f) {
                Some(k) => {
                    factors.remove(k);
                    out.push(Node::un(Un::Square, f));
                }
                None => out.push(f),
            }
        }
        out.into_iter().reduce(|a, b| Node::bin(Bin::Mul, a, b))
    }
    fn go(n: &Node, e: &Expr, extra: &mut Vec<f64>) -> Node {
        match n {
            Node::Bin(Bin::Mul | Bin::Div, ..) if !n.is_constant() => {
                let mut chain = Chain {
                    coef: 1.0,
                    fitted: false,
                    num: Vec::new(),
                    den: Vec::new(),
                };
                collect(n, e, &mut chain, extra, false);
                if !chain.coef.is_finite() || chain.coef == 0.0 {
                    return n.clone();
                }
                // Factors on both sides of the bar cancel.
                let mut den = Vec::new();
                for d in chain.den {
                    match chain.num.iter().position(|f| *f == d) {
                        Some(k) => {
                            chain.num.remove(k);
                        }
                        None => den.push(d),
                    }
                }
                let coefficient = if chain.fitted {
                    Some(new_param(e, extra, chain.coef))
                } else if chain.coef == 1.0 || chain.coef == -1.0 {
                    None
                } else {
                    Some(Node::Num(chain.coef))
                };
                let top = match (coefficient, product(chain.num)) {
                    (Some(c), Some(f)) => Node::bin(Bin::Mul, c, f),
                    (Some(c), None) => c,
                    (None, Some(f)) => f,
                    (None, None) => Node::Num(1.0),
                };
                let whole = match product(den) {
                    Some(d) => Node::bin(Bin::Div, top, d),
                    None => top,
                };
                if !chain.fitted && chain.coef == -1.0 {
                    Node::un(Un::Neg, whole)
                } else {
                    whole
                }
            }
            n => map_children(n, |c| go(c, e, extra)),
        }
    }
    rewrite(e, go)
}

/// Algebraic clean-up: constant folding, `1 · x`, `x / 1`, `x ± 0`, `0 · x`, `--x`.
fn simplify(n: Node) -> Node {
    match n {
        Node::Un(op, a) => {
            let a = simplify(*a);
            match (op, a) {
                (Un::Neg, Node::Un(Un::Neg, b)) => *b,
                (op, Node::Num(v)) => {
                    let r = Expr::new(Node::un(op, Node::Num(v)), Vec::new()).eval(&[], 1)[0];
                    if r.is_finite() {
                        Node::Num(r)
                    } else {
                        Node::un(op, Node::Num(v))
                    }
                }
                (op, a) => Node::un(op, a),
            }
        }
        Node::Bin(op, a, b) => {
            let (a, b) = (simplify(*a), simplify(*b));
            match (op, a, b) {
                (op, Node::Num(x), Node::Num(y)) => {
                    let r = Expr::new(Node::bin(op, Node::Num(x), Node::Num(y)), Vec::new())
                        .eval(&[], 1)[0];
                    if r.is_finite() {
                        Node::Num(r)
                    } else {
                        Node::bin(op, Node::Num(x), Node::Num(y))
                    }
                }
                (Bin::Mul, Node::Num(v), x) | (Bin::Mul, x, Node::Num(v)) if v == 1.0 => x,
                (Bin::Mul, Node::Num(v), x) | (Bin::Mul, x, Node::Num(v)) if v == -1.0 => {
                    Node::un(Un::Neg, x)
                }
                (Bin::Mul, Node::Num(v), _) | (Bin::Mul, _, Node::Num(v)) if v == 0.0 => {
                    Node::Num(0.0)
                }
                (Bin::Div, x, Node::Num(1.0)) => x,
                (Bin::Add, Node::Num(v), x) | (Bin::Add | Bin::Sub, x, Node::Num(v))
                    if v == 0.0 =>
                {
                    x
                }
                (Bin::Sub, Node::Num(0.0), x) => Node::un(Un::Neg, x),
                (op, a, b) => Node::bin(op, a, b),
            }
        }
        other => other,
    }
}

/// Replaces every constant subtree that holds a fitted constant (`c0 * c1`, `c0 ** 2`,
/// `1 / c0`...) by one constant with its value: the same law with fewer redundant
/// constants.
pub fn fold_constants(e: &Expr) -> Expr {
    fn go(n: &Node, e: &Expr, extra: &mut Vec<f64>) -> Node {
        let leaf = matches!(n, Node::Param(_) | Node::Num(_) | Node::Var(_));
        if !leaf && n.is_constant() && has_param(n) {
            let v = value_of(n, e);
            if v.is_finite() {
                return new_param(e, extra, v);
            }
        }
        map_children(n, |c| go(c, e, extra))
    }
    rewrite(e, go)
}

/// Whether the subtree holds a fitted constant.
fn has_param(n: &Node) -> bool {
    match n {
        Node::Param(_) => true,
        Node::Un(_, a) => has_param(a),
        Node::Bin(_, a, b) => has_param(a) || has_param(b),
        _ => false,
    }
}

/// The value of a constant subtree of `e`.
fn value_of(n: &Node, e: &Expr) -> f64 {
    Expr {
        root: n.clone(),
        params: e.params.clone(),
    }
    .eval(&[], 1)[0]
}

/// A new fitted constant of `e` with value `v` (kept in `extra` until [`rewrite`] ends).
fn new_param(e: &Expr, extra: &mut Vec<f64>, v: f64) -> Node {
    extra.push(v);
    Node::Param(e.params.len() + extra.len() - 1)
}

/// `n` with `f` applied to its children.
fn map_children(n: &Node, mut f: impl FnMut(&Node) -> Node) -> Node {
    match n {
        Node::Un(op, a) => Node::un(*op, f(a)),
        Node::Bin(op, a, b) => Node::bin(*op, f(a), f(b)),
        other => other.clone(),
    }
}

/// `e` rewritten from its root by `go`, which may add constants ([`new_param`]).
fn rewrite(e: &Expr, go: fn(&Node, &Expr, &mut Vec<f64>) -> Node) -> Expr {
    let mut extra = Vec::new();
    let root = go(&e.root, e, &mut extra);
    let mut params = e.params.clone();
    params.extend(extra);
    Expr::new(root, params)
}

/// Snaps constants to simple numbers ([`snap`]), simplifies and refits; keeps the result
/// when its error stays within 1.5 times the original (or exact).
pub fn tidy(e: Expr, err: f64, data: &Data<'_>) -> (Expr, f64) {
    tidy_until(e, err, data, lsq::deadline_in(lsq::MAX_SECONDS))
}

/// [`tidy`] with no refit evaluation started after `deadline` (then it keeps what it has).
pub fn tidy_until(e: Expr, err: f64, data: &Data<'_>, deadline: Instant) -> (Expr, f64) {
    if !err.is_finite() || Instant::now() >= deadline {
        return (e, err);
    }
    let bar = (1.5 * err).max(EXACT);
    let (mut best, mut best_err) = (gather_products(&fold_constants(&e)), err);
    // Snap every constant near a simple number at once.
    let mut root = best.root.clone();
    root.map_leaves(&mut |n| {
        if let Node::Param(k) = n
            && let Some(v) = best.params.get(*k).copied().and_then(snap)
        {
            *n = Node::Num(v);
        }
    });
    if let Some((t, terr)) = refit_variant(&best, root, data, bar, deadline) {
        (best, best_err) = (t, terr);
    }
    // Then drop constants one at a time (as 1, then as 0) while the error holds.
    let mut k = 0;
    while k < best.params.len() && Instant::now() < deadline {
        let mut dropped = false;
        for v in [1.0, 0.0] {
            let mut root = best.root.clone();
            let mut i = 0;
            root.map_leaves(&mut |n| {
                if let Node::Param(j) = n {
                    if *j == k {
                        *n = Node::Num(v);
                    }
                    i += 1;
                }
            });
            if let Some((t, terr)) = refit_variant(&best, root, data, bar, deadline) {
                (best, best_err) = (t, terr);
                dropped = true;
                break;
            }
        }
        if !dropped {
            k += 1;
        }
    }
    // Last, the e-graph's simplified form of the law (e.g. `2 - 2 * (x - (x + x))` is
    // `2 + x + x`), when it is smaller.
    if let Some((t, terr)) = egraph_variant(&best, data.columns.len(), data, bar, deadline)
        && t.size() < best.size()
    {
        (best, best_err) = (t, terr);
    }
    // The same law with its products gathered, when that is no larger.
    let gathered = gather_products(&best);
    if gathered.size() <= best.size() {
        best = gathered;
    }
    (best, best_err)
}

/// The law simplified in the e-graph (the language's rewrite rules), back as a tree,
/// refitted; `None` if it cannot be converted or loses accuracy.
fn egraph_variant(
    e: &Expr,
    inputs: usize,
    data: &Data<'_>,
    bar: f64,
    deadline: Instant,
) -> Option<(Expr, f64)> {
    if Instant::now() >= deadline {
        return None;
    }
    let names: Vec<String> = (0..inputs).map(|i| format!("x{i}")).collect();
    let vars = super::expr::Vars {
        law: names.clone(),
        columns: names.clone(),
    };
    let signature = ansatz_grammar::Signature::new(
        names
            .iter()
            .map(|n| (n.clone(), ansatz_grammar::Type::Scalar)),
        ansatz_grammar::Type::Scalar,
    );
    let law = ansatz_grammar::load(&e.law(&vars), &signature).ok()?;
    let simplified = ansatz_grammar::egraph::simplify(&law);
    let checked = ansatz_grammar::check(&simplified.program, &signature).ok()?;
    let mut t = super::expr::from_law(&checked, &vars)?;
    let (terr, _) = fit_within(&mut t, data, 60, 0, 0, deadline);
    (terr.is_finite() && terr <= bar).then_some((t, terr))
}

/// `root` (a variant of `e` whose parameters index `e.params`) simplified and refitted, if
/// it differs from `e`, still depends on the inputs and stays within `bar`.
fn refit_variant(
    e: &Expr,
    root: Node,
    data: &Data<'_>,
    bar: f64,
    deadline: Instant,
) -> Option<(Expr, f64)> {
    let simplified = simplify(root);
    if simplified == e.root || (simplified.is_constant() && !e.root.is_constant()) {
        return None;
    }
    let mut t = fold_constants(&Expr::new(simplified, e.params.clone()));
    let (terr, _) = fit_within(&mut t, data, 60, 0, 0, deadline);
    (terr.is_finite() && terr <= bar).then_some((t, terr))
}

/// The law to report from a front: the smallest whose error is within 10 % of the best
/// (or below 1e-24, exact on noise-free data).
pub fn choose(front: &[Member]) -> Option<usize> {
    choose_by_error(front.iter().map(|m| m.nmse))
}

/// The rule of [`choose`] over the errors of a front ordered by increasing size.
pub fn choose_by_error(errors: impl Iterator<Item = f64> + Clone) -> Option<usize> {
    let best = errors.clone().fold(f64::INFINITY, f64::min);
    if !best.is_finite() {
        return None;
    }
    let bar = (best * 1.1).max(EXACT);
    errors.into_iter().position(|e| e <= bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(lo..hi)).collect()
    }

    #[test]
    fn power_law_seeds_find_a_monomial_exactly() {
        let q = grid(200, 1.0, 5.0, 1);
        let c = grid(200, 1.0, 5.0, 2);
        let y: Vec<f64> = q
            .iter()
            .zip(&c)
            .map(|(q, c)| q / (4.0 * std::f64::consts::PI * c * c))
            .collect();
        let data = Data {
            columns: vec![&q, &c],
            y: &y,
        };
        let cfg = GpConfig {
            max_fits: Some(50),
            ..GpConfig::default()
        };
        let out = search(&data, &cfg);
        let best = &out.front[choose(&out.front).unwrap()];
        assert!(best.nmse < EXACT, "{:?}", out.front);
        assert!(best.size <= 6, "{:?}", best);
        // The constant 1/(4 pi) is snapped to its exact form and printed as it.
        let vars = super::super::expr::Vars {
            law: vec!["q".into(), "c".into()],
            columns: vec!["q".into(), "c".into()],
        };
        assert!(best.expr.params.is_empty(), "{best:?}");
        assert!(best.expr.sympy(&vars).contains("1/(4*pi)"), "{best:?}");
        let pred = best.expr.eval(&[&q, &c], q.len());
        for (p, y) in pred.iter().zip(&y) {
            assert!((p - y).abs() <= 1e-14 * y.abs(), "{p} {y}");
        }
    }

    #[test]
    fn the_search_finds_a_law_with_a_cosine_and_is_deterministic_on_a_fit_budget() {
        let b = grid(300, 1.0, 5.0, 3);
        let a = grid(300, 1.0, 5.0, 4);
        let t = grid(300, 1.0, 5.0, 5);
        let y: Vec<f64> = (0..300).map(|i| b[i] * (1.0 + a[i] * t[i].cos())).collect();
        let data = Data {
            columns: vec![&b, &a, &t],
            y: &y,
        };
        finds_exactly_on_one_and_two_threads(&data, 7, GpConfig::default().islands);
    }

    #[test]
    fn one_population_and_islands_find_a_law_of_two_sines() {
        // barmag-like: 0.5 sin(x - y) - sin(x).
        let x = grid(300, 0.0, 6.3, 21);
        let z = grid(300, 0.0, 6.3, 22);
        let y: Vec<f64> = (0..300)
            .map(|i| 0.5 * (x[i] - z[i]).sin() - x[i].sin())
            .collect();
        let data = Data {
            columns: vec![&x, &z],
            y: &y,
        };
        for islands in [1, 8] {
            finds_exactly_on_one_and_two_threads(&data, 0, islands);
        }
    }

    /// A search of `islands` on a budget of fits (not ended by the clock, so that a loaded
    /// machine does not change it) finds an exact law, and the same law on two threads:
    /// the fits of a generation are filed in order.
    fn finds_exactly_on_one_and_two_threads(data: &Data<'_>, seed: u64, islands: usize) {
        let cfg = GpConfig {
            max_fits: Some(6000),
            time_limit: 3600.0,
            seed,
            islands,
            ..GpConfig::default()
        };
        let one = search(data, &cfg);
        let best = &one.front[choose(&one.front).unwrap()];
        assert!(best.nmse < 1e-20, "islands {islands}: {:?}", one.front);
        let two = search(
            data,
            &GpConfig {
                threads: 2,
                ..cfg.clone()
            },
        );
        assert_eq!(one.front, two.front, "islands {islands}");
        assert_eq!(one.fits, two.fits, "islands {islands}");
    }

    #[test]
    fn scaling_solves_the_coefficients_and_its_gradient_matches_differences() {
        let x = grid(100, 0.5, 3.0, 11);
        let z = grid(100, 0.5, 3.0, 12);
        // y = 4 - 3 sin(1.7 x) + 0.5 x z: the scaled error of sin(p x) + x z is zero at
        // p = 1.7 with terms, not with one factor for the whole law.
        let y: Vec<f64> = (0..100)
            .map(|i| 4.0 - 3.0 * (1.7 * x[i]).sin() + 0.5 * x[i] * z[i])
            .collect();
        let data = Data {
            columns: vec![&x, &z],
            y: &y,
        };
        let e = Expr::new(
            Node::bin(
                Bin::Add,
                Node::un(Un::Sin, Node::bin(Bin::Mul, Node::Param(0), Node::Var(0))),
                Node::bin(Bin::Mul, Node::Var(0), Node::Var(1)),
            ),
            vec![1.7],
        );
        let var = data.variance();
        let (c, _, coef) = scaled_nmse(&e, Scaling::Terms, &data, var, &[1.7], false).unwrap();
        assert!(c < 1e-26, "{c}");
        assert!(
            (coef[0] - 4.0).abs() < 1e-10 && (coef[1] + 3.0).abs() < 1e-10,
            "{coef:?}"
        );
        assert!((coef[2] - 0.5).abs() < 1e-10, "{coef:?}");
        let (affine, _, ab) = scaled_nmse(&e, Scaling::Affine, &data, var, &[1.7], false).unwrap();
        assert_eq!(ab.len(), 2);
        assert!(affine > 1e-3, "{affine}");
        // The law with its coefficients applied is the target.
        let law = apply_scale(&e, Scaling::Terms, &coef);
        assert_eq!(law.params.len(), 4);
        for (p, y) in law.eval(&[&x, &z], x.len()).iter().zip(&y) {
            assert!((p - y).abs() < 1e-10);
        }
        // Away from the optimum: the gradient (coefficients held at their optimum) is the
        // derivative of the scaled error, by central differences.
        for scaling in [Scaling::Affine, Scaling::Terms] {
            let p = 1.3;
            let (c, g, _) = scaled_nmse(&e, scaling, &data, var, &[p], true).unwrap();
            let h = 1e-6;
            let at = |p: f64| scaled_nmse(&e, scaling, &data, var, &[p], false).unwrap().0;
            let fd = (at(p + h) - at(p - h)) / (2.0 * h);
            assert!(c > 1e-3, "{c}");
            assert!(
                (g[0] - fd).abs() <= 1e-6 * fd.abs().max(1.0),
                "{} vs {fd}",
                g[0]
            );
        }
        // A law constant over the rows: no term, the offset is the mean.
        let k = Expr::new(Node::Param(0), vec![2.0]);
        let (_, _, coef) = scaled_nmse(&k, Scaling::Terms, &data, var, &[2.0], false).unwrap();
        assert_eq!(coef.len(), 1);
        assert!((coef[0] - y.iter().sum::<f64>() / y.len() as f64).abs() < 1e-12);
        // A law that is not finite on a row has no error.
        let l = Expr::new(
            Node::un(Un::Log, Node::bin(Bin::Sub, Node::Var(0), Node::Num(1.0))),
            vec![],
        );
        assert!(scaled_nmse(&l, Scaling::Terms, &data, var, &[], false).is_none());
    }

    #[test]
    fn a_scaled_law_takes_coefficients_into_its_own_constants_and_its_text_loads() {
        // Ten terms k_i · x_i: the coefficients go into the k_i, not into ten new
        // constants; a law of more constants than the law language declares is written
        // with the rest as numbers, and loads with the same values.
        let cols: Vec<Vec<f64>> = (0..10).map(|i| grid(40, 1.0, 2.0, 30 + i)).collect();
        let mut root = Node::bin(Bin::Mul, Node::Param(0), Node::Var(0));
        for i in 1..10 {
            root = Node::bin(
                Bin::Add,
                root,
                Node::bin(Bin::Mul, Node::Param(0), Node::Var(i)),
            );
        }
        let e = Expr::new(root, vec![1.0; 10]);
        assert_eq!(e.params.len(), 10);
        // More terms than MAX_TERMS: the law is scaled as a whole.
        assert_eq!(scaled_terms(&e.root, Scaling::Terms).len(), 1);
        let few = Expr::new(
            Node::bin(
                Bin::Add,
                Node::bin(Bin::Mul, Node::Param(0), Node::Var(0)),
                Node::bin(Bin::Div, Node::Param(1), Node::Var(1)),
            ),
            vec![2.0, 3.0],
        );
        let scaled = apply_scale(&few, Scaling::Terms, &[1.0, 5.0, 7.0]);
        assert_eq!(scaled.params, vec![1.0, 10.0, 21.0]);
        let names: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
        let vars = super::super::expr::Vars {
            law: names.clone(),
            columns: names.clone(),
        };
        let text = e.law(&vars);
        assert_eq!(text.matches("param ").count(), 8, "{text}");
        let model = super::super::estimator::Model::load(&text, &names).unwrap();
        let refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
        let want = e.eval(&refs, 40);
        let got = model.predict(&cols).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * w.abs(), "{g} {w}");
        }
    }

    #[test]
    fn least_squares_gives_collinear_and_constant_columns_no_weight() {
        let x = grid(50, -1.0, 1.0, 13);
        let y: Vec<f64> = x.iter().map(|x| 2.0 + 3.0 * x).collect();
        let twice: Vec<f64> = x.iter().map(|x| 2.0 * x).collect();
        let (a, c) = least_squares(&[x.clone(), twice, vec![5.0; 50]], &y).unwrap();
        assert!(
            (a - 2.0).abs() < 1e-12 && (c[0] - 3.0).abs() < 1e-12,
            "{a} {c:?}"
        );
        assert_eq!((c[1], c[2]), (0.0, 0.0));
        assert!(least_squares(&[vec![f64::NAN; 50]], &y).is_none());
    }

    #[test]
    fn a_law_with_a_large_offset_and_factor_is_found_exactly_with_scaling() {
        // 150 + 40 x0 x1 / (1 + x0): the offset and the factor are found at every
        // evaluation, so the search only has to find the shape.
        let x0 = grid(300, 0.5, 4.0, 21);
        let x1 = grid(300, 0.5, 4.0, 22);
        let y: Vec<f64> = (0..300)
            .map(|i| 150.0 + 40.0 * x0[i] * x1[i] / (1.0 + x0[i]))
            .collect();
        let data = Data {
            columns: vec![&x0, &x1],
            y: &y,
        };
        let cfg = GpConfig {
            max_fits: Some(3000),
            seed: 3,
            ..GpConfig::default()
        };
        let out = search(&data, &cfg);
        let best = &out.front[choose(&out.front).unwrap()];
        assert!(best.nmse < 1e-20, "{:?}", out.front);
        let pred = best.expr.eval(&[&x0, &x1], 300);
        for (p, y) in pred.iter().zip(&y) {
            assert!((p - y).abs() <= 1e-9 * y.abs(), "{p} {y}");
        }
    }

    #[test]
    fn choosing_prefers_the_smallest_law_near_the_best_error() {
        let m = |size, nmse| Member {
            expr: Expr::new(Node::Param(0), vec![1.0]),
            nmse,
            size,
        };
        let front = vec![m(1, 1.0), m(3, 1e-3), m(5, 2e-30), m(9, 1e-31)];
        assert_eq!(choose(&front), Some(2));
        let noisy = vec![m(1, 1.0), m(3, 1.05e-4), m(7, 1.0e-4)];
        assert_eq!(choose(&noisy), Some(1));
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn gathering_products_writes_the_same_law_with_one_coefficient() {
        let vars = super::super::expr::Vars {
            law: vec!["x0".into(), "x1".into()],
            columns: vec!["x0".into(), "x1".into()],
        };
        // x0 / 0.4 * x0 is 2.5 * x0**2; x0 / c0 * x1 / (x0 * c1) is c * x1.
        let e = Expr::new(
            Node::bin(
                Bin::Mul,
                Node::bin(Bin::Div, Node::Var(0), Node::Num(0.4)),
                Node::Var(0),
            ),
            Vec::new(),
        );
        let g = gather_products(&e);
        assert_eq!(g.sympy(&vars), "2.5 * x0**2");
        let e = Expr::new(
            Node::bin(
                Bin::Div,
                Node::bin(
                    Bin::Mul,
                    Node::bin(Bin::Div, Node::Var(0), Node::Param(0)),
                    Node::Var(1),
                ),
                Node::bin(Bin::Mul, Node::Var(0), Node::Param(1)),
            ),
            vec![4.0, 0.5],
        );
        let g = gather_products(&e);
        assert_eq!(g.sympy(&vars), "0.5 * x1");
        assert_eq!(g.params, vec![0.5]);
        // Values are unchanged, inside other operators too.
        let e = Expr::new(
            Node::un(
                Un::Sin,
                Node::bin(
                    Bin::Div,
                    Node::bin(Bin::Mul, Node::Num(-1.0), Node::Var(1)),
                    Node::bin(Bin::Div, Node::Var(0), Node::Param(0)),
                ),
            ),
            vec![3.0],
        );
        let g = gather_products(&e);
        let x0 = [0.5, 1.5, 2.0];
        let x1 = [1.0, -2.0, 0.25];
        let (a, b) = (e.eval(&[&x0, &x1], 3), g.eval(&[&x0, &x1], 3));
        for (a, b) in a.iter().zip(&b) {
            assert!((a - b).abs() < 1e-12, "{a} {b}");
        }
        assert_eq!(g.sympy(&vars), "sin((-3) * x1 / x0)");
    }

    #[test]
    fn a_search_with_its_refit_ends_within_its_time_limit_and_reports_progress() {
        // Noisy data of a law the search does not find: it runs to its limit.
        let n = 4000;
        let x0 = grid(n, 0.5, 3.0, 8);
        let x1 = grid(n, 0.5, 3.0, 9);
        let noise = grid(n, -0.1, 0.1, 10);
        let y: Vec<f64> = (0..n)
            .map(|i| (x0[i] * x1[i]).sin() * x0[i].exp() / (1.0 + x1[i]) + noise[i])
            .collect();
        let data = Data {
            columns: vec![&x0, &x1],
            y: &y,
        };
        let cfg = GpConfig {
            time_limit: 6.0,
            ..GpConfig::default()
        };
        let started = Instant::now();
        let mut reports = Vec::new();
        let out = search_with(&data, &cfg, &mut |p| reports.push((p.seconds, p.fits)));
        let wall = started.elapsed().as_secs_f64();
        assert!(wall <= 6.0, "{wall} s");
        assert!(out.seconds <= 6.0, "{out:?}");
        assert!(out.stopped.contains("time limit"), "{}", out.stopped);
        assert!(!out.front.is_empty());
        // A report at most every second (a tenth of the limit, at least 1 s; checked once a
        // generation), with growing counts.
        assert!(reports.len() >= 2, "{reports:?}");
        for w in reports.windows(2) {
            assert!(w[1].0 - w[0].0 >= 1.0 && w[1].1 >= w[0].1, "{reports:?}");
        }
    }
}
