//! `maos agent list|register|retire`.

use super::Ctx;
use super::output::{self, cell};
use awc::http::Method;
use maos_actors::AgentDefinition;
use serde_json::json;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Agents with their status and record, a page at a time in id order.
    List {
        /// healthy, unhealthy or retired.
        #[arg(long)]
        status: Option<String>,
        /// Start after this agent id (the cursor a page ends with).
        #[arg(long)]
        after: Option<String>,
        /// Agents per page (1 to 1000).
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Register the agents of a file (an agents file with `agents:`, or one
    /// agent definition); agents of the same names are updated.
    Register { file: PathBuf },
    /// Retire an agent (by name or id): its running attempts fail and it
    /// takes no more.
    Retire {
        agent: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    match command {
        Command::List {
            status,
            after,
            limit,
        } => {
            let client = ctx.reader().await?;
            let answer = client
                .get(&format!(
                    "/api/v1/agents{}",
                    output::query(&[
                        ("status", status),
                        ("after", after),
                        ("limit", Some(limit.to_string())),
                    ])
                ))
                .await;
            client.close().await;
            let answer = answer?;
            if ctx.json {
                output::json(&answer["data"]);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = output::items(&answer["data"])
                .iter()
                .map(|a| {
                    let s = &a["state"];
                    let (done, failed) = a["stats"].as_array().map_or((0, 0), |stats| {
                        stats.iter().fold((0, 0), |(d, f), s| {
                            (
                                d + s["completed"].as_u64().unwrap_or(0),
                                f + s["failed"].as_u64().unwrap_or(0)
                                    + s["timed_out"].as_u64().unwrap_or(0),
                            )
                        })
                    });
                    let capabilities = s["capabilities"]
                        .as_array()
                        .map(|c| c.iter().map(cell).collect::<Vec<_>>().join(","))
                        .unwrap_or_default();
                    vec![
                        cell(&s["name"]),
                        cell(&a["agent_id"]),
                        cell(&s["status"]),
                        capabilities,
                        cell(&s["max_concurrency"]),
                        done.to_string(),
                        failed.to_string(),
                    ]
                })
                .collect();
            print!(
                "{}",
                output::table(
                    &[
                        "name",
                        "id",
                        "status",
                        "capabilities",
                        "slots",
                        "done",
                        "failed"
                    ],
                    &rows
                )
            );
            if let Some(next) = answer["meta"]["next"].as_str() {
                println!("(more: --after {next})");
            }
        }
        Command::Register { file } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let definitions = match maos_actors::AgentsFile::parse(&text) {
                Ok(f) => f.agents,
                Err(_) => vec![
                    serde_norway::from_str::<AgentDefinition>(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?,
                ],
            };
            let client = ctx.commander().await?;
            for d in &definitions {
                let answer = client
                    .send_json(Method::POST, "/api/v1/agents", Some(&json!(d)))
                    .await;
                let answer = match answer {
                    Ok(a) => a,
                    Err(e) => {
                        client.close().await;
                        return Err(e);
                    }
                };
                if ctx.json {
                    output::json(&answer["data"]);
                } else {
                    println!(
                        "agent {} registered ({})",
                        d.name,
                        cell(&answer["data"]["agent_id"])
                    );
                }
            }
            client.close().await;
        }
        Command::Retire { agent, reason } => {
            let id = match uuid::Uuid::parse_str(&agent) {
                Ok(id) => id,
                Err(_) => {
                    AgentDefinition {
                        name: agent.clone(),
                        capabilities: Vec::new(),
                        max_concurrency: 1,
                        executor: serde_json::Value::Null,
                    }
                    .agent_id()
                    .0
                }
            };
            let path = format!(
                "/api/v1/agents/{id}{}",
                output::query(&[("reason", reason)])
            );
            super::workflow::done(ctx, Method::DELETE, &path, None, "retired").await?;
        }
    }
    Ok(())
}
