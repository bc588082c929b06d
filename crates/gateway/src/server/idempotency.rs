//! `Idempotency-Key`: a command retried with the same key (by the same
//! caller) gets the first answer again and appends nothing new. Only
//! successful answers are kept: a refused command wrote nothing, so trying
//! it again is safe.
//!
//! The key is claimed in the database before the command runs (a pending
//! row holding the id the command will give what it makes), and the answer
//! recorded after. A claim left pending by a run that was cut off (the
//! process stopped between the command's events and the answer) is taken
//! over by a retry once it is older than [`LEASE`]: the command runs again
//! with the same id, so a workflow the first run made is found, not made
//! twice (see `commands::submit`).

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
use uuid::Uuid;

pub const HEADER: &str = "idempotency-key";
/// Set on an answer replayed from an earlier request.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a pending claim belongs to the run that made it. Commands take
/// milliseconds; a claim this old was left by a run that was cut off.
pub const LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// `status` of a claim whose command has not answered yet.
const PENDING: i64 = 0;

const LOOKUP: &str = "SELECT fingerprint, status, body, created_at, reserved \
     FROM maos_idempotency WHERE subject = $1 AND key = $2";
const CLAIM: &str = "INSERT INTO maos_idempotency (subject, key, fingerprint, status, body, created_at, reserved) \
     VALUES ($1, $2, $3, 0, '', $4, $5) ON CONFLICT (subject, key) DO NOTHING";
/// (SQLite numbers `$n` parameters in the order they appear: keep them in
/// order.)
const TAKE_OVER: &str = "UPDATE maos_idempotency SET created_at = $1 \
     WHERE subject = $2 AND key = $3 AND status = 0 AND created_at = $4";
const COMPLETE: &str = "INSERT INTO maos_idempotency (subject, key, fingerprint, status, body, created_at, reserved) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (subject, key) DO UPDATE SET status = excluded.status, body = excluded.body";
const RELEASE: &str = "DELETE FROM maos_idempotency WHERE subject = $1 AND key = $2 AND status = 0 AND created_at = $3";

/// What a command may use of its claim.
#[derive(Debug, Clone, Copy)]
pub struct Reservation {
    /// The id to give what the command makes (a UUIDv7, so ids still
    /// follow time).
    pub id: Uuid,
    /// A run of this request before was cut off: what it made may exist.
    pub resumed: bool,
}

impl Reservation {
    fn fresh() -> Self {
        Reservation {
            id: Uuid::now_v7(),
            resumed: false,
        }
    }
}

/// Keys of commands running in this process, so a concurrent retry is
/// told to wait without asking the database.
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

fn in_use(key: &str) -> ApiError {
    ApiError::conflict(
        "IDEMPOTENCY_KEY_IN_USE",
        format!("a request with Idempotency-Key {key:?} is still running; retry later"),
    )
}

/// Runs `command` at most once per `Idempotency-Key`: answers a repeat from
/// the record, refuses the key reused for a different request, and records
/// a successful answer.
pub async fn once<F, Fut>(
    store: &Store,
    in_flight: &InFlight,
    principal: &Principal,
    req: &HttpRequest,
    body: &[u8],
    command: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(Reservation) -> Fut,
    Fut: Future<Output = Result<(StatusCode, Value), ApiError>>,
{
    let Some(key) = req.headers().get(HEADER) else {
        let (status, data) = command(Reservation::fresh()).await?;
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
    let claim_key = (principal.subject.clone(), key.clone());
    if !in_flight
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(claim_key.clone())
    {
        return Err(in_use(&key));
    }
    let _claim = Claim {
        in_flight,
        key: claim_key,
    };
    let subject = || Cell::text(principal.subject.clone());
    let mut looks = 0;
    let (reservation, claimed_at) = loop {
        // A look that finds the key taken by another run meanwhile ends in
        // that run's claim; a few looks settle it.
        looks += 1;
        if looks > 3 {
            return Err(in_use(&key));
        }
        let now = chrono::Utc::now().timestamp_micros();
        match recorded(store, principal, &key, &fingerprint).await? {
            Some(Record::Answered(answer)) => return Ok(answer),
            Some(Record::Pending { since, reserved }) => {
                let lease = i64::try_from(LEASE.as_micros()).unwrap_or(i64::MAX);
                if now - since < lease {
                    return Err(in_use(&key));
                }
                let params = vec![
                    Cell::int(now),
                    subject(),
                    Cell::text(&key),
                    Cell::int(since),
                ];
                if execute(store, TAKE_OVER.to_owned(), params).await? == 1 {
                    let reservation = Reservation {
                        id: reserved,
                        resumed: true,
                    };
                    break (reservation, now);
                }
            }
            None => {
                let reservation = Reservation::fresh();
                let params = vec![
                    subject(),
                    Cell::text(&key),
                    Cell::text(&fingerprint),
                    Cell::int(now),
                    Cell::text(reservation.id.to_string()),
                ];
                if execute(store, CLAIM.to_owned(), params).await? == 1 {
                    break (reservation, now);
                }
            }
        }
        // Another run claimed or took it over meanwhile: look again.
    };
    let (status, data) = match command(reservation).await {
        Ok(answer) => answer,
        Err(e) => {
            // Refused: nothing was written, so the key is free again.
            let params = vec![subject(), Cell::text(&key), Cell::int(claimed_at)];
            execute(store, RELEASE.to_owned(), params).await?;
            return Err(e);
        }
    };
    execute(
        store,
        COMPLETE.to_owned(),
        vec![
            subject(),
            Cell::text(key),
            Cell::text(fingerprint),
            Cell::int(i64::from(status.as_u16())),
            Cell::text(data.to_string()),
            Cell::int(claimed_at),
            Cell::text(reservation.id.to_string()),
        ],
    )
    .await?;
    Ok(respond(status, data))
}

/// A key's record.
enum Record {
    /// The command answered: its answer, replayed.
    Answered(HttpResponse),
    /// Claimed at `since` (microseconds) for a run not answered yet.
    Pending { since: i64, reserved: Uuid },
}

async fn recorded(
    store: &Store,
    principal: &Principal,
    key: &str,
    fingerprint: &str,
) -> Result<Option<Record>, ApiError> {
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
    let status = int(&row[1]).unwrap_or(PENDING);
    if status == PENDING {
        let since = int(&row[3]).unwrap_or(0);
        // Every claim holds its id; one unreadable reserves a fresh id.
        let reserved = text(&row[4])
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(Uuid::now_v7);
        return Ok(Some(Record::Pending { since, reserved }));
    }
    let status = u16::try_from(status)
        .ok()
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
    Ok(Some(Record::Answered(answer)))
}
