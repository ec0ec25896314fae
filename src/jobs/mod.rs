//! Background work that runs inside the server process.

pub mod janitor;
pub mod sweeper;
