//! The audit log: an index over every event (position, stream, type,
//! correlation, causation, user, time), the queries over it, and the
//! causation tree of an event.

use crate::db::{self, check_limit, int, limit_literal, text};
use crate::{Cell, Error, FromLog, ReadModel};
use chrono::{DateTime, Utc};
use maos_domain::TypePattern;
use maos_store::Store;
use uuid::Uuid;

/// Largest page an audit query returns.
pub const MAX_PAGE: usize = 1_000;
/// Deepest causation chain followed (guards against cycles in bad data).
const MAX_DEPTH: i64 = 1_000;

/// The audit log read model (table `maos_audit`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditLog;

impl ReadModel for AuditLog {
    fn name(&self) -> &'static str {
        "audit"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["maos_audit"]
    }

    /// An audit row is the event's own columns and the three ids of its
    /// metadata, inserted from the batch already read (see [`FromLog`]).
    fn rows_from_log(&self) -> Option<&'static FromLog> {
        Some(&FROM_LOG)
    }
}

/// A batch's audit rows, from its events' columns and metadata (an event
/// whose metadata does not decode fails the batch). Ids are text on
/// SQLite, `uuid`s on PostgreSQL. The event's id and
/// stream are not copied: the log's own unique indexes find an event by id
/// and a stream's events in order, and queries join the log by position
/// for them.
static FROM_LOG: FromLog = FromLog {
    sqlite: "INSERT INTO maos_audit \
        (position, event_type, correlation_id, causation_id, user_id, recorded_at) VALUES",
    postgres: "COPY maos_audit \
        (position, event_type, correlation_id, causation_id, user_id, recorded_at) \
        FROM STDIN (FORMAT binary)",
};

/// One event, as the audit log indexes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub position: u64,
    pub id: Uuid,
    pub stream: String,
    pub event_type: String,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub user_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// What to look for. Every filter set must hold; results come in position
/// order after `after_position`, at most `limit` (1..=[`MAX_PAGE`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub stream: Option<String>,
    /// A type pattern: `workflows.task.*`, `agents.>`.
    pub types: Option<String>,
    pub correlation_id: Option<Uuid>,
    pub user_id: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
    pub after_position: u64,
    pub limit: usize,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            stream: None,
            types: None,
            correlation_id: None,
            user_id: None,
            from: None,
            to: None,
            after_position: 0,
            limit: 100,
        }
    }
}

/// A page of entries; `next_after` continues the query when more may follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_after: Option<u64>,
}

/// An event with what caused it and what it caused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CausationTree {
    /// From the first recorded cause down to the event's direct cause.
    pub causes: Vec<AuditEntry>,
    pub event: AuditEntry,
    /// Everything the event caused, directly or not, with the depth below it.
    pub effects: Vec<(u32, AuditEntry)>,
}

/// An entry's columns: the audit row's own and its event's id from the log
/// (ids are `uuid`s in PostgreSQL, texts in SQLite; both read as text).
const ENTRY: &str = "a.position, CAST(e.id AS TEXT), e.stream, a.event_type, \
     CAST(a.correlation_id AS TEXT), CAST(a.causation_id AS TEXT), a.user_id, a.recorded_at";
/// Audit rows with their events.
const ROWS: &str = "maos_audit AS a JOIN maos_events AS e ON e.position = a.position";

/// Runs an audit query.
pub async fn query(store: &Store, q: &AuditQuery) -> Result<AuditPage, Error> {
    let limit = check_limit(q.limit, MAX_PAGE)?;
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from >= to
    {
        return Err(Error::InvalidQuery(format!(
            "time range is inverted or empty: from {from} is not before to {to}"
        )));
    }
    // A stream's events are found through the log's own (stream, version)
    // index, in version order, which is their position order: a stream's
    // appends are serialized, so a later version has a later position.
    let (after, order) = match q.stream {
        Some(_) => ("e.position > $1", "e.version"),
        None => ("a.position > $1", "a.position"),
    };
    let mut conditions = vec![after.to_owned()];
    let mut params = vec![Cell::Int(i64::try_from(q.after_position).ok())];
    let mut bind = |condition: &str, cell: Cell| {
        params.push(cell);
        conditions.push(condition.replace('?', &format!("${}", params.len())));
    };
    if let Some(stream) = &q.stream {
        bind("e.stream = ?", Cell::text(stream.clone()));
    }
    if let Some(types) = &q.types {
        let pattern = TypePattern::parse(types).map_err(|e| Error::InvalidQuery(e.to_string()))?;
        let (like, dots, at_least) = pattern.sql_like();
        bind("a.event_type LIKE ? ESCAPE '\\'", Cell::text(like));
        let op = if at_least { ">=" } else { "=" };
        bind(
            &format!("(length(a.event_type) - length(replace(a.event_type, '.', ''))) {op} ?"),
            Cell::Int(i64::try_from(dots).ok()),
        );
    }
    if let Some(correlation) = q.correlation_id {
        bind(
            &format!("a.correlation_id = {}", uuid_param(store)),
            Cell::text(correlation.to_string()),
        );
    }
    if let Some(user) = &q.user_id {
        bind("a.user_id = ?", Cell::text(user.clone()));
    }
    if let Some(from) = q.from {
        bind("a.recorded_at >= ?", Cell::int(from.timestamp_micros()));
    }
    if let Some(to) = q.to {
        bind("a.recorded_at < ?", Cell::int(to.timestamp_micros()));
    }
    let sql = format!(
        "SELECT {ENTRY} FROM {ROWS} WHERE {} ORDER BY {order} LIMIT {}",
        conditions.join(" AND "),
        limit_literal(limit)
    );
    let entries = fetch(store, sql, params).await?;
    let next_after = (entries.len() == q.limit)
        .then(|| entries.last().map(|e| e.position))
        .flatten();
    Ok(AuditPage {
        entries,
        next_after,
    })
}

/// Writes every event the query matches (all pages from
/// `q.after_position`), as full envelopes, one JSON object per line.
/// Returns how many were written.
pub async fn export_json_lines(
    store: &Store,
    q: &AuditQuery,
    out: &mut impl std::io::Write,
) -> Result<u64, Error> {
    use maos_store::EventStore;
    let mut q = q.clone();
    let mut written = 0;
    loop {
        let page = query(store, &q).await?;
        let (Some(first), Some(last)) = (page.entries.first(), page.entries.last()) else {
            return Ok(written);
        };
        // The page's positions ascend: read that stretch of the log once.
        let span = usize::try_from(last.position - first.position + 1).unwrap_or(usize::MAX);
        let events = store.read_all(first.position - 1, span).await?;
        let wanted: std::collections::HashSet<u64> =
            page.entries.iter().map(|e| e.position).collect();
        for event in events.iter().filter(|e| wanted.contains(&e.position)) {
            let line =
                serde_json::to_string(event).map_err(|e| Error::InvalidQuery(e.to_string()))?;
            writeln!(out, "{line}")
                .map_err(|e| Error::InvalidQuery(format!("cannot write the export: {e}")))?;
            written += 1;
        }
        match page.next_after {
            Some(after) => q.after_position = after,
            None => return Ok(written),
        }
    }
}

/// The causation tree of the event with id `event_id`, or `None` if the
/// audit log has no such event.
pub async fn causation_tree(store: &Store, event_id: Uuid) -> Result<Option<CausationTree>, Error> {
    let id = Cell::text(event_id.to_string());
    let this = fetch(
        store,
        format!(
            "SELECT {ENTRY} FROM {ROWS} WHERE e.id = {}",
            uuid_param(store).replace('?', "$1")
        ),
        vec![id],
    )
    .await?;
    let Some(event) = this.into_iter().next() else {
        return Ok(None);
    };
    // The walks start from the event found: by position, not its id again.
    let at = Cell::Int(i64::try_from(event.position).ok());
    // Up the chain: each cause found by its id in the log.
    let causes = fetch(
        store,
        format!(
            "WITH RECURSIVE walk (position, causation_id, depth) AS ( \
               SELECT a.position, a.causation_id, 0 FROM maos_audit AS a WHERE a.position = $1 \
               UNION ALL \
               SELECT a.position, a.causation_id, walk.depth + 1 \
               FROM walk JOIN maos_events AS e ON e.id = walk.causation_id \
               JOIN maos_audit AS a ON a.position = e.position WHERE walk.depth < {MAX_DEPTH} \
             ) SELECT {ENTRY} FROM walk JOIN maos_audit AS a ON a.position = walk.position \
             JOIN maos_events AS e ON e.position = a.position \
             WHERE walk.depth > 0 ORDER BY walk.depth DESC"
        ),
        vec![at.clone()],
    )
    .await?;
    // Down: what names each found event as its cause.
    let effects = fetch(
        store,
        format!(
            "WITH RECURSIVE walk (position, id, depth) AS ( \
               SELECT e.position, e.id, 0 FROM maos_events AS e WHERE e.position = $1 \
               UNION ALL \
               SELECT a.position, e.id, walk.depth + 1 \
               FROM walk JOIN maos_audit AS a ON a.causation_id = walk.id \
               JOIN maos_events AS e ON e.position = a.position WHERE walk.depth < {MAX_DEPTH} \
             ) SELECT {ENTRY} FROM walk JOIN maos_audit AS a ON a.position = walk.position \
             JOIN maos_events AS e ON e.position = a.position \
             WHERE walk.depth > 0 ORDER BY a.position"
        ),
        vec![at],
    )
    .await?;
    // A cause is recorded before its effects, so in position order every
    // effect's cause already has its depth.
    let mut depth_of = std::collections::HashMap::from([(event.id, 0u32)]);
    let effects = effects
        .into_iter()
        .map(|e| {
            let depth = e
                .causation_id
                .and_then(|cause| depth_of.get(&cause).copied())
                .map_or(1, |d| d + 1);
            depth_of.insert(e.id, depth);
            (depth, e)
        })
        .collect();
    Ok(Some(CausationTree {
        causes,
        event,
        effects,
    }))
}

/// A parameter compared with an id column: ids are `uuid`s in
/// PostgreSQL (the log's and the audit log's) and texts in SQLite.
fn uuid_param(store: &Store) -> &'static str {
    match store {
        Store::Sqlite(_) => "?",
        Store::Postgres(_) => "CAST(? AS uuid)",
    }
}

async fn fetch(store: &Store, sql: String, params: Vec<Cell>) -> Result<Vec<AuditEntry>, Error> {
    db::fetch(store, sql, params)
        .await?
        .iter()
        .map(|row| decode(row))
        .collect()
}

fn decode(row: &[Cell]) -> Result<AuditEntry, Error> {
    let corrupt = |what: &str| Error::InvalidQuery(format!("corrupt audit row: {what}"));
    let uuid = |cell: &Cell| {
        text(cell)
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| corrupt("uuid"))
    };
    Ok(AuditEntry {
        position: int(&row[0])
            .and_then(|p| u64::try_from(p).ok())
            .ok_or_else(|| corrupt("position"))?,
        id: uuid(&row[1])?,
        stream: text(&row[2]).ok_or_else(|| corrupt("stream"))?,
        event_type: text(&row[3]).ok_or_else(|| corrupt("type"))?,
        correlation_id: uuid(&row[4])?,
        causation_id: text(&row[5]).map(|_| uuid(&row[5])).transpose()?,
        user_id: text(&row[6]),
        recorded_at: int(&row[7])
            .and_then(DateTime::from_timestamp_micros)
            .ok_or_else(|| corrupt("time"))?,
    })
}
