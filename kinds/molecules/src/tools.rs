//! Finding the external tools: a Python interpreter that can import RDKit, `xtb` and `obabel`.
//!
//! Order for each tool: the explicit setting in [`ToolPaths`] (only that one is tried), else the
//! environment variable (`ANSATZ_PYTHON`, `ANSATZ_XTB`, `ANSATZ_OBABEL`), else the default
//! candidates (`/usr/bin/python3` then `python3`; `xtb`; `obabel`). A tool that is not found is a
//! [`ToolError::Missing`] naming the `apt-get install` that provides it; nothing is substituted.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ToolError;
use crate::process::{TempDir, run};

/// Optional explicit paths of the tools (None: environment variable, then defaults).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolPaths {
    /// Python interpreter with RDKit.
    pub python: Option<PathBuf>,
    /// The `xtb` binary.
    pub xtb: Option<PathBuf>,
    /// The `obabel` binary.
    pub obabel: Option<PathBuf>,
}

/// The tools found on this machine, checked to work.
#[derive(Debug, Clone, PartialEq)]
pub struct Tools {
    /// Python interpreter that imports RDKit.
    pub python: PathBuf,
    /// The `xtb` binary.
    pub xtb: PathBuf,
    /// The `obabel` binary.
    pub obabel: PathBuf,
}

struct Spec {
    tool: &'static str,
    env: &'static str,
    defaults: &'static [&'static str],
    check: &'static [&'static str],
    install: &'static str,
}

const PYTHON: Spec = Spec {
    tool: "python3 with RDKit",
    env: "ANSATZ_PYTHON",
    defaults: &["/usr/bin/python3", "python3"],
    check: &["-c", "import rdkit.Chem.AllChem"],
    install: "apt-get install python3-rdkit",
};
const XTB: Spec = Spec {
    tool: "xtb",
    env: "ANSATZ_XTB",
    defaults: &["xtb"],
    check: &["--version"],
    install: "apt-get install xtb",
};
const OBABEL: Spec = Spec {
    tool: "obabel",
    env: "ANSATZ_OBABEL",
    defaults: &["obabel"],
    check: &["-V"],
    install: "apt-get install openbabel",
};

fn works(spec: &Spec, program: &Path) -> bool {
    let Ok(dir) = TempDir::new("ansatz-toolcheck") else {
        return false;
    };
    matches!(
        run(spec.tool, program, spec.check, dir.path(), None, Duration::from_secs(60)),
        Ok(out) if out.success()
    )
}

fn find(spec: &Spec, setting: Option<&Path>) -> Result<PathBuf, ToolError> {
    let candidates: Vec<PathBuf> = match setting {
        Some(p) => vec![p.to_path_buf()],
        None => match std::env::var_os(spec.env) {
            Some(v) if !v.is_empty() => vec![PathBuf::from(v)],
            _ => spec.defaults.iter().map(PathBuf::from).collect(),
        },
    };
    for c in &candidates {
        if works(spec, c) {
            return Ok(c.clone());
        }
    }
    Err(ToolError::Missing {
        tool: spec.tool,
        tried: candidates
            .iter()
            .map(|c| c.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        install: spec.install,
    })
}

impl Tools {
    /// Finds all three tools (settings, then environment, then defaults), checking each runs.
    pub fn discover(paths: &ToolPaths) -> Result<Self, ToolError> {
        Ok(Self {
            python: find_python(paths.python.as_deref())?,
            xtb: find(&XTB, paths.xtb.as_deref())?,
            obabel: find(&OBABEL, paths.obabel.as_deref())?,
        })
    }

    /// [`Tools::discover`] with no explicit settings.
    pub fn from_env() -> Result<Self, ToolError> {
        Self::discover(&ToolPaths::default())
    }
}

/// Finds a Python interpreter that imports RDKit (setting, `ANSATZ_PYTHON`, `/usr/bin/python3`,
/// `python3`).
pub fn find_python(setting: Option<&Path>) -> Result<PathBuf, ToolError> {
    find(&PYTHON, setting)
}
