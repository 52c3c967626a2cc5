//! Running GFN2-xTB (`xtb --opt --json`) and reading its outputs: `xtbout.json` (energies and
//! orbitals), `xtbopt.xyz` (relaxed geometry) and the stdout lines that flag failures.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ToolError;
use crate::process::{TempDir, run};

const TOOL: &str = "xtb";

/// Orbital energies and total energy of one closed-shell geometry (GFN2-xTB, raw).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Orbitals {
    /// Total energy (Hartree).
    pub energy_eh: f64,
    /// HOMO energy (eV).
    pub homo_ev: f64,
    /// LUMO energy (eV).
    pub lumo_ev: f64,
}

impl Orbitals {
    /// HOMO–LUMO gap (eV).
    pub fn gap_ev(&self) -> f64 {
        self.lumo_ev - self.homo_ev
    }
}

/// Reads `xtbout.json`: HOMO = ε[nel/2 − 1], LUMO = ε[nel/2]; refuses open shells.
pub fn parse_json(text: &str) -> Result<Orbitals, ToolError> {
    let bad = |m: String| ToolError::Protocol {
        tool: TOOL,
        message: m,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("xtbout.json: {e}")))?;
    let energy = v
        .get("total energy")
        .and_then(Value::as_f64)
        .ok_or_else(|| bad("xtbout.json has no total energy".into()))?;
    let nel = v
        .get("number of electrons")
        .and_then(Value::as_f64)
        .ok_or_else(|| bad("xtbout.json has no number of electrons".into()))?;
    let unpaired = v
        .get("number of unpaired electrons")
        .and_then(Value::as_f64)
        .unwrap_or(0.0);
    if unpaired != 0.0 || nel.fract() != 0.0 || (nel as i64) % 2 != 0 {
        return Err(ToolError::Failed {
            tool: TOOL,
            message: format!("open shell: {nel} electrons, {unpaired} unpaired"),
        });
    }
    let orbitals: Vec<f64> = v
        .get("orbital energies/eV")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("xtbout.json has no orbital energies".into()))?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let homo = (nel as usize) / 2;
    if homo == 0 || orbitals.len() <= homo {
        return Err(bad(format!(
            "{} orbitals for {nel} electrons",
            orbitals.len()
        )));
    }
    Ok(Orbitals {
        energy_eh: energy,
        homo_ev: orbitals[homo - 1],
        lumo_ev: orbitals[homo],
    })
}

/// Reads an XYZ file: element symbols and coordinates (Å).
pub fn parse_xyz(text: &str) -> Result<(Vec<String>, Vec<[f64; 3]>), ToolError> {
    let bad = |m: String| ToolError::Protocol {
        tool: TOOL,
        message: m,
    };
    let mut lines = text.lines();
    let n: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| bad("XYZ without an atom count".into()))?;
    lines.next();
    let mut symbols = Vec::with_capacity(n);
    let mut coords = Vec::with_capacity(n);
    for line in lines.take(n) {
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() < 4 {
            return Err(bad(format!("bad XYZ line {line:?}")));
        }
        let mut p = [0.0; 3];
        for k in 0..3 {
            p[k] = t[k + 1]
                .parse()
                .map_err(|_| bad(format!("bad XYZ line {line:?}")))?;
        }
        symbols.push(t[0].to_string());
        coords.push(p);
    }
    if coords.len() != n {
        return Err(bad(format!("XYZ has {} of {n} atoms", coords.len())));
    }
    Ok((symbols, coords))
}

/// Writes an XYZ text.
pub fn to_xyz(symbols: &[String], coords: &[[f64; 3]], comment: &str) -> String {
    let mut s = format!("{}\n{}\n", symbols.len(), comment.replace('\n', " "));
    for (sym, p) in symbols.iter().zip(coords) {
        s.push_str(&format!(
            "{sym:<2} {:>14.8} {:>14.8} {:>14.8}\n",
            p[0], p[1], p[2]
        ));
    }
    s
}

/// Checks xtb's stdout/stderr for the failures it reports: fatal errors (exit 1,
/// "abnormal termination") and optimisations that did not converge (exit 0).
pub fn check_log(code: Option<i32>, stdout: &str, stderr: &str) -> Result<(), ToolError> {
    let failed = |m: String| ToolError::Failed {
        tool: TOOL,
        message: m,
    };
    if code != Some(0) || stderr.contains("abnormal termination") {
        let reason = stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.contains("[ERROR]") || l.contains("-1-") || l.contains("very"))
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; ");
        return Err(failed(format!(
            "abnormal termination (exit code {code:?}){}",
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {reason}")
            }
        )));
    }
    if let Some(line) = stdout.lines().find(|l| l.contains("FAILED TO CONVERGE")) {
        return Err(failed(line.trim().trim_matches('*').trim().to_string()));
    }
    Ok(())
}

/// A relaxed geometry with its orbitals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relaxed {
    /// Orbitals and energy at the relaxed geometry.
    pub orbitals: Orbitals,
    /// All-atom coordinates after relaxation (Å).
    pub coords: Vec<[f64; 3]>,
    /// Wall seconds of the xtb run.
    pub seconds: f64,
}

/// `xtb start.xyz --opt LEVEL --json --norestart` in a fresh temp dir, killed after `limit`.
/// With `level = None` a single point (`--json` only) is run and the coordinates are returned as
/// given.
pub fn run_xtb(
    xtb: &Path,
    symbols: &[String],
    coords: &[[f64; 3]],
    level: Option<&str>,
    limit: Duration,
) -> Result<Relaxed, ToolError> {
    let io = |e: std::io::Error| ToolError::Io {
        tool: TOOL,
        message: e.to_string(),
    };
    let dir = TempDir::new("ansatz-xtb").map_err(io)?;
    std::fs::write(
        dir.path().join("start.xyz"),
        to_xyz(symbols, coords, "start"),
    )
    .map_err(io)?;
    let mut args = vec!["start.xyz", "--gfn", "2", "--json", "--norestart"];
    if let Some(l) = level {
        args.extend(["--opt", l]);
    }
    let out = run(TOOL, xtb, &args, dir.path(), None, limit)?;
    check_log(out.code, &out.stdout, &out.stderr)?;
    let json = std::fs::read_to_string(dir.path().join("xtbout.json")).map_err(io)?;
    let orbitals = parse_json(&json)?;
    let coords = match level {
        Some(_) => {
            let text = std::fs::read_to_string(dir.path().join("xtbopt.xyz")).map_err(io)?;
            let (syms, c) = parse_xyz(&text)?;
            if syms.len() != symbols.len() {
                return Err(ToolError::Protocol {
                    tool: TOOL,
                    message: "xtbopt.xyz has a different atom count".into(),
                });
            }
            c
        }
        None => coords.to_vec(),
    };
    Ok(Relaxed {
        orbitals,
        coords,
        seconds: out.seconds,
    })
}
