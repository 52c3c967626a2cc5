//! Geometry helpers: bonds from distances (to check relaxation kept the molecule), the Open Babel
//! fallback embedder, and MOL/SDF text.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use crate::error::ToolError;
use crate::helper::Embedding;
use crate::process::{TempDir, run};
use crate::screen::distance;

/// Covalent radius (Å) of the elements of the QM9 domain (others: 0.8).
pub fn covalent_radius(symbol: &str) -> f64 {
    match symbol {
        "H" => 0.31,
        "C" => 0.76,
        "N" => 0.71,
        "O" => 0.66,
        "F" => 0.57,
        "S" => 1.05,
        "Cl" => 1.02,
        _ => 0.8,
    }
}

/// Atoms closer than this factor times the sum of covalent radii count as bonded.
pub const BOND_FACTOR: f64 = 1.25;

/// Pairs `(i, j)`, `i < j`, bonded by the distance criterion.
pub fn distance_bonds(symbols: &[String], coords: &[[f64; 3]]) -> BTreeSet<(usize, usize)> {
    let mut out = BTreeSet::new();
    for i in 0..coords.len() {
        for j in i + 1..coords.len() {
            let limit = BOND_FACTOR * (covalent_radius(&symbols[i]) + covalent_radius(&symbols[j]));
            if distance(&coords[i], &coords[j]) < limit {
                out.insert((i, j));
            }
        }
    }
    out
}

/// The expected bonds as ordered pairs.
pub fn bond_pairs(bonds: &[(usize, usize, u8)]) -> BTreeSet<(usize, usize)> {
    bonds
        .iter()
        .map(|&(i, j, _)| (i.min(j), i.max(j)))
        .collect()
}

/// Describes how a geometry's bonds differ from the expected ones (None if they agree).
pub fn connectivity_change(
    symbols: &[String],
    coords: &[[f64; 3]],
    expected: &BTreeSet<(usize, usize)>,
) -> Option<String> {
    let found = distance_bonds(symbols, coords);
    if &found == expected {
        return None;
    }
    // Short contacts between atoms with a common neighbour (1,3 pairs in small, strained rings
    // and cages) are geometry, not new bonds.
    let bonded = |a: usize, b: usize| expected.contains(&(a.min(b), a.max(b)));
    let one_three =
        |&(i, j): &(usize, usize)| (0..symbols.len()).any(|k| bonded(i, k) && bonded(k, j));
    let name = |(i, j): &(usize, usize)| format!("{}{}-{}{}", symbols[*i], i, symbols[*j], j);
    let broken: Vec<String> = expected.difference(&found).map(name).collect();
    let formed: Vec<String> = found
        .difference(expected)
        .filter(|p| !one_three(p))
        .map(name)
        .collect();
    if broken.is_empty() && formed.is_empty() {
        return None;
    }
    Some(format!(
        "bonds broken: [{}]; bonds formed: [{}]",
        broken.join(", "),
        formed.join(", ")
    ))
}

/// Parses the first record of a V2000 MOL/SDF text into an [`Embedding`] with one conformer.
pub fn parse_molblock(text: &str) -> Result<Embedding, ToolError> {
    let bad = |m: &str| ToolError::Protocol {
        tool: "obabel",
        message: m.to_string(),
    };
    let lines: Vec<&str> = text.lines().collect();
    let counts = lines.get(3).ok_or_else(|| bad("MOL block too short"))?;
    let field = |s: &str, a: usize, b: usize| -> Option<usize> { s.get(a..b)?.trim().parse().ok() };
    let natoms = field(counts, 0, 3).ok_or_else(|| bad("bad counts line"))?;
    let nbonds = field(counts, 3, 6).ok_or_else(|| bad("bad counts line"))?;
    let mut symbols = Vec::with_capacity(natoms);
    let mut coords = Vec::with_capacity(natoms);
    for k in 0..natoms {
        let l = lines.get(4 + k).ok_or_else(|| bad("missing atom line"))?;
        let t: Vec<&str> = l.split_whitespace().collect();
        if t.len() < 4 {
            return Err(bad("bad atom line"));
        }
        let mut p = [0.0; 3];
        for d in 0..3 {
            p[d] = t[d].parse().map_err(|_| bad("bad atom coordinate"))?;
        }
        coords.push(p);
        symbols.push(t[3].to_string());
    }
    let mut bonds = Vec::with_capacity(nbonds);
    for k in 0..nbonds {
        let l = lines
            .get(4 + natoms + k)
            .ok_or_else(|| bad("missing bond line"))?;
        let i = field(l, 0, 3).ok_or_else(|| bad("bad bond line"))?;
        let j = field(l, 3, 6).ok_or_else(|| bad("bad bond line"))?;
        let order = field(l, 6, 9).ok_or_else(|| bad("bad bond line"))?;
        if i == 0 || j == 0 || i > natoms || j > natoms {
            return Err(bad("bond to a missing atom"));
        }
        bonds.push((i - 1, j - 1, order.min(3) as u8));
    }
    Ok(Embedding {
        symbols,
        bonds,
        conformers: vec![coords],
    })
}

/// Open Babel's `--gen3d` embedding (the fallback when RDKit's ETKDG fails; not deterministic).
pub fn obabel_embed(obabel: &Path, smiles: &str, limit: Duration) -> Result<Embedding, ToolError> {
    let dir = TempDir::new("ansatz-obabel").map_err(|e| ToolError::Io {
        tool: "obabel",
        message: e.to_string(),
    })?;
    let input = format!("-:{smiles}");
    let out = run(
        "obabel",
        obabel,
        &[&input, "--gen3d", "-osdf"],
        dir.path(),
        None,
        limit,
    )?;
    if !out.success() || !out.stdout.contains("M  END") {
        return Err(ToolError::Failed {
            tool: "obabel",
            message: out.stderr.lines().take(3).collect::<Vec<_>>().join("; "),
        });
    }
    parse_molblock(&out.stdout)
}

/// One SDF record: V2000 MOL block with `title`, then `> <key>` data items, then `$$$$`.
pub fn sdf_record(
    title: &str,
    symbols: &[String],
    coords: &[[f64; 3]],
    bonds: &[(usize, usize, u8)],
    data: &[(String, String)],
) -> String {
    let mut s = format!(
        "{}\n  ansatz-molecules 3D\n\n{:>3}{:>3}  0  0  0  0  0  0  0  0999 V2000\n",
        title.replace('\n', " "),
        symbols.len(),
        bonds.len()
    );
    for (sym, p) in symbols.iter().zip(coords) {
        s.push_str(&format!(
            "{:>10.4}{:>10.4}{:>10.4} {:<3} 0  0  0  0  0  0  0  0  0  0  0  0\n",
            p[0], p[1], p[2], sym
        ));
    }
    for &(i, j, o) in bonds {
        s.push_str(&format!("{:>3}{:>3}{:>3}  0\n", i + 1, j + 1, o));
    }
    s.push_str("M  END\n");
    for (k, v) in data {
        s.push_str(&format!("> <{k}>\n{v}\n\n"));
    }
    s.push_str("$$$$\n");
    s
}

/// InChIKey of a SMILES by Open Babel.
pub fn inchikey(obabel: &Path, smiles: &str, limit: Duration) -> Result<String, ToolError> {
    let dir = TempDir::new("ansatz-inchikey").map_err(|e| ToolError::Io {
        tool: "obabel",
        message: e.to_string(),
    })?;
    let input = format!("-:{smiles}");
    let out = run(
        "obabel",
        obabel,
        &[&input, "-oinchikey"],
        dir.path(),
        None,
        limit,
    )?;
    let key = out
        .stdout
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_string();
    if !out.success() || key.len() != 27 {
        return Err(ToolError::Failed {
            tool: "obabel",
            message: format!("no InChIKey for {smiles}"),
        });
    }
    Ok(key)
}
