//! Behaviour through HTTP, against a real Postgres: one database and one
//! server per test, so the tests run in parallel.

mod account;
mod admin;
mod alerts;
mod attachments;
mod auth;
mod browser;
mod checklist;
mod comments;
mod digest;
mod editor;
mod fake_tracker;
mod faults;
mod helpers;
mod import;
mod incidents;
mod json_api;
mod learning;
mod notifications;
mod ops;
mod proxy;
mod real_archives;
mod removals;
mod restricted;
mod review;
mod search;
mod security;
mod setup;
mod smtp;
mod sso;
mod sweeper;
mod timeline_import;
mod trackers;
