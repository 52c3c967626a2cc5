//! Tokens, written with nom 8 combinators: blanks and comments, identifiers, numbers.

use super::{PErr, PResult};
use nom::Parser;
use nom::bytes::complete::{tag, take_while, take_while1};
use nom::character::complete::{one_of, satisfy};
use nom::combinator::{opt, recognize};
use nom::sequence::pair;

/// Skips spaces, tabs, carriage returns, `\`-newline continuations and `#` comments;
/// also newlines when `newlines` is true (inside parentheses and brackets).
pub(crate) fn blank(mut i: &str, newlines: bool) -> &str {
    loop {
        let (rest, _) = take_while::<_, _, PErr>(|c| {
            c == ' ' || c == '\t' || c == '\r' || (newlines && c == '\n')
        })
        .parse(i)
        .unwrap_or((i, ""));
        i = rest;
        if let Some(stripped) = i.strip_prefix('#') {
            i = stripped.find('\n').map_or("", |k| &stripped[k..]);
        } else if let Some(stripped) = i.strip_prefix("\\\n").or_else(|| i.strip_prefix("\\\r\n")) {
            i = stripped;
        } else {
            return i;
        }
    }
}

/// An ASCII identifier `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn ident(i: &str) -> PResult<'_, &str> {
    recognize(pair(
        satisfy(|c| c.is_ascii_alphabetic() || c == '_'),
        take_while(|c: char| c.is_ascii_alphanumeric() || c == '_'),
    ))
    .parse(i)
}

/// The text of an unsigned number: `12`, `0.49`, `.5`, `1.`, `3e4`, `1.5E-3`.
pub(crate) fn number_text(i: &str) -> PResult<'_, &str> {
    // nom's `digit0` misses digits at the very end of a complete input here, hence take_while.
    let digit0 = || take_while::<_, &str, PErr>(|c: char| c.is_ascii_digit());
    let digit1 = || take_while1::<_, &str, PErr>(|c: char| c.is_ascii_digit());
    let mantissa = |i| {
        let with_int = recognize(pair(digit1(), opt(pair(tag("."), digit0()))));
        let frac_only = recognize(pair(tag("."), digit1()));
        nom::branch::alt((with_int, frac_only)).parse(i)
    };
    let exponent = recognize((one_of("eE"), opt(one_of("+-")), digit1()));
    recognize(pair(mantissa, opt(exponent))).parse(i)
}

/// True when `i` starts with an identifier character (used to reject `2F`).
pub(crate) fn starts_ident_char(i: &str) -> bool {
    take_while1::<_, _, PErr>(|c: char| c.is_ascii_alphanumeric() || c == '_')
        .parse(i)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for (src, text) in [
            ("3e4+", "3e4"),
            (".5)", ".5"),
            ("0.49 ", "0.49"),
            ("1.", "1."),
            ("2e", "2"),
            ("1E-3", "1E-3"),
        ] {
            assert_eq!(number_text(src).unwrap().1, text);
        }
        assert!(number_text("e3").is_err());
        assert!(number_text(".").is_err());
    }

    #[test]
    fn blanks() {
        assert_eq!(blank("  # c\nx", false), "\nx");
        assert_eq!(blank("  # c\n  x", true), "x");
        assert_eq!(blank("\\\n y", false), "y");
        assert_eq!(ident("sigma_1 x").unwrap(), (" x", "sigma_1"));
        assert!(ident("1x").is_err());
    }
}
