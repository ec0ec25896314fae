//! A small RFC 4180 reader: quoted cells may hold delimiters, doubled quotes
//! and newlines; the rows keep the line they start on and their raw text.

use std::iter::Peekable;
use std::str::CharIndices;

/// One row as written.
pub(super) struct Record<'a> {
    /// The 1-based line the row starts on.
    pub(super) line: usize,
    /// The row's text, across lines if a quoted cell spans them.
    pub(super) raw: &'a str,
    pub(super) fields: Vec<String>,
    /// False when a quote opened in this row never closes.
    pub(super) closed: bool,
}

/// The delimiter used most often outside quotes in `line`, if any.
pub(super) fn guess_delimiter(line: &str) -> Option<char> {
    let mut counts = [(',', 0), (';', 0), ('\t', 0)];
    let mut quoted = false;
    for c in line.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if let Some(count) = counts
            .iter_mut()
            .find(|(delimiter, _)| *delimiter == c && !quoted)
        {
            count.1 += 1;
        }
    }
    counts
        .iter()
        .filter(|(_, count)| *count > 0)
        .max_by_key(|(_, count)| *count)
        .map(|(delimiter, _)| *delimiter)
}

/// Every row of `input`, blank ones included.
pub(super) fn records(input: &str, delimiter: char) -> Vec<Record<'_>> {
    let mut scanner = Scanner {
        input,
        chars: input.char_indices().peekable(),
        line: 1,
        delimiter,
    };
    std::iter::from_fn(|| scanner.next_record()).collect()
}

struct Scanner<'a> {
    input: &'a str,
    chars: Peekable<CharIndices<'a>>,
    line: usize,
    delimiter: char,
}

impl<'a> Scanner<'a> {
    fn next_record(&mut self) -> Option<Record<'a>> {
        let &(start, _) = self.chars.peek()?;
        let line = self.line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut end = self.input.len();
        while let Some((index, c)) = self.chars.next() {
            match c {
                '"' if quoted => {
                    if self.chars.next_if(|&(_, next)| next == '"').is_some() {
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                }
                // Spaces before an opening quote are tolerated and dropped.
                '"' if field.trim().is_empty() => {
                    field.clear();
                    quoted = true;
                }
                '\n' if quoted => {
                    self.line += 1;
                    field.push('\n');
                }
                '\n' => {
                    self.line += 1;
                    end = index;
                    break;
                }
                '\r' if self.chars.peek().is_some_and(|&(_, next)| next == '\n') => {}
                c if c == self.delimiter && !quoted => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        Some(Record {
            line,
            raw: self.input[start..end].trim_end_matches('\r'),
            fields,
            closed: !quoted,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(input: &str) -> Vec<Vec<String>> {
        records(input, ',')
            .into_iter()
            .map(|record| record.fields)
            .collect()
    }

    #[test]
    fn plain_cells_are_split_on_the_delimiter() {
        assert_eq!(cells("a,b,,c\r\nd"), [vec!["a", "b", "", "c"], vec!["d"]]);
    }

    #[test]
    fn quoted_cells_hold_delimiters_quotes_and_newlines() {
        let rows = records("\"x, \"\"y\"\"\",  \"two\nlines\"\nnext", ',');
        assert_eq!(rows[0].fields, ["x, \"y\"", "two\nlines"]);
        assert_eq!((rows[0].line, rows[1].line), (1, 3));
        assert_eq!(rows[0].raw, "\"x, \"\"y\"\"\",  \"two\nlines\"");
        assert!(rows[0].closed);
    }

    #[test]
    fn a_quote_that_never_closes_is_flagged() {
        let rows = records("a,\"b\nc", ',');
        assert_eq!(rows.len(), 1);
        assert!(!rows[0].closed);
    }

    #[test]
    fn the_delimiter_is_the_one_used_most_outside_quotes() {
        assert_eq!(guess_delimiter("time;text"), Some(';'));
        assert_eq!(guess_delimiter("time\ttext,with comma"), Some('\t'));
        assert_eq!(guess_delimiter("\"a;b;c\",d"), Some(','));
        assert_eq!(guess_delimiter("no delimiter"), None);
    }
}
