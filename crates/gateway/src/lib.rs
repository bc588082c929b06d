//! maos's edges: the HTTP API ([`server`]), a whole service in one process
//! ([`service`]), settings ([`config`]), and the command line ([`cli`]) with
//! its HTTP client ([`client`]). The `maos` binary is [`cli`].

pub mod cli;
pub mod client;
pub mod config;
pub mod server;
pub mod service;
