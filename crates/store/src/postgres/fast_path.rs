//! The PostgreSQL writer's fast path: when the versions it remembers say
//! every append of a batch is safe, the batch goes to the database as one
//! autocommit statement (`fast_insert.sql`): one round trip, no lookups.
//!
//! The cache may be stale only one way: another node appended to a stream,
//! so the real version is higher. Then the insert collides with an existing
//! `(stream, version)` and fails whole; so does a retried event id. Either
//! way the batch goes to the slow path, which looks everything up under the
//! lock and decides exactly. A cache mismatch is never reported as a
//! conflict from here: it also goes to the slow path.

use crate::group_commit::{AppendRequest, Committed, EncodedEvent};
use crate::int::to_i64;
use crate::{AppendResult, Error, ExpectedVersion};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgConnection;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Streams remembered; the cache is dropped whole beyond this.
const MAX_CACHED_STREAMS: usize = 100_000;

/// The last version the writer saw committed per stream.
#[derive(Debug, Default)]
pub(super) struct VersionCache {
    versions: HashMap<String, u64>,
}

impl VersionCache {
    /// Remembers what a batch's answers say about its streams.
    pub(super) fn learn(
        &mut self,
        batch: &[AppendRequest],
        outcomes: &[Result<AppendResult, Error>],
    ) {
        if self.versions.len() > MAX_CACHED_STREAMS {
            self.versions.clear();
        }
        for (request, outcome) in batch.iter().zip(outcomes) {
            let version = match outcome {
                Ok(result) => Some(result.last_version),
                Err(Error::Conflict { actual, .. }) => *actual,
                Err(_) => None,
            };
            if let Some(version) = version {
                let entry = self
                    .versions
                    .entry(request.stream.as_str().to_owned())
                    .or_default();
                *entry = (*entry).max(version);
            }
        }
    }

    /// Forgets the streams of a batch that went to the slow path.
    pub(super) fn forget(&mut self, batch: &[AppendRequest]) {
        for request in batch {
            self.versions.remove(request.stream.as_str());
        }
    }
}

/// A batch the cache vouches for.
pub(super) struct FastPlan<'a> {
    rows: Vec<(&'a str, u64, &'a EncodedEvent)>,
    /// Per request: its first version and how many events it has.
    requests: Vec<(u64, u64)>,
}

/// Plans the batch for the fast path, or `None` when any append needs the
/// slow path (unknown stream, expectation the cache can't confirm, an id
/// twice in the batch).
pub(super) fn plan<'a>(batch: &'a [AppendRequest], cache: &VersionCache) -> Option<FastPlan<'a>> {
    let mut local: HashMap<&str, u64> = HashMap::new();
    let mut ids = HashSet::new();
    let mut rows = Vec::new();
    let mut requests = Vec::with_capacity(batch.len());
    for request in batch {
        let stream = request.stream.as_str();
        let known = local
            .get(stream)
            .or_else(|| cache.versions.get(stream))
            .copied();
        let first_version = match (request.expected, known) {
            // Optimistic: an existing stream collides on (stream, 1).
            (ExpectedVersion::NoStream, None) => 1,
            (ExpectedVersion::Any, Some(current)) => current + 1,
            (ExpectedVersion::Exact(expected), Some(current)) if expected == current => current + 1,
            _ => return None,
        };
        for (i, event) in request.events.iter().enumerate() {
            if !ids.insert(event.id()) {
                return None;
            }
            rows.push((stream, first_version + i as u64, event));
        }
        let count = request.events.len() as u64;
        local.insert(stream, first_version + count - 1);
        requests.push((first_version, count));
    }
    Some(FastPlan { rows, requests })
}

/// Runs a fast plan; `Ok(None)` when the database refused it (send the
/// batch to the slow path), else what it committed.
pub(super) async fn run(
    connection: &mut PgConnection,
    plan: &FastPlan<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Committed>, Error> {
    let n = plan.rows.len();
    let mut ids: Vec<Uuid> = Vec::with_capacity(n);
    let mut streams = Vec::with_capacity(n);
    let mut versions = Vec::with_capacity(n);
    let mut types = Vec::with_capacity(n);
    let mut sources = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut metadata = Vec::with_capacity(n);
    for (stream, version, event) in &plan.rows {
        ids.push(event.id());
        streams.push(*stream);
        versions.push(to_i64(*version));
        types.push(event.event.event_type.as_str());
        sources.push(event.event.source.as_str());
        data.push(event.data.as_str());
        metadata.push(event.metadata.as_str());
    }
    let times = vec![now; n];
    let result = sqlx::query_scalar::<_, i64>(include_str!("fast_insert.sql"))
        .bind(ids)
        .bind(streams)
        .bind(versions)
        .bind(types)
        .bind(times)
        .bind(sources)
        .bind(data)
        .bind(metadata)
        .bind(to_i64(n as u64))
        .fetch_one(connection)
        .await;
    let base = match result {
        Ok(base) => crate::int::to_u64(base),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let mut outcomes = Vec::with_capacity(plan.requests.len());
    let mut position = base;
    for (first_version, count) in &plan.requests {
        outcomes.push(Ok(AppendResult {
            first_version: *first_version,
            last_version: first_version + count - 1,
            first_position: position + 1,
            last_position: position + count,
        }));
        position += count;
    }
    Ok(Some(Committed {
        answers: outcomes,
        base,
        head: position,
        recorded_at: now,
    }))
}
