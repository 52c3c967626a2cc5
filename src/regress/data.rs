//! Tables of numbers read from CSV or TSV files: named columns of finite `f64`, a
//! deterministic train/test split, and the roles of the columns (inputs and targets, 3x3
//! column groups as matrices) with names usable in the law language.
//!
//! ```
//! use ansatz::regress::data::{Column, Table, roles};
//!
//! let table = Table::parse("x,y\n1,2\n3,4\n", "example.csv").unwrap();
//! assert_eq!(table.rows(), 2);
//! assert_eq!(table.column("y"), Some(&[2.0, 4.0][..]));
//! let roles = roles(&table, &[]).unwrap(); // no target given: the last column
//! assert!(matches!(&roles.targets[0], Column::Scalar { name, .. } if name == "y"));
//!
//! let err = Table::parse("x,y\n1,2\n3,oops\n", "example.csv").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "example.csv: line 3, column 'y' (2): \"oops\" is not a number"
//! );
//! ```

mod error;
mod names;
mod records;
mod roles;

pub use error::DataError;
pub use names::law_name;
pub use roles::{Column, Roles, roles};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use records::{Record, Records};
use std::path::Path;

/// A table of numbers: named columns of equal length, every value finite.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names from the header, in file order.
    pub names: Vec<String>,
    /// The values, one vector per column (column-major), in file order.
    pub columns: Vec<Vec<f64>>,
    /// Where the table came from (the file's path): the prefix of every error message.
    pub origin: String,
    /// The unit of each column when its header gives one in brackets (`v [m/s]` is column
    /// `v` in `m/s`); shown to proposers.
    pub units: Vec<Option<String>>,
}

impl Table {
    /// Reads a CSV or TSV file (see [`Table::parse`]), gzip-compressed or not (`.csv.gz`,
    /// `.tsv.gz`: told by the gzip magic bytes, not the name); the origin is the path as
    /// given.
    pub fn load(path: &Path) -> Result<Table, DataError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| DataError::Io {
            path: origin.clone(),
            source,
        })?;
        if bytes.starts_with(&GZIP_MAGIC) {
            let text = gunzip(&bytes, &origin)?;
            return Table::parse_bytes(&text, &origin);
        }
        Table::parse_bytes(&bytes, &origin)
    }

    /// Parses the bytes of a file: [`DataError::NotUtf8`] (with the line of the first bad
    /// byte) unless they are UTF-8, else [`Table::parse`].
    pub fn parse_bytes(bytes: &[u8], origin: &str) -> Result<Table, DataError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Table::parse(text, origin),
            Err(e) => {
                let offset = e.valid_up_to();
                let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
                Err(DataError::NotUtf8 {
                    origin: origin.to_string(),
                    line,
                    offset,
                })
            }
        }
    }

    /// Parses CSV or TSV text. The separator is sniffed from the header line: tab if it
    /// has a tab, else comma if it has a comma, else semicolon if it has one, else comma
    /// (one column). The header is required (a first line of nothing but numbers is an
    /// error); names and cells are trimmed of whitespace and may be quoted (`"a,b"`, `""`
    /// for a quote). A leading byte-order mark, CRLF line ends and blank lines at the end
    /// are fine; a blank line with rows after it is an error. Every cell must be a finite
    /// number: empty cells and markers (`NA`, `N/A`, `null`, `None`, `?`, ...) are missing
    /// values, and NaN, infinities and numbers beyond f64 are errors of their own.
    /// `origin` (the file name) starts every error message.
    pub fn parse(text: &str, origin: &str) -> Result<Table, DataError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let origin_string = || origin.to_string();
        if text.trim().is_empty() {
            return Err(DataError::Empty {
                origin: origin_string(),
            });
        }
        let syntax = |e: records::SyntaxError| DataError::Syntax {
            origin: origin_string(),
            line: e.line,
            message: e.message,
        };
        let sep = records::sniff(text);
        let mut records = Records::new(text, sep);
        let header = match records.next() {
            Some(record) => record.map_err(syntax)?,
            None => {
                return Err(DataError::Empty {
                    origin: origin_string(),
                });
            }
        };
        if header.blank {
            return Err(DataError::BlankLine {
                origin: origin_string(),
                line: 1,
            });
        }
        let (names, units): (Vec<String>, Vec<Option<String>>) =
            header.fields.iter().map(|f| split_unit(f)).unzip();
        let header = Record {
            fields: names,
            ..header
        };
        let names = header_names(header, origin)?;
        let mut columns: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
        let mut blank_line = None;
        for record in records {
            let record = record.map_err(syntax)?;
            if record.blank {
                blank_line.get_or_insert(record.line);
                continue;
            }
            if let Some(line) = blank_line {
                return Err(DataError::BlankLine {
                    origin: origin_string(),
                    line,
                });
            }
            check_width(&record, &names, origin)?;
            for (k, text) in record.fields.iter().enumerate() {
                let value = cell(text).map_err(|problem| {
                    problem.error(origin, record.line, &names[k], k + 1, text, names.len())
                })?;
                columns[k].push(value);
            }
        }
        if columns[0].is_empty() {
            return Err(DataError::NoRows {
                origin: origin_string(),
                columns: names.len(),
            });
        }
        Ok(Table {
            names,
            columns,
            origin: origin_string(),
            units,
        })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    /// The values of the column with this name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.index(name).map(|k| self.columns[k].as_slice())
    }

    /// Position (0-based) of the column with this name.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// A table of the given rows, in the order given (repeats allowed), with the same
    /// names and origin.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn select_rows(&self, rows: &[usize]) -> Table {
        Table {
            names: self.names.clone(),
            columns: self
                .columns
                .iter()
                .map(|c| rows.iter().map(|&r| c[r]).collect())
                .collect(),
            origin: self.origin.clone(),
            units: self.units.clone(),
        }
    }

    /// Deterministic shuffle with ChaCha8 seeded by `seed`, then the first
    /// round(test_fraction*n) rows are the test set (at least 1 row in each part when
    /// n >= 2). Returns (train, test).
    ///
    /// The fraction is clamped to [0, 1] (NaN counts as 0). With one row the test set is
    /// empty. Each part keeps the file's row order. The shuffle is a Fisher-Yates written
    /// here over the raw ChaCha8 stream, so the split does not change with the `rand`
    /// version.
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Table, Table) {
        let n = self.rows();
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in (1..n).rev() {
            order.swap(i, below(&mut rng, i + 1));
        }
        let fraction = if test_fraction.is_nan() {
            0.0
        } else {
            test_fraction.clamp(0.0, 1.0)
        };
        let test_len = if n >= 2 {
            // In [0, n] after the clamp above, so the cast is exact.
            ((fraction * n as f64).round() as usize).clamp(1, n - 1)
        } else {
            0
        };
        let (test, train) = order.split_at_mut(test_len);
        test.sort_unstable();
        train.sort_unstable();
        (self.select_rows(train), self.select_rows(test))
    }

    /// Min and max of a column (None for an unknown name or an empty table).
    pub fn range(&self, name: &str) -> Option<(f64, f64)> {
        let values = self.column(name)?;
        let first = *values.first()?;
        Some(
            values
                .iter()
                .fold((first, first), |(lo, hi), &v| (lo.min(v), hi.max(v))),
        )
    }
}

/// A uniform integer in `0..bound` (bound > 0) from the top bits of a 128-bit product
/// (Lemire; the bias is below bound / 2^64).
/// The first two bytes of a gzip file.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Most bytes a compressed table may expand to (a larger one is refused, not read).
pub const MAX_GUNZIPPED: u64 = 4 << 30;

/// The decompressed bytes of a gzip file (every member of a multi-member file).
fn gunzip(bytes: &[u8], origin: &str) -> Result<Vec<u8>, DataError> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_GUNZIPPED + 1)
        .read_to_end(&mut out)
        .map_err(|e| DataError::Gzip {
            origin: origin.to_string(),
            message: e.to_string(),
        })?;
    if out.len() as u64 > MAX_GUNZIPPED {
        return Err(DataError::Gzip {
            origin: origin.to_string(),
            message: format!("it expands to more than {MAX_GUNZIPPED} bytes"),
        });
    }
    Ok(out)
}

fn below(rng: &mut ChaCha8Rng, bound: usize) -> usize {
    ((u128::from(rng.next_u64()) * bound as u128) >> 64) as usize
}

/// Checks the header's names: not all numbers, none empty, none repeated.
/// `name [unit]` as the name and the unit; any other header as itself.
fn split_unit(field: &str) -> (String, Option<String>) {
    let f = field.trim();
    if let Some(open) = f.rfind('[')
        && f.ends_with(']')
        && open > 0
    {
        let unit = f[open + 1..f.len() - 1].trim();
        let name = f[..open].trim();
        if !name.is_empty() && !unit.is_empty() {
            return (name.to_string(), Some(unit.to_string()));
        }
    }
    (f.to_string(), None)
}

fn header_names(header: Record, origin: &str) -> Result<Vec<String>, DataError> {
    let names = header.fields;
    if names.iter().all(|n| cell(n).is_ok()) {
        return Err(DataError::NoHeader {
            origin: origin.to_string(),
        });
    }
    for (k, name) in names.iter().enumerate() {
        if name.is_empty() {
            return Err(DataError::EmptyName {
                origin: origin.to_string(),
                position: k + 1,
            });
        }
        if let Some(first) = names[..k].iter().position(|n| n == name) {
            return Err(DataError::DuplicateName {
                origin: origin.to_string(),
                name: name.clone(),
                first: first + 1,
                second: k + 1,
            });
        }
    }
    Ok(names)
}

/// A row must have one field per column.
fn check_width(record: &Record, names: &[String], origin: &str) -> Result<(), DataError> {
    let (got, expected) = (record.fields.len(), names.len());
    if got == expected {
        return Ok(());
    }
    let detail = if got < expected {
        format!("no value for column '{}' ({})", names[got], got + 1)
    } else {
        format!(
            "extra field {} {:?}",
            expected + 1,
            cut(&record.fields[expected])
        )
    };
    Err(DataError::Ragged {
        origin: origin.to_string(),
        line: record.line,
        expected,
        got,
        detail,
    })
}

/// Why a cell is not a finite number.
enum Problem {
    Missing,
    NaN,
    Infinite,
    Text,
}

impl Problem {
    /// The error for a cell at `line` in column `column` (1-based `position`).
    fn error(
        self,
        origin: &str,
        line: usize,
        column: &str,
        position: usize,
        text: &str,
        width: usize,
    ) -> DataError {
        let (origin, column, text) = (origin.to_string(), column.to_string(), cut(text));
        match self {
            Problem::Missing => DataError::MissingValue {
                origin,
                line,
                column,
                position,
                text,
            },
            Problem::NaN => DataError::NaN {
                origin,
                line,
                column,
                position,
                text,
            },
            Problem::Infinite => DataError::Infinite {
                origin,
                line,
                column,
                position,
                text,
            },
            Problem::Text => {
                let hint = text_hint(&text, width);
                DataError::NotANumber {
                    origin,
                    line,
                    column,
                    position,
                    text,
                    hint,
                }
            }
        }
    }
}

/// Markers read as a missing value (compared case-insensitively).
const MISSING: &[&str] = &["na", "n/a", "#n/a", "null", "none", "nil", "missing", "?"];

/// A cell's value: a finite number, or why not.
fn cell(text: &str) -> Result<f64, Problem> {
    if text.is_empty() || MISSING.iter().any(|m| text.eq_ignore_ascii_case(m)) {
        return Err(Problem::Missing);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_nan() => Err(Problem::NaN),
        Ok(v) if v.is_infinite() => Err(Problem::Infinite),
        Ok(v) => Ok(v),
        Err(_) => Err(Problem::Text),
    }
}

/// A guess at why a cell is text: a decimal comma, or a separator that is not sniffed.
fn text_hint(text: &str, width: usize) -> String {
    if text.contains(',') && text.replacen(',', ".", 1).parse::<f64>().is_ok() {
        "; write the decimal point as '.'".to_string()
    } else if width == 1 && text.split_whitespace().count() > 1 {
        "; the header has a single column: separate columns with tabs, commas or semicolons"
            .to_string()
    } else {
        String::new()
    }
}

/// At most 40 characters of a cell, with "..." when cut.
fn cut(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((k, _)) => format!("{}...", &text[..k]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_in_brackets_leave_the_name() {
        let t = Table::parse("v [m/s], t, [x], E [ J ]\n1,2,3,4\n", "u.csv").unwrap();
        assert_eq!(t.names, vec!["v", "t", "[x]", "E"]);
        assert_eq!(
            t.units,
            vec![Some("m/s".into()), None, None, Some("J".into())]
        );
        let (train, _) = t.split(0.0, 0);
        assert_eq!(train.units, t.units);
    }

    #[test]
    fn cells_are_finite_numbers_or_say_why_not() {
        for (text, value) in [("1", 1.0), ("-2.5e3", -2500.0), ("+.5", 0.5), ("1.", 1.0)] {
            assert_eq!(cell(text).ok(), Some(value), "{text}");
        }
        for text in ["", "NA", "n/a", "NULL", "None", "?"] {
            assert!(matches!(cell(text), Err(Problem::Missing)), "{text}");
        }
        for text in ["NaN", "nan", "-nan"] {
            assert!(matches!(cell(text), Err(Problem::NaN)), "{text}");
        }
        for text in ["inf", "-Infinity", "1e400"] {
            assert!(matches!(cell(text), Err(Problem::Infinite)), "{text}");
        }
        for text in ["abc", "1_000", "0x10", "1,5", "1 2", "--1"] {
            assert!(matches!(cell(text), Err(Problem::Text)), "{text}");
        }
    }

    #[test]
    fn long_cells_are_cut_on_a_character_boundary() {
        assert_eq!(cut("short"), "short");
        let long = "é".repeat(50);
        assert_eq!(cut(&long), format!("{}...", "é".repeat(40)));
    }

    #[test]
    fn below_stays_below_its_bound() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut seen = [false; 3];
        for _ in 0..200 {
            seen[below(&mut rng, 3)] = true;
        }
        assert_eq!(seen, [true; 3]);
        assert_eq!(below(&mut rng, 1), 0);
    }
}
