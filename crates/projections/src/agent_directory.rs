//! The agent directory: one row per agent (`maos_agents`) with its status,
//! kept by the workflow board's projector, so agents are listed, filtered
//! and paged without reading the log. An agent's full state is its stream
//! folded (one agent at a time); this only says which agents there are.

use crate::board::{MAX_PAGE, status, time};
use crate::db::{self, Filter, check_limit, check_one_of, int, text};
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
    let mut filter = Filter::default();
    if let Some(s) = &q.status {
        check_one_of("agent status", s, AGENT_STATUSES)?;
        filter.and(Cell::text(s.clone()), |p| format!("status = {p}"));
    }
    if let Some(after) = &q.after {
        filter.and(Cell::text(after.clone()), |p| format!("agent_id > {p}"));
    }
    let (filter, limit, params) = filter.finish(limit);
    let sql = format!(
        "SELECT agent_id, status, registered_at FROM maos_agents {filter} \
         ORDER BY agent_id LIMIT {limit}"
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
