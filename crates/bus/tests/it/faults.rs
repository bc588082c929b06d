use crate::support::*;
use maos_bus::tail::{Start, Tail};
use maos_bus::{AmqpPublisher, NatsPublisher, Relay, RelayConfig, RelayState, TypePattern};
use maos_store::{EventStore, ExpectedVersion, NewEvent};
use std::time::Duration;

/// The relays reach both brokers only through proxies the test controls.
/// Mid-run the proxies cut every connection and refuse new ones for a while;
/// the store keeps taking appends; then the brokers come back. Every event
/// must arrive, in order; a repeat may only carry an id already delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_survive_a_broker_outage_and_catch_up_in_order() {
    let store = fresh_store().await;
    let nats = nats_config(nats_url());
    let amqp = amqp_config(amqp_url());
    nats.connect().await.expect("JetStream is reachable");
    let mut queue = Tail::amqp(&amqp, &TypePattern::all())
        .await
        .expect("RabbitMQ is reachable");

    let nats_proxy = Proxy::start(&target(&nats.url)).await;
    let amqp_proxy = Proxy::start(&target(&amqp.url)).await;
    let mut nats_via = nats.clone();
    nats_via.url = via(&nats_proxy, &nats.url);
    let mut amqp_via = amqp.clone();
    amqp_via.url = via(&amqp_proxy, &amqp.url);
    let config = RelayConfig {
        batch_size: 20,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        abort_after_publish: None,
    };
    let nats_relay = Relay::new(store.clone(), NatsPublisher::new(nats_via), config.clone());
    let amqp_relay = Relay::new(store.clone(), AmqpPublisher::new(amqp_via), config);
    let statuses = [nats_relay.status(), amqp_relay.status()];
    let relays = [
        tokio::spawn(nats_relay.run()),
        tokio::spawn(amqp_relay.run()),
    ];

    const TOTAL: u64 = 400;
    let appender = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..TOTAL {
                let e = NewEvent::new(
                    "workflows.task.progressed",
                    serde_json::json!({"task_id": "build", "attempt": 1, "message": format!("line {n}")}),
                    maos_domain::Metadata::new(uuid::Uuid::now_v7()),
                );
                store
                    .append(
                        "workflow-0190b5f4-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
                        ExpectedVersion::Any,
                        vec![e],
                    )
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    // Let some events through, then cut both brokers off while appends go on.
    for mut status in statuses.clone() {
        tokio::time::timeout(
            Duration::from_secs(30),
            status.wait_for(|s| s.checkpoint >= 50),
        )
        .await
        .unwrap()
        .unwrap();
    }
    nats_proxy.cut();
    amqp_proxy.cut();
    for mut status in statuses.clone() {
        tokio::time::timeout(
            Duration::from_secs(30),
            status.wait_for(|s| matches!(s.state, RelayState::Retrying { .. })),
        )
        .await
        .expect("the relay did not notice the outage")
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let during = store.head_position().await.unwrap();
    nats_proxy.restore();
    amqp_proxy.restore();
    appender.await.unwrap();
    assert!(during > 50, "appends went on during the outage");

    let mut consumer = Tail::nats(&nats, &TypePattern::all(), Start::Oldest)
        .await
        .unwrap();
    for (broker, tail) in [("nats", &mut consumer), ("amqp", &mut queue)] {
        let mut received = Vec::new();
        let mut ids = std::collections::HashSet::new();
        while (ids.len() as u64) < TOTAL {
            let next = tokio::time::timeout(Duration::from_secs(30), tail.next())
                .await
                .unwrap_or_else(|_| {
                    panic!("{broker}: only {} of {TOTAL} events arrived", ids.len())
                });
            let r = next.unwrap().unwrap();
            ids.insert(r.event.id);
            received.push(r);
        }
        assert_complete_in_order(&received, TOTAL, broker);
    }
    for mut status in statuses {
        let s = tokio::time::timeout(
            Duration::from_secs(30),
            status.wait_for(|s| s.checkpoint == TOTAL),
        )
        .await
        .unwrap()
        .unwrap()
        .clone();
        assert_eq!(s.state, RelayState::Running);
    }
    for r in relays {
        r.abort();
    }
    cleanup(&nats, &amqp, &store).await;
}
