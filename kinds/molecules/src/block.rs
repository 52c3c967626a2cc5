//! Reading the molecule block out of a reply, and a quick SMILES syntax check that points at the
//! offending character (RDKit 2022.09 does not give positions).
//!
//! The block the prompt asks for:
//!
//! ````text
//! ```molecule
//! SMILES: Cc1ccccc1O
//! coordinates:
//! C   1.512  0.012 -0.003
//! ...
//! ```
//! ````
//! The coordinates (Å, heavy atoms in SMILES order, element symbol optional) may be omitted.

use crate::error::Rejection;

/// Longest SMILES accepted before any parsing (characters).
pub const MAX_SMILES_CHARS: usize = 400;

/// The content of a molecule block.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The SMILES as written.
    pub smiles: String,
    /// Heavy-atom coordinates with optional element symbols, if given.
    pub coordinates: Option<Vec<(Option<String>, [f64; 3])>>,
}

fn fenced_blocks(reply: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = reply.lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if let Some(info) = t.strip_prefix("```") {
            let info = info.trim().to_ascii_lowercase();
            let mut body = String::new();
            for l in lines.by_ref() {
                if l.trim_start().starts_with("```") {
                    break;
                }
                body.push_str(l);
                body.push('\n');
            }
            blocks.push((info, body));
        }
    }
    blocks
}

fn smiles_line(line: &str) -> Option<&str> {
    let t = line.trim();
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("smiles") {
        let rest = &t[6..];
        let rest = rest.trim_start();
        return rest
            .strip_prefix(':')
            .or(rest.strip_prefix('='))
            .map(str::trim);
    }
    None
}

/// Finds the last ```` ```molecule ```` block (or, failing that, the last `SMILES:` line) and
/// reads its SMILES and coordinates.
pub fn extract(reply: &str) -> Result<Block, Rejection> {
    let blocks = fenced_blocks(reply);
    let body = blocks
        .iter()
        .rev()
        .find(|(info, _)| info == "molecule")
        .map(|(_, b)| b.clone())
        .or_else(|| {
            blocks
                .iter()
                .rev()
                .find(|(_, b)| b.lines().any(|l| smiles_line(l).is_some()))
                .map(|(_, b)| b.clone())
        });
    let body = match body {
        Some(b) => b,
        None => {
            let line = reply.lines().rev().find_map(smiles_line).ok_or_else(|| {
                Rejection::NoBlock(
                    "write the molecule in a ```molecule block with a line `SMILES: ...`".into(),
                )
            })?;
            return finish(line, &[]);
        }
    };
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let (idx, smiles) = lines
        .iter()
        .enumerate()
        .find_map(|(i, l)| smiles_line(l).map(|s| (i, s)))
        .or_else(|| lines.first().map(|l| (0, *l)))
        .ok_or_else(|| Rejection::NoBlock("the molecule block is empty".into()))?;
    let rest: Vec<&str> = lines[idx + 1..]
        .iter()
        .copied()
        .filter(|l| !l.to_ascii_lowercase().starts_with("coordinates"))
        .collect();
    finish(smiles, &rest)
}

fn finish(smiles: &str, coord_lines: &[&str]) -> Result<Block, Rejection> {
    let smiles = smiles.trim().trim_matches('`').trim().to_string();
    if smiles.is_empty() {
        return Err(Rejection::NoBlock("the SMILES is empty".into()));
    }
    if smiles.chars().count() > MAX_SMILES_CHARS {
        return Err(Rejection::TooLarge {
            count: smiles.chars().count(),
            max: MAX_SMILES_CHARS,
        });
    }
    let coordinates = if coord_lines.is_empty() {
        None
    } else {
        Some(
            coord_lines
                .iter()
                .enumerate()
                .map(|(i, l)| coordinate_line(i, l))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    Ok(Block {
        smiles,
        coordinates,
    })
}

fn coordinate_line(i: usize, line: &str) -> Result<(Option<String>, [f64; 3]), Rejection> {
    let cleaned: String = line
        .chars()
        .map(|c| if matches!(c, ',' | '[' | ']') { ' ' } else { c })
        .collect();
    let tokens: Vec<&str> = cleaned.split_whitespace().collect();
    let (element, nums) = match tokens.len() {
        3 => (None, &tokens[..]),
        4 => (Some(tokens[0].to_string()), &tokens[1..]),
        n => {
            return Err(Rejection::Coordinates(format!(
                "coordinate line {} has {n} fields, expected `x y z` or `Element x y z`: {line:?}",
                i + 1
            )));
        }
    };
    let mut xyz = [0.0; 3];
    for (k, t) in nums.iter().enumerate() {
        xyz[k] = t
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                Rejection::Coordinates(format!(
                    "coordinate line {}: {t:?} is not a finite number",
                    i + 1
                ))
            })?;
    }
    Ok((element, xyz))
}

/// A quick lexical check of a SMILES; returns the 0-based character position and a message of
/// the first problem found, or None (RDKit remains the authority).
pub fn syntax_problem(smiles: &str) -> Option<(usize, String)> {
    let chars: Vec<char> = smiles.chars().collect();
    let mut open_parens: Vec<usize> = Vec::new();
    let mut rings: std::collections::HashMap<u32, usize> = Default::default();
    let mut last_bond: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '[' => match chars[i..].iter().position(|&x| x == ']') {
                Some(end) => {
                    last_bond = None;
                    i += end + 1;
                    continue;
                }
                None => return Some((i, "'[' is never closed by ']'".into())),
            },
            ']' => return Some((i, "']' without a matching '['".into())),
            '(' => {
                if chars.get(i + 1) == Some(&')') {
                    return Some((i, "empty branch '()'".into()));
                }
                open_parens.push(i);
            }
            ')' => {
                if open_parens.pop().is_none() {
                    return Some((i, "')' without a matching '('".into()));
                }
                if let Some(b) = last_bond {
                    return Some((b, "bond symbol at the end of a branch".into()));
                }
            }
            '=' | '#' | '$' | '/' | '\\' | ':' => {
                if let Some(b) = last_bond {
                    return Some((i, format!("two bond symbols in a row ({}{c})", chars[b])));
                }
                last_bond = Some(i);
                i += 1;
                continue;
            }
            '-' => {
                last_bond = Some(i);
                i += 1;
                continue;
            }
            '0'..='9' | '%' => {
                let (num, len) = if c == '%' {
                    let digits: String = chars[i + 1..].iter().take(2).collect();
                    match digits.parse::<u32>() {
                        Ok(n) if digits.len() == 2 => (n, 3),
                        _ => return Some((i, "'%' must be followed by two digits".into())),
                    }
                } else {
                    (c.to_digit(10).unwrap_or(0), 1)
                };
                if rings.remove(&num).is_none() {
                    rings.insert(num, i);
                }
                last_bond = None;
                i += len;
                continue;
            }
            '.' => {}
            'B' | 'C' | 'N' | 'O' | 'P' | 'S' | 'F' | 'I' | 'b' | 'c' | 'n' | 'o' | 's' | 'p'
            | '*' => {
                let two = chars.get(i + 1).copied();
                if (c == 'C' && two == Some('l')) || (c == 'B' && two == Some('r')) {
                    i += 1;
                }
            }
            c if c.is_alphabetic() => {
                return Some((
                    i,
                    format!(
                        "{c:?} is not an element of the organic subset; write other atoms in brackets like [Si]"
                    ),
                ));
            }
            c => return Some((i, format!("unexpected character {c:?}"))),
        }
        last_bond = None;
        i += 1;
    }
    if let Some(b) = last_bond {
        return Some((b, "bond symbol at the end of the SMILES".into()));
    }
    if let Some(p) = open_parens.pop() {
        return Some((p, "'(' is never closed".into()));
    }
    if let Some((num, p)) = rings.into_iter().min_by_key(|(_, p)| *p) {
        return Some((p, format!("ring bond {num} is never closed")));
    }
    None
}
