//! Health, readiness and Prometheus metrics.

use super::envelope::ok;
use super::error::ApiError;
use super::queries::projection_views;
use super::state::AppState;
use actix_web::{HttpResponse, web};
use maos_store::EventStore;
use serde_json::json;
use std::fmt::Write;
use std::sync::atomic::Ordering;

/// A projector further behind than this, while retrying, is "stalled".
const STALLED_AFTER_RETRIES: u32 = 3;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> HttpResponse {
    ok(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers and no projector is stuck retrying.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let head = state.store.head_position().await.map_err(|e| {
        ApiError::unavailable("NOT_READY", format!("the event store does not answer: {e}"))
    })?;
    let stalled: Vec<String> = state
        .projectors
        .iter()
        .filter_map(|rx| match &rx.borrow().state {
            maos_projections::ProjectorState::Retrying { error, attempts }
                if *attempts >= STALLED_AFTER_RETRIES =>
            {
                Some(format!("{}: {error}", rx.borrow().name))
            }
            _ => None,
        })
        .collect();
    if !stalled.is_empty() {
        return Err(ApiError::unavailable("NOT_READY", "a projector is stalled")
            .with_details(json!({"stalled": stalled})));
    }
    Ok(ok(json!({
        "status": "ready",
        "head_position": head,
        "node": state.node.is_some(),
    })))
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut out = String::new();
    let head = state.store.head_position().await.unwrap_or(0);
    metric(
        &mut out,
        "maos_events_head_position",
        "gauge",
        "Position of the last event in the log.",
    );
    let _ = writeln!(out, "maos_events_head_position {head}");
    metric(
        &mut out,
        "maos_http_requests_total",
        "counter",
        "HTTP requests answered, by status class.",
    );
    for (i, n) in state.counters.requests.iter().enumerate() {
        let _ = writeln!(
            out,
            "maos_http_requests_total{{class=\"{}xx\"}} {}",
            i + 1,
            n.load(Ordering::Relaxed)
        );
    }
    metric(
        &mut out,
        "maos_api_commands_total",
        "counter",
        "Commands received over the API.",
    );
    let _ = writeln!(
        out,
        "maos_api_commands_total {}",
        state.counters.commands.load(Ordering::Relaxed)
    );
    if let Ok(views) = projection_views(&state).await {
        metric(
            &mut out,
            "maos_projector_lag_events",
            "gauge",
            "Head position minus the projector's checkpoint.",
        );
        for v in &views {
            let _ = writeln!(
                out,
                "maos_projector_lag_events{{projector=\"{}\"}} {}",
                v.name, v.lag
            );
        }
        metric(
            &mut out,
            "maos_projector_checkpoint",
            "gauge",
            "The projector's checkpoint position.",
        );
        for v in &views {
            let _ = writeln!(
                out,
                "maos_projector_checkpoint{{projector=\"{}\"}} {}",
                v.name, v.checkpoint
            );
        }
    }
    metric(
        &mut out,
        "maos_projector_transactions_total",
        "counter",
        "Transactions (rows and checkpoint) the projector's live follower committed.",
    );
    for rx in &state.projectors {
        let s = rx.borrow();
        let _ = writeln!(
            out,
            "maos_projector_transactions_total{{projector=\"{}\"}} {}",
            s.name, s.transactions
        );
    }
    if let Some(node) = &state.node {
        let m = node.metrics();
        metric(
            &mut out,
            "maos_actor_restarts_total",
            "counter",
            "Actor restarts by a supervisor.",
        );
        let _ = writeln!(
            out,
            "maos_actor_restarts_total {}",
            m.restarts.load(Ordering::Relaxed)
        );
        metric(
            &mut out,
            "maos_attempts_finished_total",
            "counter",
            "Task attempts that finished, any outcome.",
        );
        let _ = writeln!(
            out,
            "maos_attempts_finished_total {}",
            m.attempts_finished.load(Ordering::Relaxed)
        );
        m.command_seconds.render(
            &mut out,
            "maos_command_duration_seconds",
            "Workflow commands from arrival at the actor to the reply, events durable.",
        );
        m.attempt_seconds.render(
            &mut out,
            "maos_task_attempt_duration_seconds",
            "Task attempts run by this node's agents, start to finish.",
        );
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out))
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}
