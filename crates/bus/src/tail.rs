//! The subscriber side: follow maos events on a broker, filtered by type
//! pattern. Each broker gets its own consumer (a JetStream ordered consumer;
//! an exclusive, auto-deleted RabbitMQ queue bound to the exchange), so
//! subscribers never take events from each other.

use crate::{AmqpConfig, Error, NatsConfig, TypePattern};
use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use maos_domain::EventEnvelope;

/// One event as a subscriber received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub event: EventEnvelope,
    /// The raw message body.
    pub body: Vec<u8>,
    /// The NATS subject or the AMQP routing key.
    pub routing: String,
    /// `Nats-Msg-Id` on NATS, `message_id` on RabbitMQ.
    pub message_id: Option<String>,
    /// Message headers (CloudEvents and maos's).
    pub headers: Vec<(String, String)>,
}

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// With the oldest event the broker still holds (JetStream only; a
    /// RabbitMQ queue only gets what is published after it is bound).
    Oldest,
    /// With events published from now on.
    New,
}

/// A stream of events from a broker.
pub struct Tail {
    inner: TailInner,
}

enum TailInner {
    Nats(Box<async_nats::jetstream::consumer::pull::Ordered>),
    Amqp(Box<AmqpTail>),
}

struct AmqpTail {
    consumer: lapin::Consumer,
    /// Kept so the consumer's channel stays open.
    _connection: lapin::Connection,
}

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let broker = match self.inner {
            TailInner::Nats(_) => "nats",
            TailInner::Amqp(_) => "amqp",
        };
        f.debug_struct("Tail").field("broker", &broker).finish()
    }
}

impl Tail {
    /// Follows JetStream stream `config.stream`, subjects matching `pattern`.
    pub async fn nats(
        config: &NatsConfig,
        pattern: &TypePattern,
        start: Start,
    ) -> Result<Tail, Error> {
        let jetstream = config.jetstream().await?;
        let setup = |e: String| Error::Setup {
            broker: "nats",
            what: "an ordered consumer".to_owned(),
            reason: e,
        };
        // A subscriber never creates the stream: that is the relay's, with
        // its settings.
        let stream = jetstream
            .get_stream(&config.stream)
            .await
            .map_err(|e| Error::Setup {
                broker: "nats",
                what: format!("a subscription to stream {}", config.stream),
                reason: format!("{e} (does `maos relay` run against this server?)"),
            })?;
        let consumer = stream
            .create_consumer(OrderedConfig {
                filter_subject: pattern.nats_subject(&config.subject_prefix),
                deliver_policy: match start {
                    Start::Oldest => DeliverPolicy::All,
                    Start::New => DeliverPolicy::New,
                },
                ..Default::default()
            })
            .await
            .map_err(|e| setup(e.to_string()))?;
        let messages = consumer
            .messages()
            .await
            .map_err(|e| setup(e.to_string()))?;
        Ok(Tail {
            inner: TailInner::Nats(Box::new(messages)),
        })
    }

    /// Follows exchange `config.exchange` through a new exclusive queue
    /// bound with `pattern`. It receives events published after this
    /// returns.
    pub async fn amqp(config: &AmqpConfig, pattern: &TypePattern) -> Result<Tail, Error> {
        let (connection, channel) = config.connect().await?;
        let setup = |what: &str, e: lapin::Error| Error::Setup {
            broker: "amqp",
            what: what.to_owned(),
            reason: e.to_string(),
        };
        let queue = channel
            .queue_declare(
                "".into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| setup("a queue", e))?;
        channel
            .queue_bind(
                queue.name().clone(),
                config.exchange.as_str().into(),
                pattern.amqp_binding_key().into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| setup("the queue binding", e))?;
        let consumer = channel
            .basic_consume(
                queue.name().clone(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(|e| setup("a consumer", e))?;
        Ok(Tail {
            inner: TailInner::Amqp(Box::new(AmqpTail {
                consumer,
                _connection: connection,
            })),
        })
    }

    /// The next event; `None` when the broker closed the subscription.
    pub async fn next(&mut self) -> Option<Result<Received, Error>> {
        match &mut self.inner {
            TailInner::Nats(messages) => {
                let message = messages.next().await?;
                Some(
                    message
                        .map_err(|e| failed("nats", e.to_string()))
                        .and_then(|m| from_nats(&m)),
                )
            }
            TailInner::Amqp(amqp) => {
                let delivery = amqp.consumer.next().await?;
                Some(match delivery {
                    Ok(delivery) => match delivery.ack(BasicAckOptions::default()).await {
                        Ok(_) => from_amqp(&delivery),
                        Err(e) => Err(failed("amqp", e.to_string())),
                    },
                    Err(e) => Err(failed("amqp", e.to_string())),
                })
            }
        }
    }
}

fn failed(broker: &'static str, reason: String) -> Error {
    Error::Decode { broker, reason }
}

fn from_nats(message: &async_nats::jetstream::Message) -> Result<Received, Error> {
    let body = message.payload.to_vec();
    let event = serde_json::from_slice(&body).map_err(|e| failed("nats", e.to_string()))?;
    let headers: Vec<(String, String)> = message
        .headers
        .iter()
        .flat_map(|map| map.iter())
        .flat_map(|(name, values)| {
            values
                .iter()
                .map(move |v| (name.to_string(), v.as_str().to_owned()))
        })
        .collect();
    let message_id = headers
        .iter()
        .find(|(name, _)| name == "Nats-Msg-Id")
        .map(|(_, v)| v.clone());
    Ok(Received {
        event,
        body,
        routing: message.subject.to_string(),
        message_id,
        headers,
    })
}

fn from_amqp(delivery: &lapin::message::Delivery) -> Result<Received, Error> {
    let body = delivery.data.clone();
    let event = serde_json::from_slice(&body).map_err(|e| failed("amqp", e.to_string()))?;
    let headers = delivery
        .properties
        .headers()
        .iter()
        .flat_map(|table| table.inner().iter())
        .filter_map(|(name, value)| match value {
            lapin::types::AMQPValue::LongString(s) => Some((name.to_string(), s.to_string())),
            _ => None,
        })
        .collect();
    Ok(Received {
        event,
        body,
        routing: delivery.routing_key.to_string(),
        message_id: delivery
            .properties
            .message_id()
            .as_ref()
            .map(ToString::to_string),
        headers,
    })
}
