//! The route table: every route with its method, path, the access it
//! needs, its documentation and shapes. The router ([`register`]), the auth
//! gate and the OpenAPI document are all made from this one table, so a
//! route can't exist without a declared role.

use super::auth::{Access, NewToken, Role, TokenInfo};
use super::commands::{self, CancelBody, ForkBody, ResultBody, TokenBody, UpdateAgentBody};
use super::envelope::wrong_method;
use super::views::{
    AgentRegistered, AgentView, AuditView, CheckpointView, CommandDone, ProjectionView,
    SubmittedView, TaskView, TreeView, WorkflowDetail, WorkflowView,
};
use super::{live, ops, queries};
use actix_web::web;
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Makes a type's schema (a `$ref` into the document's components).
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

pub fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// A request body.
#[derive(Debug, Clone, Copy)]
pub struct RequestBody {
    pub schema: SchemaFn,
    /// Also accepted as YAML.
    pub yaml: bool,
    pub required: bool,
}

/// What a route answers with on success.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// `{data, meta}` with `data` of this shape.
    Data { status: u16, schema: SchemaFn },
    /// `{data: [...], meta}` with `meta.next` for the next page.
    Page { schema: SchemaFn },
    /// A `text/event-stream`.
    EventStream,
    /// Another content type (`application/x-ndjson`, `text/plain`...).
    Raw { content_type: &'static str },
}

/// One route.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub tag: &'static str,
    /// Query parameters: name and meaning.
    pub query: &'static [(&'static str, &'static str)],
    pub body: Option<RequestBody>,
    pub answer: Answer,
    pub route: fn() -> actix_web::Route,
}

const VIEWER: Access = Access::Role(Role::Viewer);
const AGENT: Access = Access::Role(Role::Agent);
const OPERATOR: Access = Access::Role(Role::Operator);
const ADMIN: Access = Access::Role(Role::Admin);

const PAGE: [(&str, &str); 2] = [
    ("after", "cursor: `meta.next` of the previous page"),
    ("limit", "page size"),
];
const AUDIT_QUERY: &[(&str, &str)] = &[
    ("stream", "only this stream (`workflow-<id>`, `agent-<id>`)"),
    ("types", "type pattern: `workflows.task.*`, `agents.>`"),
    ("correlation_id", "only events of this correlation"),
    ("user_id", "only events caused by this subject"),
    ("from", "recorded at or after (RFC 3339)"),
    ("to", "recorded before (RFC 3339)"),
    ("after", "position cursor: `meta.next` of the previous page"),
    ("limit", "page size (1..=1000)"),
];
const AS_OF: &[(&str, &str)] = &[
    ("version", "after the workflow's event with this version"),
    (
        "position",
        "after the workflow's events up to this global position",
    ),
    (
        "at",
        "after the workflow's events recorded up to this time (RFC 3339)",
    ),
];
const LIVE: &[(&str, &str)] = &[
    ("types", "type pattern to keep: `workflows.task.*`"),
    (
        "after",
        "resume after this position (the `Last-Event-ID` header does the same)",
    ),
];

macro_rules! body {
    ($t:ty) => {
        Some(RequestBody {
            schema: schema::<$t>,
            yaml: false,
            required: true,
        })
    };
    ($t:ty, yaml) => {
        Some(RequestBody {
            schema: schema::<$t>,
            yaml: true,
            required: true,
        })
    };
    ($t:ty, optional) => {
        Some(RequestBody {
            schema: schema::<$t>,
            yaml: false,
            required: false,
        })
    };
}

macro_rules! data {
    ($status:expr, $t:ty) => {
        Answer::Data {
            status: $status,
            schema: schema::<$t>,
        }
    };
}

/// Every route the server has.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        method: "GET",
        path: "/healthz",
        access: Access::Public,
        operation_id: "healthz",
        summary: "The process answers",
        tag: "operations",
        query: &[],
        body: None,
        answer: data!(200, serde_json::Value),
        route: || web::get().to(ops::healthz),
    },
    Endpoint {
        method: "GET",
        path: "/readyz",
        access: Access::Public,
        operation_id: "readyz",
        summary: "The store answers and no projector is stalled",
        tag: "operations",
        query: &[],
        body: None,
        answer: data!(200, serde_json::Value),
        route: || web::get().to(ops::readyz),
    },
    Endpoint {
        method: "GET",
        path: "/metrics",
        access: Access::Public,
        operation_id: "metrics",
        summary: "Prometheus metrics",
        tag: "operations",
        query: &[],
        body: None,
        answer: Answer::Raw {
            content_type: "text/plain",
        },
        route: || web::get().to(ops::metrics),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/openapi.json",
        access: Access::Public,
        operation_id: "openapi",
        summary: "This document",
        tag: "operations",
        query: &[],
        body: None,
        answer: Answer::Raw {
            content_type: "application/json",
        },
        route: || web::get().to(super::openapi::serve),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/workflows",
        access: OPERATOR,
        operation_id: "submitWorkflow",
        summary: "Submit a workflow spec (YAML or JSON)",
        tag: "workflows",
        query: &[],
        body: body!(maos_domain::workflow::WorkflowSpec, yaml),
        answer: data!(201, SubmittedView),
        route: || web::post().to(commands::submit),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/workflows",
        access: VIEWER,
        operation_id: "listWorkflows",
        summary: "Workflows, newest first",
        tag: "workflows",
        query: &[
            (
                "status",
                "submitted, running, completed, failed or cancelled",
            ),
            PAGE[0],
            PAGE[1],
        ],
        body: None,
        answer: Answer::Page {
            schema: schema::<WorkflowView>,
        },
        route: || web::get().to(queries::list_workflows),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/workflows/{id}",
        access: VIEWER,
        operation_id: "showWorkflow",
        summary: "A workflow's summary and current state",
        tag: "workflows",
        query: &[],
        body: None,
        answer: data!(200, WorkflowDetail),
        route: || web::get().to(queries::show_workflow),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/workflows/{id}/events",
        access: VIEWER,
        operation_id: "workflowEvents",
        summary: "A workflow's events in order",
        tag: "workflows",
        query: &[
            ("after", "stream version cursor"),
            ("limit", "page size (1..=1000)"),
        ],
        body: None,
        answer: Answer::Page {
            schema: schema::<maos_domain::EventEnvelope>,
        },
        route: || web::get().to(queries::workflow_events),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/workflows/{id}/checkpoints",
        access: VIEWER,
        operation_id: "workflowCheckpoints",
        summary: "A workflow's checkpoints (its state after each event)",
        tag: "history",
        query: &[("after", "version cursor"), ("limit", "page size")],
        body: None,
        answer: Answer::Page {
            schema: schema::<CheckpointView>,
        },
        route: || web::get().to(queries::checkpoints),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/workflows/{id}/state",
        access: VIEWER,
        operation_id: "stateAsOf",
        summary: "A workflow's state as of a version, position or time",
        tag: "history",
        query: AS_OF,
        body: None,
        answer: data!(200, maos_domain::workflow::WorkflowState),
        route: || web::get().to(queries::state_as_of),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/workflows/{id}/live",
        access: VIEWER,
        operation_id: "workflowLive",
        summary: "A workflow's events, live (Server-Sent Events)",
        tag: "live",
        query: LIVE,
        body: None,
        answer: Answer::EventStream,
        route: || web::get().to(live::workflow),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/workflows/{id}/actions/cancel",
        access: OPERATOR,
        operation_id: "cancelWorkflow",
        summary: "Cancel a workflow; its running processes are killed",
        tag: "workflows",
        query: &[],
        body: body!(CancelBody, optional),
        answer: data!(200, CommandDone),
        route: || web::post().to(commands::cancel),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/workflows/{id}/actions/fork",
        access: OPERATOR,
        operation_id: "forkWorkflow",
        summary: "Start a new workflow from a checkpoint of this one",
        tag: "history",
        query: &[],
        body: body!(ForkBody),
        answer: data!(201, SubmittedView),
        route: || web::post().to(commands::fork),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/workflows/{id}/tasks/{task}/actions/resolve",
        access: OPERATOR,
        operation_id: "resolveEscalation",
        summary: "Answer an escalated task: retry, skip, override or cancel",
        tag: "workflows",
        query: &[],
        body: body!(maos_domain::workflow::HumanDecision),
        answer: data!(200, CommandDone),
        route: || web::post().to(commands::resolve),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/workflows/{id}/tasks/{task}/attempts/{attempt}/result",
        access: AGENT,
        operation_id: "reportResult",
        summary: "Report an attempt's result (fenced: a stale attempt's result is recorded as rejected)",
        tag: "agents",
        query: &[],
        body: body!(ResultBody),
        answer: data!(200, CommandDone),
        route: || web::post().to(commands::report_result),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/board",
        access: VIEWER,
        operation_id: "taskBoard",
        summary: "The task board, per workflow or global",
        tag: "workflows",
        query: &[
            ("workflow_id", "only this workflow"),
            ("status", "task status"),
            ("assignee", "agent id"),
            ("capability", "capability"),
            ("after", "cursor WORKFLOW_ID/TASK_ID: `meta.next`"),
            ("limit", "page size (1..=1000)"),
        ],
        body: None,
        answer: Answer::Page {
            schema: schema::<TaskView>,
        },
        route: || web::get().to(queries::board),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/agents",
        access: OPERATOR,
        operation_id: "registerAgent",
        summary: "Register an agent (or update the one of that name)",
        tag: "agents",
        query: &[],
        body: body!(maos_actors::AgentDefinition, yaml),
        answer: data!(201, AgentRegistered),
        route: || web::post().to(commands::register_agent),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/agents",
        access: VIEWER,
        operation_id: "listAgents",
        summary: "Agents with their stats, a page at a time in id order",
        tag: "agents",
        query: &[
            ("status", "healthy, unhealthy or retired"),
            ("after", "cursor AGENT_ID: `meta.next`"),
            ("limit", "page size (1..=1000, default 100)"),
        ],
        body: None,
        answer: Answer::Page {
            schema: schema::<AgentView>,
        },
        route: || web::get().to(queries::list_agents),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/agents/{id}",
        access: VIEWER,
        operation_id: "showAgent",
        summary: "An agent with its stats",
        tag: "agents",
        query: &[],
        body: None,
        answer: data!(200, AgentView),
        route: || web::get().to(queries::show_agent),
    },
    Endpoint {
        method: "PATCH",
        path: "/api/v1/agents/{id}",
        access: OPERATOR,
        operation_id: "updateAgent",
        summary: "Change an agent's capabilities or concurrency",
        tag: "agents",
        query: &[],
        body: body!(UpdateAgentBody),
        answer: data!(200, CommandDone),
        route: || web::patch().to(commands::update_agent),
    },
    Endpoint {
        method: "DELETE",
        path: "/api/v1/agents/{id}",
        access: OPERATOR,
        operation_id: "retireAgent",
        summary: "Retire an agent",
        tag: "agents",
        query: &[("reason", "why")],
        body: None,
        answer: data!(200, CommandDone),
        route: || web::delete().to(commands::retire_agent),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/audit",
        access: VIEWER,
        operation_id: "auditQuery",
        summary: "Audit log entries in position order",
        tag: "audit",
        query: AUDIT_QUERY,
        body: None,
        answer: Answer::Page {
            schema: schema::<AuditView>,
        },
        route: || web::get().to(queries::audit),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/audit/export",
        access: VIEWER,
        operation_id: "auditExport",
        summary: "Every matching event, whole, as JSON Lines",
        tag: "audit",
        query: AUDIT_QUERY,
        body: None,
        answer: Answer::Raw {
            content_type: "application/x-ndjson",
        },
        route: || web::get().to(queries::audit_export),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/audit/events/{id}/tree",
        access: VIEWER,
        operation_id: "causationTree",
        summary: "An event's causes and effects",
        tag: "audit",
        query: &[],
        body: None,
        answer: data!(200, TreeView),
        route: || web::get().to(queries::causation_tree),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/events/live",
        access: VIEWER,
        operation_id: "eventsLive",
        summary: "The global log, live (Server-Sent Events)",
        tag: "live",
        query: LIVE,
        body: None,
        answer: Answer::EventStream,
        route: || web::get().to(live::global),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/projections",
        access: VIEWER,
        operation_id: "projections",
        summary: "Projectors: state, checkpoint, lag",
        tag: "operations",
        query: &[],
        body: None,
        answer: data!(200, Vec<ProjectionView>),
        route: || web::get().to(queries::projections),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/projections/{name}/rebuild",
        access: ADMIN,
        operation_id: "rebuildProjection",
        summary: "Reset a read model and replay the log into it (progress as Server-Sent Events)",
        tag: "operations",
        query: &[],
        body: None,
        answer: Answer::EventStream,
        route: || web::post().to(live::rebuild),
    },
    Endpoint {
        method: "POST",
        path: "/api/v1/tokens",
        access: ADMIN,
        operation_id: "createToken",
        summary: "Make an API token (shown once)",
        tag: "operations",
        query: &[],
        body: body!(TokenBody),
        answer: data!(201, NewToken),
        route: || web::post().to(commands::create_token),
    },
    Endpoint {
        method: "GET",
        path: "/api/v1/tokens",
        access: ADMIN,
        operation_id: "listTokens",
        summary: "Every API token (never its value), revoked ones too",
        tag: "operations",
        query: &[],
        body: None,
        answer: data!(200, Vec<TokenInfo>),
        route: || web::get().to(queries::list_tokens),
    },
    Endpoint {
        method: "DELETE",
        path: "/api/v1/tokens/{id}",
        access: ADMIN,
        operation_id: "revokeToken",
        summary: "Revoke an API token: it stops working at once",
        tag: "operations",
        query: &[],
        body: None,
        answer: data!(200, TokenInfo),
        route: || web::delete().to(commands::revoke_token),
    },
];

/// Adds every route; a path's other methods answer 405.
pub fn register(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&str> = Vec::new();
    for e in ENDPOINTS {
        if !paths.contains(&e.path) {
            paths.push(e.path);
        }
    }
    // Fixed paths first: they match by comparison, the others by pattern,
    // and no fixed path is also an instance of a pattern.
    paths.sort_by_key(|p| p.contains('{'));
    for path in paths {
        let mut resource = web::resource(path).default_service(web::to(wrong_method));
        for e in ENDPOINTS.iter().filter(|e| e.path == path) {
            resource = resource.route((e.route)());
        }
        cfg.service(resource);
    }
}
