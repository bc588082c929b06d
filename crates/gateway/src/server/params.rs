//! Query-string parameters, read with precise errors: an unknown parameter
//! or a value of the wrong shape is refused and named.

use super::error::ApiError;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use uuid::Uuid;

/// A request's query parameters, checked against what the route takes.
#[derive(Debug)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn new(map: HashMap<String, String>, allowed: &[&str]) -> Result<Params, ApiError> {
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::invalid_query(format!(
                "unknown parameter {unknown:?}; this route takes {}",
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.join(", ")
                }
            )));
        }
        Ok(Params(map))
    }

    pub fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    pub fn u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        self.parse(name, "a non-negative integer", |v| v.parse::<u64>().ok())
    }

    pub fn uuid(&self, name: &str) -> Result<Option<Uuid>, ApiError> {
        self.parse(name, "a UUID", |v| Uuid::parse_str(v).ok())
    }

    /// RFC 3339 (`2026-11-21T10:00:00Z`).
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
        self.parse(name, "an RFC 3339 time like 2026-11-21T10:00:00Z", |v| {
            DateTime::parse_from_rfc3339(v)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
    }

    /// The page size (`limit`), `default` if absent.
    pub fn limit(&self, default: usize) -> Result<usize, ApiError> {
        Ok(self
            .u64("limit")?
            .map(|v| usize::try_from(v).unwrap_or(usize::MAX))
            .unwrap_or(default))
    }

    fn parse<T>(
        &self,
        name: &str,
        shape: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ApiError> {
        match self.text(name) {
            None => Ok(None),
            Some(v) => parse(&v).map(Some).ok_or_else(|| {
                ApiError::invalid_query(format!("parameter {name} must be {shape}, got {v:?}"))
            }),
        }
    }
}

/// A path segment that must be a UUID (a workflow, agent or event id).
pub fn path_id(value: &str, what: &'static str, code: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value)
        .map_err(|_| ApiError::not_found(code, format!("no {what} {value:?} (ids are UUIDs)")))
}
