//! The `maos` binary, driven as a user would: as a process.

mod crash_recovery;
mod examples;
mod relay_crash;
