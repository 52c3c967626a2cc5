//! Delimited text split into records: the separator sniffed from the header line, quoted
//! fields (`"a,b"`, `""` for a quote, line breaks inside quotes), and the exact 1-based
//! line where each record starts (`\n`, `\r\n` and a lone `\r` each end one line).

/// One row of the text.
#[derive(Debug, PartialEq)]
pub(super) struct Record {
    /// 1-based line where the record starts.
    pub line: usize,
    /// The fields, unquoted and trimmed of surrounding whitespace.
    pub fields: Vec<String>,
    /// The line holds nothing but whitespace.
    pub blank: bool,
}

/// A quoting error: its line and what is wrong.
#[derive(Debug, PartialEq)]
pub(super) struct SyntaxError {
    pub line: usize,
    pub message: String,
}

/// The separator: tab if the first line has a tab, else comma if it has a comma, else
/// semicolon if it has one, else comma (a one-column table).
pub(super) fn sniff(text: &str) -> char {
    let first = text.split(['\n', '\r']).next().unwrap_or("");
    if first.contains('\t') {
        '\t'
    } else if first.contains(',') || !first.contains(';') {
        ','
    } else {
        ';'
    }
}

/// The records of a text, in order.
pub(super) struct Records<'a> {
    rest: &'a str,
    line: usize,
    sep: char,
    failed: bool,
}

impl<'a> Records<'a> {
    /// Records of `text` split at `sep`.
    pub fn new(text: &'a str, sep: char) -> Self {
        Records {
            rest: text,
            line: 1,
            sep,
            failed: false,
        }
    }

    /// Reads one record from `self.rest`, which is not empty.
    fn record(&mut self) -> Result<Record, SyntaxError> {
        #[derive(PartialEq)]
        enum State {
            /// In an unquoted field (or before the first character of a field).
            Plain,
            /// Inside quotes; the field's quote opened on this line.
            Quoted(usize),
            /// After a field's closing quote.
            Closed,
        }
        let start = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut state = State::Plain;
        let mut chars = self.rest.char_indices().peekable();
        let mut end = self.rest.len();
        while let Some((_, c)) = chars.next() {
            let newline = c == '\n' || c == '\r';
            if newline && c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
                chars.next();
            }
            match state {
                State::Quoted(_) => {
                    if c == '"' {
                        if chars.peek().is_some_and(|&(_, n)| n == '"') {
                            chars.next();
                            field.push('"');
                        } else {
                            state = State::Closed;
                        }
                    } else if newline {
                        field.push('\n');
                        self.line += 1;
                    } else {
                        field.push(c);
                    }
                }
                State::Plain | State::Closed if newline => {
                    self.line += 1;
                    end = chars.peek().map_or(self.rest.len(), |&(k, _)| k);
                    break;
                }
                State::Plain | State::Closed if c == self.sep => {
                    fields.push(finish(&mut field));
                    quoted = false;
                    state = State::Plain;
                }
                State::Plain => {
                    if c == '"' && field.trim().is_empty() {
                        field.clear();
                        quoted = true;
                        state = State::Quoted(self.line);
                    } else {
                        field.push(c);
                    }
                }
                State::Closed => {
                    if !c.is_whitespace() {
                        return Err(SyntaxError {
                            line: self.line,
                            message: format!(
                                "unexpected {c:?} after the closing quote of field {}; a quoted field ends at the next separator {:?}",
                                fields.len() + 1,
                                self.sep
                            ),
                        });
                    }
                }
            }
        }
        if let State::Quoted(opened) = state {
            return Err(SyntaxError {
                line: opened,
                message: format!(
                    "the quote opening field {} is never closed",
                    fields.len() + 1
                ),
            });
        }
        self.rest = &self.rest[end..];
        let blank = fields.is_empty() && !quoted && field.trim().is_empty();
        fields.push(finish(&mut field));
        Ok(Record {
            line: start,
            fields,
            blank,
        })
    }
}

/// The field's text, trimmed; the buffer is left empty.
fn finish(field: &mut String) -> String {
    let text = field.trim().to_string();
    field.clear();
    text
}

impl Iterator for Records<'_> {
    type Item = Result<Record, SyntaxError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        let record = self.record();
        self.failed = record.is_err();
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<Result<Record, SyntaxError>> {
        Records::new(text, sniff(text)).collect()
    }

    /// (line, fields, blank) of each record.
    fn rows(text: &str) -> Vec<(usize, Vec<String>, bool)> {
        split(text)
            .into_iter()
            .map(|r| {
                let r = r.expect("no syntax error");
                (r.line, r.fields, r.blank)
            })
            .collect()
    }

    fn row(line: usize, fields: &[&str], blank: bool) -> (usize, Vec<String>, bool) {
        (line, fields.iter().map(|f| f.to_string()).collect(), blank)
    }

    #[test]
    fn separators_are_sniffed_from_the_first_line() {
        assert_eq!(sniff("a\tb,c\n1\t2"), '\t');
        assert_eq!(sniff("a,b;c\n"), ',');
        assert_eq!(sniff("a;b\n1,5;2"), ';');
        assert_eq!(sniff("a\n1;2"), ',');
        assert_eq!(sniff(""), ',');
    }

    #[test]
    fn lines_are_counted_across_crlf_lone_cr_and_blank_lines() {
        assert_eq!(
            rows("a,b\r\n1,2\r\n\r\n3,4\r5,6"),
            vec![
                row(1, &["a", "b"], false),
                row(2, &["1", "2"], false),
                row(3, &[""], true),
                row(4, &["3", "4"], false),
                row(5, &["5", "6"], false),
            ]
        );
        assert_eq!(
            rows("a\n  \n"),
            vec![row(1, &["a"], false), row(2, &[""], true)]
        );
    }

    #[test]
    fn quoted_fields_hold_separators_quotes_and_line_breaks() {
        assert_eq!(
            rows("\"a,b\", \"say \"\"hi\"\"\" ,c\n\"x\ny\",2,3\n4,5,6"),
            vec![
                row(1, &["a,b", "say \"hi\"", "c"], false),
                row(2, &["x\ny", "2", "3"], false),
                row(4, &["4", "5", "6"], false),
            ]
        );
        // A quote inside an unquoted field is text; an empty quoted field is not blank.
        assert_eq!(
            rows("5\"\n\"\""),
            vec![row(1, &["5\""], false), row(2, &[""], false)]
        );
    }

    #[test]
    fn quoting_errors_name_their_line() {
        let errors: Vec<_> = split("a,b\n1,\"2\n3,4")
            .into_iter()
            .filter_map(Result::err)
            .collect();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0].message.contains("never closed"),
            "{}",
            errors[0].message
        );
        let errors: Vec<_> = split("a,b\n\"1\"x,2\n")
            .into_iter()
            .filter_map(Result::err)
            .collect();
        assert_eq!(errors[0].line, 2);
        assert!(
            errors[0]
                .message
                .contains("after the closing quote of field 1")
        );
    }
}
