//! Plain-text chat logs: a time at the start of each message, an optional
//! `name:` or IRC `<name>`, and untimed lines continuing the message above.

use chrono::NaiveDate;
use chrono_tz::Tz;

use super::stamp::{Calendar, Stamp, read_stamp};
use super::{Format, ParsedEntry, Transcript, Unparsed};

const SOURCE: &str = "chat log";

/// Reads a chat log, one message per timed line.
pub(super) fn parse(input: &str, zone: Tz, date: Option<NaiveDate>) -> Transcript {
    let mut reader = Reader {
        calendar: Calendar::new(zone, date),
        entries: Vec::new(),
        first_lines: Vec::new(),
        unparsed: Vec::new(),
        open: Open::Nothing,
    };
    for (index, line) in input.lines().enumerate() {
        reader.read_line(index + 1, line);
    }
    reader.finish()
}

/// What an untimed line would continue.
enum Open {
    Nothing,
    Entry,
    Unparsed,
}

struct Reader {
    calendar: Calendar,
    entries: Vec<ParsedEntry>,
    /// The line each entry started on, kept to explain an entry with no text.
    first_lines: Vec<String>,
    unparsed: Vec<Unparsed>,
    open: Open,
}

impl Reader {
    fn read_line(&mut self, number: usize, line: &str) {
        if line.trim().is_empty() {
            if let (Open::Entry, Some(entry)) = (&self.open, self.entries.last_mut()) {
                entry.text.push('\n');
            }
            return;
        }
        let Some((stamp, rest)) = split_stamp(line) else {
            return self.continue_message(number, line.trim());
        };
        match self.calendar.place(stamp) {
            Ok(at) => {
                let (author, text) = split_author(rest);
                self.entries.push(ParsedEntry {
                    at,
                    author,
                    text,
                    source: SOURCE.to_owned(),
                    line: number,
                });
                self.first_lines.push(line.to_owned());
                self.open = Open::Entry;
            }
            Err(reason) => {
                self.unparsed.push(skipped_line(number, line, &reason));
                self.open = Open::Unparsed;
            }
        }
    }

    fn continue_message(&mut self, number: usize, line: &str) {
        let target = match self.open {
            Open::Entry => self.entries.last_mut().map(|entry| &mut entry.text),
            Open::Unparsed => self.unparsed.last_mut().map(|skipped| &mut skipped.text),
            Open::Nothing => None,
        };
        match target {
            Some(text) => {
                text.push('\n');
                text.push_str(line);
            }
            None => {
                let reason = "no time at the start of the line";
                self.unparsed.push(skipped_line(number, line, reason));
            }
        }
    }

    fn finish(self) -> Transcript {
        let mut entries = Vec::with_capacity(self.entries.len());
        let mut unparsed = self.unparsed;
        for (mut entry, first_line) in self.entries.into_iter().zip(self.first_lines) {
            entry.text = entry.text.trim().to_owned();
            if entry.text.is_empty() {
                unparsed.push(skipped_line(
                    entry.line,
                    &first_line,
                    "a time but no message",
                ));
            } else {
                entries.push(entry);
            }
        }
        unparsed.sort_by_key(|skipped| skipped.line);
        Transcript {
            format: Format::PlainText,
            entries,
            unparsed,
        }
    }
}

fn skipped_line(line: usize, text: &str, reason: &str) -> Unparsed {
    Unparsed {
        line,
        text: text.trim().to_owned(),
        reason: reason.to_owned(),
    }
}

/// The leading time (`[...]` or the first one to three words) and the rest.
fn split_stamp(line: &str) -> Option<(Stamp, &str)> {
    let line = line.trim_start();
    if let Some(bracketed) = line.strip_prefix('[') {
        let (inside, rest) = bracketed.split_once(']')?;
        return Some((read_stamp(inside)?, rest));
    }
    (1..=3).rev().find_map(|count| {
        let (head, rest) = leading_words(line, count)?;
        Some((read_stamp(head)?, rest))
    })
}

/// The first `count` whitespace-separated words of `line`, and what follows.
fn leading_words(line: &str, count: usize) -> Option<(&str, &str)> {
    let mut end = 0;
    for _ in 0..count {
        let rest = &line[end..];
        let start = end + (rest.len() - rest.trim_start().len());
        if start == line.len() {
            return None;
        }
        end = line[start..]
            .find(char::is_whitespace)
            .map_or(line.len(), |length| start + length);
    }
    Some(line.split_at(end))
}

/// `<name> text` (IRC) or `name: text`; otherwise the whole text, no author.
fn split_author(rest: &str) -> (Option<String>, String) {
    let rest = rest.trim();
    let named = rest
        .strip_prefix('<')
        .and_then(|after| after.split_once('>'))
        .map(|(name, text)| (name.trim_start_matches(['@', '+']), text))
        .or_else(|| split_colon(rest))
        .filter(|(name, _)| looks_like_name(name));
    match named {
        Some((name, text)) => (Some(name.trim().to_owned()), text.trim().to_owned()),
        None => (None, rest.to_owned()),
    }
}

/// Splits at the first colon when it ends a word (not `https://`).
fn split_colon(text: &str) -> Option<(&str, &str)> {
    let (name, after) = text.split_once(':')?;
    (after.is_empty() || after.starts_with(char::is_whitespace)).then_some((name, after))
}

fn looks_like_name(name: &str) -> bool {
    let name = name.trim();
    !name.is_empty() && name.chars().count() <= 40 && name.split_whitespace().count() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    const COPENHAGEN: Tz = chrono_tz::Europe::Copenhagen;

    fn day() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2021, 6, 22)
    }

    fn times(transcript: &Transcript) -> Vec<String> {
        let stamp = |entry: &ParsedEntry| entry.at.format("%Y-%m-%d %H:%M:%S").to_string();
        transcript.entries.iter().map(stamp).collect()
    }

    #[test]
    fn dated_lines_are_read_in_the_zone() {
        let log = "[2021-06-22 10:21] alice: db is down\n2021-06-22 10:22:05 bob: on it";
        let transcript = parse(log, COPENHAGEN, None);
        assert_eq!(
            times(&transcript),
            ["2021-06-22 08:21:00", "2021-06-22 08:22:05"]
        );
        let first = &transcript.entries[0];
        assert_eq!(first.author.as_deref(), Some("alice"));
        assert_eq!(first.text, "db is down");
        assert_eq!((first.source.as_str(), first.line), ("chat log", 1));
        assert_eq!(transcript.entries[1].author.as_deref(), Some("bob"));
        assert!(transcript.unparsed.is_empty());
    }

    #[test]
    fn times_alone_use_the_given_day() {
        let log = "[08:21] alice: paged\n08:25 bob: looking\n[08:30:33] <carol> fixed it";
        let transcript = parse(log, Tz::UTC, day());
        assert_eq!(
            times(&transcript),
            [
                "2021-06-22 08:21:00",
                "2021-06-22 08:25:00",
                "2021-06-22 08:30:33"
            ]
        );
        let carol = &transcript.entries[2];
        assert_eq!(
            (carol.author.as_deref(), carol.text.as_str()),
            (Some("carol"), "fixed it")
        );
    }

    #[test]
    fn a_line_without_a_name_has_no_author() {
        let transcript = parse("08:21 error rate above 5% on checkout", Tz::UTC, day());
        let entry = &transcript.entries[0];
        assert_eq!(entry.author, None);
        assert_eq!(entry.text, "error rate above 5% on checkout");
    }

    #[test]
    fn a_link_is_not_mistaken_for_a_name() {
        let transcript = parse("08:21 see https://status.example.com", Tz::UTC, day());
        assert_eq!(transcript.entries[0].author, None);
        assert_eq!(transcript.entries[0].text, "see https://status.example.com");
    }

    #[test]
    fn untimed_lines_continue_the_message_above() {
        let log = "08:21 alice: the stack trace:\n  at db.connect\n\n  at main\n08:22 bob: ok\n";
        let transcript = parse(log, Tz::UTC, day());
        assert_eq!(transcript.entries.len(), 2);
        assert_eq!(
            transcript.entries[0].text,
            "the stack trace:\nat db.connect\n\nat main"
        );
        assert_eq!(transcript.entries[1].text, "ok");
        assert!(transcript.unparsed.is_empty());
    }

    #[test]
    fn lines_before_the_first_time_are_kept_with_a_reason() {
        let transcript = parse("Incident channel\n08:21 alice: hi", Tz::UTC, day());
        assert_eq!(transcript.entries.len(), 1);
        let skipped = &transcript.unparsed[0];
        assert_eq!(
            (skipped.line, skipped.text.as_str()),
            (1, "Incident channel")
        );
        assert_eq!(skipped.reason, "no time at the start of the line");
    }

    #[test]
    fn times_alone_without_a_day_are_kept_with_a_reason() {
        let transcript = parse("08:21 alice: hi\nsecond line\n08:22 bob: yo", Tz::UTC, None);
        assert!(transcript.entries.is_empty());
        assert_eq!(transcript.unparsed.len(), 2);
        assert_eq!(transcript.unparsed[0].text, "08:21 alice: hi\nsecond line");
        assert_eq!(
            transcript.unparsed[0].reason,
            "only a time: pick the day the log starts"
        );
        assert_eq!(transcript.unparsed[1].line, 3);
    }

    #[test]
    fn a_dated_line_gives_the_day_to_the_times_after_it() {
        let log = "2021-06-22 23:58 alice: still broken\n23:59 bob: yes\n00:03 alice: fixed";
        let transcript = parse(log, Tz::UTC, None);
        assert_eq!(
            times(&transcript),
            [
                "2021-06-22 23:58:00",
                "2021-06-22 23:59:00",
                "2021-06-23 00:03:00"
            ]
        );
    }

    #[test]
    fn a_log_crossing_midnight_moves_to_the_next_day() {
        let log = "[23:50] alice: deploying\n[23:45] bob: wait\n[00:05] alice: done";
        let transcript = parse(log, COPENHAGEN, day());
        assert_eq!(
            times(&transcript),
            [
                "2021-06-22 21:50:00",
                "2021-06-22 21:45:00",
                "2021-06-22 22:05:00"
            ]
        );
    }

    #[test]
    fn a_time_with_no_message_is_kept_with_a_reason() {
        let transcript = parse("08:21 alice:\n08:22 bob: hi", Tz::UTC, day());
        assert_eq!(transcript.entries.len(), 1);
        assert_eq!(transcript.unparsed[0].reason, "a time but no message");
        assert_eq!(transcript.unparsed[0].text, "08:21 alice:");
    }

    #[test]
    fn a_name_on_its_own_line_takes_the_lines_below() {
        let transcript = parse("08:21 alice:\nfirst\nsecond", Tz::UTC, day());
        assert_eq!(transcript.entries[0].author.as_deref(), Some("alice"));
        assert_eq!(transcript.entries[0].text, "first\nsecond");
    }

    #[test]
    fn a_skipped_spring_hour_is_explained() {
        let transcript = parse("2021-03-28 02:30 alice: hm", COPENHAGEN, None);
        assert!(transcript.unparsed[0].reason.contains("does not exist"));
    }

    #[test]
    fn brackets_that_hold_no_time_are_not_times() {
        let transcript = parse("[ERROR] disk full", Tz::UTC, day());
        assert_eq!(
            transcript.unparsed[0].reason,
            "no time at the start of the line"
        );
    }

    #[test]
    fn windows_line_endings_are_handled() {
        let transcript = parse("08:21 alice: hi\r\n08:22 bob: yo\r\n", Tz::UTC, day());
        assert_eq!(transcript.entries[0].text, "hi");
        assert_eq!(transcript.entries[1].text, "yo");
    }
}
