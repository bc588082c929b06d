//! Event relays: every committed event, in position order, at least once,
//! to NATS JetStream and to RabbitMQ, so other systems can follow maos on
//! the brokers they already run; and the subscriber side, to read them back.
//!
//! A [`Relay`] follows the store's global log like a projector: it resumes
//! from its own checkpoint (kept in the store), publishes a batch, waits
//! until the broker confirmed every message of it, and only then moves its
//! checkpoint. When the broker is unreachable it backs off and retries the
//! same batch; a crash between publish and checkpoint publishes that batch
//! again after restart. Duplicates carry the same event id, which both
//! brokers' consumers can drop (JetStream does it itself within its
//! duplicate window, from the `Nats-Msg-Id` header).
//!
//! Every message body is the event envelope as JSON, the same bytes on both
//! brokers, valid against `schemas/events/`; headers also follow the
//! CloudEvents binary content mode (`ce-*`).

mod amqp;
mod error;
mod message;
mod nats;
mod relay;
pub mod tail;

pub use amqp::{AmqpConfig, AmqpPublisher};
pub use error::Error;
pub use maos_domain::TypePattern;
pub use message::{Header, body, headers};
pub use nats::{NatsConfig, NatsPublisher, Retention};
pub use relay::{Publisher, Relay, RelayConfig, RelayState, RelayStatus};
