//! `maos-bench rebuild`: how fast the log folds in memory, how fast every
//! read model rebuilds with its writes, and how fast a workflow's state as
//! of a point of a 10,000-event stream is read.

use crate::Backend;
use crate::flush::{self, round};
use crate::stats::Latencies;
use crate::store_bench::{drop_database, open_backend};
use chrono::{DateTime, TimeDelta, Utc};
use maos_domain::workflow::{self, WorkflowCommand, WorkflowEvent, WorkflowState};
use maos_domain::{AgentId, Attempt, Metadata, TaskId, WorkflowId};
use maos_projections::audit::AuditLog;
use maos_projections::board::WorkflowBoard;
use maos_projections::history::{self, AsOf};
use maos_projections::{ReadModel, replay};
use maos_store::{EventStore, ExpectedVersion, NewEvent, Store};
use serde_json::{Value, json};
use std::time::Instant;
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Options {
    #[arg(long, value_enum)]
    backend: Backend,
    #[arg(
        long,
        env = "MAOS_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Events in the log (about; whole workflows of 20 tasks are generated).
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// State-as-of reads timed on the 10,000-event stream.
    #[arg(long, default_value_t = 200)]
    as_of_reads: u64,
}

const TASKS: usize = 20;
const LONG_STREAM: u64 = 10_000;
/// Events per page when reading the whole log.
const FOLD_PAGE: usize = 10_000;

pub async fn run(options: Options) -> anyhow::Result<Value> {
    let dir = std::env::temp_dir().join(format!("maos-bench-rebuild-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir)?;
    let flush_before = flush::measure(&dir, 1000)?;
    let (store, postgres_db) = open_backend(options.backend, &options.postgres_url, &dir).await?;

    eprintln!("generating about {} events", options.events);
    let long = fill(&store, options.events).await?;
    let events = store.head_position().await?;

    eprintln!("reading {events} events, as a baseline");
    let start = Instant::now();
    let read = read_everything(&store).await?;
    let read_secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(read == events, "read {read} of {events} events");

    eprintln!("folding {events} events in memory");
    let start = Instant::now();
    let folded = fold_everything(&store).await?;
    let fold_secs = start.elapsed().as_secs_f64();

    eprintln!("rebuilding every read model in one pass");
    let start = Instant::now();
    let models: [&dyn ReadModel; 2] = [&AuditLog, &WorkflowBoard];
    let rebuilt = replay::rebuild(&store, &models, |_, _| {}).await?;
    let rebuild_secs = start.elapsed().as_secs_f64();
    anyhow::ensure!(
        rebuilt == events,
        "the rebuild stopped at {rebuilt} of {events}"
    );

    eprintln!("reading state as of points of a {LONG_STREAM}-event stream");
    let mut latencies = Latencies::default();
    for i in 0..options.as_of_reads {
        let version = 1 + (i * 7919) % LONG_STREAM;
        let t = Instant::now();
        let state = history::state_as_of(&store, long, AsOf::Version(version)).await?;
        latencies.record(t.elapsed());
        anyhow::ensure!(
            state.map(|s| s.version) == Some(version),
            "as-of read returned the wrong version"
        );
    }
    let flush_after = flush::measure(&dir, 1000)?;
    drop(store);
    if let Some(db) = postgres_db {
        drop_database(&options.postgres_url, &db).await?;
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(json!({
        "backend": match options.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
        "fold_events_per_s": round(events as f64 / fold_secs),
        "rebuild_events_per_s": round(events as f64 / rebuild_secs),
        "as_of_10k_p99_ms": round(latencies.percentile_us(99.0) / 1000.0),
        "as_of_10k_p50_ms": round(latencies.percentile_us(50.0) / 1000.0),
        "events": events,
        "log_read_events_per_s": round(events as f64 / read_secs),
        "workflows_folded": folded,
        "flush_before": flush_before.to_json(),
        "flush_after": flush_after.to_json(),
    }))
}

/// Reads the whole log in pages, one after the other, doing nothing with
/// it: what the fold's reading costs alone. How many events.
async fn read_everything(store: &Store) -> anyhow::Result<u64> {
    let mut after = 0;
    let mut events = 0;
    loop {
        let page = store.read_all_payloads(after, FOLD_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        events += page.len() as u64;
    }
    Ok(events)
}

/// Reads the whole log and folds every workflow stream; how many workflows.
/// The next page is read while the current one is folded.
async fn fold_everything(store: &Store) -> anyhow::Result<usize> {
    let read_page = |after: u64| {
        let store = store.clone();
        tokio::spawn(async move { store.read_all_payloads(after, FOLD_PAGE).await })
    };
    let mut states: foldhash::HashMap<String, WorkflowState> = foldhash::HashMap::default();
    let mut next = read_page(0);
    loop {
        let page = next.await??;
        let Some(last) = page.last() else { break };
        next = read_page(last.position);
        for e in &page {
            let event = WorkflowEvent::from_json(&e.event_type, &e.data)?;
            match states.get_mut(&e.stream) {
                Some(state) => *state = workflow::evolve(std::mem::take(state), &event),
                None => {
                    states.insert(
                        e.stream.clone(),
                        workflow::evolve(WorkflowState::default(), &event),
                    );
                }
            }
        }
    }
    Ok(states.len())
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(1_763_719_200, 0).unwrap_or_default()
        + TimeDelta::seconds(seconds)
}

/// The events of one finished workflow of `TASKS` chained tasks, one batch
/// per command.
fn workflow_run(id: WorkflowId) -> anyhow::Result<Vec<Vec<WorkflowEvent>>> {
    let agent = AgentId(Uuid::now_v7());
    let spec = serde_json::from_value(json!({
        "name": "bench",
        "tasks": (0..TASKS).map(|i| json!({
            "id": format!("t{i}"), "capability": "backend", "instruction": format!("step {i}"),
            "needs": if i == 0 { vec![] } else { vec![format!("t{}", i - 1)] },
        })).collect::<Vec<_>>(),
    }))?;
    let mut commands = vec![WorkflowCommand::Submit {
        workflow_id: id,
        spec,
        now: at(0),
    }];
    for i in 0..TASKS {
        let task_id = TaskId(format!("t{i}"));
        let t = i64::try_from(i).unwrap_or(0) * 10;
        let candidates = vec![maos_domain::scoring::CandidateScore {
            agent_id: agent,
            eligible: true,
            score: 500,
            reasons: vec![],
        }];
        commands.push(WorkflowCommand::AssignTask {
            task_id: task_id.clone(),
            agent_id: agent,
            candidates,
            now: at(t + 1),
        });
        commands.push(WorkflowCommand::StartTask {
            task_id: task_id.clone(),
            attempt: Attempt(1),
            now: at(t + 2),
        });
        commands.push(WorkflowCommand::CompleteTask {
            task_id,
            attempt: Attempt(1),
            output: json!({ "ok": i }),
            usage: workflow::Usage::default(),
            added_tasks: vec![],
            now: at(t + 3),
        });
    }
    let mut state = WorkflowState::default();
    let mut batches = Vec::new();
    for command in commands {
        let events = workflow::decide(&state, command)?;
        state = events.iter().fold(state, workflow::evolve);
        batches.push(events);
    }
    Ok(batches)
}

/// A run's events with the metadata the node gives them: one correlation;
/// the submission carries its user; each later command's first event is
/// caused by the event before it, and a batch's other events by its first.
fn with_metadata(batches: &[Vec<WorkflowEvent>]) -> Vec<NewEvent> {
    let correlation = Uuid::now_v7();
    let mut out: Vec<NewEvent> = Vec::new();
    for (i, batch) in batches.iter().enumerate() {
        let start = out.len();
        for event in batch {
            let mut metadata = Metadata::new(correlation);
            metadata.causation_id = match out.get(start) {
                Some(first) => Some(first.id),
                None => out.last().map(|e| e.id),
            };
            metadata.user_id = (i == 0).then(|| "bench".to_owned());
            out.push(NewEvent::from_domain(event, metadata));
        }
    }
    out
}

/// Appends finished workflows (8 writers) until about `events`, plus one
/// workflow whose only task reports `LONG_STREAM` progress lines; returns
/// that workflow.
async fn fill(store: &Store, events: u64) -> anyhow::Result<WorkflowId> {
    let per_run = workflow_run(WorkflowId(Uuid::now_v7()))?
        .iter()
        .map(Vec::len)
        .sum::<usize>() as u64;
    let runs = events.saturating_sub(LONG_STREAM) / per_run;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in (w..runs).step_by(8) {
                    let id = WorkflowId(Uuid::now_v7());
                    let new = with_metadata(&workflow_run(id)?);
                    store
                        .append(&id.stream(), ExpectedVersion::NoStream, new)
                        .await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for w in writers {
        w.await??;
    }
    let long = WorkflowId(Uuid::now_v7());
    let spec = serde_json::from_value(
        json!({"name": "long", "tasks": [{"id": "t0", "capability": "backend", "instruction": "go"}]}),
    )?;
    let agent = AgentId(Uuid::now_v7());
    let task = TaskId::from("t0");
    let mut state = WorkflowState::default();
    let mut pending = vec![
        WorkflowCommand::Submit {
            workflow_id: long,
            spec,
            now: at(0),
        },
        WorkflowCommand::AssignTask {
            task_id: task.clone(),
            agent_id: agent,
            candidates: vec![maos_domain::scoring::CandidateScore {
                agent_id: agent,
                eligible: true,
                score: 500,
                reasons: vec![],
            }],
            now: at(1),
        },
        WorkflowCommand::StartTask {
            task_id: task.clone(),
            attempt: Attempt(1),
            now: at(2),
        },
    ];
    let mut batches = Vec::new();
    let mut decided_events = 0;
    while decided_events < LONG_STREAM {
        let command = if pending.is_empty() {
            WorkflowCommand::ReportProgress {
                task_id: task.clone(),
                attempt: Attempt(1),
                message: format!("line {decided_events}"),
            }
        } else {
            pending.remove(0)
        };
        let decided = workflow::decide(&state, command)?;
        state = decided.iter().fold(state, workflow::evolve);
        decided_events += decided.len() as u64;
        batches.push(decided);
    }
    let mut events = with_metadata(&batches);
    events.truncate(usize::try_from(LONG_STREAM).unwrap_or(usize::MAX));
    while !events.is_empty() {
        let rest = events.split_off(events.len().min(1000));
        store
            .append(&long.stream(), ExpectedVersion::Any, events)
            .await?;
        events = rest;
    }
    Ok(long)
}
