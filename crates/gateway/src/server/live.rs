//! Server-Sent Events: the global log or one workflow's events, live,
//! filtered by type pattern, resumable with `Last-Event-ID` (an event's id
//! on the wire is its global position). Also the progress of a projection
//! rebuild.

use super::error::ApiError;
use super::params::Params;
use super::queries::workflow_id;
use super::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::stream::{self, Stream};
use maos_domain::TypePattern;
use maos_projections::audit::AuditLog;
use maos_projections::board::WorkflowBoard;
use maos_projections::{ReadModel, replay};
use maos_store::EventStore;
use std::collections::HashMap;
use std::time::Duration;

/// A comment line is sent after this long without events, so proxies and
/// clients see the connection is alive.
const KEEPALIVE: Duration = Duration::from_secs(15);

type Query = web::Query<HashMap<String, String>>;

/// `GET /api/v1/events/live`
pub async fn global(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let p = Params::new(query.into_inner(), &["types", "after"])?;
    let (pattern, after) = start(&req, &p)?;
    let after = match after {
        Some(a) => a,
        // Without a resume point: from now on.
        None => state.store.head_position().await?,
    };
    Ok(sse(events(&state, after, pattern, None)))
}

/// `GET /api/v1/workflows/{id}/live`: from the workflow's first event (or
/// after `Last-Event-ID`).
pub async fn workflow(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let id = workflow_id(&path)?;
    let p = Params::new(query.into_inner(), &["types", "after"])?;
    let (pattern, after) = start(&req, &p)?;
    let stream_name = id.stream();
    let first = state.store.read_stream(&stream_name, 0, 1).await?;
    let Some(first) = first.first() else {
        return Err(ApiError::not_found(
            "WORKFLOW_NOT_FOUND",
            format!("workflow {id} does not exist"),
        )
        .with_details(serde_json::json!({"workflow_id": id.0})));
    };
    let after = after.unwrap_or(first.position - 1);
    Ok(sse(events(&state, after, pattern, Some(stream_name))))
}

/// The type filter and the resume point (`Last-Event-ID` or `after`).
fn start(req: &HttpRequest, p: &Params) -> Result<(TypePattern, Option<u64>), ApiError> {
    let pattern = match p.text("types") {
        Some(t) => {
            TypePattern::parse(&t).map_err(|e| ApiError::invalid_query(format!("types: {e}")))?
        }
        None => TypePattern::all(),
    };
    let last_event_id = match req.headers().get("last-event-id") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALID_LAST_EVENT_ID",
                        "Last-Event-ID must be an event position (a non-negative integer)",
                    )
                })?,
        ),
    };
    Ok((pattern, last_event_id.or(p.u64("after")?)))
}

fn sse<S>(body: S) -> HttpResponse
where
    S: Stream<Item = Result<web::Bytes, actix_web::Error>> + 'static,
{
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body)
}

/// Events after `after` that match, as SSE frames, until the server stops.
fn events(
    state: &AppState,
    after: u64,
    pattern: TypePattern,
    only_stream: Option<String>,
) -> impl Stream<Item = Result<web::Bytes, actix_web::Error>> + use<> {
    let subscription = state.store.subscribe(after);
    let closing = state.closing.subscribe();
    stream::unfold((subscription, closing), move |(mut sub, mut closing)| {
        let pattern = pattern.clone();
        let only_stream = only_stream.clone();
        async move {
            loop {
                if *closing.borrow() {
                    return None;
                }
                let next = tokio::select! {
                    next = tokio::time::timeout(KEEPALIVE, sub.next()) => next,
                    _ = closing.changed() => return None,
                };
                let event = match next {
                    Err(_) => {
                        let frame = web::Bytes::from_static(b": keepalive\n\n");
                        return Some((Ok(frame), (sub, closing)));
                    }
                    Ok(Err(e)) => {
                        let frame = format!(
                            "event: error\ndata: {}\n\n",
                            serde_json::json!({"message": e.to_string()})
                        );
                        tracing::warn!(error = %e, "live event stream failed");
                        return Some((Ok(web::Bytes::from(frame)), (sub, closing)));
                    }
                    Ok(Ok(event)) => event,
                };
                if only_stream.as_deref().is_some_and(|s| s != event.stream)
                    || !pattern.matches(&event.event_type)
                {
                    continue;
                }
                let data = serde_json::to_string(&event).unwrap_or_default();
                let frame = format!(
                    "id: {}\nevent: {}\ndata: {data}\n\n",
                    event.position, event.event_type
                );
                return Some((Ok(web::Bytes::from(frame)), (sub, closing)));
            }
        }
    })
}

/// `POST /api/v1/projections/{name}/rebuild`: resets the read model (every
/// one for `all`, in one pass over the log) and replays the log into it;
/// the answer is a stream of `progress` events (`{"done": n, "total": m}`)
/// ending with `done` (or `error`). The rebuild goes on if the client
/// leaves.
pub async fn rebuild(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let name = path.into_inner();
    let store = state.store.clone();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let progress_tx = tx.clone();
    let progress = move |done: u64, total: u64| {
        let _ = progress_tx.send(format!(
            "event: progress\ndata: {}\n\n",
            serde_json::json!({"done": done, "total": total})
        ));
    };
    let models: &'static [&'static dyn ReadModel] = match name.as_str() {
        "audit" => &[&AuditLog],
        "workflow_board" => &[&WorkflowBoard],
        "all" => &[&AuditLog, &WorkflowBoard],
        other => {
            return Err(ApiError::not_found(
                "PROJECTION_NOT_FOUND",
                format!(
                    "no projection {other:?}; there are audit and workflow_board (all: both in one pass)"
                ),
            ));
        }
    };
    let job = async move { replay::rebuild(&store, models, progress).await };
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let frame = match job.await {
            Ok(events) => format!(
                "event: done\ndata: {}\n\n",
                serde_json::json!({"events": events, "seconds": started.elapsed().as_secs_f64()})
            ),
            Err(e) => format!(
                "event: error\ndata: {}\n\n",
                serde_json::json!({"message": e.to_string()})
            ),
        };
        let _ = tx.send(frame);
    });
    let body = stream::unfold(rx, |mut rx| async move {
        let frame = rx.recv().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(frame)), rx))
    });
    Ok(sse(body))
}
