//! `maos-bench relay`: how fast the relays drain the log into each broker,
//! and how far behind the brokers' subscribers are while the store takes
//! appends. Runs on a fresh embedded store, with a JetStream stream and a
//! RabbitMQ exchange (and a durable queue bound to it, so confirms include
//! the broker's disk writes) of its own, removed after.

use crate::flush::{self, round};
use crate::stats::Latencies;
use anyhow::Context;
use lapin::options::{QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use maos_bus::{
    AmqpConfig, AmqpPublisher, NatsConfig, NatsPublisher, Publisher, Relay, RelayConfig,
};
use maos_domain::{EventEnvelope, Metadata};
use maos_store::sqlite::SqliteStore;
use maos_store::{EventStore, ExpectedVersion, NewEvent};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Options {
    #[arg(
        long,
        env = "MAOS_BENCH_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    nats: String,
    #[arg(
        long,
        env = "MAOS_BENCH_AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    amqp: String,
    /// Events in the log each relay drains in the throughput phase.
    #[arg(long, default_value_t = 50_000)]
    events: u64,
    /// Appends per second in the lag phase.
    #[arg(long, default_value_t = 2_000)]
    rate: u64,
    /// Seconds the lag phase appends for.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
}

pub async fn run(options: Options) -> anyhow::Result<Value> {
    let dir = std::env::temp_dir().join(format!("maos-bench-relay-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let flush_before = flush::measure(&dir, 1000)?;
    let tag = Uuid::now_v7().simple().to_string();
    let mut nats = NatsConfig::new(options.nats.clone());
    nats.stream = format!("MAOS_BENCH_{tag}");
    nats.subject_prefix = format!("maos_bench_{tag}.events");
    let mut amqp = AmqpConfig::new(options.amqp.clone());
    amqp.exchange = format!("maos.bench.{tag}");
    let queue = format!("maos.bench.{tag}");
    let (connection, channel) = amqp.connect().await.context("RabbitMQ is not reachable")?;
    channel
        .queue_declare(
            queue.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.as_str().into(),
            amqp.exchange.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;

    // Throughput: each relay alone drains a log of `events` events.
    let store = SqliteStore::open_in(dir.join("throughput")).await?;
    eprintln!("appending {} events", options.events);
    fill(&store, options.events).await?;
    eprintln!("draining into JetStream");
    let nats_per_s = drain(&store, NatsPublisher::new(nats.clone()), options.events).await?;
    eprintln!("draining into RabbitMQ (a durable queue bound)");
    let amqp_per_s = drain(&store, AmqpPublisher::new(amqp.clone()), options.events).await?;
    channel
        .queue_purge(queue.as_str().into(), Default::default())
        .await?;
    // The same drain into an exchange no queue is bound to: the broker
    // confirms without persisting, which isolates the relay's own cost.
    eprintln!("draining into RabbitMQ (no queue bound)");
    let mut unbound = amqp.clone();
    unbound.exchange = format!("maos.bench.unbound.{tag}");
    let unbound_store = SqliteStore::open_in(dir.join("unbound")).await?;
    fill(&unbound_store, options.events).await?;
    let amqp_unbound_per_s = drain(
        &unbound_store,
        AmqpPublisher::new(unbound.clone()),
        options.events,
    )
    .await?;
    let _ = channel
        .exchange_delete(unbound.exchange.as_str().into(), Default::default())
        .await;

    // Lag: both relays run while appends arrive at `rate`. A relay's lag for
    // an event is the time from its commit (the store's timestamp) to the
    // moment the relay's checkpoint covers it: the broker confirmed it and
    // the relay recorded that.
    eprintln!(
        "lag at {} appends/s for {} s",
        options.rate, options.seconds
    );
    let lag_store = SqliteStore::open_in(dir.join("lag")).await?;
    let total = (options.rate as f64 * options.seconds) as u64;
    let nats_relay = Relay::new(
        lag_store.clone(),
        NatsPublisher::new(nats.clone()),
        RelayConfig::default(),
    );
    let amqp_relay = Relay::new(
        lag_store.clone(),
        AmqpPublisher::new(amqp.clone()),
        RelayConfig::default(),
    );
    let progress = [
        watch_progress(nats_relay.status(), total),
        watch_progress(amqp_relay.status(), total),
    ];
    let relays = [
        tokio::spawn(nats_relay.run()),
        tokio::spawn(amqp_relay.run()),
    ];
    append_at_rate(&lag_store, total, options.rate).await?;
    let [nats_progress, amqp_progress] = progress;
    let nats_progress = tokio::time::timeout(Duration::from_secs(60), nats_progress)
        .await
        .context("the NATS relay stalled")??;
    let amqp_progress = tokio::time::timeout(Duration::from_secs(60), amqp_progress)
        .await
        .context("the RabbitMQ relay stalled")??;
    for r in relays {
        r.abort();
    }
    let events = lag_store.read_all(0, usize::MAX).await?;
    let mut nats_lag = lags(&events, &nats_progress);
    let mut amqp_lag = lags(&events, &amqp_progress);
    let flush_after = flush::measure(&dir, 1000)?;

    async_nats_cleanup(&nats).await;
    let _ = channel
        .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
        .await;
    let _ = channel
        .exchange_delete(amqp.exchange.as_str().into(), Default::default())
        .await;
    let _ = connection.close(0, "bench done".into()).await;
    std::fs::remove_dir_all(&dir).ok();

    let nats_p99 = nats_lag.percentile_us(99.0) / 1000.0;
    let amqp_p99 = amqp_lag.percentile_us(99.0) / 1000.0;
    Ok(json!({
        "nats_events_per_s": round(nats_per_s),
        "amqp_events_per_s": round(amqp_per_s),
        "amqp_no_queue_events_per_s": round(amqp_unbound_per_s),
        "lag_p99_ms": round(nats_p99.max(amqp_p99)),
        "nats_lag_p50_ms": round(nats_lag.percentile_us(50.0) / 1000.0),
        "nats_lag_p99_ms": round(nats_p99),
        "amqp_lag_p50_ms": round(amqp_lag.percentile_us(50.0) / 1000.0),
        "amqp_lag_p99_ms": round(amqp_p99),
        "events_drained": options.events,
        "lag_phase_events": total,
        "lag_phase_rate_per_s": options.rate,
        "flush_before": flush_before.to_json(),
        "flush_after": flush_after.to_json(),
    }))
}

/// Records when each checkpoint was reached, until it reaches `total`.
fn watch_progress(
    mut status: tokio::sync::watch::Receiver<maos_bus::RelayStatus>,
    total: u64,
) -> tokio::task::JoinHandle<Vec<(u64, chrono::DateTime<chrono::Utc>)>> {
    tokio::spawn(async move {
        let mut reached = Vec::new();
        while status.changed().await.is_ok() {
            let checkpoint = status.borrow_and_update().checkpoint;
            reached.push((checkpoint, chrono::Utc::now()));
            if checkpoint >= total {
                break;
            }
        }
        reached
    })
}

/// Each event's lag: commit to the first checkpoint covering it.
fn lags(events: &[EventEnvelope], reached: &[(u64, chrono::DateTime<chrono::Utc>)]) -> Latencies {
    let mut lags = Latencies::default();
    for event in events {
        if let Some((_, at)) = reached
            .iter()
            .find(|(checkpoint, _)| *checkpoint >= event.position)
        {
            lags.record((*at - event.timestamp).to_std().unwrap_or_default());
        }
    }
    lags
}

fn event(n: u64) -> NewEvent {
    NewEvent::new(
        "workflows.task.progressed",
        json!({ "task_id": "build", "attempt": 1, "message": format!("line {n}: Compiling maos-store v0.1.0") }),
        Metadata::new(Uuid::now_v7()),
    )
    .with_source("bench/relay")
}

async fn fill(store: &SqliteStore, events: u64) -> anyhow::Result<()> {
    let mut n = 0;
    while n < events {
        let batch: Vec<NewEvent> = (n..(n + 500).min(events)).map(event).collect();
        n += batch.len() as u64;
        store
            .append(
                &format!("workflow-{}", Uuid::from_u128(u128::from(n % 16))),
                ExpectedVersion::Any,
                batch,
            )
            .await?;
    }
    Ok(())
}

/// Runs a relay alone until its checkpoint reaches `events`; events/s.
async fn drain(store: &SqliteStore, publisher: impl Publisher, events: u64) -> anyhow::Result<f64> {
    let relay = Relay::new(store.clone(), publisher, RelayConfig::default());
    let mut status = relay.status();
    let start = Instant::now();
    let task = tokio::spawn(relay.run());
    tokio::time::timeout(
        Duration::from_secs(300),
        status.wait_for(|s| s.checkpoint >= events),
    )
    .await
    .context("the relay did not finish in 300 s")??;
    let elapsed = start.elapsed().as_secs_f64();
    task.abort();
    Ok(events as f64 / elapsed)
}

async fn append_at_rate(store: &SqliteStore, total: u64, rate: u64) -> anyhow::Result<()> {
    let start = Instant::now();
    for n in 0..total {
        let due = start + Duration::from_secs_f64(n as f64 / rate.max(1) as f64);
        tokio::time::sleep_until(due.into()).await;
        store
            .append(
                &format!("workflow-{}", Uuid::from_u128(u128::from(n % 16))),
                ExpectedVersion::Any,
                vec![event(n)],
            )
            .await?;
    }
    Ok(())
}

async fn async_nats_cleanup(nats: &NatsConfig) -> Option<()> {
    let jetstream = nats.connect().await.ok()?;
    jetstream.delete_stream(&nats.stream).await.ok()?;
    Some(())
}
