//! JSON lines from alerting and deploy tools: one object per line.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde_json::Value;

use super::stamp::{Calendar, read_stamp};
use super::{Format, ParsedEntry, Transcript, Unparsed};

/// Where the time may be, best first.
const TIME_KEYS: [&str; 9] = [
    "timestamp",
    "time",
    "at",
    "ts",
    "@timestamp",
    "startsAt",
    "started_at",
    "created_at",
    "date",
];

/// Where the text may be, best first.
const TEXT_POINTERS: [&str; 10] = [
    "/text",
    "/message",
    "/msg",
    "/summary",
    "/description",
    "/title",
    "/annotations/summary",
    "/annotations/description",
    "/labels/alertname",
    "/alertname",
];

const AUTHOR_KEYS: [&str; 4] = ["user", "author", "service", "actor"];
const ALERT_KEYS: [&str; 3] = ["alertname", "labels", "alert"];
const DEPLOY_KEYS: [&str; 6] = [
    "deploy",
    "version",
    "commit",
    "sha",
    "release",
    "environment",
];
const VERSION_KEYS: [&str; 4] = ["version", "release", "sha", "commit"];

/// Reads one JSON object per non-blank line.
pub(super) fn parse(input: &str, zone: Tz, date: Option<NaiveDate>) -> Transcript {
    let mut calendar = Calendar::new(zone, date);
    let mut transcript = Transcript {
        format: Format::JsonLines,
        entries: Vec::new(),
        unparsed: Vec::new(),
    };
    let lines = input
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()));
    for (number, line) in lines.filter(|(_, line)| !line.is_empty()) {
        match read_object(line, &mut calendar) {
            Ok(entry) => transcript.entries.push(ParsedEntry {
                line: number,
                ..entry
            }),
            Err(reason) => transcript.unparsed.push(Unparsed {
                line: number,
                text: line.to_owned(),
                reason,
            }),
        }
    }
    transcript
}

fn read_object(line: &str, calendar: &mut Calendar) -> Result<ParsedEntry, String> {
    let object: Value =
        serde_json::from_str(line).map_err(|error| format!("not valid JSON: {error}"))?;
    if !object.is_object() {
        return Err("not a JSON object".to_owned());
    }
    let (key, time) = TIME_KEYS
        .iter()
        .find_map(|key| Some((key, scalar(object.get(key)?)?)))
        .ok_or("no time field (timestamp, time, ts, ...)")?;
    let stamp =
        read_stamp(&time).ok_or_else(|| format!("\"{time}\" in \"{key}\" is not a time"))?;
    let at = calendar.place(stamp)?;
    let kind = Kind::of(&object);
    let text = kind
        .text(&object)
        .ok_or("no text field (message, summary, ...)")?;
    Ok(ParsedEntry {
        at,
        author: first_scalar(&object, &AUTHOR_KEYS),
        text,
        source: kind.source(&object),
        line: 0,
    })
}

/// What the object reports, judged by the fields such tools write.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Alert,
    Deploy,
    Other,
}

impl Kind {
    fn of(object: &Value) -> Kind {
        let has = |keys: &[&str]| keys.iter().any(|key| object.get(key).is_some());
        // A deploy may carry a status too; only an alert-like one decides.
        if has(&ALERT_KEYS) {
            Kind::Alert
        } else if has(&DEPLOY_KEYS) {
            Kind::Deploy
        } else if has(&["status"]) {
            Kind::Alert
        } else {
            Kind::Other
        }
    }

    fn source(self, object: &Value) -> String {
        match self {
            Kind::Alert => "alert".to_owned(),
            Kind::Deploy => "deploy".to_owned(),
            Kind::Other => first_scalar(object, &["source", "service"])
                .unwrap_or_else(|| "JSON lines".to_owned()),
        }
    }

    fn text(self, object: &Value) -> Option<String> {
        let written = TEXT_POINTERS
            .iter()
            .find_map(|pointer| scalar(object.pointer(pointer)?));
        let text = match self {
            Kind::Deploy => written.or_else(|| deploy_summary(object)),
            _ => written,
        }?;
        match (self, alert_status(object)) {
            (Kind::Alert, Some(status)) => Some(format!("[{status}] {text}")),
            _ => Some(text),
        }
    }
}

/// `firing`, `resolved`, ... as a string or Alertmanager's `{"state": ...}`.
fn alert_status(object: &Value) -> Option<String> {
    let status = object.get("status")?;
    scalar(status).or_else(|| scalar(status.get("state")?))
}

/// A deploy record without a message: `deploy api 1.4.2 to production`.
fn deploy_summary(object: &Value) -> Option<String> {
    let environment = first_scalar(object, &["environment"]).map(|name| format!("to {name}"));
    let parts: Vec<String> = [
        first_scalar(object, &["deploy"]),
        first_scalar(object, &["service"]),
        first_scalar(object, &VERSION_KEYS),
        environment,
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| format!("deploy {}", parts.join(" ")))
}

fn first_scalar(object: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|key| scalar(object.get(key)?))
}

/// A string, number or boolean as trimmed text; `None` when empty or nested.
fn scalar(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(text) => text.trim().to_owned(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Transcript {
        parse(input, chrono_tz::Europe::Copenhagen, None)
    }

    #[test]
    fn alerts_are_prefixed_with_their_status() {
        let line = r#"{"status": "firing", "labels": {"alertname": "HighErrorRate"},
            "annotations": {"summary": "5xx above 5%"}, "startsAt": "2021-06-22T08:21:05Z"}"#;
        let entry = &read(&line.replace('\n', " ")).entries[0];
        assert_eq!(entry.text, "[firing] 5xx above 5%");
        assert_eq!(entry.source, "alert");
        assert_eq!(entry.at.to_rfc3339(), "2021-06-22T08:21:05+00:00");
    }

    #[test]
    fn an_alert_without_annotations_is_named_by_its_alertname() {
        let line = r#"{"status": {"state": "resolved"}, "labels": {"alertname": "DiskFull"}, "startsAt": 1624350060}"#;
        assert_eq!(read(line).entries[0].text, "[resolved] DiskFull");
    }

    #[test]
    fn deploys_are_recognised_and_described_when_they_carry_no_message() {
        let input = concat!(
            r#"{"ts": 1624350060, "service": "api", "version": "1.4.2", "environment": "prod", "user": "alice", "status": "success"}"#,
            "\n",
            r#"{"time": "2021-06-22 10:30", "sha": "abc123", "message": "rollback", "actor": "bob"}"#,
        );
        let transcript = read(input);
        let first = &transcript.entries[0];
        assert_eq!(first.text, "deploy api 1.4.2 to prod");
        assert_eq!(
            (first.source.as_str(), first.author.as_deref()),
            ("deploy", Some("alice"))
        );
        let second = &transcript.entries[1];
        assert_eq!(second.text, "rollback");
        assert_eq!(
            second.at.to_rfc3339(),
            "2021-06-22T08:30:00+00:00",
            "read in Copenhagen"
        );
        assert_eq!((second.author.as_deref(), second.line), (Some("bob"), 2));
    }

    #[test]
    fn other_objects_take_their_source_from_a_field() {
        let input = "{\"@timestamp\": \"2021-06-22T08:21:00Z\", \"msg\": \"oom\", \"service\": \"worker\"}\n{\"date\": 1624350060000, \"text\": \"note\"}";
        let transcript = read(input);
        let worker = &transcript.entries[0];
        assert_eq!(
            (worker.source.as_str(), worker.author.as_deref()),
            ("worker", Some("worker"))
        );
        assert_eq!(transcript.entries[1].source, "JSON lines");
        assert_eq!(transcript.entries[1].at.timestamp(), 1_624_350_060);
    }

    #[test]
    fn bad_lines_are_kept_with_a_reason() {
        let input = "{\"msg\": \"no time\"}\n\n{\"ts\": \"later\", \"msg\": \"x\"}\n{\"ts\": 1624350060}\n[1]\n{oops";
        let transcript = read(input);
        assert!(transcript.entries.is_empty());
        let reasons: Vec<(usize, &str)> = transcript
            .unparsed
            .iter()
            .map(|skipped| (skipped.line, skipped.reason.as_str()))
            .collect();
        assert_eq!(reasons[0], (1, "no time field (timestamp, time, ts, ...)"));
        assert_eq!(reasons[1], (3, "\"later\" in \"ts\" is not a time"));
        assert_eq!(reasons[2], (4, "no text field (message, summary, ...)"));
        assert_eq!(reasons[3], (5, "not a JSON object"));
        assert_eq!(reasons[4].0, 6);
        assert!(reasons[4].1.starts_with("not valid JSON"));
        assert_eq!(transcript.unparsed[4].text, "{oops");
    }

    #[test]
    fn the_first_present_time_field_wins() {
        let line =
            r#"{"timestamp": null, "time": "2021-06-22T08:21:00Z", "date": "junk", "text": "t"}"#;
        assert_eq!(
            read(line).entries[0].at.to_rfc3339(),
            "2021-06-22T08:21:00+00:00"
        );
    }
}
