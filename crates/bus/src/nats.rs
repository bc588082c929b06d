//! The NATS JetStream side: a stream `MAOS_EVENTS` on `maos.events.>`,
//! each event published to `maos.events.<type>` with `Nats-Msg-Id` = event
//! id (JetStream drops duplicates within its duplicate window). Publishes
//! of a batch are pipelined: all are sent, then all acks awaited.

use crate::message::{body, headers};
use crate::{Error, Publisher};
use async_nats::jetstream::context::{Context, ContextBuilder};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::stream;
use maos_domain::EventEnvelope;
use std::time::Duration;

const BROKER: &str = "nats";

/// Where and how events go to JetStream.
#[derive(Debug, Clone)]
pub struct NatsConfig {
    pub url: String,
    /// JetStream stream name.
    pub stream: String,
    /// Subjects are `<prefix>.<event type>`; the stream takes `<prefix>.>`.
    pub subject_prefix: String,
    /// Events older than this are dropped by the stream (zero: never).
    pub max_age: Duration,
    pub replicas: usize,
    pub retention: Retention,
    /// How long JetStream remembers message ids to drop duplicates.
    pub duplicate_window: Duration,
    /// How long to wait for a connection and for each publish ack.
    pub timeout: Duration,
}

/// When JetStream may drop events (besides `max_age`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// Keep until a limit is reached.
    Limits,
    /// Keep while a consumer has not acknowledged them.
    Interest,
}

impl NatsConfig {
    /// The defaults: stream `MAOS_EVENTS` on `maos.events.>`, 7 days, one
    /// replica, limits retention, 2-minute duplicate window, 5 s timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        NatsConfig {
            url: url.into(),
            stream: "MAOS_EVENTS".to_owned(),
            subject_prefix: "maos.events".to_owned(),
            max_age: Duration::from_secs(7 * 24 * 3600),
            replicas: 1,
            retention: Retention::Limits,
            duplicate_window: Duration::from_secs(120),
            timeout: Duration::from_secs(5),
        }
    }

    /// The subject an event of `event_type` is published on.
    pub fn subject(&self, event_type: &str) -> String {
        format!("{}.{event_type}", self.subject_prefix)
    }

    /// Connects to JetStream without touching any stream.
    pub async fn jetstream(&self) -> Result<Context, Error> {
        let client = async_nats::ConnectOptions::new()
            .connection_timeout(self.timeout)
            .connect(self.url.as_str())
            .await
            .map_err(|e| Error::Connect {
                broker: BROKER,
                url: self.url.clone(),
                reason: e.to_string(),
            })?;
        Ok(ContextBuilder::new()
            .timeout(self.timeout)
            .ack_timeout(self.timeout)
            .build(client))
    }

    /// Connects and creates the stream if it does not exist (an existing
    /// stream keeps its settings).
    pub async fn connect(&self) -> Result<Context, Error> {
        let jetstream = self.jetstream().await?;
        let config = stream::Config {
            name: self.stream.clone(),
            subjects: vec![format!("{}.>", self.subject_prefix)],
            max_age: self.max_age,
            num_replicas: self.replicas,
            retention: match self.retention {
                Retention::Limits => stream::RetentionPolicy::Limits,
                Retention::Interest => stream::RetentionPolicy::Interest,
            },
            duplicate_window: self.duplicate_window,
            storage: stream::StorageType::File,
            ..Default::default()
        };
        jetstream
            .get_or_create_stream(config)
            .await
            .map_err(|e| Error::Setup {
                broker: BROKER,
                what: format!("stream {}", self.stream),
                reason: e.to_string(),
            })?;
        Ok(jetstream)
    }
}

/// Publishes batches to JetStream, waiting for every ack.
#[derive(Debug)]
pub struct NatsPublisher {
    config: NatsConfig,
    jetstream: Option<Context>,
}

impl NatsPublisher {
    pub fn new(config: NatsConfig) -> Self {
        NatsPublisher {
            config,
            jetstream: None,
        }
    }
}

impl Publisher for NatsPublisher {
    fn broker(&self) -> &'static str {
        BROKER
    }

    async fn publish(&mut self, events: &[EventEnvelope]) -> Result<(), Error> {
        let jetstream = match &self.jetstream {
            Some(js) => js.clone(),
            None => self.jetstream.insert(self.config.connect().await?).clone(),
        };
        let result = publish_all(&jetstream, &self.config, events).await;
        if result.is_err() {
            self.jetstream = None;
        }
        result
    }
}

async fn publish_all(
    jetstream: &Context,
    config: &NatsConfig,
    events: &[EventEnvelope],
) -> Result<(), Error> {
    let failed = |event: &EventEnvelope, reason: String| Error::Publish {
        broker: BROKER,
        event_id: event.id,
        reason,
    };
    let mut acks = Vec::with_capacity(events.len());
    for event in events {
        let mut map = async_nats::HeaderMap::new();
        for (name, value) in headers(event) {
            map.insert(name, value.as_str());
        }
        let message = PublishMessage::build()
            .payload(body(event).into())
            .headers(map)
            .message_id(event.id.to_string());
        let ack = jetstream
            .send_publish(config.subject(&event.event_type), message)
            .await
            .map_err(|e| failed(event, e.to_string()))?;
        acks.push((event, ack));
    }
    for (event, ack) in acks {
        ack.await.map_err(|e| failed(event, e.to_string()))?;
    }
    Ok(())
}
