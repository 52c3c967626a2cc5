//! The run-level account of a sequence search, as the papers report it: regret against oracle
//! calls (`regret.csv`, `regret.svg`) and, per round, the oracle calls, the feasible fraction
//! and the diversity of what was evaluated (`report.md`).
//!
//! An oracle call is one evaluation of the function: every candidate that passed the screen,
//! feasible or not (duplicates are rejected before and cost none). Regret is 1 − the best f
//! found so far (infinite until a feasible sequence has been evaluated).

use super::EhrlichDetail;
use ansatz_ehrlich::mean_pairwise_hamming;
use ansatz_engine::plot::{Series, line_chart};
use ansatz_engine::{Candidate, LedgerError, RunDir};
use std::collections::BTreeMap;
use std::fmt::Write;

/// One oracle call of the regret curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// 1 for the first call of the run.
    pub calls: usize,
    /// The round of the candidate.
    pub round: usize,
    /// The candidate's id.
    pub candidate: usize,
    /// f of this sequence (−∞ when infeasible).
    pub value: f64,
    /// The best f so far (−∞ before the first feasible sequence).
    pub best: f64,
}

impl Call {
    /// 1 − the best f so far.
    pub fn regret(&self) -> f64 {
        1.0 - self.best
    }
}

/// What the oracle saw in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundStats {
    /// The round (0: the starting sequence).
    pub round: usize,
    /// Candidates proposed (screened out ones included).
    pub proposed: usize,
    /// Oracle calls of the round.
    pub calls: usize,
    /// Feasible sequences among them.
    pub feasible: usize,
    /// The best f of the round (−∞ when none was feasible).
    pub best: f64,
    /// The best f after the round.
    pub best_so_far: f64,
    /// Oracle calls after the round.
    pub calls_so_far: usize,
    /// Mean pairwise Hamming distance / L of the round's evaluated sequences.
    pub diversity: f64,
}

impl RoundStats {
    /// Feasible sequences / oracle calls (0 when the round made no call).
    pub fn feasible_fraction(&self) -> f64 {
        if self.calls == 0 {
            0.0
        } else {
            self.feasible as f64 / self.calls as f64
        }
    }
}

fn in_order(candidates: &[Candidate<EhrlichDetail>]) -> Vec<&Candidate<EhrlichDetail>> {
    let mut all: Vec<&Candidate<EhrlichDetail>> = candidates.iter().collect();
    all.sort_by_key(|c| c.id);
    all
}

fn is_call(c: &Candidate<EhrlichDetail>) -> bool {
    c.evaluated() && c.detail.sequence.is_some()
}

/// The regret curve: one entry per oracle call, in candidate order.
pub fn regret_curve(candidates: &[Candidate<EhrlichDetail>]) -> Vec<Call> {
    let mut best = f64::NEG_INFINITY;
    in_order(candidates)
        .into_iter()
        .filter(|c| is_call(c))
        .enumerate()
        .map(|(i, c)| {
            let value = c.detail.value.unwrap_or(f64::NEG_INFINITY);
            best = best.max(value);
            Call {
                calls: i + 1,
                round: c.round,
                candidate: c.id,
                value,
                best,
            }
        })
        .collect()
}

/// The per-round statistics, by round.
pub fn round_stats(candidates: &[Candidate<EhrlichDetail>]) -> Vec<RoundStats> {
    let mut by_round: BTreeMap<usize, Vec<&Candidate<EhrlichDetail>>> = BTreeMap::new();
    for c in in_order(candidates) {
        by_round.entry(c.round).or_default().push(c);
    }
    let (mut best_so_far, mut calls_so_far) = (f64::NEG_INFINITY, 0);
    by_round
        .into_iter()
        .map(|(round, cs)| {
            let called: Vec<&Candidate<EhrlichDetail>> =
                cs.iter().copied().filter(|c| is_call(c)).collect();
            let values: Vec<f64> = called.iter().filter_map(|c| c.detail.value).collect();
            let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            best_so_far = best_so_far.max(best);
            calls_so_far += called.len();
            let sequences: Vec<Vec<u32>> = called
                .iter()
                .filter_map(|c| c.detail.sequence.clone())
                .collect();
            RoundStats {
                round,
                proposed: cs.len(),
                calls: called.len(),
                feasible: values.len(),
                best,
                best_so_far,
                calls_so_far,
                diversity: mean_pairwise_hamming(&sequences),
            }
        })
        .collect()
}

fn number(x: f64) -> String {
    if x.is_finite() {
        x.to_string()
    } else if x > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

/// `regret.csv`: oracle_calls, round, candidate, value, best_value, regret.
pub fn regret_csv(curve: &[Call]) -> String {
    let mut s = String::from("oracle_calls,round,candidate,value,best_value,regret\n");
    for c in curve {
        let _ = writeln!(
            s,
            "{},{},{},{},{},{}",
            c.calls,
            c.round,
            c.candidate,
            number(c.value),
            number(c.best),
            number(c.regret())
        );
    }
    s
}

/// The report section: the per-round table.
pub fn section(rounds: &[RoundStats]) -> String {
    let mut s = String::from(
        "## Oracle calls, feasibility and diversity per round\n\n\
         Regret against oracle calls: `regret.csv`, `regret.svg`. Diversity is the mean \
         pairwise Hamming distance / L of the round's evaluated sequences.\n\n\
         | round | proposed | oracle calls | feasible | feasible fraction | best f of the round | \
         oracle calls so far | best f so far | regret | diversity |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rounds {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.3} | {} | {} | {} | {} | {:.3} |",
            r.round,
            r.proposed,
            r.calls,
            r.feasible,
            r.feasible_fraction(),
            number(r.best),
            r.calls_so_far,
            number(r.best_so_far),
            number(1.0 - r.best_so_far),
            r.diversity
        );
    }
    s
}

/// Writes `regret.csv`, `regret.svg` and `feasible.svg`; returns the report section.
pub fn write(
    run: &RunDir,
    name: &str,
    candidates: &[Candidate<EhrlichDetail>],
) -> Result<String, LedgerError> {
    let root = run.root();
    let curve = regret_curve(candidates);
    run.write_atomic(&root.join("regret.csv"), regret_csv(&curve).as_bytes())?;
    let svg = line_chart(
        &format!("{name}: regret against oracle calls"),
        "oracle calls",
        "regret 1 - max f",
        &[Series {
            name: "regret".into(),
            points: curve.iter().map(|c| (c.calls as f64, c.regret())).collect(),
        }],
        false,
    );
    run.write_atomic(&root.join("regret.svg"), svg.as_bytes())?;
    let rounds = round_stats(candidates);
    let svg = line_chart(
        &format!("{name}: feasible fraction and diversity per round"),
        "round",
        "fraction",
        &[
            Series {
                name: "feasible fraction".into(),
                points: rounds
                    .iter()
                    .map(|r| (r.round as f64, r.feasible_fraction()))
                    .collect(),
            },
            Series {
                name: "diversity (mean Hamming / L)".into(),
                points: rounds
                    .iter()
                    .map(|r| (r.round as f64, r.diversity))
                    .collect(),
            },
        ],
        false,
    );
    run.write_atomic(&root.join("feasible.svg"), svg.as_bytes())?;
    Ok(section(&rounds))
}
