//! The default format's text of a fit, for every law problem: the accepted iterates only
//! (the evaluations that lowered the loss; line-search probes and failed evaluations are
//! counted, not listed), losses with 4 significant digits and parameters with 6, so that no
//! value prints as zero and parameters that differ read differently.

use super::record::{Evaluation, FitRecord, Optimizer};
use ansatz_engine::prompt::num;
use std::fmt::Write;

/// Most rows of the iterate table (the first, the best and evenly spaced ones between).
pub const MAX_ROWS: usize = 12;

/// Significant digits of a loss.
pub const LOSS_DIGITS: usize = 4;
/// Significant digits of a parameter.
pub const PARAM_DIGITS: usize = 6;

/// The indices of the accepted iterates: for Adam every epoch; for L-BFGS (and least
/// squares) the start and each evaluation that lowered the best loss so far.
pub fn accepted(record: &FitRecord) -> Vec<usize> {
    if record.settings.optimizer == Optimizer::Adam {
        return (0..record.evaluations.len()).collect();
    }
    let mut best = f64::INFINITY;
    let mut out = Vec::new();
    for (i, e) in record.evaluations.iter().enumerate() {
        if e.ok() && e.loss < best {
            best = e.loss;
            out.push(i);
        }
    }
    out
}

/// At most `max` of `rows`, keeping the first, the last and evenly spaced ones.
fn thin(rows: &[usize], max: usize) -> Vec<usize> {
    if rows.len() <= max || max < 2 {
        return rows.to_vec();
    }
    let mut out: Vec<usize> = (0..max)
        .map(|k| rows[k * (rows.len() - 1) / (max - 1)])
        .collect();
    out.dedup();
    out
}

/// The sentence about failed evaluations (NaN probes): how many, and the first reason.
fn failures(evals: &[Evaluation]) -> Option<String> {
    let failed: Vec<&Evaluation> = evals.iter().filter(|e| !e.ok()).collect();
    let first = failed.first()?;
    let why = first
        .error
        .clone()
        .unwrap_or_else(|| "the loss was not finite".into());
    Some(format!(
        "{} of the {} evaluations failed (parameters the optimiser probed and rejected; the \
         first: {why}).",
        failed.len(),
        evals.len()
    ))
}

/// The default text of a fit (`velocity`: whether a velocity loss is reported).
pub fn fit_text(record: &FitRecord, velocity: bool) -> String {
    let evals = &record.evaluations;
    let mut s = String::new();
    if record.param_names.is_empty() {
        s.push_str("#### Evaluation (the law has no parameters: evaluated once)\n\n");
        if let Some(e) = evals.first() {
            let _ = write!(s, "- position loss: {}", num(e.loss, LOSS_DIGITS));
            if velocity {
                let v = e.velocity.unwrap_or(f64::NAN);
                let _ = write!(s, "\n- velocity loss: {}", num(v, LOSS_DIGITS));
            }
        }
        return s;
    }
    let rows = accepted(record);
    let (method, what) = match record.settings.optimizer {
        Optimizer::Adam => ("Adam", "epoch"),
        Optimizer::Lbfgs => ("L-BFGS", "accepted iterate"),
    };
    let shown = thin(&rows, MAX_ROWS);
    let _ = writeln!(
        s,
        "#### Fit of the constants ({method}, {} evaluations; {} {what}s{})\n",
        evals.len(),
        rows.len(),
        if shown.len() < rows.len() {
            format!(", {} of them shown", shown.len())
        } else {
            String::new()
        }
    );
    if let Some(f) = failures(evals) {
        let _ = writeln!(s, "{f}\n");
    }
    let mut head = String::from("| evaluation | position loss |");
    if velocity {
        head.push_str(" velocity loss |");
    }
    for n in &record.param_names {
        let _ = write!(head, " {n} |");
    }
    let cols = head.matches('|').count() - 1;
    let _ = writeln!(s, "{head}\n|{}", "---|".repeat(cols));
    for &i in &shown {
        let e = &evals[i];
        let _ = write!(s, "| {} | {} |", i + 1, num(e.loss, LOSS_DIGITS));
        if velocity {
            let _ = write!(s, " {} |", num(e.velocity.unwrap_or(f64::NAN), LOSS_DIGITS));
        }
        for p in &e.params {
            let _ = write!(s, " {} |", num(*p, PARAM_DIGITS));
        }
        s.push('\n');
    }
    match record.best {
        Some(b) => {
            let params: Vec<String> = record
                .param_names
                .iter()
                .zip(record.best_params())
                .map(|(n, v)| format!("{n} = {}", num(*v, PARAM_DIGITS)))
                .collect();
            let start = evals.first().map_or(f64::NAN, |e| e.loss);
            let _ = write!(
                s,
                "\nBest: position loss {} at evaluation {} ({} of the starting loss), {}.",
                num(record.fitness, LOSS_DIGITS),
                b + 1,
                num(record.fitness / start, 3),
                params.join(", ")
            );
        }
        None => s.push_str("\nNo evaluation gave a finite loss."),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::law::record::FitSettings;
    use ansatz_engine::Verdict;

    fn eval(params: &[f64], loss: f64) -> Evaluation {
        Evaluation {
            params: params.to_vec(),
            loss,
            velocity: Some(loss * 2.0),
            gradient: vec![],
            error: (!loss.is_finite()).then(|| "non-finite state at step 292".into()),
            seconds: 0.0,
        }
    }

    #[test]
    fn small_losses_do_not_print_as_zero_and_probes_are_counted_not_listed() {
        let losses = [2.8e-3, 4e-4, f64::NAN, 3.1e-5, 5e-5, 9.6e-23, f64::NAN];
        let evals: Vec<Evaluation> = losses
            .iter()
            .enumerate()
            .map(|(i, &l)| eval(&[10.0 + i as f64 * 1e-4, 1e-4], l))
            .collect();
        let record = FitRecord {
            task: "t".into(),
            settings: FitSettings::default(),
            law: String::new(),
            param_names: vec!["a".into(), "k".into()],
            start_params: vec![10.0, 1e-4],
            grid: None,
            refine: None,
            best: Some(5),
            fitness: 9.6e-23,
            final_params: evals[5].params.clone(),
            evaluations: evals,
            verdict: Verdict::Ok {
                note: String::new(),
            },
            seconds: 0.0,
        };
        assert_eq!(accepted(&record), [0, 1, 3, 5]);
        let text = fit_text(&record, true);
        assert!(text.contains("2 of the 7 evaluations failed"), "{text}");
        assert!(
            text.contains("| 6 | 9.6e-23 | 1.92e-22 | 10.0005 | 1e-4 |"),
            "{text}"
        );
        assert!(!text.contains("nan"), "{text}");
        assert!(
            text.contains("Best: position loss 9.6e-23 at evaluation 6"),
            "{text}"
        );
        // No number in the text reads as zero.
        for word in text.split([' ', '|', ',']) {
            if let Ok(v) = word.trim_end_matches('.').parse::<f64>() {
                assert!(v != 0.0, "{word} in {text}");
            }
        }
    }
}
