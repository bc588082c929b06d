//! What a relayed message looks like, on both brokers: the body is the
//! event envelope as JSON; the headers carry the CloudEvents binary content
//! mode attributes and maos's own.

use maos_domain::EventEnvelope;

/// A header name and value.
pub type Header = (&'static str, String);

/// The message body: the envelope as JSON. Serialization is deterministic
/// (fixed field order, sorted object keys), so both brokers get the same
/// bytes for the same event.
pub fn body(event: &EventEnvelope) -> Vec<u8> {
    // An envelope is plain data with string keys; it always serializes.
    serde_json::to_vec(event).unwrap_or_default()
}

/// The headers every relayed message carries:
/// - CloudEvents 1.0 binary mode: `ce-specversion`, `ce-id` (event id),
///   `ce-source` (the writer, `<node>/<actor>`), `ce-type`, `ce-time`,
///   `ce-subject` (the stream); the body is the data content, JSON;
/// - `content-type: application/json`;
/// - `maos-position`, `maos-stream`, `maos-correlation-id`, and
///   `maos-causation-id` / `maos-user-id` when present.
pub fn headers(event: &EventEnvelope) -> Vec<Header> {
    let mut h = vec![
        ("ce-specversion", "1.0".to_owned()),
        ("ce-id", event.id.to_string()),
        ("ce-source", event.source.clone()),
        ("ce-type", event.event_type.clone()),
        (
            "ce-time",
            event
                .timestamp
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ),
        ("ce-subject", event.stream.clone()),
        ("content-type", "application/json".to_owned()),
        ("maos-position", event.position.to_string()),
        ("maos-stream", event.stream.clone()),
        (
            "maos-correlation-id",
            event.metadata.correlation_id.to_string(),
        ),
    ];
    if let Some(causation) = event.metadata.causation_id {
        h.push(("maos-causation-id", causation.to_string()));
    }
    if let Some(user) = &event.metadata.user_id {
        h.push(("maos-user-id", user.clone()));
    }
    h
}
