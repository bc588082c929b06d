//! The agent directory: one row per agent (`maos_agents`) with its status,
//! kept by the workflow board's projector, so agents are listed, filtered
//! and paged without reading the log. An agent's full state is its stream
//! folded (one agent at a time); this only says which agents there are.

use crate::board::{MAX_PAGE, status, time};
use crate::db::{self, check_limit, int, text};
use crate::{Cell, Change, Error};
use chrono::{DateTime, Utc};
use maos_domain::agent::AgentEvent;
use maos_store::{RecordedEvent, Store};

/// The statuses an agent can be listed by.
pub const AGENT_STATUSES: &[&str] = &["healthy", "unhealthy", "retired"];

/// The row change of one event of the agent `agent` (its stream's id):
/// every agent event names the status it leads to, as workflow events do,
/// and the log holds only legal transitions.
pub(crate) fn changes(agent: &str, envelope: &RecordedEvent, out: &mut Vec<Change>) {
    use AgentEvent as A;
    // Events this version does not know (or cannot read) change no row.
    let Ok(event) = A::from_json(&envelope.event_type, &envelope.data) else {
        return;
    };
    let set = match &event {
        A::Registered(e) => vec![status("healthy"), ("registered_at", time(e.registered_at))],
        A::BecameUnhealthy(_) => vec![status("unhealthy")],
        A::Recovered(_) => vec![status("healthy")],
        A::Retired(_) => vec![status("retired")],
        A::Updated(_) | A::Restarted(_) => return,
    };
    out.push(Change::Upsert {
        table: "maos_agents",
        key: vec![("agent_id", Cell::text(agent))],
        set,
    });
}

/// Which agents; pages are in agent id order after `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentQuery {
    pub status: Option<String>,
    /// The last agent id of the previous page.
    pub after: Option<String>,
    pub limit: usize,
}

/// One agent in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEntry {
    pub agent_id: String,
    pub status: String,
    pub registered_at: Option<DateTime<Utc>>,
}

/// A page of the agent directory.
pub async fn agents(store: &Store, q: &AgentQuery) -> Result<Vec<AgentEntry>, Error> {
    let limit = check_limit(q.limit, MAX_PAGE)?;
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<Cell> = Vec::new();
    if let Some(s) = &q.status {
        if !AGENT_STATUSES.contains(&s.as_str()) {
            return Err(Error::InvalidQuery(format!(
                "unknown agent status {s:?}; one of {}",
                AGENT_STATUSES.join(", ")
            )));
        }
        params.push(Cell::text(s.clone()));
        conditions.push(format!("status = ${}", params.len()));
    }
    if let Some(after) = &q.after {
        params.push(Cell::text(after.clone()));
        conditions.push(format!("agent_id > ${}", params.len()));
    }
    params.push(Cell::Int(Some(limit)));
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT agent_id, status, registered_at FROM maos_agents {filter} \
         ORDER BY agent_id LIMIT ${}",
        params.len()
    );
    let rows = db::fetch(store, sql, params).await?;
    Ok(rows
        .iter()
        .map(|r| AgentEntry {
            agent_id: text(&r[0]).unwrap_or_default(),
            status: text(&r[1]).unwrap_or_default(),
            registered_at: int(&r[2]).and_then(DateTime::from_timestamp_micros),
        })
        .collect())
}
