//! Conversions between the databases' signed 64-bit integers and the
//! store's unsigned positions, versions and limits.

/// Positions and versions are never negative in the database.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Positions and versions stay far below `i64::MAX`.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A page size as an SQL `LIMIT`.
pub(crate) fn to_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
