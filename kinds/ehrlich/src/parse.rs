//! Parsing a sequence written by a language model.
//!
//! Two forms are accepted (after trimming surrounding whitespace):
//! - a JSON list of integers, e.g. `[3, 16, 15, 11]` (LLOME's format), each in 0..v;
//! - letters of the alphabet [`ALPHABET`]: state i is the i-th character, so `v` states use the
//!   first v characters (`A`–`Z`, then `a`–`z`, then `0`–`9`; up to 62 states). Whitespace between
//!   letters is ignored. Example for v = 4: `"ABCD DCBA"`.
//!
//! Input longer than [`MAX_INPUT_BYTES`] is rejected before any parsing. Nothing here panics.

use thiserror::Error;

/// The letter alphabet: state i is `ALPHABET[i]`.
pub const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Size cap on the raw input (10 MB).
pub const MAX_INPUT_BYTES: usize = 10 * 1024 * 1024;

/// Why a language model's output is not a valid sequence.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseError {
    /// Over the size cap.
    #[error("input is {len} bytes, over the {cap}-byte cap")]
    TooLarge {
        /// Input length in bytes.
        len: usize,
        /// The cap.
        cap: usize,
    },
    /// Nothing but whitespace.
    #[error("input is empty")]
    Empty,
    /// Starts like a JSON list but is not valid JSON.
    #[error("not a valid JSON list: {0}")]
    InvalidJson(String),
    /// Valid JSON, but not a list.
    #[error("expected a JSON list of integers, got a JSON {0}")]
    NotAList(&'static str),
    /// A list element is itself a list.
    #[error("element {position} is a nested list; expected a flat list of integers")]
    Nested {
        /// Index of the element.
        position: usize,
    },
    /// A list element is not a non-negative integer.
    #[error("element {position} is {found}, not a non-negative integer")]
    NotAnInteger {
        /// Index of the element.
        position: usize,
        /// What was found (truncated).
        found: String,
    },
    /// A symbol outside 0..v.
    #[error("symbol {value} at position {position} is out of range 0..{num_states}")]
    OutOfRange {
        /// Index of the symbol.
        position: usize,
        /// Its value.
        value: u64,
        /// v.
        num_states: usize,
    },
    /// A character that is not one of the first v letters of the alphabet.
    #[error(
        "character {ch:?} at position {position} is not a letter of the {num_states}-letter alphabet {alphabet:?}"
    )]
    UnknownLetter {
        /// Index among the non-whitespace characters.
        position: usize,
        /// The character.
        ch: char,
        /// v.
        num_states: usize,
        /// The allowed letters.
        alphabet: String,
    },
    /// v is larger than the letter alphabet (letters only; JSON has no limit).
    #[error("the letter alphabet has {max} letters, too few for v = {num_states}; use a JSON list")]
    AlphabetTooSmall {
        /// v.
        num_states: usize,
        /// Alphabet size.
        max: usize,
    },
    /// Wrong number of symbols.
    #[error("sequence has {got} symbols, expected L = {expected}")]
    WrongLength {
        /// Symbols found.
        got: usize,
        /// L.
        expected: usize,
    },
}

/// Parses `text` into a sequence of `dim` symbols in 0..num_states (see the module docs).
pub fn parse_sequence(text: &str, dim: usize, num_states: usize) -> Result<Vec<u32>, ParseError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ParseError::TooLarge {
            len: text.len(),
            cap: MAX_INPUT_BYTES,
        });
    }
    let t = text.trim();
    if t.is_empty() {
        return Err(ParseError::Empty);
    }
    let x = if t.starts_with('[') {
        parse_json(t, num_states)?
    } else {
        parse_letters(t, num_states)?
    };
    if x.len() != dim {
        return Err(ParseError::WrongLength {
            got: x.len(),
            expected: dim,
        });
    }
    Ok(x)
}

fn parse_json(t: &str, num_states: usize) -> Result<Vec<u32>, ParseError> {
    let value: serde_json::Value =
        serde_json::from_str(t).map_err(|e| ParseError::InvalidJson(e.to_string()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(ParseError::NotAList("value"));
    };
    items
        .iter()
        .enumerate()
        .map(|(position, item)| match item {
            serde_json::Value::Array(_) => Err(ParseError::Nested { position }),
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(value) if (value as u128) < num_states as u128 => Ok(value as u32),
                Some(value) => Err(ParseError::OutOfRange {
                    position,
                    value,
                    num_states,
                }),
                None => Err(ParseError::NotAnInteger {
                    position,
                    found: n.to_string(),
                }),
            },
            other => Err(ParseError::NotAnInteger {
                position,
                found: other.to_string().chars().take(40).collect(),
            }),
        })
        .collect()
}

fn parse_letters(t: &str, num_states: usize) -> Result<Vec<u32>, ParseError> {
    let max = ALPHABET.len();
    if num_states > max {
        return Err(ParseError::AlphabetTooSmall { num_states, max });
    }
    let alphabet = &ALPHABET[..num_states];
    t.chars()
        .filter(|c| !c.is_whitespace())
        .enumerate()
        .map(|(position, ch)| {
            alphabet
                .find(ch)
                .map(|i| i as u32)
                .ok_or_else(|| ParseError::UnknownLetter {
                    position,
                    ch,
                    num_states,
                    alphabet: alphabet.to_string(),
                })
        })
        .collect()
}

/// Writes a sequence in the letter form accepted by [`parse_sequence`] (`None` if v > 62 or a symbol is out of range).
pub fn to_letters(x: &[u32]) -> Option<String> {
    x.iter()
        .map(|&s| ALPHABET.as_bytes().get(s as usize).map(|&b| b as char))
        .collect()
}
