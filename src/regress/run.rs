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
    /// Separate test files, each scored on its own (none: a split of the data file).
    pub tests: Vec<PathBuf>,
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
    /// Threads fitting laws (0: one per core); the result does not depend on it.
    pub threads: usize,
    /// How the GP scores laws while searching ([`GpConfig::scaling`]).
    pub scaling: gp::Scaling,
    /// Sub-populations of the GP ([`GpConfig::islands`]).
    pub islands: usize,
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
    /// The table cannot be posed as a law problem.
    #[error("{0}")]
    Law(String),
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
    /// R² on the (first) test set (for a matrix, over all nine entries).
    pub test_r2: f64,
    /// SymPy expression over the column names (scalar targets).
    pub expression: Option<String>,
    /// The law program with fitted constants.
    pub law: String,
}

/// The score of the chosen law on one test set.
#[derive(Clone, Debug, Serialize)]
pub struct TestScore {
    /// The set's name (`test` for the held-out rows, else the file's stem), which names
    /// its predictions file `predictions_<name>.csv`.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// Its rows.
    pub rows: usize,
    /// R² of the chosen law (matrix: over all entries).
    pub r2: f64,
    /// Normalised mean squared error of the chosen law (1 − R²).
    pub nmse: f64,
}

/// A table the chosen law is tested on.
#[derive(Clone, Debug)]
pub struct TestSet {
    /// Its name (see [`TestScore::name`]).
    pub name: String,
    /// The rows.
    pub table: Table,
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
    /// R² on the (first) test set (matrix: over all entries).
    pub test_r2: f64,
    /// The chosen law's score on each test set.
    pub tests: Vec<TestScore>,
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
    /// The settings the search ran with.
    pub settings: GpConfig,
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
    let (train, tests, roles) = load_tests(cfg)?;
    run_on(cfg, &train, &tests, &roles, log)
}

/// The training table, the first test table (see [`load_tests`]) and the roles of their
/// columns.
pub fn load_split(cfg: &RegressConfig) -> Result<(Table, Table, Roles), RegressError> {
    let (train, mut tests, roles) = load_tests(cfg)?;
    let test = tests.swap_remove(0).table;
    Ok((train, test, roles))
}

/// The training table, the test sets (each test file, or the rows held out of the data
/// file by the seed; at least one) and the roles of their columns.
pub fn load_tests(cfg: &RegressConfig) -> Result<(Table, Vec<TestSet>, Roles), RegressError> {
    let table = Table::load(&cfg.data)?;
    let (train, tests) = if cfg.tests.is_empty() {
        if table.rows() < 2 {
            return Err(RegressError::TooFewRows(table.origin.clone(), table.rows()));
        }
        let (train, test) = table.split(cfg.test_fraction, cfg.seed);
        let set = TestSet {
            name: "test".into(),
            table: test,
        };
        (train, vec![set])
    } else {
        let mut sets: Vec<TestSet> = Vec::new();
        for path in &cfg.tests {
            let test = Table::load(path)?;
            if test.names != table.names {
                return Err(RegressError::Columns {
                    test: path.display().to_string(),
                    expected: table.names.clone(),
                    got: test.names.clone(),
                });
            }
            let stem = table_stem(path);
            let mut name = stem.clone();
            let mut k = 1;
            while sets.iter().any(|t| t.name == name) {
                k += 1;
                name = format!("{stem}_{k}");
            }
            sets.push(TestSet { name, table: test });
        }
        (table, sets)
    };
    let roles = roles(&train, &cfg.targets)?;
    Ok((train, tests, roles))
}

/// A table file's name without its directory and its `.csv`, `.tsv`, `.txt` and `.gz`
/// extensions, as a file-name part (`runs/feynman_test.csv.gz` is `feynman_test`).
fn table_stem(path: &Path) -> String {
    let mut name = path
        .file_name()
        .map_or_else(|| "test".to_string(), |s| s.to_string_lossy().to_string());
    for ext in [".gz", ".csv", ".tsv", ".txt"] {
        if name.len() > ext.len() && name.to_ascii_lowercase().ends_with(ext) {
            name.truncate(name.len() - ext.len());
        }
    }
    sanitize(&name)
}

/// The R² and NMSE (`1 − R²`) of predictions `pred` of `y`.
fn score(name: &str, table: &Table, pred: &[f64], y: &[f64]) -> TestScore {
    let r2 = r2(pred, y);
    TestScore {
        name: name.to_string(),
        file: table.origin.clone(),
        rows: table.rows(),
        r2,
        nmse: 1.0 - r2,
    }
}

/// One CSV field, quoted when it holds a separator, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// `predictions_<set>.csv`: the input columns, the target columns, then per target column
/// its prediction and its error (prediction − target), one line per row. `inputs` and
/// `targets` name the table's columns; `pred[k]` holds the predictions of `targets[k]`.
fn write_predictions(
    dir: &Path,
    set: &TestSet,
    inputs: &[usize],
    targets: &[usize],
    pred: &[Vec<f64>],
) -> Result<(), RegressError> {
    let t = &set.table;
    let single = targets.len() == 1;
    let taken = |n: &str| t.names.iter().any(|c| c == n);
    let mut header: Vec<String> = inputs
        .iter()
        .chain(targets)
        .map(|&i| csv_field(&t.names[i]))
        .collect();
    for &k in targets {
        let name = &t.names[k];
        for what in ["prediction", "error"] {
            let plain = single && !taken(what);
            header.push(csv_field(&if plain {
                what.to_string()
            } else {
                format!("{name}_{what}")
            }));
        }
    }
    let mut csv = header.join(",") + "\n";
    for r in 0..t.rows() {
        let mut row: Vec<String> = inputs
            .iter()
            .chain(targets)
            .map(|&i| format!("{:e}", t.columns[i][r]))
            .collect();
        for (k, &i) in targets.iter().enumerate() {
            let p = pred
                .get(k)
                .and_then(|p| p.get(r))
                .copied()
                .unwrap_or(f64::NAN);
            row.push(format!("{p:e}"));
            row.push(format!("{:e}", p - t.columns[i][r]));
        }
        let _ = writeln!(csv, "{}", row.join(","));
    }
    write(&dir.join(format!("predictions_{}.csv", set.name)), &csv)
}

/// What the search loop's best law adds to its `result.json`.
#[derive(Clone, Debug, Serialize)]
pub struct LoopOutputs {
    /// SymPy expression over the column names (when the law is one expression of the
    /// operators of the tree search).
    pub expression: Option<String>,
    /// LaTeX of the law.
    pub latex: String,
    /// The law's score on each test set.
    pub tests: Vec<TestScore>,
}

/// The outputs of the GP path for a law found by the search loop (`--proposer llm|human|
/// replay`) on `cfg`'s table, beside the `best.law` and `exports/` the loop writes: for a
/// scalar target `predictions_<set>.csv` per test set; returns the expression, LaTeX and
/// test scores for `result.json`.
pub fn write_loop_outputs(
    cfg: &RegressConfig,
    law: &ansatz_grammar::CheckedProgram,
    params: &[f64],
) -> Result<LoopOutputs, RegressError> {
    let (train, tests, roles) = load_tests(cfg)?;
    let text = with_defaults(law, params);
    let fitted = load(&text, law.signature()).unwrap_or_else(|_| law.clone());
    let latex = ansatz_grammar::export::export(&fitted, ansatz_grammar::export::Target::Latex);
    let mut out = LoopOutputs {
        expression: None,
        latex,
        tests: Vec::new(),
    };
    let Some(target) = roles.targets.first() else {
        return Ok(out);
    };
    let Column::Scalar { index, .. } = target else {
        return Ok(out);
    };
    let idx: Vec<usize> = roles
        .inputs
        .iter()
        .flat_map(|c| c.indices().iter().copied())
        .collect();
    let vars = Vars {
        law: law
            .signature()
            .inputs
            .iter()
            .map(|(n, _)| n.clone())
            .collect(),
        columns: idx.iter().map(|&i| train.names[i].clone()).collect(),
    };
    out.expression =
        super::expr::from_law(&fitted, &vars).map(|e| gp::gather_products(&e).sympy(&vars));
    for set in &tests {
        let problem =
            crate::kinds::table::TableProblem::new("test", &set.table, &roles.inputs, target)
                .map_err(RegressError::Law)?;
        let pred = problem
            .predict(law, params)
            .unwrap_or_else(|| vec![f64::NAN; set.table.rows()]);
        out.tests.push(score(
            &set.name,
            &set.table,
            &pred,
            &set.table.columns[*index],
        ));
        write_predictions(&cfg.out, set, &idx, &[*index], &[pred])?;
    }
    Ok(out)
}

fn run_on(
    cfg: &RegressConfig,
    train: &Table,
    tests: &[TestSet],
    roles: &Roles,
    log: &mut dyn FnMut(&str),
) -> Result<Vec<TargetResult>, RegressError> {
    log(&format!(
        "{}: {} training rows, {} test rows ({}); inputs {}",
        cfg.data.display(),
        train.rows(),
        tests.iter().map(|t| t.table.rows()).sum::<usize>(),
        tests
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
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
            threads: cfg.threads,
            scaling: cfg.scaling,
            islands: cfg.islands,
            ..GpConfig::default()
        };
        let result = match target {
            Column::Scalar { name, index, .. } => {
                scalar_target(name, *index, &roles.inputs, train, tests, &gcfg, &dir, log)?
            }
            Column::Matrix { name, indices, .. } => {
                matrix_target(name, indices, &roles.inputs, train, tests, &gcfg, &dir, log)?
            }
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
    tests: &[TestSet],
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
    let predict = |e: &Expr, t: &Table| {
        let cols: Vec<&[f64]> = idx.iter().map(|&i| t.columns[i].as_slice()).collect();
        e.eval(&cols, t.rows())
    };
    let first = &tests[0].table;
    log(&format!(
        "target {target}: searching for up to {} s",
        cfg.time_limit
    ));
    let mut progress = |p: &gp::Progress<'_>| {
        let best = p.best.map_or_else(
            || "no law yet".to_string(),
            |m| {
                format!(
                    "best NMSE {:.3e} (size {}): {}",
                    m.nmse,
                    m.size,
                    m.expr.sympy(&vars)
                )
            },
        );
        log(&format!(
            "target {target}: {:.0}/{} s, {} fits, generation {}, {} laws on the front; {best}",
            p.seconds, cfg.time_limit, p.fits, p.generations, p.front
        ));
    };
    let out: GpOutcome = gp::search_with(&data, cfg, &mut progress);
    let test_r2_of = |e: &Expr| r2(&predict(e, first), &first.columns[index]);
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
            tests.iter().map(|t| predict(&m.expr, &t.table)).collect(),
        ),
        None => (
            String::new(),
            None,
            String::new(),
            0,
            Vec::new(),
            f64::INFINITY,
            f64::NEG_INFINITY,
            tests
                .iter()
                .map(|t| vec![f64::NAN; t.table.rows()])
                .collect::<Vec<_>>(),
        ),
    };
    let scores: Vec<TestScore> = tests
        .iter()
        .zip(&preds)
        .map(|(t, p)| score(&t.name, &t.table, p, &t.table.columns[index]))
        .collect();
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
        tests: scores,
        test_r2_outputs: Vec::new(),
        rows: (train.rows(), first.rows()),
        fits: out.fits,
        evaluations: out.passes,
        seconds: out.seconds,
        stopped: out.stopped.clone(),
        front,
        settings: cfg.clone(),
    };
    for (t, p) in tests.iter().zip(preds) {
        write_predictions(dir, t, &idx, &[index], &[p])?;
    }
    if let Some(m) = &chosen {
        // Code exports use the law-language names (valid identifiers).
        let code_vars = Vars {
            law: vars.law.clone(),
            columns: vars.law.clone(),
        };
        let body = m.expr.sympy(&code_vars);
        let args = vars.law.join(", ");
        let numpy = format!(
            "\"\"\"{target} = f({args}), found by ansatz regress (train NMSE {nmse:e}).\"\"\"\nfrom numpy import cos, exp, log, pi, sin, sqrt\n\n\ndef law({args}):\n    return {body}\n"
        );
        // Parsed by SymPy (not evaluated by Python), so that `1/3` stays a rational.
        let locals: Vec<String> = vars.law.iter().map(|n| format!("\"{n}\": {n}")).collect();
        let sympy = format!(
            "\"\"\"{target} = f({args}), found by ansatz regress.\"\"\"\nfrom sympy import sympify, symbols\n\n{args}{comma} = symbols(\"{names}\", real=True)\nlaw = sympify(\"{body}\", locals={{{locals}}})\n",
            comma = if vars.law.len() == 1 { "," } else { "" },
            names = vars.law.join(" "),
            locals = locals.join(", "),
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
    log_tests(target, &result, log);
    Ok(result)
}

/// One log line per test set after the first (the first is in the summary line).
fn log_tests(target: &str, r: &TargetResult, log: &mut dyn FnMut(&str)) {
    if r.tests.len() < 2 {
        return;
    }
    for t in &r.tests {
        log(&format!(
            "target {target}: test set {} ({}, {} rows): R² {:.9}, NMSE {:.3e}",
            t.name, t.file, t.rows, t.r2, t.nmse
        ));
    }
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
    tests: &[TestSet],
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
    let sets: Vec<MatrixData> = tests
        .iter()
        .map(|t| MatrixData {
            inputs: mats(&t.table, &input),
            targets: mats(&t.table, indices),
        })
        .collect();
    let test_data = &sets[0];
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
    let r2_on = |pred: &[Matrix3<f64>], set: &MatrixData| {
        let p: Vec<f64> = pred.iter().flat_map(|m| m.iter().copied()).collect();
        let mean = set.targets.iter().fold(Matrix3::zeros(), |a, t| a + t)
            / set.targets.len().max(1) as f64;
        let ss_tot: f64 = set.targets.iter().map(|t| (t - mean).norm_squared()).sum();
        let y: Vec<f64> = set.targets.iter().flat_map(|m| m.iter().copied()).collect();
        let ss_res: f64 = p.iter().zip(&y).map(|(a, b)| (a - b).powi(2)).sum();
        if ss_res.is_finite() && ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else {
            f64::NEG_INFINITY
        }
    };
    let all_r2 = |pred: &[Matrix3<f64>]| r2_on(pred, test_data);
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
        if let Ok(law) = load(&m.source, &signature) {
            preds = sets
                .iter()
                .map(|set| matrix::predict(law.compiled(), &m.params, &set.inputs))
                .collect();
        }
    }
    let mut scores = Vec::new();
    for (k, (t, set)) in tests.iter().zip(&sets).enumerate() {
        let pred = preds
            .get(k)
            .cloned()
            .unwrap_or_else(|| vec![Matrix3::from_element(f64::NAN); t.table.rows()]);
        let r2 = r2_on(&pred, set);
        scores.push(TestScore {
            name: t.name.clone(),
            file: t.table.origin.clone(),
            rows: t.table.rows(),
            r2,
            nmse: 1.0 - r2,
        });
        // Entry (i, j) of the target is column indices[3i + j], as the matrices were read.
        let columns: Vec<Vec<f64>> = (0..9)
            .map(|e| pred.iter().map(|m| m[(e / 3, e % 3)]).collect())
            .collect();
        write_predictions(dir, t, &input, indices, &columns)?;
    }
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
        tests: scores,
        test_r2_outputs: outputs,
        rows: (train.rows(), test_data.targets.len()),
        fits: out.fits,
        evaluations: out.passes,
        seconds: out.seconds,
        stopped: out.stopped.clone(),
        front,
        settings: cfg.clone(),
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
    log_tests(target, &result, log);
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
    let _ = writeln!(s, "## Test sets\n");
    let _ = writeln!(
        s,
        "| set | file | rows | R² | NMSE | predictions |\n|---|---|---|---|---|---|"
    );
    for t in &r.tests {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {:.9} | {:.3e} | `predictions_{}.csv` |",
            t.name, t.file, t.rows, t.r2, t.nmse, t.name
        );
    }
    s.push('\n');
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
