//! Request bodies: read with a size limit, parsed by content type (JSON, or
//! YAML where a route takes it), with errors that say what was wrong.

use super::error::ApiError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

/// Default largest body accepted (1 MiB).
pub const DEFAULT_LIMIT: usize = 1 << 20;

/// The formats a body may come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    Json,
    JsonOrYaml,
}

/// Reads the whole body, refusing it past `limit` bytes.
pub async fn read(mut payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("MALFORMED_BODY", format!("cannot read the body: {e}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
        format!("the body is over the limit of {limit} bytes"),
    )
    .with_details(serde_json::json!({"limit_bytes": limit}))
}

/// Checks the declared length before reading anything.
pub fn check_length(req: &HttpRequest, limit: usize) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > limit => Err(too_large(limit)),
        _ => Ok(()),
    }
}

/// Parses `body` as `T` in the format its content type names.
pub fn parse<T: DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
    accepts: Accepts,
) -> Result<T, ApiError> {
    let format = format_of(req, accepts)?;
    let text = std::str::from_utf8(body)
        .map_err(|e| ApiError::bad_request("MALFORMED_BODY", format!("body is not UTF-8: {e}")))?;
    match format {
        Format::Json => serde_json::from_str(text).map_err(|e| {
            ApiError::bad_request(
                "MALFORMED_BODY",
                format!("body is not valid JSON for this request: {e}"),
            )
        }),
        Format::Yaml => serde_norway::from_str(text).map_err(|e| {
            ApiError::bad_request(
                "MALFORMED_BODY",
                format!("body is not valid YAML for this request: {e}"),
            )
        }),
    }
}

/// Parses an optional JSON body: empty means `T::default()`.
pub fn parse_optional<T: DeserializeOwned + Default>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    if body.is_empty() {
        return Ok(T::default());
    }
    parse(req, body, Accepts::Json)
}

/// Refuses a content type the route doesn't take (415).
pub fn check_content_type(req: &HttpRequest, accepts: Accepts) -> Result<(), ApiError> {
    format_of(req, accepts).map(|_| ())
}

enum Format {
    Json,
    Yaml,
}

fn format_of(req: &HttpRequest, accepts: Accepts) -> Result<Format, ApiError> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match (essence.as_str(), accepts) {
        ("application/json", _) => Ok(Format::Json),
        ("application/yaml" | "application/x-yaml" | "text/yaml", Accepts::JsonOrYaml) => {
            Ok(Format::Yaml)
        }
        _ => {
            let allowed = match accepts {
                Accepts::Json => "application/json",
                Accepts::JsonOrYaml => "application/json or application/yaml",
            };
            let shown = if content_type.is_empty() {
                "none"
            } else {
                content_type
            };
            Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                format!("content type {shown} is not accepted here; send {allowed}"),
            ))
        }
    }
}
