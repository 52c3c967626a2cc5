//! Several sequence-search runs side by side (`ansatz ehrlich compare`): per function, one
//! line per run (method, seed, oracle calls, the call at which f = 1 was first reached, the
//! best f at the function's common budget and at the end, the feasible fraction and
//! diversity of the proposer's own rounds, LLOME's calibration), a table per method over
//! seeds, and one regret-against-oracle-calls plot per function.
//!
//! The common budget of a function is the fewest oracle calls any of its runs made (a run
//! stopped at f = 1 counts as going on at f = 1), so every method is read at the same number
//! of calls, as the papers compare them.

use super::report::{regret_curve, round_stats};
use super::{EhrlichDetail, EhrlichSettings};
use ansatz_engine::ledger::read_ledger;
use ansatz_engine::plot::{Series, line_chart};
use ansatz_engine::{Candidate, SearchConfig};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One run, read back.
#[derive(Clone, Debug)]
pub struct RunSummary {
    /// The run directory.
    pub dir: PathBuf,
    /// The function (the task's name).
    pub function: String,
    /// The method (`--sequence-search`).
    pub method: String,
    /// The run's seed.
    pub seed: u64,
    /// (oracle calls, best f so far) after each call.
    pub curve: Vec<(usize, f64)>,
    /// The call at which f = 1 was first reached.
    pub solved_at: Option<usize>,
    /// Mean feasible fraction and diversity over the proposer's own rounds (LLOME's trained
    /// rounds; every round after the start for the other methods).
    pub feasible: f64,
    /// See `feasible`.
    pub diversity: f64,
    /// LLOME's calibration (Spearman of log-likelihood against f) per trained round.
    pub calibration: Vec<Option<f64>>,
}

impl RunSummary {
    /// Oracle calls made.
    pub fn calls(&self) -> usize {
        self.curve.last().map_or(0, |c| c.0)
    }

    /// The best f after `calls` oracle calls (a solved run stays at 1).
    pub fn best_at(&self, calls: usize) -> f64 {
        self.curve
            .iter()
            .take_while(|c| c.0 <= calls)
            .last()
            .map_or(f64::NEG_INFINITY, |c| c.1)
    }
}

/// Reads a run directory of an Ehrlich search.
pub fn read_run(dir: &Path) -> Result<RunSummary, String> {
    let text = std::fs::read_to_string(dir.join("config.json"))
        .map_err(|e| format!("{}: {e}", dir.join("config.json").display()))?;
    let config: SearchConfig<EhrlichSettings> = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not an Ehrlich run: {e}", dir.display()))?;
    let candidates: Vec<Candidate<EhrlichDetail>> =
        read_ledger(&dir.join("ledger.jsonl")).map_err(|e| e.to_string())?;
    let function = config
        .task
        .file_stem()
        .map_or("?".into(), |s| s.to_string_lossy().into_owned());
    let curve: Vec<(usize, f64)> = regret_curve(&candidates)
        .iter()
        .map(|c| (c.calls, c.best))
        .collect();
    let solved_at = curve.iter().find(|c| c.1 >= 1.0).map(|c| c.0);
    let method = serde_json::to_value(config.fit.search)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    // The proposer's own rounds: LLOME's are those after its GA seed data.
    let mut llome_rounds: Vec<super::search::LlomeRound> =
        std::fs::read_to_string(dir.join("llome/rounds.jsonl"))
            .map(|t| {
                t.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect()
            })
            .unwrap_or_default();
    // The last round's outcome is written by the next round, which a finished run never
    // had: take it from the ledger.
    let labelled = super::search::labelled(&candidates);
    for r in llome_rounds.iter_mut().filter(|r| r.calibration.is_none()) {
        let of_round: Vec<_> = labelled
            .iter()
            .filter(|(round, _)| *round == r.search_round)
            .map(|(_, l)| l.clone())
            .collect();
        let path = dir.join(format!("llome/candidates_{}.json", r.llome_round));
        let generated: Vec<ansatz_llome::Candidate> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        if !of_round.is_empty() {
            r.record_outcome(&of_round, &generated);
        }
    }
    let first_own = llome_rounds.first().map_or(1, |r| r.search_round);
    let own: Vec<_> = round_stats(&candidates)
        .into_iter()
        .filter(|r| r.round >= first_own && r.calls > 0)
        .collect();
    let n = own.len().max(1) as f64;
    Ok(RunSummary {
        dir: dir.to_path_buf(),
        function,
        method,
        seed: config.seed,
        curve,
        solved_at,
        feasible: own.iter().map(|r| r.feasible_fraction()).sum::<f64>() / n,
        diversity: own.iter().map(|r| r.diversity).sum::<f64>() / n,
        calibration: llome_rounds.iter().map(|r| r.calibration).collect(),
    })
}

/// The points of a best-so-far curve where it changes (as a step: the old value up to the
/// call before), and its last call: the same line as every call, without 10,000 points.
fn regret_steps(curve: &[(usize, f64)]) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = Vec::new();
    let mut last: Option<(usize, f64)> = None;
    for &(calls, best) in curve {
        match last {
            Some((c, b)) if b == best => last = Some((c.max(calls), b)),
            Some((c, b)) => {
                points.push((c as f64, 1.0 - b));
                points.push((calls as f64, 1.0 - best));
                last = Some((calls, best));
            }
            None => {
                points.push((calls as f64, 1.0 - best));
                last = Some((calls, best));
            }
        }
    }
    if let Some((c, b)) = last {
        points.push((c as f64, 1.0 - b));
    }
    points.dedup();
    points
}

fn f(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.4}")
    } else {
        "−∞".into()
    }
}

/// The comparison of `runs`: writes `compare.md` and one `regret-FUNCTION.svg` per function
/// into `out`; returns the markdown.
pub fn compare(runs: &[RunSummary], out: &Path) -> Result<String, String> {
    let mut by_function: BTreeMap<&str, Vec<&RunSummary>> = BTreeMap::new();
    for r in runs {
        by_function.entry(&r.function).or_default().push(r);
    }
    let mut md = String::from("# Sequence searches compared\n\n");
    for (function, mut rs) in by_function {
        rs.sort_by(|a, b| (&a.method, a.seed).cmp(&(&b.method, b.seed)));
        // A solved run is read as going on at f = 1.
        let budget = rs
            .iter()
            .map(|r| {
                if r.solved_at.is_some() {
                    usize::MAX
                } else {
                    r.calls()
                }
            })
            .min()
            .unwrap_or(0);
        let budget = if budget == usize::MAX {
            rs.iter().map(|r| r.calls()).max().unwrap_or(0)
        } else {
            budget
        };
        let _ = write!(
            md,
            "## {function}\n\nCommon budget: {budget} oracle calls (the fewest any unsolved run \
             made).\n\n| method | seed | oracle calls | f = 1 at call | best f at {budget} calls \
             | best f at the end | feasible fraction | diversity | calibration per trained round \
             | run |\n|---|---|---|---|---|---|---|---|---|---|\n"
        );
        for r in &rs {
            let cal: Vec<String> = r
                .calibration
                .iter()
                .map(|c| c.map_or("-".into(), |c| format!("{c:.2}")))
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {:.3} | {:.3} | {} | `{}` |",
                r.method,
                r.seed,
                r.calls(),
                r.solved_at.map_or("-".into(), |c| c.to_string()),
                f(r.best_at(budget)),
                f(r.best_at(usize::MAX)),
                r.feasible,
                r.diversity,
                if cal.is_empty() {
                    "-".into()
                } else {
                    cal.join(" ")
                },
                r.dir.file_name().map_or("".into(), |n| n.to_string_lossy())
            );
        }
        let mut methods: BTreeMap<&str, Vec<&RunSummary>> = BTreeMap::new();
        for r in &rs {
            methods.entry(&r.method).or_default().push(r);
        }
        let _ = write!(
            md,
            "\n| method | runs | solved | mean best f at {budget} calls | mean calls to f = 1 \
             (solved runs) |\n|---|---|---|---|---|\n"
        );
        for (method, ms) in &methods {
            let solved: Vec<usize> = ms.iter().filter_map(|r| r.solved_at).collect();
            let mean_best =
                ms.iter().map(|r| r.best_at(budget)).sum::<f64>() / ms.len().max(1) as f64;
            let _ = writeln!(
                md,
                "| {method} | {} | {} | {} | {} |",
                ms.len(),
                solved.len(),
                f(mean_best),
                if solved.is_empty() {
                    "-".into()
                } else {
                    format!(
                        "{:.0}",
                        solved.iter().sum::<usize>() as f64 / solved.len() as f64
                    )
                }
            );
        }
        let series: Vec<Series> = rs
            .iter()
            .map(|r| Series {
                name: format!("{} seed {}", r.method, r.seed),
                points: regret_steps(&r.curve),
            })
            .collect();
        let svg = line_chart(
            &format!("{function}: regret against oracle calls"),
            "oracle calls",
            "regret 1 - max f",
            &series,
            false,
        );
        let name = format!("regret-{function}.svg");
        std::fs::write(out.join(&name), svg).map_err(|e| format!("{name}: {e}"))?;
        let _ = write!(md, "\n![regret against oracle calls]({name})\n\n");
    }
    std::fs::write(out.join("compare.md"), &md).map_err(|e| format!("compare.md: {e}"))?;
    Ok(md)
}
