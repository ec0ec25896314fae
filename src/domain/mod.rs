//! Plain types and rules with no I/O: they can only be built valid, and are
//! unit-tested next to their definitions.

pub mod email;
pub mod name;
pub mod password;
pub mod role;
pub mod token;
