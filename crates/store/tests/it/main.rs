//! The store's integration tests: one contract suite, run against every
//! backend on real databases (a fresh file or database per test).

mod contract;
mod postgres;
mod sqlite;
