//! Query handlers: workflows, the task board, agents, the audit log,
//! checkpoints and state as of a point, projector status.

use super::envelope::{ok, page};
use super::error::ApiError;
use super::params::{Params, path_id};
use super::state::AppState;
use super::views::{
    AgentView, AuditView, CheckpointView, ProjectionView, StatsView, TaskView, TreeView,
    WorkflowDetail, WorkflowView,
};
use actix_web::{HttpResponse, web};
use futures_util::{StreamExt, TryStreamExt};
use maos_domain::agent::{self, AgentEvent, AgentState};
use maos_domain::{AgentId, WorkflowId};
use maos_projections::agent_directory::{self, AgentQuery};
use maos_projections::audit::{self, AuditQuery};
use maos_projections::board::{self, TaskQuery, WorkflowBoard, WorkflowQuery};
use maos_projections::history::{self, AsOf};
use maos_projections::{ProjectorState, ReadModel};
use maos_store::EventStore;
use std::collections::HashMap;

type Query = web::Query<HashMap<String, String>>;

pub fn workflow_id(raw: &str) -> Result<WorkflowId, ApiError> {
    path_id(raw, "workflow", "WORKFLOW_NOT_FOUND").map(WorkflowId)
}

fn agent_id(raw: &str) -> Result<AgentId, ApiError> {
    path_id(raw, "agent", "AGENT_NOT_FOUND").map(AgentId)
}

/// `GET /api/v1/workflows`
pub async fn list_workflows(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let p = Params::new(query.into_inner(), &["status", "after", "limit"])?;
    let q = WorkflowQuery {
        status: p.text("status"),
        before: p.uuid("after")?.map(WorkflowId),
        limit: p.limit(50)?,
    };
    let rows = board::workflows(&state.store, &q).await?;
    let next = (rows.len() == q.limit)
        .then(|| rows.last().map(|r| r.workflow_id.clone()))
        .flatten();
    let views: Vec<WorkflowView> = rows.into_iter().map(Into::into).collect();
    Ok(page(views, next))
}

/// `GET /api/v1/workflows/{id}`
pub async fn show_workflow(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = workflow_id(&id)?;
    let current = history::state_as_of(&state.store, id, AsOf::Version(u64::MAX)).await?;
    let Some(current) = current else {
        return Err(not_found(id));
    };
    let summary = board::workflow_summary(&state.store, id).await?;
    Ok(ok(WorkflowDetail {
        summary: summary.map(Into::into),
        state: current,
    }))
}

fn not_found(id: WorkflowId) -> ApiError {
    ApiError::not_found(
        "WORKFLOW_NOT_FOUND",
        format!("workflow {id} does not exist"),
    )
    .with_details(serde_json::json!({"workflow_id": id.0}))
}

/// `GET /api/v1/workflows/{id}/events`
pub async fn workflow_events(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let id = workflow_id(&id)?;
    let p = Params::new(query.into_inner(), &["after", "limit"])?;
    let limit = checked_limit(p.limit(100)?, 1_000)?;
    let after = p.u64("after")?.unwrap_or(0);
    let events = state.store.read_stream(&id.stream(), after, limit).await?;
    if events.is_empty() && after == 0 {
        return Err(not_found(id));
    }
    let next = (events.len() == limit)
        .then(|| events.last().map(|e| e.version.to_string()))
        .flatten();
    Ok(page(events, next))
}

fn checked_limit(limit: usize, max: usize) -> Result<usize, ApiError> {
    if limit == 0 || limit > max {
        return Err(ApiError::invalid_query(format!(
            "page size {limit} is outside 1..={max}"
        )));
    }
    Ok(limit)
}

/// `GET /api/v1/workflows/{id}/checkpoints`
pub async fn checkpoints(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let id = workflow_id(&id)?;
    let p = Params::new(query.into_inner(), &["after", "limit"])?;
    let limit = p.limit(100)?;
    let after = p.u64("after")?.unwrap_or(0);
    let rows = history::checkpoints(&state.store, id, after, limit).await?;
    if rows.is_empty() && after == 0 {
        return Err(not_found(id));
    }
    let next = (rows.len() == limit)
        .then(|| rows.last().map(|c| c.version.to_string()))
        .flatten();
    let views: Vec<CheckpointView> = rows.into_iter().map(Into::into).collect();
    Ok(page(views, next))
}

/// The point a request names: exactly one of `version`, `position`, `at`.
pub fn as_of(p: &Params) -> Result<AsOf, ApiError> {
    let version = p.u64("version")?.map(AsOf::Version);
    let position = p.u64("position")?.map(AsOf::Position);
    let at = p.time("at")?.map(AsOf::Time);
    let given: Vec<AsOf> = [version, position, at].into_iter().flatten().collect();
    match given.as_slice() {
        [one] => Ok(*one),
        _ => Err(ApiError::invalid_query(
            "give exactly one of version, position or at",
        )),
    }
}

/// A point in words: `version 3`, `position 17`, `2026-11-21T10:00:00Z`.
pub fn describe(point: AsOf) -> String {
    match point {
        AsOf::Version(v) => format!("version {v}"),
        AsOf::Position(p) => format!("position {p}"),
        AsOf::Time(t) => t.to_rfc3339(),
    }
}

/// `GET /api/v1/workflows/{id}/state`
pub async fn state_as_of(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let id = workflow_id(&id)?;
    let p = Params::new(query.into_inner(), &["version", "position", "at"])?;
    let point = as_of(&p)?;
    match history::state_as_of(&state.store, id, point).await? {
        Some(s) => Ok(ok(s)),
        None => {
            if history::state_as_of(&state.store, id, AsOf::Version(u64::MAX))
                .await?
                .is_none()
            {
                return Err(not_found(id));
            }
            Err(ApiError::not_found(
                "NO_STATE_AT_POINT",
                format!("workflow {id} had no events by {}", describe(point)),
            ))
        }
    }
}

/// `GET /api/v1/board`
pub async fn board(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let p = Params::new(
        query.into_inner(),
        &[
            "workflow_id",
            "status",
            "assignee",
            "capability",
            "after",
            "limit",
        ],
    )?;
    let after = match p.text("after") {
        None => None,
        Some(cursor) => Some(
            cursor
                .split_once('/')
                .map(|(w, t)| (w.to_owned(), t.to_owned()))
                .ok_or_else(|| {
                    ApiError::invalid_query(
                        "after must be WORKFLOW_ID/TASK_ID, as meta.next gives it",
                    )
                })?,
        ),
    };
    let q = TaskQuery {
        workflow_id: p.uuid("workflow_id")?.map(WorkflowId),
        status: p.text("status"),
        assignee: p.text("assignee"),
        capability: p.text("capability"),
        after,
        limit: p.limit(100)?,
    };
    let rows = board::tasks(&state.store, &q).await?;
    let next = (rows.len() == q.limit)
        .then(|| {
            rows.last()
                .map(|r| format!("{}/{}", r.workflow_id, r.task_id))
        })
        .flatten();
    let views: Vec<TaskView> = rows.into_iter().map(Into::into).collect();
    Ok(page(views, next))
}

/// `GET /api/v1/tokens`
pub async fn list_tokens(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(state.tokens.list().await?))
}

/// `GET /api/v1/agents`
pub async fn list_agents(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let p = Params::new(query.into_inner(), &["status", "after", "limit"])?;
    let q = AgentQuery {
        status: p.text("status"),
        after: p.text("after"),
        limit: p.limit(100)?,
    };
    // Let the directory catch up first, so an agent registered just before
    // is listed.
    state.read_your_writes(WorkflowBoard.name()).await?;
    let entries = agent_directory::agents(&state.store, &q).await?;
    let next = (entries.len() == q.limit)
        .then(|| entries.last().map(|e| e.agent_id.clone()))
        .flatten();
    let ids: Vec<AgentId> = entries
        .iter()
        .filter_map(|e| uuid::Uuid::parse_str(&e.agent_id).ok().map(AgentId))
        .collect();
    let names: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // The page's stats in one query; each state is its agent's stream
    // folded (exact, and one agent's stream is short), a few at a time.
    let mut stats: HashMap<String, Vec<StatsView>> = HashMap::new();
    for s in board::agents_stats(&state.store, &names).await? {
        stats
            .entry(s.agent_id.clone())
            .or_default()
            .push(StatsView::from(s));
    }
    let states: Vec<AgentState> = futures_util::stream::iter(ids.iter().copied())
        .map(|id| fold_agent(&state, id))
        .buffered(AGENT_FOLDS_AT_ONCE)
        .try_collect()
        .await?;
    let agents: Vec<AgentView> = ids
        .iter()
        .zip(states)
        .filter(|(_, folded)| folded.version > 0)
        .map(|(id, folded)| {
            let agent_id = id.0.to_string();
            AgentView {
                stats: stats.remove(&agent_id).unwrap_or_default(),
                agent_id,
                state: folded,
            }
        })
        .collect();
    Ok(page(agents, next))
}

/// `GET /api/v1/agents/{id}`
pub async fn show_agent(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = agent_id(&id)?;
    let view = agent_view(&state, id).await?;
    if view.state.version == 0 {
        return Err(
            ApiError::not_found("AGENT_NOT_FOUND", format!("agent {id} does not exist"))
                .with_details(serde_json::json!({"agent_id": id.0})),
        );
    }
    Ok(ok(view))
}

/// Events per read of an agent's stream.
const AGENT_PAGE: usize = 1_000;
/// Agents' streams a listing folds at once.
const AGENT_FOLDS_AT_ONCE: usize = 4;

/// One agent: its folded stream and its stats.
async fn agent_view(state: &AppState, id: AgentId) -> Result<AgentView, ApiError> {
    let folded = fold_agent(state, id).await?;
    let stats = board::agent_stats(&state.store, Some(&id.0.to_string())).await?;
    Ok(AgentView {
        agent_id: id.0.to_string(),
        state: folded,
        stats: stats.into_iter().map(StatsView::from).collect(),
    })
}

/// An agent's state: its stream folded (version 0 if it has none).
async fn fold_agent(state: &AppState, id: AgentId) -> Result<AgentState, ApiError> {
    let stream = id.stream();
    let mut folded = AgentState::default();
    let mut after = 0;
    loop {
        let events = state
            .store
            .read_stream_recorded(&stream, after, AGENT_PAGE)
            .await?;
        for e in &events {
            let event = AgentEvent::from_json(&e.event_type, &e.data).map_err(|err| {
                ApiError::internal(format!("event {} does not decode: {err}", e.id))
            })?;
            folded = agent::evolve(folded, &event);
        }
        match events.last() {
            // A short page is the stream's end: no query to find it empty.
            Some(last) if events.len() == AGENT_PAGE => after = last.version,
            _ => break,
        }
    }
    Ok(folded)
}

/// The audit filters a request names.
pub fn audit_query(p: &Params) -> Result<AuditQuery, ApiError> {
    Ok(AuditQuery {
        stream: p.text("stream"),
        types: p.text("types"),
        correlation_id: p.uuid("correlation_id")?,
        user_id: p.text("user_id"),
        from: p.time("from")?,
        to: p.time("to")?,
        after_position: p.u64("after")?.unwrap_or(0),
        limit: p.limit(100)?,
    })
}

pub const AUDIT_PARAMS: &[&str] = &[
    "stream",
    "types",
    "correlation_id",
    "user_id",
    "from",
    "to",
    "after",
    "limit",
];

/// `GET /api/v1/audit`
pub async fn audit(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let p = Params::new(query.into_inner(), AUDIT_PARAMS)?;
    let q = audit_query(&p)?;
    let found = audit::query(&state.store, &q).await?;
    let views: Vec<AuditView> = found.entries.into_iter().map(Into::into).collect();
    Ok(page(views, found.next_after.map(|p| p.to_string())))
}

/// `GET /api/v1/audit/export`: every matching event, whole, as JSON Lines.
pub async fn audit_export(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let p = Params::new(query.into_inner(), AUDIT_PARAMS)?;
    let mut q = audit_query(&p)?;
    q.limit = audit::MAX_PAGE;
    let mut out = Vec::new();
    audit::export_json_lines(&state.store, &q, &mut out).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .body(out))
}

/// `GET /api/v1/audit/events/{id}/tree`
pub async fn causation_tree(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = path_id(&id, "event", "EVENT_NOT_FOUND")?;
    match audit::causation_tree(&state.store, id).await? {
        Some(tree) => Ok(ok(TreeView::from(tree))),
        None => Err(ApiError::not_found(
            "EVENT_NOT_FOUND",
            format!("the audit log has no event {id}"),
        )),
    }
}

/// `GET /api/v1/projections`
pub async fn projections(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(ok(projection_views(&state).await?))
}

pub async fn projection_views(state: &AppState) -> Result<Vec<ProjectionView>, ApiError> {
    let head = state.store.head_position().await?;
    Ok(state
        .projectors
        .iter()
        .map(|rx| {
            let s = rx.borrow().clone();
            let (name, error) = match &s.state {
                ProjectorState::Starting => ("starting", None),
                ProjectorState::Running => ("running", None),
                ProjectorState::Retrying { error, .. } => ("retrying", Some(error.clone())),
            };
            ProjectionView {
                name: s.name.to_owned(),
                state: name.to_owned(),
                error,
                checkpoint: s.checkpoint,
                lag: head.saturating_sub(s.checkpoint),
            }
        })
        .collect())
}
