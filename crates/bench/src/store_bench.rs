//! `maos-bench store`: durable append throughput and latency, and global
//! log read throughput, on one backend, against the flush rate F measured
//! before and after.

use crate::Backend;
use crate::flush::{self, FlushRate, round};
use crate::stats::Latencies;
use anyhow::Context;
use maos_domain::Metadata;
use maos_store::{EventStore, ExpectedVersion, NewEvent, Store};
use serde_json::{Value, json};
use sqlx::Connection;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Options {
    /// The backend to measure.
    #[arg(long, value_enum)]
    backend: Backend,
    /// PostgreSQL server for `--backend postgres`; a fresh database is
    /// created on it for the run and dropped after.
    #[arg(
        long,
        env = "MAOS_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Directory for the SQLite file and the flush probe [default: a new
    /// temporary directory, removed after].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Seconds each append phase runs.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// write+fdatasync pairs per flush-rate measurement.
    #[arg(long, default_value_t = 2000)]
    flush_samples: usize,
}

/// Concurrent single-event writers in the concurrency phase.
const CONCURRENT_WRITERS: usize = 64;
/// Writers and batch size in the batch phase.
const BATCH_WRITERS: usize = 8;
const BATCH_SIZE: usize = 100;

pub async fn run(options: Options) -> anyhow::Result<Value> {
    let temp = options.data_dir.is_none();
    let dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("maos-bench-{}", Uuid::now_v7())));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let phase = Duration::from_secs_f64(options.seconds);

    eprintln!("measuring flush rate in {}", dir.display());
    let flush_before = flush::measure(&dir, options.flush_samples)?;
    let (store, postgres_db) = open_backend(options.backend, &options.postgres_url, &dir).await?;

    eprintln!("single writer, {} s", options.seconds);
    let (single, mut single_latency) = appenders(&store, 1, 1, phase).await?;
    eprintln!(
        "{CONCURRENT_WRITERS} concurrent writers, {} s",
        options.seconds
    );
    let (concurrent, mut concurrent_latency) =
        appenders(&store, CONCURRENT_WRITERS, 1, phase).await?;
    eprintln!(
        "{BATCH_WRITERS} writers of {BATCH_SIZE}-event batches, {} s",
        options.seconds
    );
    let (batch, _) = appenders(&store, BATCH_WRITERS, BATCH_SIZE, phase).await?;
    eprintln!("reading the global log");
    let (read_events, read_per_s) = read_all(&store).await?;

    let flush_after = flush::measure(&dir, options.flush_samples)?;
    drop(store);
    if let Some(db) = postgres_db {
        drop_database(&options.postgres_url, &db).await?;
    }
    if temp {
        std::fs::remove_dir_all(&dir).ok();
    }

    let f = FlushRate {
        p50_us: (flush_before.p50_us + flush_after.p50_us) / 2.0,
        p99_us: (flush_before.p99_us + flush_after.p99_us) / 2.0,
    };
    let per_flush = |events_per_s: f64| round(events_per_s / f.per_s() * 100.0) / 100.0;
    Ok(json!({
        "backend": match options.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
        "flush_p50_us": round(f.p50_us),
        "flush_p99_us": round(f.p99_us),
        "flush_per_s": round(f.per_s()),
        "single_writer_events_per_s": round(single),
        "concurrent64_events_per_s": round(concurrent),
        "batch100_events_per_s": round(batch),
        "read_all_events_per_s": round(read_per_s),
        "append_p50_us": round(single_latency.percentile_us(50.0)),
        "append_p99_us": round(single_latency.percentile_us(99.0)),
        "ratios_to_flush_rate": {
            "single_writer": per_flush(single),
            "concurrent64": per_flush(concurrent),
            "batch100": per_flush(batch),
            "read_all": per_flush(read_per_s),
        },
        "concurrent64_append_p50_us": round(concurrent_latency.percentile_us(50.0)),
        "concurrent64_append_p99_us": round(concurrent_latency.percentile_us(99.0)),
        "flush_before": flush_before.to_json(),
        "flush_after": flush_after.to_json(),
        "events_read": read_events,
        "phase_seconds": options.seconds,
        "durability": match options.backend {
            Backend::Sqlite => "synchronous=FULL (WAL)",
            Backend::Postgres => "synchronous_commit=on",
        },
    }))
}

pub(crate) async fn open_backend(
    backend: Backend,
    postgres_url: &str,
    dir: &std::path::Path,
) -> anyhow::Result<(Store, Option<String>)> {
    match backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            Ok((Store::open(&url).await?, None))
        }
        Backend::Postgres => {
            let db = format!("maos_bench_{}", Uuid::now_v7().simple());
            let mut admin = sqlx::postgres::PgConnection::connect(postgres_url)
                .await
                .with_context(|| format!("cannot connect to PostgreSQL at {}", postgres_url))?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                .execute(&mut admin)
                .await?;
            let base = postgres_url
                .rsplit_once('/')
                .map_or(postgres_url, |(b, _)| b);
            Ok((Store::open(&format!("{base}/{db}")).await?, Some(db)))
        }
    }
}

pub(crate) async fn drop_database(url: &str, db: &str) -> anyhow::Result<()> {
    let mut admin = sqlx::postgres::PgConnection::connect(url).await?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    Ok(())
}

fn event(n: usize, correlation: Uuid) -> NewEvent {
    NewEvent::new(
        "workflows.task.progressed",
        json!({ "task_id": "build", "attempt": 1, "message": format!("line {n}: Compiling maos-store v0.1.0") }),
        Metadata::new(correlation),
    )
    .with_source("bench/store")
}

/// `writers` tasks append `batch_size`-event appends, each to its own stream,
/// awaiting each, for `phase`. Returns events/s and per-append latencies.
async fn appenders(
    store: &Store,
    writers: usize,
    batch_size: usize,
    phase: Duration,
) -> anyhow::Result<(f64, Latencies)> {
    let start = Instant::now();
    let deadline = start + phase;
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = format!("bench-{}-{w}", Uuid::now_v7().simple());
                let correlation = Uuid::now_v7();
                let mut latencies = Latencies::default();
                let mut events = 0usize;
                while Instant::now() < deadline {
                    let batch: Vec<NewEvent> = (0..batch_size)
                        .map(|n| event(events + n, correlation))
                        .collect();
                    let t = Instant::now();
                    store.append(&stream, ExpectedVersion::Any, batch).await?;
                    latencies.record(t.elapsed());
                    events += batch_size;
                }
                anyhow::Ok((events, latencies))
            })
        })
        .collect();
    let mut total = 0usize;
    let mut all = Latencies::default();
    for t in tasks {
        let (events, latencies) = t.await??;
        total += events;
        all.extend(latencies);
    }
    let elapsed = start.elapsed().as_secs_f64();
    Ok((total as f64 / elapsed, all))
}

/// Reads the whole global log in pages of 1,000; returns events and
/// events/s.
async fn read_all(store: &Store) -> anyhow::Result<(u64, f64)> {
    let start = Instant::now();
    let mut after = 0;
    let mut count = 0u64;
    loop {
        let page = store.read_all(after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        count += page.len() as u64;
    }
    Ok((count, count as f64 / start.elapsed().as_secs_f64()))
}
