//! `maos-bench orchestrate`: W workflows of T tasks over A agents with the
//! instant executor, end to end through the actors and the store. Reports
//! tasks/minute, command latency (a command's arrival at its actor →
//! events durable → reply), dispatch latency (task assignable → attempt at
//! its agent), the flush rate F of the same run, and the resident memory
//! per live agent actor with `--memory-agents` agents registered (measured
//! in a child process that resumes a node on a store holding them).

use crate::Backend;
use crate::flush::{self, round};
use crate::memory::{heap_in_use_bytes, rss_bytes};
use crate::stats::Latencies;
use crate::steal::StealMeter;
use crate::store_bench::{drop_database, open_backend};
use anyhow::Context as _;
use maos_actors::{AgentDefinition, CommandContext, Node, NodeConfig};
use maos_domain::Capability;
use maos_domain::workflow::{TaskSpec, WorkflowSpec};
use maos_store::{EventStore, Store};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Debug, clap::Args)]
pub struct Options {
    #[arg(long, value_enum)]
    backend: Backend,
    /// Workflows, all submitted at once.
    #[arg(long, default_value_t = 1000)]
    workflows: usize,
    /// Tasks per workflow (a binary tree: task i needs task i/2).
    #[arg(long, default_value_t = 10)]
    tasks: usize,
    /// Agents, with capabilities build/test/docs in turn.
    #[arg(long, default_value_t = 12)]
    agents: usize,
    /// Concurrent attempts each agent may hold.
    #[arg(long, default_value_t = 100)]
    agent_concurrency: u32,
    /// Tasks of the one-at-a-time chain whose commands give the latency
    /// figures (a light load: one command in flight).
    #[arg(long, default_value_t = 300)]
    latency_tasks: usize,
    /// Agents registered for the memory measurement (0: skip it).
    #[arg(long, default_value_t = 100_000)]
    memory_agents: usize,
    #[arg(
        long,
        env = "MAOS_BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres_url: String,
    /// Directory for SQLite files and the flush probe [default: a new
    /// temporary directory, removed after].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 2000)]
    flush_samples: usize,
}

#[derive(Debug, clap::Args)]
pub struct MemoryOptions {
    #[arg(long)]
    database_url: String,
    #[arg(long)]
    agents: usize,
}

const CAPABILITIES: [&str; 3] = ["build", "test", "docs"];

/// `tasks` tasks; task i needs task i/2 (`tree`) or task i-1 (a chain).
fn spec(tasks: usize, tree: bool) -> WorkflowSpec {
    WorkflowSpec {
        name: "bench".to_owned(),
        input: Value::Null,
        tasks: (1..=tasks)
            .map(|i| TaskSpec {
                id: maos_domain::TaskId(format!("t{i}")),
                capability: Capability(CAPABILITIES[i % 3].to_owned()),
                instruction: "nothing".to_owned(),
                needs: if i > 1 {
                    let parent = if tree { i / 2 } else { i - 1 };
                    vec![maos_domain::TaskId(format!("t{parent}"))]
                } else {
                    vec![]
                },
                timeout_secs: 600,
                retries: Default::default(),
                on_exhausted: Default::default(),
            })
            .collect(),
    }
}

fn agent(n: usize, concurrency: u32) -> AgentDefinition {
    AgentDefinition {
        name: format!("bench-agent-{n}"),
        capabilities: vec![
            Capability(CAPABILITIES[n % 3].to_owned()),
            Capability(CAPABILITIES[(n + 1) % 3].to_owned()),
        ],
        max_concurrency: concurrency,
        executor: json!({ "kind": "instant" }),
    }
}

async fn register_many(node: &Node, agents: usize, concurrency: u32) -> anyhow::Result<()> {
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..agents {
        let node = node.clone();
        pending.spawn(async move {
            node.register_agent(&agent(n, concurrency), CommandContext::default())
                .await
        });
        if pending.len() >= 256 {
            pending.join_next().await.expect("a task")??;
        }
    }
    while let Some(done) = pending.join_next().await {
        done??;
    }
    Ok(())
}

pub async fn run(options: Options) -> anyhow::Result<Value> {
    let temp = options.data_dir.is_none();
    let dir = options
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("maos-bench-{}", Uuid::now_v7())));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    eprintln!("measuring flush rate in {}", dir.display());
    let flush_before = flush::measure(&dir, options.flush_samples)?;

    let (store, pg_db) = open_backend(options.backend, &options.postgres_url, &dir).await?;
    let run = workload(&store, &options, &dir).await;
    let flush_after = flush::measure(&dir, options.flush_samples)?;
    let memory = if options.memory_agents > 0 {
        Some(agent_memory_in_child(&options, &dir).await?)
    } else {
        None
    };
    if let (Some(db), Store::Postgres(p)) = (&pg_db, &store) {
        p.pool().close().await;
        drop_database(&options.postgres_url, db).await?;
    }
    if temp {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (latency, run) = run?;
    let flush_p99 = (flush_before.p99_us + flush_after.p99_us) / 2.0;
    Ok(json!({
        "backend": match options.backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" },
        "tasks_per_min": round(run.tasks_per_min),
        "command_p50_us": latency.command_p50_us,
        "command_p99_us": latency.command_p99_us,
        "dispatch_p99_us": latency.dispatch_p99_us,
        "flush_p99_us": round(flush_p99),
        "bytes_per_agent_actor": memory.as_ref().map(|m| m["bytes_per_agent_actor"].clone()),
        // CPU time the hypervisor took during the phases: where it is
        // high, the p99s measure the machine rather than maos.
        "cpu_steal_pct": {
            "latency": latency.cpu_steal["steal_pct"],
            "throughput": run.cpu_steal["steal_pct"],
        },
        "detail": {
            "workflows": options.workflows,
            "tasks_per_workflow": options.tasks,
            "agents": options.agents,
            "agent_concurrency": options.agent_concurrency,
            "latency_phase": {
                "what": "one workflow, a chain of tasks run one at a time: one command in flight",
                "tasks": options.latency_tasks,
                "commands_measured": latency.commands,
                "dispatch_p50_us": latency.dispatch_p50_us,
                "append_in_command_p50_us": latency.append_p50_us,
                "append_in_command_p99_us": latency.append_p99_us,
                "cpu_steal": latency.cpu_steal,
            },
            "throughput_phase": {
                "what": "every workflow submitted at once: commands queue behind each other's flushes",
                "wall_s": round(run.wall_s),
                "commands_measured": run.commands,
                "command_p50_us": run.command_p50_us,
                "command_p99_us": run.command_p99_us,
                "dispatch_p50_us": run.dispatch_p50_us,
                "dispatch_p99_us": run.dispatch_p99_us,
                "submit_p50_us": round(run.submit_p50_us),
                "submit_p99_us": round(run.submit_p99_us),
                "cpu_steal": run.cpu_steal,
            },
            "memory": memory,
            "flush_before": flush_before.to_json(),
            "flush_after": flush_after.to_json(),
            "executor": "instant (no work: measures orchestration only)",
        },
    }))
}

struct Workload {
    tasks_per_min: f64,
    wall_s: f64,
    commands: usize,
    command_p50_us: Option<u32>,
    command_p99_us: Option<u32>,
    dispatch_p50_us: Option<u32>,
    dispatch_p99_us: Option<u32>,
    append_p50_us: Option<u32>,
    append_p99_us: Option<u32>,
    submit_p50_us: f64,
    submit_p99_us: f64,
    /// CPU time the host took from this machine during the phase.
    cpu_steal: Value,
}

async fn workload(
    store: &Store,
    options: &Options,
    dir: &std::path::Path,
) -> anyhow::Result<(Workload, Workload)> {
    let config = NodeConfig {
        workspace_root: dir.join("workspaces"),
        ..NodeConfig::default()
    };
    let node = Node::start(store.clone(), config).await?;
    register_many(&node, options.agents, options.agent_concurrency).await?;
    let latency = phase(&node, 1, &spec(options.latency_tasks, false)).await?;
    let throughput = phase(&node, options.workflows, &spec(options.tasks, true)).await?;
    node.stop();
    Ok((latency, throughput))
}

/// Runs `workflows` copies of `spec` at once and measures.
async fn phase(node: &Node, workflows: usize, spec: &WorkflowSpec) -> anyhow::Result<Workload> {
    let metrics = node.metrics();
    metrics.command_latency.clear();
    metrics.append_latency.clear();
    metrics.dispatch_latency.clear();
    // One subscription counts the workflows' ends (rather than one reader
    // per workflow polling its stream, which would load the store).
    let from = node.store().head_position().await?;
    let steal = StealMeter::start();
    let started = Instant::now();
    let mut submits = tokio::task::JoinSet::new();
    for _ in 0..workflows {
        let (node, spec) = (node.clone(), spec.clone());
        submits.spawn(async move {
            let t = Instant::now();
            node.submit(spec, CommandContext::default()).await?;
            Ok::<Duration, anyhow::Error>(t.elapsed())
        });
    }
    let mut live = node.store().subscribe(from);
    let mut ended = 0;
    while ended < workflows {
        let event = live.next().await?;
        match event.event_type.as_str() {
            "workflows.workflow.completed" => ended += 1,
            "workflows.workflow.failed" | "workflows.workflow.cancelled" => {
                anyhow::bail!("a workflow ended {}: {}", event.event_type, event.data)
            }
            _ => {}
        }
    }
    let mut submit = Latencies::with_capacity(workflows);
    while let Some(done) = submits.join_next().await {
        submit.record(done??);
    }
    let wall = started.elapsed();
    let cpu_steal = steal.stop();
    Ok(Workload {
        tasks_per_min: (workflows * spec.tasks.len()) as f64 / wall.as_secs_f64() * 60.0,
        wall_s: wall.as_secs_f64(),
        commands: metrics.command_latency.len(),
        command_p50_us: metrics.command_latency.percentile(50.0),
        command_p99_us: metrics.command_latency.percentile(99.0),
        dispatch_p50_us: metrics.dispatch_latency.percentile(50.0),
        dispatch_p99_us: metrics.dispatch_latency.percentile(99.0),
        append_p50_us: metrics.append_latency.percentile(50.0),
        append_p99_us: metrics.append_latency.percentile(99.0),
        submit_p50_us: submit.percentile_us(50.0),
        submit_p99_us: submit.percentile_us(99.0),
        cpu_steal,
    })
}

/// Registers `memory_agents` agents on a fresh SQLite store, then measures
/// in a child process how much a node resuming them grows.
async fn agent_memory_in_child(options: &Options, dir: &std::path::Path) -> anyhow::Result<Value> {
    let mem_dir = dir.join("agents-memory");
    std::fs::create_dir_all(&mem_dir)?;
    let url = format!("sqlite://{}", mem_dir.join("agents.db").display());
    eprintln!(
        "registering {} agents for the memory measurement",
        options.memory_agents
    );
    {
        let store = Store::open(&url).await?;
        let node = Node::start(store, NodeConfig::default()).await?;
        register_many(&node, options.memory_agents, 1).await?;
        node.stop();
    }
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .args(["agent-memory", "--database-url", &url])
        .args(["--agents", &options.memory_agents.to_string()])
        .output()
        .await?;
    anyhow::ensure!(
        output.status.success(),
        "agent-memory failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// An actor with nothing in it: what actix alone costs.
struct Bare;

impl actix::Actor for Bare {
    type Context = actix::Context<Self>;
}

impl actix::Supervised for Bare {}

/// Live heap per supervised bare actor, over `n` of them.
async fn bare_actor_bytes(n: usize) -> anyhow::Result<f64> {
    let before = heap_in_use_bytes()?;
    let addrs: Vec<actix::Addr<Bare>> =
        (0..n).map(|_| actix::Supervisor::start(|_| Bare)).collect();
    tokio::time::sleep(Duration::from_millis(200)).await; // let them start
    let after = heap_in_use_bytes()?;
    drop(addrs);
    tokio::time::sleep(Duration::from_millis(200)).await; // let them stop
    Ok(after.saturating_sub(before) as f64 / n as f64)
}

/// The child's side: open the store, note RSS and live heap, resume every
/// agent, note them again.
pub async fn agent_memory(options: MemoryOptions) -> anyhow::Result<Value> {
    let store = Store::open(&options.database_url).await?;
    let before = rss_bytes()?;
    let heap_before = heap_in_use_bytes()?;
    let node = Node::start(store, NodeConfig::default()).await?;
    let started = Instant::now();
    while node.agent_count().await? < options.agents {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "agents did not come up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resumed_in = started.elapsed();
    let after = rss_bytes()?;
    let heap_after = heap_in_use_bytes()?;
    let per_actor = heap_after.saturating_sub(heap_before) as f64 / options.agents as f64;
    let rss_per_actor = after.saturating_sub(before) as f64 / options.agents as f64;
    // Measured after the agents: memory its actors freed would otherwise
    // be resident already when the agents' growth is taken.
    let bare = bare_actor_bytes(options.agents).await?;
    Ok(json!({
        "agents": options.agents,
        "rss_before_bytes": before,
        "rss_after_bytes": after,
        "heap_before_bytes": heap_before,
        "heap_after_bytes": heap_after,
        "bytes_per_agent_actor": round(per_actor),
        "measured_as": "live heap (jemalloc stats.allocated) grown by resuming the agents, per agent",
        "rss_bytes_per_agent_actor": round(rss_per_actor),
        "resume_s": round(resumed_in.as_secs_f64()),
        "baseline_bare_actix_actor_bytes": round(bare),
        "baseline_what": "live heap per supervised actix actor with no state and no messages, same process, measured after the agents",
        "includes": "actix actor + supervisor + mailbox, the agent's folded state, its dispatcher slot, capability index entry and directory entry",
    }))
}
