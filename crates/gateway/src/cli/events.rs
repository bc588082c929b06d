//! `maos events tail`: follow maos events on a broker.

use maos_bus::tail::{Start, Tail};
use maos_bus::{AmqpConfig, NatsConfig, TypePattern};
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print events as they arrive on NATS JetStream or RabbitMQ.
    Tail(TailArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("broker").required(true).args(["nats", "amqp"])))]
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
    /// NATS: start with the oldest event the stream holds, not with new ones.
    #[arg(long)]
    from_start: bool,
    /// Print each event's envelope as one JSON line.
    #[arg(long)]
    json: bool,
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

pub async fn run(command: Command) -> anyhow::Result<()> {
    let Command::Tail(args) = command;
    let pattern = TypePattern::parse(&args.filter)?;
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
        (None, None) => anyhow::bail!("choose a broker: --nats URL or --amqp URL"),
    };
    let mut out = std::io::stdout().lock();
    let mut printed = 0u64;
    while args.limit.is_none_or(|limit| printed < limit) {
        let Some(received) = tail.next().await else {
            anyhow::bail!("the broker closed the subscription");
        };
        let received = received?;
        if args.json {
            out.write_all(&received.body)?;
            out.write_all(b"\n")?;
        } else {
            let e = &received.event;
            writeln!(
                out,
                "{:>8}  {}  {:<34} {} v{}  {}",
                e.position,
                e.timestamp.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
                e.event_type,
                e.stream,
                e.version,
                e.id
            )?;
        }
        out.flush()?;
        printed += 1;
    }
    Ok(())
}
