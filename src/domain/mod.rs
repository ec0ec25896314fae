//! Plain types and rules with no I/O: they can only be built valid, and are
//! unit-tested next to their definitions.

pub mod action;
pub mod alerts;
pub mod attachment;
pub mod catalog;
pub mod chart;
pub mod checklist;
pub mod closed_set;
pub mod comment;
pub mod digest;
pub mod document;
pub mod email;
pub mod import;
pub mod incident;
pub mod markdown;
pub mod name;
pub mod notice;
pub mod password;
pub mod postmortem;
pub mod quantity;
pub mod quarter;
pub mod review;
pub mod role;
pub mod search;
pub mod section;
pub mod signature;
pub mod taxonomy;
pub mod theme;
pub mod time;
pub mod token;
pub mod transcript;
