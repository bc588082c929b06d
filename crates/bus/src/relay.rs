//! The relay loop, the same for every broker: follow the global log from
//! the relay's checkpoint, publish a batch, wait for the broker to confirm
//! all of it, then move the checkpoint. On failure: back off, reconnect,
//! publish the same batch again (at least once, in order).

use crate::Error;
use maos_domain::EventEnvelope;
use maos_store::EventStore;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;

/// A broker connection that publishes batches with confirmation.
pub trait Publisher: Send + 'static {
    /// `nats` or `amqp`; also names the relay's checkpoint.
    fn broker(&self) -> &'static str;

    /// Publishes `events` in order and returns once the broker confirmed
    /// every one of them. Connects first if needed. After an error the
    /// publisher drops its connection and reconnects on the next call.
    fn publish(
        &mut self,
        events: &[EventEnvelope],
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// How a relay batches and backs off.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Most events published per confirmed batch.
    pub batch_size: usize,
    /// First wait after a failure; doubles up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Fault testing only: abort the process after publishing this many
    /// batches, before saving the checkpoint (a crash at the worst moment).
    pub abort_after_publish: Option<u32>,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            batch_size: 1_000,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            abort_after_publish: None,
        }
    }
}

/// What a relay is doing, for `/readyz` and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelayState {
    /// Starting: loading the checkpoint.
    Starting,
    /// Publishing (or waiting for new events).
    Running,
    /// The last attempt failed; retrying after a back-off.
    Retrying { error: String, attempts: u32 },
}

/// A relay's state, checkpoint and lag (head position minus checkpoint).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayStatus {
    pub broker: &'static str,
    pub state: RelayState,
    pub checkpoint: u64,
    pub lag: u64,
}

/// Relays the store's global log to one broker.
#[derive(Debug)]
pub struct Relay<S, P> {
    store: S,
    publisher: P,
    config: RelayConfig,
    status: watch::Sender<RelayStatus>,
}

impl<S: EventStore, P: Publisher> Relay<S, P> {
    pub fn new(store: S, publisher: P, config: RelayConfig) -> Self {
        let status = watch::Sender::new(RelayStatus {
            broker: publisher.broker(),
            state: RelayState::Starting,
            checkpoint: 0,
            lag: 0,
        });
        Relay {
            store,
            publisher,
            config,
            status,
        }
    }

    /// The name under which the checkpoint is kept: `relay.<broker>`.
    pub fn checkpoint_name(&self) -> String {
        format!("relay.{}", self.publisher.broker())
    }

    /// Follows the relay's status.
    pub fn status(&self) -> watch::Receiver<RelayStatus> {
        self.status.subscribe()
    }

    /// Runs until the task is dropped. Store failures are retried like
    /// broker failures; nothing here gives up.
    pub async fn run(mut self) {
        let name = self.checkpoint_name();
        let checkpoint = self.load_checkpoint(&name).await;
        self.set(RelayState::Running, checkpoint);
        let mut subscription = self.store.subscribe(checkpoint);
        let mut batches = 0u32;
        loop {
            let batch = self.next_batch(&mut subscription).await;
            let Some(last) = batch.last().map(|e| e.position) else {
                continue;
            };
            self.publish_until_confirmed(&batch).await;
            batches += 1;
            if self.config.abort_after_publish == Some(batches) {
                tracing::error!(
                    batches,
                    "aborting between publish and checkpoint, as configured"
                );
                std::process::abort();
            }
            self.save_checkpoint(&name, last).await;
            self.set(RelayState::Running, last);
        }
    }

    async fn load_checkpoint(&mut self, name: &str) -> u64 {
        let mut attempts = 0;
        loop {
            match self.store.load_checkpoint(name).await {
                Ok(position) => return position,
                Err(error) => {
                    attempts += 1;
                    self.failed(&Error::Store(error), attempts).await;
                }
            }
        }
    }

    async fn save_checkpoint(&mut self, name: &str, position: u64) {
        let mut attempts = 0;
        while let Err(error) = self.store.save_checkpoint(name, position).await {
            attempts += 1;
            self.failed(&Error::Store(error), attempts).await;
        }
    }

    async fn next_batch(
        &mut self,
        subscription: &mut maos_store::Subscription<S>,
    ) -> Vec<EventEnvelope> {
        let mut batch = Vec::new();
        let mut failures = 0;
        loop {
            match subscription.next().await {
                Ok(first) => {
                    batch.push(first);
                    break;
                }
                Err(error) => {
                    failures += 1;
                    self.failed(&Error::Store(error), failures).await;
                }
            }
        }
        while batch.len() < self.config.batch_size {
            match subscription.try_next().await {
                Ok(Some(event)) => batch.push(event),
                Ok(None) | Err(_) => break,
            }
        }
        batch
    }

    async fn publish_until_confirmed(&mut self, batch: &[EventEnvelope]) {
        let mut attempts = 0;
        loop {
            match self.publisher.publish(batch).await {
                Ok(()) => return,
                Err(error) => {
                    attempts += 1;
                    self.failed(&error, attempts).await;
                }
            }
        }
    }

    /// Records a failure and waits out its back-off.
    async fn failed(&mut self, error: &Error, attempts: u32) {
        tracing::warn!(broker = self.publisher.broker(), %error, attempts, "relay retrying");
        let checkpoint = self.status.borrow().checkpoint;
        self.set(
            RelayState::Retrying {
                error: error.to_string(),
                attempts,
            },
            checkpoint,
        );
        let wait = maos_store::backoff(
            self.config.initial_backoff,
            self.config.max_backoff,
            attempts,
        );
        tokio::time::sleep(wait).await;
    }

    fn set(&self, state: RelayState, checkpoint: u64) {
        let head = *self.store.head_watch().borrow();
        self.status.send_replace(RelayStatus {
            broker: self.publisher.broker(),
            state,
            checkpoint,
            lag: head.saturating_sub(checkpoint),
        });
    }
}
