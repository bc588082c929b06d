//! `maos token create --role ROLE --subject NAME`.

use super::Ctx;
use super::output;
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
}

pub async fn run(ctx: &Ctx, command: Command) -> anyhow::Result<()> {
    let Command::Create { role, subject } = command;
    let client = ctx.reader().await?;
    let answer = client
        .send_json(
            awc::http::Method::POST,
            "/api/v1/tokens",
            Some(&json!({"subject": subject, "role": role})),
        )
        .await;
    client.close().await;
    let answer = answer?;
    if ctx.json {
        output::json(&answer["data"]);
    } else {
        println!("{}", output::cell(&answer["data"]["token"]));
    }
    Ok(())
}
