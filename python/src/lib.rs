//! `ansatz._core`: the Rust half of the Python package `ansatz` (the estimator
//! `ansatz.Regressor` is written in Python over these two functions).
//!
//! [`fit`] runs the tabular search of `ansatz regress` on columns passed from Python
//! (`ansatz::regress::estimator::fit`) and returns the Pareto front as dictionaries;
//! [`predict`] evaluates a law text on columns. Both release the GIL while they compute.
//! Nothing Python passes can panic through: bad arrays or settings are `ValueError`, and a
//! panic inside the engine is caught and raised as `RuntimeError`.

use ansatz::regress::estimator::{self, EstimatorError, Fit, Model, Settings};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f` with the GIL released; its error becomes `ValueError`, a panic `RuntimeError`.
fn guarded<T: Send>(
    py: Python<'_>,
    what: &str,
    f: impl FnOnce() -> Result<T, EstimatorError> + Send,
) -> PyResult<T> {
    match py.detach(|| catch_unwind(AssertUnwindSafe(f))) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(PyValueError::new_err(e.to_string())),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            Err(PyRuntimeError::new_err(format!(
                "internal error in ansatz {what} (please report it): {msg}"
            )))
        }
    }
}

fn front<'py>(py: Python<'py>, fit: &Fit) -> PyResult<Bound<'py, PyDict>> {
    let equations = PyList::empty(py);
    for e in &fit.equations {
        let d = PyDict::new(py);
        d.set_item("complexity", e.complexity)?;
        d.set_item("loss", e.loss)?;
        d.set_item("equation", &e.sympy)?;
        d.set_item("law", &e.law)?;
        d.set_item("latex", &e.latex)?;
        let params = PyDict::new(py);
        for (name, value) in &e.params {
            params.set_item(name, value)?;
        }
        d.set_item("params", params)?;
        equations.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("equations", equations)?;
    out.set_item("best", fit.best)?;
    out.set_item("law_names", &fit.law_names)?;
    out.set_item("fits", fit.fits)?;
    out.set_item("evaluations", fit.evaluations)?;
    out.set_item("generations", fit.generations)?;
    out.set_item("seconds", fit.seconds)?;
    out.set_item("stopped", &fit.stopped)?;
    Ok(out)
}

/// Searches for `y = f(columns)`; returns a dict with `equations` (the Pareto front: dicts
/// of `complexity`, `loss`, `equation` (SymPy text over `symbols`), `law` (over the
/// law-language forms of `names`), `latex`,
/// `params`), `best` (index of the chosen law), `law_names`, `fits`, `evaluations`,
/// `generations`, `seconds`, `stopped`.
#[pyfunction]
#[pyo3(signature = (columns, y, names, symbols, *, time_limit, seed, max_fits, threads, population, max_size, operators, scaling=String::from("terms"), islands=8))]
#[allow(clippy::too_many_arguments)]
fn fit<'py>(
    py: Python<'py>,
    columns: Vec<Vec<f64>>,
    y: Vec<f64>,
    names: Vec<String>,
    symbols: Vec<String>,
    time_limit: f64,
    seed: u64,
    max_fits: Option<usize>,
    threads: usize,
    population: usize,
    max_size: usize,
    operators: Vec<String>,
    scaling: String,
    islands: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let result = guarded(py, "fit", || {
        let operators = operators
            .iter()
            .map(|o| estimator::operator(o))
            .collect::<Result<Vec<_>, _>>()?;
        let settings = Settings {
            time_limit,
            seed,
            max_fits,
            threads,
            population,
            max_size,
            operators,
            scaling: estimator::scaling(&scaling)?,
            islands,
        };
        estimator::fit(&columns, &y, &names, &symbols, &settings)
    })?;
    front(py, &result)
}

/// The values of the law program `law` (over the inputs `law_names`, in column order) on
/// every row of `columns`.
#[pyfunction]
fn predict(
    py: Python<'_>,
    law: String,
    law_names: Vec<String>,
    columns: Vec<Vec<f64>>,
) -> PyResult<Vec<f64>> {
    guarded(py, "predict", || {
        Model::load(&law, &law_names)?.predict(&columns)
    })
}

/// The law-language identifiers `ansatz` gives to the feature names `names`.
#[pyfunction]
fn law_names(names: Vec<String>) -> Vec<String> {
    estimator::law_names(&names)
}

/// The module `ansatz._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(law_names, m)?)?;
    m.add("OPERATORS", estimator::OPERATORS.to_vec())?;
    m.add("SCALINGS", estimator::SCALINGS.to_vec())?;
    Ok(())
}
