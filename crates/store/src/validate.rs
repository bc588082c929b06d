//! Input checks every backend runs before an append reaches its writer, so
//! bad input is refused with a typed error and nothing is written.

use crate::{Error, MAX_EVENTS_PER_APPEND, NewEvent};
use maos_domain::{StreamName, validate_event_type};
use std::collections::HashSet;

/// Checks an append; returns the parsed stream name.
pub(crate) fn check_append(stream: &str, events: &[NewEvent]) -> Result<StreamName, Error> {
    let stream = StreamName::parse(stream)?;
    if events.is_empty() {
        return Err(Error::EmptyAppend);
    }
    if events.len() > MAX_EVENTS_PER_APPEND {
        return Err(Error::TooManyEvents {
            count: events.len(),
            max: MAX_EVENTS_PER_APPEND,
        });
    }
    let mut ids = HashSet::with_capacity(events.len());
    for event in events {
        validate_event_type(&event.event_type)?;
        if !event.data.is_object() {
            return Err(Error::DataNotObject {
                event_id: event.id,
                found: json_kind(&event.data),
            });
        }
        if event.metadata.schema_version == 0 {
            return Err(Error::InvalidMetadata {
                event_id: event.id,
                reason: "metadata.schema_version must be at least 1",
            });
        }
        if !ids.insert(event.id) {
            return Err(Error::DuplicateEventInAppend(event.id));
        }
    }
    Ok(stream)
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
