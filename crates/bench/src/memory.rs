//! The process's memory, as the benchmarks measure it: resident pages
//! (what the OS holds for it) and live heap (what jemalloc has handed out
//! and not got back; Rust allocations only, not SQLite's own).

use anyhow::Context as _;

/// Resident set size of this process, in bytes.
pub fn rss_bytes() -> anyhow::Result<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm")?;
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .context("malformed /proc/self/statm")?
        .parse()?;
    Ok(pages * 4096)
}

/// Bytes the allocator (jemalloc) has handed out and not got back: live
/// heap, without the pages freed memory keeps resident.
pub fn heap_in_use_bytes() -> anyhow::Result<u64> {
    let stats =
        |e: tikv_jemalloc_ctl::Error| anyhow::anyhow!("cannot read jemalloc's statistics: {e}");
    tikv_jemalloc_ctl::epoch::advance().map_err(stats)?;
    Ok(tikv_jemalloc_ctl::stats::allocated::read().map_err(stats)? as u64)
}
