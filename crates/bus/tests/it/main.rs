//! The relays against the real NATS (JetStream) and RabbitMQ on this
//! machine. Each test uses its own JetStream stream, subject prefix and
//! exchange, so tests never see each other's events.

mod delivery;
mod faults;
mod support;
