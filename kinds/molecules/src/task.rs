//! Task specifications (`tasks/*.toml`): the property, its target, the calibration from GFN2-xTB
//! to the B3LYP scale, the QM9 normalisation, the screening rules and the default budget.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::TaskError;

/// 1 Hartree in eV (CODATA 2018).
pub const HARTREE_EV: f64 = 27.211386245988;

/// The orbital property a task optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Property {
    /// Highest occupied molecular orbital energy.
    Homo,
    /// Lowest unoccupied molecular orbital energy.
    Lumo,
    /// HOMO–LUMO gap.
    Gap,
}

impl Property {
    /// Lower-case name ("homo", "lumo", "gap").
    pub fn name(self) -> &'static str {
        match self {
            Property::Homo => "homo",
            Property::Lumo => "lumo",
            Property::Gap => "gap",
        }
    }
}

/// Normalisation statistics (Uni-Mol `qm9dft`, B3LYP/6-31G(2df,p)), in Hartree as published.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// Mean of the property over QM9 (Ha).
    pub mean_ha: f64,
    /// Standard deviation over QM9 (Ha).
    pub std_ha: f64,
}

impl Normalisation {
    /// z = (value − mean) / std for a value in eV.
    pub fn z(&self, value_ev: f64) -> f64 {
        (value_ev / HARTREE_EV - self.mean_ha) / self.std_ha
    }

    /// The value in eV whose normalised value is `z`.
    pub fn value_ev(&self, z: f64) -> f64 {
        (self.mean_ha + z * self.std_ha) * HARTREE_EV
    }
}

/// A versioned linear map from a GFN2-xTB value to the B3LYP scale: `slope · raw + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Name and version of the fit (recorded with every result).
    pub version: String,
    /// Slope (dimensionless).
    pub slope: f64,
    /// Intercept (eV).
    pub intercept_ev: f64,
}

impl Calibration {
    /// The calibrated value (eV) of a raw GFN2 value (eV).
    pub fn apply(&self, raw_ev: f64) -> f64 {
        self.slope * raw_ev + self.intercept_ev
    }
}

/// What a molecule must satisfy to be evaluated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// Allowed heavy elements (QM9: C, N, O, F).
    pub elements: Vec<String>,
    /// Minimum heavy atoms.
    pub min_heavy_atoms: usize,
    /// Maximum heavy atoms.
    pub max_heavy_atoms: usize,
    /// Whether atoms may carry formal charges when the net charge is zero (e.g. nitro groups).
    #[serde(default = "yes")]
    pub allow_charged_atoms: bool,
}

fn yes() -> bool {
    true
}

/// How much work one evaluation may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// ETKDG conformers to start from (besides the proposer's coordinates).
    pub conformers: usize,
    /// Seed of the conformer embedding.
    #[serde(default)]
    pub seed: u64,
    /// Minima within this window (kcal/mol) of the lowest count as thermally accessible.
    pub energy_window_kcal: f64,
    /// xtb optimisation level (crude, sloppy, loose, normal, tight, vtight).
    pub opt_level: String,
    /// Time limit of one xtb or helper run (s).
    pub tool_timeout_s: f64,
}

impl Budget {
    /// The per-run time limit as a duration.
    pub fn tool_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.tool_timeout_s.max(0.001))
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            conformers: 4,
            seed: 0,
            energy_window_kcal: 3.0,
            opt_level: "normal".into(),
            tool_timeout_s: 60.0,
        }
    }
}

/// A molecule-design task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    /// Task name (file stem).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The property optimised.
    pub property: Property,
    /// Target of the normalised property.
    pub target: f64,
    /// QM9 statistics of the property.
    pub normalisation: Normalisation,
    /// GFN2 → B3LYP calibration of the property.
    pub calibration: Calibration,
    /// Screening rules.
    pub rules: Rules,
    /// Default budget.
    #[serde(default)]
    pub budget: Budget,
}

const BUILTIN: [(&str, &str); 4] = [
    ("homo", include_str!("../tasks/molecule_homo.toml")),
    ("lumo", include_str!("../tasks/molecule_lumo.toml")),
    ("gap", include_str!("../tasks/molecule_gap.toml")),
    (
        "gap_minus2",
        include_str!("../tasks/molecule_gap_minus2.toml"),
    ),
];

impl Task {
    /// Parses and checks a task from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Self, TaskError> {
        let task: Task = toml::from_str(text).map_err(|e| TaskError::Toml(e.to_string()))?;
        task.check()?;
        Ok(task)
    }

    /// Reads a task file.
    pub fn load(path: &Path) -> Result<Self, TaskError> {
        let text = std::fs::read_to_string(path).map_err(|e| TaskError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text)
    }

    /// A task shipped with the crate: "homo", "lumo", "gap" or "gap_minus2" (SGA tasks e–h);
    /// the `molecule_` prefix is accepted too.
    pub fn builtin(name: &str) -> Result<Self, TaskError> {
        let short = name.strip_prefix("molecule_").unwrap_or(name);
        let text = BUILTIN
            .iter()
            .find(|(n, _)| *n == short)
            .map(|(_, t)| *t)
            .ok_or_else(|| TaskError::Unknown(name.to_string()))?;
        Self::from_toml_str(text)
    }

    /// Names of the built-in tasks.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    fn check(&self) -> Result<(), TaskError> {
        let bad = |m: &str| Err(TaskError::Invalid(m.to_string()));
        if self.normalisation.std_ha.is_nan() || self.normalisation.std_ha <= 0.0 {
            return bad("normalisation.std_ha must be positive");
        }
        if !self.target.is_finite() || !self.calibration.slope.is_finite() {
            return bad("target and calibration must be finite");
        }
        if self.rules.min_heavy_atoms > self.rules.max_heavy_atoms {
            return bad("rules.min_heavy_atoms exceeds rules.max_heavy_atoms");
        }
        if self.rules.elements.is_empty() {
            return bad("rules.elements is empty");
        }
        const LEVELS: [&str; 6] = ["crude", "sloppy", "loose", "normal", "tight", "vtight"];
        if !LEVELS.contains(&self.budget.opt_level.as_str()) {
            return bad(
                "budget.opt_level must be one of crude, sloppy, loose, normal, tight, vtight",
            );
        }
        Ok(())
    }

    /// The target as an absolute calibrated value (eV, B3LYP scale).
    pub fn target_ev(&self) -> f64 {
        self.normalisation.value_ev(self.target)
    }

    /// Calibrated value, z and loss `|z − target|` of a raw GFN2 value (eV).
    pub fn score(&self, raw_ev: f64) -> (f64, f64, f64) {
        let cal = self.calibration.apply(raw_ev);
        let z = self.normalisation.z(cal);
        (cal, z, (z - self.target).abs())
    }
}
