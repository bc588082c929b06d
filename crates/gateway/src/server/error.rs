//! The API's error answer: `{error: {code, message, details}, meta}` with a
//! stable machine-readable code per kind of failure.

use super::envelope::meta;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

/// A failed request, as the client will see it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, upper snake case: `WORKFLOW_NOT_FOUND`, `ILLEGAL_TRANSITION`…
    pub code: &'static str,
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: json!({}),
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_query(message: impl Into<String>) -> Self {
        ApiError::bad_request("INVALID_QUERY", message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    pub fn unavailable(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({
            "error": {"code": self.code, "message": self.message, "details": self.details},
            "meta": meta(),
        })
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, "request failed");
        }
        HttpResponse::build(self.status).json(self.body())
    }
}

impl From<maos_actors::Error> for ApiError {
    fn from(e: maos_actors::Error) -> Self {
        use maos_actors::Error as E;
        match e {
            E::Refused(refusal) => refusal.into(),
            E::Store(e) => e.into(),
            E::Spec(m) => ApiError::unprocessable("INVALID_SPEC", m),
            E::AgentConfig(m) => ApiError::unprocessable("INVALID_AGENT", m),
            E::UnknownWorkflow(id) => ApiError::not_found(
                "WORKFLOW_NOT_FOUND",
                format!("workflow {id} does not exist"),
            )
            .with_details(json!({"workflow_id": id.0})),
            E::UnknownAgent(id) => {
                ApiError::not_found("AGENT_NOT_FOUND", format!("agent {id} does not exist"))
                    .with_details(json!({"agent_id": id.0}))
            }
            E::Decode(m) => ApiError::internal(m),
            E::NotRunning(what) => {
                ApiError::unavailable("NODE_UNAVAILABLE", format!("{what} is not running"))
            }
        }
    }
}

impl From<maos_domain::Error> for ApiError {
    fn from(e: maos_domain::Error) -> Self {
        use maos_domain::Error as E;
        let message = e.to_string();
        match e {
            E::InvalidSpec(_) => ApiError::unprocessable("INVALID_SPEC", message),
            E::InvalidAgent(_) => ApiError::unprocessable("INVALID_AGENT", message),
            E::UnknownTask(task) => ApiError::not_found("TASK_NOT_FOUND", message)
                .with_details(json!({"task_id": task})),
            E::WorkflowNotSubmitted => ApiError::not_found("WORKFLOW_NOT_FOUND", message),
            E::AgentNotRegistered => ApiError::not_found("AGENT_NOT_FOUND", message),
            E::WorkflowNotActive { status, action } => {
                ApiError::conflict("ILLEGAL_TRANSITION", message)
                    .with_details(json!({"workflow_status": status, "action": action}))
            }
            E::IllegalTaskTransition {
                task,
                status,
                action,
            } => ApiError::conflict("ILLEGAL_TRANSITION", message)
                .with_details(json!({"task_id": task, "task_status": status, "action": action})),
            E::NotCurrentAttempt {
                task,
                attempt,
                current,
            } => ApiError::conflict("STALE_ATTEMPT", message).with_details(
                json!({"task_id": task, "attempt": attempt, "current_attempt": current}),
            ),
            _ => ApiError::conflict("REFUSED", message),
        }
    }
}

impl From<maos_store::Error> for ApiError {
    fn from(e: maos_store::Error) -> Self {
        use maos_store::Error as E;
        match e {
            E::Conflict { .. } | E::EventIdTaken { .. } => {
                ApiError::conflict("CONCURRENT_CHANGE", e.to_string())
            }
            other => ApiError::unavailable("STORE_UNAVAILABLE", other.to_string()),
        }
    }
}

impl From<maos_projections::Error> for ApiError {
    fn from(e: maos_projections::Error) -> Self {
        use maos_projections::Error as E;
        match e {
            E::InvalidQuery(m) => ApiError::invalid_query(m),
            E::Store(e) => e.into(),
            E::Refused(e) => e.into(),
            other => ApiError::internal(other.to_string()),
        }
    }
}
