//! The report of a run, rewritten after every round: `report.md` (the best laws with their
//! fitted parameters and LaTeX, the failures by stage), `best.law` (the best law with its
//! fitted values as defaults), `exports/` (the best law in every export target) and two
//! plots of the best loss so far, against candidates fitted and against rounds.

use super::best_of;
use super::candidate::Candidate;
use super::ledger::{LedgerError, RunDir};
use super::problem::Problem;
use crate::plot::{Series, line_chart};
use ansatz_grammar::export::{Target, export, export_files};
use ansatz_grammar::{CheckedProgram, check, parse};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many laws the report lists.
pub const TOP: usize = 5;

/// The candidate's law with its fitted parameters as defaults (None when it has no law or
/// the values do not fit it).
pub fn fitted_law(problem: &dyn Problem, c: &Candidate) -> Option<CheckedProgram> {
    let mut program = parse(c.law.as_deref()?).ok()?;
    if program.params.len() != c.params.len() || c.params.iter().any(|v| !v.is_finite()) {
        return None;
    }
    for (p, v) in program.params.iter_mut().zip(&c.params) {
        p.value = *v;
    }
    check(&program, problem.signature()).ok()
}

/// The best candidates, best first.
pub fn ranking(candidates: &[Candidate]) -> Vec<&Candidate> {
    let mut ok: Vec<&Candidate> = candidates.iter().filter(|c| c.is_ok()).collect();
    ok.sort_by(|a, b| a.fitness.total_cmp(&b.fitness).then(a.id.cmp(&b.id)));
    ok
}

/// The candidates no other beats in both loss and complexity, by complexity.
pub fn pareto(candidates: &[Candidate]) -> Vec<&Candidate> {
    let mut ok: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.is_ok() && c.complexity.is_some())
        .collect();
    ok.sort_by(|a, b| {
        a.complexity
            .cmp(&b.complexity)
            .then(a.fitness.total_cmp(&b.fitness))
            .then(a.id.cmp(&b.id))
    });
    let mut front: Vec<&Candidate> = Vec::new();
    for c in ok {
        if front.last().is_none_or(|l| c.fitness < l.fitness) {
            front.push(c);
        }
    }
    front
}

/// One law with its parameters, source, LaTeX and the problem's notes on it.
fn law_section(s: &mut String, problem: &dyn Problem, title: &str, c: &Candidate) {
    let _ = writeln!(
        s,
        "## {title}: candidate #{} (round {}, {} {}), loss {:.6e}, complexity {}\n",
        c.id,
        c.round,
        c.proposal.proposer,
        c.proposal.how,
        c.fitness,
        c.complexity.unwrap_or(0)
    );
    for (name, value) in c.param_names.iter().zip(&c.params) {
        let _ = writeln!(s, "- `{name}` = {value:.9e}");
    }
    if !c.params.is_empty() {
        s.push('\n');
    }
    match fitted_law(problem, c) {
        Some(law) => {
            let _ = writeln!(s, "```law\n{}\n```\n", law.program().to_string().trim_end());
            let latex = export(&law, Target::Latex);
            let latex: Vec<&str> = latex
                .lines()
                .filter(|l| !l.trim_start().starts_with('%'))
                .collect();
            let _ = writeln!(s, "$$\n{}\n$$\n", latex.join("\n").trim());
            let notes = problem.report_law(c, &law);
            if !notes.trim().is_empty() {
                let _ = writeln!(s, "{}\n", notes.trim_end());
            }
        }
        None => {
            let _ = writeln!(
                s,
                "```law\n{}\n```\n",
                c.law.as_deref().unwrap_or("").trim_end()
            );
        }
    }
}

/// The report text.
pub fn markdown(problem: &dyn Problem, candidates: &[Candidate], round: usize) -> String {
    let mut s = format!("# ansatz search: {}\n\n", problem.name());
    let fitted = super::fitted_count(candidates);
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
        r.1 += usize::from(c.fit.is_some());
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
        let _ = writeln!(s, "Starting law (#0): loss {:.6e}.\n", start.fitness);
    }
    let best = best_of(candidates).and_then(|id| candidates.iter().find(|c| c.id == id));
    if let Some(best) = best {
        s.push_str(
            "The best law is the simplest one whose loss ties with the lowest (within 1e-12 \
             of the starting law's loss).\n\n",
        );
        law_section(&mut s, problem, "Best law", best);
    }
    s.push_str("## Loss against complexity (Pareto front)\n\n");
    s.push_str("| complexity | loss | candidate | round | made by |\n|---|---|---|---|---|\n");
    for c in pareto(candidates) {
        let _ = writeln!(
            s,
            "| {} | {:.6e} | #{} | {} | {} {} |",
            c.complexity.unwrap_or(0),
            c.fitness,
            c.id,
            c.round,
            c.proposal.proposer,
            c.proposal.how
        );
    }
    s.push('\n');
    for (rank, c) in ranking(candidates).into_iter().take(TOP).enumerate() {
        law_section(&mut s, problem, &format!("Lowest loss {}", rank + 1), c);
    }
    s
}

/// Writes the report files into the run directory.
pub fn write(
    run: &RunDir,
    problem: &dyn Problem,
    candidates: &[Candidate],
    round: usize,
) -> Result<(), LedgerError> {
    let root = run.root();
    run.write_atomic(
        &root.join("report.md"),
        markdown(problem, candidates, round).as_bytes(),
    )?;
    if let Some(best) = best_of(candidates).and_then(|id| candidates.iter().find(|c| c.id == id))
        && let Some(law) = fitted_law(problem, best)
    {
        let header = format!(
            "# ansatz: best law of the {} search (candidate #{}, loss {:.6e})\n",
            problem.name(),
            best.id,
            best.fitness
        );
        run.write_atomic(
            &root.join("best.law"),
            format!("{header}{}\n", law.program().to_string().trim_end()).as_bytes(),
        )?;
        let dir = root.join("exports");
        std::fs::create_dir_all(&dir).map_err(|source| LedgerError::Io {
            path: dir.clone(),
            source,
        })?;
        for (name, text) in export_files(&law, "best") {
            run.write_atomic(&dir.join(name), text.as_bytes())?;
        }
    }
    let mut best = f64::INFINITY;
    let mut by_fit = Vec::new();
    let mut by_round: BTreeMap<usize, f64> = BTreeMap::new();
    for c in candidates {
        if c.fit.is_some() {
            if c.is_ok() {
                best = best.min(c.fitness);
            }
            by_fit.push((by_fit.len() as f64 + 1.0, best));
        }
        by_round.insert(c.round, best);
    }
    let svg = line_chart(
        &format!("{}: best loss so far", problem.name()),
        "candidates fitted",
        "best position loss",
        &[Series {
            name: "best".into(),
            points: by_fit,
        }],
        true,
    );
    run.write_atomic(&root.join("progress.svg"), svg.as_bytes())?;
    let svg = line_chart(
        &format!("{}: best loss after each round", problem.name()),
        "round",
        "best position loss",
        &[Series {
            name: "best".into(),
            points: by_round.into_iter().map(|(r, b)| (r as f64, b)).collect(),
        }],
        true,
    );
    run.write_atomic(&root.join("rounds.svg"), svg.as_bytes())
}
