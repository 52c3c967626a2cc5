//! The default format's history of a round: every candidate not shown, as one line that
//! names it by its text (first comment line or first line), with its loss or its failure
//! (the error excerpt with its caret kept), duplicates naming the law they repeat.

use super::RoundContext;
use crate::candidate::{Candidate, Detail, Stage, Verdict};
use crate::problem::Problem;
use crate::prompt::{History, num};
use std::collections::BTreeMap;

/// Longest label quoted, characters.
const LABEL_CHARS: usize = 120;
/// Most lines of an error message quoted (a parse excerpt with its caret).
const ERROR_LINES: usize = 6;
/// Most characters of an error message quoted.
const ERROR_CHARS: usize = 600;

/// How a candidate is named in a prompt: its detail's label, or the first line of its
/// solution block, or the first line of its text; in backticks.
pub fn label_of<D: Detail>(c: &Candidate<D>, block: &str) -> String {
    let from_block = || -> Option<String> {
        let shown = c.shown.as_deref()?;
        let open = format!("```{block}");
        let start = shown.find(&open)? + open.len();
        shown[start..]
            .lines()
            .skip(1)
            .map(str::trim)
            .find(|l| !l.is_empty())
            .filter(|l| !l.starts_with("```"))
            .map(str::to_string)
    };
    let first_line = || {
        c.proposal
            .text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    };
    let label = c
        .detail
        .label()
        .or_else(from_block)
        .or_else(first_line)
        .unwrap_or_else(|| "(no text)".into());
    let mut short: String = label.chars().take(LABEL_CHARS).collect();
    if short.len() < label.len() {
        short.push_str("...");
    }
    format!("`{}`", short.replace('`', "'"))
}

/// The error of a failed candidate as quoted: one line, or the first lines (a parse
/// excerpt and its caret) as an indented text block under the list item.
fn quoted_error(message: &str) -> String {
    let lines: Vec<&str> = message.lines().take(ERROR_LINES).collect();
    if lines.len() <= 1 {
        return format!(" {}", message.chars().take(ERROR_CHARS).collect::<String>());
    }
    let mut body = String::new();
    for line in &lines {
        if body.len() + line.len() > ERROR_CHARS {
            break;
        }
        body.push_str("      ");
        body.push_str(line);
        body.push('\n');
    }
    format!("\n\n  ```text\n{body}  ```\n")
}

/// The line of one candidate that is not shown.
fn line_of<D: Detail>(
    c: &Candidate<D>,
    labels: &dyn Fn(usize) -> Option<String>,
    shown_family: &BTreeMap<String, usize>,
    block: &str,
) -> String {
    let label = label_of(c, block);
    if c.is_ok() {
        let mut s = format!("#{} loss {}: {label}", c.id, num(c.fitness, 4));
        if let Some(shown) = c
            .detail
            .family()
            .and_then(|f| shown_family.get(&f).copied())
        {
            s.push_str(&format!(" (the form of #{shown}, other constants)"));
        }
        return s;
    }
    if let Some(first) = c.duplicate_of {
        let of = labels(first).unwrap_or_default();
        return format!(
            "#{} {label}: the same as #{first} {of} up to algebra and constants (not fitted again)",
            c.id
        );
    }
    let message = match &c.verdict {
        Verdict::Failed { message, .. } => message.as_str(),
        Verdict::Ok { .. } => "",
    };
    let stage = c.failed_stage().unwrap_or(Stage::Evaluate);
    if stage == Stage::Propose {
        return format!("#{} (no solution):{}", c.id, quoted_error(message));
    }
    format!(
        "#{} {label} failed at the {stage} stage:{}",
        c.id,
        quoted_error(message)
    )
}

/// The history of the round of `ctx` (see [`History`]).
pub fn history<P: Problem>(ctx: &RoundContext<'_, P>, block: &str, per_reply: usize) -> History {
    let shown_family: BTreeMap<String, usize> = ctx
        .shown
        .iter()
        .filter_map(|&id| ctx.candidate(id))
        .filter(|c| c.is_ok())
        .filter_map(|c| Some((c.detail.family()?, c.id)))
        .collect();
    let labels = |id: usize| ctx.candidate(id).map(|c| label_of(c, block));
    let others: Vec<&Candidate<P::Detail>> = ctx
        .population
        .iter()
        .filter(|c| !ctx.shown.contains(&c.id))
        .collect();
    let recent_failure = |c: &Candidate<P::Detail>| !c.is_ok() && c.round + 1 == ctx.round;
    let mut fitted: Vec<&Candidate<P::Detail>> =
        others.iter().copied().filter(|c| c.is_ok()).collect();
    fitted.sort_by(|a, b| a.fitness.total_cmp(&b.fitness).then(a.id.cmp(&b.id)));
    let mut ordered: Vec<&Candidate<P::Detail>> = others
        .iter()
        .copied()
        .filter(|c| recent_failure(c))
        .collect();
    ordered.extend(fitted);
    ordered.extend(
        others
            .iter()
            .rev()
            .copied()
            .filter(|c| !c.is_ok() && !recent_failure(c)),
    );
    History {
        fitted: ctx.population.iter().filter(|c| c.is_ok()).count(),
        tried: ctx.population.len(),
        shown_failed: ctx
            .shown
            .iter()
            .filter_map(|&id| ctx.candidate(id))
            .filter(|c| !c.is_ok())
            .count(),
        others: ordered
            .into_iter()
            .map(|c| line_of(c, &labels, &shown_family, block))
            .collect(),
        per_reply: per_reply.max(1),
        round_of: Some((ctx.round, ctx.rounds)),
        target: ctx.target,
        best: ctx
            .population
            .iter()
            .filter(|c| c.is_ok() && c.fitness.is_finite())
            .map(|c| c.fitness)
            .min_by(f64::total_cmp),
    }
}
