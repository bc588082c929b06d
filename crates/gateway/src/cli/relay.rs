//! `maos relay`: relays the store's events to the brokers that are
//! configured, until interrupted. Each relay keeps its own checkpoint in the
//! store, so a restart resumes where the last confirmed batch ended.

use maos_bus::{AmqpConfig, AmqpPublisher, NatsConfig, NatsPublisher, Relay, RelayConfig};
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// NATS server; relaying to JetStream is off when unset.
    #[arg(long, env = "MAOS_NATS_URL")]
    nats: Option<String>,
    /// JetStream stream, created if missing.
    #[arg(long, env = "MAOS_NATS_STREAM", default_value = "MAOS_EVENTS")]
    nats_stream: String,
    /// Events go to `<prefix>.<type>`.
    #[arg(long, env = "MAOS_NATS_SUBJECT_PREFIX", default_value = "maos.events")]
    nats_subject_prefix: String,
    /// Age after which JetStream drops events, in hours (0: never).
    #[arg(long, env = "MAOS_NATS_MAX_AGE_HOURS", default_value_t = 168)]
    nats_max_age_hours: u64,
    /// JetStream replicas.
    #[arg(long, env = "MAOS_NATS_REPLICAS", default_value_t = 1)]
    nats_replicas: usize,
    /// JetStream retention: `limits` (keep until max age) or `interest`
    /// (keep until every consumer acknowledged).
    #[arg(
        long,
        env = "MAOS_NATS_RETENTION",
        value_enum,
        default_value = "limits"
    )]
    nats_retention: Retention,
    /// RabbitMQ server; relaying to RabbitMQ is off when unset.
    #[arg(long, env = "MAOS_AMQP_URL")]
    amqp: Option<String>,
    /// Durable topic exchange, declared if missing.
    #[arg(long, env = "MAOS_AMQP_EXCHANGE", default_value = "maos.events")]
    amqp_exchange: String,
    /// Most events per confirmed batch.
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// Fault testing only: abort after publishing this many batches, before
    /// saving the checkpoint.
    #[arg(long, env = "MAOS_RELAY_ABORT_AFTER_PUBLISH", hide = true)]
    abort_after_publish: Option<u32>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Retention {
    Limits,
    Interest,
}

pub async fn run(ctx: &super::Ctx, args: Args) -> anyhow::Result<()> {
    if args.nats.is_none() && args.amqp.is_none() {
        anyhow::bail!("no broker configured: set --nats/MAOS_NATS_URL and/or --amqp/MAOS_AMQP_URL");
    }
    if args.batch_size == 0 {
        anyhow::bail!("--batch-size must be at least 1");
    }
    let store = maos_store::Store::open(&ctx.settings.database_url).await?;
    let config = RelayConfig {
        batch_size: args.batch_size,
        abort_after_publish: args.abort_after_publish,
        ..RelayConfig::default()
    };
    let mut relays = tokio::task::JoinSet::new();
    if let Some(url) = &args.nats {
        let mut nats = NatsConfig::new(url.clone());
        nats.stream = args.nats_stream.clone();
        nats.subject_prefix = args.nats_subject_prefix.clone();
        nats.max_age = Duration::from_secs(args.nats_max_age_hours * 3600);
        nats.replicas = args.nats_replicas;
        nats.retention = match args.nats_retention {
            Retention::Limits => maos_bus::Retention::Limits,
            Retention::Interest => maos_bus::Retention::Interest,
        };
        tracing::info!(url, stream = nats.stream, "relaying to NATS JetStream");
        relays.spawn(Relay::new(store.clone(), NatsPublisher::new(nats), config.clone()).run());
    }
    if let Some(url) = &args.amqp {
        let mut amqp = AmqpConfig::new(url.clone());
        amqp.exchange = args.amqp_exchange.clone();
        tracing::info!(exchange = amqp.exchange, "relaying to RabbitMQ");
        relays.spawn(Relay::new(store.clone(), AmqpPublisher::new(amqp), config).run());
    }
    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping relays");
    relays.shutdown().await;
    Ok(())
}
