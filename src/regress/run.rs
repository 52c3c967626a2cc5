//! `ansatz regress`: load a table, split it, search a law per target, and write the
//! results (`result.json`, `report.md`, `pareto.svg`, `best.law`, exports, test
//! predictions).

use super::data::{Column, DataError, Roles, Table, roles};
use super::expr::{Expr, Vars};
use super::gp::{self, Data, GpConfig, GpOutcome};
use super::matrix::{self, MatrixData, MatrixOutcome};
use ansatz_engine::plot::{Chart, Mark, Series, Style};
use ansatz_grammar::{Signature, load};
use nalgebra::Matrix3;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What to run.
#[derive(Clone, Debug)]
pub struct RegressConfig {
    /// The data file (CSV or TSV with a header).
    pub data: PathBuf,
    /// A separate test file (no split then).
    pub test: Option<PathBuf>,
    /// Target columns or 3x3 groups (empty: `target`, else the last column).
    pub targets: Vec<String>,
    /// Share of rows held out for testing when there is no test file.
    pub test_fraction: f64,
    /// Seed of the split and of the search.
    pub seed: u64,
    /// Wall-time limit per target, seconds.
    pub time_limit: f64,
    /// Most fits per target.
    pub max_fits: Option<usize>,
    /// Output directory.
    pub out: PathBuf,
}

/// Anything that stops a regression run.
#[derive(Debug, thiserror::Error)]
pub enum RegressError {
    /// A malformed table.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Train and test files with different columns.
    #[error("the test file {test} has columns {got:?}, but the data file has {expected:?}")]
    Columns {
        /// The test file.
        test: String,
        /// The data file's columns.
        expected: Vec<String>,
        /// The test file's columns.
        got: Vec<String>,
    },
    /// A matrix target without one matrix input.
    #[error(
        "the matrix target '{target}' needs exactly one 3x3 input group (nine columns NAME00..NAME22) and no other input; inputs are: {inputs}"
    )]
    MatrixInputs {
        /// The target.
        target: String,
        /// The inputs found.
        inputs: String,
    },
    /// Too few rows to fit and test.
    #[error("{0} has {1} data rows; at least 2 are needed (one to fit, one to test)")]
    TooFewRows(String, usize),
    /// Writing the results failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// One law of a front, as written to `result.json`.
#[derive(Clone, Debug, Serialize)]
pub struct FrontRow {
    /// Size (scalar: tree nodes; matrix: e-graph complexity).
    pub complexity: u64,
    /// Normalised mean squared error on the training rows.
    pub train_nmse: f64,
    /// R² on the test rows (for a matrix, over all nine entries).
    pub test_r2: f64,
    /// SymPy expression over the column names (scalar targets).
    pub expression: Option<String>,
    /// The law program with fitted constants.
    pub law: String,
}

/// The result for one target.
#[derive(Clone, Debug, Serialize)]
pub struct TargetResult {
    /// The target's name.
    pub target: String,
    /// `scalar` or `matrix`.
    pub kind: String,
    /// Input names (column names or group names).
    pub inputs: Vec<String>,
    /// The chosen law program, fitted constants as defaults.
    pub law: String,
    /// SymPy expression over the column names, numbers inlined (scalar targets).
    pub expression: Option<String>,
    /// LaTeX of the chosen law.
    pub latex: String,
    /// Complexity of the chosen law.
    pub complexity: u64,
    /// Fitted constants by name.
    pub params: Vec<(String, f64)>,
    /// Normalised MSE on the training rows.
    pub train_nmse: f64,
    /// R² on the training rows.
    pub train_r2: f64,
    /// R² on the test rows (matrix: over all entries).
    pub test_r2: f64,
    /// R² of each output entry on the test rows (matrix targets, row-major).
    pub test_r2_outputs: Vec<f64>,
    /// Training and test rows.
    pub rows: (usize, usize),
    /// Laws fitted.
    pub fits: usize,
    /// Passes over the (search subset of the) training rows.
    pub evaluations: usize,
    /// Wall time of the search, seconds.
    pub seconds: f64,
    /// Why the search stopped.
    pub stopped: String,
    /// The Pareto front (best law per complexity).
    pub front: Vec<FrontRow>,
}

fn r2(pred: &[f64], y: &[f64]) -> f64 {
    let n = y.len() as f64;
    if y.is_empty() {
        return f64::NAN;
    }
    let mean = y.iter().sum::<f64>() / n;
    let ss_tot: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let ss_res: f64 = pred.iter().zip(y).map(|(p, v)| (p - v).powi(2)).sum();
    if !ss_res.is_finite() {
        return f64::NEG_INFINITY;
    }
    if ss_tot == 0.0 {
        return if ss_res == 0.0 {
            1.0
        } else {
            f64::NEG_INFINITY
        };
    }
    1.0 - ss_res / ss_tot
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegressError + '_ {
    move |source| RegressError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write(path: &Path, text: &str) -> Result<(), RegressError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::write(path, text).map_err(io(path))
}

/// Runs the regression; returns one result per target (each written under `cfg.out`, or
/// `cfg.out/<target>` when there are several).
pub fn run(
    cfg: &RegressConfig,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<TargetResult>, RegressError> {
    let (train, test, roles) = load_split(cfg)?;
    run_on(cfg, &train, &test, &roles, log)
}

/// The training and test tables (the test file, or a split by the seed) and the roles of
/// their columns.
pub fn load_split(cfg: &RegressConfig) -> Result<(Table, Table, Roles), RegressError> {
    let table = Table::load(&cfg.data)?;
    let (train, test) = match &cfg.test {
        Some(path) => {
            let test = Table::load(path)?;
            if test.names != table.names {
                return Err(RegressError::Columns {
                    test: path.display().to_string(),
                    expected: table.names.clone(),
                    got: test.names.clone(),
                });
            }
            (table, test)
        }
        None => {
            if table.rows() < 2 {
                return Err(RegressError::TooFewRows(table.origin.clone(), table.rows()));
            }
            table.split(cfg.test_fraction, cfg.seed)
        }
    };
    let roles = roles(&train, &cfg.targets)?;
    Ok((train, test, roles))
}

fn run_on(
    cfg: &RegressConfig,
    train: &Table,
    test: &Table,
    roles: &Roles,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<TargetResult>, RegressError> {
    let (train, test) = (train.clone(), test.clone());
    log(&format!(
        "{}: {} training rows, {} test rows; inputs {}",
        cfg.data.display(),
        train.rows(),
        test.rows(),
        roles
            .inputs
            .iter()
            .map(Column::name)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let several = roles.targets.len() > 1;
    let mut results = Vec::new();
    for (t, target) in roles.targets.iter().enumerate() {
        let dir = if several {
            cfg.out.join(sanitize(target.name()))
        } else {
            cfg.out.clone()
        };
        let gcfg = GpConfig {
            seed: cfg.seed.wrapping_add(t as u64),
            time_limit: cfg.time_limit,
            max_fits: cfg.max_fits,
            ..GpConfig::default()
        };
        let result = match target {
            Column::Scalar { name, index, .. } => {
                scalar_target(name, *index, &roles.inputs, &train, &test, &gcfg, &dir, log)?
            }
            Column::Matrix { name, indices, .. } => matrix_target(
                name,
                indices,
                &roles.inputs,
                &train,
                &test,
                &gcfg,
                &dir,
                log,
            )?,
        };
        results.push(result);
    }
    if several {
        let json = serde_json::to_string_pretty(&results).unwrap_or_default();
        write(&cfg.out.join("results.json"), &json)?;
    }
    Ok(results)
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn scalar_target(
    target: &str,
    index: usize,
    inputs: &[Column],
    train: &Table,
    test: &Table,
    cfg: &GpConfig,
    dir: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<TargetResult, RegressError> {
    // Matrix inputs of a scalar target enter entry by entry.
    let mut vars = Vars {
        law: Vec::new(),
        columns: Vec::new(),
    };
    let mut idx = Vec::new();
    for c in inputs {
        match c {
            Column::Scalar {
                name,
                law_name,
                index,
            } => {
                vars.columns.push(name.clone());
                vars.law.push(law_name.clone());
                idx.push(*index);
            }
            Column::Matrix { indices, .. } => {
                for &i in indices {
                    let name = train.names[i].clone();
                    vars.law.push(super::data::law_name(
                        &name,
                        &vars.law.iter().cloned().collect(),
                    ));
                    vars.columns.push(name);
                    idx.push(i);
                }
            }
        }
    }
    let data = Data {
        columns: idx.iter().map(|&i| train.columns[i].as_slice()).collect(),
        y: &train.columns[index],
    };
    let test_cols: Vec<&[f64]> = idx.iter().map(|&i| test.columns[i].as_slice()).collect();
    let test_y = &test.columns[index];
    log(&format!(
        "target {target}: searching for up to {} s",
        cfg.time_limit
    ));
    let out: GpOutcome = gp::search(&data, cfg);
    let test_r2_of = |e: &Expr| r2(&e.eval(&test_cols, test_y.len()), test_y);
    let front: Vec<FrontRow> = out
        .front
        .iter()
        .map(|m| FrontRow {
            complexity: m.size as u64,
            train_nmse: m.nmse,
            test_r2: test_r2_of(&m.expr),
            expression: Some(m.expr.sympy(&vars)),
            law: m.expr.law(&vars),
        })
        .collect();
    let chosen = gp::choose(&out.front).map(|i| out.front[i].clone());
    let (law, expression, latex, complexity, params, nmse, test_r2, preds) = match &chosen {
        Some(m) => (
            m.expr.law(&vars),
            Some(m.expr.sympy(&vars)),
            m.expr.latex(&vars),
            m.size as u64,
            m.expr
                .params
                .iter()
                .enumerate()
                .map(|(k, v)| (Expr::param_name(k), *v))
                .collect(),
            m.nmse,
            test_r2_of(&m.expr),
            m.expr.eval(&test_cols, test_y.len()),
        ),
        None => (
            String::new(),
            None,
            String::new(),
            0,
            Vec::new(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            vec![f64::NAN; test_y.len()],
        ),
    };
    let result = TargetResult {
        target: target.to_string(),
        kind: "scalar".into(),
        inputs: vars.columns.clone(),
        law,
        expression,
        latex,
        complexity,
        params,
        train_nmse: nmse,
        train_r2: 1.0 - nmse,
        test_r2,
        test_r2_outputs: Vec::new(),
        rows: (train.rows(), test.rows()),
        fits: out.fits,
        evaluations: out.passes,
        seconds: out.seconds,
        stopped: out.stopped.clone(),
        front,
    };
    let mut csv = format!("{target}\n");
    for p in &preds {
        let _ = writeln!(csv, "{p:e}");
    }
    write(&dir.join("predictions_test.csv"), &csv)?;
    if let Some(m) = &chosen {
        // Code exports use the law-language names (valid identifiers).
        let code_vars = Vars {
            law: vars.law.clone(),
            columns: vars.law.clone(),
        };
        let body = m.expr.sympy(&code_vars);
        let args = vars.law.join(", ");
        let numpy = format!(
            "\"\"\"{target} = f({args}), found by ansatz regress (train NMSE {nmse:e}).\"\"\"\nfrom numpy import cos, exp, log, sin, sqrt\n\n\ndef law({args}):\n    return {body}\n"
        );
        let sympy = format!(
            "\"\"\"{target} = f({args}), found by ansatz regress.\"\"\"\nfrom sympy import cos, exp, log, sin, sqrt, symbols\n\n{args}{comma} = symbols(\"{names}\", real=True)\nlaw = {body}\n",
            comma = if vars.law.len() == 1 { "," } else { "" },
            names = vars.law.join(" "),
        );
        write(&dir.join("exports/best.sympy.py"), &sympy)?;
        write(&dir.join("exports/best.numpy.py"), &numpy)?;
        write(
            &dir.join("exports/best.tex"),
            &format!("{} = {}\n", latex_target(target), result.latex),
        )?;
    }
    finish(&result, dir, &scalar_report(&result, &out))?;
    log(&format!(
        "target {target}: {} (complexity {}, train NMSE {:.3e}, test R² {:.6}) after {} fits in {:.1} s; {}",
        result.expression.as_deref().unwrap_or("no law"),
        result.complexity,
        result.train_nmse,
        result.test_r2,
        result.fits,
        result.seconds,
        result.stopped
    ));
    Ok(result)
}

fn latex_target(t: &str) -> String {
    t.replace('_', "\\_")
}

#[allow(clippy::too_many_arguments)]
fn matrix_target(
    target: &str,
    indices: &[usize; 9],
    inputs: &[Column],
    train: &Table,
    test: &Table,
    cfg: &GpConfig,
    dir: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<TargetResult, RegressError> {
    let input = match inputs {
        [Column::Matrix { indices, .. }] => *indices,
        _ => {
            return Err(RegressError::MatrixInputs {
                target: target.into(),
                inputs: inputs
                    .iter()
                    .map(Column::name)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    };
    let input_name = inputs[0].name().to_string();
    let mats = |t: &Table, idx: &[usize; 9]| -> Vec<Matrix3<f64>> {
        (0..t.rows())
            .map(|r| Matrix3::from_row_slice(&idx.map(|i| t.columns[i][r])))
            .collect()
    };
    let data = MatrixData {
        inputs: mats(train, &input),
        targets: mats(train, indices),
    };
    let test_data = MatrixData {
        inputs: mats(test, &input),
        targets: mats(test, indices),
    };
    log(&format!(
        "target {target} (3x3) = f({input_name} as F): searching for up to {} s",
        cfg.time_limit
    ));
    let out: MatrixOutcome = matrix::search(&data, cfg);
    let signature = Signature::elastic();
    let fitted = |m: &matrix::LawMember| -> Option<(String, Vec<Matrix3<f64>>)> {
        let law = load(&m.source, &signature).ok()?;
        let text = with_defaults(&law, &m.params);
        let pred = matrix::predict(law.compiled(), &m.params, &test_data.inputs);
        Some((text, pred))
    };
    let flat =
        |ms: &[Matrix3<f64>], i: usize, j: usize| ms.iter().map(|m| m[(i, j)]).collect::<Vec<_>>();
    let all_r2 = |pred: &[Matrix3<f64>]| {
        let p: Vec<f64> = pred.iter().flat_map(|m| m.iter().copied()).collect();
        let mean = test_data
            .targets
            .iter()
            .fold(Matrix3::zeros(), |a, t| a + t)
            / test_data.targets.len().max(1) as f64;
        let ss_tot: f64 = test_data
            .targets
            .iter()
            .map(|t| (t - mean).norm_squared())
            .sum();
        let y: Vec<f64> = test_data
            .targets
            .iter()
            .flat_map(|m| m.iter().copied())
            .collect();
        let ss_res: f64 = p.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum();
        if ss_res.is_finite() && ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NEG_INFINITY
        }
    };
    let front: Vec<FrontRow> = out
        .front
        .iter()
        .filter_map(|m| {
            let (law, pred) = fitted(m)?;
            Some(FrontRow {
                complexity: m.complexity,
                train_nmse: m.nmse,
                test_r2: all_r2(&pred),
                expression: None,
                law,
            })
        })
        .collect();
    let chosen = matrix::choose(&out.front).map(|i| out.front[i].clone());
    let (mut law_text, mut latex, mut params, mut outputs, mut test_r2, mut preds) = (
        String::new(),
        String::new(),
        Vec::new(),
        Vec::new(),
        f64::NEG_INFINITY,
        Vec::new(),
    );
    if let Some(m) = &chosen
        && let Some((text, pred)) = fitted(m)
    {
        outputs = (0..3)
            .flat_map(|i| (0..3).map(move |j| (i, j)))
            .map(|(i, j)| r2(&flat(&pred, i, j), &flat(&test_data.targets, i, j)))
            .collect();
        test_r2 = all_r2(&pred);
        if let Ok(law) = load(&text, &signature) {
            latex = ansatz_grammar::export::export(&law, ansatz_grammar::export::Target::Latex);
            params = law.params();
            for (name, text) in ansatz_grammar::export::export_files(&law, "best") {
                write(&dir.join("exports").join(name), &text)?;
            }
        }
        law_text = text;
        preds = pred;
    }
    let names: Vec<String> = indices.iter().map(|&i| train.names[i].clone()).collect();
    let mut csv = names.join(",") + "\n";
    for p in &preds {
        let row: Vec<String> = p.transpose().iter().map(|v| format!("{v:e}")).collect();
        let _ = writeln!(csv, "{}", row.join(","));
    }
    write(&dir.join("predictions_test.csv"), &csv)?;
    let nmse = chosen.as_ref().map_or(f64::INFINITY, |m| m.nmse);
    let result = TargetResult {
        target: target.into(),
        kind: "matrix".into(),
        inputs: vec![input_name],
        law: law_text,
        expression: None,
        latex,
        complexity: chosen.as_ref().map_or(0, |m| m.complexity),
        params,
        train_nmse: nmse,
        train_r2: 1.0 - nmse,
        test_r2,
        test_r2_outputs: outputs,
        rows: (train.rows(), test.rows()),
        fits: out.fits,
        evaluations: out.passes,
        seconds: out.seconds,
        stopped: out.stopped.clone(),
        front,
    };
    finish(&result, dir, &matrix_report(&result))?;
    log(&format!(
        "target {target}: one law, complexity {}, train NMSE {:.3e}, test R² {:.6} (entries {:.6} to {:.6}) after {} fits in {:.1} s; {}",
        result.complexity,
        result.train_nmse,
        result.test_r2,
        result
            .test_r2_outputs
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min),
        result
            .test_r2_outputs
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max),
        result.fits,
        result.seconds,
        result.stopped
    ));
    Ok(result)
}

/// The law's text with `params` as the defaults.
fn with_defaults(law: &ansatz_grammar::CheckedProgram, params: &[f64]) -> String {
    let mut p = law.program().clone();
    for (d, v) in p.params.iter_mut().zip(params) {
        d.value = *v;
    }
    p.to_string()
}

fn finish(result: &TargetResult, dir: &Path, report: &str) -> Result<(), RegressError> {
    let json = serde_json::to_string_pretty(result).unwrap_or_default();
    write(&dir.join("result.json"), &json)?;
    write(&dir.join("best.law"), &format!("{}\n", result.law))?;
    write(&dir.join("report.md"), report)?;
    write(&dir.join("pareto.svg"), &pareto_chart(result).svg())
}

/// The Pareto front as point markers (NMSE against complexity, log scale), the chosen law
/// marked and labelled with its one-line form.
fn pareto_chart(result: &TargetResult) -> Chart {
    // An exact fit (NMSE 0) is drawn at 1e-32 so the axis stays logarithmic.
    let floor = |v: f64| v.max(1e-32);
    let points: Vec<(f64, f64)> = result
        .front
        .iter()
        .map(|r| (r.complexity as f64, floor(r.train_nmse)))
        .collect();
    let law = result
        .expression
        .clone()
        .unwrap_or_else(|| result.law.replace('\n', "; "));
    Chart::new(
        &format!("{}: Pareto front", result.target),
        "complexity",
        "train NMSE",
    )
    .log_y(true)
    .integer_x()
    .series(
        Style::Points,
        Series {
            name: "best law per complexity".into(),
            points,
        },
    )
    .mark(Mark {
        at: (result.complexity as f64, floor(result.train_nmse)),
        label: format!("chosen: {law}"),
    })
}

fn header(s: &mut String, r: &TargetResult) {
    let _ = writeln!(s, "# ansatz regress: {}\n", r.target);
    let _ = writeln!(
        s,
        "{} training rows, {} test rows. Inputs: {}.\n",
        r.rows.0,
        r.rows.1,
        r.inputs.join(", ")
    );
    let _ = writeln!(
        s,
        "Search: {} laws fitted, {} passes over the data, {:.1} s; stopped: {}.\n",
        r.fits, r.evaluations, r.seconds, r.stopped
    );
    let _ = writeln!(s, "## Chosen law\n");
    let _ = writeln!(
        s,
        "The smallest law on the front whose training error is within 10 % of the best (or below 1e-24).\n"
    );
    let _ = writeln!(
        s,
        "| complexity | train NMSE | train R² | test R² |\n|---|---|---|---|\n| {} | {:.3e} | {:.9} | {:.9} |\n",
        r.complexity, r.train_nmse, r.train_r2, r.test_r2
    );
}

fn scalar_report(r: &TargetResult, out: &GpOutcome) -> String {
    let mut s = String::new();
    header(&mut s, r);
    if let Some(e) = &r.expression {
        let _ = writeln!(s, "`{} = {e}`\n", r.target);
        let _ = writeln!(s, "$$ {} = {} $$\n", latex_target(&r.target), r.latex);
    }
    let _ = writeln!(s, "```\n{}\n```\n", r.law);
    let _ = writeln!(
        s,
        "Exports: `exports/best.tex` (LaTeX), `exports/best.sympy.py` (SymPy), `exports/best.numpy.py` (NumPy).\n"
    );
    front_table(&mut s, r, "size", |row| {
        row.expression.clone().unwrap_or_default()
    });
    let _ = writeln!(s, "\n{} generations.", out.generations);
    s
}

/// The report's Pareto front section: the plot and one table row per front law, the
/// complexity column headed `measure`, the law written by `law`.
fn front_table(s: &mut String, r: &TargetResult, measure: &str, law: impl Fn(&FrontRow) -> String) {
    let _ = writeln!(s, "## Pareto front (best law per {measure})\n");
    let _ = writeln!(s, "![front](pareto.svg)\n");
    let _ = writeln!(
        s,
        "| {measure} | train NMSE | test R² | law |\n|---|---|---|---|"
    );
    for row in &r.front {
        let _ = writeln!(
            s,
            "| {} | {:.3e} | {:.9} | `{}` |",
            row.complexity,
            row.train_nmse,
            row.test_r2,
            law(row)
        );
    }
}

fn matrix_report(r: &TargetResult) -> String {
    let mut s = String::new();
    header(&mut s, r);
    let _ = writeln!(s, "```\n{}\n```\n", r.law);
    if !r.latex.is_empty() {
        let _ = writeln!(s, "$$\n{}\n$$\n", r.latex.trim());
    }
    let _ = writeln!(s, "Test R² of each entry (row-major):\n");
    let _ = writeln!(s, "| | 0 | 1 | 2 |\n|---|---|---|---|");
    for i in 0..3 {
        let cells: Vec<String> = (0..3)
            .map(|j| {
                r.test_r2_outputs
                    .get(3 * i + j)
                    .map_or("-".into(), |v| format!("{v:.9}"))
            })
            .collect();
        let _ = writeln!(s, "| {i} | {} |", cells.join(" | "));
    }
    s.push('\n');
    front_table(&mut s, r, "complexity", |row| row.law.replace('\n', "; "));
    s
}
