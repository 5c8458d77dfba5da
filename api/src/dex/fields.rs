//! Parsing of dex entry input: ids, decimals, datetimes, choices and sync requests.

use biologidex_core::ids::{AnalysisJobId, AnimalId};
use biologidex_db::models::dex::Visibility;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::request::{FieldValue, Refusal, filter_choice, not_a_choice};

/// Django's message for a malformed UUID.
fn not_a_uuid(v: &Value) -> String {
    let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    format!("“{shown}” is not a valid UUID.")
}

/// The animal of an entry (a UUID, with Django's message for a malformed one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryAnimal(pub AnimalId);

impl FieldValue for EntryAnimal {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        value
            .as_str()
            .and_then(|s| Uuid::try_parse(s.trim()).ok().map(AnimalId))
            .map(EntryAnimal)
            .ok_or_else(|| vec![not_a_uuid(&value)])
    }
}

/// One of the visibility names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisibilityChoice(pub Option<Visibility>);

impl FieldValue for VisibilityChoice {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        value
            .as_str()
            .and_then(Visibility::parse)
            .map(|v| VisibilityChoice(Some(v)))
            .ok_or_else(|| vec![not_a_choice(&value)])
    }
}

/// The vision job a new entry takes its image from, read leniently as the old server did: an
/// empty string or a value that is not a string is no job; other text must be a UUID.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VisionJobRef(pub Option<AnalysisJobId>);

impl FieldValue for VisionJobRef {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        match value {
            Value::String(s) if !s.is_empty() => Uuid::try_parse(s.trim())
                .map(|id| VisionJobRef(Some(AnalysisJobId(id))))
                .map_err(|_| vec!["Must be a valid UUID.".to_owned()]),
            _ => Ok(VisionJobRef(None)),
        }
    }
}

/// `by_animal`'s animal: a UUID, with the message the route has always sent for a malformed one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnimalParam(pub AnimalId);

impl FieldValue for AnimalParam {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        value
            .as_str()
            .and_then(|s| Uuid::try_parse(s).ok())
            .map(|id| AnimalParam(AnimalId(id)))
            .ok_or_else(|| vec!["Must be a valid UUID.".to_owned()])
    }
}

/// A file field sent as something else (JSON, or text): always refused, `null` too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotAFile;

impl FieldValue for NotAFile {
    fn from_json(_: Value) -> Result<Self, Refusal> {
        Err(vec![
            "The submitted data was not a file. Check the encoding type on the form.".to_owned(),
        ])
    }
}

/// An animal as a list filter: a UUID as sent, or django-filter's message for a model choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnimalFilter(pub AnimalId);

impl FieldValue for AnimalFilter {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        value
            .as_str()
            .and_then(|s| Uuid::try_parse(s).ok().map(AnimalId))
            .map(AnimalFilter)
            .ok_or_else(|| {
                vec![
                    "Select a valid choice. That choice is not one of the available choices."
                        .to_owned(),
                ]
            })
    }
}

/// A visibility as a list filter (django-filter's message for another value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VisibilityFilter(pub Visibility);

impl Default for VisibilityFilter {
    fn default() -> Self {
        VisibilityFilter(Visibility::Friends)
    }
}

impl FieldValue for VisibilityFilter {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        filter_choice(value, Visibility::parse).map(VisibilityFilter)
    }
}

/// Most requests one `batch_sync` may carry.
pub const MAX_BATCH: usize = 50;

/// One `batch_sync` item: the dex as the client named it, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncItemRequest {
    /// `self` (absent or null `user_id`), or the `user_id` as sent (non-strings as JSON).
    pub key: String,
    /// An unreadable `last_sync` means a full sync here, as on the old server.
    pub since: Option<DateTime<Utc>>,
}

/// The `sync_requests` list: at most [`MAX_BATCH`] items, each read leniently.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncRequests(pub Vec<SyncItemRequest>);

impl FieldValue for SyncRequests {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let Value::Array(items) = value else {
            return Err(vec!["Expected a list of items.".to_owned()]);
        };
        if items.len() > MAX_BATCH {
            return Err(vec![format!(
                "Ensure this field has no more than {MAX_BATCH} elements."
            )]);
        }
        let item = |item: &Value| SyncItemRequest {
            key: match item.get("user_id") {
                None | Some(Value::Null) => "self".to_owned(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            },
            since: item
                .get("last_sync")
                .and_then(Value::as_str)
                .and_then(parse_datetime),
        };
        Ok(SyncRequests(items.iter().map(item).collect()))
    }
}

/// A coordinate: at most 9 digits, 6 decimals and 3 before the point (the old numeric(9,6)).
/// A blank string is no coordinate (as `null` is).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Coordinate(pub Option<f64>);

impl FieldValue for Coordinate {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        let text = match &value {
            Value::Number(n) => n.to_string(),
            Value::String(s) if s.trim().is_empty() => return Ok(Coordinate(None)),
            Value::String(s) => s.trim().to_owned(),
            _ => return Err(vec![NOT_A_NUMBER.to_owned()]),
        };
        let digits = text.trim_start_matches(['-', '+']);
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let ok = !int.is_empty() || !frac.is_empty();
        if !ok || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(vec![NOT_A_NUMBER.to_owned()]);
        }
        let int = int.trim_start_matches('0');
        let frac = frac.trim_end_matches('0');
        let refused = if int.len() + frac.len() > 9 {
            "Ensure that there are no more than 9 digits in total."
        } else if frac.len() > 6 {
            "Ensure that there are no more than 6 decimal places."
        } else if int.len() > 3 {
            "Ensure that there are no more than 3 digits before the decimal point."
        } else {
            // Repeated signs (`--5`) pass the digit check but not the parse: read as no
            // coordinate.
            return Ok(Coordinate(text.parse::<f64>().ok()));
        };
        Err(vec![refused.to_owned()])
    }
}

const NOT_A_NUMBER: &str = "A valid number is required.";

/// Django's `parse_datetime` formats; values without an offset are UTC. Years outside
/// 1..=9999 (Python's range, inside PostgreSQL's) are refused like any malformed value.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    parse_any(raw).filter(|dt| (1..=9999).contains(&dt.year()))
}

fn parse_any(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt.and_utc());
        }
    }
    None
}

/// A datetime in one of Django's formats (values without an offset are UTC).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryDatetime(pub DateTime<Utc>);

impl FieldValue for EntryDatetime {
    fn from_json(value: Value) -> Result<Self, Refusal> {
        parse_datetime(&String::from_json(value)?)
            .map(EntryDatetime)
            .ok_or_else(|| {
                vec![
                    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].".to_owned(),
                ]
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_parse_like_django() {
        let want = "2026-11-25T16:41:04.433824Z";
        for s in [
            "2026-11-25T16:41:04.433824+00:00",
            "2026-11-25T16:41:04.433824Z",
            "2026-11-25 16:41:04.433824+00:00",
            "2026-11-25T17:41:04.433824+01:00",
            "2026-11-25T16:41:04.433824",
        ] {
            let got = parse_datetime(s).unwrap();
            assert_eq!(crate::json::datetime(&got), want, "{s}");
        }
        assert!(parse_datetime("yesterday").is_none());
        assert!(parse_datetime("2026-13-45T00:00:00Z").is_none());
        assert!(parse_datetime("-5000-01-01T00:00:00").is_none());
        assert!(parse_datetime("+20000-01-01T00:00:00Z").is_none());
        assert!(parse_datetime("0000-01-01T00:00:00Z").is_none());
    }
}
