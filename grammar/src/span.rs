//! Source positions: every AST node carries a [`Span`] (line, column, byte offset).

use std::hash::{Hash, Hasher};

/// Where a node starts in the source: 1-based line and column (in characters) and the
/// byte offset.
///
/// Spans never take part in equality or hashing: two programs that differ only in layout
/// compare equal, which is what `parse(print(p)) == p` means.
#[derive(Clone, Copy, Debug, Default)]
pub struct Span {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    /// Byte offset from the start of the source.
    pub offset: u32,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for Span {}

impl Hash for Span {
    fn hash<H: Hasher>(&self, _state: &mut H) {}
}

impl Span {
    /// A span with only a line and a column (offset 0).
    pub fn at(line: u32, column: u32) -> Self {
        Span {
            line,
            column,
            offset: 0,
        }
    }
}

/// Maps byte offsets of one source text to lines and columns.
#[derive(Clone, Debug)]
pub(crate) struct LineIndex<'s> {
    src: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    /// Indexes the line starts of `src`.
    pub(crate) fn new(src: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { src, starts }
    }

    /// The span of byte offset `offset` (clamped to the source length).
    pub(crate) fn span(&self, offset: usize) -> Span {
        let offset = offset.min(self.src.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .src
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Span {
            line: to_u32(line),
            column: to_u32(column),
            offset: to_u32(offset),
        }
    }
}

/// Saturating conversion for positions (sources are limited far below `u32::MAX`).
pub(crate) fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// The source line `line` (1-based) and a caret under `column`, for error display.
pub(crate) fn caret_excerpt(src: &str, line: u32, column: u32) -> String {
    let text = src
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("");
    // Long lines (an 80 kB one-liner) are cut around the column so the excerpt stays short.
    let chars: Vec<char> = text.chars().collect();
    let col = (column.max(1) as usize - 1).min(chars.len());
    let from = col.saturating_sub(60);
    let to = (col + 60).min(chars.len());
    let shown: String = chars[from..to]
        .iter()
        .map(|&c| if c == '\t' { ' ' } else { c })
        .collect();
    let prefix = if from > 0 { "..." } else { "" };
    let pad = " ".repeat(col - from + prefix.len());
    format!("{line:>4} | {prefix}{shown}\n     | {pad}^")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let idx = LineIndex::new("ab\nσx\n");
        let s = idx.span(0);
        assert_eq!((s.line, s.column), (1, 1));
        let s = idx.span(3);
        assert_eq!((s.line, s.column), (2, 1));
        let s = idx.span(5);
        assert_eq!((s.line, s.column), (2, 2));
        let s = idx.span(100);
        assert_eq!(s.line, 3);
    }

    #[test]
    fn excerpt_has_caret() {
        let e = caret_excerpt("x = 1\ny = (2\n", 2, 5);
        assert_eq!(e, "   2 | y = (2\n     |     ^");
    }
}
