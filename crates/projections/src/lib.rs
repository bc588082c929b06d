//! The read side: projectors turn the global event log into read models
//! that people query, and every read model can be dropped and rebuilt by
//! replaying the log.
//!
//! A read model is a pure function from an event to row [`Change`]s
//! ([`ReadModel::changes`]), or, for a model whose rows are each one
//! event's stored columns and metadata ids, the statements that insert
//! them ([`ReadModel::rows_from_log`]). A [`Projector`] feeds it the log in position
//! order from its checkpoint and writes the changes together with its new
//! checkpoint in one transaction (exactly-once effect); on SQLite through
//! the store's single writer ([`maos_store::sqlite::SqliteStore::write`]),
//! on PostgreSQL in a pooled transaction. Rebuilding resets the model's
//! tables and checkpoint and replays from zero through the same code, so a
//! rebuild produces exactly the rows incremental projection produced.

pub mod agent_directory;
pub mod audit;
pub mod board;
mod change;
mod compact;
pub mod db;
mod error;
mod fresh_rows;
pub mod history;
mod log_rows;
mod projector;
pub mod replay;
mod reset;
mod sink;

pub use change::{Cell, Change};
pub use error::Error;
pub use projector::{
    FromLog, Hurry, Projector, ProjectorConfig, ProjectorState, ProjectorStatus, ReadModel,
};
