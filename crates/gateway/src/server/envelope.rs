//! Successful answers (`{data, meta}`), the request id every answer carries,
//! and the JSON error answers actix would otherwise give as plain text.

use super::error::ApiError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{Value, json};

tokio::task_local! {
    /// The id of the request being served (set by the gate middleware).
    pub static REQUEST_ID: String;
}

/// The header that carries the request id both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The current request's id, or `-` outside a request.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}

/// `meta` of every answer.
pub fn meta() -> Value {
    json!({
        "request_id": request_id(),
        "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    })
}

/// `200 {data, meta}`.
pub fn ok(data: impl Serialize) -> HttpResponse {
    respond(StatusCode::OK, data)
}

/// `{data, meta}` with `status`.
pub fn respond(status: StatusCode, data: impl Serialize) -> HttpResponse {
    HttpResponse::build(status).json(json!({"data": data, "meta": meta()}))
}

/// `200 {data, meta}` for one page; `meta.next` is the cursor of the next
/// page (pass it back as `after`), absent on the last.
pub fn page(data: impl Serialize, next: Option<String>) -> HttpResponse {
    let mut meta = meta();
    if let Some(next) = next {
        meta["next"] = Value::String(next);
    }
    HttpResponse::Ok().json(json!({"data": data, "meta": meta}))
}

/// For routes that don't exist.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "ROUTE_NOT_FOUND",
        format!("no route {} {}", req.method(), req.path()),
    ))
}

/// For a method a route doesn't take.
pub async fn wrong_method(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{} is not allowed on {}", req.method(), req.path()),
    ))
}

/// Query strings actix can't parse.
pub fn query_error(e: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    ApiError::invalid_query(e.to_string()).into()
}
