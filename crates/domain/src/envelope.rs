//! The event envelope: how every event looks once it is recorded, in the
//! store, on the wire and on the brokers, plus the naming rules for streams
//! and event types.

use crate::error::NameError;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version of the envelope and payload shapes this code writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Longest stream name the store accepts.
pub const MAX_STREAM_NAME_LEN: usize = 200;

/// Longest event type name the store accepts.
pub const MAX_EVENT_TYPE_LEN: usize = 120;

/// A recorded event: what was decided, where it sits in its stream and in the
/// global log, and who caused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EventEnvelope {
    /// Unique id (UUID v7) given by the writer; the dedupe key everywhere.
    pub id: Uuid,
    /// `<domain>.<entity>.<action>`, e.g. `workflows.task.assigned`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `<category>-<id>`, e.g. `workflow-0190…`.
    pub stream: String,
    /// 1-based position of the event inside its stream.
    pub version: u64,
    /// 1-based position of the event in the global log, strictly increasing
    /// in commit order.
    pub position: u64,
    /// When the store recorded the event.
    pub timestamp: DateTime<Utc>,
    /// Who wrote it: `<node>/<actor>`.
    pub source: String,
    /// The payload; always a JSON object.
    pub data: serde_json::Value,
    pub metadata: Metadata,
}

/// Who and what caused an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Metadata {
    /// Ties together everything one user request caused.
    pub correlation_id: Uuid,
    /// The event or command that directly caused this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The authenticated subject that issued the originating command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Version of the payload shape, for upcasting.
    pub schema_version: u32,
}

impl Metadata {
    /// Metadata for events of a fresh request, current schema version.
    pub fn new(correlation_id: Uuid) -> Self {
        Metadata {
            correlation_id,
            causation_id: None,
            user_id: None,
            schema_version: SCHEMA_VERSION,
        }
    }

    /// The same correlation, caused by `causation_id`.
    pub fn caused_by(mut self, causation_id: Uuid) -> Self {
        self.causation_id = Some(causation_id);
        self
    }

    /// The same metadata, on behalf of `user_id`.
    pub fn by_user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = Some(user_id.into());
        self
    }
}

/// An event of a stream category: it knows its type name and its payload.
pub trait DomainEvent {
    /// The `<domain>.<entity>.<action>` type name.
    fn event_type(&self) -> &'static str;
    /// The payload as a JSON object.
    fn to_data(&self) -> serde_json::Value;
}

/// A validated stream name: `<category>-<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamName {
    name: String,
    category_len: usize,
}

impl StreamName {
    /// Checks the naming rules: a category of lower-case ASCII letters,
    /// digits or `_` (starting with a letter), a `-`, then an id of printable
    /// ASCII without spaces; at most [`MAX_STREAM_NAME_LEN`] bytes.
    pub fn parse(name: &str) -> Result<StreamName, NameError> {
        let fail = |reason| NameError::Stream {
            name: name.to_owned(),
            reason,
        };
        if name.len() > MAX_STREAM_NAME_LEN {
            return Err(fail("longer than 200 bytes"));
        }
        let Some((category, id)) = name.split_once('-') else {
            return Err(fail("expected <category>-<id>"));
        };
        if !is_lower_snake(category) {
            return Err(fail(
                "category must be lower-case letters, digits or '_', starting with a letter",
            ));
        }
        if id.is_empty() {
            return Err(fail("id after '-' is empty"));
        }
        if !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(fail("id must be printable ASCII without spaces"));
        }
        Ok(StreamName {
            name: name.to_owned(),
            category_len: category.len(),
        })
    }

    /// The whole name.
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// The part before the first `-` (`workflow`, `agent`).
    pub fn category(&self) -> &str {
        &self.name[..self.category_len]
    }
}

impl std::fmt::Display for StreamName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

/// Checks that `name` is `<domain>.<entity>.<action>`: three lower snake case
/// segments separated by dots, at most [`MAX_EVENT_TYPE_LEN`] bytes.
pub fn validate_event_type(name: &str) -> Result<(), NameError> {
    let fail = |reason| NameError::EventType {
        name: name.to_owned(),
        reason,
    };
    if name.len() > MAX_EVENT_TYPE_LEN {
        return Err(fail("longer than 120 bytes"));
    }
    let segments: Vec<&str> = name.split('.').collect();
    if segments.len() != 3 {
        return Err(fail("expected <domain>.<entity>.<action>"));
    }
    if !segments.iter().all(|s| is_lower_snake(s)) {
        return Err(fail(
            "each segment must be lower snake case, starting with a letter",
        ));
    }
    Ok(())
}

fn is_lower_snake(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_accepts_well_formed_stream_names() {
        let s = StreamName::parse("workflow-0190a1b2-c3d4").unwrap();
        assert_eq!(s.category(), "workflow");
        assert_eq!(s.as_str(), "workflow-0190a1b2-c3d4");
    }

    #[test]
    fn it_rejects_malformed_stream_names() {
        for bad in [
            "",
            "workflow",
            "-abc",
            "Workflow-1",
            "workflow-",
            "wf-a b",
            "1wf-x",
        ] {
            assert!(StreamName::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(StreamName::parse(&format!("a-{}", "x".repeat(300))).is_err());
    }

    #[test]
    fn it_checks_event_type_names() {
        assert!(validate_event_type("workflows.task.assigned").is_ok());
        for bad in [
            "workflows.task",
            "Workflows.task.x",
            "a.b.c.d",
            "a..b",
            "a.b.C",
        ] {
            assert!(validate_event_type(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
