//! The rows of a CSV input, read by the `csv` crate (quoted cells may hold
//! delimiters, doubled quotes and newlines), each with the line it starts
//! on and its raw text, so a row that cannot be read is shown as written.

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

/// Every row of `input` that has any cell (blank lines are skipped).
pub(super) fn records(input: &str, delimiter: char) -> Vec<Record<'_>> {
    let Ok(delimiter) = u8::try_from(delimiter) else {
        return Vec::new();
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    // The input is a `str`, so the only way reading can fail is a cell that
    // is not UTF-8, which cannot happen; stop rather than loop if it does.
    while let Ok(true) = reader.read_record(&mut record) {
        let Some(start) = record.position() else {
            break;
        };
        let (from, to) = (start.byte() as usize, reader.position().byte() as usize);
        let raw = input
            .get(from..to.min(input.len()))
            .unwrap_or_default()
            .trim_end_matches(['\r', '\n']);
        rows.push(Record {
            line: start.line() as usize,
            raw,
            fields: record.iter().map(str::to_owned).collect(),
            // Doubled quotes inside a cell come in pairs, so an odd count
            // means a quote that never closed (and ran to the end).
            closed: raw.matches('"').count() % 2 == 0,
        });
    }
    rows
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
        let rows = records("\"x, \"\"y\"\"\",\"two\nlines\"\nnext", ',');
        assert_eq!(rows[0].fields, ["x, \"y\"", "two\nlines"]);
        assert_eq!((rows[0].line, rows[1].line), (1, 3));
        assert_eq!(rows[0].raw, "\"x, \"\"y\"\"\",\"two\nlines\"");
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
