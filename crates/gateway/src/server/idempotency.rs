//! `Idempotency-Key`: a command retried with the same key (by the same
//! caller) gets the first answer again and appends nothing new. Only
//! successful answers are kept: a refused command wrote nothing, so trying
//! it again is safe.

use super::auth::{Principal, hash};
use super::envelope::respond;
use super::error::ApiError;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use maos_projections::Cell;
use maos_projections::db::{execute, fetch, int, text};
use maos_store::Store;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Mutex;

pub const HEADER: &str = "idempotency-key";
/// Set on an answer replayed from an earlier request.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

const LOOKUP: &str =
    "SELECT fingerprint, status, body FROM maos_idempotency WHERE subject = $1 AND key = $2";
const INSERT: &str = "INSERT INTO maos_idempotency (subject, key, fingerprint, status, body, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subject, key) DO NOTHING";

/// Keys of commands running now, so a concurrent retry waits its turn.
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashSet<(String, String)>>);

struct Claim<'a> {
    in_flight: &'a InFlight,
    key: (String, String),
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        self.in_flight
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

/// Runs `command` at most once per `Idempotency-Key`: answers a repeat from
/// the record, refuses the key reused for a different request, and records
/// a successful answer.
pub async fn once<F>(
    store: &Store,
    in_flight: &InFlight,
    principal: &Principal,
    req: &HttpRequest,
    body: &[u8],
    command: F,
) -> Result<HttpResponse, ApiError>
where
    F: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    let Some(key) = req.headers().get(HEADER) else {
        let (status, data) = command.await?;
        return Ok(respond(status, data));
    };
    let key = key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_IDEMPOTENCY_KEY",
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
        })?
        .to_owned();
    let fingerprint = {
        let mut text = format!("{} {}\n", req.method(), req.path());
        text.push_str(&String::from_utf8_lossy(body));
        hash(&text)
    };
    if let Some(answer) = recorded(store, principal, &key, &fingerprint).await? {
        return Ok(answer);
    }
    let claim_key = (principal.subject.clone(), key.clone());
    if !in_flight
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(claim_key.clone())
    {
        return Err(ApiError::conflict(
            "IDEMPOTENCY_KEY_IN_USE",
            format!("a request with Idempotency-Key {key:?} is still running; retry later"),
        ));
    }
    let _claim = Claim {
        in_flight,
        key: claim_key,
    };
    // It may have finished between the lookup and the claim.
    if let Some(answer) = recorded(store, principal, &key, &fingerprint).await? {
        return Ok(answer);
    }
    let (status, data) = command.await?;
    execute(
        store,
        INSERT.to_owned(),
        vec![
            Cell::text(principal.subject.clone()),
            Cell::text(key),
            Cell::text(fingerprint),
            Cell::int(i64::from(status.as_u16())),
            Cell::text(data.to_string()),
            Cell::int(chrono::Utc::now().timestamp_micros()),
        ],
    )
    .await?;
    Ok(respond(status, data))
}

async fn recorded(
    store: &Store,
    principal: &Principal,
    key: &str,
    fingerprint: &str,
) -> Result<Option<HttpResponse>, ApiError> {
    let rows = fetch(
        store,
        LOOKUP.to_owned(),
        vec![Cell::text(principal.subject.clone()), Cell::text(key)],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    if text(&row[0]).as_deref() != Some(fingerprint) {
        return Err(ApiError::unprocessable(
            "IDEMPOTENCY_KEY_REUSED",
            format!("Idempotency-Key {key:?} was used for a different request"),
        ));
    }
    let status = int(&row[1])
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let data: Value = text(&row[2])
        .and_then(|b| serde_json::from_str(&b).ok())
        .unwrap_or(Value::Null);
    let mut answer = respond(status, data);
    answer.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static(REPLAYED_HEADER),
        actix_web::http::header::HeaderValue::from_static("true"),
    );
    Ok(Some(answer))
}
