//! `maos token create|list|revoke`.

use super::Ctx;
use super::output::{self, cell};
use awc::http::Method;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make an API token; it is printed once and stored only hashed.
    Create {
        /// admin, operator, agent or viewer.
        #[arg(long, value_parser = ["admin", "operator", "agent", "viewer"])]
        role: String,
        /// Who holds it (recorded as user_id on the events its commands cause).
        #[arg(long)]
        subject: String,
    },
    /// Every token (never its value), revoked ones too.
    List,
    /// Revoke a token by id (`maos token list` shows ids): it stops working
    /// at once on this server, within 30 s on others sharing the database.
    Revoke { id: String },
}

pub async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    let client = ctx.reader().await?;
    let answer = match &command {
        Command::Create { role, subject } => {
            client
                .send_json(
                    Method::POST,
                    "/api/v1/tokens",
                    Some(&json!({"subject": subject, "role": role})),
                )
                .await
        }
        Command::List => client.get("/api/v1/tokens").await,
        Command::Revoke { id } => {
            client
                .send_json(
                    Method::DELETE,
                    &format!("/api/v1/tokens/{}", output::encode(id)),
                    None,
                )
                .await
        }
    };
    client.close().await;
    let answer = answer?;
    if ctx.json {
        output::json(&answer["data"]);
        return Ok(());
    }
    match command {
        Command::Create { .. } => println!("{}", cell(&answer["data"]["token"])),
        Command::List => {
            let rows: Vec<Vec<String>> = output::items(&answer["data"])
                .iter()
                .map(|t| {
                    vec![
                        cell(&t["id"]),
                        cell(&t["subject"]),
                        cell(&t["role"]),
                        cell(&t["created_at"]),
                        cell(&t["revoked_at"]),
                    ]
                })
                .collect();
            print!(
                "{}",
                output::table(&["id", "subject", "role", "created", "revoked"], &rows)
            );
        }
        Command::Revoke { id } => println!("token {id} revoked"),
    }
    Ok(())
}
