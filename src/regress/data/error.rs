//! What can go wrong reading a table and choosing its columns.

/// A table that cannot be read or used. Every message names the file (the table's
/// origin); problems in the text also name the line (1-based, the header is line 1), and
/// problems in a cell name its column by header name and 1-based position.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be read (missing, a directory, no permission, ...).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path given.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A gzip-compressed file that does not decompress.
    #[error("{origin}: the file starts as gzip but does not decompress: {message}")]
    Gzip {
        /// The file.
        origin: String,
        /// What the decoder said.
        message: String,
    },
    /// The bytes are not UTF-8 text.
    #[error(
        "{origin}: line {line} is not UTF-8 text (invalid byte at offset {offset}); save the table as UTF-8 (UTF-16 spreadsheet exports are not read)"
    )]
    NotUtf8 {
        /// The file.
        origin: String,
        /// Line of the first invalid byte.
        line: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// Nothing but blanks.
    #[error(
        "{origin}: the file is empty; a table is a header line naming the columns, then rows of numbers"
    )]
    Empty {
        /// The file.
        origin: String,
    },
    /// A header and no data rows.
    #[error("{origin}: the header names {columns} columns but no data rows follow it")]
    NoRows {
        /// The file.
        origin: String,
        /// Columns in the header.
        columns: usize,
    },
    /// The first line holds only numbers: the header is missing.
    #[error(
        "{origin}: line 1 holds only numbers; the first line must be a header naming the columns"
    )]
    NoHeader {
        /// The file.
        origin: String,
    },
    /// A header field is empty.
    #[error("{origin}: line 1, column {position}: empty column name; every column needs a name")]
    EmptyName {
        /// The file.
        origin: String,
        /// 1-based position of the column.
        position: usize,
    },
    /// Two header fields are the same.
    #[error(
        "{origin}: line 1: column name '{name}' is used twice (columns {first} and {second}); column names must be unique"
    )]
    DuplicateName {
        /// The file.
        origin: String,
        /// The repeated name.
        name: String,
        /// 1-based position of its first use.
        first: usize,
        /// 1-based position of its second use.
        second: usize,
    },
    /// A blank line with rows after it.
    #[error("{origin}: line {line} is blank; blank lines are allowed only at the end of the file")]
    BlankLine {
        /// The file.
        origin: String,
        /// The blank line.
        line: usize,
    },
    /// Quoting gone wrong (an unclosed quote, text after a closing quote).
    #[error("{origin}: line {line}: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A row with more or fewer fields than the header has columns.
    #[error(
        "{origin}: line {line} has {got} fields but the header has {expected} columns (expected {expected}, got {got}); {detail}"
    )]
    Ragged {
        /// The file.
        origin: String,
        /// The row's line.
        line: usize,
        /// Columns in the header.
        expected: usize,
        /// Fields in the row.
        got: usize,
        /// The first column without a value, or the first extra field.
        detail: String,
    },
    /// A cell holding text that is not a number.
    #[error(
        "{origin}: line {line}, column '{column}' ({position}): {text:?} is not a number{hint}"
    )]
    NotANumber {
        /// The file.
        origin: String,
        /// The row's line.
        line: usize,
        /// The column's header name.
        column: String,
        /// 1-based position of the column.
        position: usize,
        /// The cell (cut to about 40 characters).
        text: String,
        /// A guess at the cause, empty or starting with "; ".
        hint: String,
    },
    /// An empty cell or a marker such as `NA` or `null`.
    #[error(
        "{origin}: line {line}, column '{column}' ({position}): missing value{}; every cell must hold a number (fill it in or remove the row)",
        shown(text)
    )]
    MissingValue {
        /// The file.
        origin: String,
        /// The row's line.
        line: usize,
        /// The column's header name.
        column: String,
        /// 1-based position of the column.
        position: usize,
        /// The cell as written (empty for an empty cell).
        text: String,
    },
    /// A cell holding NaN.
    #[error(
        "{origin}: line {line}, column '{column}' ({position}): NaN ({text:?}); every cell must hold a finite number"
    )]
    NaN {
        /// The file.
        origin: String,
        /// The row's line.
        line: usize,
        /// The column's header name.
        column: String,
        /// 1-based position of the column.
        position: usize,
        /// The cell as written.
        text: String,
    },
    /// A cell holding an infinite value, or a number too large for f64.
    #[error(
        "{origin}: line {line}, column '{column}' ({position}): infinite value ({text:?}); every cell must hold a finite number"
    )]
    Infinite {
        /// The file.
        origin: String,
        /// The row's line.
        line: usize,
        /// The column's header name.
        column: String,
        /// 1-based position of the column.
        position: usize,
        /// The cell as written.
        text: String,
    },
    /// A target that is neither a column nor the prefix of a 3x3 column group.
    #[error(
        "{origin}: no column named '{target}' (nor a 3x3 group {target}00..{target}22); the columns are: {}",
        list(available)
    )]
    MissingTarget {
        /// The file.
        origin: String,
        /// The target asked for.
        target: String,
        /// The table's column names.
        available: Vec<String>,
    },
    /// A target prefix that matches some but not all 9 columns of a 3x3 group.
    #[error(
        "{origin}: target group '{prefix}' is incomplete: a 3x3 matrix needs 9 columns, found {} ({}), missing {}",
        found.len(),
        list(found),
        list(missing)
    )]
    IncompleteGroup {
        /// The file.
        origin: String,
        /// The target prefix.
        prefix: String,
        /// Columns of the group that exist.
        found: Vec<String>,
        /// Columns of the group that do not.
        missing: Vec<String>,
    },
    /// The same column chosen as a target twice (directly or through a group).
    #[error("{origin}: column '{column}' is chosen as a target twice")]
    TargetTwice {
        /// The file.
        origin: String,
        /// The column.
        column: String,
    },
    /// Every column is a target.
    #[error(
        "{origin}: no input column remains: every column is a target ({}); the table needs at least one input column besides the targets",
        list(targets)
    )]
    NoInputs {
        /// The file.
        origin: String,
        /// The targets chosen.
        targets: Vec<String>,
    },
}

/// ` ("NA")` for a marker, nothing for an empty cell.
fn shown(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text:?})")
    }
}

/// Names quoted and joined, at most 40 of them.
fn list(names: &[String]) -> String {
    const MAX: usize = 40;
    if names.is_empty() {
        return "(none)".to_string();
    }
    let mut out: Vec<String> = names.iter().take(MAX).map(|n| format!("'{n}'")).collect();
    if names.len() > MAX {
        out.push(format!("... ({} more)", names.len() - MAX));
    }
    out.join(", ")
}
