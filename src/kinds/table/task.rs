//! A table task file: what `ansatz search` needs to search laws on a table, and what
//! `ansatz regress --proposer llm|human|replay` writes into its run directory (`task.toml`)
//! so that the run can be resumed by `ansatz search --resume`. Paths are relative to the
//! file.
//!
//! ```toml
//! kind = "table"
//! data = "growth.csv"       # CSV or TSV with a header row
//! target = "y"              # the target column (default: `target`, else the last column)
//! # test = "growth-test.csv"  # a separate test file (default: hold out test_fraction)
//! test_fraction = 0.25
//! seed = 0                  # seed of the split
//! ```

use super::TableProblem;
use crate::law::record::FitSettings;
use crate::regress::data::Table;
use crate::regress::run::{RegressConfig, RegressError, load_split};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A table task file as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableTask {
    /// Always `table`.
    pub kind: crate::kinds::Kind,
    /// The data file.
    pub data: PathBuf,
    /// The target column or 3x3 group prefix.
    #[serde(default)]
    pub target: Option<String>,
    /// A separate test file.
    #[serde(default)]
    pub test: Option<PathBuf>,
    /// Share of rows held out for testing when there is no test file.
    #[serde(default = "default_fraction")]
    pub test_fraction: f64,
    /// Seed of the split.
    #[serde(default)]
    pub seed: u64,
    /// Most evaluations of one law's least-squares fit (default 100).
    #[serde(default)]
    pub fit_evaluations: Option<usize>,
    /// How a search runs it on a Slurm cluster (read by `search --executor slurm`, see
    /// [`crate::executor::slurm_settings_of_task`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slurm: Option<toml::Table>,
    /// Share of the training rows held out of the fit, whose error the default feedback
    /// reports (0: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub validation_fraction: f64,
    /// What the data is (shown in the prompt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Units of columns by column name (shown in the prompt; a unit in the header, as in
    /// `x [m]`, is overridden).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub units: std::collections::BTreeMap<String, String>,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn default_fraction() -> f64 {
    0.25
}

/// A table task, loaded: the problem on the training rows and on the test rows.
pub struct LoadedTable {
    /// The search problem (training rows).
    pub train: TableProblem,
    /// The same problem on the test rows (to score the best law).
    pub test: TableProblem,
    /// Rows of the training and test tables.
    pub rows: (usize, usize),
    /// The target's name.
    pub target: String,
}

/// Why a table task cannot be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TableTaskError {
    /// The task file.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The data.
    #[error(transparent)]
    Data(#[from] RegressError),
    /// Not exactly one target.
    #[error("a table search has one target; {0} has {1}: name one with `target`")]
    Targets(String, usize),
    /// The problem could not be built.
    #[error("{0}")]
    Problem(String),
}

impl TableTask {
    /// Reads a task file; relative paths are resolved against its folder.
    pub fn read(path: &Path) -> Result<TableTask, TableTaskError> {
        let file_err = |message: String| TableTaskError::File {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_err(e.to_string()))?;
        let mut task: TableTask = toml::from_str(&text).map_err(|e| file_err(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        task.data = base.join(&task.data);
        task.test = task.test.map(|t| base.join(t));
        Ok(task)
    }

    /// The fit settings of a law on this table.
    pub fn fit_settings(&self) -> FitSettings {
        FitSettings {
            max_evaluations: self.fit_evaluations.unwrap_or(100),
            ..FitSettings::default()
        }
    }

    /// Loads the data, splits it and builds the problem.
    pub fn load(&self) -> Result<LoadedTable, TableTaskError> {
        let cfg = RegressConfig {
            data: self.data.clone(),
            tests: self.test.iter().cloned().collect(),
            targets: self.target.iter().cloned().collect(),
            test_fraction: self.test_fraction,
            seed: self.seed,
            time_limit: f64::INFINITY,
            max_fits: None,
            threads: 1,
            scaling: crate::regress::gp::Scaling::Terms,
            islands: crate::regress::gp::GpConfig::default().islands,
            out: PathBuf::new(),
        };
        let (mut train, mut test, roles) = load_split(&cfg)?;
        for (column, unit) in &self.units {
            for t in [&mut train, &mut test] {
                let Some(i) = t.names.iter().position(|n| n == column) else {
                    return Err(TableTaskError::Problem(format!(
                        "a unit is given for the column {column:?}, which the data does not \
                         have (columns: {})",
                        t.names.join(", ")
                    )));
                };
                if t.units.len() < t.names.len() {
                    t.units.resize(t.names.len(), None);
                }
                t.units[i] = Some(unit.clone());
            }
        }
        let [target] = roles.targets.as_slice() else {
            return Err(TableTaskError::Targets(
                self.data.display().to_string(),
                roles.targets.len(),
            ));
        };
        let name = format!(
            "{}: {}",
            self.data
                .file_stem()
                .map_or("table".into(), |s| s.to_string_lossy()),
            target.name()
        );
        if !(0.0..0.9).contains(&self.validation_fraction) {
            return Err(TableTaskError::Problem(format!(
                "validation_fraction must be in [0, 0.9), got {}",
                self.validation_fraction
            )));
        }
        let (train, validation) = if self.validation_fraction > 0.0 {
            let (fit, held) = train.split(self.validation_fraction, self.seed ^ 0x5eed);
            (fit, Some(held))
        } else {
            (train, None)
        };
        let description = self.description.clone().unwrap_or_default();
        let problem = |t: &Table| {
            TableProblem::new(&name, t, &roles.inputs, target)
                .map(|p| p.with_description(&description))
                .map_err(TableTaskError::Problem)
        };
        let fit_problem = match &validation {
            Some(v) if v.rows() > 0 => problem(&train)?.with_held_out(problem(v)?),
            _ => problem(&train)?,
        }
        .with_test_rows(test.rows());
        Ok(LoadedTable {
            train: fit_problem,
            test: problem(&test)?,
            rows: (train.rows(), test.rows()),
            target: target.name().to_string(),
        })
    }
}
