//! The event catalogue: every event type maos can emit, and the JSON Schema
//! (2020-12) of each type's full envelope.
//!
//! The schema files in `schemas/events/` are generated from these
//! definitions and committed; a test fails when the code's shapes drift
//! from the committed files, so a shape change is always a visible,
//! reviewed change (and calls for a new schema version and an upcaster).

use crate::agent::AgentEvent;
use crate::envelope::SCHEMA_VERSION;
use crate::ids::{AgentId, WorkflowId};
use crate::workflow::WorkflowEvent;
use serde_json::{Value, json};

/// Where the schemas are published; each file's `$id` is `<BASE>/<type>.json`.
pub const SCHEMA_BASE_URI: &str = "https://maos.dev/schemas/events";

/// Every event type of every category.
pub fn all_event_types() -> impl Iterator<Item = &'static str> {
    WorkflowEvent::TYPES
        .iter()
        .chain(AgentEvent::TYPES)
        .copied()
}

/// The stream category events of `event_type` are written to.
pub fn stream_category(event_type: &str) -> Option<&'static str> {
    if WorkflowEvent::TYPES.contains(&event_type) {
        Some(WorkflowId::CATEGORY)
    } else if AgentEvent::TYPES.contains(&event_type) {
        Some(AgentId::CATEGORY)
    } else {
        None
    }
}

/// The JSON Schema of a whole envelope carrying an event of `event_type`.
pub fn envelope_schema(event_type: &str) -> Option<Value> {
    let data =
        WorkflowEvent::data_schema(event_type).or_else(|| AgentEvent::data_schema(event_type))?;
    let category = stream_category(event_type)?;
    let mut data = data.to_value();
    let defs = data.as_object_mut().and_then(|o| {
        o.remove("$schema");
        o.remove("$defs")
    });
    let uuid = json!({ "type": "string", "format": "uuid" });
    let mut schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{SCHEMA_BASE_URI}/{event_type}.json"),
        "title": event_type,
        "description": format!("Envelope of a `{event_type}` event, schema version {SCHEMA_VERSION}."),
        "type": "object",
        "additionalProperties": false,
        "required": ["id", "type", "stream", "version", "position", "timestamp", "source", "data", "metadata"],
        "properties": {
            "id": uuid,
            "type": { "const": event_type },
            "stream": {
                "type": "string",
                "pattern": format!("^{category}-[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$")
            },
            "version": { "type": "integer", "minimum": 1 },
            "position": { "type": "integer", "minimum": 1 },
            "timestamp": { "type": "string", "format": "date-time" },
            "source": { "type": "string", "minLength": 1 },
            "data": data,
            "metadata": {
                "type": "object",
                "additionalProperties": false,
                "required": ["correlation_id", "schema_version"],
                "properties": {
                    "correlation_id": uuid,
                    "causation_id": uuid,
                    "user_id": { "type": "string" },
                    "schema_version": { "type": "integer", "minimum": 1 }
                }
            }
        }
    });
    if let (Some(defs), Some(obj)) = (defs, schema.as_object_mut()) {
        obj.insert("$defs".to_owned(), defs);
    }
    Some(schema)
}

#[cfg(test)]
mod tests;
