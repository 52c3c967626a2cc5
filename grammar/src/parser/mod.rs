//! The parser: nom 8 combinators for tokens, precedence climbing for expressions, and
//! statement-level recognition of the Python/PyTorch habits language models bring along.
//!
//! Every error is a `nom::Err::Failure` carrying a ready one-line message; there is no
//! backtracking past a committed construct, so the first error found is the one reported.

mod expr;
pub(crate) mod hints;
mod lex;

use crate::ast::{Expr, Name, Param, Program, Stmt};
use crate::error::{Error, ErrorKind};
use crate::limits::Limits;
use crate::span::{LineIndex, Span};
use std::cell::Cell;

/// The parser's error: where (as the length of the remaining input) and what.
#[derive(Debug)]
pub(crate) struct PErr {
    rest_len: usize,
    kind: ErrorKind,
    message: String,
    expected: Option<String>,
}

impl<'a> nom::error::ParseError<&'a str> for PErr {
    fn from_error_kind(input: &'a str, kind: nom::error::ErrorKind) -> Self {
        PErr {
            rest_len: input.len(),
            kind: ErrorKind::Syntax,
            message: format!("unexpected input ({kind:?})"),
            expected: None,
        }
    }

    fn append(_input: &'a str, _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// Result of a parsing function.
pub(crate) type PResult<'a, T> = nom::IResult<&'a str, T, PErr>;

/// Parses a program with the default [`Limits`].
///
/// ```
/// let p = ansatz_grammar::parse("param k = 2.0\nreturn k * F").unwrap();
/// assert_eq!(p.params(), vec![("k".to_string(), 2.0)]);
/// ```
pub fn parse(src: &str) -> Result<Program, Error> {
    parse_with(src, &Limits::default())
}

/// Parses raw bytes: checks UTF-8 first, then [`parse`]. Never panics.
pub fn parse_bytes(bytes: &[u8]) -> Result<Program, Error> {
    parse_bytes_with(bytes, &Limits::default())
}

/// [`parse_bytes`] with explicit limits.
pub fn parse_bytes_with(bytes: &[u8], limits: &Limits) -> Result<Program, Error> {
    if bytes.len() > limits.max_bytes {
        return Err(too_big(bytes.len(), limits));
    }
    match std::str::from_utf8(bytes) {
        Ok(src) => parse_with(src, limits),
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let prefix = std::str::from_utf8(valid).unwrap_or("");
            let span = LineIndex::new(prefix).span(prefix.len());
            let byte = bytes.get(e.valid_up_to()).copied().unwrap_or(0);
            Err(Error::new(
                ErrorKind::Encoding,
                span,
                format!(
                    "the source is not valid UTF-8 (byte 0x{byte:02X}); write plain ASCII text"
                ),
            ))
        }
    }
}

/// Parses a program with explicit limits.
pub fn parse_with(src: &str, limits: &Limits) -> Result<Program, Error> {
    if src.len() > limits.max_bytes {
        return Err(too_big(src.len(), limits));
    }
    let p = P::new(src, *limits);
    p.program().map_err(|e| e.with_source(src))
}

fn too_big(len: usize, limits: &Limits) -> Error {
    Error::new(
        ErrorKind::Limit,
        Span::at(1, 1),
        format!(
            "the program is {len} bytes, more than the limit of {} bytes; write one short closed-form law",
            limits.max_bytes
        ),
    )
}

/// One parsed statement.
enum Statement {
    Param(Param),
    Let(Stmt),
    Return(Expr, Span),
}

/// Parser state for one source text.
pub(crate) struct P<'s> {
    src: &'s str,
    lines: LineIndex<'s>,
    limits: Limits,
    depth: Cell<usize>,
    nodes: Cell<usize>,
    parens: Cell<usize>,
}

impl<'s> P<'s> {
    fn new(src: &'s str, limits: Limits) -> Self {
        P {
            src,
            lines: LineIndex::new(src),
            limits,
            depth: Cell::new(0),
            nodes: Cell::new(0),
            parens: Cell::new(0),
        }
    }

    /// The span of the position where `at` starts.
    pub(crate) fn span(&self, at: &str) -> Span {
        self.lines
            .span(self.src.len() - at.len().min(self.src.len()))
    }

    /// A committed error at the start of `at`.
    pub(crate) fn fail(
        &self,
        at: &str,
        kind: ErrorKind,
        message: impl Into<String>,
    ) -> nom::Err<PErr> {
        nom::Err::Failure(PErr {
            rest_len: at.len(),
            kind,
            message: message.into(),
            expected: None,
        })
    }

    /// A committed syntax error with what was expected.
    pub(crate) fn expected(
        &self,
        at: &str,
        message: impl Into<String>,
        expected: &str,
    ) -> nom::Err<PErr> {
        nom::Err::Failure(PErr {
            rest_len: at.len(),
            kind: ErrorKind::Syntax,
            message: message.into(),
            expected: Some(expected.to_string()),
        })
    }

    /// Skips blanks; newlines too inside parentheses.
    pub(crate) fn sp(&self, i: &'s str) -> &'s str {
        lex::blank(i, self.parens.get() > 0)
    }

    fn to_error(&self, e: nom::Err<PErr>) -> Error {
        match e {
            nom::Err::Error(p) | nom::Err::Failure(p) => {
                let span = self
                    .lines
                    .span(self.src.len() - p.rest_len.min(self.src.len()));
                let err = Error::new(p.kind, span, p.message);
                match p.expected {
                    Some(x) => err.expecting(x),
                    None => err,
                }
            }
            nom::Err::Incomplete(_) => {
                Error::new(ErrorKind::Syntax, self.span(""), "unexpected end of input")
            }
        }
    }

    /// Skips blank lines, comments and `;` between statements.
    fn skip_lines(&self, mut i: &'s str) -> &'s str {
        loop {
            let r = lex::blank(i, true);
            match r.strip_prefix(';') {
                Some(r) => i = r,
                None => return r,
            }
        }
    }

    fn program(&self) -> Result<Program, Error> {
        let mut i = self.skip_lines(self.src);
        if i.is_empty() {
            return Err(Error::new(
                ErrorKind::Syntax,
                Span::at(1, 1),
                "the program is empty; write `param` lines, `name = expr` lines and a final `return expr` (e.g. `return F`)",
            )
            .expecting("a statement"));
        }
        let mut params: Vec<Param> = Vec::new();
        let mut stmts: Vec<Stmt> = Vec::new();
        let mut ret: Option<(Expr, Span)> = None;
        let mut count = 0;
        while !i.is_empty() {
            if let Some((_, at)) = &ret {
                return Err(self.to_error(self.fail(
                    i,
                    ErrorKind::Syntax,
                    format!("'return' must be the last statement (it is at line {}); move this line above the return", at.line),
                )));
            }
            count += 1;
            if count > self.limits.max_statements {
                return Err(self.to_error(self.fail(
                    i,
                    ErrorKind::Limit,
                    format!(
                        "too many statements (the limit is {}); write a shorter law",
                        self.limits.max_statements
                    ),
                )));
            }
            let (rest, st) = self.statement(i).map_err(|e| self.to_error(e))?;
            match st {
                Statement::Param(p) => {
                    if params.len() >= self.limits.max_params {
                        return Err(self.to_error(self.fail(
                            i,
                            ErrorKind::Limit,
                            format!(
                                "too many parameters: at most {} `param` declarations are allowed; turn the others into constants",
                                self.limits.max_params
                            ),
                        )));
                    }
                    params.push(p);
                }
                Statement::Let(s) => stmts.push(s),
                Statement::Return(e, span) => ret = Some((e, span)),
            }
            let (rest, ()) = self.end_of_statement(rest).map_err(|e| self.to_error(e))?;
            i = self.skip_lines(rest);
        }
        match ret {
            Some((ret, ret_span)) => Ok(Program {
                params,
                stmts,
                ret,
                ret_span,
            }),
            None => Err(self.to_error(self.expected(
                "",
                "missing 'return': the program must end with `return EXPR` (e.g. `return tau`)",
                "return EXPR",
            ))),
        }
    }

    fn statement(&self, i: &'s str) -> PResult<'s, Statement> {
        let start = i;
        let span = self.span(start);
        if let Ok((rest, word)) = lex::ident(i) {
            match word {
                "param" if !rest.trim_start_matches([' ', '\t']).starts_with('=') => {
                    return self.param(start, rest);
                }
                "return" => {
                    let (rest, (e, _)) = self.expr(rest)?;
                    return Ok((rest, Statement::Return(e, span)));
                }
                _ => {}
            }
            if let Some(message) = hints::statement_keyword(word) {
                return Err(self.fail(start, ErrorKind::Syntax, message));
            }
        }
        if let Some((rest, names)) = self.targets(i)? {
            let (rest, (value, _)) = self.expr(rest)?;
            return Ok((rest, Statement::Let(Stmt { names, value, span })));
        }
        if let Some(c) = i.chars().next().filter(|c| matches!(c, ')' | ']' | '}')) {
            return Err(self.fail(i, ErrorKind::Syntax, hints::unbalanced_close(c)));
        }
        let (rest, _) = self.expr(i)?;
        let (after, ()) = self.end_of_statement(rest)?;
        if self.skip_lines(after).is_empty() {
            Err(self.expected(
                start,
                "missing 'return': the last line is an expression; write `return` before it",
                "return EXPR",
            ))
        } else {
            Err(self.expected(
                start,
                "this line is an expression, not a statement; bind it with `name = ...`",
                "name = EXPR",
            ))
        }
    }

    /// `NAME = NUMBER` after the `param` keyword.
    fn param(&self, start: &'s str, i: &'s str) -> PResult<'s, Statement> {
        let i = self.sp(i);
        let (i, name) = lex::ident(i).map_err(|_| {
            self.expected(
                i,
                "a parameter needs a name: `param NAME = NUMBER`",
                "a name",
            )
        })?;
        let j = self.sp(i);
        if j.starts_with(':') {
            return Err(self.fail(
                j,
                ErrorKind::Syntax,
                "parameters are scalars and take no type annotation: `param NAME = NUMBER`",
            ));
        }
        let j = j.strip_prefix('=').ok_or_else(|| {
            self.expected(
                j,
                format!("expected '=' after `param {name}`: write `param {name} = NUMBER`"),
                "'='",
            )
        })?;
        let j = self.sp(j);
        let (negative, k) = match j.strip_prefix('-') {
            Some(k) => (true, self.sp(k)),
            None => (false, self.sp(j.strip_prefix('+').unwrap_or(j))),
        };
        let (rest, text) = lex::number_text(k).map_err(|_| {
            self.expected(
                j,
                format!("the value of parameter '{name}' must be a number literal (e.g. `param {name} = 1000.0`)"),
                "a number",
            )
        })?;
        let value = self.number_value(k, text)?;
        if lex::starts_ident_char(rest) || rest.starts_with(['(', '*', '/', '+', '-', '.']) {
            return Err(self.fail(
                j,
                ErrorKind::Syntax,
                format!("the value of parameter '{name}' must be a single number literal (e.g. `param {name} = 1000.0`); compute derived values in a binding"),
            ));
        }
        let value = if negative { -value } else { value };
        Ok((
            rest,
            Statement::Param(Param {
                name: name.to_string(),
                value,
                span: self.span(start),
            }),
        ))
    }

    /// A finite number from its text.
    pub(crate) fn number_value(&self, at: &'s str, text: &str) -> Result<f64, nom::Err<PErr>> {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(self.fail(
                at,
                ErrorKind::Syntax,
                format!("number '{text}' is out of range"),
            )),
        }
    }

    /// `name (, name)* =` (not `==`), or `None` if the statement is not a binding.
    fn targets(&self, i: &'s str) -> Result<Option<(&'s str, Vec<Name>)>, nom::Err<PErr>> {
        let mut names = Vec::new();
        let mut j = i;
        loop {
            let Ok((rest, name)) = lex::ident(j) else {
                return Ok(None);
            };
            names.push(Name {
                name: name.to_string(),
                span: self.span(j),
            });
            let r = self.sp(rest);
            if let Some(r) = r.strip_prefix(',') {
                j = self.sp(r);
                continue;
            }
            if r.starts_with('=') && !r.starts_with("==") {
                return Ok(Some((&r[1..], names)));
            }
            if let Some(op) = ["**=", "+=", "-=", "*=", "/=", "@="]
                .iter()
                .find(|op| r.starts_with(**op))
            {
                return Err(self.fail(
                    r,
                    ErrorKind::Syntax,
                    format!("augmented assignment '{op}' is not supported: names are bound once; write `{name}2 = {name} {} ...`", &op[..op.len() - 1]),
                ));
            }
            if r.starts_with(':') && names.len() == 1 {
                return Err(self.fail(r, ErrorKind::Syntax, hints::colon()));
            }
            return Ok(None);
        }
    }

    /// The end of a statement: end of line, `;` or end of input, after an optional comment.
    fn end_of_statement(&self, i: &'s str) -> PResult<'s, ()> {
        let r = lex::blank(i, false);
        if r.is_empty() {
            return Ok((r, ()));
        }
        if let Some(rest) = r.strip_prefix('\n').or_else(|| r.strip_prefix(';')) {
            return Ok((rest, ()));
        }
        Err(self.expected(r, hints::trailing(r), "an operator or the end of the line"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_example() {
        let p = parse("param k = 2.0 # stiffness\n\nJ = det(F)\nreturn k * (J - 1) * I\n").unwrap();
        assert_eq!(p.params.len(), 1);
        assert_eq!(p.stmts.len(), 1);
        assert_eq!(p.ret.span.line, 4);
    }

    #[test]
    fn destructuring_and_negative_param() {
        let p = parse("param a = -1.5e-3\nU, sigma, Vh = svd(F)\nreturn U @ Vh").unwrap();
        assert_eq!(p.params[0].value, -1.5e-3);
        assert_eq!(p.stmts[0].names.len(), 3);
    }

    #[test]
    fn invalid_utf8() {
        let e = parse_bytes(b"x = 1\n\xff").unwrap_err();
        assert_eq!((e.line, e.column, e.kind), (2, 1, ErrorKind::Encoding));
    }
}
