//! Slack channel exports: a JSON array of message objects with epoch `ts`.

use chrono_tz::Tz;
use serde_json::Value;

use super::stamp::parse_timestamp;
use super::{Format, ParsedEntry, Transcript, Unparsed};

const SOURCE: &str = "Slack";

/// How much of a rejected record is shown back.
const SHOWN_CHARS: usize = 200;

/// Where the author's name may be, best first.
const AUTHOR_POINTERS: [&str; 6] = [
    "/user_profile/real_name",
    "/user_profile/display_name",
    "/user_name",
    "/username",
    "/bot_profile/name",
    "/user",
];

/// Reads a Slack export; each array element is one message.
pub(super) fn parse(input: &str, zone: Tz) -> Transcript {
    let mut transcript = Transcript {
        format: Format::SlackJson,
        entries: Vec::new(),
        unparsed: Vec::new(),
    };
    if input.trim().is_empty() {
        return transcript;
    }
    let messages = match serde_json::from_str(input) {
        Ok(Value::Array(messages)) => messages,
        // The shape `conversations.history` answers with.
        Ok(Value::Object(mut object)) if object.get("messages").is_some_and(Value::is_array) => {
            match object.remove("messages") {
                Some(Value::Array(messages)) => messages,
                _ => Vec::new(),
            }
        }
        Ok(other) => {
            let reason = "expected a list of Slack messages in [ ... ]";
            transcript.unparsed.push(rejected(1, &other, reason));
            return transcript;
        }
        Err(error) => {
            transcript.unparsed.push(invalid_json(input, &error));
            return transcript;
        }
    };
    for (index, message) in messages.iter().enumerate() {
        match read_message(message, zone, index + 1) {
            Ok(entry) => transcript.entries.push(entry),
            Err(reason) => transcript
                .unparsed
                .push(rejected(index + 1, message, reason)),
        }
    }
    transcript
}

fn read_message(message: &Value, zone: Tz, line: usize) -> Result<ParsedEntry, &'static str> {
    if !message.is_object() {
        return Err("not a message object");
    }
    let at = match message.get("ts") {
        Some(Value::String(ts)) => parse_timestamp(ts, zone, None),
        Some(Value::Number(ts)) => parse_timestamp(&ts.to_string(), zone, None),
        _ => None,
    }
    .ok_or("no usable time in \"ts\"")?;
    let text = message_text(message).ok_or("no text")?;
    Ok(ParsedEntry {
        at,
        author: author(message),
        text,
        source: SOURCE.to_owned(),
        line,
    })
}

fn author(message: &Value) -> Option<String> {
    AUTHOR_POINTERS
        .iter()
        .filter_map(|pointer| message.pointer(pointer)?.as_str())
        .map(str::trim)
        .find(|name| !name.is_empty())
        .map(str::to_owned)
}

/// The message text; bots often leave it empty and say it in attachments.
fn message_text(message: &Value) -> Option<String> {
    let text = message.get("text").and_then(Value::as_str).unwrap_or("");
    let mut parts: Vec<String> = Vec::new();
    if text.trim().is_empty() {
        parts.extend(attachment_texts(message));
    } else {
        parts.push(unescape(text.trim()));
    }
    parts.extend(shared_files(message));
    let text = parts.join("\n");
    (!text.is_empty()).then_some(text)
}

fn attachment_texts(message: &Value) -> Vec<String> {
    let attachments = message.get("attachments").and_then(Value::as_array);
    attachments
        .into_iter()
        .flatten()
        .filter_map(|attachment| {
            ["fallback", "text", "pretext", "title"]
                .iter()
                .filter_map(|field| attachment.get(field)?.as_str())
                .map(str::trim)
                .find(|text| !text.is_empty())
        })
        .map(unescape)
        .collect()
}

fn shared_files(message: &Value) -> Option<String> {
    let files = message.get("files").and_then(Value::as_array)?;
    let names: Vec<&str> = files
        .iter()
        .filter_map(|file| file.get("name").or_else(|| file.get("title"))?.as_str())
        .collect();
    match names.as_slice() {
        [] => None,
        [name] => Some(format!("shared file: {name}")),
        _ => Some(format!("shared files: {}", names.join(", "))),
    }
}

/// Slack escapes exactly these three characters in message text.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn rejected(line: usize, record: &Value, reason: &str) -> Unparsed {
    Unparsed {
        line,
        text: shorten(&record.to_string()),
        reason: reason.to_owned(),
    }
}

fn invalid_json(input: &str, error: &serde_json::Error) -> Unparsed {
    let line = error.line().max(1);
    let text = input.lines().nth(line - 1).unwrap_or("").trim();
    Unparsed {
        line,
        text: shorten(text),
        reason: format!("not valid JSON: {error}"),
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(SHOWN_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Transcript {
        parse(input, chrono_tz::Europe::Copenhagen)
    }

    #[test]
    fn messages_are_read_with_their_epoch_time_and_best_name() {
        let export = r#"[
            {"type": "message", "user": "U1", "text": "db is down &amp; paging",
             "ts": "1624350060.000200",
             "user_profile": {"real_name": "Alice Smith", "display_name": "alice"}},
            {"type": "message", "user": "U2", "text": "on it", "ts": "1624350120.000300",
             "user_profile": {"real_name": "", "display_name": "bob"}},
            {"type": "message", "user": "U3", "text": "  me too  ", "ts": "1624350180.000100"}
        ]"#;
        let transcript = read(export);
        assert_eq!(transcript.format, Format::SlackJson);
        let first = &transcript.entries[0];
        assert_eq!(first.at.to_rfc3339(), "2021-06-22T08:21:00.000200+00:00");
        assert_eq!(first.author.as_deref(), Some("Alice Smith"));
        assert_eq!(first.text, "db is down & paging");
        assert_eq!((first.source.as_str(), first.line), ("Slack", 1));
        assert_eq!(transcript.entries[1].author.as_deref(), Some("bob"));
        assert_eq!(transcript.entries[2].author.as_deref(), Some("U3"));
        assert_eq!(transcript.entries[2].text, "me too");
        assert!(transcript.unparsed.is_empty());
    }

    #[test]
    fn bots_are_named_by_username_and_read_from_attachments() {
        let export = r#"[{"subtype": "bot_message", "username": "PagerDuty", "text": "",
            "ts": "1624350060.000200", "bot_id": "B1",
            "attachments": [{"fallback": "Triggered: checkout 5xx", "text": "details"}]}]"#;
        let entry = &read(export).entries[0];
        assert_eq!(entry.author.as_deref(), Some("PagerDuty"));
        assert_eq!(entry.text, "Triggered: checkout 5xx");
    }

    #[test]
    fn a_file_without_text_says_which_file() {
        let export = r#"[{"user": "U1", "text": "", "ts": "1624350060.000200",
            "files": [{"name": "grafana.png"}]},
            {"user": "U1", "text": "logs", "ts": "1624350061.000200",
            "files": [{"name": "a.log"}, {"name": "b.log"}]}]"#;
        let transcript = read(export);
        assert_eq!(transcript.entries[0].text, "shared file: grafana.png");
        assert_eq!(
            transcript.entries[1].text,
            "logs\nshared files: a.log, b.log"
        );
    }

    #[test]
    fn records_without_time_or_text_are_kept_with_a_reason() {
        let export = r#"[{"user": "U1", "text": "no time"},
            {"user": "U1", "text": "", "ts": "1624350060.000200"},
            {"user": "U1", "text": "bad time", "ts": "soon"}, 42]"#;
        let transcript = read(export);
        assert!(transcript.entries.is_empty());
        let reasons: Vec<(usize, &str)> = transcript
            .unparsed
            .iter()
            .map(|skipped| (skipped.line, skipped.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (1, "no usable time in \"ts\""),
                (2, "no text"),
                (3, "no usable time in \"ts\""),
                (4, "not a message object")
            ]
        );
        assert_eq!(
            transcript.unparsed[0].text,
            r#"{"text":"no time","user":"U1"}"#
        );
    }

    #[test]
    fn a_long_rejected_record_is_shortened_to_200_characters() {
        let export = format!(r#"[{{"text": "{}"}}]"#, "é".repeat(500));
        let skipped = &read(&export).unparsed[0];
        assert_eq!(skipped.text.chars().count(), 200);
    }

    #[test]
    fn invalid_json_is_one_unparsed_entry_with_the_error() {
        let transcript = read("[\n{\"ts\": \"1\",\n  oops\n]");
        assert_eq!(transcript.unparsed.len(), 1);
        let skipped = &transcript.unparsed[0];
        assert_eq!((skipped.line, skipped.text.as_str()), (3, "oops"));
        assert!(
            skipped.reason.starts_with("not valid JSON"),
            "{}",
            skipped.reason
        );
    }

    #[test]
    fn an_api_response_with_a_messages_list_is_accepted() {
        let response = r#"{"ok": true, "messages": [{"text": "hi", "ts": "1624350060.1"}]}"#;
        assert_eq!(read(response).entries[0].text, "hi");
        let other = read(r#"{"ok": true}"#);
        assert!(other.unparsed[0].reason.starts_with("expected a list"));
    }

    #[test]
    fn numeric_timestamps_are_accepted_and_blank_input_is_empty() {
        let export = r#"[{"text": "hi", "ts": 1624350060}]"#;
        assert_eq!(read(export).entries[0].at.timestamp(), 1_624_350_060);
        assert_eq!(read("  \n").unparsed, []);
    }
}
