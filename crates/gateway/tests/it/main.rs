//! The `maos` binary, driven as a user would: as a process.

mod relay_crash;
