//! Where a law misses a table: the error by quartile of each input, so that a proposer sees
//! which region of the inputs the law does not yet explain.

use ansatz_engine::prompt::num;
use std::fmt::Write;

/// Number of bins per input (quartiles).
pub const BINS: usize = 4;

/// The error of `residuals` (law minus target, one per row) by quartile of each input
/// (`inputs`: name and values, one per row), normalised by the target's variance `var`:
/// each cell is the bin's mean squared residual / var and its mean residual (the sign says
/// whether the law is high or low there).
pub fn by_quartile(inputs: &[(String, &[f64])], residuals: &[f64], var: f64) -> String {
    let n = residuals.len();
    if n < BINS || inputs.is_empty() || var.is_nan() || var <= 0.0 {
        return String::new();
    }
    let mut s = String::from(
        "#### Error by input region (rows split into quartiles of each input; each cell: the \
         quartile's mean squared error / the target's variance, then the mean of law - \
         target)\n\n| input | quartile 1 (lowest) | quartile 2 | quartile 3 | quartile 4 (highest) |\n|---|---|---|---|---|\n",
    );
    for (name, values) in inputs {
        if values.len() != n {
            continue;
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let _ = write!(s, "| `{name}` |");
        for b in 0..BINS {
            let rows = &order[b * n / BINS..(b + 1) * n / BINS];
            let m = rows.len().max(1) as f64;
            let mse = rows.iter().map(|&r| residuals[r].powi(2)).sum::<f64>() / m / var;
            let bias = rows.iter().map(|&r| residuals[r]).sum::<f64>() / m;
            let (lo, hi) = (
                rows.first().map_or(f64::NAN, |&r| values[r]),
                rows.last().map_or(f64::NAN, |&r| values[r]),
            );
            let _ = write!(
                s,
                " {} ({}) for {}..{} |",
                num(mse, 3),
                signed(bias),
                num(lo, 3),
                num(hi, 3)
            );
        }
        s.push('\n');
    }
    s.trim_end().to_string()
}

/// A number with its sign always written.
fn signed(x: f64) -> String {
    let t = num(x, 3);
    if x > 0.0 { format!("+{t}") } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quartile_that_the_law_misses_stands_out() {
        // The law is exact except where x is large: the last quartile of x carries the
        // error, the quartiles of z (unrelated to the error) share it.
        let x: Vec<f64> = (0..100).map(f64::from).collect();
        let z: Vec<f64> = (0..100).map(|i| f64::from((i * 37) % 100)).collect();
        let residuals: Vec<f64> = x
            .iter()
            .map(|&v| if v >= 75.0 { 0.5 } else { 0.0 })
            .collect();
        let text = by_quartile(
            &[
                ("x".to_string(), x.as_slice()),
                ("z".to_string(), z.as_slice()),
            ],
            &residuals,
            1.0,
        );
        let row = text
            .lines()
            .find(|l| l.starts_with("| `x`"))
            .expect("x row");
        assert!(row.contains(" 0 (0) for 0..24 |"), "{row}");
        assert!(row.contains(" 0.25 (+0.5) for 75..99 |"), "{row}");
        let zrow = text
            .lines()
            .find(|l| l.starts_with("| `z`"))
            .expect("z row");
        assert!(!zrow.contains(" 0 (0)"), "{zrow}");
        assert_eq!(by_quartile(&[], &residuals, 1.0), "");
    }
}
