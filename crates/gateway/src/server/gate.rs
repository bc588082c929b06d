//! The middleware every request passes: gives it a request id (kept from
//! `X-Request-Id` if the client sent a sane one), a tracing span, and
//! checks its token against the role its route declares.

use super::auth::{Access, Principal, authorize};
use super::envelope::{REQUEST_ID, REQUEST_ID_HEADER};
use super::error::ApiError;
use super::routes::ENDPOINTS;
use super::state::AppState;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use std::sync::LazyLock;
use tracing::Instrument;

/// Each endpoint's path segments (`None` for a `{param}`), method and
/// access, in table order. Matching is segment by segment, no regex.
static MATCHERS: LazyLock<Vec<Matcher>> = LazyLock::new(|| {
    ENDPOINTS
        .iter()
        .map(|e| {
            let segments = e
                .path
                .split('/')
                .map(|s| (!s.starts_with('{')).then_some(s))
                .collect();
            (segments, e.method, e.access)
        })
        .collect()
});

/// Path segments (`None`: any one segment), method, access.
type Matcher = (Vec<Option<&'static str>>, &'static str, Access);

/// What the route at `path` with `method` needs; `None` for no such route.
fn access_for(method: &str, path: &str) -> Option<Access> {
    let segments: Vec<&str> = path.split('/').collect();
    MATCHERS
        .iter()
        .find(|(pattern, m, _)| {
            *m == method
                && pattern.len() == segments.len()
                && pattern.iter().zip(&segments).all(|(p, s)| match p {
                    Some(fixed) => fixed == s,
                    None => !s.is_empty(),
                })
        })
        .map(|(_, _, access)| *access)
}

pub async fn gate(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 100 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let span = tracing::info_span!(
        "http",
        request_id = %request_id,
        method = %req.method(),
        path = %req.path(),
        subject = tracing::field::Empty,
    );
    let header = HeaderValue::from_str(&request_id).ok();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let served = REQUEST_ID.scope(request_id, async move {
        if let Some(access) = access_for(req.method().as_str(), req.path())
            && let Some(state) = &state
        {
            let auth = req
                .headers()
                .get(actix_web::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            match authorize(&state.tokens, auth, access).await {
                Ok(Some(principal)) => {
                    tracing::Span::current().record("subject", principal.subject.as_str());
                    req.extensions_mut().insert(principal);
                }
                Ok(None) => {}
                Err(e) => return Ok(req.into_response(e.error_response())),
            }
        }
        next.call(req).await
    });
    let mut response = served.instrument(span).await?;
    if let Some(header) = header {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), header);
    }
    if let Some(state) = response.request().app_data::<web::Data<AppState>>() {
        state.counters.count_response(response.status().as_u16());
    }
    tracing::debug!(status = response.status().as_u16(), "served");
    Ok(response)
}

/// The authenticated caller of a route that needs a role.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .map(Caller)
                .ok_or_else(|| {
                    ApiError::new(
                        actix_web::http::StatusCode::UNAUTHORIZED,
                        "UNAUTHORIZED",
                        "missing bearer token",
                    )
                }),
        )
    }
}

impl Caller {
    /// Who issued a command, for its events' metadata: the token's subject,
    /// and the correlation id from `X-Correlation-Id` if given.
    pub fn context(&self, req: &HttpRequest) -> Result<maos_actors::CommandContext, ApiError> {
        let correlation_id = match req.headers().get("x-correlation-id") {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(|v| uuid::Uuid::parse_str(v).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "INVALID_CORRELATION_ID",
                            "X-Correlation-Id must be a UUID",
                        )
                    })?,
            ),
        };
        Ok(maos_actors::CommandContext {
            correlation_id,
            causation_id: None,
            user_id: Some(self.0.subject.clone()),
        })
    }
}
