//! The RabbitMQ side: a durable topic exchange `maos.events`; each event a
//! persistent message with routing key = event type, `message_id` = event
//! id, content type `application/json`, correlation id and type set, and
//! the CloudEvents and maos headers. Publisher confirms are on; a batch is
//! pipelined (all sent, then all confirms awaited).

use crate::message::{body, headers};
use crate::{Error, Publisher};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use maos_domain::EventEnvelope;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

const BROKER: &str = "amqp";
/// AMQP delivery mode for messages that survive a broker restart.
const PERSISTENT: u8 = 2;

/// Where events go on RabbitMQ.
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    pub url: String,
    /// Durable topic exchange the events are published to.
    pub exchange: String,
    /// How long to wait for a connection and for each batch's confirms.
    pub timeout: Duration,
}

impl AmqpConfig {
    /// The defaults: exchange `maos.events`, 5 s timeouts.
    pub fn new(url: impl Into<String>) -> Self {
        AmqpConfig {
            url: url.into(),
            exchange: "maos.events".to_owned(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Connects, opens a channel and declares the exchange (idempotent).
    pub async fn connect(&self) -> Result<(Connection, Channel), Error> {
        let connect = Connection::connect(&self.url, ConnectionProperties::default());
        let connection = tokio::time::timeout(self.timeout, connect)
            .await
            .map_err(|_| "timed out".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map_err(|reason| Error::Connect {
                broker: BROKER,
                url: self.url.clone(),
                reason,
            })?;
        let setup = |what: &str, e: lapin::Error| Error::Setup {
            broker: BROKER,
            what: what.to_owned(),
            reason: e.to_string(),
        };
        let channel = connection
            .create_channel()
            .await
            .map_err(|e| setup("a channel", e))?;
        channel
            .exchange_declare(
                ShortString::from(self.exchange.as_str()),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| setup(&format!("exchange {}", self.exchange), e))?;
        Ok((connection, channel))
    }
}

/// Publishes batches to RabbitMQ with publisher confirms.
#[derive(Debug)]
pub struct AmqpPublisher {
    config: AmqpConfig,
    /// The connection is kept so the channel lives.
    link: Option<(Connection, Channel)>,
}

impl AmqpPublisher {
    pub fn new(config: AmqpConfig) -> Self {
        AmqpPublisher { config, link: None }
    }

    async fn channel(&mut self) -> Result<Channel, Error> {
        if let Some((_, channel)) = &self.link
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let (connection, channel) = self.config.connect().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| Error::Setup {
                broker: BROKER,
                what: "publisher confirms".to_owned(),
                reason: e.to_string(),
            })?;
        self.link = Some((connection, channel.clone()));
        Ok(channel)
    }
}

impl Publisher for AmqpPublisher {
    fn broker(&self) -> &'static str {
        BROKER
    }

    async fn publish(&mut self, events: &[EventEnvelope]) -> Result<(), Error> {
        let channel = self.channel().await?;
        let result = tokio::time::timeout(
            self.config.timeout,
            publish_all(&channel, &self.config, events),
        )
        .await
        .unwrap_or_else(|_| {
            Err(Error::Publish {
                broker: BROKER,
                event_id: events.first().map(|e| e.id).unwrap_or_default(),
                reason: "confirms timed out".to_owned(),
            })
        });
        if result.is_err()
            && let Some((connection, _)) = self.link.take()
        {
            let _ = connection.close(0, "relay reconnecting".into()).await;
        }
        result
    }
}

/// The AMQP properties of an event's message.
pub(crate) fn properties(event: &EventEnvelope) -> BasicProperties {
    let mut table = FieldTable::default();
    for (name, value) in headers(event) {
        table.insert(
            ShortString::from(name),
            AMQPValue::LongString(LongString::from(value)),
        );
    }
    BasicProperties::default()
        .with_delivery_mode(PERSISTENT)
        .with_content_type("application/json".into())
        .with_message_id(event.id.to_string().into())
        .with_correlation_id(event.metadata.correlation_id.to_string().into())
        .with_type(event.event_type.as_str().into())
        .with_timestamp(u64::try_from(event.timestamp.timestamp()).unwrap_or(0))
        .with_headers(table)
}

async fn publish_all(
    channel: &Channel,
    config: &AmqpConfig,
    events: &[EventEnvelope],
) -> Result<(), Error> {
    let failed = |event: &EventEnvelope, reason: String| Error::Publish {
        broker: BROKER,
        event_id: event.id,
        reason,
    };
    let bodies: Vec<Vec<u8>> = events.iter().map(body).collect();
    let publishes = events.iter().zip(&bodies).map(|(event, body)| {
        channel.basic_publish(
            config.exchange.as_str().into(),
            event.event_type.as_str().into(),
            BasicPublishOptions::default(),
            body,
            properties(event),
        )
    });
    let sent = join_in_order(publishes.collect()).await;
    let mut confirms = Vec::with_capacity(events.len());
    for (event, confirm) in events.iter().zip(sent) {
        confirms.push((event, confirm.map_err(|e| failed(event, e.to_string()))?));
    }
    for (event, confirm) in confirms {
        let confirmation = confirm.await.map_err(|e| failed(event, e.to_string()))?;
        if !confirmation.is_ack() {
            return Err(failed(event, "the broker nacked it".to_owned()));
        }
    }
    Ok(())
}

/// Awaits all `futures`, polling the unfinished ones in index order on
/// every wake-up. lapin queues a message's frames (and takes its confirm
/// tag) on the first poll of its publish, then waits for the write: polling
/// in order keeps the messages in order on the wire, and awaiting them
/// together lets one write carry many messages instead of one each.
async fn join_in_order<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}
