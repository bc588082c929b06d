use crate::support::*;
use maos_bus::tail::{Start, Tail};
use maos_bus::{AmqpPublisher, NatsPublisher, Relay, RelayConfig, RelayState, TypePattern};
use maos_store::EventStore;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

async fn receive(tail: &mut Tail, n: u64) -> Vec<maos_bus::tail::Received> {
    let mut out = Vec::new();
    while (out.len() as u64) < n {
        let next = tokio::time::timeout(WAIT, tail.next())
            .await
            .expect("events stopped arriving");
        out.push(next.expect("subscription closed").expect("bad message"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_reaches_both_brokers_in_order_with_valid_envelopes() {
    let store = fresh_store().await;
    let nats = nats_config(nats_url());
    let amqp = amqp_config(amqp_url());
    let n = append_workflow_run(&store, 6).await;
    assert_eq!(
        n,
        2 + 6 + 6 * 3 + 1,
        "submitted+started, ready per task, assign/start/complete, completed"
    );

    // Independent consumers: a queue bound before relaying, a JetStream
    // consumer reading the stream from its start.
    nats.connect().await.expect("JetStream is reachable");
    let mut queue = Tail::amqp(&amqp, &TypePattern::all())
        .await
        .expect("RabbitMQ is reachable");
    let nats_relay = Relay::new(
        store.clone(),
        NatsPublisher::new(nats.clone()),
        RelayConfig::default(),
    );
    let amqp_relay = Relay::new(
        store.clone(),
        AmqpPublisher::new(amqp.clone()),
        RelayConfig::default(),
    );
    let mut nats_status = nats_relay.status();
    let relays = [
        tokio::spawn(nats_relay.run()),
        tokio::spawn(amqp_relay.run()),
    ];

    let mut consumer = Tail::nats(&nats, &TypePattern::all(), Start::Oldest)
        .await
        .unwrap();
    let from_nats = receive(&mut consumer, n).await;
    let from_amqp = receive(&mut queue, n).await;

    let schemas = Schemas::load();
    for (broker, received) in [("nats", &from_nats), ("amqp", &from_amqp)] {
        let positions: Vec<u64> = received.iter().map(|r| r.event.position).collect();
        assert_eq!(
            positions,
            (1..=n).collect::<Vec<u64>>(),
            "{broker}: not every event, in order"
        );
        for r in received.iter() {
            schemas.assert_valid(&r.body);
            let expected_routing = match broker {
                "nats" => nats.subject(&r.event.event_type),
                _ => r.event.event_type.clone(),
            };
            assert_eq!(r.routing, expected_routing);
            assert_eq!(
                r.message_id.as_deref(),
                Some(r.event.id.to_string().as_str())
            );
            let header = |name: &str| {
                r.headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(header("ce-specversion"), Some("1.0"));
            assert_eq!(header("ce-id"), Some(r.event.id.to_string().as_str()));
            assert_eq!(header("ce-type"), Some(r.event.event_type.as_str()));
            assert_eq!(header("ce-source"), Some("test/workflow"));
            assert!(
                header("ce-time").is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
            );
        }
    }
    // The same bytes on both brokers.
    for (a, b) in from_nats.iter().zip(&from_amqp) {
        assert_eq!(
            a.body, b.body,
            "bodies differ at position {}",
            a.event.position
        );
    }
    // The checkpoint follows, and the lag drains to zero.
    let status = tokio::time::timeout(WAIT, nats_status.wait_for(|s| s.checkpoint == n))
        .await
        .expect("checkpoint never reached the head")
        .unwrap()
        .clone();
    assert_eq!((status.state, status.lag), (RelayState::Running, 0));
    assert_eq!(store_checkpoint(&store, "relay.nats").await, n);

    for r in relays {
        r.abort();
    }
    cleanup(&nats, &amqp, &store).await;
}

async fn store_checkpoint(store: &impl EventStore, name: &str) -> u64 {
    for _ in 0..100 {
        let position = store.load_checkpoint(name).await.unwrap();
        if position > 0 {
            return position;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_gets_only_the_types_its_pattern_matches() {
    let store = fresh_store().await;
    let nats = nats_config(nats_url());
    let amqp = amqp_config(amqp_url());
    let n = append_workflow_run(&store, 3).await;
    nats.connect().await.unwrap();
    let pattern = TypePattern::parse("workflows.task.*").unwrap();
    let mut queue = Tail::amqp(&amqp, &pattern).await.unwrap();
    let relays = [
        tokio::spawn(
            Relay::new(
                store.clone(),
                NatsPublisher::new(nats.clone()),
                RelayConfig::default(),
            )
            .run(),
        ),
        tokio::spawn(
            Relay::new(
                store.clone(),
                AmqpPublisher::new(amqp.clone()),
                RelayConfig::default(),
            )
            .run(),
        ),
    ];
    let all = store.read_all(0, 1000).await.unwrap();
    assert_eq!(all.len() as u64, n);
    let expected: Vec<u64> = all
        .iter()
        .filter(|e| pattern.matches(&e.event_type))
        .map(|e| e.position)
        .collect();
    assert!(!expected.is_empty() && (expected.len() as u64) < n);

    let mut consumer = Tail::nats(&nats, &pattern, Start::Oldest).await.unwrap();
    for tail in [&mut consumer, &mut queue] {
        let got: Vec<u64> = receive(tail, expected.len() as u64)
            .await
            .iter()
            .map(|r| r.event.position)
            .collect();
        assert_eq!(got, expected);
    }
    for r in relays {
        r.abort();
    }
    cleanup(&nats, &amqp, &store).await;
}
