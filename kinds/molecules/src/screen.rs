//! Screening a reply before any quantum chemistry: extract the block, check the syntax, sanitise
//! with RDKit, and apply the task's rules (elements, size, charge, closed shell, one fragment,
//! coordinates).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::block::{Block, extract, syntax_problem};
use crate::error::Rejection;
use crate::helper::{Inspection, inspect};
use crate::task::Rules;

/// A screened molecule: what the evaluation needs and what identifies it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Molecule {
    /// The SMILES as the proposer wrote it.
    pub smiles: String,
    /// RDKit's canonical SMILES (the deduplication key).
    pub canonical: String,
    /// Molecular formula (Hill order).
    pub formula: String,
    /// Heavy-atom element symbols in the order of `smiles`.
    pub heavy_symbols: Vec<String>,
    /// Heavy-atom coordinates (Å) in the order of `smiles`, if the proposer gave them.
    pub coordinates: Option<Vec<[f64; 3]>>,
}

impl Molecule {
    /// Number of heavy atoms.
    pub fn heavy_atoms(&self) -> usize {
        self.heavy_symbols.len()
    }

    /// The key under which duplicates are recognised (the canonical SMILES).
    pub fn dedup_key(&self) -> &str {
        &self.canonical
    }

    /// The molecule written as the block the prompt asks for.
    pub fn to_block(&self) -> String {
        let mut s = format!("```molecule\nSMILES: {}\n", self.smiles);
        if let Some(c) = &self.coordinates {
            s.push_str("coordinates:\n");
            for (sym, p) in self.heavy_symbols.iter().zip(c) {
                s.push_str(&format!("{sym} {:.4} {:.4} {:.4}\n", p[0], p[1], p[2]));
            }
        }
        s.push_str("```\n");
        s
    }
}

/// Screens one reply (one helper run); see [`screen_many`].
pub fn screen(reply: &str, rules: &Rules, python: &Path) -> Result<Molecule, Rejection> {
    screen_many(&[reply], rules, python)
        .pop()
        .unwrap_or_else(|| Err(Rejection::Tool("no screening result".into())))
}

/// Screens many replies with a single run of the RDKit helper; one result per reply, in order.
pub fn screen_many(
    replies: &[&str],
    rules: &Rules,
    python: &Path,
) -> Vec<Result<Molecule, Rejection>> {
    let pre: Vec<Result<Block, Rejection>> = replies.iter().map(|r| precheck(r)).collect();
    let to_inspect: Vec<&str> = pre
        .iter()
        .filter_map(|b| b.as_ref().ok().map(|b| b.smiles.as_str()))
        .collect();
    let inspections = if to_inspect.is_empty() {
        Ok(Vec::new())
    } else {
        inspect(python, &to_inspect)
    };
    let mut inspections = match inspections {
        Ok(v) => v.into_iter(),
        Err(e) => {
            let msg = e.to_string();
            return pre
                .into_iter()
                .map(|b| b.and_then(|_| Err(Rejection::Tool(msg.clone()))))
                .collect();
        }
    };
    pre.into_iter()
        .map(|b| {
            let block = b?;
            let found = inspections
                .next()
                .ok_or_else(|| Rejection::Tool("missing inspection".into()))?;
            judge(block, found, rules)
        })
        .collect()
}

fn precheck(reply: &str) -> Result<Block, Rejection> {
    let block = extract(reply)?;
    if let Some((position, message)) = syntax_problem(&block.smiles) {
        return Err(Rejection::Syntax {
            smiles: block.smiles,
            position: Some(position),
            message,
        });
    }
    Ok(block)
}

fn judge(block: Block, found: Inspection, rules: &Rules) -> Result<Molecule, Rejection> {
    if !found.ok {
        return Err(match found.stage.as_str() {
            "parse" => Rejection::Syntax {
                smiles: block.smiles,
                position: None,
                message: found.message,
            },
            _ => Rejection::Valence {
                smiles: block.smiles,
                message: found.message,
            },
        });
    }
    if found.fragments > 1 {
        return Err(Rejection::Fragments(found.fragments));
    }
    let mut bad: Vec<String> = found
        .heavy_symbols
        .iter()
        .filter(|s| !rules.elements.contains(s))
        .cloned()
        .collect();
    bad.sort();
    bad.dedup();
    if !bad.is_empty() {
        return Err(Rejection::Element {
            found: bad,
            allowed: rules.elements.clone(),
        });
    }
    let n = found.heavy_symbols.len();
    if n < rules.min_heavy_atoms {
        return Err(Rejection::TooSmall {
            count: n,
            min: rules.min_heavy_atoms,
        });
    }
    if n > rules.max_heavy_atoms {
        return Err(Rejection::TooLarge {
            count: n,
            max: rules.max_heavy_atoms,
        });
    }
    if found.charge != 0 {
        return Err(Rejection::Charged(format!("net charge {:+}", found.charge)));
    }
    if found.charged_atoms > 0 && !rules.allow_charged_atoms {
        return Err(Rejection::Charged(format!(
            "{} atoms carry a formal charge",
            found.charged_atoms
        )));
    }
    if found.radical_electrons > 0 || found.electrons % 2 != 0 {
        return Err(Rejection::Radical(format!(
            "{} electrons, {} unpaired on radical centres (check hydrogen counts in brackets)",
            found.electrons, found.radical_electrons
        )));
    }
    let coordinates = match block.coordinates {
        None => None,
        Some(c) => Some(check_coordinates(&c, &found.heavy_symbols)?),
    };
    Ok(Molecule {
        smiles: block.smiles,
        canonical: found.canonical,
        formula: found.formula,
        heavy_symbols: found.heavy_symbols,
        coordinates,
    })
}

/// Closest distance (Å) two given atoms may have.
const MIN_DISTANCE: f64 = 0.7;
/// Largest distance (Å) from an atom to its nearest neighbour.
const MAX_NEAREST: f64 = 2.5;

fn check_coordinates(
    given: &[(Option<String>, [f64; 3])],
    symbols: &[String],
) -> Result<Vec<[f64; 3]>, Rejection> {
    if given.len() != symbols.len() {
        return Err(Rejection::Coordinates(format!(
            "{} coordinate rows for {} heavy atoms; give one `Element x y z` row per heavy atom, in SMILES order",
            given.len(),
            symbols.len()
        )));
    }
    for (i, ((el, p), sym)) in given.iter().zip(symbols).enumerate() {
        if let Some(el) = el
            && !el.eq_ignore_ascii_case(sym)
        {
            return Err(Rejection::Coordinates(format!(
                "row {} is {el} but heavy atom {i} of the SMILES is {sym}",
                i + 1
            )));
        }
        if p.iter().any(|v| v.abs() > 1000.0) {
            return Err(Rejection::Coordinates(format!(
                "row {} is more than 1000 Å from the origin",
                i + 1
            )));
        }
    }
    let pts: Vec<[f64; 3]> = given.iter().map(|(_, p)| *p).collect();
    for i in 0..pts.len() {
        let mut nearest = f64::INFINITY;
        for j in 0..pts.len() {
            if i == j {
                continue;
            }
            let d = distance(&pts[i], &pts[j]);
            if d < MIN_DISTANCE {
                return Err(Rejection::Coordinates(format!(
                    "atoms {i} and {j} overlap ({d:.2} Å apart, at least {MIN_DISTANCE} Å needed)"
                )));
            }
            nearest = nearest.min(d);
        }
        if pts.len() > 1 && nearest > MAX_NEAREST {
            return Err(Rejection::Coordinates(format!(
                "atom {i} is {nearest:.2} Å from its nearest neighbour (at most {MAX_NEAREST} Å for a bonded heavy atom)"
            )));
        }
    }
    Ok(pts)
}

/// Euclidean distance of two points.
pub fn distance(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}
