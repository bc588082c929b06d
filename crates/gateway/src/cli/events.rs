//! `maos events tail`: follow maos events from the server (Server-Sent
//! Events, resumable) or on a broker.

use maos_bus::tail::{Start, Tail};
use maos_bus::{AmqpConfig, NatsConfig, TypePattern};
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print events as they are committed: from the server by default, or
    /// as they arrive on NATS JetStream (--nats) or RabbitMQ (--amqp).
    Tail(TailArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("broker").args(["nats", "amqp"])))]
pub struct TailArgs {
    /// Consume from NATS JetStream at this URL.
    #[arg(long)]
    nats: Option<String>,
    /// Consume from RabbitMQ at this URL (a fresh exclusive queue).
    #[arg(long)]
    amqp: Option<String>,
    /// Only types matching this pattern: `*` is one segment, a final `>`
    /// or `#` is the rest (e.g. `workflows.task.*`, `agents.>`).
    #[arg(long, default_value = ">")]
    filter: String,
    /// Start with the oldest event (the server's log, or what the NATS
    /// stream holds), not with new ones.
    #[arg(long)]
    from_start: bool,
    /// From the server: resume after this position (the last one printed).
    #[arg(long, conflicts_with = "from_start")]
    after: Option<u64>,
    /// Stop after this many events.
    #[arg(long)]
    limit: Option<u64>,
    /// JetStream stream.
    #[arg(long, env = "MAOS_NATS_STREAM", default_value = "MAOS_EVENTS")]
    nats_stream: String,
    /// NATS subject prefix.
    #[arg(long, env = "MAOS_NATS_SUBJECT_PREFIX", default_value = "maos.events")]
    nats_subject_prefix: String,
    /// RabbitMQ exchange.
    #[arg(long, env = "MAOS_AMQP_EXCHANGE", default_value = "maos.events")]
    amqp_exchange: String,
}

pub async fn run(ctx: &super::Ctx, command: Command) -> anyhow::Result<()> {
    let Command::Tail(args) = command;
    let pattern = TypePattern::parse(&args.filter)?;
    if args.nats.is_none() && args.amqp.is_none() {
        return from_server(ctx, &args).await;
    }
    let mut tail = match (&args.nats, &args.amqp) {
        (Some(url), _) => {
            let mut config = NatsConfig::new(url.clone());
            config.stream = args.nats_stream.clone();
            config.subject_prefix = args.nats_subject_prefix.clone();
            let start = if args.from_start {
                Start::Oldest
            } else {
                Start::New
            };
            Tail::nats(&config, &pattern, start).await?
        }
        (None, Some(url)) => {
            if args.from_start {
                anyhow::bail!(
                    "--from-start works with --nats only: a RabbitMQ queue gets events published after it exists"
                );
            }
            let mut config = AmqpConfig::new(url.clone());
            config.exchange = args.amqp_exchange.clone();
            Tail::amqp(&config, &pattern).await?
        }
        (None, None) => unreachable!("handled above"),
    };
    let mut out = std::io::stdout().lock();
    let mut printed = 0u64;
    while args.limit.is_none_or(|limit| printed < limit) {
        let Some(received) = tail.next().await else {
            anyhow::bail!("the broker closed the subscription");
        };
        let received = received?;
        if ctx.json {
            out.write_all(&received.body)?;
            out.write_all(b"\n")?;
        } else {
            print_line(&mut out, &received.event)?;
        }
        out.flush()?;
        printed += 1;
    }
    Ok(())
}

fn print_line(out: &mut impl Write, e: &maos_domain::EventEnvelope) -> std::io::Result<()> {
    writeln!(
        out,
        "{:>8}  {}  {:<34} {} v{}  {}",
        e.position,
        e.timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        e.event_type,
        e.stream,
        e.version,
        e.id
    )
}

/// Follows the server's live log over Server-Sent Events.
async fn from_server(ctx: &super::Ctx, args: &TailArgs) -> anyhow::Result<()> {
    let client = ctx.reader().await?;
    let mut path = format!(
        "/api/v1/events/live?types={}",
        super::output::encode(&args.filter)
    );
    if args.from_start {
        path.push_str("&after=0");
    } else if let Some(after) = args.after {
        path.push_str(&format!("&after={after}"));
    }
    let mut printed = 0u64;
    let mut failure = None;
    let json = ctx.json;
    let limit = args.limit;
    client
        .follow(awc::http::Method::GET, &path, |event| {
            if limit.is_some_and(|l| printed >= l) {
                return false;
            }
            if event.event == "error" {
                failure = Some(event.data);
                return false;
            }
            let mut out = std::io::stdout().lock();
            let written = if json {
                writeln!(out, "{}", event.data)
            } else {
                match serde_json::from_str::<maos_domain::EventEnvelope>(&event.data) {
                    Ok(e) => print_line(&mut out, &e),
                    Err(_) => writeln!(out, "{}", event.data),
                }
            };
            let _ = out.flush();
            printed += 1;
            written.is_ok() && limit.is_none_or(|l| printed < l)
        })
        .await?;
    client.close().await;
    match failure {
        Some(message) => anyhow::bail!("the event stream failed: {message}"),
        None => Ok(()),
    }
}
