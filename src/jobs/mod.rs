//! Background work that runs inside the server process.

pub mod digest;
pub mod janitor;
pub mod notices;
pub mod supervisor;
pub mod sweeper;
pub mod trackers;
