//! `maos-bench api`: a server on the embedded store (SQLite), driven over
//! HTTP on loopback by a load generator on its own thread.
//!
//! - submit, peak: `--concurrency` clients submit one-task workflows back
//!   to back for `--seconds`; the rate is `submit_per_s`.
//! - submit at half of peak: requests sent on a fixed schedule at half
//!   that rate (open loop: a request goes out when due whatever earlier
//!   ones do, so a stall is not hidden); its p99 is `submit_p99_ms`,
//!   compared with the flush p99 measured in the same run.
//! - board queries: `--concurrency` clients read one workflow's board page
//!   (of `--tasks` tasks) back to back: `board_query_per_s`; then on a
//!   fixed schedule at half that rate: `board_query_p99_ms`.
//! - `--submit-rate` and `--board-rate` fix the open-loop rates instead,
//!   so two versions can be compared at the same load.
//!
//! Submitted workflows need a capability no agent has, so they wait: the
//! figures are the API and the command path (parse, validate, decide,
//! durable append, reply), not task execution (see `orchestrate`). As they
//! wait, the node keeps them: the live heap grown over the two submit
//! phases, per workflow, is `detail.heap_per_waiting_workflow_bytes`.

use crate::flush::{self, round};
use crate::memory::heap_in_use_bytes;
use crate::stats::Latencies;
use crate::steal::StealMeter;
use maos_gateway::config::{LogFormat, Settings};
use maos_gateway::service::{Mode, Service};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct Options {
    /// Seconds per measured phase.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Concurrent clients in the closed-loop phases.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Workflows on the board before the board is queried.
    #[arg(long, default_value_t = 200)]
    workflows: usize,
    /// Tasks per workflow on the board.
    #[arg(long, default_value_t = 10)]
    tasks: usize,
    /// Directory for the store and the flush probe [default: a new
    /// directory under the system's temp dir].
    #[arg(long)]
    dir: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    flush_samples: usize,
    /// Submissions per second in the open-loop submit phase [default: half
    /// of the peak just measured]. A fixed rate compares two versions at
    /// the same load.
    #[arg(long)]
    submit_rate: Option<f64>,
    /// Board queries per second in the open-loop board phase [default:
    /// half of the board's peak just measured].
    #[arg(long)]
    board_rate: Option<f64>,
}

pub async fn run(options: Options) -> anyhow::Result<Value> {
    let dir = match &options.dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!("maos-bench-api-{}", uuid::Uuid::now_v7())),
    };
    std::fs::create_dir_all(&dir)?;
    eprintln!("measuring flush rate in {}", dir.display());
    let flush_before = flush::measure(&dir, options.flush_samples)?;
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.join("maos.db").display()),
        data_dir: dir.clone(),
        http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        url: String::new(),
        token: None,
        agents: None,
        workspaces: dir.join("workspaces"),
        log_format: LogFormat::Pretty,
    };
    let service = Service::start(&settings, Mode::Full, settings.http_addr).await?;
    let token = std::fs::read_to_string(dir.join(maos_gateway::server::ADMIN_TOKEN_FILE))?
        .trim()
        .to_owned();
    let base = format!("http://{}", service.server.addr);
    let node_metrics = service.node.as_ref().map(|n| n.metrics());
    let load = Load {
        node_metrics,
        base,
        token,
        seconds: options.seconds,
        concurrency: options.concurrency,
        workflows: options.workflows,
        tasks: options.tasks,
        submit_rate: options.submit_rate,
        board_rate: options.board_rate,
    };
    // The load generator gets a thread (and actix system) of its own, so
    // it doesn't share the node's actor thread.
    let measured =
        tokio::task::spawn_blocking(move || actix_rt::System::new().block_on(load.run())).await??;
    service.stop().await;
    let flush_after = flush::measure(&dir, options.flush_samples)?;
    if options.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let flush_p99_ms = (flush_before.p99_us + flush_after.p99_us) / 2.0 / 1000.0;
    let submit_p99_ms = measured["half_load"]["p99_ms"].as_f64().unwrap_or(f64::NAN);
    let board_p99_ms = measured["board_half_load"]["p99_ms"]
        .as_f64()
        .unwrap_or(f64::NAN);
    Ok(json!({
        "backend": "sqlite",
        "submit_per_s": measured["peak"]["per_s"],
        "submit_p99_ms": submit_p99_ms,
        "board_query_per_s": measured["board_peak"]["per_s"],
        "board_query_p99_ms": board_p99_ms,
        "flush_p99_ms": round(flush_p99_ms * 1000.0) / 1000.0,
        // CPU time the hypervisor took during the half-load phases: where
        // it is high, the p99s measure the machine rather than maos.
        "cpu_steal_pct_at_half_load": {
            "submit": measured["half_load"]["cpu_steal"]["steal_pct"],
            "board": measured["board_half_load"]["cpu_steal"]["steal_pct"],
        },
        "aims": {
            "board_query_p99_under_5_ms": board_p99_ms < 5.0,
            "submit_p99_under_flush_p99_plus_2_ms": submit_p99_ms < flush_p99_ms + 2.0,
        },
        "detail": {
            "submit_peak": measured["peak"],
            "submit_half_load": measured["half_load"],
            "board_peak": measured["board_peak"],
            "board_half_load": measured["board_half_load"],
            "node_command_latency_at_half_load": measured["half_load_node"],
            "concurrency": options.concurrency,
            "seconds_per_phase": options.seconds,
            "board_tasks_per_page": options.tasks,
            "workflows_on_board": options.workflows,
            "projectors_caught_up_after_s": measured["projectors_caught_up_after_s"],
            "heap_per_waiting_workflow_bytes": measured["heap_per_waiting_workflow_bytes"],
            "flush_before": flush_before.to_json(),
            "flush_after": flush_after.to_json(),
        },
    }))
}

/// The load generator's plan.
struct Load {
    /// The node's own latencies, cleared before the half-load phase.
    node_metrics: Option<std::sync::Arc<maos_actors::NodeMetrics>>,
    base: String,
    token: String,
    seconds: u64,
    concurrency: usize,
    workflows: usize,
    tasks: usize,
    submit_rate: Option<f64>,
    board_rate: Option<f64>,
}

impl Load {
    /// A client with room for far more requests in flight than the
    /// closed-loop phases make, so in the open-loop phases a request goes
    /// out when it is due (a wait for a connection would mean hundreds of
    /// answers outstanding). Bounded: each connection is a file descriptor.
    fn client(&self) -> awc::Client {
        awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .connector(awc::Connector::new().limit(256))
            .finish()
    }

    fn spec(&self, tasks: usize) -> String {
        let mut spec = String::from("name: bench\ntasks:\n");
        for i in 0..tasks {
            spec.push_str(&format!(
                "  - {{id: t{i}, capability: nobody, instruction: x}}\n"
            ));
        }
        spec
    }

    async fn submit(&self, client: &awc::Client, body: &str) -> anyhow::Result<String> {
        let mut response = client
            .post(format!("{}/api/v1/workflows", self.base))
            .bearer_auth(&self.token)
            .content_type("application/yaml")
            .send_body(body.to_owned())
            .await
            .map_err(|e| anyhow::anyhow!("submit: {e}"))?;
        let bytes = response.body().await?;
        anyhow::ensure!(
            response.status().as_u16() == 201,
            "submit answered {}: {}",
            response.status(),
            String::from_utf8_lossy(&bytes)
        );
        let value: Value = serde_json::from_slice(&bytes)?;
        Ok(value["data"]["workflow_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    async fn run(self) -> anyhow::Result<Value> {
        let this = Rc::new(self);
        let client = this.client();
        // The board: workflows of `tasks` tasks each.
        eprintln!(
            "submitting {} workflows of {} tasks",
            this.workflows, this.tasks
        );
        let board_spec = this.spec(this.tasks);
        let mut ids = Vec::with_capacity(this.workflows);
        for chunk in (0..this.workflows).collect::<Vec<_>>().chunks(16) {
            let submits = chunk.iter().map(|_| this.submit(&client, &board_spec));
            for id in futures_util::future::join_all(submits).await {
                ids.push(id?);
            }
        }
        let one_task = this.spec(1);
        let heap_before = heap_in_use_bytes()?;

        eprintln!(
            "submit, peak: {} clients for {} s",
            this.concurrency, this.seconds
        );
        let peak = this
            .closed_loop(|client| {
                let this = this.clone();
                let body = one_task.clone();
                async move { this.submit(&client, &body).await.map(|_| ()) }
            })
            .await?;
        let peak_per_s = peak["per_s"].as_f64().unwrap_or(0.0);

        let rate = this.submit_rate.unwrap_or(peak_per_s / 2.0).max(1.0);
        eprintln!("submit, open loop: {rate:.0}/s for {} s", this.seconds);
        if let Some(m) = &this.node_metrics {
            m.command_latency.clear();
            m.append_latency.clear();
        }
        // A fresh client per phase: the server closes connections idle for
        // its keep-alive (5 s), and a pooled one it closed fails its request.
        let fresh = this.client();
        let half = this
            .open_loop(rate, |_| {
                let this = this.clone();
                let client = fresh.clone();
                let body = one_task.clone();
                async move { this.submit(&client, &body).await.map(|_| ()) }
            })
            .await?;

        let half_node = node_command_latency(this.node_metrics.as_deref());
        // The submitted workflows wait (no agent has their capability), so
        // the node keeps each one's actor and state: the heap they hold.
        let heap_after = heap_in_use_bytes()?;
        let submitted =
            peak["requests"].as_u64().unwrap_or(0) + half["requests"].as_u64().unwrap_or(0);
        let heap_per_workflow =
            heap_after.saturating_sub(heap_before) as f64 / submitted.max(1) as f64;
        // Read models follow the log: the board phase starts once they
        // have caught up with the submissions, so it measures queries alone.
        let settle = Instant::now();
        this.wait_for_projectors().await?;
        let settle_s = settle.elapsed().as_secs_f64();
        eprintln!(
            "board queries, peak: {} clients for {} s",
            this.concurrency, this.seconds
        );
        let ids = Rc::new(ids);
        let counter = Rc::new(RefCell::new(0usize));
        let board_peak = this
            .closed_loop(|client| {
                let this = this.clone();
                let ids = ids.clone();
                let counter = counter.clone();
                async move {
                    let i = {
                        let mut c = counter.borrow_mut();
                        *c += 1;
                        *c % ids.len().max(1)
                    };
                    this.board_page(&client, &ids[i]).await
                }
            })
            .await?;
        let rate = this
            .board_rate
            .unwrap_or(board_peak["per_s"].as_f64().unwrap_or(0.0) / 2.0)
            .max(1.0);
        eprintln!(
            "board queries, open loop: {rate:.0}/s for {} s",
            this.seconds
        );
        let fresh = this.client();
        let board_half = this
            .open_loop(rate, |i| {
                let this = this.clone();
                let client = fresh.clone();
                let id = ids[i % ids.len().max(1)].clone();
                async move { this.board_page(&client, &id).await }
            })
            .await?;
        Ok(json!({
            "peak": peak,
            "half_load": half,
            "half_load_node": half_node,
            "board_peak": board_peak,
            "board_half_load": board_half,
            "projectors_caught_up_after_s": round(settle_s),
            "heap_per_waiting_workflow_bytes": heap_per_workflow.round(),
        }))
    }

    /// `concurrency` clients calling `call` back to back for `seconds`.
    async fn closed_loop<F, Fut>(&self, call: F) -> anyhow::Result<Value>
    where
        F: Fn(awc::Client) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + 'static,
    {
        let client = self.client();
        let end = Instant::now() + Duration::from_secs(self.seconds);
        let started = Instant::now();
        let workers = (0..self.concurrency).map(|_| {
            let client = client.clone();
            let call = &call;
            async move {
                let mut latencies = Latencies::default();
                while Instant::now() < end {
                    let t = Instant::now();
                    call(client.clone()).await?;
                    latencies.record(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }
        });
        let mut all = Latencies::default();
        for result in futures_util::future::join_all(workers).await {
            all.extend(result?);
        }
        let elapsed = started.elapsed().as_secs_f64();
        Ok(summary(&mut all, elapsed))
    }

    /// Requests sent on a fixed schedule at `rate` per second for
    /// `seconds`, whatever the answers do (each on its own task, so a slow
    /// answer delays no later request).
    async fn open_loop<F, Fut>(&self, rate: f64, call: F) -> anyhow::Result<Value>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = anyhow::Result<()>> + 'static,
    {
        let interval = Duration::from_secs_f64(1.0 / rate);
        let total = (rate * self.seconds as f64) as usize;
        let steal = StealMeter::start();
        let started = Instant::now();
        let mut pending = Vec::with_capacity(total);
        for i in 0..total {
            let due = started + interval.mul_f64(i as f64);
            tokio::time::sleep_until(due.into()).await;
            // Timed from dispatch: sends never wait on answers here, so a
            // late dispatch is the generator's timer (1 ms ticks), not the
            // server.
            let sent = Instant::now();
            let request = call(i);
            pending.push(actix_rt::spawn(async move {
                request.await?;
                Ok::<_, anyhow::Error>(sent.elapsed())
            }));
        }
        let mut latencies = Latencies::with_capacity(total);
        for p in pending {
            latencies.record(p.await??);
        }
        let elapsed = started.elapsed().as_secs_f64();
        let mut report = summary(&mut latencies, elapsed);
        report["target_per_s"] = json!(round(rate));
        report["cpu_steal"] = steal.stop();
        Ok(report)
    }

    /// Waits until every projector's lag is 0.
    /// Polls until every projector has caught up. Each poll on a client of
    /// its own: one kept from before the submit phases held connections
    /// the server had closed meanwhile, and failed the run ("connector has
    /// been disconnected").
    async fn wait_for_projectors(&self) -> anyhow::Result<()> {
        loop {
            let mut response = self
                .client()
                .get(format!("{}/api/v1/projections", self.base))
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("projections: {e}"))?;
            let value: Value = serde_json::from_slice(&response.body().await?)?;
            let behind = value["data"]
                .as_array()
                .is_none_or(|ps| ps.iter().any(|p| p["lag"].as_u64() != Some(0)));
            if !behind {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn board_page(&self, client: &awc::Client, workflow: &str) -> anyhow::Result<()> {
        let mut response = client
            .get(format!(
                "{}/api/v1/board?workflow_id={workflow}&limit=100",
                self.base
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("board: {e}"))?;
        let bytes = response.body().limit(1 << 20).await?;
        anyhow::ensure!(
            response.status().is_success(),
            "board answered {}",
            response.status()
        );
        let value: Value = serde_json::from_slice(&bytes)?;
        anyhow::ensure!(
            value["data"]
                .as_array()
                .is_some_and(|rows| rows.len() == self.tasks),
            "a board page without the workflow's {} tasks",
            self.tasks
        );
        Ok(())
    }
}

/// The node's own measure of its workflow commands (arrival at the actor
/// to reply, events durable) and of the appends in them: how much of a
/// submit's time is the command itself.
fn node_command_latency(metrics: Option<&maos_actors::NodeMetrics>) -> Value {
    let Some(m) = metrics else {
        return Value::Null;
    };
    let ms = |p: f64| {
        m.command_latency
            .percentile(p)
            .map(|us| f64::from(us) / 1000.0)
    };
    let append = |p: f64| {
        m.append_latency
            .percentile(p)
            .map(|us| f64::from(us) / 1000.0)
    };
    json!({
        "commands": m.command_latency.len(),
        "p50_ms": ms(50.0),
        "p99_ms": ms(99.0),
        "max_ms": ms(100.0),
        "append_p50_ms": append(50.0),
        "append_p99_ms": append(99.0),
        "append_max_ms": append(100.0),
    })
}

fn summary(latencies: &mut Latencies, elapsed_s: f64) -> Value {
    if latencies.is_empty() {
        return json!({"requests": 0, "per_s": 0.0});
    }
    let count = latencies.len();
    json!({
        "requests": count,
        "per_s": round(count as f64 / elapsed_s.max(1e-9)),
        "p50_ms": round(latencies.percentile_us(50.0)) / 1000.0,
        "p99_ms": round(latencies.percentile_us(99.0)) / 1000.0,
        "max_ms": round(latencies.percentile_us(100.0)) / 1000.0,
    })
}
