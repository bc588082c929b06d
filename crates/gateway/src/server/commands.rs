//! Command handlers: every one reads its body with the size limit, checks
//! it, and runs at most once per `Idempotency-Key`. A refused command
//! appends nothing.

use super::auth::{NewToken, Role};
use super::body::{self, Accepts};
use super::error::ApiError;
use super::gate::Caller;
use super::idempotency::{self, Reservation};
use super::queries::{as_of, workflow_id};
use super::state::AppState;
use super::views::{AgentRegistered, CommandDone, SubmittedView};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maos_actors::{AgentDefinition, Outcome, parse_workflow_spec};
use maos_domain::workflow::{ForkOrigin, HumanDecision, TaskSpec, Usage};
use maos_domain::{AgentId, Attempt, Capability, TaskId, WorkflowId};
use maos_projections::history;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use tracing::Instrument;

/// Reads a command's body and runs `command` once per idempotency key.
async fn command<F, Fut>(
    state: &AppState,
    caller: &Caller,
    req: &HttpRequest,
    payload: web::Payload,
    command: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(web::Bytes, Reservation) -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    body::check_length(req, state.body_limit)?;
    let bytes = body::read(payload, state.body_limit).await?;
    state
        .counters
        .commands
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    idempotency::once(
        &state.store,
        &state.in_flight,
        &caller.0,
        req,
        &bytes.clone(),
        |reservation| command(bytes, reservation),
    )
    .await
}

/// For a submission or fork retried after a run cut off before it
/// answered: the answer, if that run had made the workflow already.
async fn made_before(
    node: &maos_actors::Node,
    reservation: Reservation,
) -> Result<Option<(StatusCode, Value)>, ApiError> {
    if !reservation.resumed {
        return Ok(None);
    }
    let made = node.submitted(WorkflowId(reservation.id)).await?;
    Ok(made.map(|m| (StatusCode::CREATED, data(SubmittedView::from(m)))))
}

fn data(value: impl Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `POST /api/v1/workflows`: the body is a workflow spec (YAML or JSON).
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, reservation| async move {
        body::check_content_type(&req, Accepts::JsonOrYaml)?;
        let text = std::str::from_utf8(&bytes).unwrap_or_default();
        let spec = match parse_workflow_spec(text) {
            Ok(spec) => spec,
            Err(e) => {
                // Malformed text is a 400; a well-formed spec that breaks
                // the rules a 422.
                let _: Value = body::parse(&req, &bytes, Accepts::JsonOrYaml)?;
                return Err(e.into());
            }
        };
        let node = state.node()?;
        let id = WorkflowId(reservation.id);
        if let Some(made) = made_before(node, reservation).await? {
            return Ok(made);
        }
        let submitted = node.submit_as(id, spec, ctx).await?;
        let span = tracing::info_span!("command", correlation_id = %submitted.correlation_id);
        span.in_scope(
            || tracing::info!(workflow_id = %submitted.workflow_id, "workflow submitted"),
        );
        Ok((StatusCode::CREATED, data(SubmittedView::from(submitted))))
    })
    .await
}

/// Why a workflow is cancelled.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelBody {
    pub reason: Option<String>,
}

/// `POST /api/v1/workflows/{id}/actions/cancel`
pub async fn cancel(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = workflow_id(&path)?;
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, _| async move {
        let body: CancelBody = body::parse_optional(&req, &bytes)?;
        let reason = body
            .reason
            .unwrap_or_else(|| format!("cancelled by {}", caller.0.subject));
        let version =
            with_current_state(&state, id, state.node()?.cancel(id, &reason, ctx)).await?;
        Ok((StatusCode::OK, data(CommandDone { id: id.0, version })))
    })
    .await
}

/// Runs a workflow command; a refusal for the workflow's state (409) gets
/// its current status and version in the details.
async fn with_current_state(
    state: &AppState,
    id: WorkflowId,
    command: impl Future<Output = Result<u64, maos_actors::Error>>,
) -> Result<u64, ApiError> {
    let outcome = command
        .instrument(tracing::info_span!("command", workflow_id = %id))
        .await;
    match outcome {
        Ok(version) => Ok(version),
        Err(e) => {
            let mut e = ApiError::from(e);
            if e.status == StatusCode::CONFLICT
                && let Some(node) = &state.node
                && let Ok(current) = node.workflow_state(id).await
            {
                e.details["workflow_id"] = json!(id.0);
                e.details["workflow_status"] = json!(current.status);
                e.details["workflow_version"] = json!(current.version);
            }
            Err(e)
        }
    }
}

/// `POST /api/v1/workflows/{id}/tasks/{task}/actions/resolve`: a human's
/// answer to an escalated task: `{"kind": "retry" | "skip" | "cancel"}` or
/// `{"kind": "override", "output": …}`.
pub async fn resolve(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, task) = path.into_inner();
    let id = workflow_id(&id)?;
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, _| async move {
        let decision: HumanDecision = body::parse(&req, &bytes, Accepts::Json)?;
        let node = state.node()?;
        let version =
            with_current_state(&state, id, node.resolve(id, TaskId(task), decision, ctx)).await?;
        Ok((StatusCode::OK, data(CommandDone { id: id.0, version })))
    })
    .await
}

/// The checkpoint to fork from: exactly one of these.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkBody {
    /// After the origin's event with this stream version.
    pub version: Option<u64>,
    /// After the origin's events up to this global position.
    pub position: Option<u64>,
    /// After the origin's events recorded up to this time (RFC 3339).
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// `POST /api/v1/workflows/{id}/actions/fork`
pub async fn fork(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let origin = workflow_id(&path)?;
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, reservation| async move {
        let body: ForkBody = body::parse(&req, &bytes, Accepts::Json)?;
        let mut point = HashMap::new();
        if let Some(v) = body.version {
            point.insert("version".to_owned(), v.to_string());
        }
        if let Some(p) = body.position {
            point.insert("position".to_owned(), p.to_string());
        }
        if let Some(t) = body.at {
            point.insert("at".to_owned(), t.to_rfc3339());
        }
        let point = as_of(&super::params::Params::new(
            point,
            &["version", "position", "at"],
        )?)
        .map_err(|_| {
            ApiError::unprocessable(
                "INVALID_FORK_POINT",
                "give exactly one of version, position or at",
            )
        })?;
        let Some(at_origin) = history::state_as_of(&state.store, origin, point).await? else {
            return Err(ApiError::not_found(
                "WORKFLOW_NOT_FOUND",
                format!(
                    "workflow {origin} had no events by {}",
                    super::queries::describe(point)
                ),
            ));
        };
        let fork_origin = ForkOrigin {
            workflow_id: origin,
            version: at_origin.version,
        };
        let node = state.node()?;
        let id = WorkflowId(reservation.id);
        if let Some(made) = made_before(node, reservation).await? {
            return Ok(made);
        }
        let submitted = node.fork_as(id, fork_origin, at_origin, ctx).await?;
        Ok((StatusCode::CREATED, data(SubmittedView::from(submitted))))
    })
    .await
}

/// `POST /api/v1/agents`: the body is one agent definition (YAML or JSON),
/// as in an agents file. An agent of the same name is updated.
pub async fn register_agent(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, _| async move {
        let definition: AgentDefinition = body::parse(&req, &bytes, Accepts::JsonOrYaml)?;
        let id = state.node()?.register_agent(&definition, ctx).await?;
        Ok((
            StatusCode::CREATED,
            data(AgentRegistered {
                agent_id: id.0,
                name: definition.name,
            }),
        ))
    })
    .await
}

/// What to change on an agent.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAgentBody {
    pub capabilities: Option<Vec<String>>,
    pub max_concurrency: Option<u32>,
}

/// `PATCH /api/v1/agents/{id}`
pub async fn update_agent(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = AgentId(super::params::path_id(&path, "agent", "AGENT_NOT_FOUND")?);
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, _| async move {
        let body: UpdateAgentBody = body::parse(&req, &bytes, Accepts::Json)?;
        let capabilities = body
            .capabilities
            .map(|c| c.into_iter().map(Capability).collect());
        let version = state
            .node()?
            .update_agent(id, capabilities, body.max_concurrency, ctx)
            .await?;
        Ok((StatusCode::OK, data(CommandDone { id: id.0, version })))
    })
    .await
}

/// `DELETE /api/v1/agents/{id}?reason=…`: retires the agent.
pub async fn retire_agent(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = AgentId(super::params::path_id(&path, "agent", "AGENT_NOT_FOUND")?);
    let p = super::params::Params::new(query.into_inner(), &["reason"])?;
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |_, _| async move {
        let reason = p
            .text("reason")
            .unwrap_or_else(|| format!("retired by {}", caller.0.subject));
        let version = state.node()?.retire_agent(id, &reason, ctx).await?;
        Ok((StatusCode::OK, data(CommandDone { id: id.0, version })))
    })
    .await
}

/// A remote agent's result for one attempt.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResultBody {
    Completed {
        #[serde(default)]
        output: Value,
        #[serde(default)]
        usage: Option<Usage>,
        /// Tasks a planning task adds.
        #[serde(default)]
        added_tasks: Vec<TaskSpec>,
    },
    Failed {
        error: String,
    },
    /// The agent cannot go on without a human.
    Blocked {
        reason: String,
    },
}

/// `POST /api/v1/workflows/{id}/tasks/{task}/attempts/{attempt}/result`.
/// Fenced: a result for an attempt that is no longer live is recorded as
/// rejected (409 `STALE_ATTEMPT`) and not applied.
pub async fn report_result(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, task, attempt) = path.into_inner();
    let id = workflow_id(&id)?;
    let attempt = attempt.parse::<u32>().map_err(|_| {
        ApiError::not_found(
            "ATTEMPT_NOT_FOUND",
            format!("no attempt {attempt:?} (attempts are numbers)"),
        )
    })?;
    let ctx = caller.context(&req)?;
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, _| async move {
        let body: ResultBody = body::parse(&req, &bytes, Accepts::Json)?;
        let outcome = match body {
            ResultBody::Completed {
                output,
                usage,
                added_tasks,
            } => Outcome::Completed {
                output,
                usage: usage.unwrap_or_default(),
                added_tasks,
            },
            ResultBody::Failed { error } => Outcome::Failed { error },
            ResultBody::Blocked { reason } => Outcome::Blocked { reason },
        };
        let node = state.node()?;
        let task_id = TaskId(task.clone());
        let live = node.workflow_state(id).await?;
        let current = live.tasks.get(&task_id).map(|t| t.attempt);
        let version = with_current_state(
            &state,
            id,
            node.report_result(id, task_id, Attempt(attempt), outcome, ctx),
        )
        .await?;
        if let Some(current) = current
            && current != Attempt(attempt)
        {
            return Err(ApiError::conflict(
                "STALE_ATTEMPT",
                format!("task {task} attempt {attempt} is not the live attempt (current attempt {current}); the result was recorded as rejected"),
            )
            .with_details(json!({"task_id": task, "attempt": attempt, "current_attempt": current, "version": version})));
        }
        Ok((StatusCode::OK, data(CommandDone { id: id.0, version })))
    })
    .await
}

/// A token to make.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    /// Who holds it; recorded as `user_id` on the events its commands cause.
    pub subject: String,
    pub role: Role,
}

/// `DELETE /api/v1/tokens/{id}`: the token stops working at once.
pub async fn revoke_token(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |_, _| async move {
        let revoked = state.tokens.revoke(&id).await?;
        Ok((StatusCode::OK, data(revoked)))
    })
    .await
}

/// `POST /api/v1/tokens`: the token is in the answer, and only there.
pub async fn create_token(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (st, who, rq) = (state.clone(), caller.clone(), req.clone());
    command(&st, &who, &rq, payload, |bytes, _| async move {
        let body: TokenBody = body::parse(&req, &bytes, Accepts::Json)?;
        let made: NewToken = state.tokens.create(&body.subject, body.role).await?;
        Ok((StatusCode::CREATED, data(made)))
    })
    .await
}
