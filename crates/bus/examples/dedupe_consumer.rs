//! A consumer that drops duplicate maos events by id.
//!
//! maos relays deliver every event at least once: after a broker outage or
//! a relay restart, a batch may be published again. Each repeat carries the
//! same event id (`ce-id`, `message_id`, `Nats-Msg-Id`), so a consumer only
//! has to remember the ids it has handled. JetStream already drops repeats
//! that arrive within its duplicate window; RabbitMQ does not, so this
//! matters most there.
//!
//! Remembering every id forever costs memory without end; events arrive in
//! position order, so it is enough to remember a window of recent ids (a
//! repeat never comes from further back than one relay batch) and the
//! highest position handled: anything at or below it that is not in the
//! window was handled long ago.
//!
//! ```sh
//! cargo run -p maos-bus --example dedupe_consumer -- amqp://guest:guest@127.0.0.1:5672/%2f 'workflows.task.*'
//! cargo run -p maos-bus --example dedupe_consumer -- nats://127.0.0.1:4222 '>'
//! ```

use maos_bus::tail::{Start, Tail};
use maos_bus::{AmqpConfig, NatsConfig, TypePattern};
use std::collections::{HashSet, VecDeque};
use uuid::Uuid;

/// Ids remembered; comfortably more than one relay batch (1,000 events).
const WINDOW: usize = 10_000;

/// Remembers recently handled event ids.
struct Seen {
    ids: HashSet<Uuid>,
    order: VecDeque<Uuid>,
    highest_position: u64,
}

impl Seen {
    fn new() -> Self {
        Seen {
            ids: HashSet::with_capacity(WINDOW),
            order: VecDeque::with_capacity(WINDOW),
            highest_position: 0,
        }
    }

    /// True the first time an event is offered; false for a repeat.
    fn first_time(&mut self, id: Uuid, position: u64) -> bool {
        if self.ids.contains(&id) || position + (WINDOW as u64) < self.highest_position {
            return false;
        }
        self.ids.insert(id);
        self.order.push_back(id);
        if self.order.len() > WINDOW
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        self.highest_position = self.highest_position.max(position);
        true
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: dedupe_consumer URL [PATTERN]")?;
    let pattern = TypePattern::parse(&args.next().unwrap_or_else(|| ">".to_owned()))?;
    let mut tail = if url.starts_with("nats://") {
        Tail::nats(&NatsConfig::new(url), &pattern, Start::Oldest).await?
    } else {
        Tail::amqp(&AmqpConfig::new(url), &pattern).await?
    };
    let mut seen = Seen::new();
    while let Some(received) = tail.next().await {
        let event = received?.event;
        if seen.first_time(event.id, event.position) {
            println!("{:>8} {} {}", event.position, event.event_type, event.id);
        } else {
            eprintln!(
                "skipped repeat of {} (position {})",
                event.id, event.position
            );
        }
    }
    Ok(())
}
