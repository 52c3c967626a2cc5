//! The report of a run, rewritten after every round: `report.md` (the rounds, the failures
//! by stage, the best candidates with the problem's section about each, the Pareto front),
//! the problem's files about the best (see [`Problem::write_best`]) and two plots of the
//! best fitness so far, against candidates evaluated and against rounds.

use crate::candidate::{Candidate, Detail};
use crate::ledger::{LedgerError, RunDir};
use crate::plot::{Chart, Series, Style};
use crate::problem::Problem;
use crate::search::{best_of, fitted_count};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many candidates the report lists.
pub const TOP: usize = 5;

/// The best candidates, best first.
pub fn ranking<D: Detail>(candidates: &[Candidate<D>]) -> Vec<&Candidate<D>> {
    let mut ok: Vec<&Candidate<D>> = candidates.iter().filter(|c| c.is_ok()).collect();
    ok.sort_by(|a, b| a.fitness.total_cmp(&b.fitness).then(a.id.cmp(&b.id)));
    ok
}

/// The candidates no other beats in both loss and complexity, by complexity.
pub fn pareto<D: Detail>(candidates: &[Candidate<D>]) -> Vec<&Candidate<D>> {
    let mut ok: Vec<&Candidate<D>> = candidates
        .iter()
        .filter(|c| c.is_ok() && c.detail.complexity().is_some())
        .collect();
    ok.sort_by(|a, b| {
        a.detail
            .complexity()
            .cmp(&b.detail.complexity())
            .then(a.fitness.total_cmp(&b.fitness))
            .then(a.id.cmp(&b.id))
    });
    let mut front: Vec<&Candidate<D>> = Vec::new();
    for c in ok {
        if front.last().is_none_or(|l| c.fitness < l.fitness) {
            front.push(c);
        }
    }
    front
}

/// One candidate's section: its heading, then the problem's text about it.
fn candidate_section<P: Problem>(
    s: &mut String,
    problem: &P,
    title: &str,
    c: &Candidate<P::Detail>,
) {
    let complexity = c
        .detail
        .complexity()
        .map_or(String::new(), |k| format!(", complexity {k}"));
    let _ = writeln!(
        s,
        "## {title}: candidate #{} (round {}, {} {}), loss {:.6e}{complexity}\n",
        c.id, c.round, c.proposal.proposer, c.proposal.how, c.fitness,
    );
    let text = problem.report_section(c);
    if !text.trim().is_empty() {
        let _ = writeln!(s, "{}\n", text.trim_end());
    }
}

/// The report text.
pub fn markdown<P: Problem>(
    problem: &P,
    candidates: &[Candidate<P::Detail>],
    round: usize,
) -> String {
    let mut s = format!("# ansatz search: {}\n\n", problem.name());
    let fitted = fitted_count(candidates);
    let _ = writeln!(
        s,
        "{} candidates after round {round}: {fitted} fitted, {} with a finite loss.\n",
        candidates.len(),
        candidates.iter().filter(|c| c.is_ok()).count()
    );
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for c in candidates {
        if let Some(stage) = c.failed_stage() {
            *failures.entry(stage.to_string()).or_default() += 1;
        }
    }
    if !failures.is_empty() {
        let list: Vec<String> = failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(s, "Failures by stage: {}.\n", list.join(", "));
    }
    let mut rounds: BTreeMap<usize, (usize, usize, f64, u64, u64)> = BTreeMap::new();
    for c in candidates {
        let r = rounds.entry(c.round).or_insert((0, 0, f64::INFINITY, 0, 0));
        r.0 += 1;
        r.1 += usize::from(c.evaluated());
        if c.is_ok() {
            r.2 = r.2.min(c.fitness);
        }
        r.3 += c.proposal.tokens.prompt;
        r.4 += c.proposal.tokens.completion;
    }
    s.push_str("| round | candidates | fitted | best loss of the round | prompt tokens | completion tokens |\n");
    s.push_str("|---|---|---|---|---|---|\n");
    for (round, (n, fitted, best, p, q)) in &rounds {
        let _ = writeln!(s, "| {round} | {n} | {fitted} | {best:.6e} | {p} | {q} |");
    }
    s.push('\n');
    if let Some(start) = candidates.iter().find(|c| c.id == 0) {
        let _ = writeln!(
            s,
            "Starting {} (#0): loss {:.6e}.\n",
            problem.noun(),
            start.fitness
        );
    }
    let best = best_of(candidates).and_then(|id| candidates.iter().find(|c| c.id == id));
    if let Some(best) = best {
        let noun = problem.noun();
        let scale = if candidates.iter().any(|c| c.id == 0 && c.is_ok()) {
            format!("the starting {noun}'s loss")
        } else {
            "the lowest loss".to_string()
        };
        let _ = writeln!(
            s,
            "The best {noun} is the simplest one whose loss ties with the lowest (within 1e-12 \
             of {scale}).\n"
        );
        candidate_section(&mut s, problem, &format!("Best {noun}"), best);
    }
    s.push_str("## Loss against complexity (Pareto front)\n\n");
    s.push_str("| complexity | loss | candidate | round | made by |\n|---|---|---|---|---|\n");
    for c in pareto(candidates) {
        let _ = writeln!(
            s,
            "| {} | {:.6e} | #{} | {} | {} {} |",
            c.detail.complexity().unwrap_or(0),
            c.fitness,
            c.id,
            c.round,
            c.proposal.proposer,
            c.proposal.how
        );
    }
    s.push('\n');
    for (rank, c) in ranking(candidates).into_iter().take(TOP).enumerate() {
        candidate_section(&mut s, problem, &format!("Lowest loss {}", rank + 1), c);
    }
    s
}

/// Writes the report files into the run directory.
pub fn write<P: Problem>(
    run: &RunDir,
    problem: &P,
    candidates: &[Candidate<P::Detail>],
    round: usize,
) -> Result<(), LedgerError> {
    let root = run.root();
    let mut text = markdown(problem, candidates, round);
    let section = problem.report_run(run, candidates)?;
    if !section.trim().is_empty() {
        text.push_str(section.trim_end());
        text.push('\n');
    }
    run.write_atomic(&root.join("report.md"), text.as_bytes())?;
    if let Some(best) = best_of(candidates).and_then(|id| candidates.iter().find(|c| c.id == id)) {
        problem.write_best(run, best)?;
    }
    let name = problem.name();
    run.write_atomic(
        &root.join("progress.svg"),
        progress_chart(name, candidates).svg().as_bytes(),
    )?;
    run.write_atomic(
        &root.join("rounds.svg"),
        rounds_chart(name, candidates).svg().as_bytes(),
    )
}

/// Each evaluated candidate's loss against the order in which the evaluations finished
/// (by round, then by [`Candidate::finished`]), and the best loss so far as a step line.
pub fn progress_chart<D: Detail>(name: &str, candidates: &[Candidate<D>]) -> Chart {
    let mut done: Vec<&Candidate<D>> = candidates.iter().filter(|c| c.evaluated()).collect();
    done.sort_by(|a, b| {
        a.round
            .cmp(&b.round)
            .then(
                a.finished
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.finished.unwrap_or(f64::INFINITY)),
            )
            .then(a.id.cmp(&b.id))
    });
    let mut best = f64::INFINITY;
    let (mut each, mut so_far) = (Vec::new(), Vec::new());
    for (k, c) in done.iter().enumerate() {
        let x = k as f64 + 1.0;
        if c.is_ok() {
            best = best.min(c.fitness);
            each.push((x, c.fitness));
        }
        so_far.push((x, best));
    }
    Chart::new(
        &format!("{name}: loss of each candidate, in the order fitted"),
        "candidates fitted (order finished)",
        "loss",
    )
    .log_y(true)
    .integer_x()
    .series(
        Style::Points,
        Series {
            name: "candidate".into(),
            points: each,
        },
    )
    .series(
        Style::Step,
        Series {
            name: "best so far".into(),
            points: so_far,
        },
    )
}

/// The best loss after each round (rounds on integer ticks).
pub fn rounds_chart<D: Detail>(name: &str, candidates: &[Candidate<D>]) -> Chart {
    let mut by_round: BTreeMap<usize, f64> = BTreeMap::new();
    for c in candidates {
        let b = by_round.entry(c.round).or_insert(f64::INFINITY);
        if c.is_ok() {
            *b = b.min(c.fitness);
        }
    }
    let mut best = f64::INFINITY;
    let points = by_round
        .into_iter()
        .map(|(r, b)| {
            best = best.min(b);
            (r as f64, best)
        })
        .collect();
    Chart::new(
        &format!("{name}: best loss after each round"),
        "round",
        "best loss",
    )
    .log_y(true)
    .integer_x()
    .series(
        Style::Line,
        Series {
            name: "best so far".into(),
            points,
        },
    )
}

/// Adds the candidates whose evaluation the stop cut (or never started) to `report.md`:
/// they are not in the ledger, and a resumed run evaluates them.
pub fn append_pending(
    run: &RunDir,
    ids: &[usize],
    stopped: &crate::search::StopReason,
) -> Result<(), LedgerError> {
    let path = run.root().join("report.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let list: Vec<String> = ids.iter().map(|id| format!("#{id}")).collect();
    let _ = write!(
        text,
        "\n## Pending\n\nThe run stopped ({stopped}) before these candidates were evaluated: {}. \
         They are not in the ledger; `--resume` evaluates them.\n",
        list.join(", ")
    );
    run.write_atomic(&path, text.as_bytes())
}

/// Adds the error that ended the run to `report.md` (a dead model server, a bad key), so
/// the report says why the run stopped.
pub fn append_error(run: &RunDir, message: &str) -> Result<(), LedgerError> {
    let path = run.root().join("report.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = write!(
        text,
        "\n## The run stopped on an error\n\nThe proposer could not go on: {message}\n\n\
         Everything before it is recorded; fix the cause and continue with `--resume`.\n"
    );
    run.write_atomic(&path, text.as_bytes())
}
