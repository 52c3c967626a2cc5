//! Symbolic regression on arrays held in memory: the engine behind the Python package's
//! `ansatz.Regressor` (folder `python/`).
//!
//! [`fit`] checks the arrays, runs the tabular search ([`super::gp`]) in a worker pool of
//! the requested size and returns the Pareto front as plain rows ([`Equation`]: complexity,
//! training error, the law program with its fitted constants, SymPy text, LaTeX). A fitted
//! law is kept and reloaded as its law-language text alone: [`Model`] compiles that text
//! with the law language's checker and evaluates it row by row, so a saved estimator
//! predicts without refitting and without the search's own data structures.

use super::data::law_name;
use super::expr::{Expr, Un, Vars};
use super::gp::{self, Data, GpConfig, Scaling};
use ansatz_grammar::{Compiled, Scratch, Signature, Type, Value};
use std::collections::BTreeSet;

/// Anything wrong with the arrays, the names or the settings given to [`fit`] or
/// [`Model`]. The Python package raises every one as `ValueError`.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EstimatorError {
    /// No input column.
    #[error("X has no feature column; at least one is needed")]
    NoFeatures,
    /// Fewer than two rows to fit.
    #[error("fitting needs at least 2 samples, got {0} sample(s)")]
    TooFewRows(usize),
    /// Columns of different lengths, or a target whose length differs from X's.
    #[error("{what} has {got} rows, but X has {expected}")]
    Rows {
        /// The array.
        what: String,
        /// Rows of X.
        expected: usize,
        /// Rows found.
        got: usize,
    },
    /// A NaN or an infinity.
    #[error("{what} contains a non-finite value ({value}) at row {row}")]
    NotFinite {
        /// The array (a feature name or `y`).
        what: String,
        /// The row.
        row: usize,
        /// The value.
        value: f64,
    },
    /// A different number of names than columns.
    #[error("{names} feature names were given for {columns} feature columns")]
    Names {
        /// Names given.
        names: usize,
        /// Columns given.
        columns: usize,
    },
    /// An operator name that is not one of [`OPERATORS`].
    #[error("unknown operator '{0}'; the operators are: {ops}", ops = OPERATORS.join(", "))]
    Operator(String),
    /// A scaling name that is not one of [`SCALINGS`].
    #[error("unknown scaling '{0}'; the scalings are: {names}", names = SCALINGS.join(", "))]
    Scaling(String),
    /// A setting out of range.
    #[error("{0}")]
    Setting(String),
    /// A law text that does not load as a law of the inputs.
    #[error("the law does not load: {0}")]
    Law(String),
}

/// Names of the unary operators the search may use, as [`Settings::operators`] takes them.
pub const OPERATORS: [&str; 7] = ["neg", "sqrt", "square", "exp", "log", "sin", "cos"];

/// The unary operator named `name` (one of [`OPERATORS`]).
pub fn operator(name: &str) -> Result<Un, EstimatorError> {
    match name {
        "neg" => Ok(Un::Neg),
        "sqrt" => Ok(Un::Sqrt),
        "square" => Ok(Un::Square),
        "exp" => Ok(Un::Exp),
        "log" => Ok(Un::Log),
        "sin" => Ok(Un::Sin),
        "cos" => Ok(Un::Cos),
        other => Err(EstimatorError::Operator(other.to_string())),
    }
}

/// Names of the ways the search scores a law ([`Scaling`]), as [`scaling`] reads them.
pub const SCALINGS: [&str; 3] = ["terms", "affine", "none"];

/// The scaling named `name` (one of [`SCALINGS`]).
pub fn scaling(name: &str) -> Result<Scaling, EstimatorError> {
    match name {
        "terms" => Ok(Scaling::Terms),
        "affine" => Ok(Scaling::Affine),
        "none" => Ok(Scaling::None),
        other => Err(EstimatorError::Scaling(other.to_string())),
    }
}

/// Settings of a fit: those of `ansatz regress` and the search's sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Wall-time limit of the search, seconds (> 0).
    pub time_limit: f64,
    /// Seed of the search.
    pub seed: u64,
    /// Most laws fitted (None: the time limit alone).
    pub max_fits: Option<usize>,
    /// Threads of the worker pool the search runs in (0: one per core).
    pub threads: usize,
    /// Population size.
    pub population: usize,
    /// Most nodes of a law's tree.
    pub max_size: usize,
    /// Unary operators allowed.
    pub operators: Vec<Un>,
    /// How a law is scored while searching (`ansatz regress --scaling`).
    pub scaling: Scaling,
    /// Sub-populations evolved apart (`ansatz regress --islands`).
    pub islands: usize,
}

impl Default for Settings {
    fn default() -> Self {
        let gp = GpConfig::default();
        Settings {
            time_limit: gp.time_limit,
            seed: gp.seed,
            max_fits: gp.max_fits,
            threads: 0,
            population: gp.population,
            max_size: gp.max_size,
            operators: gp.unary,
            scaling: gp.scaling,
            islands: gp.islands,
        }
    }
}

impl Settings {
    fn check(&self) -> Result<(), EstimatorError> {
        let bad = |s: String| Err(EstimatorError::Setting(s));
        if !(self.time_limit.is_finite() && self.time_limit > 0.0) {
            return bad(format!(
                "time_limit must be a positive number of seconds, got {}",
                self.time_limit
            ));
        }
        if self.max_fits == Some(0) {
            return bad("max_fits must be at least 1 (or None)".into());
        }
        if !(2..=100_000).contains(&self.population) {
            return bad(format!(
                "population must be between 2 and 100000, got {}",
                self.population
            ));
        }
        if !(1..=200).contains(&self.max_size) {
            return bad(format!(
                "max_size must be between 1 and 200, got {}",
                self.max_size
            ));
        }
        if self.islands == 0 {
            return bad("islands must be at least 1".into());
        }
        if self.threads > 1024 {
            return bad(format!(
                "threads must be at most 1024, got {}",
                self.threads
            ));
        }
        Ok(())
    }

    fn gp(&self) -> GpConfig {
        let base = GpConfig::default();
        GpConfig {
            seed: self.seed,
            time_limit: self.time_limit,
            max_fits: self.max_fits,
            population: self.population,
            offspring: (self.population / 2).max(1),
            max_size: self.max_size,
            unary: self.operators.clone(),
            scaling: self.scaling,
            islands: self.islands,
            ..base
        }
    }
}

/// One law of the Pareto front.
#[derive(Clone, Debug, PartialEq)]
pub struct Equation {
    /// Size of the law (tree nodes).
    pub complexity: usize,
    /// Normalised mean squared error on the training rows.
    pub loss: f64,
    /// The law program over the law-language names of the inputs ([`law_names`]), one
    /// `param` line per fitted constant: what [`Model::load`] reads back.
    pub law: String,
    /// A SymPy-parsable expression over the feature names, constants inlined.
    pub sympy: String,
    /// LaTeX over the feature names, constants inlined.
    pub latex: String,
    /// The fitted constants by name (`c0`, `c1`, ...).
    pub params: Vec<(String, f64)>,
}

/// What [`fit`] found.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The Pareto front, by increasing complexity and decreasing loss.
    pub equations: Vec<Equation>,
    /// Index of the chosen law in `equations`: the smallest within 10 % of the best loss.
    pub best: usize,
    /// The law-language names of the inputs, in column order.
    pub law_names: Vec<String>,
    /// Laws fitted.
    pub fits: usize,
    /// Passes over the (search subset of the) training rows.
    pub evaluations: usize,
    /// Generations run.
    pub generations: usize,
    /// Wall time of the search, seconds.
    pub seconds: f64,
    /// Why the search stopped.
    pub stopped: String,
}

/// The law-language identifiers of the feature names, in order and distinct (as `ansatz
/// regress` names table columns).
pub fn law_names(names: &[String]) -> Vec<String> {
    let mut taken = BTreeSet::new();
    names
        .iter()
        .map(|n| {
            let l = law_name(n, &taken);
            taken.insert(l.clone());
            l
        })
        .collect()
}

fn check_column(what: &str, column: &[f64], rows: usize) -> Result<(), EstimatorError> {
    if column.len() != rows {
        return Err(EstimatorError::Rows {
            what: what.to_string(),
            expected: rows,
            got: column.len(),
        });
    }
    match column.iter().position(|v| !v.is_finite()) {
        Some(row) => Err(EstimatorError::NotFinite {
            what: what.to_string(),
            row,
            value: column[row],
        }),
        None => Ok(()),
    }
}

fn check_columns(columns: &[Vec<f64>], names: &[String]) -> Result<usize, EstimatorError> {
    if names.len() != columns.len() {
        return Err(EstimatorError::Names {
            names: names.len(),
            columns: columns.len(),
        });
    }
    let Some(first) = columns.first() else {
        return Err(EstimatorError::NoFeatures);
    };
    let rows = first.len();
    for (c, name) in columns.iter().zip(names) {
        check_column(name, c, rows)?;
    }
    Ok(rows)
}

/// Searches for a law `y = f(columns)`: `columns[i]` is feature `i`, named `names[i]` (the
/// law text uses [`law_names`] of these) and written `symbols[i]` in the SymPy and LaTeX text
/// (usually the same names; the Python package gives `x0, x1, ...` there when a name is not a
/// Python identifier, while the law keeps the data set's names).
pub fn fit(
    columns: &[Vec<f64>],
    y: &[f64],
    names: &[String],
    symbols: &[String],
    settings: &Settings,
) -> Result<Fit, EstimatorError> {
    settings.check()?;
    let rows = check_columns(columns, names)?;
    if symbols.len() != names.len() {
        return Err(EstimatorError::Names {
            names: symbols.len(),
            columns: columns.len(),
        });
    }
    check_column("y", y, rows)?;
    if rows < 2 {
        return Err(EstimatorError::TooFewRows(rows));
    }
    let law = law_names(names);
    let vars = Vars {
        law: law.clone(),
        columns: symbols.to_vec(),
    };
    let data = Data {
        columns: columns.iter().map(Vec::as_slice).collect(),
        y,
    };
    let cfg = settings.gp();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(settings.threads)
        .build()
        .map_err(|e| {
            EstimatorError::Setting(format!("cannot start {} threads: {e}", settings.threads))
        })?;
    let out = pool.install(|| gp::search(&data, &cfg));
    let best = gp::choose(&out.front).ok_or_else(|| {
        EstimatorError::Setting(format!(
            "the search found no law with a finite error ({})",
            out.stopped
        ))
    })?;
    let equations = out
        .front
        .iter()
        .map(|m| Equation {
            complexity: m.size,
            loss: m.nmse,
            law: m.expr.law(&vars),
            sympy: m.expr.sympy(&vars),
            latex: m.expr.latex(&vars),
            params: m
                .expr
                .params
                .iter()
                .enumerate()
                .map(|(k, v)| (Expr::param_name(k), *v))
                .collect(),
        })
        .collect();
    Ok(Fit {
        equations,
        best,
        law_names: law,
        fits: out.fits,
        evaluations: out.passes,
        generations: out.generations,
        seconds: out.seconds,
        stopped: out.stopped,
    })
}

/// A law program of scalar inputs, compiled, with its constants: predicts from the law text
/// alone.
#[derive(Clone, Debug)]
pub struct Model {
    compiled: Compiled,
    params: Vec<f64>,
}

impl Model {
    /// Loads a law program over the inputs `inputs` (law-language names, in column order)
    /// returning a scalar; its `param` defaults are the constants used.
    pub fn load(law: &str, inputs: &[String]) -> Result<Model, EstimatorError> {
        let signature = Signature::new(
            inputs.iter().map(|n| (n.clone(), Type::Scalar)),
            Type::Scalar,
        );
        let checked = ansatz_grammar::load(law, &signature)
            .map_err(|e| EstimatorError::Law(e.to_string()))?;
        if checked.return_type() != Type::Scalar {
            return Err(EstimatorError::Law(format!(
                "it returns a {:?}, not a scalar",
                checked.return_type()
            )));
        }
        let compiled = checked.into_compiled();
        let params = compiled.defaults().to_vec();
        Ok(Model { compiled, params })
    }

    /// The law's value on every row: `columns[i]` is input `i`. A row where the law is not
    /// defined gives NaN.
    pub fn predict(&self, columns: &[Vec<f64>]) -> Result<Vec<f64>, EstimatorError> {
        let inputs = self.compiled.signature().inputs.len();
        if columns.len() != inputs {
            return Err(EstimatorError::Names {
                names: inputs,
                columns: columns.len(),
            });
        }
        let rows = columns.first().map_or(0, Vec::len);
        for (c, (name, _)) in columns.iter().zip(&self.compiled.signature().inputs) {
            check_column(name, c, rows)?;
        }
        let mut scratch: Scratch<f64> = self.compiled.scratch();
        let mut row_in = vec![Value::Scalar(0.0); inputs];
        let mut out = Vec::with_capacity(rows);
        for r in 0..rows {
            for (slot, c) in row_in.iter_mut().zip(columns) {
                *slot = Value::Scalar(c[r]);
            }
            let v = self
                .compiled
                .eval(&row_in, &self.params, &mut scratch)
                .map_err(|e| EstimatorError::Law(e.to_string()))?;
            out.push(v.as_scalar().unwrap_or(f64::NAN));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Vec<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_fit_predicts_through_its_law_text_as_the_search_evaluated_it() {
        let a: Vec<f64> = (0..60).map(|i| 1.0 + 0.05 * i as f64).collect();
        let b: Vec<f64> = (0..60).map(|i| 2.0 + (i as f64 * 0.37).sin()).collect();
        let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| 3.0 * a * b + 0.5).collect();
        let settings = Settings {
            max_fits: Some(3000),
            ..Settings::default()
        };
        let cols = vec![a, b];
        let f = fit(
            &cols,
            &y,
            &names(&["mass", "lambda"]),
            &names(&["mass", "lambda"]),
            &settings,
        )
        .unwrap();
        assert_eq!(f.law_names, names(&["mass", "lambda_"]));
        let best = &f.equations[f.best];
        assert!(best.loss < 1e-20, "{:?}", f.equations);
        assert!(
            best.sympy.contains("lambda") && best.sympy.contains("mass"),
            "{}",
            best.sympy
        );
        let model = Model::load(&best.law, &f.law_names).unwrap();
        let pred = model.predict(&cols).unwrap();
        for (p, t) in pred.iter().zip(&y) {
            assert!((p - t).abs() < 1e-9 * t.abs().max(1.0), "{p} vs {t}");
        }
        // Every law of the front loads back.
        for e in &f.equations {
            Model::load(&e.law, &f.law_names).unwrap();
        }
    }

    #[test]
    fn bad_arrays_and_settings_are_errors_not_panics() {
        let s = Settings::default();
        let x = vec![vec![1.0, 2.0, 3.0]];
        let n = names(&["x0"]);
        assert!(matches!(
            fit(&x, &[1.0, f64::NAN, 2.0], &n, &n, &s),
            Err(EstimatorError::NotFinite { ref what, row: 1, .. }) if what == "y"
        ));
        assert!(matches!(
            fit(&x, &[1.0, 2.0], &n, &n, &s),
            Err(EstimatorError::Rows { .. })
        ));
        assert!(matches!(
            fit(&[], &[], &[], &[], &s),
            Err(EstimatorError::NoFeatures)
        ));
        assert!(matches!(
            fit(&[vec![1.0]], &[1.0], &n, &n, &s),
            Err(EstimatorError::TooFewRows(1))
        ));
        assert!(matches!(
            fit(
                &x,
                &[1.0, 2.0, 3.0],
                &names(&["a", "b"]),
                &names(&["a", "b"]),
                &s
            ),
            Err(EstimatorError::Names { .. })
        ));
        let inf = vec![vec![1.0, f64::INFINITY, 3.0]];
        assert!(matches!(
            fit(&inf, &[1.0, 2.0, 3.0], &n, &n, &s),
            Err(EstimatorError::NotFinite { row: 1, .. })
        ));
        for bad in [
            Settings {
                time_limit: 0.0,
                ..s.clone()
            },
            Settings {
                time_limit: f64::NAN,
                ..s.clone()
            },
            Settings {
                max_fits: Some(0),
                ..s.clone()
            },
            Settings {
                population: 1,
                ..s.clone()
            },
            Settings {
                max_size: 0,
                ..s.clone()
            },
            Settings {
                islands: 0,
                ..s.clone()
            },
        ] {
            assert!(
                matches!(
                    fit(&x, &[1.0, 2.0, 3.0], &n, &n, &bad),
                    Err(EstimatorError::Setting(_))
                ),
                "{bad:?}"
            );
        }
        assert_eq!(operator("tan"), Err(EstimatorError::Operator("tan".into())));
        assert_eq!(operator("cos"), Ok(Un::Cos));
        assert_eq!(
            scaling("linear"),
            Err(EstimatorError::Scaling("linear".into()))
        );
        for name in SCALINGS {
            assert!(scaling(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_law_text_that_is_not_a_scalar_law_of_the_inputs_is_refused() {
        let inputs = names(&["x0", "x1"]);
        for bad in [
            "return x2",
            "return (",
            "param c0 = 1\nreturn F",
            "return vec3(x0, x1, x0)",
        ] {
            assert!(
                matches!(Model::load(bad, &inputs), Err(EstimatorError::Law(_))),
                "{bad}"
            );
        }
        let m = Model::load(
            "param c0 = 2.5\nreturn c0 * x0 ** 2 + sin(x1) + log(x0)",
            &inputs,
        )
        .unwrap();
        let p = m.predict(&[vec![2.0, -1.0], vec![0.0, 0.0]]).unwrap();
        assert_eq!(p[0], 2.5 * 4.0 + 2f64.ln());
        assert!(
            p[1].is_nan(),
            "log of a negative number is NaN, not an error"
        );
        assert!(matches!(
            m.predict(&[vec![1.0]]),
            Err(EstimatorError::Names { .. })
        ));
        assert!(matches!(
            m.predict(&[vec![1.0], vec![f64::NAN]]),
            Err(EstimatorError::NotFinite { .. })
        ));
    }
}
