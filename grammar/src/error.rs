//! Errors: one typed error for everything a program's author can get wrong (encoding,
//! limits, syntax, names, types) and one for misuse of the evaluation API.

use crate::span::{Span, caret_excerpt};
use crate::types::Type;

/// Which stage rejected a program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are not UTF-8.
    Encoding,
    /// A size limit was exceeded (source bytes, statements, nodes, parameters, nesting).
    Limit,
    /// The text does not follow the grammar.
    Syntax,
    /// An unknown, reused or misplaced name.
    Name,
    /// A type (shape) mismatch, a wrong number of arguments or a wrong return type.
    Type,
}

/// A rejected program: a one-line message a person or a language model can act on, with
/// its line and column, what was expected, and (when the source is known) a caret excerpt.
///
/// `Display` gives the one-line form `line 3, column 12: message`; [`Error::render`] adds
/// the excerpt.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
#[non_exhaustive]
pub struct Error {
    /// The stage that rejected the program.
    pub kind: ErrorKind,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub column: u32,
    /// What is wrong and, where possible, how to fix it (one line).
    pub message: String,
    /// What the parser or checker expected at this place, if that is meaningful.
    pub expected: Option<String>,
    /// The source line with a caret under the column, when the source is known.
    pub excerpt: Option<String>,
}

impl Error {
    /// A new error at `span`.
    pub(crate) fn new(kind: ErrorKind, span: Span, message: impl Into<String>) -> Self {
        Error {
            kind,
            line: span.line.max(1),
            column: span.column.max(1),
            message: message.into(),
            expected: None,
            excerpt: None,
        }
    }

    /// The same error with an `expected` description.
    pub(crate) fn expecting(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    /// A type error at `span`.
    pub(crate) fn ty(span: Span, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Type, span, message)
    }

    /// A name error at `span`.
    pub(crate) fn name(span: Span, message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Name, span, message)
    }

    /// Attaches the caret excerpt taken from `src` (the text the program was parsed from).
    pub fn with_source(mut self, src: &str) -> Self {
        self.excerpt = Some(caret_excerpt(src, self.line, self.column));
        self
    }

    /// The one-line message followed by the caret excerpt (if known) and what was expected.
    pub fn render(&self) -> String {
        let mut out = self.to_string();
        if let Some(excerpt) = &self.excerpt {
            out.push('\n');
            out.push_str(excerpt);
        }
        if let Some(expected) = &self.expected {
            out.push_str("\nexpected: ");
            out.push_str(expected);
        }
        out
    }
}

/// Misuse of a compiled program's evaluation API (never caused by the program's text).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The number of inputs differs from the signature.
    #[error("expected {expected} inputs, got {got}")]
    InputCount {
        /// Inputs in the signature.
        expected: usize,
        /// Inputs given.
        got: usize,
    },
    /// An input has the wrong type.
    #[error("input {index} should be {expected}, got {got}")]
    InputType {
        /// Position of the input.
        index: usize,
        /// Type in the signature.
        expected: Type,
        /// Type given.
        got: Type,
    },
    /// The number of parameter values differs from the program's declarations.
    #[error("expected {expected} parameter values, got {got}")]
    ParamCount {
        /// Declared parameters.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A batch's input and output slices have different lengths.
    #[error("batch of {inputs} inputs but {outputs} outputs")]
    BatchLength {
        /// Inputs given.
        inputs: usize,
        /// Output slots given.
        outputs: usize,
    },
    /// The program's return type is not the one the caller asked for.
    #[error("the program returns {got}, not {expected}")]
    ReturnType {
        /// Type asked for.
        expected: Type,
        /// Type returned.
        got: Type,
    },
}
