//! Debrief: an organization's archive of blameless postmortems.
//!
//! The crate is layered in one direction: `web` (axum and askama) calls
//! `domain` (plain rules, no I/O) and `store` (all SQL). `cli` and `server`
//! wire the layers together for the `debrief` binary and for the tests.

pub mod accounts;
pub mod archive;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod seed;
pub mod server;
pub mod setup;
pub mod store;
pub mod telemetry;
pub mod trackers;
pub mod web;
