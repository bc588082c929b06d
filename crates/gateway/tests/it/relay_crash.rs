//! A relay process that dies between publishing a batch and saving its
//! checkpoint must, after a restart, leave no event missing: the batch is
//! published again, and JetStream drops the repeats by `Nats-Msg-Id`.

use maos_bus::tail::{Start, Tail};
use maos_bus::{AmqpConfig, NatsConfig, TypePattern};
use maos_domain::Metadata;
use maos_store::sqlite::SqliteStore;
use maos_store::{EventStore, ExpectedVersion, NewEvent};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

const EVENTS: u64 = 100;
const BATCH: &str = "10";

fn nats_url() -> String {
    std::env::var("MAOS_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

fn amqp_url() -> String {
    std::env::var("MAOS_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

fn relay(
    db: &str,
    nats: Option<&NatsConfig>,
    amqp: Option<&AmqpConfig>,
    abort_after: Option<u32>,
) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maos"));
    command.args(["relay", "--database-url", db, "--batch-size", BATCH]);
    if let Some(nats) = nats {
        command
            .args(["--nats", &nats.url, "--nats-stream", &nats.stream])
            .args(["--nats-subject-prefix", &nats.subject_prefix]);
    }
    if let Some(amqp) = amqp {
        command.args(["--amqp", &amqp.url, "--amqp-exchange", &amqp.exchange]);
    }
    command
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(n) = abort_after {
        command.env("MAOS_RELAY_ABORT_AFTER_PUBLISH", n.to_string());
    }
    command.spawn().expect("cannot start maos relay")
}

async fn wait_for_checkpoints(store: &SqliteStore, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let nats = store.load_checkpoint("relay.nats").await.unwrap();
        let amqp = store.load_checkpoint("relay.amqp").await.unwrap();
        if nats >= at_least && amqp >= at_least {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "checkpoints stuck at nats {nats}, amqp {amqp}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_between_publish_and_checkpoint_loses_nothing() {
    let dir = std::env::temp_dir().join(format!("maos-relay-crash-{}", Uuid::now_v7()));
    let store = SqliteStore::open_in(&dir).await.unwrap();
    let db = format!("sqlite://{}", store.path().display());
    for n in 0..EVENTS {
        let e = NewEvent::new(
            "workflows.task.progressed",
            serde_json::json!({"task_id": "build", "attempt": 1, "message": format!("line {n}")}),
            Metadata::new(Uuid::now_v7()),
        );
        store
            .append(
                &format!("workflow-{}", Uuid::from_u128(u128::from(n % 4))),
                ExpectedVersion::Any,
                vec![e],
            )
            .await
            .unwrap();
    }
    let tag = Uuid::now_v7().simple().to_string();
    let mut nats = NatsConfig::new(nats_url());
    nats.stream = format!("MAOS_CRASH_{tag}");
    nats.subject_prefix = format!("maos_crash_{tag}.events");
    let mut amqp = AmqpConfig::new(amqp_url());
    amqp.exchange = format!("maos.crash.{tag}");
    amqp.connect().await.expect("RabbitMQ is reachable");
    let mut queue = Tail::amqp(&amqp, &TypePattern::all()).await.unwrap();

    // Each relay dies once, right after its third batch was confirmed by the
    // broker and before that batch's checkpoint: events 21..30 are published
    // but not checkpointed.
    for (nats, amqp, name) in [
        (Some(&nats), None, "relay.nats"),
        (None, Some(&amqp), "relay.amqp"),
    ] {
        let mut crashing = relay(&db, nats, amqp, Some(3));
        let status = tokio::task::spawn_blocking(move || crashing.wait())
            .await
            .unwrap()
            .unwrap();
        assert!(!status.success(), "{name} should have aborted");
        assert_eq!(store.load_checkpoint(name).await.unwrap(), 20, "{name}");
    }

    // Restarted, both resume from their checkpoints and catch up.
    let mut restarted = relay(&db, Some(&nats), Some(&amqp), None);
    wait_for_checkpoints(&store, EVENTS).await;
    restarted.kill().unwrap();
    restarted.wait().unwrap();

    // JetStream holds each event once: the replayed batch was deduplicated.
    let client = async_nats::connect(nats.url.as_str()).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let mut stream = jetstream.get_stream(&nats.stream).await.unwrap();
    assert_eq!(stream.info().await.unwrap().state.messages, EVENTS);
    let mut consumer = Tail::nats(&nats, &TypePattern::all(), Start::Oldest)
        .await
        .unwrap();
    let mut positions = Vec::new();
    while (positions.len() as u64) < EVENTS {
        let r = tokio::time::timeout(Duration::from_secs(30), consumer.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        positions.push(r.event.position);
    }
    assert_eq!(positions, (1..=EVENTS).collect::<Vec<u64>>());

    // RabbitMQ got every event; repeats carry ids already delivered.
    let mut ids = HashSet::new();
    let mut firsts = Vec::new();
    let mut total = 0;
    while (ids.len() as u64) < EVENTS {
        let r = tokio::time::timeout(Duration::from_secs(30), queue.next())
            .await
            .unwrap_or_else(|_| panic!("only {} of {EVENTS} events reached RabbitMQ", ids.len()))
            .unwrap()
            .unwrap();
        total += 1;
        if ids.insert(r.event.id) {
            firsts.push(r.event.position);
        }
    }
    assert_eq!(firsts, (1..=EVENTS).collect::<Vec<u64>>());
    // 1..30 from the crashed run, 21..100 after the restart.
    let deadline = Instant::now() + Duration::from_secs(2);
    while total < EVENTS + 10 && Instant::now() < deadline {
        if let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_millis(200), queue.next()).await
        {
            total += 1;
        }
    }
    assert_eq!(
        total,
        EVENTS + 10,
        "RabbitMQ should have seen the replayed batch once more"
    );

    let _ = jetstream.delete_stream(&nats.stream).await;
    if let Ok((connection, channel)) = amqp.connect().await {
        let _ = channel
            .exchange_delete(amqp.exchange.as_str().into(), Default::default())
            .await;
        let _ = connection.close(0, "test done".into()).await;
    }
    let _ = std::fs::remove_dir_all(dir);
}
